//go:build datahike_pkgconfig

package cbench

/*
#cgo pkg-config: datahike
*/
import "C"
