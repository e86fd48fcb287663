#include "core/db/config.h"

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <set>
#include <utility>
#include <vector>

#include "core/value/edn.h"
#include "core/value/error.h"

namespace datahike {

namespace {

[[noreturn]] void Bad(const std::string& msg, const Value& key, const Value& val) {
  throw Error(ErrorKind::kMisuse, msg,
              Value::Map({{Kw("config/key"), key}, {Kw("config/value"), val}}));
}

void ExpectBool(const Value& k, const Value& v) {
  if (v.type() != Type::kBool) {
    Bad("Invalid config: " + edn::ToString(k) + " must be a boolean, got " + edn::ToString(v), k, v);
  }
}

// :schema-flexibility :read -> true, :write -> false; anything else is an error.
bool SchemaOnRead(const Value& k, const Value& v) {
  if (!v.is_keyword() || (v.as_named()->full != "read" && v.as_named()->full != "write")) {
    Bad("Invalid config: :schema-flexibility must be :read or :write, got " + edn::ToString(v), k,
        v);
  }
  return v.as_named()->full == "read";
}

std::string UuidText(const Uuid& u) {
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    s.push_back(hex[u.bytes[i] >> 4]);
    s.push_back(hex[u.bytes[i] & 15]);
  }
  return s;
}

std::string FreshId() {
  static std::atomic<uint64_t> counter{0};
  char buf[64];
  std::snprintf(buf, sizeof buf, "anonymous-%llu",
                static_cast<unsigned long long>(counter.fetch_add(1) + 1));
  return buf;
}

void ParseStore(const Value& store, Config& c) {
  Value store_key = Kw("store");
  if (!store.is_map()) Bad("Invalid config: :store must be a map", store_key, store);
  const Value* backend = store.get("backend");
  if (backend == nullptr || !backend->is_keyword()) {
    Bad("Invalid config: :store needs a :backend keyword (:memory, :file or :leveldb)", store_key,
        store);
  }
  const std::string& b = backend->as_named()->full;
  if (b == "memory" || b == "mem") {
    c.backend = Backend::kMemory;
    const Value* id = store.get("id");
    if (id == nullptr || id->is_nil()) {
      c.store_id = FreshId();
    } else if (id->is_string()) {
      c.store_id = std::string(id->as_string());
    } else if (id->type() == Type::kUuid) {
      c.store_id = "#uuid " + UuidText(id->as_uuid());
    } else {
      Bad("Invalid config: the :memory store's :id must be a string or a uuid, got " +
              edn::ToString(*id),
          Kw("id"), *id);
    }
    for (const auto& [k, v] : store.entries()) {
      if (!k.is_keyword() || (k.as_named()->full != "backend" && k.as_named()->full != "id" &&
                              k.as_named()->full != "scope")) {
        Bad("Invalid config: unknown key " + edn::ToString(k) + " in the :memory store", k, v);
      }
    }
  } else if (b == "file" || b == "leveldb") {
    c.backend = b == "file" ? Backend::kFile : Backend::kLevelDb;
    const Value* path = store.get("path");
    if (path == nullptr || !path->is_string() || path->as_string().empty()) {
      Bad("Invalid config: the :" + b + " store needs a :path string", Kw("path"),
          path ? *path : Value());
    }
    c.path = std::string(path->as_string());
    for (const auto& [k, v] : store.entries()) {
      const std::string key = k.is_keyword() ? k.as_named()->full : "";
      if (key == "sync?") {
        ExpectBool(k, v);
        c.sync = v.as_bool();
      } else if (key == "flush-every") {
        if (v.type() != Type::kLong || v.as_long() < 1) {
          Bad("Invalid config: :flush-every must be a positive integer, got " + edn::ToString(v),
              k, v);
        }
        c.flush_every = v.as_long();
      } else if (key == "cache-bytes") {
        if (v.type() != Type::kLong || v.as_long() < 0) {
          Bad("Invalid config: :cache-bytes must be a non-negative integer, got " +
                  edn::ToString(v),
              k, v);
        }
      } else if (key != "backend" && key != "path" && key != "scope") {
        Bad("Invalid config: unknown key " + edn::ToString(k) + " in the :" + b + " store", k, v);
      }
    }
  } else {
    Bad("Invalid config: unknown :backend " + edn::ToString(*backend) +
            " (expected :memory, :file or :leveldb)",
        Kw("backend"), *backend);
  }
  c.store = store;
}

// The path with `.`, `..` and symbolic links resolved as far as it exists, so that two spellings
// of one directory name one store.
std::string CanonicalPath(const std::string& path) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::weakly_canonical(std::filesystem::absolute(path), ec);
  return ec ? path : p.string();
}

}  // namespace

