// The C ABI (capi/include/datahike/datahike.h) over the engine's C++ facade: text in, text out.
//
// Every entry point runs its body inside Guard, which turns every exception into a status and an
// EDN error map, so no C++ exception ever crosses the ABI.
//
// Handles. A datahike_db is `struct datahike_db { DbPtr rep; }`: an immutable value, shared freely.
// A datahike_conn is not a pointer to memory but a token: a number from a counter that never
// repeats, looked up in a registry of live connections. Releasing removes it, so a released handle
// (even a copy of one) is detected on every later call instead of reaching freed memory, and a
// double release is a no-op. A call takes the connection's state out of the registry as a
// shared_ptr, so a release on another thread never frees it under a running call.

#include "datahike/datahike.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/api/connection.h"
#include "core/db/db.h"
#include "core/pull/entity.h"
#include "core/pull/pull.h"
#include "core/query/engine.h"
#include "core/tx/transact.h"
#include "core/value/edn.h"
#include "core/value/error.h"
#include "core/value/json.h"

#ifndef DATAHIKE_VERSION_STRING
#error "DATAHIKE_VERSION_STRING must be defined by the build (the CMake project version)"
#endif

struct datahike_db {
  datahike::DbPtr rep;
};

namespace datahike::capi {
namespace {

// ---- errors
// --------------------------------------------------------------------------------------

datahike_status StatusOf(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kParse:
      return DATAHIKE_ERROR_PARSE;
    case ErrorKind::kSchema:
      return DATAHIKE_ERROR_SCHEMA;
    case ErrorKind::kTransaction:
      return DATAHIKE_ERROR_TRANSACTION;
    case ErrorKind::kQuery:
      return DATAHIKE_ERROR_QUERY;
    case ErrorKind::kNotFound:
      return DATAHIKE_ERROR_NOT_FOUND;
    case ErrorKind::kStorage:
      return DATAHIKE_ERROR_STORAGE;
    case ErrorKind::kConflict:
      return DATAHIKE_ERROR_CONFLICT;
    case ErrorKind::kMisuse:
      return DATAHIKE_ERROR_MISUSE;
    case ErrorKind::kInternal:
      return DATAHIKE_ERROR_INTERNAL;
  }
  return DATAHIKE_ERROR_INTERNAL;
}

// A malloc'd copy of s (what datahike_free frees). Throws std::bad_alloc.
char* CopyOut(const std::string& s) {
  char* p = static_cast<char*>(std::malloc(s.size() + 1));
  if (p == nullptr) throw std::bad_alloc();
  std::memcpy(p, s.data(), s.size());
  p[s.size()] = '\0';
  return p;
}

// Stores the error map {:error/kind .. :message .. :data {..}} in *out_error (when wanted) and
// returns the status of `kind`. :data is always a map: the error's data, or {:value data} when
// that is not a map. Never throws: without memory for the map, *out_error stays NULL.
datahike_status Fail(char** out_error, ErrorKind kind, const std::string& message,
                     const Value& data) noexcept {
  if (out_error != nullptr) {
    try {
      Value map = Value::Map({{Kw("error/kind"), Kw(ErrorKindName(kind))},
                              {Kw("message"), Value::String(message)},
                              {Kw("data"), data.is_map()   ? data
                                           : data.is_nil() ? Value::Map({})
                                                           : Value::Map({{Kw("value"), data}})}});
      *out_error = CopyOut(edn::ToString(map));
    } catch (...) {
      *out_error = nullptr;
    }
  }
  return StatusOf(kind);
}

// Runs body, the whole of one entry point, and turns whatever it throws into a status.
template <class Body>
datahike_status Guard(char** out_error, Body&& body) noexcept {
  if (out_error != nullptr) *out_error = nullptr;
  try {
    body();
    return DATAHIKE_OK;
  } catch (const Error& e) {
    return Fail(out_error, e.kind(), e.message(), e.data());
  } catch (const std::bad_alloc&) {
    return Fail(out_error, ErrorKind::kInternal, "Out of memory", Value());
  } catch (const std::exception& e) {
    return Fail(out_error, ErrorKind::kInternal, std::string("Internal error: ") + e.what(),
                Value());
  } catch (...) {
    return Fail(out_error, ErrorKind::kInternal, "Internal error: an unknown exception", Value());
  }
}

[[noreturn]] void Misuse(const char* fn, const std::string& what) {
  throw Error(ErrorKind::kMisuse, std::string(fn) + ": " + what,
              Value::Map({{Kw("function"), Value::String(fn)}}));
}

// REQUIRES-style checks of the arguments, done before anything else.
template <class T>
void Require(const char* fn, const T* p, const char* name) {
  if (p == nullptr) Misuse(fn, std::string(name) + " is NULL");
}
// An out pointer: required, and cleared so nothing stale is returned on failure.
template <class T>
void RequireOut(const char* fn, T** p, const char* name) {
  Require(fn, p, name);
  *p = nullptr;
}
// An enum argument's value as an int. A C caller may pass any int, which C++ must not load as the
// enum (a value outside its enumerators is undefined behaviour there): the bytes are copied
// instead.
template <class Enum>
int EnumValue(const Enum& e) {
  static_assert(sizeof(Enum) == sizeof(int), "C enums are int-sized");
  int v;
  std::memcpy(&v, &e, sizeof v);
  return v;
}

// Whether fmt asks for JSON. REQUIRES: fmt is EDN or JSON (misuse otherwise).
bool Json(const char* fn, const datahike_format& fmt) {
  int f = EnumValue(fmt);
  if (f != DATAHIKE_FORMAT_EDN && f != DATAHIKE_FORMAT_JSON) {
    Misuse(fn, "format " + std::to_string(f) +
                   " is neither DATAHIKE_FORMAT_EDN nor DATAHIKE_FORMAT_JSON");
  }
  return f == DATAHIKE_FORMAT_JSON;
}

// ---- text <-> values ----------------------------------------------------------------------------

// Parses an argument; a parse error names the argument.
Value Read(const char* fn, const char* text, bool json, const char* name) {
  Require(fn, text, name);
  try {
    return json ? json::Read(text) : edn::Read(text);
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::kParse) throw;
    throw Error(ErrorKind::kParse, std::string(fn) + ": " + name + ": " + e.message(), e.data());
  }
}
Value ReadEdn(const char* fn, const char* text, const char* name) {
  return Read(fn, text, false, name);
}
std::string Print(const Value& v, bool json) { return json ? json::ToString(v) : edn::ToString(v); }

