//go:build actnet_nopkgconfig

package actnet

// Built with -tags actnet_nopkgconfig: no pkg-config. Only -lactnet is given here; say
// where the header and the library are with
//
//	CGO_CFLAGS="-I<prefix>/include" CGO_LDFLAGS="-L<prefix>/lib"
//
// (and LD_LIBRARY_PATH=<prefix>/lib, or -Wl,-rpath,<prefix>/lib in CGO_LDFLAGS, at run time).

// #cgo LDFLAGS: -lactnet
import "C"
