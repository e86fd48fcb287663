// The :leveldb backend: one LevelDB database; nodes, log records, roots and metadata are keys
// with a one-byte prefix (README.md). Every write is one WriteBatch, so it is atomic, and LevelDB
// applies batches in order from its own log, so after a crash the surviving writes are a prefix:
// a root that survived implies every node and record written before it survived.
//
// LevelDB admits one process per directory, so a reader opens a private snapshot: hard links of
// the immutable table files plus copies of CURRENT, the MANIFEST and the write-ahead logs in
// <path>/.readers/<pid>-<n>/, taken again on Refresh (see Snapshot below).
#include <leveldb/db.h>
#include <leveldb/dumpfile.h>
#include <leveldb/env.h>
#include <leveldb/write_batch.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <mutex>
#include <shared_mutex>

#include "core/storage/backends.h"
#include "core/storage/coding.h"
#include "core/storage/error_codes.h"
#include "core/storage/group_commit.h"
#include "core/storage/posix_util.h"

namespace datahike::storage {
namespace {

constexpr char kNodePrefix = 'n';
constexpr char kLogPrefix = 'l';
constexpr char kRootPrefix = 'r';
constexpr std::string_view kFormatKey = "m:format";
constexpr std::string_view kIdsKey = "m:ids";
constexpr std::string_view kLogStartKey = "m:logstart";
constexpr std::string_view kSyncKey = "m:sync";
constexpr std::string_view kFormatValue = "datahike-leveldb-store 1";
constexpr uint64_t kIdReserve = 1 << 16;
constexpr const char* kReadersDir = ".readers";

std::string NumberKey(char prefix, uint64_t n) {
  std::string k(1, prefix);
  PutBigEndian64(&k, n);
  return k;
}
std::string RootKey(std::string_view branch) {
  std::string k(1, kRootPrefix);
  k.append(branch);
  return k;
}
leveldb::Slice S(std::string_view s) { return leveldb::Slice(s.data(), s.size()); }
std::string_view V(const leveldb::Slice& s) { return std::string_view(s.data(), s.size()); }

void Check(const leveldb::Status& s, const std::string& what) {
  if (s.ok()) return;
  if (s.IsCorruption()) ThrowCorrupt(what + ": " + s.ToString());
  ThrowStorageError(ErrorKind::kStorage, "storage/io", what + ": " + s.ToString());
}

bool IsLockError(const leveldb::Status& s) {
  if (!s.IsIOError()) return false;
  const std::string text = s.ToString();
  return text.find("lock") != std::string::npos || text.find("LOCK") != std::string::npos;
}

[[noreturn]] void Locked(const std::string& path) {
  ThrowStorageError(ErrorKind::kConflict, "storage/locked",
                    "The LevelDB store at " + path + " is locked by another writer.",
                    {{Kw("path"), Value::String(path)}});
}

std::unique_ptr<leveldb::DB> OpenDb(const std::string& dir, bool create, const std::string& label) {
  leveldb::Options options;
  options.create_if_missing = create;
  options.paranoid_checks = true;  // damage before the log's tail fails the open
  leveldb::DB* db = nullptr;
  leveldb::Status s = leveldb::DB::Open(options, dir, &db);
  if (IsLockError(s)) Locked(label);
  Check(s, "open LevelDB store " + label);
  return std::unique_ptr<leveldb::DB>(db);
}

uint64_t GetNumber(leveldb::DB* db, std::string_view key, uint64_t absent) {
  std::string v;
  leveldb::Status s = db->Get(leveldb::ReadOptions(), S(key), &v);
  if (s.IsNotFound()) return absent;
  Check(s, "read " + std::string(key));
  if (v.size() != 8) ThrowCorrupt("LevelDB store key " + std::string(key) + " is damaged.");
  return GetFixed64(v.data());
}

// ---- reader snapshots -------------------------------------------------------------------------

bool IsTableFile(const std::string& n) {
  return n.size() > 4 && (n.ends_with(".ldb") || n.ends_with(".sst"));
}
bool IsLogFile(const std::string& n) { return n.size() > 4 && n.ends_with(".log"); }

bool CopyFile(const std::string& from, const std::string& to) {
  std::string data;
  if (!ReadWholeFile(from, &data)) return false;
  AtomicReplaceFile(std::filesystem::path(to).parent_path(), std::filesystem::path(to).filename(),
                    data, false);
  return true;
}

// Removes snapshot directories left by reader processes that no longer run.
void SweepDeadReaders(const std::string& readers) {
  for (const std::string& name : ListDir(readers)) {
    const long pid = std::strtol(name.c_str(), nullptr, 10);
    if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
      std::error_code ec;
      std::filesystem::remove_all(readers + "/" + name, ec);
    }
  }
}

// Collects LevelDB's text dump of a MANIFEST.
class StringSink final : public leveldb::WritableFile {
 public:
  leveldb::Status Append(const leveldb::Slice& data) override {
    text.append(data.data(), data.size());
    return leveldb::Status::OK();
  }
  leveldb::Status Close() override { return leveldb::Status::OK(); }
  leveldb::Status Flush() override { return leveldb::Status::OK(); }
  leveldb::Status Sync() override { return leveldb::Status::OK(); }
  std::string text;
};

// The largest "NextFile" a copied MANIFEST records, or 0 when it cannot be read. Every table the
// MANIFEST names has a smaller number, and the copy, once opened, numbers its own new files from
// it, so only tables below it may be hard-linked: a linked table the writer is still creating
// (numbered at or above it) could otherwise be truncated and rewritten by the copy through the
// shared inode.
uint64_t ManifestNextFile(const std::string& manifest_path) {
  StringSink sink;
  if (!leveldb::DumpFile(leveldb::Env::Default(), manifest_path, &sink).ok()) return 0;
  uint64_t next = 0;
  for (size_t at = sink.text.find("NextFile: "); at != std::string::npos;
       at = sink.text.find("NextFile: ", at + 1)) {
    next = std::max<uint64_t>(next, std::strtoull(sink.text.c_str() + at + 10, nullptr, 10));
  }
  return next;
}

// One consistent copy of the live database in `dir`, or false when the writer changed its
// version (a new MANIFEST, or a MANIFEST record appended) while we copied: try again.
//
// Why it is consistent: every change of the set of live files (a flushed memtable, a compaction,
// a new write-ahead log) appends a record to the MANIFEST before any file it obsoletes is removed.
// If CURRENT and the MANIFEST's size are the same after the copy as before it, no file of the
// copied version was removed while we linked, and every table it lists was complete before the
// record naming it was written. The write-ahead log may gain records while copied; LevelDB's
// recovery drops an incomplete last record.
bool TrySnapshot(const std::string& src, const std::string& dir) {
  std::string current;
  if (!ReadWholeFile(src + "/CURRENT", &current)) return false;
  if (current.empty() || current.back() != '\n') return false;
  const std::string manifest = current.substr(0, current.size() - 1);
  std::string manifest_data;
  if (!ReadWholeFile(src + "/" + manifest, &manifest_data)) return false;
  AtomicReplaceFile(dir, manifest, manifest_data, false);
  const uint64_t next_file = ManifestNextFile(dir + "/" + manifest);
  if (next_file == 0) return false;
  for (const std::string& name : ListDir(src)) {
    if (IsTableFile(name)) {
      if (std::strtoull(name.c_str(), nullptr, 10) >= next_file) continue;  // not in this version
      const std::string from = src + "/" + name, to = dir + "/" + name;
      if (::link(from.c_str(), to.c_str()) != 0) {
        if (errno == ENOENT) continue;  // obsoleted meanwhile: the MANIFEST check decides
        if (errno == EEXIST) continue;
        if (!CopyFile(from, to)) continue;  // another file system or no hard links
      }
    } else if (IsLogFile(name)) {
      CopyFile(src + "/" + name, dir + "/" + name);
    }
  }
  std::string current_after;
  struct stat st;
  if (!ReadWholeFile(src + "/CURRENT", &current_after) || current_after != current) return false;
  if (::stat((src + "/" + manifest).c_str(), &st) != 0 ||
      static_cast<size_t>(st.st_size) != manifest_data.size()) {
    return false;
  }
  AtomicReplaceFile(dir, "CURRENT", current, false);
  return true;
}

class LevelDbStore final : public Store {
 public:
  LevelDbStore(const std::string& path, bool read_only) : Store(read_only), path_(path) {
    if (read_only) {
      if (!PathExists(path_ + "/CURRENT")) {
        ThrowStorageError(ErrorKind::kNotFound, "storage/missing-store",
                          "No LevelDB store at " + path_ + ".",
                          {{Kw("path"), Value::String(path_)}});
      }
      Snapshot();
      return;
    }
    std::error_code ec;
    std::filesystem::create_directories(path_, ec);
    if (ec) ThrowIo("create directory " + path_, ec.value());
    db_ = OpenDb(path_, true, path_);
    CheckFormat(true);
    id_limit_ = GetNumber(db_.get(), kIdsKey, 1);
    next_id_ = id_limit_;
    log_ = std::make_unique<GroupCommitLog>(
        ScanNextLogSeq(), [this](const std::vector<std::string_view>& records, uint64_t first,
                                 bool sync) { WriteLogGroup(records, first, sync); });
  }

