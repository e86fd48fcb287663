package datahike

/*
#include <stdlib.h>
#include "datahike/datahike.h"
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// DB is an immutable database value: it never changes, any number of goroutines may read it at
// once, and it stays valid after its connection is closed or its database deleted. It holds
// library memory until Release; a DB that becomes unreachable unreleased is released by the garbage
// collector, but only as a backstop: release what you take.
type DB struct {
	ptr     *C.datahike_db
	g       guard
	cleanup runtime.Cleanup
}

func releaseDBHandle(p *C.datahike_db) { C.datahike_db_release(&p) }

func newDB(p *C.datahike_db) *DB {
	if p == nil {
		return nil
	}
	d := &DB{ptr: p, g: newGuard()}
	d.cleanup = runtime.AddCleanup(d, releaseDBHandle, p)
	return d
}

// Release frees the value once the calls using it return; later calls on it fail with KindMisuse.
// Releasing twice, or releasing a nil *DB, does nothing.
func (d *DB) Release() {
	if d == nil || !d.g.shut() {
		return
	}
	d.cleanup.Stop()
	releaseDBHandle(d.ptr)
}

// acquire returns the handle for one call, which must end with d.g.leave().
func (d *DB) acquire() (*C.datahike_db, error) {
	if d == nil {
		return nil, misuse("a nil *DB")
	}
	if !d.g.enter() {
		return nil, errReleased
	}
	return d.ptr, nil
}

// cstr copies s into C memory; the caller frees it with C.free.
func cstr(s string) *C.char { return C.CString(s) }

func free(p *C.char) {
	if p != nil {
		C.free(unsafe.Pointer(p))
	}
}

// take reads a returned string and frees it with the library's free.
func take(p *C.char) string {
	if p == nil {
		return ""
	}
	s := C.GoString(p)
	C.datahike_free(unsafe.Pointer(p))
	return s
}

// codeText is the EDN text of a parameter the library always reads as EDN code (configs, queries,
// pull patterns, tx-data, time points): a Go string or EDN is taken as EDN text as it is, any other
// value is printed.
func codeText(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case EDN:
		return string(x), nil
	}
	return PrintEDN(v)
}

// view runs one of as_of / since / history.
func (d *DB) view(t any, kind int) (*DB, error) {
	p, err := d.acquire()
	if err != nil {
		return nil, err
	}
	defer d.g.leave()
	var out *C.datahike_db
	var cerr *C.char
	var st C.datahike_status
	if kind == 2 {
		st = C.datahike_history(p, &out, &cerr)
	} else {
		text, err := codeText(t)
		if err != nil {
			return nil, err
		}
		ct := cstr(text)
		defer free(ct)
		if kind == 0 {
			st = C.datahike_as_of(p, ct, &out, &cerr)
		} else {
			st = C.datahike_since(p, ct, &out, &cerr)
		}
	}
	if err := takeError(st, cerr); err != nil {
		return nil, err
	}
	return newDB(out), nil
}

// AsOf is the value as of time point t (a transaction id such as 536870914, a time.Time, or EDN
// text as a string): the datoms of the transactions up to and including t. The database must keep history.
func (d *DB) AsOf(t any) (*DB, error) { return d.view(t, 0) }

// Since is the datoms added after time point t (as for AsOf).
func (d *DB) Since(t any) (*DB, error) { return d.view(t, 1) }

// History is every datom ever asserted or retracted; retractions have Added false.
func (d *DB) History() (*DB, error) { return d.view(nil, 2) }

// EmptyDB is a database value with no storage and no connection, from a DataScript-style schema map
// (nil for none), e.g. map[Keyword]any{"aka": map[Keyword]any{"db/cardinality":
// Keyword("db.cardinality/many")}}; config is nil (schema-flexibility :read, no history) or a map of
// :schema-flexibility and :keep-history?. Its first entity is 1. Grow it with With.
func EmptyDB(schema, config any) (*DB, error) {
	var cs, cc *C.char
	if schema != nil {
		text, err := codeText(schema)
		if err != nil {
			return nil, err
		}
		cs = cstr(text)
		defer free(cs)
	}
	if config != nil {
		text, err := codeText(config)
		if err != nil {
			return nil, err
		}
		cc = cstr(text)
		defer free(cc)
	}
	var out *C.datahike_db
	var cerr *C.char
	if err := takeError(C.datahike_empty_db(cs, cc, &out, &cerr), cerr); err != nil {
		return nil, err
	}
	return newDB(out), nil
}

// With applies tx-data (as Conn.Transact takes it) to the value, giving a new value and its report;
// nothing stored changes (Datahike's with). The report's DBBefore and DBAfter are nil: the values
// are d and the returned one.
func (d *DB) With(txData any) (*DB, *TxReport, error) {
	text, err := codeText(txData)
	if err != nil {
		return nil, nil, err
	}
	p, err := d.acquire()
	if err != nil {
		return nil, nil, err
	}
	defer d.g.leave()
	ct := cstr(text)
	defer free(ct)
	var out *C.datahike_db
	var report, cerr *C.char
	if err := takeError(C.datahike_db_with(p, ct, C.DATAHIKE_FORMAT_EDN, &out, &report, &cerr), cerr); err != nil {
		return nil, nil, err
	}
	after := newDB(out)
	r, err := parseReport(take(report))
	if err != nil {
		after.Release()
		return nil, nil, err
	}
	return after, r, nil
}
