// Small POSIX file helpers shared by the :file and :leveldb backends (internal to core/storage).
// Every failure throws :storage/io naming the file.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace datahike::storage {

// Reads the whole file into *out; false when it does not exist.
bool ReadWholeFile(const std::string& path, std::string* out);
// Writes all of `data` at `offset` of fd (retrying short writes and EINTR).
void WriteAllAt(int fd, std::string_view data, uint64_t offset, const std::string& what);
void SyncFd(int fd, const std::string& what);  // fdatasync
void SyncDir(const std::string& dir);          // fsync of a directory (new or removed entries)
// Atomically replaces dir/name with `data`: writes dir/.name.tmp, then (with sync) fsyncs it,
// renames it over dir/name and fsyncs dir. Without sync only the order of writes is kept.
void AtomicReplaceFile(const std::string& dir, const std::string& name, std::string_view data,
                       bool sync);
// The names in dir (without "." and ".."); empty when dir does not exist.
std::vector<std::string> ListDir(const std::string& dir);
bool PathExists(const std::string& path);
// Removes a file; absent is fine.
void RemoveFile(const std::string& path);

// An exclusive advisory lock (flock) on dir/LOCK-like file `path`, held until destruction.
// Throws :storage/locked when another open file description holds it (another process, or another
// open of the same store in this process).
class FileLock {
 public:
  explicit FileLock(const std::string& path);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace datahike::storage
