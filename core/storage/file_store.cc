// The :file backend: a directory of plain files (layout and formats in core/storage/README.md).
//
//   FORMAT               "datahike-file-store 1\n", written last when the store is created
//   LOCK                 flock'ed by the writer
//   IDS                  the node id high-water mark (a framed fixed64), replaced atomically
//   LOGSTART             the first retained log sequence number (framed fixed64)
//   nodes/XX/<16 hex>    one file per node (a framed blob); XX = the id's low byte in hex
//   log/<20 digits>.log  log segments named by their first sequence number (log_format.h)
//   roots/=<escaped>     one framed root record per branch
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bitset>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <mutex>

#include "core/storage/backends.h"
#include "core/storage/coding.h"
#include "core/storage/crc32c.h"
#include "core/storage/error_codes.h"
#include "core/storage/group_commit.h"
#include "core/storage/log_format.h"
#include "core/storage/posix_util.h"

namespace datahike::storage {
namespace {

constexpr std::string_view kFormatText = "datahike-file-store 1\n";
constexpr uint64_t kIdReserve = 1 << 16;                // ids reserved per IDS write
constexpr uint64_t kSegmentBytes = uint64_t{64} << 20;  // log segment rotation size
// Sync makes one unsynced node file durable with fdatasync (plus its directory); more than one
// with a single syncfs of the file system, since an fsync costs milliseconds on real disks and a
// flush writes hundreds of nodes.
constexpr size_t kMaxPendingFds = 1;

// Small-file frame: magic (4) | length (4) | masked crc32c of the payload (4) | payload.
constexpr std::string_view kNodeMagic = "DHN1";
constexpr std::string_view kRootMagic = "DHR1";
constexpr std::string_view kMetaMagic = "DHM1";
constexpr size_t kFrameHeader = 12;

std::string FrameBlob(std::string_view magic, std::string_view payload) {
  std::string out;
  out.reserve(kFrameHeader + payload.size());
  out.append(magic);
  PutFixed32(&out, static_cast<uint32_t>(payload.size()));
  PutFixed32(&out, MaskCrc(Crc32c(payload)));
  out.append(payload);
  return out;
}

std::string_view UnframeBlob(std::string_view data, std::string_view magic,
                             const std::string& what) {
  if (data.size() < kFrameHeader || data.substr(0, 4) != magic) {
    ThrowCorrupt(what + " is damaged (bad header).");
  }
  const uint32_t len = GetFixed32(data.data() + 4);
  if (len != data.size() - kFrameHeader) ThrowCorrupt(what + " is damaged (wrong length).");
  std::string_view payload = data.substr(kFrameHeader);
  if (UnmaskCrc(GetFixed32(data.data() + 8)) != Crc32c(payload)) {
    ThrowCorrupt(what + " is damaged (checksum mismatch).");
  }
  return payload;
}

std::string Hex16(uint64_t id) {
  char b[17];
  std::snprintf(b, sizeof b, "%016" PRIx64, id);
  return b;
}
std::string Hex2(unsigned v) {
  char b[3];
  std::snprintf(b, sizeof b, "%02x", v & 0xff);
  return b;
}
std::string SegmentName(uint64_t first_seq) {
  char b[32];
  std::snprintf(b, sizeof b, "%020" PRIu64 ".log", first_seq);
  return b;
}
// The first sequence number of a segment file name, or 0 when it is not one.
uint64_t ParseSegmentName(const std::string& name) {
  if (name.size() != 24 || name.compare(20, 4, ".log") != 0) return 0;
  uint64_t v = 0;
  for (int i = 0; i < 20; ++i) {
    if (name[i] < '0' || name[i] > '9') return 0;
    v = v * 10 + static_cast<uint64_t>(name[i] - '0');
  }
  return v;
}

// Branch names may hold any bytes: file names keep [A-Za-z0-9._-] and escape the rest as %XX,
// behind a '=' so that no branch name is empty or starts with '.' (temporary files do).
int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
std::string EscapeBranch(std::string_view branch) {
  std::string out = "=";
  for (unsigned char c : branch) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.') {
      out.push_back(static_cast<char>(c));
    } else {
      char b[4];
      std::snprintf(b, sizeof b, "%%%02X", c);
      out += b;
    }
  }
  return out;
}
bool UnescapeBranch(const std::string& file, std::string* branch) {
  if (file.empty() || file[0] != '=') return false;
  branch->clear();
  for (size_t i = 1; i < file.size(); ++i) {
    if (file[i] != '%') {
      branch->push_back(file[i]);
      continue;
    }
    if (i + 2 >= file.size()) return false;
    const int hi = HexDigit(file[i + 1]), lo = HexDigit(file[i + 2]);
    if (hi < 0 || lo < 0) return false;
    branch->push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

uint64_t ReadMetaNumber(const std::string& dir, const char* name, uint64_t absent) {
  std::string data;
  if (!ReadWholeFile(dir + "/" + name, &data)) return absent;
  std::string_view payload = UnframeBlob(data, kMetaMagic, dir + "/" + name);
  if (payload.size() != 8) ThrowCorrupt(dir + "/" + name + " is damaged (wrong size).");
  return GetFixed64(payload.data());
}
void WriteMetaNumber(const std::string& dir, const char* name, uint64_t v) {
  std::string payload;
  PutFixed64(&payload, v);
  AtomicReplaceFile(dir, name, FrameBlob(kMetaMagic, payload), true);
}

void CheckFormat(const std::string& path) {
  std::string text;
  if (!ReadWholeFile(path + "/FORMAT", &text)) {
    ThrowStorageError(ErrorKind::kNotFound, "storage/missing-store",
                      "No datahike file store at " + path + ".",
                      {{Kw("path"), Value::String(path)}});
  }
  if (text != kFormatText) {
    ThrowStorageError(ErrorKind::kStorage, "storage/unsupported-format",
                      "The store at " + path + " has an unknown format: " + text,
                      {{Kw("path"), Value::String(path)}});
  }
}

class FileStore final : public Store {
 public:
  FileStore(const std::string& path, bool read_only) : Store(read_only), path_(path) {
    if (read_only) {
      CheckFormat(path_);
      return;
    }
    std::error_code ec;
    std::filesystem::create_directories(path_, ec);
    if (ec) ThrowIo("create directory " + path_, ec.value());
    lock_ = std::make_unique<FileLock>(path_ + "/LOCK");
    if (!PathExists(path_ + "/FORMAT")) Create();
    CheckFormat(path_);
    id_limit_ = ReadMetaNumber(path_, "IDS", 1);
    next_id_ = id_limit_;
    RecoverLog();
    log_ = std::make_unique<GroupCommitLog>(
        log_next_seq_, [this](const std::vector<std::string_view>& records, uint64_t first,
                              bool sync) { WriteLogGroup(records, first, sync); });
  }

  ~FileStore() override {
    for (int fd : pending_fds_) ::close(fd);
    if (log_fd_ >= 0) ::close(log_fd_);
  }

  // ---- nodes ------------------------------------------------------------------------------------
  void PutNodes(std::span<const NodeWrite> nodes) override {
    RequireWriter("PutNodes");
    for (const NodeWrite& n : nodes) {
      const std::string file = NodePath(n.id);
      const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0) ThrowIo("create " + file, errno);
      try {
        WriteAllAt(fd, FrameBlob(kNodeMagic, n.bytes), 0, file);
      } catch (...) {
        ::close(fd);
        throw;
      }
      std::lock_guard<std::mutex> lock(nodes_mu_);
      dirty_dirs_.set(n.id & 0xff);
      if (pending_fds_.size() < kMaxPendingFds) {
        pending_fds_.push_back(fd);
      } else {
        ::close(fd);
        need_syncfs_ = true;
      }
    }
  }

  Blob GetNode(uint64_t id) override {
    auto data = std::make_shared<std::string>();
    const std::string file = NodePath(id);
    if (!ReadWholeFile(file, data.get())) {
      ThrowStorageError(ErrorKind::kStorage, "storage/missing-node",
                        "Node " + std::to_string(id) + " is not in the store (" + file + ").",
                        {{Kw("id"), Value::Long(static_cast<int64_t>(id))}});
    }
    std::string_view payload = UnframeBlob(*data, kNodeMagic, "Node file " + file);
    data->erase(0, payload.data() - data->data());
    return data;
  }

  void DeleteNodes(std::span<const uint64_t> ids) override {
    RequireWriter("DeleteNodes");
    // Not synced: a removal lost in a crash leaves an unreachable node the next gc finds again.
    for (uint64_t id : ids) RemoveFile(NodePath(id));
  }

  void ForEachNodeId(const std::function<void(uint64_t)>& fn) override {
    for (unsigned d = 0; d < 256; ++d) {
      for (const std::string& name : ListDir(path_ + "/nodes/" + Hex2(d))) {
        if (name.size() != 16) continue;  // temporary or foreign files
        char* end = nullptr;
        const uint64_t id = std::strtoull(name.c_str(), &end, 16);
        if (end == name.c_str() + 16 && id != 0) fn(id);
      }
    }
  }

  uint64_t AllocateNodeIds(uint64_t count) override {
    RequireWriter("AllocateNodeIds");
    std::lock_guard<std::mutex> lock(ids_mu_);
    const uint64_t first = next_id_;
    if (first + count > id_limit_) {
      // Persist the new mark before handing out any id below it.
      const uint64_t limit = first + count + kIdReserve;
      WriteMetaNumber(path_, "IDS", limit);
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
    uint64_t next = std::max<uint64_t>(from_seq, 1);
    for (int attempt = 0;; ++attempt) {
      next = std::max(next, ReadMetaNumber(path_, "LOGSTART", 1));
      const std::vector<uint64_t> segments = ListSegments();
      // Start at the last segment that begins at or before `next`.
      size_t i = 0;
      while (i + 1 < segments.size() && segments[i + 1] <= next) ++i;
      bool vanished = false;
      uint64_t expected_first = 0;
      for (; i < segments.size(); ++i) {
        std::string data;
        const std::string file = path_ + "/log/" + SegmentName(segments[i]);
        if (!ReadWholeFile(file, &data)) {
          vanished = true;  // truncated away while we listed: list again
          break;
        }
        if (expected_first != 0 && segments[i] != expected_first) {
          ThrowCorrupt("Log segment " + file + " does not continue the one before it.");
        }
        const bool last = i + 1 == segments.size();
        bool stop = false;
        LogScan scan = ScanLogSegment(data, segments[i], last, file,
                                      [&](uint64_t seq, std::string_view payload) {
                                        if (seq < next) return true;
                                        next = seq + 1;
                                        if (!fn(seq, payload)) stop = true;
                                        return !stop;
                                      });
        if (stop) return;
        expected_first = segments[i] + scan.records;
      }
      if (!vanished) return;
      if (attempt == 8) ThrowIo("read log in " + path_ + " (segments keep vanishing)", ENOENT);
    }
  }

  void TruncateLogBefore(uint64_t seq) override {
    RequireWriter("TruncateLogBefore");
    std::lock_guard<std::mutex> lock(log_mu_);
    seq = std::min(seq, log_next_seq_);
    if (seq <= log_start_) return;
    WriteMetaNumber(path_, "LOGSTART", seq);
    log_start_ = seq;
    const std::vector<uint64_t> segments = ListSegments();
    for (size_t i = 0; i < segments.size(); ++i) {
      const bool active = segments[i] == log_first_ && log_fd_ >= 0;
      const uint64_t end = i + 1 < segments.size() ? segments[i + 1] : log_next_seq_;
      if (end > seq) continue;  // holds retained records
      if (active) {
        ::close(log_fd_);
        log_fd_ = -1;
      }
      RemoveFile(path_ + "/log/" + SegmentName(segments[i]));
    }
    SyncDir(path_ + "/log");
  }

  uint64_t NextLogSeq() override {
    if (!read_only()) return log_->next_seq();
    const uint64_t start = ReadMetaNumber(path_, "LOGSTART", 1);
    const std::vector<uint64_t> segments = ListSegments();
    if (segments.empty()) return start;
    std::string data;
    const std::string file = path_ + "/log/" + SegmentName(segments.back());
    if (!ReadWholeFile(file, &data)) return NextLogSeq();  // rotated meanwhile
    LogScan scan = ScanLogSegment(data, segments.back(), true, file, nullptr);
    return std::max(start, segments.back() + scan.records);
  }

  // ---- roots ------------------------------------------------------------------------------------
  std::optional<std::string> GetRoot(std::string_view branch) override {
    std::string data;
    const std::string file = path_ + "/roots/" + EscapeBranch(branch);
    if (!ReadWholeFile(file, &data)) return std::nullopt;
    return std::string(UnframeBlob(data, kRootMagic, "Root file " + file));
  }

  void SetRoot(std::string_view branch, std::string_view root, bool sync) override {
    RequireWriter("SetRoot");
    if (sync) Sync();
    std::lock_guard<std::mutex> lock(roots_mu_);
    AtomicReplaceFile(path_ + "/roots", EscapeBranch(branch), FrameBlob(kRootMagic, root), sync);
  }

  void DeleteRoot(std::string_view branch) override {
    RequireWriter("DeleteRoot");
    std::lock_guard<std::mutex> lock(roots_mu_);
    RemoveFile(path_ + "/roots/" + EscapeBranch(branch));
    SyncDir(path_ + "/roots");
  }

  std::vector<std::string> Branches() override {
    std::vector<std::string> out;
    std::string branch;
    for (const std::string& name : ListDir(path_ + "/roots")) {
      if (UnescapeBranch(name, &branch)) out.push_back(branch);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  void Sync() override {
    if (read_only()) return;
    {
      std::lock_guard<std::mutex> lock(nodes_mu_);
      std::vector<int> fds;
      fds.swap(pending_fds_);
      const bool syncfs_needed = need_syncfs_;
      need_syncfs_ = false;
      const std::bitset<256> dirs = dirty_dirs_;
      dirty_dirs_.reset();
      int err = 0;
      for (int fd : fds) {
        if (!syncfs_needed && ::fdatasync(fd) != 0 && err == 0) err = errno;
        ::close(fd);
      }
      if (err != 0) ThrowIo("fdatasync node files in " + path_, err);
      if (syncfs_needed) {
        // More unsynced node files than descriptors kept: one syncfs covers them all (and their
        // directory entries).
        const int dfd = ::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) ThrowIo("open " + path_, errno);
        const int rc = ::syncfs(dfd);
        const int e = errno;
        ::close(dfd);
        if (rc != 0) ThrowIo("syncfs " + path_, e);
      } else {
        for (unsigned d = 0; d < 256; ++d) {
          if (dirs.test(d)) SyncDir(path_ + "/nodes/" + Hex2(d));
        }
      }
    }
    std::lock_guard<std::mutex> lock(log_mu_);
    if (log_fd_ >= 0 && log_dirty_) {
      SyncFd(log_fd_, SegmentName(log_first_));
      log_dirty_ = false;
    }
  }

  void Refresh() override {}

 private:
  std::string NodePath(uint64_t id) const {
    return path_ + "/nodes/" + Hex2(id & 0xff) + "/" + Hex16(id);
  }

  void Create() {
    for (const char* sub : {"nodes", "log", "roots"}) {
      std::error_code ec;
      std::filesystem::create_directories(path_ + "/" + sub, ec);
      if (ec) ThrowIo("create directory " + path_ + "/" + sub, ec.value());
    }
    for (unsigned d = 0; d < 256; ++d) {
      const std::string dir = path_ + "/nodes/" + Hex2(d);
      if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) ThrowIo("mkdir " + dir, errno);
    }
    SyncDir(path_ + "/nodes");
    SyncDir(path_);
    AtomicReplaceFile(path_, "FORMAT", kFormatText, true);
  }

  std::vector<uint64_t> ListSegments() const {
    std::vector<uint64_t> out;
    for (const std::string& name : ListDir(path_ + "/log")) {
      if (uint64_t first = ParseSegmentName(name)) out.push_back(first);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  // Writer open: find the log's end, cut a torn tail, reopen the last segment for appends.
  void RecoverLog() {
    log_start_ = ReadMetaNumber(path_, "LOGSTART", 1);
    const std::vector<uint64_t> segments = ListSegments();
    log_next_seq_ = log_start_;
    if (segments.empty()) return;
    const uint64_t first = segments.back();
    const std::string file = path_ + "/log/" + SegmentName(first);
    std::string data;
    if (!ReadWholeFile(file, &data)) ThrowIo("read " + file, ENOENT);
    LogScan scan = ScanLogSegment(data, first, true, file, nullptr);
    const uint64_t end = first + scan.records;
    if (end < log_start_) {
      // Unsynced records lost in a crash after a durable truncation: the log restarts at
      // LOGSTART; every segment holds only dropped records.
      for (uint64_t s : segments) RemoveFile(path_ + "/log/" + SegmentName(s));
      SyncDir(path_ + "/log");
      return;
    }
    log_next_seq_ = end;
    log_fd_ = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
    if (log_fd_ < 0) ThrowIo("open " + file, errno);
    log_first_ = first;
    log_size_ = scan.valid_end;
    if (scan.torn_tail) {
      if (::ftruncate(log_fd_, static_cast<off_t>(scan.valid_end)) != 0) {
        ThrowIo("truncate torn tail of " + file, errno);
      }
      SyncFd(log_fd_, file);
    }
  }

  // The group commit leader's write: one pwrite of all frames, one fdatasync when asked.
  void WriteLogGroup(const std::vector<std::string_view>& records, uint64_t first, bool sync) {
    std::lock_guard<std::mutex> lock(log_mu_);
    if (log_fd_ < 0 || log_size_ >= kSegmentBytes) {
      if (log_fd_ >= 0) {
        // Seal the full segment durably: only the last segment may ever have a torn tail.
        SyncFd(log_fd_, SegmentName(log_first_));
        ::close(log_fd_);
        log_fd_ = -1;
      }
      const std::string file = path_ + "/log/" + SegmentName(first);
      log_fd_ = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (log_fd_ < 0) ThrowIo("create " + file, errno);
      log_first_ = first;
      log_size_ = 0;
      SyncDir(path_ + "/log");
    }
    size_t total = 0;
    for (std::string_view r : records) total += kLogFrameHeader + r.size();
    std::string buf;
    buf.reserve(total);
    for (size_t i = 0; i < records.size(); ++i) {
      AppendLogFrame(&buf, first + i, static_cast<uint32_t>(i), records[i]);
    }
    WriteAllAt(log_fd_, buf, log_size_, SegmentName(log_first_));
    log_size_ += buf.size();
    log_next_seq_ = first + records.size();
    log_dirty_ = true;
    if (sync) {
      SyncFd(log_fd_, SegmentName(log_first_));
      log_dirty_ = false;
    }
  }

  const std::string path_;
  std::unique_ptr<FileLock> lock_;

  std::mutex ids_mu_;
  uint64_t next_id_ = 1;
  uint64_t id_limit_ = 1;

  std::mutex nodes_mu_;  // unsynced node files
  std::vector<int> pending_fds_;
  bool need_syncfs_ = false;
  std::bitset<256> dirty_dirs_;

  std::mutex log_mu_;  // the active segment; held by the group commit leader while it writes
  int log_fd_ = -1;
  uint64_t log_first_ = 0;
  uint64_t log_size_ = 0;
  uint64_t log_next_seq_ = 1;
  uint64_t log_start_ = 1;
  bool log_dirty_ = false;
  std::unique_ptr<GroupCommitLog> log_;

  std::mutex roots_mu_;
};

}  // namespace

std::unique_ptr<Store> OpenFileStore(const StoreConfig& config, OpenMode mode) {
  return std::make_unique<FileStore>(config.path, mode == OpenMode::kReader);
}

bool FileStoreExists(const StoreConfig& config) { return PathExists(config.path + "/FORMAT"); }

void DestroyFileStore(const StoreConfig& config) {
  const std::string& path = config.path;
  if (!PathExists(path)) return;
  {
    FileLock lock(path + "/LOCK");  // :storage/locked while a writer has it
    // FORMAT first: from here on the directory is no store, even if removal stops half way.
    RemoveFile(path + "/FORMAT");
    std::error_code ec;
    for (const char* sub : {"nodes", "log", "roots"}) {
      std::filesystem::remove_all(path + "/" + sub, ec);
      if (ec) ThrowIo("remove " + path + "/" + sub, ec.value());
    }
    for (const char* file : {"IDS", "LOGSTART", ".IDS.tmp", ".LOGSTART.tmp", ".FORMAT.tmp"}) {
      RemoveFile(path + "/" + file);
    }
    RemoveFile(path + "/LOCK");
  }
  ::rmdir(path.c_str());  // only when empty: never remove files the store does not own
}

}  // namespace datahike::storage