  ~LevelDbStore() override {
    db_.reset();
    if (!snapshot_dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(snapshot_dir_, ec);
    }
  }

  // ---- nodes ------------------------------------------------------------------------------------
  void PutNodes(std::span<const NodeWrite> nodes) override {
    RequireWriter("PutNodes");
    leveldb::WriteBatch batch;
    for (const NodeWrite& n : nodes) batch.Put(NumberKey(kNodePrefix, n.id), S(n.bytes));
    Check(db_->Write(leveldb::WriteOptions(), &batch), "write nodes to " + path_);
  }

  Blob GetNode(uint64_t id) override {
    std::shared_lock<std::shared_mutex> lock(db_mu_);
    auto out = std::make_shared<std::string>();
    leveldb::ReadOptions ro;
    ro.verify_checksums = true;
    leveldb::Status s = db_->Get(ro, NumberKey(kNodePrefix, id), out.get());
    if (s.IsNotFound()) {
      ThrowStorageError(ErrorKind::kStorage, "storage/missing-node",
                        "Node " + std::to_string(id) + " is not in the store (" + path_ + ").",
                        {{Kw("id"), Value::Long(static_cast<int64_t>(id))}});
    }
    Check(s, "read node " + std::to_string(id) + " from " + path_);
    return out;
  }

