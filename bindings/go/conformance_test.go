package datahike_test

// The shared conformance corpus (../shared/conformance, see its README) through the Go binding: every
// case is run as tests/conformance/driver.cc runs it through the C ABI, with the same comparisons
// (tests/conformance/compare.cc) and the same expected failures (docs/conformance.md), so the counts
// must equal conformance_capi's.

import (
	"fmt"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	dh "github.com/datahike-cpp/datahike/bindings/go"
)

func sharedDir() string {
	if d := os.Getenv("DATAHIKE_SHARED_DIR"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "shared")
}

// expectedFailures reads the ids of docs/conformance.md's lines "- `id`: reason".
func expectedFailures(t *testing.T) map[string]bool {
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "conformance.md"))
	if err != nil {
		t.Fatalf("expected failures: %v", err)
	}
	ids := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(line, "- `") {
			continue
		}
		if end := strings.IndexByte(line[3:], '`'); end >= 0 {
			ids[line[3:3+end]] = true
		}
	}
	return ids
}

type outcome int

const (
	passed outcome = iota
	failed
	notRunnable
)

// runner holds what one case creates, released when the case ends.
type runner struct {
	dbs []*dh.DB
}

func (r *runner) keep(d *dh.DB) *dh.DB {
	r.dbs = append(r.dbs, d)
	return d
}

func (r *runner) releaseAll() {
	for _, d := range r.dbs {
		d.Release()
	}
	r.dbs = nil
}

// Cases are read with their maps in order (dh.OrderedMap), so that every value sent to the library
// prints as the case file writes it; expectations are compared as plain Go maps (plain).
type caseMap = dh.OrderedMap

func get(c caseMap, key string) (any, bool) { return c.Get(dh.Keyword(key)) }

func getOr(c caseMap, key string) any {
	v, _ := c.Get(dh.Keyword(key))
	return v
}

// plain turns the OrderedMaps of a value read with ReadEDNOrdered into the map[any]any that ReadEDN
// gives (keys with no comparable Go form as their EDN text).
func plain(v any) any {
	switch x := v.(type) {
	case dh.OrderedMap:
		m := make(map[any]any, len(x))
		for _, e := range x {
			k := plain(e.Key)
			switch k.(type) {
			case []any, dh.List, dh.Set, map[any]any, *big.Int:
				k = edn(k)
			}
			m[k] = plain(e.Value)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plain(e)
		}
		return out
	case dh.List:
		out := make(dh.List, len(x))
		for i, e := range x {
			out[i] = plain(e)
		}
		return out
	case dh.Set:
		out := make(dh.Set, len(x))
		for i, e := range x {
			out[i] = plain(e)
		}
		return out
	}
	return v
}

func truthy(v any) bool { return v != nil && v != false }

func opOf(c any) string {
	m, _ := c.(caseMap)
	op, _ := m.Get(dh.Keyword("op"))
	k, _ := op.(dh.Keyword)
	return string(k)
}

func isCollection(v any) bool {
	switch v.(type) {
	case []any, dh.List, dh.Set:
		return true
	}
	return false
}

func items(v any) []any {
	switch x := v.(type) {
	case []any:
		return x
	case dh.List:
		return x
	case dh.Set:
		return x
	}
	return nil
}

// edn is v's EDN text as an EDN value, so that the binding sends exactly that text (as the C runner
// sends edn::ToString of the case's value).
func edn(v any) dh.EDN {
	s, err := dh.PrintEDN(v)
	if err != nil {
		panic(err)
	}
	return dh.EDN(s)
}

var conformanceStore atomic.Int64

