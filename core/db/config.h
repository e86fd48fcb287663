// Database configuration: Datahike's config map, validated.
#pragma once

#include <string>

#include "core/value/value.h"

namespace datahike {

enum class Backend : uint8_t { kMemory, kFile, kLevelDb };

struct Config {
  Backend backend = Backend::kMemory;
  std::string store_id;   // :memory store id (a string, or a uuid's text)
  std::string path;       // :file / :leveldb directory
  bool keep_history = true;
  bool schema_on_read = false;  // :schema-flexibility :read
  Value initial_tx;             // nil or tx-data
  std::string name;             // optional :name
  Value store;                  // the :store map as given (normalised)
  // Durable stores (:file, :leveldb), keys of the :store map (docs/durability.md):
  // :sync? (default true): a transaction returns only once its log record is on disk (fsync);
  // false survives process crashes but not power loss or OS crashes.
  bool sync = true;
  // :flush-every (default 256): transactions between index flushes (and on release).
  int64_t flush_every = 256;
  // Value-size caps (opt-in; 0 = unbounded). `:value-caps :default` sets 4096 / 4096 / 256;
  // explicit :max-*-length keys win. They apply under :write to user attributes.
  int64_t max_string_length = 0;
  int64_t max_bytes_length = 0;
  int64_t max_tuple_string_length = 0;

  // Parses and validates a config map (nil means the defaults: an in-memory store with a fresh id).
  // Unknown keys and wrong types throw datahike::Error kMisuse naming the key.
  static Config Parse(const Value& cfg);
  // The storeless config of empty_db: :schema-flexibility :read, :keep-history? false, unless the
  // map (which may be nil) says otherwise. Only :schema-flexibility and :keep-history? are allowed.
  static Config Storeless(const Value& cfg);

  // A key that names the store uniquely in this process (backend + id or path).
  std::string StoreKey() const;
};

}  // namespace datahike
