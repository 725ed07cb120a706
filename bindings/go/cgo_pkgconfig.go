//go:build !actnet_nopkgconfig

package actnet

// Compiler and linker flags come from pkg-config (actnet.pc, installed by
// `cmake --install`): point PKG_CONFIG_PATH at <prefix>/lib/pkgconfig. Without pkg-config,
// build with -tags actnet_nopkgconfig and set CGO_CFLAGS/CGO_LDFLAGS (see cgo_flags.go).

// #cgo pkg-config: actnet
import "C"