Config Config::Parse(const Value& cfg) {
  Config c;
  if (cfg.is_nil()) {
    c.store_id = FreshId();
    c.store = Value::Map({{Kw("backend"), Kw("memory")}, {Kw("id"), Value::String(c.store_id)}});
    return c;
  }
  if (!cfg.is_map()) {
    Bad("Invalid config: expected a map, got " + edn::ToString(cfg), Value(), cfg);
  }
  static const std::set<std::string> kIgnored = {
      "index",           "index-config",     "search-cache-size", "store-cache-size",
      "crypto-hash?",    "allow-index-backfill?", "fuse-index-roots?", "commit-graph?",
      "branch",          "writer"};
  bool has_store = false;
  bool value_caps_default = false;
  std::vector<std::pair<std::string, int64_t>> explicit_caps;
  for (const auto& [k, v] : cfg.entries()) {
    if (!k.is_keyword()) Bad("Invalid config: keys must be keywords, got " + edn::ToString(k), k, v);
    const std::string& key = k.as_named()->full;
    if (key == "store") {
      ParseStore(v, c);
      has_store = true;
    } else if (key == "keep-history?") {
      ExpectBool(k, v);
      c.keep_history = v.as_bool();
    } else if (key == "schema-flexibility") {
      c.schema_on_read = SchemaOnRead(k, v);
    } else if (key == "attribute-refs?") {
      ExpectBool(k, v);
      if (v.as_bool()) {
        Bad("Invalid config: :attribute-refs? true is not supported by this engine", k, v);
      }
    } else if (key == "initial-tx") {
      if (!v.is_nil() && !v.is_sequential()) {
        Bad("Invalid config: :initial-tx must be a vector of tx-data", k, v);
      }
      c.initial_tx = v;
    } else if (key == "value-caps") {
      if (!v.is_nil() && !(v.is_keyword() && v.as_named()->full == "default")) {
        Bad("Invalid config: :value-caps must be :default", k, v);
      }
      value_caps_default = v.is_keyword();
    } else if (key == "max-string-length" || key == "max-bytes-length" ||
               key == "max-float-array-length" || key == "max-double-array-length" ||
               key == "max-tuple-string-length") {
      if (!v.is_nil() && !(v.type() == Type::kLong && v.as_long() >= 0)) {
        Bad("Invalid config: " + edn::ToString(k) + " must be a non-negative integer", k, v);
      }
      explicit_caps.emplace_back(key, v.is_nil() ? 0 : v.as_long());
    } else if (key == "name") {
      if (!v.is_string()) Bad("Invalid config: :name must be a string", k, v);
      c.name = std::string(v.as_string());
    } else if (kIgnored.count(key) == 0) {
      Bad("Invalid config: unknown key " + edn::ToString(k), k, v);
    }
  }
  if (value_caps_default) {
    c.max_string_length = 4096;
    c.max_bytes_length = 4096;
    c.max_tuple_string_length = 256;
  }
  for (const auto& [key, n] : explicit_caps) {
    if (key == "max-string-length") c.max_string_length = n;
    if (key == "max-bytes-length") c.max_bytes_length = n;
    if (key == "max-tuple-string-length") c.max_tuple_string_length = n;
  }
  if (!has_store) {
    c.store_id = FreshId();
    c.store = Value::Map({{Kw("backend"), Kw("memory")}, {Kw("id"), Value::String(c.store_id)}});
  }
  return c;
}

Config Config::Storeless(const Value& cfg) {
  Config c;
  c.keep_history = false;
  c.schema_on_read = true;
  c.store_id = "storeless";
  if (cfg.is_nil()) return c;
  if (!cfg.is_map()) Bad("Invalid config: expected a map, got " + edn::ToString(cfg), Value(), cfg);
  for (const auto& [k, v] : cfg.entries()) {
    std::string key = k.is_keyword() ? k.as_named()->full : "";
    if (key == "keep-history?") {
      ExpectBool(k, v);
      c.keep_history = v.as_bool();
    } else if (key == "schema-flexibility") {
      c.schema_on_read = SchemaOnRead(k, v);
    } else {
      Bad("Invalid config: " + edn::ToString(k) +
              " is not allowed for a storage-free db (only :schema-flexibility and :keep-history?)",
          k, v);
    }
  }
  return c;
}

std::string Config::StoreKey() const {
  switch (backend) {
    case Backend::kMemory: return "memory:" + store_id;
    case Backend::kFile: return "file:" + CanonicalPath(path);
    case Backend::kLevelDb: return "leveldb:" + CanonicalPath(path);
  }
  return "";
}

}  // namespace datahike
