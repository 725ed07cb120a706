# Checks that README.md shows tests/readme_example.c exactly, so the example that ctest
# compiles and runs is the one readers copy.
#   cmake -DREADME=README.md -DEXAMPLE=tests/readme_example.c -P check_readme_example.cmake
file(READ "${README}" readme)
file(READ "${EXAMPLE}" example)
string(FIND "${readme}" "```c\n${example}```" at)
if(at EQUAL -1)
  message(FATAL_ERROR "${README} does not contain ${EXAMPLE} verbatim in a ```c block.\n"
    "Edit both together: the README's example is what tests/readme_example.c compiles.")
endif()
message(STATUS "${README} shows ${EXAMPLE} verbatim")
