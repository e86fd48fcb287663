package datahike

/*
#include "datahike/datahike.h"
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// The :error/kind of every error the library reports, one per datahike_status.
const (
	KindParse       Keyword = "parse/error"       // malformed EDN or JSON text
	KindSchema      Keyword = "schema/violation"  // schema violation, invalid schema change
	KindTransaction Keyword = "transaction/error" // invalid tx-data, failed cas, ...
	KindQuery       Keyword = "query/error"       // invalid query, pattern or query input
	KindNotFound    Keyword = "not-found"         // database, entity or listener missing
	KindStorage     Keyword = "storage/error"     // storage I/O, corrupt data, no such backend
	KindConflict    Keyword = "conflict"          // database exists, lock held elsewhere
	KindMisuse      Keyword = "misuse"            // bad argument or config, closed or released handle
	KindInternal    Keyword = "internal"          // a bug in the library, or out of memory
)

// Error is every error this package returns: the library's error map
// {:error/kind ... :message ... :data ...} as a Go value. Misuse detected on the Go side (a closed
// connection, a released db, a Go value with no EDN form) has kind KindMisuse too.
//
// errors.Is(err, ErrNotFound) holds when err is an *Error of that kind; errors.As gives the *Error.
type Error struct {
	Kind    Keyword // the :error/kind keyword, one of the Kind constants
	Message string  // the :message, for people
	Data    any     // the :data map (map[any]any) or nil
}

func (e *Error) Error() string {
	if e.Message == "" {
		return "datahike: " + string(e.Kind)
	}
	return "datahike: " + string(e.Kind) + ": " + e.Message
}

// Is reports whether target is an *Error of the same kind with no message (the sentinels below), or
// an *Error equal in kind and message.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok || t.Kind != e.Kind {
		return false
	}
	return t.Message == "" || t.Message == e.Message
}

// Sentinels for errors.Is, one per kind.
var (
	ErrParse       = &Error{Kind: KindParse}
	ErrSchema      = &Error{Kind: KindSchema}
	ErrTransaction = &Error{Kind: KindTransaction}
	ErrQuery       = &Error{Kind: KindQuery}
	ErrNotFound    = &Error{Kind: KindNotFound}
	ErrStorage     = &Error{Kind: KindStorage}
	ErrConflict    = &Error{Kind: KindConflict}
	ErrMisuse      = &Error{Kind: KindMisuse}
	ErrInternal    = &Error{Kind: KindInternal}
)

func misuse(format string, args ...any) *Error {
	return &Error{Kind: KindMisuse, Message: fmt.Sprintf(format, args...)}
}

var errClosed = &Error{Kind: KindMisuse, Message: "the connection is closed"}
var errReleased = &Error{Kind: KindMisuse, Message: "the db value is released"}

// takeError turns a failed status and its error text into an *Error, freeing the text.
func takeError(st C.datahike_status, text *C.char) error {
	if st == C.DATAHIKE_OK {
		if text != nil {
			C.datahike_free(unsafe.Pointer(text))
		}
		return nil
	}
	kind := Keyword(C.GoString(C.datahike_status_name(st)))
	if text == nil {
		return &Error{Kind: kind}
	}
	raw := C.GoString(text)
	C.datahike_free(unsafe.Pointer(text))
	e := &Error{Kind: kind, Message: raw}
	if v, err := ReadEDN(raw); err == nil {
		if m, ok := v.(map[any]any); ok {
			if k, ok := m[Keyword("error/kind")].(Keyword); ok {
				e.Kind = k
			}
			if msg, ok := m[Keyword("message")].(string); ok {
				e.Message = msg
			}
			e.Data = m[Keyword("data")]
		}
	}
	return e
}
