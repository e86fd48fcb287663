//go:build datahike_pkgconfig

package datahike

/*
#cgo pkg-config: datahike
*/
import "C"
