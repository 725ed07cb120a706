module actnet.dev/actnet

go 1.22
