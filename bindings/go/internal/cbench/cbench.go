// Package cbench runs a query in a C loop over libdatahike, the baseline the Go binding's benchmarks
// compare with (bench_test.go): the same datahike_q call with EDN text in and out, without Go.
package cbench

/*
#include <stdlib.h>
#include "datahike/datahike.h"

// Builds a storage-free db from a schema and tx-data; NULL on failure.
static datahike_db* cbench_db(const char* schema, const char* tx) {
  datahike_db *empty = NULL, *db = NULL;
  if (datahike_empty_db(schema, NULL, &empty, NULL) != DATAHIKE_OK) return NULL;
  datahike_db_with(empty, tx, DATAHIKE_FORMAT_EDN, &db, NULL, NULL);
  datahike_db_release(&empty);
  return db;
}

// Runs the query n times; returns 0, or the failing status.
static int cbench_loop(const datahike_db* db, const char* query, const char* args, long n) {
  for (long i = 0; i < n; ++i) {
    char *out = NULL, *err = NULL;
    datahike_status st = datahike_q(query, &db, 1, args, DATAHIKE_FORMAT_EDN, &out, &err);
    datahike_free(out);
    datahike_free(err);
    if (st != DATAHIKE_OK) return st;
  }
  return 0;
}

static void cbench_release(datahike_db* db) { datahike_db_release(&db); }
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// DB is a db value built and queried from C only.
type DB struct{ p *C.datahike_db }

// NewDB builds a storage-free db from EDN schema and tx-data.
func NewDB(schema, tx string) (*DB, error) {
	cs, ct := C.CString(schema), C.CString(tx)
	defer C.free(unsafe.Pointer(cs))
	defer C.free(unsafe.Pointer(ct))
	p := C.cbench_db(cs, ct)
	if p == nil {
		return nil, fmt.Errorf("cbench: cannot build the db")
	}
	return &DB{p}, nil
}

// Loop runs the query n times in C (args "" for none).
func (d *DB) Loop(query, args string, n int) error {
	cq := C.CString(query)
	defer C.free(unsafe.Pointer(cq))
	var ca *C.char
	if args != "" {
		ca = C.CString(args)
		defer C.free(unsafe.Pointer(ca))
	}
	if st := C.cbench_loop(d.p, cq, ca, C.long(n)); st != 0 {
		return fmt.Errorf("cbench: datahike_q failed with status %d", int(st))
	}
	return nil
}

// Release frees the db.
func (d *DB) Release() { C.cbench_release(d.p) }
