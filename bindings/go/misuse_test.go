package datahike_test

import (
	"errors"
	"strings"
	"testing"

	dh "github.com/datahike-cpp/datahike/bindings/go"
)

// expectKind fails unless err is an *Error of kind want, through errors.Is and errors.As both.
func expectKind(t *testing.T, what string, err error, want *dh.Error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want %s", what, want.Kind)
		return
	}
	var e *dh.Error
	if !errors.As(err, &e) {
		t.Errorf("%s: %T %v is not a *datahike.Error", what, err, err)
		return
	}
	if !errors.Is(err, want) || e.Kind != want.Kind {
		t.Errorf("%s: kind %s (%v), want %s", what, e.Kind, err, want.Kind)
	}
	if e.Message == "" && e != want {
		t.Errorf("%s: an error without a message", what)
	}
}

func TestClosedConnection(t *testing.T) {
	cfg := freshConfig(t, ":schema-flexibility :read")
	if err := dh.CreateDatabase(cfg); err != nil {
		t.Fatal(err)
	}
	defer dh.DeleteDatabase(cfg)
	conn := must(dh.Connect(cfg))(t)
	must(conn.Transact(`[{:name "Alice"}]`))(t).Release()
	db := must(conn.DB())(t)
	defer db.Release()
	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}
	if err := conn.Close(); err != nil {
		t.Fatal("a second Close:", err)
	}
	_, err := conn.Transact(`[{:name "Bob"}]`)
	expectKind(t, "transact after close", err, dh.ErrMisuse)
	_, err = conn.DB()
	expectKind(t, "db after close", err, dh.ErrMisuse)
	_, err = conn.Listen(func(*dh.TxReport) {})
	expectKind(t, "listen after close", err, dh.ErrMisuse)
	expectKind(t, "unlisten after close", conn.Unlisten(1), dh.ErrMisuse)
	_, err = conn.TransactText(`[]`, dh.FormatEDN)
	expectKind(t, "transact text after close", err, dh.ErrMisuse)
	// Values outlive their connection, and their database.
	if err := dh.DeleteDatabase(cfg); err != nil {
		t.Fatal(err)
	}
	if n := must(dh.Q(`[:find (count ?e) . :where [?e :name]]`, db))(t); n != int64(1) {
		t.Errorf("a value after close and delete: %v", n)
	}
	var nilConn *dh.Conn
	nilConn.Close()
	_, err = nilConn.DB()
	expectKind(t, "nil conn", err, dh.ErrMisuse)
}

func TestReleasedValues(t *testing.T) {
	db := must(dh.EmptyDB(nil, nil))(t)
	after, _, err := db.With(`[{:name "Alice"}]`)
	if err != nil {
		t.Fatal(err)
	}
	after.Release()
	after.Release() // twice: nothing
	_, err = dh.Q(`[:find ?e :where [?e :name]]`, after)
	expectKind(t, "q on a released db", err, dh.ErrMisuse)
	_, err = after.Pull(`[*]`, 1)
	expectKind(t, "pull on a released db", err, dh.ErrMisuse)
	_, err = after.Entity(1)
	expectKind(t, "entity on a released db", err, dh.ErrMisuse)
	_, err = after.Datoms(dh.EAVT)
	expectKind(t, "datoms on a released db", err, dh.ErrMisuse)
	_, err = after.History()
	expectKind(t, "history of a released db", err, dh.ErrMisuse)
	_, _, err = after.With(`[]`)
	expectKind(t, "with on a released db", err, dh.ErrMisuse)
	_, err = dh.Q(`[:find ?e :in $ $2 :where [$2 ?e :name]]`, db, after)
	expectKind(t, "a released db as the second source", err, dh.ErrMisuse)
	// The first db is still usable after the failed call took and gave back its handle.
	if _, err := dh.Q(`[:find ?e :where [?e :name]]`, db); err != nil {
		t.Error(err)
	}
	db.Release()
	var nilDB *dh.DB
	nilDB.Release()
	_, err = nilDB.AsOf(1)
	expectKind(t, "nil db", err, dh.ErrMisuse)
}

