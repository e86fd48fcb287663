package datahike

/*
#include <stdlib.h>
#include "datahike/datahike.h"
*/
import "C"

import (
	"runtime"
	"runtime/cgo"
	"sync"
)

// Format is the text format of data exchanged through the raw calls (TransactText, QText).
type Format int

const (
	FormatEDN  Format = C.DATAHIKE_FORMAT_EDN
	FormatJSON Format = C.DATAHIKE_FORMAT_JSON
)

// withConfig runs fn with the config's EDN text in C memory.
func withConfig(cfg any, fn func(*C.char) error) error {
	text, err := codeText(cfg)
	if err != nil {
		return err
	}
	c := cstr(text)
	defer free(c)
	return fn(c)
}

// CreateDatabase creates the database a config describes and runs its :initial-tx. The config is
// Datahike's map, as EDN text or a Go map:
//
//	`{:store {:backend :memory :id "app"} :schema-flexibility :write :keep-history? true}`
//
// An existing database is a KindConflict error.
func CreateDatabase(cfg any) error {
	return withConfig(cfg, func(c *C.char) error {
		var cerr *C.char
		return takeError(C.datahike_create_database(c, &cerr), cerr)
	})
}

// DeleteDatabase deletes the database and all its data; deleting a missing database is not an error.
// Connections to it fail afterwards; DB values taken before stay valid.
func DeleteDatabase(cfg any) error {
	return withConfig(cfg, func(c *C.char) error {
		var cerr *C.char
		return takeError(C.datahike_delete_database(c, &cerr), cerr)
	})
}

// DatabaseExists reports whether the database exists.
func DatabaseExists(cfg any) (bool, error) {
	var exists C.int
	err := withConfig(cfg, func(c *C.char) error {
		var cerr *C.char
		return takeError(C.datahike_database_exists(c, &exists, &cerr), cerr)
	})
	return exists != 0, err
}

// Conn is a connection to one database (one branch of it). Its methods may be called from any number
// of goroutines; transactions on a database are serialized by the library. Close it when done.
type Conn struct {
	ptr       *C.datahike_conn
	g         guard
	cleanup   runtime.Cleanup
	listeners *listenerSet
}

// listenerSet holds the cgo handles of a connection's listeners, freed by Unlisten or Close.
type listenerSet struct {
	mu      sync.Mutex
	handles map[int64]cgo.Handle
}

func (s *listenerSet) deleteAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, h := range s.handles {
		h.Delete()
		delete(s.handles, k)
	}
}

type connResources struct {
	ptr       *C.datahike_conn
	listeners *listenerSet
}

func releaseConn(r connResources) {
	p := r.ptr
	C.datahike_release(&p)
	r.listeners.deleteAll()
}

// Connect connects to an existing database (KindNotFound otherwise); cfg as for CreateDatabase.
func Connect(cfg any) (*Conn, error) {
	var out *C.datahike_conn
	err := withConfig(cfg, func(c *C.char) error {
		var cerr *C.char
		return takeError(C.datahike_connect(c, &out, &cerr), cerr)
	})
	if err != nil {
		return nil, err
	}
	conn := &Conn{ptr: out, g: newGuard(), listeners: &listenerSet{handles: map[int64]cgo.Handle{}}}
	conn.cleanup = runtime.AddCleanup(conn, releaseConn, connResources{out, conn.listeners})
	return conn, nil
}

// Close closes the connection once the calls using it return, removes its listeners and releases
// the storage it holds. Later calls fail with KindMisuse; a second Close does nothing. DB values
// taken from the connection stay valid. It always returns nil (it satisfies io.Closer). A listener
// must not close its own connection (that would wait for itself).
func (c *Conn) Close() error {
	if c == nil || !c.g.shut() {
		return nil
	}
	c.cleanup.Stop()
	releaseConn(connResources{c.ptr, c.listeners})
	return nil
}

func (c *Conn) acquire() (*C.datahike_conn, error) {
	if c == nil {
		return nil, misuse("a nil *Conn")
	}
	if !c.g.enter() {
		return nil, errClosed
	}
	return c.ptr, nil
}

