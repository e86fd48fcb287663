// Write benchmarks on the DataScript bench data (../shared/bench/README.md): add-all (one
// transaction of 20k 5-attribute people), add-5 (one entity per transaction), add-1 (one datom per
// transaction), all on storage-free db values as DataScript's db_with does. Prints "name ms/op"
// lines (median of 5 samples after a warm-up), like the DataScript peer.
//
// Usage: bench_tx DATA_DIR [names...]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "core/db/db.h"
#include "core/tx/transact.h"
#include "core/value/edn.h"
#include "core/value/error.h"

using datahike::Config;
using datahike::Db;
using datahike::DbPtr;
using datahike::Kw;
using datahike::Value;

using datahike::bench::Bench;
using datahike::bench::NowMs;
using datahike::bench::ReadFile;

namespace {

DbPtr EmptyDb() {
  static const Value schema = datahike::edn::Read(
      "{:follows {:db/valueType :db.type/ref :db/cardinality :db.cardinality/many}}");
  return Db::Empty(Config::Storeless(Value()), schema, true);
}

DbPtr With(const DbPtr& db, const Value& tx) {
  return datahike::Transact(db, tx, Value(), 0).db_after;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_tx DATA_DIR [names...]\n");
    return 2;
  }
  try {
    std::string dir = argv[1];
    double t0 = NowMs();
    Value people = datahike::edn::Read(ReadFile(dir + "/people20k.edn"));
    double parse_ms = NowMs() - t0;
    // One entity map per add-5 transaction.
    std::vector<Value> tx5;
    for (const Value& p : people.items()) tx5.push_back(Value::Vector({p}));
    // add-1: the same data as single datoms with explicit ids (DataScript uses ids 1..20000).
    const char* attrs[] = {"name", "last-name", "sex", "age", "salary"};
    std::vector<Value> tx1;
    for (const Value& p : people.items()) {
      std::string_view tid = p.get("db/id")->as_string();  // "p123"
      Value e = Value::Long(std::stoll(std::string(tid.substr(1))));
      for (const char* a : attrs) {
        tx1.push_back(Value::Vector({Value::Vector({Kw("db/add"), e, Kw(a), *p.get(a)})}));
      }
    }
    // Sanity: the loaded db has 100,000 datoms.
    DbPtr full = With(EmptyDb(), people);
    size_t n = full->current().eavt.size();
    std::printf("# datahike-cpp; datoms=%zu people parse=%.1f ms\n", n, parse_ms);

    std::map<std::string, std::function<double()>> benches = {
        {"add-all", [&] { return Bench([&] { With(EmptyDb(), people); }, 500, 1, 5); }},
        {"add-5",
         [&] {
           return Bench(
               [&] {
                 DbPtr db = EmptyDb();
                 for (const Value& t : tx5) db = With(db, t);
               },
               500, 1, 5);
         }},
        {"add-1",
         [&] {
           return Bench(
               [&] {
                 DbPtr db = EmptyDb();
                 for (const Value& t : tx1) db = With(db, t);
               },
               500, 1, 5);
         }},
    };
    std::vector<std::string> names;
    for (int i = 2; i < argc; ++i) names.push_back(argv[i]);
    if (names.empty()) names = {"add-1", "add-5", "add-all"};
    for (const std::string& name : names) {
      auto it = benches.find(name);
      if (it == benches.end()) {
        std::fprintf(stderr, "unknown benchmark %s\n", name.c_str());
        return 2;
      }
      double ms = it->second();
      std::printf("%-16s %9.3f ms/op\n", name.c_str(), ms);
      std::fflush(stdout);
    }
  } catch (const datahike::Error& e) {
    std::fprintf(stderr, "bench_tx: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_tx: %s\n", e.what());
    return 1;
  }
  return 0;
}
