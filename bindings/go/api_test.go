package datahike_test

import (
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dh "github.com/datahike-cpp/datahike/bindings/go"
)

type K = dh.Keyword

var storeCounter atomic.Int64

// freshConfig is a config for a new in-memory database that no other test uses.
func freshConfig(t testing.TB, extra string) string {
	id := fmt.Sprintf("go-%s-%d", t.Name(), storeCounter.Add(1))
	return fmt.Sprintf(`{:store {:backend :memory :id %q} %s}`, id, extra)
}

// openFresh creates, connects and schedules the cleanup of a new database.
func openFresh(t testing.TB, extra string) *dh.Conn {
	t.Helper()
	cfg := freshConfig(t, extra)
	if err := dh.CreateDatabase(cfg); err != nil {
		t.Fatal(err)
	}
	conn, err := dh.Connect(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		if err := dh.DeleteDatabase(cfg); err != nil {
			t.Error(err)
		}
	})
	return conn
}

// must(call())(t) is call's value, or the test fails with its error.
func must[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

var schema = []any{
	map[K]any{"db/ident": K("name"), "db/valueType": K("db.type/string"), "db/cardinality": K("db.cardinality/one")},
	map[K]any{"db/ident": K("age"), "db/valueType": K("db.type/long"), "db/cardinality": K("db.cardinality/one")},
}

const people = `[:find ?e ?n ?a :where [?e :name ?n] [?e :age ?a]]`

func TestSeedExample(t *testing.T) {
	if v := dh.Version(); strings.Count(v, ".") != 2 {
		t.Errorf("version %q", v)
	}
	conn := openFresh(t, `:keep-history? true :schema-flexibility :write`)
	r := must(conn.Transact(schema))(t)
	r.Release()
	report := must(conn.Transact([]any{
		map[K]any{"name": "Alice", "age": 20}, map[K]any{"name": "Bob", "age": 30},
		map[K]any{"name": "Charlie", "age": 40}, map[K]any{"age": 15}}))(t)
	defer report.Release()
	if len(report.TxData) != 8 {
		t.Fatalf("tx-data has %d datoms, want 8: %v", len(report.TxData), report.TxData)
	}
	if tx := report.TxData[0].Tx; tx != 536870914 {
		t.Errorf("tx id %d, want 536870914", tx)
	}
	db := must(conn.DB())(t)
	defer db.Release()
	got := must(dh.Q(people, db))(t)
	want := dh.Set{[]any{int64(3), "Alice", int64(20)}, []any{int64(4), "Bob", int64(30)},
		[]any{int64(5), "Charlie", int64(40)}}
	if !dh.Equal(got, want) {
		t.Fatalf("people: got %v", got)
	}
	text, _ := dh.PrintEDN(sortedTuples(got.(dh.Set)))
	if text != `#{[3 "Alice" 20] [4 "Bob" 30] [5 "Charlie" 40]}` {
		t.Errorf("printed %s", text)
	}
	if report.DBBefore != nil {
		before := must(dh.Q(people, report.DBBefore))(t)
		if len(before.(dh.Set)) != 0 {
			t.Errorf("db-before sees %v", before)
		}
		after := must(dh.Q(people, report.DBAfter))(t)
		if !dh.Equal(after, want) {
			t.Errorf("db-after sees %v", after)
		}
	} else {
		t.Log("the library has no datahike_transact_dbs: TxReport.DBBefore/DBAfter are nil")
	}
}

// sortedTuples orders a set of tuples by their printed text, for stable output.
func sortedTuples(s dh.Set) dh.Set {
	out := append(dh.Set(nil), s...)
	sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]) < fmt.Sprint(out[j]) })
	return out
}

func TestHistoryAndViews(t *testing.T) {
	conn := openFresh(t, `:keep-history? true :schema-flexibility :write`)
	must(conn.Transact(schema))(t).Release()
	r1 := must(conn.Transact(`[{:name "Alice" :age 20} {:name "Bob" :age 30}]`))(t)
	r1.Release()
	tx1 := r1.TxData[0].Tx
	must(conn.Transact([]any{[]any{K("db/add"), int64(3), K("age"), 25}}))(t).Release()
	db := must(conn.DB())(t)
	defer db.Release()

	hist := must(db.History())(t)
	defer hist.Release()
	ages := must(dh.Q(`[:find ?a ?tx ?added :where [3 :age ?a ?tx ?added]]`, hist))(t)
	want := dh.Set{[]any{int64(20), tx1, true}, []any{int64(20), tx1 + 1, false},
		[]any{int64(25), tx1 + 1, true}}
	if !dh.Equal(ages, want) {
		t.Fatalf("history: %v", ages)
	}

	asOf := must(db.AsOf(tx1))(t)
	defer asOf.Release()
	if a := must(dh.Q(`[:find ?a . :where [3 :age ?a]]`, asOf))(t); a != int64(20) {
		t.Errorf("as-of: %v", a)
	}
	since := must(db.Since(tx1))(t)
	defer since.Release()
	if a := must(dh.Q(`[:find ?a . :where [?e :age ?a]]`, since))(t); a != int64(25) {
		t.Errorf("since: %v", a)
	}
	// An instant time point: now is after every transaction.
	asOfNow := must(db.AsOf(time.Now().Add(time.Hour)))(t)
	defer asOfNow.Release()
	if a := must(dh.Q(`[:find ?a . :where [3 :age ?a]]`, asOfNow))(t); a != int64(25) {
		t.Errorf("as-of now: %v", a)
	}

	// The history of the attribute through Datoms.
	ds := must(hist.Datoms(dh.EAVT, int64(3), K("age")))(t)
	if len(ds) != 3 {
		t.Errorf("history datoms %v", ds)
	}
}