// TxReport is the result of a transaction.
type TxReport struct {
	TxData  []Datom     // the datoms added and retracted, the :db/txInstant datom included
	Tempids map[any]any // tempid (string, negative int64) -> entity id; :db/current-tx -> the tx id
	TxMeta  map[any]any // the transaction's metadata (:db/commitId ...), nil when none
	// The database values before and after the transaction (Conn.Transact and listeners; nil for
	// DB.With, whose values are the receiver and its result). They belong to the caller, who
	// releases them (TxReport.Release).
	DBBefore, DBAfter *DB
}

// Release releases DBBefore and DBAfter (when present).
func (r *TxReport) Release() {
	if r != nil {
		r.DBBefore.Release()
		r.DBAfter.Release()
	}
}

// Transact applies tx-data: a vector of entity maps and [:db/add e a v] forms, or Datahike's argument
// map {:tx-data [...] :tx-meta {...}}; either a Go value (for example
// []any{map[Keyword]any{"name": "Alice"}}) or its EDN text as a string. A failed transaction changes
// nothing.
func (c *Conn) Transact(txData any) (*TxReport, error) {
	text, err := codeText(txData)
	if err != nil {
		return nil, err
	}
	p, err := c.acquire()
	if err != nil {
		return nil, err
	}
	defer c.g.leave()
	ct := cstr(text)
	defer free(ct)
	var report, cerr *C.char
	var before, after *C.datahike_db
	st := C.datahike_transact_dbs(p, ct, C.DATAHIKE_FORMAT_EDN, &report, &before, &after, &cerr)
	if err := takeError(st, cerr); err != nil {
		return nil, err
	}
	r, err := parseReport(take(report))
	dbBefore, dbAfter := newDB(before), newDB(after)
	if err != nil {
		dbBefore.Release()
		dbAfter.Release()
		return nil, err
	}
	r.DBBefore, r.DBAfter = dbBefore, dbAfter
	return r, nil
}

// TransactText is the raw form of Transact: tx-data as EDN or JSON text, the report as text in the
// same format.
func (c *Conn) TransactText(txData string, f Format) (string, error) {
	p, err := c.acquire()
	if err != nil {
		return "", err
	}
	defer c.g.leave()
	ct := cstr(txData)
	defer free(ct)
	var report, cerr *C.char
	if err := takeError(C.datahike_transact(p, ct, C.datahike_format(f), &report, &cerr), cerr); err != nil {
		return "", err
	}
	return take(report), nil
}

// DB returns the connection's latest database value, which the caller releases.
func (c *Conn) DB() (*DB, error) {
	p, err := c.acquire()
	if err != nil {
		return nil, err
	}
	defer c.g.leave()
	var out *C.datahike_db
	var cerr *C.char
	if err := takeError(C.datahike_conn_db(p, &out, &cerr), cerr); err != nil {
		return nil, err
	}
	return newDB(out), nil
}

// parseReport reads a tx report's EDN text.
func parseReport(text string) (*TxReport, error) {
	v, err := ReadEDN(text)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[any]any)
	if !ok {
		return nil, &Error{Kind: KindInternal, Message: "a tx report that is not a map: " + text}
	}
	r := &TxReport{}
	if rows, ok := m[Keyword("tx-data")].([]any); ok {
		r.TxData, err = toDatoms(rows)
		if err != nil {
			return nil, err
		}
	}
	r.Tempids, _ = m[Keyword("tempids")].(map[any]any)
	r.TxMeta, _ = m[Keyword("tx-meta")].(map[any]any)
	return r, nil
}

// toDatoms reads rows [e a v tx added].
func toDatoms(rows []any) ([]Datom, error) {
	out := make([]Datom, 0, len(rows))
	for _, row := range rows {
		r, ok := row.([]any)
		if !ok || len(r) != 5 {
			return nil, &Error{Kind: KindInternal, Message: "a datom row that is not [e a v tx added]"}
		}
		e, _ := r[0].(int64)
		a, _ := r[1].(Keyword)
		tx, _ := r[3].(int64)
		added, _ := r[4].(bool)
		out = append(out, Datom{E: e, A: a, V: r[2], Tx: tx, Added: added})
	}
	return out, nil
}

// Version is the library's version, "MAJOR.MINOR.PATCH".
func Version() string { return C.GoString(C.datahike_version()) }