func (r *runner) buildDB(c caseMap, schemaOverride, txOverride *any) (*dh.DB, error) {
	tx := getOr(c, "tx")
	if txOverride != nil {
		tx = *txOverride
	}
	if cfg, ok := get(c, "config"); ok {
		m := append(caseMap{}, cfg.(caseMap)...)
		m = m.Set(dh.Keyword("store"), caseMap{{Key: dh.Keyword("backend"), Value: dh.Keyword("memory")},
			{Key: dh.Keyword("id"), Value: fmt.Sprintf("conformance-go-%d", conformanceStore.Add(1))}})
		return r.buildStored(edn(m), tx)
	}
	schema := getOr(c, "schema")
	if schemaOverride != nil {
		schema = *schemaOverride
	}
	var s, cfg any
	if schema != nil {
		s = edn(schema)
	}
	if dc := getOr(c, "db-config"); dc != nil {
		cfg = edn(dc)
	}
	db, err := dh.EmptyDB(s, cfg)
	if err != nil {
		return nil, err
	}
	r.keep(db)
	if isCollection(tx) {
		for _, t := range items(tx) {
			next, _, err := db.With(edn(t))
			if err != nil {
				return nil, err
			}
			db = r.keep(next)
		}
	}
	return db, nil
}

func (r *runner) buildStored(cfg dh.EDN, txs any) (*dh.DB, error) {
	if err := dh.CreateDatabase(cfg); err != nil {
		return nil, err
	}
	conn, err := dh.Connect(cfg)
	if err != nil {
		return nil, err
	}
	var db *dh.DB
	for _, t := range items(txs) {
		var rep *dh.TxReport
		if rep, err = conn.Transact(edn(t)); err != nil {
			break
		}
		rep.Release()
	}
	if err == nil {
		db, err = conn.DB()
	}
	conn.Close()
	delErr := dh.DeleteDatabase(cfg)
	if err != nil {
		return nil, err
	}
	if delErr != nil {
		return nil, delErr
	}
	return r.keep(db), nil
}

func (r *runner) applyView(db *dh.DB, c caseMap) (*dh.DB, error) {
	view := getOr(c, "view")
	if view == nil {
		return db, nil
	}
	v := items(view)
	kind := string(v[0].(dh.Keyword))
	var t any
	if len(v) > 1 {
		t = v[1]
	}
	var out *dh.DB
	var err error
	switch kind {
	case "as-of":
		out, err = db.AsOf(edn(t))
	case "since":
		out, err = db.Since(edn(t))
	case "history":
		out, err = db.History()
	default:
		panic("unknown view " + string(edn(view)))
	}
	if err != nil {
		return nil, err
	}
	return r.keep(out), nil
}

func (r *runner) runQuery(dbs []*dh.DB, c caseMap) (any, error) {
	args := make([]any, 0, len(dbs))
	for _, d := range dbs {
		args = append(args, d)
	}
	args = append(args, items(getOr(c, "inputs"))...)
	return dh.Q(edn(getOr(c, "query")), nil, args...)
}

func datomRows(ds []dh.Datom, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	rows := make([]any, len(ds))
	for i, d := range ds {
		rows[i] = []any{d.E, d.A, d.V, d.Tx, d.Added}
	}
	return rows, nil
}

func mapOrNil(m map[any]any, err error) (any, error) {
	if err != nil || m == nil {
		return nil, err
	}
	return m, nil
}

func (r *runner) runRead(db *dh.DB, c caseMap) (any, error) {
	switch op := opOf(c); op {
	case "q":
		return r.runQuery([]*dh.DB{db}, c)
	case "datoms", "seek-datoms", "rseek-datoms":
		index := getOr(c, "index").(dh.Keyword)
		comps := items(getOr(c, "components"))
		switch op {
		case "datoms":
			return datomRows(db.Datoms(index, comps...))
		case "seek-datoms":
			return datomRows(db.SeekDatoms(index, comps...))
		}
		return datomRows(db.RseekDatoms(index, comps...))
	case "index-range":
		return datomRows(db.IndexRange(getOr(c, "attrid").(dh.Keyword), getOr(c, "start"), getOr(c, "end")))
	case "entity":
		return mapOrNil(db.Entity(getOr(c, "eid")))
	case "pull":
		return mapOrNil(db.Pull(edn(getOr(c, "pattern")), getOr(c, "eid")))
	case "pull-many":
		ms, err := db.PullMany(edn(getOr(c, "pattern")), getOr(c, "eids"))
		if err != nil {
			return nil, err
		}
		out := make([]any, len(ms))
		for i, m := range ms {
			if m != nil {
				out[i] = m
			}
		}
		return out, nil
	}
	panic("op " + opOf(c))
}

