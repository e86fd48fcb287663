// The commit protocol of a durable database (docs/durability.md): one log record per transaction,
// index nodes flushed every N transactions and on close, then the branch's root record moved
// atomically; opening = the root's lazy trees + a replay of the log after it.
//
// core/api owns one DurableDb per open durable database and calls it under the database's write
// lock (Append, Flush, Close); WaitDurable may be called by any number of threads at once.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/db/db.h"
#include "core/durable/node_codec.h"
#include "core/storage/store.h"
#include "core/tx/transact.h"

namespace datahike::durable {

// A commit id: the 16 bytes of its uuid.
using CommitKey = std::string;

// The head of a branch as stored or replayed.
struct Head {
  DbPtr db;
  CommitKey commit;
  std::vector<CommitKey> parents;
};

class DurableDb {
 public:
  // Opens the writer of an existing database (kNotFound when there is none at config) and loads
  // the :db branch: the root's trees, lazily, and the log after the root, replayed. The stored
  // :keep-history? and :schema-flexibility win over config's.
  static std::unique_ptr<DurableDb> Open(const Config& config, Head* head);
  // Creates the database with `first` (an empty db) as commit `commit`; kConflict when it exists.
  static std::unique_ptr<DurableDb> Create(const Config& config, const DbPtr& first,
                                           const CommitKey& commit);
  // Whether a database exists at config (a store with a :db root). Opens the store briefly when
  // no writer has it; a store locked by another process exists.
  static bool Exists(const Config& config);
  // Removes every file of the database. :storage/locked while another process writes it.
  static void Destroy(const Config& config);

  ~DurableDb();

  // Appends the transaction's log record (not yet durable when the config syncs: see
  // WaitDurable) and returns its sequence number. Throws on failure: the transaction must then
  // not be published.
  uint64_t Append(const TxReport& report, const CommitKey& commit,
                  const std::vector<CommitKey>& parents);
  // Returns once the record `seq` is durable (at once when the config does not sync). Concurrent
  // callers share one fsync.
  void WaitDurable(uint64_t seq);
  // Counts a transaction; flushes after every :flush-every of them.
  void AfterCommit(const Head& head);
  // Writes the head's new index nodes, then its root record, then drops the covered log.
  void Flush(const Head& head);
  // Flushes if anything is unflushed, then closes the store (the writer's lock is gone on return).
  void Close(const Head& head);
  // Closes without flushing (the database is being deleted).
  void Abandon();

  const std::shared_ptr<StoreHandle>& handle() const { return handle_; }
  bool sync() const { return config_.sync; }

 private:
  DurableDb(const Config& config, std::shared_ptr<storage::Store> store);
  uint64_t NextNodeId();
  void CheckUsable() const;

  Config config_;
  std::shared_ptr<storage::Store> store_;
  std::shared_ptr<StoreHandle> handle_;
  uint64_t last_seq_ = 0;   // the last log record appended (or replayed)
  uint64_t covered_seq_ = 0;  // the last log record the stored root covers
  int64_t unflushed_ = 0;     // transactions since the last flush
  uint64_t next_id_ = 0, id_end_ = 0;  // node ids reserved and not yet used
  std::exception_ptr failed_;  // a failed flush: no root may be written any more

  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  uint64_t appended_ = 0;  // guarded by sync_mu_: the last record written
  uint64_t synced_ = 0;    // guarded by sync_mu_: the last record known durable
  bool syncing_ = false;
  std::exception_ptr sync_error_;
};

}  // namespace datahike::durable
