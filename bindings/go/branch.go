package datahike

/*
#include <stdlib.h>
#include "datahike/datahike.h"
*/
import "C"

// Branches and commits, as in Datahike's datahike.versioning: every committed transaction is a
// commit with a UUID and parent commits; a branch is a named head, a Keyword (:db is the default).
// A connection works on its config's :branch ({:store {...} :branch :feature}).

// read runs one connection call that returns text and reads it as EDN; args as for DB.read.
func (c *Conn) read(call func(p *C.datahike_conn, args []*C.char, out, cerr **C.char) C.datahike_status, args ...string) (any, error) {
	p, err := c.acquire()
	if err != nil {
		return nil, err
	}
	defer c.g.leave()
	cargs := make([]*C.char, len(args))
	for i, a := range args {
		cargs[i] = cstr(a)
		defer free(cargs[i])
	}
	var out, cerr *C.char
	if err := takeError(call(p, cargs, &out, &cerr), cerr); err != nil {
		return nil, err
	}
	if out == nil {
		return nil, nil
	}
	return ReadEDN(take(out))
}

func uuids(v any, err error) ([]UUID, error) {
	if err != nil {
		return nil, err
	}
	var items []any
	switch x := v.(type) {
	case []any:
		items = x
	case Set:
		items = x
	}
	out := make([]UUID, 0, len(items))
	for _, it := range items {
		if u, ok := it.(UUID); ok {
			out = append(out, u)
		}
	}
	return out, nil
}

// Branches returns the database's branch names.
func (c *Conn) Branches() ([]Keyword, error) {
	v, err := c.read(func(p *C.datahike_conn, _ []*C.char, out, cerr **C.char) C.datahike_status {
		return C.datahike_branches(p, C.DATAHIKE_FORMAT_EDN, out, cerr)
	})
	if err != nil {
		return nil, err
	}
	set, _ := v.(Set)
	names := make([]Keyword, 0, len(set))
	for _, x := range set {
		if k, ok := x.(Keyword); ok {
			names = append(names, k)
		}
	}
	return names, nil
}

// Branch creates the branch newBranch whose head is from: a branch Keyword or a commit UUID.
// KindConflict when newBranch exists.
func (c *Conn) Branch(from any, newBranch Keyword) error {
	ft, err := PrintEDN(from)
	if err != nil {
		return err
	}
	_, err = c.read(func(p *C.datahike_conn, a []*C.char, _, cerr **C.char) C.datahike_status {
		return C.datahike_branch(p, a[0], a[1], cerr)
	}, ft, newBranch.String())
	return err
}

// DeleteBranch removes a branch name (not :db); its commits stay readable with CommitDB.
func (c *Conn) DeleteBranch(branch Keyword) error {
	_, err := c.read(func(p *C.datahike_conn, a []*C.char, _, cerr **C.char) C.datahike_status {
		return C.datahike_delete_branch(p, a[0], cerr)
	}, branch.String())
	return err
}

// Merge transacts txData on the connection's branch as one commit whose parents are the branch's
// head and parents (branch Keywords and commit UUIDs). The report's DBBefore and DBAfter are nil.
func (c *Conn) Merge(parents []any, txData any) (*TxReport, error) {
	pt, err := PrintEDN(parents)
	if err != nil {
		return nil, err
	}
	tt, err := codeText(txData)
	if err != nil {
		return nil, err
	}
	p, err := c.acquire()
	if err != nil {
		return nil, err
	}
	defer c.g.leave()
	cp, ct := cstr(pt), cstr(tt)
	defer free(cp)
	defer free(ct)
	var report, cerr *C.char
	if err := takeError(C.datahike_merge(p, cp, ct, C.DATAHIKE_FORMAT_EDN, &report, &cerr), cerr); err != nil {
		return nil, err
	}
	return parseReport(take(report))
}

// BranchDB is the head of a branch, read-only.
func (c *Conn) BranchDB(branch Keyword) (*DB, error) {
	return c.dbCall(branch.String(), false)
}

// CommitDB is the value of any commit of the database.
func (c *Conn) CommitDB(id UUID) (*DB, error) {
	text, _ := PrintEDN(id)
	return c.dbCall(text, true)
}

func (c *Conn) dbCall(arg string, commit bool) (*DB, error) {
	p, err := c.acquire()
	if err != nil {
		return nil, err
	}
	defer c.g.leave()
	ca := cstr(arg)
	defer free(ca)
	var out *C.datahike_db
	var cerr *C.char
	var st C.datahike_status
	if commit {
		st = C.datahike_commit_db(p, ca, &out, &cerr)
	} else {
		st = C.datahike_branch_db(p, ca, &out, &cerr)
	}
	if err := takeError(st, cerr); err != nil {
		return nil, err
	}
	return newDB(out), nil
}

// BranchHistory is the commit ids reachable from a branch's head, the head first.
func (c *Conn) BranchHistory(branch Keyword) ([]UUID, error) {
	return uuids(c.read(func(p *C.datahike_conn, a []*C.char, out, cerr **C.char) C.datahike_status {
		return C.datahike_branch_history(p, a[0], C.DATAHIKE_FORMAT_EDN, out, cerr)
	}, branch.String()))
}

// CommitID is the value's commit id; ok is false when the value is not a commit (a view, a With
// result, an EmptyDB value).
func (d *DB) CommitID() (id UUID, ok bool, err error) {
	v, err := d.read(func(p *C.datahike_db, _ []*C.char, out, cerr **C.char) C.datahike_status {
		return C.datahike_commit_id(p, C.DATAHIKE_FORMAT_EDN, out, cerr)
	})
	id, ok = v.(UUID)
	return id, ok, err
}

// ParentCommitIDs are the parents of the value's commit (none for a first commit, two or more for a
// merge); nil when the value is not a commit.
func (d *DB) ParentCommitIDs() ([]UUID, error) {
	v, err := d.read(func(p *C.datahike_db, _ []*C.char, out, cerr **C.char) C.datahike_status {
		return C.datahike_parent_commit_ids(p, C.DATAHIKE_FORMAT_EDN, out, cerr)
	})
	if v == nil || err != nil {
		return nil, err
	}
	return uuids(v, nil)
}

// ForceBranch points branch (created if needed) at a new commit of this value whose parents are
// parents (branch Keywords and commit UUIDs), like git reset --hard.
func (d *DB) ForceBranch(branch Keyword, parents []any) error {
	pt, err := PrintEDN(parents)
	if err != nil {
		return err
	}
	bt := branch.String()
	_, err = d.read(func(p *C.datahike_db, a []*C.char, _, cerr **C.char) C.datahike_status {
		return C.datahike_force_branch(p, a[0], a[1], cerr)
	}, &bt, &pt)
	return err
}

// ReverseSchema is the schema by property: {:db/unique #{...} :db/index #{...} ...}.
func (d *DB) ReverseSchema() (map[any]any, error) {
	return asMap(d.read(func(p *C.datahike_db, a []*C.char, out, cerr **C.char) C.datahike_status {
		return C.datahike_reverse_schema(p, C.DATAHIKE_FORMAT_EDN, out, cerr)
	}))
}