var readOps = map[string]bool{"datoms": true, "seek-datoms": true, "rseek-datoms": true,
	"index-range": true, "transact": true, "entity": true, "q": true, "pull": true, "pull-many": true}

func runnable(c caseMap) (bool, string) {
	op := opOf(c)
	if !readOps[op] {
		return false, ":op :" + op + " needs the query engine or pull"
	}
	if op == "transact" {
		if expect, ok := getOr(c, "expect").(caseMap); ok {
			if nested, ok := expect.Get(dh.Keyword("db-after")); ok {
				nop := opOf(nested)
				if !readOps[nop] || nop == "transact" {
					return false, ":db-after check uses :op :" + nop
				}
			}
		}
	}
	return true, ""
}

func readMatches(c caseMap, expected, actual any) bool {
	op := opOf(c)
	ordered := truthy(getOr(c, "ordered"))
	switch op {
	case "entity", "pull", "pull-many":
		return valuesMatch(expected, actual)
	case "q":
		if expected == nil {
			return actual == nil || (isCollection(actual) && len(items(actual)) == 0)
		}
		if _, isSet := expected.(dh.Set); isSet && isCollection(actual) {
			return collectionMatches(expected, asSet(items(actual)), false)
		}
		if isCollection(expected) {
			return collectionMatches(expected, actual, ordered)
		}
		return valuesMatch(expected, actual)
	}
	return datomRowsMatch(expected, actual, ordered)
}

// asSet drops repeated elements, as building a set does.
func asSet(xs []any) dh.Set {
	out := dh.Set{}
	for _, x := range xs {
		dup := false
		for _, y := range out {
			if sameValue(x, y) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, x)
		}
	}
	return out
}

func errorMatches(expectError any, err error) (outcome, string) {
	e, ok := err.(*dh.Error)
	if !ok {
		return failed, "exception: " + err.Error()
	}
	if expectError == nil {
		return failed, "error: " + e.Message
	}
	if s, isString := expectError.(string); isString && !strings.Contains(e.Message, s) {
		return failed, "wrong error: " + e.Message
	}
	return passed, ""
}

func (r *runner) runCase(c caseMap) (res outcome, detail string) {
	if ok, why := runnable(c); !ok {
		return notRunnable, why
	}
	defer func() {
		if p := recover(); p != nil {
			res, detail = failed, fmt.Sprintf("exception: %v", p)
		}
	}()
	expectError, hasExpectError := get(c, "expect-error")
	if !hasExpectError {
		expectError = nil
	} else if expectError == nil {
		expectError = true // present, even as nil: C's Get returns the entry
	}
	op := opOf(c)
	fail := func(err error) (outcome, string) { return errorMatches(expectError, err) }
	if op == "transact" {
		db, err := r.buildDB(c, nil, nil)
		if err != nil {
			return fail(err)
		}
		if db, err = r.applyView(db, c); err != nil {
			return fail(err)
		}
		after, report, err := db.With(edn(getOr(c, "tx-data")))
		if err != nil {
			return fail(err)
		}
		r.keep(after)
		if hasExpectError {
			return failed, "expected an error, the transaction succeeded"
		}
		expect := getOr(c, "expect").(caseMap)
		if td, ok := expect.Get(dh.Keyword("tx-data")); ok {
			if !txDataMatches(plain(td), report.TxData) {
				return failed, fmt.Sprintf("tx-data %v", report.TxData)
			}
		}
		if tids, ok := expect.Get(dh.Keyword("tempids")); ok {
			if !tempidsMatch(plain(tids), report.Tempids) {
				return failed, fmt.Sprintf("tempids %v", report.Tempids)
			}
		}
		if nested, ok := expect.Get(dh.Keyword("db-after")); ok {
			n := nested.(caseMap)
			got, err := r.runRead(after, n)
			if err != nil {
				return fail(err)
			}
			if !readMatches(n, plain(getOr(n, "expect")), got) {
				return failed, fmt.Sprintf("db-after %v", got)
			}
		}
		return passed, ""
	}
	var got any
	var err error
	if dbs, ok := get(c, "dbs"); ok && op == "q" {
		var all []*dh.DB
		for _, d := range items(dbs) {
			dm := d.(caseMap)
			schema := getOr(dm, "schema")
			tx := getOr(dm, "tx")
			db, err := r.buildDB(c, &schema, &tx)
			if err != nil {
				return fail(err)
			}
			if db, err = r.applyView(db, c); err != nil {
				return fail(err)
			}
			all = append(all, db)
		}
		got, err = r.runQuery(all, c)
	} else {
		var db *dh.DB
		if db, err = r.buildDB(c, nil, nil); err == nil {
			if db, err = r.applyView(db, c); err == nil {
				got, err = r.runRead(db, c)
			}
		}
	}
	if err != nil {
		return fail(err)
	}
	if hasExpectError {
		return failed, fmt.Sprintf("expected an error, got %v", got)
	}
	if !readMatches(c, plain(getOr(c, "expect")), got) {
		return failed, fmt.Sprintf("got %v", got)
	}
	return passed, ""
}

