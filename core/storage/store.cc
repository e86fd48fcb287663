#include "core/storage/store.h"

#include <string>

#include "core/storage/backends.h"
#include "core/storage/cached_store.h"
#include "core/storage/error_codes.h"
#include "core/value/edn.h"

namespace datahike::storage {
namespace {

[[noreturn]] void BadConfig(const std::string& message, const Value& store) {
  ThrowStorageError(ErrorKind::kMisuse, "storage/bad-config", message, {{Kw("store"), store}});
}

}  // namespace

StoreConfig StoreConfig::FromValue(const Value& store) {
  if (!store.is_map()) BadConfig("The :store config must be a map.", store);
  StoreConfig c;
  const Value* backend = store.get("backend");
  if (backend == nullptr || !backend->is_keyword()) {
    BadConfig("The :store map needs a :backend keyword (:memory, :file or :leveldb).", store);
  }
  const std::string& name = backend->as_named()->full;
  if (name == "memory" || name == "mem") {
    c.backend = StoreBackend::kMemory;
    const Value* id = store.get("id");
    if (id == nullptr || id->is_nil()) BadConfig("A :memory store needs an :id.", store);
    c.id = id->is_string() ? std::string(id->as_string()) : edn::ToString(*id);
  } else if (name == "file" || name == "leveldb") {
    c.backend = name == "file" ? StoreBackend::kFile : StoreBackend::kLevelDb;
    const Value* path = store.get("path");
    if (path == nullptr || !path->is_string() || path->as_string().empty()) {
      BadConfig("A :" + name + " store needs a :path string.", store);
    }
    c.path = std::string(path->as_string());
  } else {
    BadConfig("Unknown :backend :" + name + " (expected :memory, :file or :leveldb).", store);
  }
  if (const Value* cache = store.get("cache-bytes")) {
    if (!cache->is_long() || cache->as_long() < 0) {
      BadConfig(":cache-bytes must be a non-negative integer.", store);
    }
    c.cache_bytes = static_cast<size_t>(cache->as_long());
  }
  return c;
}

void Store::RequireWriter(const char* operation) const {
  if (read_only_) {
    ThrowStorageError(ErrorKind::kMisuse, "storage/read-only",
                      std::string(operation) + " on a store opened read-only.");
  }
}

std::unique_ptr<Store> OpenUncached(const StoreConfig& config, OpenMode mode) {
  switch (config.backend) {
    case StoreBackend::kMemory:
      return OpenMemoryStore(config, mode);
    case StoreBackend::kFile:
      return OpenFileStore(config, mode);
    case StoreBackend::kLevelDb:
      return OpenLevelDbStore(config, mode);
  }
  ThrowStorageError(ErrorKind::kMisuse, "storage/bad-config", "Unknown storage backend.");
}

std::unique_ptr<Store> Open(const StoreConfig& config, OpenMode mode) {
  std::unique_ptr<Store> base = OpenUncached(config, mode);
  if (config.backend == StoreBackend::kMemory || config.cache_bytes == 0) return base;
  return std::make_unique<CachedStore>(std::move(base), config.cache_bytes);
}

bool Exists(const StoreConfig& config) {
  switch (config.backend) {
    case StoreBackend::kMemory:
      return MemoryStoreExists(config);
    case StoreBackend::kFile:
      return FileStoreExists(config);
    case StoreBackend::kLevelDb:
      return LevelDbStoreExists(config);
  }
  return false;
}

void Destroy(const StoreConfig& config) {
  switch (config.backend) {
    case StoreBackend::kMemory:
      return DestroyMemoryStore(config);
    case StoreBackend::kFile:
      return DestroyFileStore(config);
    case StoreBackend::kLevelDb:
      return DestroyLevelDbStore(config);
  }
}

}  // namespace datahike::storage