// tx-data, or Datahike's argument map {:tx-data [...] :tx-meta {...}}.
std::pair<Value, Value> TxArgs(const Value& v) {
  if (v.is_map() && v.get("tx-data") != nullptr) {
    const Value* meta = v.get("tx-meta");
    return {*v.get("tx-data"), meta ? *meta : Value()};
  }
  return {v, Value()};
}

const Db& DbOf(const char* fn, const datahike_db* db) {
  Require(fn, db, "db");
  if (db->rep == nullptr) Misuse(fn, "db is not a database value");
  return *db->rep;
}

datahike_db* NewDb(DbPtr db) { return new datahike_db{std::move(db)}; }

// ---- connections --------------------------------------------------------------------------------

// One registered callback, of either kind: exactly one of callback and db_callback is set.
struct Listener {
  std::recursive_mutex mu;  // held while the callback runs; recursive so it may unlisten itself
  bool active = true;
  datahike_listener callback = nullptr;
  datahike_db_listener db_callback = nullptr;
  void* user = nullptr;
  bool json = false;
};

struct ConnState {
  std::shared_ptr<api::Connection> conn;
  std::mutex mu;  // guards listeners
  std::map<int64_t, std::shared_ptr<Listener>> listeners;
};

// Stops a listener: once this returns its callback is not running and never runs again.
void Deactivate(Listener& l) {
  std::lock_guard<std::recursive_mutex> lock(l.mu);
  l.active = false;
}

class ConnRegistry {
 public:
  static ConnRegistry& Get() {
    static ConnRegistry* r = new ConnRegistry();  // never destroyed: usable during exit
    return *r;
  }
  datahike_conn* Add(std::shared_ptr<ConnState> s) {
    std::lock_guard<std::mutex> lock(mu_);
    uint64_t token = next_++;
    live_.emplace(token, std::move(s));
    return reinterpret_cast<datahike_conn*>(static_cast<uintptr_t>(token));
  }
  std::shared_ptr<ConnState> Find(const datahike_conn* conn) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = live_.find(reinterpret_cast<uintptr_t>(conn));
    return it == live_.end() ? nullptr : it->second;
  }
  std::shared_ptr<ConnState> Take(const datahike_conn* conn) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = live_.find(reinterpret_cast<uintptr_t>(conn));
    if (it == live_.end()) return nullptr;
    std::shared_ptr<ConnState> s = std::move(it->second);
    live_.erase(it);
    return s;
  }

 private:
  std::mutex mu_;
  // Tokens start high and odd so that they never look like a small or aligned pointer.
  uint64_t next_ = 0x5ad0001;
  std::unordered_map<uint64_t, std::shared_ptr<ConnState>> live_;
};

std::shared_ptr<ConnState> ConnOf(const char* fn, const datahike_conn* conn) {
  Require(fn, conn, "conn");
  std::shared_ptr<ConnState> s = ConnRegistry::Get().Find(conn);
  if (s == nullptr) Misuse(fn, "conn is a released or invalid connection handle");
  return s;
}

// ---- queries ------------------------------------------------------------------------------------

// The query text read as EDN, from a small per-thread cache: reading the text is most of what the
// ABI adds to a query (bench/bench_capi.cc), and programs run the same few queries over and over. A
// thread's own cache needs no lock; values are immutable, so a cached one is never stale. When full
// it starts over. The returned reference is valid until the thread's next ParsedQuery call.
const Value& ParsedQuery(const char* fn, const char* query_edn) {
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  constexpr size_t kMaxEntries = 64;
  thread_local std::unordered_map<std::string, Value, Hash, std::equal_to<>> cache;
  Require(fn, query_edn, "query_edn");
  std::string_view text(query_edn);
  if (auto it = cache.find(text); it != cache.end()) return it->second;
  Value parsed = ReadEdn(fn, query_edn, "query_edn");
  if (cache.size() >= kMaxEntries) cache.clear();
  return cache.emplace(std::string(text), std::move(parsed)).first->second;
}

