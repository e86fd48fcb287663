package datahike_test

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	dh "github.com/datahike-cpp/datahike/bindings/go"
)

// Many readers on held db values while a writer transacts: every value shows whole transactions only
// (each batch complete), and a held value answers the same however often it is asked.
func TestConcurrentReadersAndWriter(t *testing.T) {
	conn := openFresh(t, `:schema-flexibility :write :keep-history? true`)
	must(conn.Transact(`[{:db/ident :batch :db/valueType :db.type/long :db/cardinality :db.cardinality/one :db/index true}
	                     {:db/ident :n :db/valueType :db.type/long :db/cardinality :db.cardinality/one}]`))(t).Release()
	const batches, perBatch, readers = 200, 10, 8
	var done atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan error, readers+1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer done.Store(true)
		for b := 0; b < batches; b++ {
			tx := make([]any, perBatch)
			for i := range tx {
				tx[i] = map[K]any{"batch": b, "n": i}
			}
			r, err := conn.Transact(tx)
			if err != nil {
				errs <- err
				return
			}
			r.Release()
		}
	}()
	perBatchQuery := `[:find ?b (count ?e) :where [?e :batch ?b]]`
	var reads atomic.Int64
	for g := 0; g < readers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !done.Load() {
				db, err := conn.DB()
				if err != nil {
					errs <- err
					return
				}
				first, err := dh.Q(perBatchQuery, db)
				if err == nil {
					err = wholeBatches(first, perBatch)
				}
				if err == nil {
					var again any
					again, err = dh.Q(perBatchQuery, db)
					if err == nil && !dh.Equal(first, again) {
						err = fmt.Errorf("a held value changed: %v then %v", first, again)
					}
				}
				if err == nil {
					var ds []dh.Datom
					ds, err = db.Datoms(dh.AVET, K("batch"))
					if err == nil && len(ds)%perBatch != 0 {
						err = fmt.Errorf("%d :batch datoms, not whole batches", len(ds))
					}
				}
				db.Release()
				if err != nil {
					errs <- err
					return
				}
				reads.Add(1)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	db := must(conn.DB())(t)
	defer db.Release()
	if n := must(dh.Q(`[:find (count ?e) . :where [?e :batch]]`, db))(t); n != int64(batches*perBatch) {
		t.Errorf("%v entities at the end", n)
	}
	t.Logf("%d consistent reads during %d transactions", reads.Load(), batches)
}

func wholeBatches(result any, perBatch int) error {
	set, ok := result.(dh.Set)
	if !ok {
		if v, isVec := result.([]any); isVec {
			set = dh.Set(v)
		} else {
			return fmt.Errorf("result %T", result)
		}
	}
	for _, row := range set {
		r := row.([]any)
		if r[1] != int64(perBatch) {
			return fmt.Errorf("batch %v has %v entities: a partial transaction", r[0], r[1])
		}
	}
	return nil
}

// Releasing a value and closing a connection while other goroutines use them: each call either
// works or fails with ErrMisuse, never touches freed memory.
func TestReleaseAndCloseWhileInUse(t *testing.T) {
	cfg := freshConfig(t, ":schema-flexibility :read")
	if err := dh.CreateDatabase(cfg); err != nil {
		t.Fatal(err)
	}
	defer dh.DeleteDatabase(cfg)
	for round := 0; round < 20; round++ {
		conn := must(dh.Connect(cfg))(t)
		db := must(conn.DB())(t)
		var wg sync.WaitGroup
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 50; i++ {
					if _, err := dh.Q(`[:find ?e :where [?e :name]]`, db); err != nil && !errors.Is(err, dh.ErrMisuse) {
						t.Error(err)
						return
					}
					if r, err := conn.Transact(`[{:name "x"}]`); err == nil {
						r.Release()
					} else if !errors.Is(err, dh.ErrMisuse) {
						t.Error(err)
						return
					}
				}
			}()
		}
		db.Release()
		conn.Close()
		wg.Wait()
	}
}
