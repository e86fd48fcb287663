// The cost of the C ABI on a query: one datahike_q call (EDN text in, EDN text out, freed with
// datahike_free) against the same query run inside C++ with query::QText on a Value parsed once.
// The difference is what the ABI adds: reading the query and argument text, binding the inputs,
// catching exceptions and copying the result out. Both sides hold the same data (the C++ side in
// the engine linked statically, the ABI side in libdatahike.so).
//
// Usage: bench_capi   Prints one line per query: C++ us/op, C++ with the query parsed per call,
//                     the ABI us/op, and the ABI's overhead over each.

#include <cstdio>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "core/db/db.h"
#include "core/query/engine.h"
#include "core/tx/transact.h"
#include "core/value/edn.h"
#include "datahike/datahike.h"

using namespace datahike;  // a benchmark driver: brevity over qualification
using datahike::bench::Bench;

namespace {

// 1000 people: name "p<i>", age i % 100, as tx-data text.
std::string People() {
  std::string tx = "[";
  for (int i = 0; i < 1000; ++i) {
    tx += "{:name \"p" + std::to_string(i) + "\" :age " + std::to_string(i % 100) + "}";
  }
  return tx + "]";
}

struct Case {
  const char* name;
  const char* query;
  const char* args;  // EDN vector for the :in positions after $, or nullptr
};

void Die(const char* what, char* err) {
  std::fprintf(stderr, "bench_capi: %s: %s\n", what, err ? err : "");
  datahike_free(err);
  std::exit(1);
}

}  // namespace

int main() {
  const char* schema = "{:name {:db/unique :db.unique/identity} :age {:db/index true}}";
  std::string people = People();

  // The C++ side.
  DbPtr db = Db::Empty(Config::Storeless(Value()), edn::Read(schema), true);
  db = Transact(db, edn::Read(people), Value(), NowMillis()).db_after;

  // The ABI side.
  char* err = nullptr;
  datahike_db* empty = nullptr;
  datahike_db* cdb = nullptr;
  if (datahike_empty_db(schema, nullptr, &empty, &err) != DATAHIKE_OK) Die("empty_db", err);
  if (datahike_db_with(empty, people.c_str(), DATAHIKE_FORMAT_EDN, &cdb, nullptr, &err) !=
      DATAHIKE_OK) {
    Die("db_with", err);
  }
  datahike_db_release(&empty);

  const std::vector<Case> cases = {
      {"scalar-by-unique", "[:find ?a . :in $ ?n :where [?e :name ?n] [?e :age ?a]]", "[\"p42\"]"},
      {"tuples-by-index", "[:find ?e ?n :in $ ?a :where [?e :age ?a] [?e :name ?n]]", "[7]"},
      {"count-range", "[:find (count ?e) . :where [?e :age ?a] [(< ?a 3)]]", nullptr},
  };
  std::printf("%-18s %10s %14s %10s %14s %14s\n", "query", "C++ us/op", "C+++parse us/op",
              "ABI us/op", "ABI-C++ us", "ABI-C++parse us");
  for (const Case& c : cases) {
    Value query = edn::Read(c.query);
    Value args = c.args != nullptr ? edn::Read(c.args) : Value::Vector({});
    std::vector<query::Input> inputs = {query::Input::Database(db)};
    for (const Value& v : args.items()) inputs.push_back(query::Input::Plain(v));
    std::string expected = query::QText(query, inputs, false);
    size_t sink = 0;
    double cpp = Bench([&] { sink += query::QText(query, inputs, false).size(); }, 200, 200, 7);
    double cpp_parse = Bench(
        [&] {
          std::vector<query::Input> in = {query::Input::Database(db)};
          if (c.args != nullptr) {
            Value parsed = edn::Read(c.args);
            for (const Value& v : parsed.items()) in.push_back(query::Input::Plain(v));
          }
          sink += query::QText(edn::Read(c.query), in, false).size();
        },
        200, 200, 7);
    const datahike_db* dbs[] = {cdb};
    char* out = nullptr;
    if (datahike_q(c.query, dbs, 1, c.args, DATAHIKE_FORMAT_EDN, &out, &err) != DATAHIKE_OK) {
      Die(c.name, err);
    }
    if (expected != out) {
      std::fprintf(stderr, "bench_capi: %s: the ABI says %s, C++ %s\n", c.name, out,
                   expected.c_str());
      return 1;
    }
    datahike_free(out);
    double abi = Bench(
        [&] {
          char* o = nullptr;
          char* e = nullptr;
          if (datahike_q(c.query, dbs, 1, c.args, DATAHIKE_FORMAT_EDN, &o, &e) != DATAHIKE_OK) {
            Die(c.name, e);
          }
          sink += std::char_traits<char>::length(o);
          datahike_free(o);
        },
        200, 200, 7);
    std::printf("%-18s %10.2f %14.2f %10.2f %14.2f %14.2f   result %s\n", c.name, cpp * 1000,
                cpp_parse * 1000, abi * 1000, (abi - cpp) * 1000, (abi - cpp_parse) * 1000,
                expected.c_str());
    if (sink == 0) std::printf("\n");
  }
  datahike_db_release(&cdb);
  return 0;
}