func TestReads(t *testing.T) {
	conn := openFresh(t, `:schema-flexibility :write`)
	must(conn.Transact(`[{:db/ident :name :db/valueType :db.type/string :db/cardinality :db.cardinality/one :db/unique :db.unique/identity}
	  {:db/ident :age :db/valueType :db.type/long :db/cardinality :db.cardinality/one :db/index true}
	  {:db/ident :friend :db/valueType :db.type/ref :db/cardinality :db.cardinality/many}
	  {:db/ident :id :db/valueType :db.type/uuid :db/cardinality :db.cardinality/one}
	  {:db/ident :born :db/valueType :db.type/instant :db/cardinality :db.cardinality/one}
	  {:db/ident :big :db/valueType :db.type/bigint :db/cardinality :db.cardinality/one}
	  {:db/ident :dec :db/valueType :db.type/bigdec :db/cardinality :db.cardinality/one}
	  {:db/ident :score :db/valueType :db.type/double :db/cardinality :db.cardinality/one}]`))(t).Release()
	id, _ := dh.ParseUUID("f81d4fae-7dec-11d0-a765-00a0c91e6bf6")
	born := time.Date(1990, 5, 17, 8, 30, 0, 123000000, time.UTC)
	huge, _ := new(big.Int).SetString("123456789012345678901234567890", 10)
	r := must(conn.Transact([]any{
		map[K]any{"db/id": "a", "name": "Alice", "age": 20, "id": id, "born": born, "big": huge,
			"dec": dh.Decimal("1.50"), "score": 0.5, "friend": []any{"b"}},
		map[K]any{"db/id": "b", "name": "Bob", "age": 30},
	}))(t)
	r.Release()
	alice := r.Tempids["a"].(int64)
	bob := r.Tempids["b"].(int64)
	db := must(conn.DB())(t)
	defer db.Release()

	m := must(db.Pull(`[:name :id :born :big :dec :score {:friend [:name]}]`, []any{K("name"), "Alice"}))(t)
	if m[K("name")] != "Alice" || m[K("id")] != id || !m[K("born")].(time.Time).Equal(born) ||
		m[K("big")].(*big.Int).Cmp(huge) != 0 || m[K("dec")] != dh.Decimal("1.50") || m[K("score")] != 0.5 {
		t.Fatalf("pull: %#v", m)
	}
	if !dh.Equal(m[K("friend")], []any{map[any]any{K("name"): "Bob"}}) {
		t.Errorf("pull friend: %v", m[K("friend")])
	}
	if m := must(db.Pull(`[:name]`, int64(999)))(t); m != nil {
		t.Errorf("pull of a missing entity: %v", m)
	}
	many := must(db.PullMany(`[:name]`, []int64{alice, bob}))(t)
	if len(many) != 2 || many[1][K("name")] != "Bob" {
		t.Errorf("pull-many: %v", many)
	}
	e := must(db.Entity(bob))(t)
	if e[K("age")] != int64(30) {
		t.Errorf("entity: %v", e)
	}
	ds := must(db.Datoms(dh.AVET, K("age")))(t)
	if len(ds) != 2 || ds[0].V != int64(20) || ds[1].E != bob {
		t.Errorf("avet datoms: %v", ds)
	}
	rng := must(db.IndexRange(K("age"), 25, nil))(t)
	if len(rng) != 1 || rng[0].E != bob {
		t.Errorf("index-range: %v", rng)
	}
	// Arguments of every kind: scalars, a collection, a relation, and keyword-keyed maps back.
	names := must(dh.Q(`[:find [?n ...] :in $ [?a ...] :where [?e :age ?a] [?e :name ?n]]`, db, []int{20, 30}))(t)
	if len(names.([]any)) != 2 {
		t.Errorf("collection binding: %v", names)
	}
	keyed := must(dh.Q(`[:find ?n ?a :keys name age :in $ ?min :where [?e :age ?a] [(>= ?a ?min)] [?e :name ?n]]`, db, 25))(t)
	if !dh.Equal(keyed, dh.Set{map[any]any{K("name"): "Bob", K("age"): int64(30)}}) &&
		!dh.Equal(keyed, []any{map[any]any{K("name"): "Bob", K("age"): int64(30)}}) {
		t.Errorf(":keys: %#v", keyed)
	}
	// Two sources: a *DB and a collection of tuples standing for $2.
	joined := must(dh.Q(`[:find ?n ?c :in $ $2 :where [?e :name ?n] [$2 ?n ?c]]`, db,
		[][]any{{"Alice", "Berlin"}, {"Eve", "Paris"}}))(t)
	if !dh.Equal(joined, dh.Set{[]any{"Alice", "Berlin"}}) {
		t.Errorf("two sources: %v", joined)
	}
	// Two dbs.
	both := must(dh.Q(`[:find ?n :in $ $2 :where [?e :name ?n] [$2 ?f :name ?n]]`, db, db))(t)
	if len(both.(dh.Set)) != 2 {
		t.Errorf("two dbs: %v", both)
	}
	// Raw text, JSON.
	js := must(dh.QText(`[:find ?n . :in $ ?a :where [?e :age ?a] [?e :name ?n]]`, []*dh.DB{db}, `[30]`, dh.FormatJSON))(t)
	if js != `"Bob"` {
		t.Errorf("json result %s", js)
	}
	sch := must(db.Schema())(t)
	if _, ok := sch[K("name")]; !ok {
		t.Errorf("schema: %v", sch)
	}
}

