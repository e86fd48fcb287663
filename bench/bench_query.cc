// Query benchmarks on the DataScript bench data (../shared/bench/README.md): DataScript's q1-q5,
// q2-switch, qpred1/2, pull-wide-4x5, rules-wide-5x3 and rules-long-30x5, plus reach-20k (the
// people reachable from one bound person over the 20k follows graph, which DataScript cannot
// run). Each run includes printing the result as EDN text, as a caller of the C ABI receives it.
// Prints "name ms/op" lines like the DataScript peer, and the result sizes on a comment line.
//
// Usage: bench_query DATA_DIR [names...]
//        BENCH_ITERATIONS=N bench_query ...   runs each query N times untimed (for profilers)

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "core/db/db.h"
#include "core/pull/pull.h"
#include "core/query/engine.h"
#include "core/tx/transact.h"
#include "core/value/edn.h"
#include "core/value/error.h"

using namespace datahike;  // a benchmark driver: brevity over qualification
using datahike::bench::Bench;

namespace {

DbPtr EmptyDb() {
  static const Value schema = edn::Read(
      "{:follows {:db/valueType :db.type/ref :db/cardinality :db.cardinality/many}}");
  return Db::Empty(Config::Storeless(Value()), schema, true);
}

DbPtr With(const DbPtr& db, const Value& tx) { return Transact(db, tx, Value(), 0).db_after; }

// DataScript's wideDb: a tree of `depth` levels, each node following `width` children.
void WideDb(int64_t id, int depth, int width, std::vector<Value>* out) {
  if (depth > 0) {
    std::vector<Value> children;
    for (int i = 0; i < width; ++i) children.push_back(Value::Long(id * width + i));
    out->push_back(Value::Map({{Kw("db/id"), Value::Long(id)},
                               {Kw("name"), Value::String("Ivan")},
                               {Kw("follows"), Value::Vector(children)}}));
    for (const Value& c : children) WideDb(c.as_long(), depth - 1, width, out);
  } else {
    out->push_back(Value::Map({{Kw("db/id"), Value::Long(id)}, {Kw("name"), Value::String("Ivan")}}));
  }
}

// DataScript's longDb: `width` chains of `depth` follows each.
std::vector<Value> LongDb(int depth, int width) {
  std::vector<Value> out;
  for (int x = 0; x < width; ++x) {
    for (int y = 0; y < depth; ++y) {
      int64_t from = x * (depth + 1) + y, to = from + 1;
      out.push_back(Value::Map({{Kw("db/id"), Value::Long(from + 1)},
                                {Kw("name"), Value::String("Ivan")},
                                {Kw("follows"), Value::Long(to + 1)}}));
      out.push_back(Value::Map({{Kw("db/id"), Value::Long(to + 1)}, {Kw("name"), Value::String("Ivan")}}));
    }
  }
  return out;
}

const char* kRules =
    "[[(follows ?x ?y) [?x :follows ?y]] [(follows ?x ?y) [?x :follows ?t] (follows ?t ?y)]]";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_query DATA_DIR [names...]\n");
    return 2;
  }
  try {
    std::string dir = argv[1];
    DbPtr db100k = With(EmptyDb(), edn::Read(bench::ReadFile(dir + "/people20k.edn")));
    DbPtr follows = With(EmptyDb(), edn::Read(bench::ReadFile(dir + "/follows20k.edn")));
    Value rules = edn::Read(kRules);
    std::vector<Value> wide;
    WideDb(1, 5, 3, &wide);
    DbPtr wide53 = With(EmptyDb(), Value::Vector(wide));
    wide.clear();
    WideDb(1, 4, 5, &wide);
    DbPtr wide45 = With(EmptyDb(), Value::Vector(wide));
    DbPtr long305 = With(EmptyDb(), Value::Vector(LongDb(30, 5)));
    int64_t start = query::Q(edn::Read("[:find ?e . :where [?e :name \"p1\"]]"),
                             {query::Input::Database(follows)}).as_long();

    using Inputs = std::vector<query::Input>;
    struct Case {
      std::string query;
      DbPtr db;
      Inputs extra;
    };
    std::map<std::string, Case> cases = {
        {"q1", {"[:find ?e :where [?e :name \"Ivan\"]]", db100k, {}}},
        {"q2", {"[:find ?e ?a :where [?e :name \"Ivan\"] [?e :age ?a]]", db100k, {}}},
        {"q2-switch", {"[:find ?e ?a :where [?e :age ?a] [?e :name \"Ivan\"]]", db100k, {}}},
        {"q3", {"[:find ?e ?a :where [?e :name \"Ivan\"] [?e :age ?a] [?e :sex :male]]", db100k, {}}},
        {"q4",
         {"[:find ?e ?l ?a :where [?e :name \"Ivan\"] [?e :last-name ?l] [?e :age ?a] [?e :sex :male]]",
          db100k, {}}},
        {"q5",
         {"[:find ?e1 ?l ?a :where [?e :name \"Ivan\"] [?e :age ?a] [?e1 :age ?a] [?e1 :last-name ?l]]",
          db100k, {}}},
        {"qpred1", {"[:find ?e ?s :where [?e :salary ?s] [(> ?s 50000)]]", db100k, {}}},
        {"qpred2",
         {"[:find ?e ?s :in $ ?min_s :where [?e :salary ?s] [(> ?s ?min_s)]]", db100k,
          {query::Input::Plain(Value::Long(50000))}}},
        {"rules-wide-5x3",
         {"[:find ?e ?e2 :in $ % :where (follows ?e ?e2)]", wide53, {query::Input::Plain(rules)}}},
        {"rules-long-30x5",
         {"[:find ?e ?e2 :in $ % :where (follows ?e ?e2)]", long305, {query::Input::Plain(rules)}}},
        {"reach-20k",
         {"[:find ?e2 :in $ % ?start :where (follows ?start ?e2)]", follows,
          {query::Input::Plain(rules), query::Input::Plain(Value::Long(start))}}},
    };
    std::vector<std::string> names;
    for (int i = 2; i < argc; ++i) names.push_back(argv[i]);
    if (names.empty()) {
      names = {"q1", "q2", "q2-switch", "q3", "q4", "q5", "qpred1", "qpred2", "pull-wide-4x5",
               "rules-wide-5x3", "rules-long-30x5", "reach-20k"};
    }
    std::string sizes;
    for (const std::string& name : names) {
      double ms;
      size_t count = 0;
      if (name == "pull-wide-4x5") {
        Value pattern = edn::Read("[:name {:follows ...}]");
        Value one = Value::Long(1);
        auto run = [&] { return edn::ToString(Pull(*wide45, pattern, one)); };
        count = run().size();
        ms = Bench([&] { run(); }, 500, 200, 5);
      } else {
        auto it = cases.find(name);
        if (it == cases.end()) {
          std::fprintf(stderr, "unknown benchmark %s\n", name.c_str());
          return 2;
        }
        const Case& c = it->second;
        Value q = edn::Read(c.query);
        Inputs inputs{query::Input::Database(c.db)};
        inputs.insert(inputs.end(), c.extra.begin(), c.extra.end());
        count = query::Q(q, inputs).size();
        if (const char* it = std::getenv("BENCH_ITERATIONS")) {
          for (int i = std::atoi(it); i > 0; --i) query::QText(q, inputs, false);
          ms = 0;
        } else {
          ms = Bench([&] { query::QText(q, inputs, false); }, 500, 200, 5);
        }
      }
      sizes += " " + name + "=" + std::to_string(count);
      std::printf("%-16s %9.3f ms/op\n", name.c_str(), ms);
      std::fflush(stdout);
    }
    std::printf("# result sizes:%s\n", sizes.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_query: %s\n", e.what());
    return 1;
  }
  return 0;
}