  void DeleteNodes(std::span<const uint64_t> ids) override {
    RequireWriter("DeleteNodes");
    leveldb::WriteBatch batch;
    for (uint64_t id : ids) batch.Delete(NumberKey(kNodePrefix, id));
    Check(db_->Write(leveldb::WriteOptions(), &batch), "delete nodes from " + path_);
  }

  void ForEachNodeId(const std::function<void(uint64_t)>& fn) override {
    std::shared_lock<std::shared_mutex> lock(db_mu_);
    std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
    for (it->Seek(std::string(1, kNodePrefix)); it->Valid(); it->Next()) {
      std::string_view k = V(it->key());
      if (k.empty() || k[0] != kNodePrefix) break;
      if (k.size() != 9) ThrowCorrupt("LevelDB store " + path_ + " has a malformed node key.");
      fn(GetBigEndian64(k.data() + 1));
    }
    Check(it->status(), "list nodes of " + path_);
  }

  uint64_t AllocateNodeIds(uint64_t count) override {
    RequireWriter("AllocateNodeIds");
    std::lock_guard<std::mutex> lock(ids_mu_);
    const uint64_t first = next_id_;
    if (first + count > id_limit_) {
      const uint64_t limit = first + count + kIdReserve;
      std::string v;
      PutFixed64(&v, limit);
      leveldb::WriteOptions wo;
      wo.sync = true;
      Check(db_->Put(wo, S(kIdsKey), v), "reserve node ids in " + path_);
      id_limit_ = limit;
    }
    next_id_ = first + count;
    return first;
  }

  // ---- log --------------------------------------------------------------------------------------
  uint64_t AppendLog(std::string_view record, bool sync) override {
    RequireWriter("AppendLog");
    return log_->Append(record, sync);
  }