func TestMalformedInput(t *testing.T) {
	conn := openFresh(t, `:schema-flexibility :write`)
	must(conn.Transact(schema))(t).Release()
	db := must(conn.DB())(t)
	defer db.Release()

	_, err := conn.Transact(`[{:name "Alice"`)
	expectKind(t, "unterminated tx-data", err, dh.ErrParse)
	_, err = conn.TransactText(`[{"name": "Alice",}]`, dh.FormatJSON)
	expectKind(t, "malformed JSON", err, dh.ErrParse)
	_, err = dh.Q(`[:find ?e :where [?e :name`, db)
	expectKind(t, "unterminated query", err, dh.ErrParse)
	_, err = dh.QText(`[:find ?e :in $ ?n :where [?e :name ?n]]`, []*dh.DB{db}, `["x"`, dh.FormatJSON)
	expectKind(t, "malformed JSON args", err, dh.ErrParse)
	_, err = dh.Q(`[:find ?x :where [?e :name ?n]]`, db)
	expectKind(t, "an unbound find variable", err, dh.ErrQuery)
	_, err = dh.Q(`[:find ?e :in $ ?n :where [?e :name ?n]]`, db)
	expectKind(t, "missing input", err, dh.ErrQuery)
	_, err = db.Pull(`[:name`, 1)
	expectKind(t, "malformed pattern", err, dh.ErrParse)
	_, err = db.Datoms("no-such-index")
	if err == nil {
		t.Error("an unknown index gave no error")
	}
	_, err = db.AsOf(`#inst "not a date"`)
	expectKind(t, "malformed time point", err, dh.ErrParse)

	// Wrong types against the strict schema: a typed error, nothing transacted.
	_, err = conn.Transact([]any{map[K]any{"name": 42}})
	var e *dh.Error
	if !errors.As(err, &e) || (e.Kind != dh.KindSchema && e.Kind != dh.KindTransaction) {
		t.Errorf("a long for a string attribute: %v", err)
	}
	_, err = conn.Transact([]any{map[K]any{"no-such-attr": 1}})
	if !errors.As(err, &e) {
		t.Errorf("an unknown attribute: %v", err)
	}
	if n := must(dh.Q(`[:find (count ?e) . :where [?e :name]]`, must(conn.DB())(t)))(t); n != nil {
		t.Errorf("a failed transaction changed the db: %v", n)
	}

	// Go values with no EDN form are misuse, found before any call.
	_, err = dh.Q(`[:find ?e :in $ ?x :where [?e :name ?x]]`, db, struct{ X int }{1})
	expectKind(t, "a struct argument", err, dh.ErrMisuse)
	_, err = conn.Transact([]any{map[K]any{"name": make(chan int)}})
	expectKind(t, "a channel in tx-data", err, dh.ErrMisuse)
	_, err = dh.Q(`[:find ?e :in $ ?x $2 :where [?e :name ?x]]`, db, "x", db)
	expectKind(t, "a *DB after a plain argument", err, dh.ErrMisuse)
	_, err = db.Pull(`[*]`, func() {})
	expectKind(t, "a func eid", err, dh.ErrMisuse)

	// Databases and configs.
	_, err = dh.Connect(freshConfig(t, ""))
	expectKind(t, "connect to a missing database", err, dh.ErrNotFound)
	cfg := freshConfig(t, "")
	if err := dh.CreateDatabase(cfg); err != nil {
		t.Fatal(err)
	}
	expectKind(t, "create twice", dh.CreateDatabase(cfg), dh.ErrConflict)
	dh.DeleteDatabase(cfg)
	expectKind(t, "an unknown config key", dh.CreateDatabase(`{:no-such-key 1}`), dh.ErrMisuse)
	expectKind(t, "a config that is not EDN", dh.CreateDatabase(`{:store`), dh.ErrParse)
	_, err = dh.DatabaseExists(`{:store {:backend :memory :id 7.5}}`)
	if err == nil {
		t.Error("a bad :id gave no error")
	}
	expectKind(t, "unlisten of an unknown key", conn.Unlisten(12345), dh.ErrNotFound)
	_, err = conn.Listen(nil)
	expectKind(t, "a nil listener", err, dh.ErrMisuse)
}

func TestErrorValue(t *testing.T) {
	conn := openFresh(t, `:schema-flexibility :write`)
	_, err := conn.Transact(`[{:no-such-attr 1}]`)
	var e *dh.Error
	if !errors.As(err, &e) {
		t.Fatalf("%T %v", err, err)
	}
	if !strings.HasPrefix(e.Error(), "datahike: "+string(e.Kind)+": ") {
		t.Errorf("Error() = %q", e.Error())
	}
	if errors.Is(err, dh.ErrParse) {
		t.Error("a transaction error is ErrParse")
	}
	if !errors.Is(err, &dh.Error{Kind: e.Kind, Message: e.Message}) {
		t.Error("an error is not Is an equal error")
	}
	wrapped := errors.Join(errors.New("context"), err)
	if !errors.Is(wrapped, &dh.Error{Kind: e.Kind}) {
		t.Error("errors.Is through a wrapper")
	}
}

func TestListenerPanicIsContained(t *testing.T) {
	conn := openFresh(t, `:schema-flexibility :read`)
	must(conn.Listen(func(r *dh.TxReport) {
		r.Release()
		panic("listener bug")
	}))(t)
	// The transaction succeeds; the panic is printed, not propagated through C.
	must(conn.Transact(`[{:name "Alice"}]`))(t).Release()
}
