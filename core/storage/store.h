// The durable key-value layer under the indices: immutable node blobs by id, an append-only log of
// records, and one atomically replaced root record per branch. Storage knows nothing of queries,
// transactions or schema: everything it holds is bytes.
//
// Backends (StoreConfig::backend): :memory (process-wide, shared by id), :file (a directory),
// :leveldb (embedded LevelDB). See core/storage/README.md for the formats and the crash-safety
// argument.
//
// Thread-safety: every Store method may be called from any number of threads at once.
// Errors: every failure throws datahike::Error with `{:error :storage/...}` data (error_codes.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/value/value.h"

namespace datahike::storage {

enum class StoreBackend : uint8_t { kMemory, kFile, kLevelDb };

struct StoreConfig {
  StoreBackend backend = StoreBackend::kMemory;
  std::string id;    // :memory: the store's name in this process
  std::string path;  // :file and :leveldb: the directory
  // Bytes of node blobs kept in the LRU cache above a durable store (0 = no cache). Unused for
  // :memory, whose nodes are already in memory.
  size_t cache_bytes = size_t{64} << 20;

  // From a `:store` map: {:backend :memory :id "x"} (also :mem; the id may be a string, keyword,
  // uuid or number), {:backend :file :path "/dir"}, {:backend :leveldb :path "/dir"}, with an
  // optional :cache-bytes. Throws :storage/bad-config.
  static StoreConfig FromValue(const Value& store);
};

enum class OpenMode : uint8_t {
  kWriter,  // the single writer: creates the store if missing; :storage/locked if another has it
  kReader,  // read-only, any number, no connection to the writer; :storage/missing-store if absent
};

// One node of a PutNodes batch. The bytes are copied before PutNodes returns.
struct NodeWrite {
  uint64_t id;
  std::string_view bytes;
};

// Stored bytes, immutable and shared (a cache hit hands out the same blob).
using Blob = std::shared_ptr<const std::string>;

class Store {
 public:
  virtual ~Store() = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // ---- nodes: immutable blobs by id (id 0 is never used) ----------------------------------------
  // Writes the batch. Durable once Sync() or a SetRoot(..., sync=true) has returned; before that a
  // crash may lose any of them (never tear one: a node is read whole or reported corrupt/missing).
  // Rewriting an id with different bytes is a programming error (nodes are immutable).
  virtual void PutNodes(std::span<const NodeWrite> nodes) = 0;
  // The node's bytes. Throws :storage/missing-node when absent, :storage/corrupt when damaged.
  virtual Blob GetNode(uint64_t id) = 0;
  // Removes the nodes (absent ids are ignored). For garbage collection of unreachable nodes.
  virtual void DeleteNodes(std::span<const uint64_t> ids) = 0;
  // Calls fn once per stored node id, in no particular order. Nodes put or deleted concurrently
  // may or may not be visited.
  virtual void ForEachNodeId(const std::function<void(uint64_t)>& fn) = 0;
  // Reserves `count` fresh ids and returns the first: [first, first + count). Ids are never handed
  // out twice for a store, across reopens and crashes (a persisted high-water mark), even after
  // their nodes are deleted, so a reader never confuses an old node with a new one. Writer only.
  virtual uint64_t AllocateNodeIds(uint64_t count) = 0;

  // ---- the log: records numbered by consecutive sequence numbers from 1 -------------------------
  // Appends one record atomically and returns its sequence number. With `sync`, returns only once
  // the record (and every record appended before it) is durable; concurrent sync appends
  // from many threads share one fsync (group commit). A crash leaves each record whole or absent,
  // and absent records are only ever a suffix. Writer only.
  virtual uint64_t AppendLog(std::string_view record, bool sync) = 0;
  // Calls fn(seq, record) for each retained record with seq >= from_seq in order, until fn returns
  // false. A torn tail (an interrupted append) ends the log silently; damage before the tail throws
  // :storage/corrupt.
  virtual void ReadLog(uint64_t from_seq,
                       const std::function<bool(uint64_t seq, std::string_view record)>& fn) = 0;
  // Drops every record with seq < `seq` (already covered by flushed nodes). Durable on return.
  // Sequence numbers continue: the next append still gets NextLogSeq(). Writer only.
  virtual void TruncateLogBefore(uint64_t seq) = 0;
  // The sequence number the next append will get (last record + 1; 1 for an empty log).
  virtual uint64_t NextLogSeq() = 0;

  // ---- roots: one small record per branch, replaced atomically ----------------------------------
  virtual std::optional<std::string> GetRoot(std::string_view branch) = 0;
  // Replaces the branch's root atomically: a reader or a reopen sees the old or the new record,
  // never a mix. With `sync`, first makes every node and log record written so far durable, then
  // the root, so a durable root never references a lost node. Writer only.
  virtual void SetRoot(std::string_view branch, std::string_view root, bool sync) = 0;
  // Removes the branch's root (absent is fine). Durable on return. Writer only.
  virtual void DeleteRoot(std::string_view branch) = 0;
  // The branches that have a root, sorted.
  virtual std::vector<std::string> Branches() = 0;

  // Makes every node and log record written so far durable.
  virtual void Sync() = 0;
  // Readers: catch up with the writer's latest commits (roots, nodes, log). A no-op where reads
  // already see the latest state (:memory, :file) and for the writer.
  virtual void Refresh() = 0;

  bool read_only() const { return read_only_; }

 protected:
  explicit Store(bool read_only) : read_only_(read_only) {}
  // Throws :storage/read-only for a reader.
  void RequireWriter(const char* operation) const;

 private:
  const bool read_only_;
};

// Opens the store: the backend's store, under a CachedStore when config.cache_bytes > 0 and the
// backend is durable. Closing = destroying the returned object; the writer's lock is released
// before the destructor returns.
std::unique_ptr<Store> Open(const StoreConfig& config, OpenMode mode);
// Opens the backend's store without a cache.
std::unique_ptr<Store> OpenUncached(const StoreConfig& config, OpenMode mode);
// Whether a store exists at config (for :memory, whether the id is registered).
bool Exists(const StoreConfig& config);
// Removes every file of the store (for :memory, unregisters the id; open stores keep their data
// until closed). Throws :storage/locked while a writer has it open. Absent is fine.
void Destroy(const StoreConfig& config);

}  // namespace datahike::storage