  void ReadLog(uint64_t from_seq,
               const std::function<bool(uint64_t, std::string_view)>& fn) override {
    std::shared_lock<std::shared_mutex> lock(db_mu_);
    uint64_t expected = std::max<uint64_t>({from_seq, 1, GetNumber(db_.get(), kLogStartKey, 1)});
    std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
    for (it->Seek(NumberKey(kLogPrefix, expected)); it->Valid(); it->Next()) {
      std::string_view k = V(it->key());
      if (k.empty() || k[0] != kLogPrefix) break;
      if (k.size() != 9) ThrowCorrupt("LevelDB store " + path_ + " has a malformed log key.");
      const uint64_t seq = GetBigEndian64(k.data() + 1);
      if (seq != expected) {
        ThrowCorrupt("LevelDB store " + path_ + ": log record " + std::to_string(expected) +
                     " is missing (the next is " + std::to_string(seq) + ").");
      }
      ++expected;
      if (!fn(seq, V(it->value()))) return;
    }
    Check(it->status(), "read the log of " + path_);
  }

  void TruncateLogBefore(uint64_t seq) override {
    RequireWriter("TruncateLogBefore");
    std::lock_guard<std::mutex> lock(truncate_mu_);
    seq = std::min(seq, log_->next_seq());
    const uint64_t start = GetNumber(db_.get(), kLogStartKey, 1);
    if (seq <= start) return;
    leveldb::WriteBatch batch;
    std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
    const std::string end = NumberKey(kLogPrefix, seq);
    for (it->Seek(NumberKey(kLogPrefix, start)); it->Valid() && it->key().compare(end) < 0;
         it->Next()) {
      batch.Delete(it->key());
    }
    Check(it->status(), "read the log of " + path_);
    std::string v;
    PutFixed64(&v, seq);
    batch.Put(S(kLogStartKey), v);
    leveldb::WriteOptions wo;
    wo.sync = true;
    Check(db_->Write(wo, &batch), "truncate the log of " + path_);
  }

  uint64_t NextLogSeq() override {
    if (!read_only()) return log_->next_seq();
    std::shared_lock<std::shared_mutex> lock(db_mu_);
    return ScanNextLogSeq();
  }

  // ---- roots ------------------------------------------------------------------------------------
  std::optional<std::string> GetRoot(std::string_view branch) override {
    std::shared_lock<std::shared_mutex> lock(db_mu_);
    std::string v;
    leveldb::ReadOptions ro;
    ro.verify_checksums = true;
    leveldb::Status s = db_->Get(ro, RootKey(branch), &v);
    if (s.IsNotFound()) return std::nullopt;
    Check(s, "read root of " + path_);
    return v;
  }

  void SetRoot(std::string_view branch, std::string_view root, bool sync) override {
    RequireWriter("SetRoot");
    leveldb::WriteBatch batch;
    batch.Put(RootKey(branch), S(root));
    leveldb::WriteOptions wo;
    wo.sync = sync;  // LevelDB's log keeps write order: earlier nodes and records come with it
    Check(db_->Write(wo, &batch), "write root to " + path_);
  }

  void DeleteRoot(std::string_view branch) override {
    RequireWriter("DeleteRoot");
    leveldb::WriteOptions wo;
    wo.sync = true;
    Check(db_->Delete(wo, RootKey(branch)), "delete root in " + path_);
  }

  std::vector<std::string> Branches() override {
    std::shared_lock<std::shared_mutex> lock(db_mu_);
    std::vector<std::string> out;
    std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
    for (it->Seek(std::string(1, kRootPrefix)); it->Valid(); it->Next()) {
      std::string_view k = V(it->key());
      if (k.empty() || k[0] != kRootPrefix) break;
      out.emplace_back(k.substr(1));
    }
    Check(it->status(), "list roots of " + path_);
    return out;
  }

  void Sync() override {
    if (read_only()) return;
    leveldb::WriteOptions wo;
    wo.sync = true;  // syncs LevelDB's log, which holds every earlier write
    Check(db_->Put(wo, S(kSyncKey), ""), "sync " + path_);
  }

  void Refresh() override {
    if (read_only()) Snapshot();
  }

 private:
  void CheckFormat(bool create) {
    std::string v;
    leveldb::Status s = db_->Get(leveldb::ReadOptions(), S(kFormatKey), &v);
    if (s.IsNotFound() && create) {
      leveldb::WriteOptions wo;
      wo.sync = true;
      Check(db_->Put(wo, S(kFormatKey), S(kFormatValue)), "initialise " + path_);
      return;
    }
    Check(s, "read format of " + path_);
    if (v != kFormatValue) {
      ThrowStorageError(ErrorKind::kStorage, "storage/unsupported-format",
                        "The LevelDB store at " + path_ + " has an unknown format: " + v,
                        {{Kw("path"), Value::String(path_)}});
    }
  }

