// Runs the shared conformance cases through the C ABI only (libdatahike, datahike.h): every
// database is built with datahike_empty_db / datahike_db_with or datahike_create_database /
// connect / transact, every read is a datahike_* call with EDN text, and every result is read back
// from its text with edn::Read for comparison. The driver (tests/conformance/driver.h) is the one
// conformance_runner uses, so both report the same counts.
//
// Usage: conformance_capi --dir DIR [--expected-failures FILE] [--verbose] [--only ID]

#include <string>
#include <vector>

#include "core/value/edn.h"
#include "core/value/error.h"
#include "datahike/datahike.h"
#include "tests/conformance/driver.h"

using namespace datahike;  // a test driver: brevity over qualification

namespace {

ErrorKind KindOf(datahike_status st) {
  switch (st) {
    case DATAHIKE_ERROR_PARSE:
      return ErrorKind::kParse;
    case DATAHIKE_ERROR_SCHEMA:
      return ErrorKind::kSchema;
    case DATAHIKE_ERROR_TRANSACTION:
      return ErrorKind::kTransaction;
    case DATAHIKE_ERROR_QUERY:
      return ErrorKind::kQuery;
    case DATAHIKE_ERROR_NOT_FOUND:
      return ErrorKind::kNotFound;
    case DATAHIKE_ERROR_STORAGE:
      return ErrorKind::kStorage;
    case DATAHIKE_ERROR_CONFLICT:
      return ErrorKind::kConflict;
    case DATAHIKE_ERROR_MISUSE:
      return ErrorKind::kMisuse;
    default:
      return ErrorKind::kInternal;
  }
}

// Turns a failed call back into the datahike::Error it reports: kind from the status, message and
// data from the error map.
// Takes the error's address, not its value: C++ may evaluate the arguments of Check(call, err)
// before the call sets err.
void Check(datahike_status st, char** err) {
  if (st == DATAHIKE_OK) return;
  std::string text = *err ? *err : "";
  datahike_free(*err);
  *err = nullptr;
  Value map = edn::Read(text);
  const Value* message = map.get("message");
  const Value* data = map.get("data");
  throw Error(KindOf(st), message ? std::string(message->as_string()) : text,
              data ? *data : Value());
}

// Takes a returned string, reads it as EDN and frees it.
Value Take(char* text) {
  std::string s = text;
  datahike_free(text);
  return edn::Read(s);
}

std::string Edn(const Value& v) { return edn::ToString(v); }

using DbHandle = std::shared_ptr<const datahike_db>;

DbHandle Own(datahike_db* db) {
  return DbHandle(db, [](const datahike_db* p) {
    datahike_db* q = const_cast<datahike_db*>(p);
    datahike_db_release(&q);
  });
}

class CapiBackend : public conformance::Backend {
 public:
  DbRef BuildStoreless(const Value& schema, const Value& db_config, const Value& txs) override {
    char* err = nullptr;
    datahike_db* db = nullptr;
    std::string schema_text = Edn(schema), config_text = Edn(db_config);
    Check(datahike_empty_db(schema.is_nil() ? nullptr : schema_text.c_str(),
                            db_config.is_nil() ? nullptr : config_text.c_str(), &db, &err),
          &err);
    DbHandle h = Own(db);
    if (txs.is_collection()) {
      for (const Value& t : txs.items()) h = WithDb(h, t, nullptr);
    }
    return h;
  }

  DbRef BuildStored(const Value& config, const Value& txs) override {
    std::string cfg = Edn(config);
    char* err = nullptr;
    Check(datahike_create_database(cfg.c_str(), &err), &err);
    datahike_conn* conn = nullptr;
    Check(datahike_connect(cfg.c_str(), &conn, &err), &err);
    datahike_db* db = nullptr;
    datahike_status st = DATAHIKE_OK;
    if (txs.is_collection()) {
      for (const Value& t : txs.items()) {
        st = datahike_transact(conn, Edn(t).c_str(), DATAHIKE_FORMAT_EDN, nullptr, &err);
        if (st != DATAHIKE_OK) break;
      }
    }
    if (st == DATAHIKE_OK) st = datahike_conn_db(conn, &db, &err);
    datahike_release(&conn);
    char* del_err = nullptr;
    datahike_status del = datahike_delete_database(cfg.c_str(), &del_err);
    if (st != DATAHIKE_OK) datahike_free(del_err);
    Check(st, &err);
    Check(del, &del_err);
    return Own(db);
  }

