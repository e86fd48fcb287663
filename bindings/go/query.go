package datahike

/*
#include <stdlib.h>
#include "datahike/datahike.h"
*/
import "C"

import (
	"unsafe"
)

// Q runs a Datalog query: the query's EDN text as a string (or the query as Go values: a []any of
// Keyword, Symbol and List), on db, with args binding the :in positions after its $ source, in
// order (scalars, tuples and collections as Go values, rule sets as EDN or Go values). Leading args
// that are *DB bind further $ sources ($2, ...); db may be nil for a query over its args only.
//
// The result is a Set of []any tuples for a relation find, a []any for a collection or tuple find,
// a scalar (nil when nothing matched) for [:find ?x .], and maps for :keys.
//
//	r, err := datahike.Q(`[:find ?n :in $ ?min :where [?e :age ?a] [(>= ?a ?min)] [?e :name ?n]]`, db, 21)
func Q(query any, db *DB, args ...any) (any, error) {
	qtext, err := codeText(query)
	if err != nil {
		return nil, err
	}
	dbs := make([]*DB, 0, 2)
	if db != nil {
		dbs = append(dbs, db)
	}
	rest := args
	for len(rest) > 0 {
		d, ok := rest[0].(*DB)
		if !ok {
			break
		}
		dbs = append(dbs, d)
		rest = rest[1:]
	}
	for _, a := range rest {
		if _, ok := a.(*DB); ok {
			return nil, misuse("a *DB argument must come before every other argument of Q")
		}
	}
	atext := ""
	if len(rest) > 0 {
		if atext, err = PrintEDN(rest); err != nil {
			return nil, err
		}
	}
	out, err := qText(qtext, dbs, atext, len(rest) > 0, FormatEDN)
	if err != nil {
		return nil, err
	}
	return ReadEDN(out)
}

// QText is the raw form of Q: the query as EDN text, args as a vector in EDN or JSON text ("" for
// none), the result as text in that format.
func QText(query string, dbs []*DB, args string, f Format) (string, error) {
	return qText(query, dbs, args, args != "", f)
}

func qText(query string, dbs []*DB, args string, hasArgs bool, f Format) (string, error) {
	handles := make([]*C.datahike_db, len(dbs))
	for i, d := range dbs {
		p, err := d.acquire()
		if err != nil {
			for _, e := range dbs[:i] {
				e.g.leave()
			}
			return "", err
		}
		handles[i] = p
	}
	defer func() {
		for _, d := range dbs {
			d.g.leave()
		}
	}()
	cq := cstr(query)
	defer free(cq)
	var ca *C.char
	if hasArgs {
		ca = cstr(args)
		defer free(ca)
	}
	var first **C.datahike_db
	if len(handles) > 0 {
		first = &handles[0]
	}
	var out, cerr *C.char
	st := C.datahike_q(cq, first, C.size_t(len(handles)), ca, C.datahike_format(f), &out, &cerr)
	if err := takeError(st, cerr); err != nil {
		return "", err
	}
	return take(out), nil
}

// read runs one library call that returns text and reads the text as EDN. args are the EDN texts
// of the call's text parameters, a nil entry passing NULL.
func (d *DB) read(call func(p *C.datahike_db, args []*C.char, out, cerr **C.char) C.datahike_status, args ...*string) (any, error) {
	p, err := d.acquire()
	if err != nil {
		return nil, err
	}
	defer d.g.leave()
	cargs := make([]*C.char, len(args))
	for i, a := range args {
		if a != nil {
			cargs[i] = cstr(*a)
			defer C.free(unsafe.Pointer(cargs[i]))
		}
	}
	var out, cerr *C.char
	if err := takeError(call(p, cargs, &out, &cerr), cerr); err != nil {
		return nil, err
	}
	if out == nil {
		return nil, nil // a call with no text result
	}
	return ReadEDN(take(out))
}

func valueArg(v any) (*string, error) {
	s, err := PrintEDN(v)
	return &s, err
}

func codeArg(v any) (*string, error) {
	s, err := codeText(v)
	return &s, err
}

// asMap is a pull or entity result: a map, or nil.
func asMap(v any, err error) (map[any]any, error) {
	if err != nil {
		return nil, err
	}
	m, _ := v.(map[any]any)
	return m, nil
}

// Pull pulls pattern (EDN text such as `[:name {:friend [:name]}]`, or Go values) for the entity eid
// (an id, a lookup ref []any{Keyword("name"), "Alice"}, or an ident Keyword). The result is nil when
// nothing is found.
func (d *DB) Pull(pattern, eid any) (map[any]any, error) {
	pt, err := codeArg(pattern)
	if err != nil {
		return nil, err
	}
	et, err := valueArg(eid)
	if err != nil {
		return nil, err
	}
	return asMap(d.read(func(p *C.datahike_db, a []*C.char, out, cerr **C.char) C.datahike_status {
		return C.datahike_pull(p, a[0], a[1], C.DATAHIKE_FORMAT_EDN, out, cerr)
	}, pt, et))
}

