//go:build datahike_pkgconfig

package datahike

/*
#cgo pkg-config: datahike
#cgo LDFLAGS: -ldl
*/
import "C"
