// Databases and connections: the engine's C++ facade (core/api). The C ABI sits on this.
//
// A database lives in a store named by its config (:memory by :id within this process; :file and
// :leveldb come with durable storage). A Connection is the single writer of one database: transact
// calls are serialized, each one publishes a new immutable Db value. Connections to the same store
// from one process share the same state. All functions are thread-safe and throw datahike::Error.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
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

class Connection {
 public:
  // Errors (kNotFound) when the database does not exist.
  static std::shared_ptr<Connection> Connect(const Value& config);
  ~Connection();

  TxReport Transact(const Value& tx_data, const Value& tx_meta = Value());
  // The latest database value.
  DbPtr Db() const;
  const Config& config() const;

  // Calls `callback` with the report of every later successful transaction, on the writer's thread,
  // after the new value is published. Returns a key for Unlisten.
  int64_t Listen(std::function<void(const TxReport&)> callback);
  bool Unlisten(int64_t key);

  // Closes the connection and removes its listeners; later calls fail with kMisuse. Idempotent.
  void Release();
  bool released() const;

 private:
  explicit Connection(std::shared_ptr<StoredDatabase> db);
  std::shared_ptr<StoredDatabase> db_;
  std::atomic<bool> released_{false};
  std::vector<int64_t> listener_keys_;  // guarded by the database's state mutex
};

}  // namespace datahike::api