// PullMany pulls pattern for each of eids (a slice); entities with nothing found are left out.
func (d *DB) PullMany(pattern, eids any) ([]map[any]any, error) {
	pt, err := codeArg(pattern)
	if err != nil {
		return nil, err
	}
	et, err := valueArg(eids)
	if err != nil {
		return nil, err
	}
	v, err := d.read(func(p *C.datahike_db, a []*C.char, out, cerr **C.char) C.datahike_status {
		return C.datahike_pull_many(p, a[0], a[1], C.DATAHIKE_FORMAT_EDN, out, cerr)
	}, pt, et)
	if err != nil {
		return nil, err
	}
	items, _ := v.([]any)
	out := make([]map[any]any, 0, len(items))
	for _, x := range items {
		m, _ := x.(map[any]any)
		out = append(out, m)
	}
	return out, nil
}

// Entity is the entity eid (as for Pull) as a map of its attributes (components included, refs as
// {:db/id x}), or nil.
func (d *DB) Entity(eid any) (map[any]any, error) {
	et, err := valueArg(eid)
	if err != nil {
		return nil, err
	}
	return asMap(d.read(func(p *C.datahike_db, a []*C.char, out, cerr **C.char) C.datahike_status {
		return C.datahike_entity(p, a[0], C.DATAHIKE_FORMAT_EDN, out, cerr)
	}, et))
}

// Index names for Datoms, SeekDatoms and RseekDatoms.
const (
	EAVT Keyword = "eavt"
	AEVT Keyword = "aevt"
	AVET Keyword = "avet"
)

type datomsCall int

const (
	callDatoms datomsCall = iota
	callSeek
	callRseek
)

func (d *DB) datoms(which datomsCall, index Keyword, components []any) ([]Datom, error) {
	it, err := valueArg(index)
	if err != nil {
		return nil, err
	}
	var ct *string
	if len(components) > 0 {
		if ct, err = valueArg(components); err != nil {
			return nil, err
		}
	}
	v, err := d.read(func(p *C.datahike_db, a []*C.char, out, cerr **C.char) C.datahike_status {
		switch which {
		case callSeek:
			return C.datahike_seek_datoms(p, a[0], a[1], C.DATAHIKE_FORMAT_EDN, out, cerr)
		case callRseek:
			return C.datahike_rseek_datoms(p, a[0], a[1], C.DATAHIKE_FORMAT_EDN, out, cerr)
		}
		return C.datahike_datoms(p, a[0], a[1], C.DATAHIKE_FORMAT_EDN, out, cerr)
	}, it, ct)
	return datomsOf(v, err)
}

func datomsOf(v any, err error) ([]Datom, error) {
	if err != nil {
		return nil, err
	}
	rows, _ := v.([]any)
	return toDatoms(rows)
}

// Datoms returns the datoms of index (EAVT, AEVT or AVET) that match the leading components, given
// in that index's order ([e a v tx] for EAVT, [a e v tx] for AEVT, [a v e tx] for AVET; entity
// positions accept lookup refs and idents), in index order.
func (d *DB) Datoms(index Keyword, components ...any) ([]Datom, error) {
	return d.datoms(callDatoms, index, components)
}

// SeekDatoms returns the datoms of index from the components to the end of the index.
func (d *DB) SeekDatoms(index Keyword, components ...any) ([]Datom, error) {
	return d.datoms(callSeek, index, components)
}

// RseekDatoms returns the datoms of index from the components backwards to its start.
func (d *DB) RseekDatoms(index Keyword, components ...any) ([]Datom, error) {
	return d.datoms(callRseek, index, components)
}

// IndexRange returns the AVET datoms of attr with start <= v <= end; a nil start or end is open.
// The attribute must be indexed (:db/index, :db/unique or a ref).
func (d *DB) IndexRange(attr Keyword, start, end any) ([]Datom, error) {
	at, err := valueArg(attr)
	if err != nil {
		return nil, err
	}
	var st, et *string
	if start != nil {
		if st, err = valueArg(start); err != nil {
			return nil, err
		}
	}
	if end != nil {
		if et, err = valueArg(end); err != nil {
			return nil, err
		}
	}
	return datomsOf(d.read(func(p *C.datahike_db, a []*C.char, out, cerr **C.char) C.datahike_status {
		return C.datahike_index_range(p, a[0], a[1], a[2], C.DATAHIKE_FORMAT_EDN, out, cerr)
	}, at, st, et))
}

// Schema is the schema as Datahike's `schema`: {:name {:db/ident :name ...} ...}.
func (d *DB) Schema() (map[any]any, error) {
	return asMap(d.read(func(p *C.datahike_db, a []*C.char, out, cerr **C.char) C.datahike_status {
		return C.datahike_schema(p, C.DATAHIKE_FORMAT_EDN, out, cerr)
	}))
}

// Metrics are the value's counters: {:count n :avet-count n :per-attr-counts {...} ...}.
func (d *DB) Metrics() (map[any]any, error) {
	return asMap(d.read(func(p *C.datahike_db, a []*C.char, out, cerr **C.char) C.datahike_status {
		return C.datahike_metrics(p, C.DATAHIKE_FORMAT_EDN, out, cerr)
	}))
}
