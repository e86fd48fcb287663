#include "core/api/connection.h"

#include <algorithm>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/durable/durable_db.h"
#include "core/value/edn.h"
#include "core/value/error.h"

namespace datahike::api {

namespace {
// A commit id as a map key: the uuid's 16 bytes.
using CommitKey = std::string;
CommitKey KeyOf(const Uuid& u) { return CommitKey(reinterpret_cast<const char*>(u.bytes), 16); }
Uuid UuidOf(const CommitKey& k) {
  Uuid u;
  for (int i = 0; i < 16; ++i) u.bytes[i] = static_cast<uint8_t>(k[i]);
  return u;
}
}  // namespace

// One commit: immutable once made. In a key-value store it is the record under its id.
struct CommitRecord {
  std::vector<CommitKey> parents;
  DbPtr db;
};

struct Listener {
  std::string branch;  // notified of this branch's transactions only
  std::function<void(const TxReport&)> callback;
};

struct StoredDatabase {
  Config config;
  std::mutex write_mu;          // serializes writers and branch changes
  mutable std::mutex state_mu;  // guards everything below
  std::unordered_map<CommitKey, CommitRecord> commits;
  std::map<std::string, CommitKey> heads;  // branch name (keyword text) -> head commit
  std::unordered_map<const Db*, CommitKey> commit_of;  // committed values, by identity
  std::map<int64_t, Listener> listeners;
  int64_t next_listener = 1;
  bool deleted = false;
  // Durable databases (:file, :leveldb): the commit protocol, and the connections open on this
  // state (the store closes when the last one is released). nullptr for :memory.
  std::unique_ptr<durable::DurableDb> durable;
  int connections = 0;  // guarded by the registry's mutex
  bool closed = false;  // the durable store was closed by the last release
  std::mt19937_64 rng{[] {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }()};

