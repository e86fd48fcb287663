// Databases and connections: the engine's C++ facade (core/api). The C ABI sits on this.
//
// A database lives in a store named by its config (:memory by :id within this process; :file and
// :leveldb on disk, see docs/durability.md: each transaction is logged durably before it returns,
// the indices are flushed every :flush-every transactions and when the last connection of the
// process is released, which also releases the store's lock). A Connection is the single writer of one branch of one
// database: transact calls are serialized, each one publishes a new immutable Db value. Connections
// to the same store from one process share the same state. All functions are thread-safe and throw
// datahike::Error.
//
// Branches and commits (DESIGN.md section 6), as in Datahike's datahike.versioning. Every committed
// transaction is a commit: a random UUID, its parent commit ids and the Db value it produced. A
// branch is a named head (a keyword; :db is the default and always exists) pointing at a commit.
// The records are two small maps a key-value store can hold as they are: commit id -> {db root,
// parents} (immutable) and branch -> head commit id (the only mutable pointers), plus the branch
// set. Like Datahike, the commit id is not a datom: it is the db value's metadata, and the tx
// report's :tx-meta carries it as :db/commitId. Views (as-of, since, history) and db-with results
// are not commits: their commit id is nil.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/db/db.h"
#include "core/tx/transact.h"
#include "core/value/value.h"

namespace datahike::api {

// Creates the database; :initial-tx, when given, is its first transaction. Errors if it exists.
void CreateDatabase(const Value& config);
bool DatabaseExists(const Value& config);
// Removes the database and everything in it. Deleting a database that does not exist is a no-op.
// Open connections to it are closed: their later calls fail with a misuse error.
void DeleteDatabase(const Value& config);

struct StoredDatabase;  // shared state of one database in this process

// The commit id of a db value (a uuid Value), or nil when the value is not a commit of a live
// database (a view, a db-with result, a storeless db, a deleted database's value).
Value CommitId(const Db& db);
// The parent commit ids of a commit, a set of uuids (empty for a database's first commit, two or
// more for a merge), or nil when the value is not a commit.
Value ParentCommitIds(const Db& db);
// Points `branch` (a keyword) at a new commit of `db` with `parents` (a non-empty collection of
// branch keywords, resolved to their heads, and commit uuids), creating the branch if needed:
// Datahike's force-branch!, like git reset --hard. REQUIRES: db is a current value (not a view)
// of a live database. Connections to the branch see the new head on their next call.
void ForceBranch(const DbPtr& db, const Value& branch, const Value& parents);

class Connection {
 public:
  // Connects to the config's :branch (a keyword, :db when absent). Errors (kNotFound) when the
  // database or the branch does not exist.
  static std::shared_ptr<Connection> Connect(const Value& config);
  ~Connection();

  // Transacts on this connection's branch: a new commit whose parent is the branch's head. The
  // report's :tx-meta has :db/commitId. Errors (kNotFound) when the branch has been deleted.
  TxReport Transact(const Value& tx_data, const Value& tx_meta = Value());
  // Datahike's merge!: transacts tx_data on this branch's head as one commit whose parents are
  // that head and `parents` (a non-empty collection of branch keywords and commit uuids). Bringing
  // the parents' data over is the caller's part (tx_data); this records the ancestry.
  TxReport Merge(const Value& parents, const Value& tx_data, const Value& tx_meta = Value());
  // The latest database value of this connection's branch.
  DbPtr Db() const;
  const Config& config() const;
  // This connection's branch, a keyword.
  Value branch() const;

  // ---- branches of this connection's database
  // The branch names, keywords in sorted order (:db among them).
  std::vector<Value> Branches() const;
  // Datahike's branch!: a new branch `new_branch` (keyword) whose head is `from`, a branch keyword
  // or a commit uuid. kConflict when new_branch exists, kNotFound when `from` names nothing.
  void CreateBranch(const Value& from, const Value& new_branch);
  // Datahike's delete-branch!: removes the name (its commits stay readable by id). kMisuse for
  // :db, kNotFound for an unknown branch. Connections to it then fail with kNotFound.
  void DeleteBranch(const Value& branch);
  // The head of a branch (Datahike's branch-as-db) or a commit by uuid (commit-as-db), as a
  // read-only value. kNotFound when there is no such branch or commit.
  DbPtr BranchDb(const Value& branch) const;
  DbPtr CommitDb(const Value& commit_id) const;
  // The commit ids reachable from a branch's head through parents, the head first, each once
  // (Datahike's branch-history, as ids).
  std::vector<Value> BranchHistory(const Value& branch) const;

  // Calls `callback` with the report of every later successful transaction, on the writer's thread,
  // after the new value is published. Returns a key for Unlisten.
  int64_t Listen(std::function<void(const TxReport&)> callback);
  bool Unlisten(int64_t key);

  // Closes the connection and removes its listeners; later calls fail with kMisuse. Idempotent.
  void Release();
  bool released() const;

 private:
  Connection(std::shared_ptr<StoredDatabase> db, std::string branch);
  TxReport Commit(const Value& extra_parents, const Value& tx_data, const Value& tx_meta);
  TxReport CommitDurable(std::unique_lock<std::mutex> write, TxReport report,
                         std::vector<std::string> parents);
  std::shared_ptr<StoredDatabase> db_;
  std::string branch_;  // the branch keyword's name, "db" by default
  std::atomic<bool> released_{false};
  std::vector<int64_t> listener_keys_;  // guarded by the database's state mutex
};

}  // namespace datahike::api