// The :in bindings of a query form, or nullptr when it has no :in (the implicit [$]). Only looks:
// a malformed query is the engine's to report.
const std::vector<Value>* InBindings(const Value& query, Value* holder) {
  if (query.is_map()) {
    if (const Value* inner = query.get("query")) {
      if (inner->is_string()) {
        *holder = edn::Read(inner->as_string());
        return InBindings(*holder, holder);
      }
      return InBindings(*inner, holder);
    }
    const Value* in = query.get("in");
    return in != nullptr && in->is_sequential() ? &in->items() : nullptr;
  }
  if (!query.is_sequential()) return nullptr;
  const std::vector<Value>& items = query.items();
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].is_keyword() && items[i].as_named()->full == "in") {
      std::vector<Value> in;
      for (size_t j = i + 1; j < items.size() && !items[j].is_keyword(); ++j)
        in.push_back(items[j]);
      *holder = Value::Vector(std::move(in));
      return &holder->items();
    }
  }
  return nullptr;
}

bool IsSource(const Value& binding) {
  return binding.type() == Type::kSymbol && binding.as_named()->full[0] == '$';
}

// The inputs of datahike_q: dbs to the first $-sources of :in, args to the other positions.
std::vector<query::Input> QueryInputs(const char* fn, const Value& query,
                                      const datahike_db* const* dbs, size_t n_dbs,
                                      const Value& args) {
  const std::vector<Value>& rest = args.items();
  std::vector<query::Input> inputs;
  Value holder;
  const std::vector<Value>* in = InBindings(query, &holder);
  static const Value kImplicitIn = Value::Vector({Value::Symbol("$")});
  if (in == nullptr) in = &kImplicitIn.items();
  inputs.reserve(in->size());
  size_t next_db = 0, next_arg = 0;
  for (const Value& b : *in) {
    if (IsSource(b) && next_db < n_dbs) {
      inputs.push_back(query::Input::Database(dbs[next_db++]->rep));
    } else if (next_arg < rest.size()) {
      inputs.push_back(query::Input::Plain(rest[next_arg++]));
    } else {
      break;  // too few inputs: the engine reports the count
    }
  }
  if (next_db < n_dbs) {
    Misuse(fn, std::to_string(n_dbs) + " databases given, but the query's :in binds only " +
                   std::to_string(next_db) + " $-sources to databases");
  }
  // Too many inputs: passed on, so that the engine reports the count.
  while (next_arg < rest.size()) inputs.push_back(query::Input::Plain(rest[next_arg++]));
  return inputs;
}

// ---- datoms -------------------------------------------------------------------------------------

IndexOrder ParseIndex(const char* fn, const char* index_edn) {
  Value v = ReadEdn(fn, index_edn, "index");
  if (v.is_keyword() || v.type() == Type::kSymbol) {
    const std::string& s = v.as_named()->full;
    if (s == "eavt") return IndexOrder::kEavt;
    if (s == "aevt") return IndexOrder::kAevt;
    if (s == "avet") return IndexOrder::kAvet;
  }
  Misuse(fn, "unknown index " + edn::ToString(v) + "; expected :eavt, :aevt or :avet");
}

std::string DatomsText(const std::vector<Datom>& datoms, bool json) {
  std::vector<Value> rows;
  rows.reserve(datoms.size());
  for (const Datom& d : datoms) rows.push_back(DatomToValue(d));
  return Print(Value::Vector(std::move(rows)), json);
}

enum class Seek { kMatch, kForward, kBackward };

datahike_status DatomsCall(const char* fn, Seek seek, const datahike_db* db, const char* index_edn,
                           const char* components, const datahike_format& fmt, char** out_result,
                           char** out_error) {
  return Guard(out_error, [&] {
    RequireOut(fn, out_result, "out_result");
    const Db& d = DbOf(fn, db);
    bool json = Json(fn, fmt);
    IndexOrder order = ParseIndex(fn, index_edn);
    std::vector<Value> cs;
    if (components != nullptr) {
      Value v = Read(fn, components, json, "components");
      if (!v.is_sequential()) Misuse(fn, "components must be a vector, got " + edn::ToString(v));
      cs = v.items();
    }
    std::vector<Datom> datoms = seek == Seek::kMatch     ? d.Datoms(order, cs)
                                : seek == Seek::kForward ? d.SeekDatoms(order, cs)
                                                         : d.RSeekDatoms(order, cs);
    *out_result = CopyOut(DatomsText(datoms, json));
  });
}

// ---- metrics ------------------------------------------------------------------------------------

