// The seed example of Datahike's README on an embedded database, through the engine's C++ API:
// a strict schema, four entities, a query, an update, and the history view that still knows the old
// value; then the database is closed and opened again from disk.
//
// Usage: quickstart [DIR]   (the LevelDB database's directory, default ./datahike-quickstart-db;
//                            a database already there is deleted first)

#include <cstdio>
#include <set>
#include <string>

#include "core/api/connection.h"
#include "core/query/engine.h"
#include "core/value/edn.h"
#include "core/value/error.h"

using datahike::Value;
namespace edn = datahike::edn;

int main(int argc, char** argv) {
  try {
    const std::string dir = argc > 1 ? argv[1] : "datahike-quickstart-db";
    Value cfg = edn::Read("{:store {:backend :leveldb :path " + edn::ToString(Value::String(dir)) +
                          "} :keep-history? true :schema-flexibility :write}");
    if (datahike::api::DatabaseExists(cfg)) datahike::api::DeleteDatabase(cfg);
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

    // Everything is on disk: a new connection reads it back.
    auto again = datahike::api::Connection::Connect(cfg);
    std::printf("after reopening %s: %s\n", dir.c_str(), people(again->Db()).c_str());
    again->Release();
  } catch (const datahike::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
