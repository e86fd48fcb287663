package datahike_test

// What the Go binding adds to a query: the same datahike_q as bench/bench_capi.cc's ABI side (1000
// people, name "p<i>", age i % 100), run in a C loop (BenchmarkQ*/C), through QText (Go strings to C
// and back, no EDN work in Go), and through Q (Go arguments printed to EDN, the result read into Go
// values). Run: scripts/test-go.sh -bench . -run '^$'  (figures in README.md).

import (
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
	"time"

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

// TestQueryOverhead measures what Q and QText add to the C call more robustly than the benchmarks
// on a busy machine: rounds of 200 calls of each kind, interleaved, keeping each kind's fastest
// round. Run with DATAHIKE_GO_OVERHEAD=1 (scripts/test-go.sh -run QueryOverhead -v).
func TestQueryOverhead(t *testing.T) {
	if os.Getenv("DATAHIKE_GO_OVERHEAD") == "" {
		t.Skip("set DATAHIKE_GO_OVERHEAD=1 to measure")
	}
	people := benchPeople()
	empty := must(dh.EmptyDB(dh.EDN(benchSchema), nil))(t)
	db, _, err := empty.With(people)
	if err != nil {
		t.Fatal(err)
	}
	empty.Release()
	defer db.Release()
	cdb, err := cbench.NewDB(benchSchema, people)
	if err != nil {
		t.Fatal(err)
	}
	defer cdb.Release()
	const rounds, calls = 200, 200
	for _, c := range benchCases {
		best := [3]time.Duration{math.MaxInt64, math.MaxInt64, math.MaxInt64}
		run := []func(){
			func() {
				if err := cdb.Loop(c.query, c.argsText, calls); err != nil {
					t.Fatal(err)
				}
			},
			func() {
				for i := 0; i < calls; i++ {
					if _, err := dh.QText(c.query, []*dh.DB{db}, c.argsText, dh.FormatEDN); err != nil {
						t.Fatal(err)
					}
				}
			},
			func() {
				for i := 0; i < calls; i++ {
					if _, err := dh.Q(c.query, db, c.arg); err != nil {
						t.Fatal(err)
					}
				}
			},
		}
		for r := 0; r < rounds; r++ {
			for k, f := range run {
				start := time.Now()
				f()
				if d := time.Since(start); d < best[k] {
					best[k] = d
				}
			}
		}
		us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / calls / 1000 }
		t.Logf("%-18s C %6.2f us  QText %6.2f us (+%.2f)  Q %6.2f us (+%.2f)", c.name,
			us(best[0]), us(best[1]), us(best[1])-us(best[0]), us(best[2]), us(best[2])-us(best[0]))
	}
}