  // REQUIRES: state_mu held. A fresh random (version 4) commit id.
  CommitKey NewCommitId() {
    Uuid u;
    for (int half = 0; half < 2; ++half) {
      uint64_t r = rng();
      for (int i = 0; i < 8; ++i) u.bytes[half * 8 + i] = static_cast<uint8_t>(r >> (8 * i));
    }
    u.bytes[6] = static_cast<uint8_t>((u.bytes[6] & 0x0f) | 0x40);
    u.bytes[8] = static_cast<uint8_t>((u.bytes[8] & 0x3f) | 0x80);
    CommitKey k = KeyOf(u);
    return commits.count(k) != 0 ? NewCommitId() : k;
  }
  // REQUIRES: state_mu held. Records `db` as a new commit and returns its id.
  CommitKey AddCommit(DbPtr db, std::vector<CommitKey> parents) {
    CommitKey id = NewCommitId();
    commit_of[db.get()] = id;
    commits.emplace(id, CommitRecord{std::move(parents), std::move(db)});
    return id;
  }
};

namespace {

Value BranchKeyword(const std::string& name) { return Kw(name); }

// A branch argument: a keyword (its name is returned).
std::string BranchName(const Value& branch, const char* what) {
  if (!branch.is_keyword()) {
    throw Error(ErrorKind::kMisuse,
                std::string(what) + " must be a keyword (a branch name like :db), got " +
                    edn::ToString(branch),
                Value::Map({{Kw("branch"), branch}}));
  }
  return branch.as_named()->full;
}

// REQUIRES: state_mu held. The head commit of a branch, or kNotFound.
const CommitKey& HeadOf(const StoredDatabase& db, const std::string& name) {
  auto it = db.heads.find(name);
  if (it == db.heads.end()) {
    throw Error(ErrorKind::kNotFound, "Branch :" + name + " does not exist.",
                Value::Map({{Kw("branch"), BranchKeyword(name)}}));
  }
  return it->second;
}

// REQUIRES: state_mu held. A branch keyword (its head) or a commit uuid, as a commit id.
CommitKey Resolve(const StoredDatabase& db, const Value& ref, const char* what) {
  if (ref.is_keyword()) return HeadOf(db, ref.as_named()->full);
  if (ref.type() == Type::kUuid) {
    CommitKey k = KeyOf(ref.as_uuid());
    if (db.commits.count(k) == 0) {
      throw Error(ErrorKind::kNotFound, "Commit " + edn::ToString(ref) + " does not exist.",
                  Value::Map({{Kw("commit-id"), ref}}));
    }
    return k;
  }
  throw Error(ErrorKind::kMisuse,
              std::string(what) + " must be a branch keyword or a commit uuid, got " +
                  edn::ToString(ref),
              Value::Map({{Kw("value"), ref}}));
}

// REQUIRES: state_mu held. A non-empty collection of branches and commits, as commit ids.
std::vector<CommitKey> ResolveParents(const StoredDatabase& db, const Value& parents) {
  if (!parents.is_collection() || parents.items().empty()) {
    throw Error(ErrorKind::kMisuse,
                "parents must be a non-empty collection of branch keywords and commit uuids, got " +
                    edn::ToString(parents),
                Value::Map({{Kw("parents"), parents}}));
  }
  std::vector<CommitKey> out;
  for (const Value& p : parents.items()) out.push_back(Resolve(db, p, "a parent"));
  return out;
}

Value CommitValue(const CommitKey& k) { return Value::MakeUuid(UuidOf(k)); }

// The report's :tx-meta with :db/commitId added, as Datahike's writer does.
Value WithCommitId(const Value& tx_meta, const CommitKey& id) {
  std::vector<std::pair<Value, Value>> entries;
  if (tx_meta.is_map()) {
    for (const auto& [k, v] : tx_meta.entries()) {
      if (!(k.is_keyword() && k.as_named()->full == "db/commitId")) entries.emplace_back(k, v);
    }
  }
  entries.emplace_back(Kw("db/commitId"), CommitValue(id));
  return Value::Map(std::move(entries));
}

struct Registry {
  std::mutex mu;
  std::map<std::string, std::shared_ptr<StoredDatabase>> stores;
};
Registry& GetRegistry() {
  static Registry* r = new Registry();
  return *r;
}

bool IsDurable(const Config& c) { return c.backend != Backend::kMemory; }

// Branch operations other than transacting on :db are not stored yet (docs/durability.md).
void RequireMemoryBranches(const StoredDatabase& db, const char* what) {
  if (db.durable != nullptr) {
    throw Error(ErrorKind::kMisuse,
                std::string("not yet supported: ") + what +
                    " on a durable (:file or :leveldb) database; only the :db branch is stored",
                Value::Map({{Kw("store"), db.config.store}}));
  }
}

std::shared_ptr<StoredDatabase> Find(const Config& c) {
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  auto it = r.stores.find(c.StoreKey());
  return it == r.stores.end() ? nullptr : it->second;
}

}  // namespace

namespace {
void CreateDurable(const Config& c) {
  if (Find(c) != nullptr) {
    throw Error(ErrorKind::kConflict, "Database already exists.",
                Value::Map({{Kw("store"), c.store}}));
  }
  StoredDatabase ids;  // only for its commit id generator
  DbPtr first = Db::Empty(c, Value(), false);
  CommitKey first_id = ids.NewCommitId();
  std::unique_ptr<durable::DurableDb> d = durable::DurableDb::Create(c, first, first_id);
  durable::Head head{first, first_id, {}};
  if (!c.initial_tx.is_nil()) {
    TxReport report = Transact(first, c.initial_tx, Value(), NowMillis());
    head = durable::Head{report.db_after, ids.NewCommitId(), {first_id}};
    d->Append(report, head.commit, head.parents);
    d->AfterCommit(head);
  }
  d->Close(head);
}
}  // namespace

void CreateDatabase(const Value& config_value) {
  Config c = Config::Parse(config_value);
  if (IsDurable(c)) return CreateDurable(c);
  auto db = std::make_shared<StoredDatabase>();
  db->config = c;
  DbPtr first = Db::Empty(c, Value(), false);
  if (!c.initial_tx.is_nil()) {
    first = Transact(first, c.initial_tx, Value(), NowMillis()).db_after;
  }
  {
    std::lock_guard<std::mutex> lock(db->state_mu);
    db->heads["db"] = db->AddCommit(std::move(first), {});
  }
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  if (!r.stores.emplace(c.StoreKey(), db).second) {
    throw Error(ErrorKind::kConflict, "Database already exists.",
                Value::Map({{Kw("store"), c.store}}));
  }
}

bool DatabaseExists(const Value& config_value) {
  Config c = Config::Parse(config_value);
  if (Find(c) != nullptr) return true;
  return IsDurable(c) && durable::DurableDb::Exists(c);
}

void DeleteDatabase(const Value& config_value) {
  Config c = Config::Parse(config_value);
  std::shared_ptr<StoredDatabase> db;
  {
    Registry& r = GetRegistry();
    std::lock_guard<std::mutex> lock(r.mu);
    auto it = r.stores.find(c.StoreKey());
    if (it != r.stores.end()) {
      db = it->second;
      r.stores.erase(it);
    }
  }
  if (db != nullptr) {
    std::lock_guard<std::mutex> write(db->write_mu);
    {
      std::lock_guard<std::mutex> lock(db->state_mu);
      db->deleted = true;
      db->listeners.clear();
      db->commit_of.clear();
    }
    if (db->durable != nullptr) db->durable->Abandon();
  }
  if (IsDurable(c)) durable::DurableDb::Destroy(c);
}

namespace {
// The live database a value belongs to, or nullptr.
std::shared_ptr<StoredDatabase> StoreOf(const Db& db) {
  if (db.storeless()) return nullptr;
  return Find(db.config());
}
}  // namespace

Value CommitId(const Db& db) {
  auto store = StoreOf(db);
  if (store == nullptr) return Value();
  std::lock_guard<std::mutex> lock(store->state_mu);
  auto it = store->commit_of.find(&db);
  return it == store->commit_of.end() ? Value() : CommitValue(it->second);
}

Value ParentCommitIds(const Db& db) {
  auto store = StoreOf(db);
  if (store == nullptr) return Value();
  std::lock_guard<std::mutex> lock(store->state_mu);
  auto it = store->commit_of.find(&db);
  if (it == store->commit_of.end()) return Value();
  std::vector<Value> parents;
  for (const CommitKey& p : store->commits.at(it->second).parents) {
    parents.push_back(CommitValue(p));
  }
  return Value::Set(std::move(parents));
}

void ForceBranch(const DbPtr& db, const Value& branch, const Value& parents) {
  if (db == nullptr) throw Error(ErrorKind::kMisuse, "force-branch!: db is null");
  std::string name = BranchName(branch, "force-branch!: the branch");
  if (db->view() != ViewKind::kCurrent) {
    throw Error(ErrorKind::kMisuse,
                "force-branch!: the db must be a current value, not an as-of, since or history "
                "view");
  }
  auto store = StoreOf(*db);
  if (store == nullptr) {
    throw Error(ErrorKind::kMisuse,
                "force-branch!: the db does not belong to a live database (storeless or deleted)");
  }
  RequireMemoryBranches(*store, "force-branch!");
  std::lock_guard<std::mutex> write(store->write_mu);
  std::lock_guard<std::mutex> lock(store->state_mu);
  if (store->deleted) throw Error(ErrorKind::kMisuse, "force-branch!: the database was deleted");
  std::vector<CommitKey> ps = ResolveParents(*store, parents);
  store->heads[name] = store->AddCommit(db, std::move(ps));
}

std::shared_ptr<Connection> Connection::Connect(const Value& config_value) {
  Config c = Config::Parse(config_value);
  std::string branch = "db";
  if (const Value* b = config_value.is_map() ? config_value.get("branch") : nullptr) {
    if (!b->is_nil()) branch = BranchName(*b, "Invalid config: :branch");
  }
  std::shared_ptr<StoredDatabase> db;
  if (!IsDurable(c)) {
    db = Find(c);
    if (db == nullptr) {
      throw Error(ErrorKind::kNotFound, "Database does not exist.",
                  Value::Map({{Kw("store"), c.store}}));
    }
    std::lock_guard<std::mutex> lock(db->state_mu);
    HeadOf(*db, branch);
  } else {
    // The first connection in this process opens the store (and becomes its writer); later ones
    // share that state until the last is released.
    Registry& r = GetRegistry();
    std::lock_guard<std::mutex> reg(r.mu);
    auto it = r.stores.find(c.StoreKey());
    if (it != r.stores.end()) {
      db = it->second;
    } else {
      durable::Head head;
      std::unique_ptr<durable::DurableDb> d = durable::DurableDb::Open(c, &head);
      db = std::make_shared<StoredDatabase>();
      db->config = head.db->config();
      db->durable = std::move(d);
      db->commit_of[head.db.get()] = head.commit;
      db->commits.emplace(head.commit, CommitRecord{head.parents, head.db});
      db->heads["db"] = head.commit;
      r.stores.emplace(c.StoreKey(), db);
    }
    {
      std::lock_guard<std::mutex> lock(db->state_mu);
      HeadOf(*db, branch);
    }
    ++db->connections;
  }
  return std::shared_ptr<Connection>(new Connection(std::move(db), std::move(branch)));
}

Connection::Connection(std::shared_ptr<StoredDatabase> db, std::string branch)
    : db_(std::move(db)), branch_(std::move(branch)) {}
Connection::~Connection() {
  try {
    Release();
  } catch (...) {
    // Release only fails to flush, and the log holds every transaction: nothing is lost.
  }
}

namespace {
void CheckOpen(bool released, const StoredDatabase& db) {
  if (released || db.closed) throw Error(ErrorKind::kMisuse, "The connection has been released");
  if (db.deleted) throw Error(ErrorKind::kMisuse, "The database of this connection was deleted");
}
}  // namespace

TxReport Connection::Transact(const Value& tx_data, const Value& tx_meta) {
  return Commit(Value(), tx_data, tx_meta);
}

TxReport Connection::Merge(const Value& parents, const Value& tx_data, const Value& tx_meta) {
  RequireMemoryBranches(*db_, "merge!");
  if (!parents.is_collection() || parents.items().empty()) {
    throw Error(ErrorKind::kMisuse,
                "merge!: parents must be a non-empty collection of branch keywords and commit "
                "uuids, got " + edn::ToString(parents),
                Value::Map({{Kw("parents"), parents}}));
  }
  return Commit(parents, tx_data, tx_meta);
}

// A transaction on the branch's head as one commit: its parents are the head, then extra_parents
// (nil for none), each once.
TxReport Connection::Commit(const Value& extra_parents, const Value& tx_data,
                            const Value& tx_meta) {
  std::unique_lock<std::mutex> write(db_->write_mu);
  DbPtr before;
  std::vector<CommitKey> parents;
  {
    std::lock_guard<std::mutex> lock(db_->state_mu);
    CheckOpen(released_, *db_);
    const CommitKey& head = HeadOf(*db_, branch_);
    before = db_->commits.at(head).db;
    parents.push_back(head);
    if (!extra_parents.is_nil()) {
      for (CommitKey& p : ResolveParents(*db_, extra_parents)) {
        if (std::find(parents.begin(), parents.end(), p) == parents.end()) {
          parents.push_back(std::move(p));
        }
      }
    }
  }
  TxReport report = datahike::Transact(before, tx_data, tx_meta, NowMillis());
  if (db_->durable != nullptr) return CommitDurable(std::move(write), std::move(report),
                                                    std::move(parents));
  std::vector<std::function<void(const TxReport&)>> listeners;
  {
    std::lock_guard<std::mutex> lock(db_->state_mu);
    // The write lock kept the head and the branch as they were.
    CommitKey id = db_->AddCommit(report.db_after, std::move(parents));
    db_->heads[branch_] = id;
    report.tx_meta = WithCommitId(report.tx_meta, id);
    for (const auto& [k, l] : db_->listeners) {
      if (l.branch == branch_) listeners.push_back(l.callback);
    }
  }
  for (const auto& f : listeners) f(report);
  return report;
}

// The durable tail of Commit: the log record first (a failed append fails the transaction), then
// the new head is published and listeners called, in order, under the write lock; the caller is
// answered only once the record is durable, its fsync shared with concurrent transactions.
TxReport Connection::CommitDurable(std::unique_lock<std::mutex> write, TxReport report,
                                   std::vector<std::string> parents) {
  CommitKey id;
  {
    std::lock_guard<std::mutex> lock(db_->state_mu);
    id = db_->NewCommitId();
  }
  const uint64_t seq = db_->durable->Append(report, id, parents);
  durable::Head head{report.db_after, id, parents};
  std::vector<std::function<void(const TxReport&)>> listeners;
  {
    std::lock_guard<std::mutex> lock(db_->state_mu);
    db_->commit_of[report.db_after.get()] = id;
    db_->commits.emplace(id, CommitRecord{std::move(parents), report.db_after});
    db_->heads[branch_] = id;
    report.tx_meta = WithCommitId(report.tx_meta, id);
    for (const auto& [k, l] : db_->listeners) {
      if (l.branch == branch_) listeners.push_back(l.callback);
    }
  }
  try {
    db_->durable->AfterCommit(head);
  } catch (const Error&) {
    // A failed index flush loses nothing (the transaction is in the log); the database refuses
    // further transactions until reconnected (DurableDb::CheckUsable).
  }
  for (const auto& f : listeners) f(report);
  write.unlock();
  db_->durable->WaitDurable(seq);
  return report;
}

DbPtr Connection::Db() const {
  std::lock_guard<std::mutex> lock(db_->state_mu);
  CheckOpen(released_, *db_);
  return db_->commits.at(HeadOf(*db_, branch_)).db;
}

const Config& Connection::config() const { return db_->config; }

Value Connection::branch() const { return BranchKeyword(branch_); }

std::vector<Value> Connection::Branches() const {
  std::lock_guard<std::mutex> lock(db_->state_mu);
  CheckOpen(released_, *db_);
  std::vector<Value> out;
  for (const auto& [name, head] : db_->heads) out.push_back(BranchKeyword(name));
  return out;
}

void Connection::CreateBranch(const Value& from, const Value& new_branch) {
  std::string name = BranchName(new_branch, "branch!: the new branch");
  RequireMemoryBranches(*db_, "branch!");
  std::lock_guard<std::mutex> write(db_->write_mu);
  std::lock_guard<std::mutex> lock(db_->state_mu);
  CheckOpen(released_, *db_);
  if (db_->heads.count(name) != 0) {
    throw Error(ErrorKind::kConflict, "Branch :" + name + " already exists.",
                Value::Map({{Kw("branch"), new_branch}}));
  }
  db_->heads[name] = Resolve(*db_, from, "branch!: from");
}

void Connection::DeleteBranch(const Value& branch) {
  std::string name = BranchName(branch, "delete-branch!: the branch");
  if (name == "db") {
    throw Error(ErrorKind::kMisuse,
                "Cannot delete the main :db branch; delete the database instead.",
                Value::Map({{Kw("branch"), branch}}));
  }
  RequireMemoryBranches(*db_, "delete-branch!");
  std::lock_guard<std::mutex> write(db_->write_mu);
  std::lock_guard<std::mutex> lock(db_->state_mu);
  CheckOpen(released_, *db_);
  HeadOf(*db_, name);
  db_->heads.erase(name);
}

DbPtr Connection::BranchDb(const Value& branch) const {
  std::string name = BranchName(branch, "branch-as-db: the branch");
  std::lock_guard<std::mutex> lock(db_->state_mu);
  CheckOpen(released_, *db_);
  return db_->commits.at(HeadOf(*db_, name)).db;
}

DbPtr Connection::CommitDb(const Value& commit_id) const {
  if (commit_id.type() != Type::kUuid) {
    throw Error(ErrorKind::kMisuse,
                "commit-as-db: the commit id must be a uuid, got " + edn::ToString(commit_id),
                Value::Map({{Kw("commit-id"), commit_id}}));
  }
  std::lock_guard<std::mutex> lock(db_->state_mu);
  CheckOpen(released_, *db_);
  return db_->commits.at(Resolve(*db_, commit_id, "commit-as-db")).db;
}

std::vector<Value> Connection::BranchHistory(const Value& branch) const {
  std::string name = BranchName(branch, "branch-history: the branch");
  std::lock_guard<std::mutex> lock(db_->state_mu);
  CheckOpen(released_, *db_);
  std::vector<Value> out;
  std::set<CommitKey> seen;
  std::deque<CommitKey> todo{HeadOf(*db_, name)};
  while (!todo.empty()) {
    CommitKey k = std::move(todo.front());
    todo.pop_front();
    if (!seen.insert(k).second) continue;
    out.push_back(CommitValue(k));
    // A durable database holds the commits made since it was opened (and the head's parents).
    auto it = db_->commits.find(k);
    if (it == db_->commits.end()) continue;
    for (const CommitKey& p : it->second.parents) todo.push_back(p);
  }
  return out;
}

int64_t Connection::Listen(std::function<void(const TxReport&)> callback) {
  std::lock_guard<std::mutex> lock(db_->state_mu);
  CheckOpen(released_, *db_);
  int64_t key = db_->next_listener++;
  db_->listeners.emplace(key, Listener{branch_, std::move(callback)});
  listener_keys_.push_back(key);
  return key;
}

bool Connection::Unlisten(int64_t key) {
  std::lock_guard<std::mutex> lock(db_->state_mu);
  return db_->listeners.erase(key) > 0;
}

void Connection::Release() {
  {
    std::lock_guard<std::mutex> lock(db_->state_mu);
    if (released_.exchange(true)) return;
    for (int64_t key : listener_keys_) db_->listeners.erase(key);
    listener_keys_.clear();
  }
  if (db_->durable == nullptr) return;
  {
    Registry& r = GetRegistry();
    std::lock_guard<std::mutex> reg(r.mu);
    if (--db_->connections > 0) return;
    auto it = r.stores.find(db_->config.StoreKey());
    if (it != r.stores.end() && it->second == db_) r.stores.erase(it);
  }
  // The last connection: flush and close, so the store's lock is gone when this returns.
  std::lock_guard<std::mutex> write(db_->write_mu);
  durable::Head head;
  {
    std::lock_guard<std::mutex> lock(db_->state_mu);
    if (db_->closed || db_->deleted) return;
    db_->closed = true;
    auto h = db_->heads.find("db");
    if (h != db_->heads.end()) {
      const CommitRecord& rec = db_->commits.at(h->second);
      head = durable::Head{rec.db, h->second, rec.parents};
    }
  }
  if (head.db == nullptr) {
    db_->durable->Abandon();
    return;
  }
  db_->durable->Close(head);
}
bool Connection::released() const { return released_; }

}  // namespace datahike::api