func TestEmptyDBAndWith(t *testing.T) {
	db := must(dh.EmptyDB(map[K]any{"friend": map[K]any{"db/valueType": K("db.type/ref")}}, nil))(t)
	defer db.Release()
	after, r, err := db.With(`[{:db/id -1 :name "Ivan" :friend -2} {:db/id -2 :name "Oleg"}]`)
	if err != nil {
		t.Fatal(err)
	}
	defer after.Release()
	if r.Tempids[int64(-1)] != int64(1) || r.Tempids[int64(-2)] != int64(2) {
		t.Errorf("tempids %v", r.Tempids)
	}
	got := must(dh.Q(`[:find ?n2 . :where [?e :name "Ivan"] [?e :friend ?f] [?f :name ?n2]]`, after))(t)
	if got != "Oleg" {
		t.Errorf("got %v", got)
	}
	if n := must(dh.Q(`[:find (count ?e) . :where [?e :name]]`, db))(t); n != nil {
		t.Errorf("the original value changed: %v", n)
	}
}

func TestListen(t *testing.T) {
	conn := openFresh(t, `:schema-flexibility :read`)
	var got []*dh.TxReport
	key := must(conn.Listen(func(r *dh.TxReport) { got = append(got, r) }))(t)
	must(conn.Transact(`[{:name "Alice"}]`))(t).Release()
	must(conn.Transact(`[{:name "Bob"}]`))(t).Release()
	if err := conn.Unlisten(key); err != nil {
		t.Fatal(err)
	}
	must(conn.Transact(`[{:name "Carol"}]`))(t).Release()
	if len(got) != 2 {
		t.Fatalf("listener saw %d reports, want 2", len(got))
	}
	if got[1].TxData[0].Tx != got[0].TxData[0].Tx+1 {
		t.Errorf("reports %v", got)
	}
	for _, r := range got {
		if r.DBAfter != nil {
			n := must(dh.Q(`[:find (count ?e) . :where [?e :name]]`, r.DBAfter))(t)
			if n == nil {
				t.Errorf("db-after of a listener report is empty")
			}
		}
		r.Release()
	}
	if err := conn.Unlisten(key); !errors.Is(err, dh.ErrNotFound) {
		t.Errorf("second unlisten: %v", err)
	}
	// A channel fed by a listener; the listener unlistens itself; Close removes the rest.
	ch := make(chan *dh.TxReport, 4)
	var self int64
	self = must(conn.Listen(func(r *dh.TxReport) {
		ch <- r
		if err := conn.Unlisten(self); err != nil {
			t.Errorf("unlisten from the listener: %v", err)
		}
	}))(t)
	must(conn.Listen(func(r *dh.TxReport) { r.Release() }))(t)
	must(conn.Transact(`[{:name "Dan"}]`))(t).Release()
	must(conn.Transact(`[{:name "Eve"}]`))(t).Release()
	if len(ch) != 1 {
		t.Errorf("self-removing listener ran %d times", len(ch))
	}
	(<-ch).Release()
}

func ExampleQ() {
	cfg := `{:store {:backend :memory :id "example"} :schema-flexibility :read}`
	if err := dh.CreateDatabase(cfg); err != nil {
		panic(err)
	}
	defer dh.DeleteDatabase(cfg)
	conn, err := dh.Connect(cfg)
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	if _, err := conn.Transact([]any{map[dh.Keyword]any{"name": "Alice", "age": 20}}); err != nil {
		panic(err)
	}
	db, err := conn.DB()
	if err != nil {
		panic(err)
	}
	defer db.Release()
	name, err := dh.Q(`[:find ?n . :in $ ?a :where [?e :age ?a] [?e :name ?n]]`, db, 20)
	fmt.Println(name, err)
	// Output: Alice <nil>
}
