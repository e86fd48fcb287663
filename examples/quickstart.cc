// The seed example of Datahike's README on an embedded database, through the engine's C++ API:
// a strict schema, four entities, a query, an update, and the history view that still knows the old
// value.

#include <cstdio>
#include <set>
#include <string>

#include "core/api/connection.h"
#include "core/query/engine.h"
#include "core/value/edn.h"
#include "core/value/error.h"

using datahike::Value;
namespace edn = datahike::edn;

int main() {
  try {
    Value cfg = edn::Read(
        "{:store {:backend :memory :id \"quickstart\"} :keep-history? true "
        ":schema-flexibility :write}");
    datahike::api::CreateDatabase(cfg);
    auto conn = datahike::api::Connection::Connect(cfg);

    conn->Transact(edn::Read(
        "[{:db/ident :name :db/valueType :db.type/string :db/cardinality :db.cardinality/one}"
        " {:db/ident :age :db/valueType :db.type/long :db/cardinality :db.cardinality/one}]"));
    auto report = conn->Transact(edn::Read(
        "[{:name \"Alice\" :age 20} {:name \"Bob\" :age 30} {:name \"Charlie\" :age 40}"
        " {:age 15}]"));
    std::printf("transacted %zu datoms in tx %lld\n", report.tx_data.size(),
                static_cast<long long>(report.db_after->max_tx()));

    Value query = edn::Read("[:find ?e ?n ?a :where [?e :name ?n] [?e :age ?a]]");
    auto people = [&](const datahike::DbPtr& db) {
      // Sets print sorted, so the output is stable.
      return edn::ToString(datahike::query::Q(query, {datahike::query::Input::Database(db)}));
    };
    std::printf("people: %s\n", people(conn->Db()).c_str());

    conn->Transact(edn::Read("[{:db/id 3 :age 25}]"));
    std::printf("after the update: %s\n", people(conn->Db()).c_str());

    Value history_query = edn::Read(
        "[:find ?a ?tx ?added :where [3 :age ?a ?tx ?added]]");
    std::string hist = edn::ToString(datahike::query::Q(
        history_query, {datahike::query::Input::Database(conn->Db()->History())}));
    std::printf("history of Alice's age [v tx added]: %s\n", hist.c_str());
    conn->Release();
    datahike::api::DeleteDatabase(cfg);
  } catch (const datahike::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