Value Metrics(const Db& db) {
  const Schema& schema = db.schema();
  auto in_avet = [&schema](uint32_t a) {
    const Attribute* attr = schema.Find(a);
    return attr != nullptr && attr->in_avet();
  };
  std::map<uint32_t, int64_t> per_attr;
  std::map<int64_t, int64_t> per_entity;
  int64_t count = 0, avet = 0;
  db.Search(IndexOrder::kEavt, Pattern{}, [&](const Datom& d) {
    ++count;
    ++per_attr[d.a];
    ++per_entity[d.e];
    if (in_avet(d.a)) ++avet;
    return true;
  });
  auto attr_map = [](const std::map<uint32_t, int64_t>& m) {
    std::vector<std::pair<Value, Value>> entries;
    for (const auto& [a, n] : m)
      entries.emplace_back(Value::Keyword(KeywordById(a)), Value::Long(n));
    return Value::Map(std::move(entries));
  };
  std::vector<std::pair<Value, Value>> entity_entries;
  entity_entries.reserve(per_entity.size());
  for (const auto& [e, n] : per_entity) entity_entries.emplace_back(Value::Long(e), Value::Long(n));
  std::vector<std::pair<Value, Value>> m = {
      {Kw("count"), Value::Long(count)},
      {Kw("avet-count"), Value::Long(avet)},
      {Kw("per-attr-counts"), attr_map(per_attr)},
      {Kw("per-entity-counts"), Value::Map(std::move(entity_entries))},
  };
  if (db.keep_history()) {
    int64_t temporal_avet = 0;
    const auto& temporal = db.temporal().eavt.tree();
    temporal.ForEach([&](const Datom& d) {
      if (in_avet(d.a)) ++temporal_avet;
    });
    m.emplace_back(Kw("temporal-count"), Value::Long(static_cast<int64_t>(temporal.size())));
    m.emplace_back(Kw("temporal-avet-count"), Value::Long(temporal_avet));
  }
  m.emplace_back(Kw("max-eid"), Value::Long(db.max_eid()));
  m.emplace_back(Kw("max-tx"), Value::Long(db.max_tx()));
  m.emplace_back(Kw("transactions"), Value::Long(db.max_tx() - kTx0));
  return Value::Map(std::move(m));
}

// ---- transactions and listeners -----------------------------------------------------------------

// datahike_transact and datahike_transact_dbs: each out pointer may be NULL (not wanted).
datahike_status TransactCall(const char* fn, datahike_conn* conn, const char* tx_data,
                             const datahike_format& fmt, char** out_report,
                             datahike_db** out_db_before, datahike_db** out_db_after,
                             char** out_error) {
  return Guard(out_error, [&] {
    if (out_report != nullptr) *out_report = nullptr;
    if (out_db_before != nullptr) *out_db_before = nullptr;
    if (out_db_after != nullptr) *out_db_after = nullptr;
    std::shared_ptr<ConnState> s = ConnOf(fn, conn);
    bool json = Json(fn, fmt);
    auto [tx, meta] = TxArgs(Read(fn, tx_data, json, "tx_data"));
    TxReport report = s->conn->Transact(tx, meta);
    // Everything that can fail (allocations) comes before the first out parameter is set.
    std::unique_ptr<datahike_db> before(out_db_before ? NewDb(report.db_before) : nullptr);
    std::unique_ptr<datahike_db> after(out_db_after ? NewDb(report.db_after) : nullptr);
    if (out_report != nullptr) *out_report = CopyOut(Print(ReportToValue(report), json));
    if (out_db_before != nullptr) *out_db_before = before.release();
    if (out_db_after != nullptr) *out_db_after = after.release();
  });
}

// datahike_listen and datahike_listen_dbs: registers callback or db_callback (one of them is
// given; NULL is misuse).
datahike_status ListenCall(const char* fn, datahike_conn* conn, datahike_listener callback,
                           datahike_db_listener db_callback, void* user,
                           const datahike_format& fmt, int64_t* out_key, char** out_error) {
  return Guard(out_error, [&] {
    Require(fn, out_key, "out_key");
    *out_key = 0;
    std::shared_ptr<ConnState> s = ConnOf(fn, conn);
    if (callback == nullptr && db_callback == nullptr) Misuse(fn, "callback is NULL");
    auto l = std::make_shared<Listener>();
    l->callback = callback;
    l->db_callback = db_callback;
    l->user = user;
    l->json = Json(fn, fmt);
    // The engine calls this inside the transaction's call, after the new value is published: it
    // must not throw, or the transact call would fail although its transaction happened.
    int64_t key = s->conn->Listen([l](const TxReport& report) noexcept {
      try {
        std::lock_guard<std::recursive_mutex> lock(l->mu);
        if (!l->active) return;
        std::string text = Print(ReportToValue(report), l->json);
        if (l->db_callback != nullptr) {
          // Borrowed handles, alive for the call only.
          const datahike_db before{report.db_before}, after{report.db_after};
          l->db_callback(text.c_str(), &before, &after, l->user);
        } else {
          l->callback(text.c_str(), l->user);
        }
      } catch (...) {
        // Without memory for the report text the callback is skipped.
      }
    });
    try {
      std::lock_guard<std::mutex> lock(s->mu);
      s->listeners.emplace(key, l);
    } catch (...) {
      Deactivate(*l);
      s->conn->Unlisten(key);
      throw;
    }
    *out_key = key;
  });
}

}  // namespace
}  // namespace datahike::capi

