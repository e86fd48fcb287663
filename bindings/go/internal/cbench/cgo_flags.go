//go:build !datahike_pkgconfig

package cbench

// As the datahike package's cgo_flags.go.

/*
#cgo CFLAGS: -I${SRCDIR}/../../../../capi/include
#cgo LDFLAGS: -ldatahike
*/
import "C"