  uint64_t ScanNextLogSeq() {
    std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
    it->Seek(std::string(1, kLogPrefix + 1));
    if (it->Valid()) {
      it->Prev();
    } else {
      it->SeekToLast();
    }
    uint64_t next = GetNumber(db_.get(), kLogStartKey, 1);
    if (it->Valid() && it->key().size() == 9 && it->key()[0] == kLogPrefix) {
      next = std::max(next, GetBigEndian64(it->key().data() + 1) + 1);
    }
    Check(it->status(), "read the log of " + path_);
    return next;
  }

  void WriteLogGroup(const std::vector<std::string_view>& records, uint64_t first, bool sync) {
    leveldb::WriteBatch batch;
    for (size_t i = 0; i < records.size(); ++i) {
      batch.Put(NumberKey(kLogPrefix, first + i), S(records[i]));
    }
    leveldb::WriteOptions wo;
    wo.sync = sync;
    Check(db_->Write(wo, &batch), "append to the log of " + path_);
  }

  // Reader: opens a fresh private copy of the writer's current version and swaps it in.
  void Snapshot() {
    const std::string readers = path_ + "/" + kReadersDir;
    std::error_code ec;
    std::filesystem::create_directories(readers, ec);
    if (ec) ThrowIo("create directory " + readers, ec.value());
    static std::atomic<uint64_t> counter{0};
    if (snapshot_dir_.empty()) SweepDeadReaders(readers);
    std::unique_ptr<leveldb::DB> db;
    std::string dir;
    std::string last_error;
    for (int attempt = 0; attempt < 200 && db == nullptr; ++attempt) {
      dir = readers + "/" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1));
      std::filesystem::remove_all(dir, ec);
      std::filesystem::create_directories(dir, ec);
      if (ec) ThrowIo("create directory " + dir, ec.value());
      bool ok = false;
      try {
        ok = TrySnapshot(path_, dir);
        if (ok) db = OpenDb(dir, false, path_ + " (reader snapshot)");
      } catch (const Error& e) {
        last_error = e.message();  // a file vanished or changed mid-copy: copy again
      }
      if (db == nullptr) {
        std::filesystem::remove_all(dir, ec);
        if (attempt > 10) ::usleep(1000);
      }
    }
    if (db == nullptr) {
      ThrowStorageError(ErrorKind::kStorage, "storage/io",
                        "Could not take a consistent snapshot of the LevelDB store at " + path_ +
                            (last_error.empty() ? "" : ": " + last_error));
    }
    std::string old_dir;
    {
      std::unique_lock<std::shared_mutex> lock(db_mu_);
      db_.swap(db);
      old_dir.swap(snapshot_dir_);
      snapshot_dir_ = dir;
    }
    db.reset();
    if (!old_dir.empty()) std::filesystem::remove_all(old_dir, ec);
    if (snapshot_dir_ == dir) CheckFormat(false);
  }

  const std::string path_;
  std::shared_mutex db_mu_;  // readers: guards the swap of db_ on Refresh
  std::unique_ptr<leveldb::DB> db_;
  std::string snapshot_dir_;

  std::mutex ids_mu_;
  uint64_t next_id_ = 1;
  uint64_t id_limit_ = 1;
  std::mutex truncate_mu_;
  std::unique_ptr<GroupCommitLog> log_;
};

}  // namespace

std::unique_ptr<Store> OpenLevelDbStore(const StoreConfig& config, OpenMode mode) {
  return std::make_unique<LevelDbStore>(config.path, mode == OpenMode::kReader);
}

bool LevelDbStoreExists(const StoreConfig& config) { return PathExists(config.path + "/CURRENT"); }

void DestroyLevelDbStore(const StoreConfig& config) {
  if (!PathExists(config.path)) return;
  leveldb::Status s = leveldb::DestroyDB(config.path, leveldb::Options());
  if (IsLockError(s)) Locked(config.path);
  Check(s, "destroy LevelDB store " + config.path);
  std::error_code ec;
  std::filesystem::remove_all(config.path + "/" + kReadersDir, ec);
  ::rmdir(config.path.c_str());
}

}  // namespace datahike::storage