  DbRef View(const DbRef& db, const std::string& kind, const Value& t) override {
    char* err = nullptr;
    datahike_db* out = nullptr;
    std::string t_text = Edn(t);
    if (kind == "as-of") {
      Check(datahike_as_of(Db(db), t_text.c_str(), &out, &err), &err);
    } else if (kind == "since") {
      Check(datahike_since(Db(db), t_text.c_str(), &out, &err), &err);
    } else {
      Check(datahike_history(Db(db), &out, &err), &err);
    }
    return Own(out);
  }

  TxResult With(const DbRef& db, const Value& tx_data) override {
    Value report;
    DbHandle after = WithDb(std::static_pointer_cast<const datahike_db>(db), tx_data, &report);
    return {after, report};
  }

  Value Query(const std::vector<DbRef>& dbs, const Value& query, const Value& inputs) override {
    std::vector<const datahike_db*> in;
    for (const DbRef& d : dbs) in.push_back(Db(d));
    std::string args = Edn(inputs.is_collection() ? inputs : Value::Vector({}));
    char *out = nullptr, *err = nullptr;
    Check(datahike_q(Edn(query).c_str(), in.data(), in.size(), args.c_str(), DATAHIKE_FORMAT_EDN,
                     &out, &err),
          &err);
    return Take(out);
  }

  Value Datoms(const DbRef& db, const std::string& op, const Value& index,
               const Value& components) override {
    std::string index_text = Edn(index);
    std::string comps = Edn(components);
    const char* c = components.is_nil() ? nullptr : comps.c_str();
    char *out = nullptr, *err = nullptr;
    datahike_status st =
        op == "datoms" ? datahike_datoms(Db(db), index_text.c_str(), c, kEdn, &out, &err)
        : op == "seek-datoms"
            ? datahike_seek_datoms(Db(db), index_text.c_str(), c, kEdn, &out, &err)
            : datahike_rseek_datoms(Db(db), index_text.c_str(), c, kEdn, &out, &err);
    Check(st, &err);
    return Take(out);
  }

  Value IndexRange(const DbRef& db, const Value& attr, const Value& start,
                   const Value& end) override {
    std::string a = Edn(attr), s = Edn(start), e = Edn(end);
    char *out = nullptr, *err = nullptr;
    Check(datahike_index_range(Db(db), a.c_str(), start.is_nil() ? nullptr : s.c_str(),
                               end.is_nil() ? nullptr : e.c_str(), kEdn, &out, &err),
          &err);
    return Take(out);
  }

  Value Entity(const DbRef& db, const Value& eid) override {
    char *out = nullptr, *err = nullptr;
    Check(datahike_entity(Db(db), Edn(eid).c_str(), kEdn, &out, &err), &err);
    return Take(out);
  }

  Value Pull(const DbRef& db, const Value& pattern, const Value& eid) override {
    char *out = nullptr, *err = nullptr;
    Check(datahike_pull(Db(db), Edn(pattern).c_str(), Edn(eid).c_str(), kEdn, &out, &err), &err);
    return Take(out);
  }

  Value PullMany(const DbRef& db, const Value& pattern, const Value& eids) override {
    char *out = nullptr, *err = nullptr;
    Check(datahike_pull_many(Db(db), Edn(pattern).c_str(), Edn(eids).c_str(), kEdn, &out, &err),
          &err);
    return Take(out);
  }

 private:
  static constexpr datahike_format kEdn = DATAHIKE_FORMAT_EDN;

  static const datahike_db* Db(const DbRef& db) {
    return static_cast<const datahike_db*>(db.get());
  }

  // db_with; the report read back into *report when wanted.
  static DbHandle WithDb(const DbHandle& db, const Value& tx_data, Value* report) {
    char *out = nullptr, *err = nullptr;
    datahike_db* after = nullptr;
    Check(datahike_db_with(db.get(), Edn(tx_data).c_str(), kEdn, &after, report ? &out : nullptr,
                           &err),
          &err);
    DbHandle h = Own(after);
    if (report) *report = Take(out);
    return h;
  }
};

}  // namespace

int main(int argc, char** argv) {
  CapiBackend backend;
  return conformance::RunMain("conformance_capi", argc, argv, backend);
}
