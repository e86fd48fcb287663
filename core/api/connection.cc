#include "core/api/connection.h"

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/value/error.h"

namespace datahike::api {

struct StoredDatabase {
  Config config;
  std::mutex write_mu;          // serializes writers
  mutable std::mutex state_mu;  // guards `current`, `listeners`, `deleted`
  DbPtr current;
  std::map<int64_t, std::function<void(const TxReport&)>> listeners;
  int64_t next_listener = 1;
  bool deleted = false;
};

namespace {

struct Registry {
  std::mutex mu;
  std::map<std::string, std::shared_ptr<StoredDatabase>> stores;
};
Registry& GetRegistry() {
  static Registry* r = new Registry();
  return *r;
}

void RequireMemory(const Config& c) {
  if (c.backend != Backend::kMemory) {
    throw Error(ErrorKind::kStorage,
                std::string("The ") + (c.backend == Backend::kFile ? ":file" : ":leveldb") +
                    " backend is not available yet in this build: durable storage is not "
                    "implemented; use {:backend :memory}",
                Value::Map({{Kw("store"), c.store}}));
  }
}

std::shared_ptr<StoredDatabase> Find(const Config& c) {
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  auto it = r.stores.find(c.StoreKey());
  return it == r.stores.end() ? nullptr : it->second;
}

}  // namespace

void CreateDatabase(const Value& config_value) {
  Config c = Config::Parse(config_value);
  RequireMemory(c);
  auto db = std::make_shared<StoredDatabase>();
  db->config = c;
  db->current = Db::Empty(c, Value(), false);
  if (!c.initial_tx.is_nil()) {
    db->current = Transact(db->current, c.initial_tx, Value(), NowMillis()).db_after;
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
  RequireMemory(c);
  return Find(c) != nullptr;
}

void DeleteDatabase(const Value& config_value) {
  Config c = Config::Parse(config_value);
  RequireMemory(c);
  std::shared_ptr<StoredDatabase> db;
  {
    Registry& r = GetRegistry();
    std::lock_guard<std::mutex> lock(r.mu);
    auto it = r.stores.find(c.StoreKey());
    if (it == r.stores.end()) return;
    db = it->second;
    r.stores.erase(it);
  }
  std::lock_guard<std::mutex> write(db->write_mu);
  std::lock_guard<std::mutex> lock(db->state_mu);
  db->deleted = true;
  db->listeners.clear();
}

std::shared_ptr<Connection> Connection::Connect(const Value& config_value) {
  Config c = Config::Parse(config_value);
  RequireMemory(c);
  auto db = Find(c);
  if (db == nullptr) {
    throw Error(ErrorKind::kNotFound, "Database does not exist.",
                Value::Map({{Kw("store"), c.store}}));
  }
  return std::shared_ptr<Connection>(new Connection(std::move(db)));
}

Connection::Connection(std::shared_ptr<StoredDatabase> db) : db_(std::move(db)) {}
Connection::~Connection() { Release(); }

namespace {
void CheckOpen(bool released, const StoredDatabase& db) {
  if (released) throw Error(ErrorKind::kMisuse, "The connection has been released");
  if (db.deleted) throw Error(ErrorKind::kMisuse, "The database of this connection was deleted");
}
}  // namespace

TxReport Connection::Transact(const Value& tx_data, const Value& tx_meta) {
  std::lock_guard<std::mutex> write(db_->write_mu);
  DbPtr before;
  {
    std::lock_guard<std::mutex> lock(db_->state_mu);
    CheckOpen(released_, *db_);
    before = db_->current;
  }
  TxReport report = datahike::Transact(before, tx_data, tx_meta, NowMillis());
  std::vector<std::function<void(const TxReport&)>> listeners;
  {
    std::lock_guard<std::mutex> lock(db_->state_mu);
    db_->current = report.db_after;
    for (const auto& [k, f] : db_->listeners) listeners.push_back(f);
  }
  for (const auto& f : listeners) f(report);
  return report;
}

DbPtr Connection::Db() const {
  std::lock_guard<std::mutex> lock(db_->state_mu);
  CheckOpen(released_, *db_);
  return db_->current;
}

const Config& Connection::config() const { return db_->config; }

int64_t Connection::Listen(std::function<void(const TxReport&)> callback) {
  std::lock_guard<std::mutex> lock(db_->state_mu);
  CheckOpen(released_, *db_);
  int64_t key = db_->next_listener++;
  db_->listeners.emplace(key, std::move(callback));
  listener_keys_.push_back(key);
  return key;
}

bool Connection::Unlisten(int64_t key) {
  std::lock_guard<std::mutex> lock(db_->state_mu);
  return db_->listeners.erase(key) > 0;
}

void Connection::Release() {
  std::lock_guard<std::mutex> lock(db_->state_mu);
  released_ = true;
  for (int64_t key : listener_keys_) db_->listeners.erase(key);
  listener_keys_.clear();
}
bool Connection::released() const { return released_; }

}  // namespace datahike::api
