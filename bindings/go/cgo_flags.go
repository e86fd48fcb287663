//go:build !datahike_pkgconfig

package datahike

// The header comes from the repository this module sits in (or, for an installed library, from
// the compiler's default include path); the library from the linker's search path, which
// CGO_LDFLAGS extends for a build tree: see README.md. Build with -tags datahike_pkgconfig to take
// both from an installed datahike.pc instead.

/*
#cgo CFLAGS: -I${SRCDIR}/../../capi/include
#cgo LDFLAGS: -ldatahike
*/
import "C"
