#include <stdio.h>
#include "actnet.h"
int main(void){ printf("actnet %s\n", actnet_version()); return 0; }
