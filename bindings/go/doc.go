// Package datahike is the Go binding of Datahike in C++: a Datalog database with immutable database
// values, Datahike's transaction rules and ids, and history (as-of, since, history). It is a thin
// layer over the library's C ABI (libdatahike, datahike/datahike.h), through cgo, with only the
// standard library.
//
//	cfg := `{:store {:backend :memory :id "app"} :schema-flexibility :read}`
//	if err := datahike.CreateDatabase(cfg); err != nil { ... }
//	conn, err := datahike.Connect(cfg)
//	if err != nil { ... }
//	defer conn.Close()
//	report, err := conn.Transact([]any{map[datahike.Keyword]any{"name": "Alice", "age": 20}})
//	db, err := conn.DB()
//	defer db.Release()
//	rows, err := datahike.Q(`[:find ?n :in $ ?a :where [?e :age ?a] [?e :name ?n]]`, db, 20)
//	// rows is datahike.Set{[]any{"Alice"}}
//
// # Values
//
// Data goes in as Go values and comes out as Go values, through EDN text (ReadEDN and PrintEDN
// state the mapping): keywords are Keyword, symbols Symbol, vectors []any, lists List, sets Set
// (a slice), maps map[any]any keyed by Keyword where the EDN map has keyword keys (maps you pass
// may be any Go map: map[Keyword]any reads best; OrderedMap keeps an order), integers int64 or
// *big.Int, floats float64, bigdecs Decimal, instants time.Time, uuids UUID, bytes []byte.
// Parameters that the library always reads as EDN code (configs, queries, pull patterns, tx-data,
// time points) also take their EDN text as a Go string; elsewhere a Go string is an EDN string, and
// EDN passes raw text anywhere.
//
// # Lifetimes and goroutines
//
// Conn and DB may be used from any number of goroutines at once. Conn.Close and DB.Release are
// explicit, idempotent, and wait for the calls in flight; afterwards every call fails with an
// *Error of kind KindMisuse instead of touching freed memory. A DB stays valid after its connection
// is closed. The garbage collector releases what is dropped unreleased, only as a backstop.
//
// # Errors
//
// Every error is an *Error with the library's :error/kind (Kind), message and data;
// errors.Is(err, datahike.ErrNotFound) tests the kind, errors.As gives the *Error. Malformed input,
// wrong types, closed connections and released values are errors, never panics.
package datahike