func TestConformance(t *testing.T) {
	dir := filepath.Join(sharedDir(), "conformance")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("no conformance corpus at %s (set DATAHIKE_SHARED_DIR)", dir)
	}
	expected := expectedFailures(t)
	files, _ := filepath.Glob(filepath.Join(dir, "*.edn"))
	sort.Strings(files)
	only := os.Getenv("DATAHIKE_CONFORMANCE_ONLY")
	var totalPass, totalFail, totalExpected, totalNR int
	var unexpected []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		cases, err := dh.ReadEDNOrdered(string(data))
		if err != nil {
			t.Errorf("%s: cannot read: %v", filepath.Base(f), err)
			totalFail++
			unexpected = append(unexpected, filepath.Base(f))
			continue
		}
		var pass, fail, xfail, nr int
		for _, cv := range items(cases) {
			c := cv.(caseMap)
			id, _ := getOr(c, "id").(string)
			if id == "" {
				id = "?"
			}
			if only != "" && id != only {
				continue
			}
			r := &runner{}
			res, detail := r.runCase(c)
			r.releaseAll()
			switch res {
			case passed:
				pass++
				if expected[id] {
					t.Logf("  note: %s passes but is listed as expected to fail", id)
				}
			case failed:
				if expected[id] {
					xfail++
				} else {
					fail++
					unexpected = append(unexpected, id)
					if len(detail) > 400 {
						detail = detail[:400]
					}
					t.Logf("  FAIL %s: %s", id, detail)
				}
			case notRunnable:
				nr++
			}
		}
		t.Logf("%-24s passed %3d  failed %3d  expected-failures %3d  not runnable %3d",
			filepath.Base(f), pass, fail, xfail, nr)
		totalPass += pass
		totalFail += fail
		totalExpected += xfail
		totalNR += nr
	}
	t.Logf("conformance: %d runnable cases, %d not runnable yet, %d expected failures (docs/conformance.md)",
		totalPass+totalFail+totalExpected, totalNR, totalExpected)
	t.Logf("conformance: %d passed, %d failed", totalPass, totalFail)
	if len(unexpected) > 0 {
		t.Errorf("%d unexpected failures: %v", len(unexpected), unexpected)
	}
}

// ---- comparison, as tests/conformance/compare.cc ----

func isNumber(v any) bool {
	switch v.(type) {
	case int64, *big.Int, float64, dh.Decimal:
		return true
	}
	return false
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	case *big.Int:
		f, _ := new(big.Float).SetInt(x).Float64()
		return f
	case dh.Decimal:
		f, _, _ := big.ParseFloat(string(x), 10, 64, big.ToNearestEven)
		if f == nil {
			return 0
		}
		r, _ := f.Float64()
		return r
	}
	return 0
}

// numbersEqual is Compare(a, b) == 0 for two numbers, neither a float: integers exactly, bigdecs by
// their text, an integer never equal to a bigdec.
func numbersEqual(a, b any) bool {
	da, aDec := a.(dh.Decimal)
	db, bDec := b.(dh.Decimal)
	if aDec || bDec {
		return aDec && bDec && da == db
	}
	return dh.Equal(a, b)
}

