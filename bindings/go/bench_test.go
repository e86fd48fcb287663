package datahike_test

// What the Go binding adds to a query: the same datahike_q as bench/bench_capi.cc's ABI side (1000
// people, name "p<i>", age i % 100), run in a C loop (BenchmarkQ*/C), through QText (Go strings to C
// and back, no EDN work in Go), and through Q (Go arguments printed to EDN, the result read into Go
// values). Run: scripts/test-go.sh -bench . -run '^$'  (figures in README.md).

import (
	"fmt"
	"strings"
	"testing"

	dh "github.com/datahike-cpp/datahike/bindings/go"
	"github.com/datahike-cpp/datahike/bindings/go/internal/cbench"
)

const benchSchema = `{:name {:db/unique :db.unique/identity} :age {:db/index true}}`

func benchPeople() string {
	var b strings.Builder
	b.WriteString("[")
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&b, `{:name "p%d" :age %d}`, i, i%100)
	}
	b.WriteString("]")
	return b.String()
}

type benchCase struct {
	name, query string
	arg         any    // for Q
	argsText    string // for QText and C
}

var benchCases = []benchCase{
	{"scalar-by-unique", `[:find ?a . :in $ ?n :where [?e :name ?n] [?e :age ?a]]`, "p42", `["p42"]`},
	{"tuples-by-index", `[:find ?e ?n :in $ ?a :where [?e :age ?a] [?e :name ?n]]`, 7, `[7]`},
}

func BenchmarkQ(b *testing.B) {
	people := benchPeople()
	empty := must(dh.EmptyDB(dh.EDN(benchSchema), nil))(b)
	db, _, err := empty.With(people)
	if err != nil {
		b.Fatal(err)
	}
	empty.Release()
	defer db.Release()
	cdb, err := cbench.NewDB(benchSchema, people)
	if err != nil {
		b.Fatal(err)
	}
	defer cdb.Release()
	for _, c := range benchCases {
		b.Run(c.name+"/C", func(b *testing.B) {
			if err := cdb.Loop(c.query, c.argsText, b.N); err != nil {
				b.Fatal(err)
			}
		})
		b.Run(c.name+"/QText", func(b *testing.B) {
			dbs := []*dh.DB{db}
			for i := 0; i < b.N; i++ {
				if _, err := dh.QText(c.query, dbs, c.argsText, dh.FormatEDN); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/Q", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := dh.Q(c.query, db, c.arg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