using namespace datahike;        // NOLINT: the entry points below are thin wrappers
using namespace datahike::capi;  // NOLINT

extern "C" {

const char* datahike_version(void) { return DATAHIKE_VERSION_STRING; }

const char* datahike_status_name(datahike_status status) {
  switch (EnumValue(status)) {
    case DATAHIKE_OK:
      return "ok";
    case DATAHIKE_ERROR_PARSE:
      return ErrorKindName(ErrorKind::kParse);
    case DATAHIKE_ERROR_SCHEMA:
      return ErrorKindName(ErrorKind::kSchema);
    case DATAHIKE_ERROR_TRANSACTION:
      return ErrorKindName(ErrorKind::kTransaction);
    case DATAHIKE_ERROR_QUERY:
      return ErrorKindName(ErrorKind::kQuery);
    case DATAHIKE_ERROR_NOT_FOUND:
      return ErrorKindName(ErrorKind::kNotFound);
    case DATAHIKE_ERROR_STORAGE:
      return ErrorKindName(ErrorKind::kStorage);
    case DATAHIKE_ERROR_CONFLICT:
      return ErrorKindName(ErrorKind::kConflict);
    case DATAHIKE_ERROR_MISUSE:
      return ErrorKindName(ErrorKind::kMisuse);
    case DATAHIKE_ERROR_INTERNAL:
      return ErrorKindName(ErrorKind::kInternal);
  }
  return "unknown";
}

void datahike_free(void* p) { std::free(p); }

// ---- databases
// ------------------------------------------------------------------------------------

datahike_status datahike_create_database(const char* config_edn, char** out_error) {
  return Guard(out_error, [&] {
    api::CreateDatabase(ReadEdn("datahike_create_database", config_edn, "config_edn"));
  });
}

datahike_status datahike_delete_database(const char* config_edn, char** out_error) {
  return Guard(out_error, [&] {
    api::DeleteDatabase(ReadEdn("datahike_delete_database", config_edn, "config_edn"));
  });
}

datahike_status datahike_database_exists(const char* config_edn, int* out_exists,
                                         char** out_error) {
  static const char* fn = "datahike_database_exists";
  return Guard(out_error, [&] {
    Require(fn, out_exists, "out_exists");
    *out_exists = 0;
    *out_exists = api::DatabaseExists(ReadEdn(fn, config_edn, "config_edn")) ? 1 : 0;
  });
}

// ---- connections
// ----------------------------------------------------------------------------------

datahike_status datahike_connect(const char* config_edn, datahike_conn** out_conn,
                                 char** out_error) {
  static const char* fn = "datahike_connect";
  return Guard(out_error, [&] {
    RequireOut(fn, out_conn, "out_conn");
    auto state = std::make_shared<ConnState>();
    state->conn = api::Connection::Connect(ReadEdn(fn, config_edn, "config_edn"));
    *out_conn = ConnRegistry::Get().Add(std::move(state));
  });
}

void datahike_release(datahike_conn** conn) {
  if (conn == nullptr || *conn == nullptr) return;
  datahike_conn* token = *conn;
  *conn = nullptr;
  try {
    std::shared_ptr<ConnState> s = ConnRegistry::Get().Take(token);
    if (s == nullptr) return;  // released before (through a copy of the handle)
    std::map<int64_t, std::shared_ptr<Listener>> listeners;
    {
      std::lock_guard<std::mutex> lock(s->mu);
      listeners.swap(s->listeners);
    }
    for (auto& [key, l] : listeners) Deactivate(*l);
    s->conn->Release();
  } catch (...) {
    // Release has no status to report; the mutexes are the only things that could throw.
  }
}

datahike_status datahike_transact(datahike_conn* conn, const char* tx_data, datahike_format fmt,
                                  char** out_report, char** out_error) {
  return TransactCall("datahike_transact", conn, tx_data, fmt, out_report, nullptr, nullptr,
                      out_error);
}

datahike_status datahike_transact_dbs(datahike_conn* conn, const char* tx_data,
                                      datahike_format fmt, char** out_report,
                                      datahike_db** out_db_before, datahike_db** out_db_after,
                                      char** out_error) {
  return TransactCall("datahike_transact_dbs", conn, tx_data, fmt, out_report, out_db_before,
                      out_db_after, out_error);
}

datahike_status datahike_conn_db(datahike_conn* conn, datahike_db** out_db, char** out_error) {
  static const char* fn = "datahike_conn_db";
  return Guard(out_error, [&] {
    RequireOut(fn, out_db, "out_db");
    std::shared_ptr<ConnState> s = ConnOf(fn, conn);
    *out_db = NewDb(s->conn->Db());
  });
}

datahike_status datahike_listen(datahike_conn* conn, datahike_listener callback, void* user,
                                datahike_format fmt, int64_t* out_key, char** out_error) {
  return ListenCall("datahike_listen", conn, callback, nullptr, user, fmt, out_key, out_error);
}

datahike_status datahike_listen_dbs(datahike_conn* conn, datahike_db_listener callback, void* user,
                                    datahike_format fmt, int64_t* out_key, char** out_error) {
  return ListenCall("datahike_listen_dbs", conn, nullptr, callback, user, fmt, out_key,
                    out_error);
}

datahike_status datahike_unlisten(datahike_conn* conn, int64_t key, char** out_error) {
  static const char* fn = "datahike_unlisten";
  return Guard(out_error, [&] {
    std::shared_ptr<ConnState> s = ConnOf(fn, conn);
    std::shared_ptr<Listener> l;
    {
      std::lock_guard<std::mutex> lock(s->mu);
      auto it = s->listeners.find(key);
      if (it == s->listeners.end()) {
        throw Error(ErrorKind::kNotFound,
                    std::string(fn) + ": no listener with key " + std::to_string(key) +
                        " on this connection",
                    Value::Map({{Kw("key"), Value::Long(key)}}));
      }
      l = std::move(it->second);
      s->listeners.erase(it);
    }
    Deactivate(*l);
    s->conn->Unlisten(key);
  });
}

// ---- database values
// ------------------------------------------------------------------------------

datahike_status datahike_as_of(const datahike_db* db, const char* t_edn, datahike_db** out_db,
                               char** out_error) {
  static const char* fn = "datahike_as_of";
  return Guard(out_error, [&] {
    RequireOut(fn, out_db, "out_db");
    const Db& d = DbOf(fn, db);
    *out_db = NewDb(d.AsOf(ReadEdn(fn, t_edn, "t_edn")));
  });
}

datahike_status datahike_since(const datahike_db* db, const char* t_edn, datahike_db** out_db,
                               char** out_error) {
  static const char* fn = "datahike_since";
  return Guard(out_error, [&] {
    RequireOut(fn, out_db, "out_db");
    const Db& d = DbOf(fn, db);
    *out_db = NewDb(d.Since(ReadEdn(fn, t_edn, "t_edn")));
  });
}

datahike_status datahike_history(const datahike_db* db, datahike_db** out_db, char** out_error) {
  static const char* fn = "datahike_history";
  return Guard(out_error, [&] {
    RequireOut(fn, out_db, "out_db");
    *out_db = NewDb(DbOf(fn, db).History());
  });
}

datahike_status datahike_db_copy(const datahike_db* db, datahike_db** out_db, char** out_error) {
  static const char* fn = "datahike_db_copy";
  return Guard(out_error, [&] {
    RequireOut(fn, out_db, "out_db");
    DbOf(fn, db);
    *out_db = NewDb(db->rep);
  });
}

void datahike_db_release(datahike_db** db) {
  if (db == nullptr) return;
  delete *db;
  *db = nullptr;
}

datahike_status datahike_empty_db(const char* schema_edn, const char* config_edn,
                                  datahike_db** out_db, char** out_error) {
  static const char* fn = "datahike_empty_db";
  return Guard(out_error, [&] {
    RequireOut(fn, out_db, "out_db");
    Value schema = schema_edn ? ReadEdn(fn, schema_edn, "schema_edn") : Value();
    Value config = config_edn ? ReadEdn(fn, config_edn, "config_edn") : Value();
    *out_db = NewDb(Db::Empty(Config::Storeless(config), schema, true));
  });
}

datahike_status datahike_db_with(const datahike_db* db, const char* tx_data, datahike_format fmt,
                                 datahike_db** out_db, char** out_report, char** out_error) {
  static const char* fn = "datahike_db_with";
  return Guard(out_error, [&] {
    RequireOut(fn, out_db, "out_db");
    if (out_report != nullptr) *out_report = nullptr;
    DbOf(fn, db);
    bool json = Json(fn, fmt);
    auto [tx, meta] = TxArgs(Read(fn, tx_data, json, "tx_data"));
    TxReport report = Transact(db->rep, tx, meta, NowMillis());
    std::unique_ptr<datahike_db> result(NewDb(report.db_after));
    if (out_report != nullptr) *out_report = CopyOut(Print(ReportToValue(report), json));
    *out_db = result.release();
  });
}

// ---- reading
// --------------------------------------------------------------------------------------

datahike_status datahike_q(const char* query_edn, const datahike_db* const* dbs, size_t n_dbs,
                           const char* args, datahike_format fmt, char** out_result,
                           char** out_error) {
  static const char* fn = "datahike_q";
  return Guard(out_error, [&] {
    RequireOut(fn, out_result, "out_result");
    bool json = Json(fn, fmt);
    if (n_dbs > 0) {
      Require(fn, dbs, "dbs");
      for (size_t i = 0; i < n_dbs; ++i) {
        if (dbs[i] == nullptr || dbs[i]->rep == nullptr) {
          Misuse(fn, "dbs[" + std::to_string(i) + "] is NULL");
        }
      }
    }
    const Value& query = ParsedQuery(fn, query_edn);
    Value arg_values = Value::Vector({});
    if (args != nullptr) {
      arg_values = Read(fn, args, json, "args");
      if (!arg_values.is_sequential()) {
        Misuse(fn, "args must be a vector of the :in values, got " + edn::ToString(arg_values));
      }
    }
    std::vector<query::Input> inputs = QueryInputs(fn, query, dbs, n_dbs, arg_values);
    *out_result = CopyOut(query::QText(query, inputs, json));
  });
}

datahike_status datahike_pull(const datahike_db* db, const char* pattern_edn, const char* eid,
                              datahike_format fmt, char** out_result, char** out_error) {
  static const char* fn = "datahike_pull";
  return Guard(out_error, [&] {
    RequireOut(fn, out_result, "out_result");
    const Db& d = DbOf(fn, db);
    bool json = Json(fn, fmt);
    Value pattern = ReadEdn(fn, pattern_edn, "pattern_edn");
    Value e = Read(fn, eid, json, "eid");
    *out_result = CopyOut(Print(Pull(d, pattern, e), json));
  });
}

datahike_status datahike_pull_many(const datahike_db* db, const char* pattern_edn, const char* eids,
                                   datahike_format fmt, char** out_result, char** out_error) {
  static const char* fn = "datahike_pull_many";
  return Guard(out_error, [&] {
    RequireOut(fn, out_result, "out_result");
    const Db& d = DbOf(fn, db);
    bool json = Json(fn, fmt);
    Value pattern = ReadEdn(fn, pattern_edn, "pattern_edn");
    Value es = Read(fn, eids, json, "eids");
    if (!es.is_collection()) Misuse(fn, "eids must be a vector, got " + edn::ToString(es));
    *out_result = CopyOut(Print(PullMany(d, pattern, es), json));
  });
}

datahike_status datahike_entity(const datahike_db* db, const char* eid, datahike_format fmt,
                                char** out_result, char** out_error) {
  static const char* fn = "datahike_entity";
  return Guard(out_error, [&] {
    RequireOut(fn, out_result, "out_result");
    const Db& d = DbOf(fn, db);
    bool json = Json(fn, fmt);
    *out_result = CopyOut(Print(EntityMap(d, Read(fn, eid, json, "eid")), json));
  });
}

datahike_status datahike_datoms(const datahike_db* db, const char* index_edn,
                                const char* components, datahike_format fmt, char** out_result,
                                char** out_error) {
  return DatomsCall("datahike_datoms", Seek::kMatch, db, index_edn, components, fmt, out_result,
                    out_error);
}

datahike_status datahike_seek_datoms(const datahike_db* db, const char* index_edn,
                                     const char* components, datahike_format fmt, char** out_result,
                                     char** out_error) {
  return DatomsCall("datahike_seek_datoms", Seek::kForward, db, index_edn, components, fmt,
                    out_result, out_error);
}

datahike_status datahike_rseek_datoms(const datahike_db* db, const char* index_edn,
                                      const char* components, datahike_format fmt,
                                      char** out_result, char** out_error) {
  return DatomsCall("datahike_rseek_datoms", Seek::kBackward, db, index_edn, components, fmt,
                    out_result, out_error);
}

datahike_status datahike_index_range(const datahike_db* db, const char* attr_edn, const char* start,
                                     const char* end, datahike_format fmt, char** out_result,
                                     char** out_error) {
  static const char* fn = "datahike_index_range";
  return Guard(out_error, [&] {
    RequireOut(fn, out_result, "out_result");
    const Db& d = DbOf(fn, db);
    bool json = Json(fn, fmt);
    Value attr = ReadEdn(fn, attr_edn, "attr_edn");
    Value lo = start ? Read(fn, start, json, "start") : Value();
    Value hi = end ? Read(fn, end, json, "end") : Value();
    *out_result = CopyOut(DatomsText(d.IndexRange(attr, lo, hi), json));
  });
}

datahike_status datahike_schema(const datahike_db* db, datahike_format fmt, char** out_result,
                                char** out_error) {
  static const char* fn = "datahike_schema";
  return Guard(out_error, [&] {
    RequireOut(fn, out_result, "out_result");
    const Db& d = DbOf(fn, db);
    *out_result = CopyOut(Print(d.schema().ToValue(), Json(fn, fmt)));
  });
}

datahike_status datahike_reverse_schema(const datahike_db* db, datahike_format fmt,
                                        char** out_result, char** out_error) {
  static const char* fn = "datahike_reverse_schema";
  return Guard(out_error, [&] {
    RequireOut(fn, out_result, "out_result");
    const Db& d = DbOf(fn, db);
    *out_result = CopyOut(Print(d.schema().ReverseValue(), Json(fn, fmt)));
  });
}

datahike_status datahike_metrics(const datahike_db* db, datahike_format fmt, char** out_result,
                                 char** out_error) {
  static const char* fn = "datahike_metrics";
  return Guard(out_error, [&] {
    RequireOut(fn, out_result, "out_result");
    const Db& d = DbOf(fn, db);
    *out_result = CopyOut(Print(Metrics(d), Json(fn, fmt)));
  });
}

// ---- branches and commits
// -------------------------------------------------------------------------

datahike_status datahike_branches(datahike_conn* conn, datahike_format fmt, char** out_result,
                                  char** out_error) {
  static const char* fn = "datahike_branches";
  return Guard(out_error, [&] {
    RequireOut(fn, out_result, "out_result");
    std::shared_ptr<ConnState> s = ConnOf(fn, conn);
    bool json = Json(fn, fmt);
    *out_result = CopyOut(Print(Value::Set(s->conn->Branches()), json));
  });
}

datahike_status datahike_branch(datahike_conn* conn, const char* from_edn,
                                const char* new_branch_edn, char** out_error) {
  static const char* fn = "datahike_branch";
  return Guard(out_error, [&] {
    std::shared_ptr<ConnState> s = ConnOf(fn, conn);
    Value from = ReadEdn(fn, from_edn, "from_edn");
    Value to = ReadEdn(fn, new_branch_edn, "new_branch_edn");
    s->conn->CreateBranch(from, to);
  });
}

datahike_status datahike_delete_branch(datahike_conn* conn, const char* branch_edn,
                                       char** out_error) {
  static const char* fn = "datahike_delete_branch";
  return Guard(out_error, [&] {
    std::shared_ptr<ConnState> s = ConnOf(fn, conn);
    s->conn->DeleteBranch(ReadEdn(fn, branch_edn, "branch_edn"));
  });
}

datahike_status datahike_force_branch(const datahike_db* db, const char* branch_edn,
                                      const char* parents_edn, char** out_error) {
  static const char* fn = "datahike_force_branch";
  return Guard(out_error, [&] {
    DbOf(fn, db);
    Value branch = ReadEdn(fn, branch_edn, "branch_edn");
    Value parents = ReadEdn(fn, parents_edn, "parents_edn");
    api::ForceBranch(db->rep, branch, parents);
  });
}

datahike_status datahike_merge(datahike_conn* conn, const char* parents_edn, const char* tx_data,
                               datahike_format fmt, char** out_report, char** out_error) {
  static const char* fn = "datahike_merge";
  return Guard(out_error, [&] {
    if (out_report != nullptr) *out_report = nullptr;
    std::shared_ptr<ConnState> s = ConnOf(fn, conn);
    bool json = Json(fn, fmt);
    Value parents = ReadEdn(fn, parents_edn, "parents_edn");
    auto [tx, meta] = TxArgs(Read(fn, tx_data, json, "tx_data"));
    TxReport report = s->conn->Merge(parents, tx, meta);
    if (out_report != nullptr) *out_report = CopyOut(Print(ReportToValue(report), json));
  });
}

datahike_status datahike_commit_id(const datahike_db* db, datahike_format fmt, char** out_result,
                                   char** out_error) {
  static const char* fn = "datahike_commit_id";
  return Guard(out_error, [&] {
    RequireOut(fn, out_result, "out_result");
    const Db& d = DbOf(fn, db);
    *out_result = CopyOut(Print(api::CommitId(d), Json(fn, fmt)));
  });
}

datahike_status datahike_parent_commit_ids(const datahike_db* db, datahike_format fmt,
                                           char** out_result, char** out_error) {
  static const char* fn = "datahike_parent_commit_ids";
  return Guard(out_error, [&] {
    RequireOut(fn, out_result, "out_result");
    const Db& d = DbOf(fn, db);
    *out_result = CopyOut(Print(api::ParentCommitIds(d), Json(fn, fmt)));
  });
}

datahike_status datahike_branch_db(datahike_conn* conn, const char* branch_edn,
                                   datahike_db** out_db, char** out_error) {
  static const char* fn = "datahike_branch_db";
  return Guard(out_error, [&] {
    RequireOut(fn, out_db, "out_db");
    std::shared_ptr<ConnState> s = ConnOf(fn, conn);
    *out_db = NewDb(s->conn->BranchDb(ReadEdn(fn, branch_edn, "branch_edn")));
  });
}

datahike_status datahike_commit_db(datahike_conn* conn, const char* commit_id_edn,
                                   datahike_db** out_db, char** out_error) {
  static const char* fn = "datahike_commit_db";
  return Guard(out_error, [&] {
    RequireOut(fn, out_db, "out_db");
    std::shared_ptr<ConnState> s = ConnOf(fn, conn);
    *out_db = NewDb(s->conn->CommitDb(ReadEdn(fn, commit_id_edn, "commit_id_edn")));
  });
}

datahike_status datahike_branch_history(datahike_conn* conn, const char* branch_edn,
                                        datahike_format fmt, char** out_result, char** out_error) {
  static const char* fn = "datahike_branch_history";
  return Guard(out_error, [&] {
    RequireOut(fn, out_result, "out_result");
    std::shared_ptr<ConnState> s = ConnOf(fn, conn);
    bool json = Json(fn, fmt);
    Value branch = ReadEdn(fn, branch_edn, "branch_edn");
    *out_result = CopyOut(Print(Value::Vector(s->conn->BranchHistory(branch)), json));
  });
}

}  // extern "C"
