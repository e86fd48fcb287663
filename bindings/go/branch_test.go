package datahike_test

import (
	"errors"
	"testing"

	dh "github.com/datahike-cpp/datahike/bindings/go"
)

func TestBranches(t *testing.T) {
	cfg := freshConfig(t, ":schema-flexibility :read")
	if err := dh.CreateDatabase(cfg); err != nil {
		t.Fatal(err)
	}
	defer dh.DeleteDatabase(cfg)
	conn := must(dh.Connect(cfg))(t)
	defer conn.Close()
	must(conn.Transact(`[{:name "Alice"}]`))(t).Release()
	if err := conn.Branch(K("db"), "feature"); err != nil {
		t.Fatal(err)
	}
	if err := conn.Branch(K("db"), "feature"); !errors.Is(err, dh.ErrConflict) {
		t.Errorf("an existing branch: %v", err)
	}
	names := must(conn.Branches())(t)
	if len(names) != 2 {
		t.Errorf("branches %v", names)
	}
	// A connection to the branch sees the data so far and commits apart from :db.
	fcfg := cfg[:len(cfg)-1] + " :branch :feature}"
	feature := must(dh.Connect(fcfg))(t)
	defer feature.Close()
	must(feature.Transact(`[{:name "Bob"}]`))(t).Release()
	count := func(db *dh.DB) any {
		defer db.Release()
		return must(dh.Q(`[:find (count ?e) . :where [?e :name]]`, db))(t)
	}
	if n := count(must(conn.DB())(t)); n != int64(1) {
		t.Errorf(":db sees %v", n)
	}
	if n := count(must(conn.BranchDB("feature"))(t)); n != int64(2) {
		t.Errorf(":feature sees %v", n)
	}
	// Merge :feature into :db: the caller brings the changes, the commit records both parents.
	must(conn.Merge([]any{K("feature")}, `[{:name "Bob"}]`))(t)
	db := must(conn.DB())(t)
	defer db.Release()
	id, ok, err := db.CommitID()
	if err != nil || !ok {
		t.Fatalf("commit id: %v %v", ok, err)
	}
	parents := must(db.ParentCommitIDs())(t)
	if len(parents) != 2 {
		t.Errorf("a merge commit has parents %v", parents)
	}
	hist := must(conn.BranchHistory("db"))(t)
	if len(hist) < 3 || hist[0] != id {
		t.Errorf("history %v, head %v", hist, id)
	}
	old := must(conn.CommitDB(parents[0]))(t)
	if n := count(old); n == nil {
		t.Errorf("a parent commit reads as empty")
	}
	if err := db.ForceBranch("reset", []any{K("db")}); err != nil {
		t.Fatal(err)
	}
	if err := conn.DeleteBranch("feature"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.BranchDB("feature"); !errors.Is(err, dh.ErrNotFound) {
		t.Errorf("a deleted branch: %v", err)
	}
	if err := conn.DeleteBranch("db"); !errors.Is(err, dh.ErrMisuse) {
		t.Errorf("deleting :db: %v", err)
	}
	view := must(db.History())(t)
	defer view.Release()
	if _, ok, err := view.CommitID(); ok || err != nil {
		t.Errorf("a view has a commit id: %v %v", ok, err)
	}
	if rs := must(db.ReverseSchema())(t); rs == nil {
		t.Error("no reverse schema")
	}
}
