package datahike

/*
#include <stdint.h>
#include "datahike/datahike.h"
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"os"
	"runtime/cgo"
)

// listener is what a listener's cgo.Handle holds.
type listener struct {
	fn func(*TxReport)
}

// Listen registers fn to receive the report of every later successful transaction on the
// connection's database (through any connection). fn runs on the transacting goroutine, after the
// new value is published, before that Transact returns: it must be quick, must not transact on the
// same database and must not close the connection (to hand reports to other goroutines, send them
// on a buffered channel). It may call Unlisten. The report's DBBefore and DBAfter belong to fn,
// which releases them (TxReport.Release). A panic in fn is
// recovered and printed to stderr (it cannot unwind through the library). The returned key is for
// Unlisten.
func (c *Conn) Listen(fn func(*TxReport)) (int64, error) {
	if fn == nil {
		return 0, misuse("a nil listener")
	}
	p, err := c.acquire()
	if err != nil {
		return 0, err
	}
	defer c.g.leave()
	h := cgo.NewHandle(&listener{fn: fn})
	withDBs := C.int(1)
	var key C.int64_t
	var cerr *C.char
	if err := takeError(C.dhgo_listen(p, C.uintptr_t(h), C.DATAHIKE_FORMAT_EDN, withDBs, &key, &cerr), cerr); err != nil {
		h.Delete()
		return 0, err
	}
	c.listeners.mu.Lock()
	c.listeners.handles[int64(key)] = h
	c.listeners.mu.Unlock()
	return int64(key), nil
}

// Unlisten removes a listener of this connection; once it returns the listener is not running and
// is never called again. An unknown key is a KindNotFound error.
func (c *Conn) Unlisten(key int64) error {
	p, err := c.acquire()
	if err != nil {
		return err
	}
	defer c.g.leave()
	var cerr *C.char
	if err := takeError(C.datahike_unlisten(p, C.int64_t(key), &cerr), cerr); err != nil {
		return err
	}
	c.listeners.mu.Lock()
	if h, ok := c.listeners.handles[key]; ok {
		h.Delete()
		delete(c.listeners.handles, key)
	}
	c.listeners.mu.Unlock()
	return nil
}

//export datahikeGoListener
func datahikeGoListener(report *C.char, before, after *C.datahike_db, user C.uintptr_t) {
	l := cgo.Handle(user).Value().(*listener)
	r, err := parseReport(C.GoString(report))
	if err != nil {
		fmt.Fprintf(os.Stderr, "datahike: listener: unreadable report: %v\n", err)
		return
	}
	if before != nil {
		r.DBBefore = copyDB(before)
	}
	if after != nil {
		r.DBAfter = copyDB(after)
	}
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(os.Stderr, "datahike: listener panicked: %v\n", p)
		}
	}()
	l.fn(r)
}

// copyDB takes a Go-owned copy of a db handle the library lends for a callback.
func copyDB(p *C.datahike_db) *DB {
	var out *C.datahike_db
	var cerr *C.char
	if takeError(C.datahike_db_copy(p, &out, &cerr), cerr) != nil {
		return nil
	}
	return newDB(out)
}