// sameValue is Compare(a, b) == 0: as Equal, except that numbers of different kinds differ.
func sameValue(a, b any) bool {
	if isNumber(a) && isNumber(b) {
		_, af := a.(float64)
		_, bf := b.(float64)
		if af != bf {
			return false
		}
		if af {
			return dh.Equal(a, b)
		}
		return numbersEqual(a, b)
	}
	return dh.Equal(a, b)
}

func valuesMatch(expected, actual any) bool {
	if isNumber(expected) && isNumber(actual) {
		_, ef := expected.(float64)
		_, af := actual.(float64)
		if ef || af {
			x, y := toFloat(expected), toFloat(actual)
			if math.IsNaN(x) || math.IsNaN(y) {
				return math.IsNaN(x) && math.IsNaN(y)
			}
			scale := math.Max(math.Abs(x), math.Abs(y))
			return math.Abs(x-y) <= 1e-9*math.Max(scale, 1e-300) || x == y
		}
		return numbersEqual(expected, actual)
	}
	if isSeq(expected) && isSeq(actual) {
		a, b := items(expected), items(actual)
		if len(a) != len(b) {
			return false
		}
		for i := range a {
			if !valuesMatch(a[i], b[i]) {
				return false
			}
		}
		return true
	}
	es, eSet := expected.(dh.Set)
	as, aSet := actual.(dh.Set)
	if eSet && aSet {
		return multisetMatches(es, as, valuesMatch)
	}
	em, eMap := expected.(map[any]any)
	am, aMap := actual.(map[any]any)
	if eMap && aMap {
		if len(em) != len(am) {
			return false
		}
		for k, v := range em {
			w, ok := am[k]
			if !ok || !valuesMatch(v, w) {
				return false
			}
		}
		return true
	}
	return dh.Equal(expected, actual)
}

func isSeq(v any) bool {
	switch v.(type) {
	case []any, dh.List:
		return true
	}
	return false
}

// multisetMatches pairs each expected element with the first unused actual element it matches, as
// compare.cc does.
func multisetMatches(expected, actual []any, match func(a, b any) bool) bool {
	if len(expected) != len(actual) {
		return false
	}
	used := make([]bool, len(actual))
	for _, e := range expected {
		found := false
		for i, a := range actual {
			if !used[i] && match(e, a) {
				used[i], found = true, true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func collectionMatches(expected, actual any, ordered bool) bool {
	if !isCollection(expected) || !isCollection(actual) {
		return valuesMatch(expected, actual)
	}
	if ordered && isSeq(expected) && isSeq(actual) {
		return valuesMatch(expected, actual)
	}
	return multisetMatches(items(expected), items(actual), valuesMatch)
}

func rowPrefixMatches(expected, actual any) bool {
	if !isSeq(expected) || !isSeq(actual) {
		return false
	}
	e, a := items(expected), items(actual)
	if len(e) > len(a) {
		return false
	}
	for i := range e {
		if !valuesMatch(e[i], a[i]) {
			return false
		}
	}
	return true
}

func datomRowsMatch(expected, actual any, ordered bool) bool {
	if !isCollection(expected) || !isCollection(actual) {
		return false
	}
	e, a := items(expected), items(actual)
	if len(e) != len(a) {
		return false
	}
	if ordered {
		for i := range e {
			if !rowPrefixMatches(e[i], a[i]) {
				return false
			}
		}
		return true
	}
	return multisetMatches(e, a, rowPrefixMatches)
}

func txDataMatches(expectedSet any, txData []dh.Datom) bool {
	var actual []any
	for _, d := range txData {
		if d.A == "db/txInstant" {
			continue
		}
		actual = append(actual, []any{d.E, d.A, d.V, d.Added})
	}
	if !isCollection(expectedSet) {
		return false
	}
	return multisetMatches(items(expectedSet), actual, valuesMatch)
}

func tempidsMatch(expected any, actual map[any]any) bool {
	em, ok := expected.(map[any]any)
	if !ok || actual == nil {
		return false
	}
	rest := map[any]any{}
	for k, v := range actual {
		if k == dh.Keyword("db/current-tx") {
			continue
		}
		rest[k] = v
	}
	return valuesMatch(em, rest)
}
