// Runs the shared conformance cases (../shared/conformance/*.edn) against the C++ engine directly.
// The driver (tests/conformance/driver.h) reads the cases, compares and counts; this file is the
// backend that calls the engine. runner_capi.cc runs the same cases through the C ABI only.
//
// Usage: conformance_runner --dir DIR [--expected-failures FILE] [--verbose] [--only ID]

#include <string>
#include <vector>

#include "core/api/connection.h"
#include "core/db/db.h"
#include "core/pull/entity.h"
#include "core/pull/pull.h"
#include "core/query/engine.h"
#include "core/query/parser.h"
#include "core/tx/transact.h"
#include "core/value/edn.h"
#include "core/value/error.h"
#include "tests/conformance/driver.h"

using namespace datahike;  // a test driver: brevity over qualification

namespace {

IndexOrder ParseIndex(const Value& v) {
  std::string s = v.is_keyword() ? v.as_named()->full : "";
  if (s == "eavt") return IndexOrder::kEavt;
  if (s == "aevt") return IndexOrder::kAevt;
  if (s == "avet") return IndexOrder::kAvet;
  throw Error(ErrorKind::kMisuse, "unknown index " + edn::ToString(v));
}

Value DatomsToValue(const std::vector<Datom>& ds) {
  std::vector<Value> out;
  out.reserve(ds.size());
  for (const Datom& d : ds) out.push_back(DatomToValue(d));
  return Value::Vector(std::move(out));
}

class EngineBackend : public conformance::Backend {
 public:
  DbRef BuildStoreless(const Value& schema, const Value& db_config, const Value& txs) override {
    DbPtr db = Db::Empty(Config::Storeless(db_config), schema, true);
    if (txs.is_collection()) {
      for (const Value& t : txs.items()) db = Transact(db, t, Value(), NowMillis()).db_after;
    }
    return db;
  }

  DbRef BuildStored(const Value& config, const Value& txs) override {
    api::CreateDatabase(config);
    auto conn = api::Connection::Connect(config);
    if (txs.is_collection()) {
      for (const Value& t : txs.items()) conn->Transact(t);
    }
    DbPtr db = conn->Db();
    conn->Release();
    api::DeleteDatabase(config);
    return db;
  }

  DbRef View(const DbRef& db, const std::string& kind, const Value& t) override {
    if (kind == "as-of") return Of(db).AsOf(t);
    if (kind == "since") return Of(db).Since(t);
    return Of(db).History();
  }

  TxResult With(const DbRef& db, const Value& tx_data) override {
    TxReport r = Transact(Ptr(db), tx_data, Value(), NowMillis());
    return {r.db_after, ReportToValue(r)};
  }

  // The query's $ sources take the dbs in order (while there are any), every other :in position
  // the next of inputs.
  Value Query(const std::vector<DbRef>& dbs, const Value& form, const Value& inputs) override {
    query::Query parsed = query::ParseQuery(form);
    std::vector<Value> rest = inputs.is_collection() ? inputs.items() : std::vector<Value>{};
    size_t next_db = 0, next_input = 0;
    std::vector<query::Input> in;
    for (const query::Binding& b : parsed.in) {
      if (b.kind == query::Binding::Kind::kSource && next_db < dbs.size()) {
        in.push_back(query::Input::Database(Ptr(dbs[next_db++])));
      } else if (next_input < rest.size()) {
        in.push_back(query::Input::Plain(rest[next_input++]));
      } else {
        throw Error(ErrorKind::kQuery, "case gives too few :inputs for the query's :in");
      }
    }
    return query::Q(form, in);
  }

  Value Datoms(const DbRef& db, const std::string& op, const Value& index,
               const Value& components) override {
    IndexOrder order = ParseIndex(index);
    std::vector<Value> cs = components.is_collection() ? components.items() : std::vector<Value>{};
    if (op == "datoms") return DatomsToValue(Of(db).Datoms(order, cs));
    if (op == "seek-datoms") return DatomsToValue(Of(db).SeekDatoms(order, cs));
    return DatomsToValue(Of(db).RSeekDatoms(order, cs));
  }

  Value IndexRange(const DbRef& db, const Value& attr, const Value& start,
                   const Value& end) override {
    return DatomsToValue(Of(db).IndexRange(attr, start, end));
  }

  Value Entity(const DbRef& db, const Value& eid) override { return EntityMap(Of(db), eid); }
  Value Pull(const DbRef& db, const Value& pattern, const Value& eid) override {
    return datahike::Pull(Of(db), pattern, eid);
  }
  Value PullMany(const DbRef& db, const Value& pattern, const Value& eids) override {
    return datahike::PullMany(Of(db), pattern, eids);
  }

 private:
  static DbPtr Ptr(const DbRef& db) { return std::static_pointer_cast<const Db>(db); }
  static const Db& Of(const DbRef& db) { return *static_cast<const Db*>(db.get()); }
};

}  // namespace

int main(int argc, char** argv) {
  EngineBackend backend;
  return conformance::RunMain("conformance_runner", argc, argv, backend);
}
