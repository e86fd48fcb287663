// How storage reports failures: one datahike::Error whose data map carries `:error` with a
// storage keyword, as the other layers do (`{:error :storage/locked, ...}`).
//
//   :storage/missing-node        GetNode of an id that is not stored            (kStorage)
//   :storage/corrupt             a checksum, frame or encoding does not verify    (kStorage)
//   :storage/io                  the operating system or LevelDB refused an I/O   (kStorage)
//   :storage/locked              another writer holds the store                   (kConflict)
//   :storage/missing-store       a reader opened a store that does not exist      (kNotFound)
//   :storage/read-only           a write through a store opened as a reader       (kMisuse)
//   :storage/unsupported-format  a store or blob written by a newer format        (kStorage)
//   :storage/bad-config          a :store map that names no usable backend        (kMisuse)
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/value/error.h"

namespace datahike::storage {

// Throws Error(kind, message, {:error :<code>, extra...}); `code` is e.g. "storage/corrupt".
[[noreturn]] void ThrowStorageError(ErrorKind kind, std::string_view code, std::string message,
                                    std::vector<std::pair<Value, Value>> extra = {});
[[noreturn]] void ThrowCorrupt(std::string message);
// An I/O failure: `what` names the operation and file, errno is appended.
[[noreturn]] void ThrowIo(const std::string& what, int err);

// The `:error` keyword's text of a storage error ("storage/locked"), or "" when it has none.
std::string StorageErrorCode(const Error& e);

}  // namespace datahike::storage
