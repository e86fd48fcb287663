// The query executor: each clause kind, find specs, inputs, rules (all evaluation strategies),
// planning (written order does not matter), explain, and malformed queries.
#include <gtest/gtest.h>

#include <random>

#include "core/query/engine.h"
#include "tests/core/test_util.h"

namespace datahike::testing {
namespace {

using query::Input;

// People: 1 Ivan 15 (follows 2), 2 Petr 37 (follows 3), 3 Oleg 22, 4 Ivan 40.
DbPtr People() {
  static DbPtr db = With(
      EmptyDb("{:follows {:db/valueType :db.type/ref :db/cardinality :db.cardinality/many}"
              " :name {:db/index true}}"),
      "[{:db/id 1 :name \"Ivan\" :age 15 :follows [2]}"
      " {:db/id 2 :name \"Petr\" :age 37 :follows [3]}"
      " {:db/id 3 :name \"Oleg\" :age 22}"
      " {:db/id 4 :name \"Ivan\" :age 40 :sex :male}]");
  return db;
}

Value Q(const std::string& q, std::vector<Input> extra = {}, DbPtr db = People()) {
  std::vector<Input> in{Input::Database(db)};
  in.insert(in.end(), extra.begin(), extra.end());
  return query::Q(E(q), in);
}
Value Q0(const std::string& q, std::vector<Input> in) { return query::Q(E(q), in); }
Input P(const std::string& edn) { return Input::Plain(E(edn)); }

std::string QErr(const std::string& q, std::vector<Input> extra = {}) {
  try {
    Q(q, extra);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kQuery) << e.message();
    return e.message();
  }
  return "";
}

TEST(Query, PatternsWithConstantsAndBlanks) {
  EXPECT_EQ(S(Q("[:find ?e :where [?e :name \"Ivan\"]]")), "#{[1] [4]}");
  EXPECT_EQ(S(Q("[:find ?n :where [_ :name ?n]]")), "#{[\"Ivan\"] [\"Oleg\"] [\"Petr\"]}");
  EXPECT_EQ(S(Q("[:find ?a :where [1 ?a _]]")), "#{[:age] [:follows] [:name]}");
  EXPECT_EQ(S(Q("[:find ?e :where [?e :follows 3]]")), "#{[2]}");
  EXPECT_EQ(S(Q("[:find ?e :where [?e :nothing]]")), "#{}");
}

TEST(Query, JoinsAndWrittenOrderDoNotMatter) {
  Value a = Q("[:find ?e ?a :where [?e :name \"Ivan\"] [?e :age ?a]]");
  Value b = Q("[:find ?e ?a :where [?e :age ?a] [?e :name \"Ivan\"]]");
  EXPECT_EQ(S(a), "#{[1 15] [4 40]}");
  EXPECT_EQ(a, b);
  // Value join through a ref.
  EXPECT_EQ(S(Q("[:find ?n2 :where [?e :name \"Ivan\"] [?e :follows ?f] [?f :name ?n2]]")),
            "#{[\"Petr\"]}");
  // Cross product of unrelated patterns.
  EXPECT_EQ(Q("[:find ?a ?b :where [?a :sex :male] [?b :follows 3]]").size(), 1u);
}

TEST(Query, RepeatedVariableInOnePattern) {
  DbPtr db = With(EmptyDb("{:ref {:db/valueType :db.type/ref}}"), "[{:db/id 1 :ref 1} {:db/id 2 :ref 1}]");
  EXPECT_EQ(S(Q("[:find ?e :where [?e :ref ?e]]", {}, db)), "#{[1]}");
}

TEST(Query, FindSpecs) {
  EXPECT_EQ(S(Q("[:find ?a . :where [1 :age ?a]]")), "15");
  EXPECT_TRUE(Q("[:find ?a . :where [99 :age ?a]]").is_nil());
  Value coll = Q("[:find [?a ...] :where [_ :age ?a]]");
  EXPECT_EQ(coll.type(), Type::kVector);
  EXPECT_EQ(coll.size(), 4u);
  EXPECT_EQ(S(Q("[:find [?n ?a] :where [1 :name ?n] [1 :age ?a]]")), "[\"Ivan\" 15]");
  EXPECT_EQ(S(Q("[:find ?n ?a :keys name age :where [3 :name ?n] [3 :age ?a]]")),
            "#{{:name \"Oleg\", :age 22}}");
  EXPECT_EQ(S(Q("[:find ?n :strs name :where [3 :name ?n]]")), "#{{\"name\" \"Oleg\"}}");
}

TEST(Query, Inputs) {
  EXPECT_EQ(S(Q("[:find ?e :in $ ?n :where [?e :name ?n]]", {P("\"Oleg\"")})), "#{[3]}");
  EXPECT_EQ(S(Q("[:find ?e :in $ [?n ...] :where [?e :name ?n]]", {P("[\"Oleg\" \"Petr\"]")})),
            "#{[2] [3]}");
  EXPECT_EQ(S(Q("[:find ?e :in $ [?n ?a] :where [?e :name ?n] [?e :age ?a]]", {P("[\"Ivan\" 40]")})),
            "#{[4]}");
  EXPECT_EQ(S(Q("[:find ?e ?x :in $ [[?n ?x]] :where [?e :name ?n]]",
                {P("[[\"Oleg\" 1] [\"Petr\" 2]]")})),
            "#{[2 2] [3 1]}");
  // A collection as a source, and no database at all.
  EXPECT_EQ(S(Q0("[:find ?b :in $ ?a :where [?a ?b]]", {P("[[1 :x] [2 :y]]"), P("2")})), "#{[:y]}");
  EXPECT_EQ(S(Q0("[:find ?x :in [?x ...]]", {P("[1 2 2]")})), "#{[1] [2]}");
  // Two databases.
  DbPtr other = With(EmptyDb(), "[{:db/id 1 :color :red}]");
  EXPECT_EQ(S(Q("[:find ?n ?c :in $ $2 :where [?e :name ?n] [$2 ?e :color ?c]]",
                {Input::Database(other)})),
            "#{[\"Ivan\" :red]}");
  // Lookup refs bound from inputs keep their value.
  DbPtr uniq = With(EmptyDb("{:name {:db/unique :db.unique/identity}}"),
                    "[{:db/id 1 :name \"Ivan\" :age 3}]");
  EXPECT_EQ(S(Q("[:find ?e ?a :in $ ?e :where [?e :age ?a]]", {P("[:name \"Ivan\"]")}, uniq)),
            "#{[[:name \"Ivan\"] 3]}");
}

TEST(Query, PredicatesAndFunctions) {
  EXPECT_EQ(S(Q("[:find ?e :where [?e :age ?a] [(> ?a 30)]]")), "#{[2] [4]}");
  // A predicate that refuses its argument types is false for the row, as in Datahike.
  EXPECT_EQ(S(Q("[:find ?e :where [?e :name ?n] [(> ?n 5)]]")), "#{}");
  EXPECT_EQ(S(Q("[:find ?e :in $ ?min :where [?e :age ?a] [(< ?min ?a)]]", {P("36")})),
            "#{[2] [4]}");
  EXPECT_EQ(S(Q("[:find ?e ?b :where [?e :age ?a] [(+ ?a 1) ?b] [(< ?b 17)]]")), "#{[1 16]}");
  EXPECT_EQ(S(Q("[:find ?x ?y :where [(ground [1 2]) [?x ?y]]]")), "#{[1 2]}");
  EXPECT_EQ(S(Q("[:find ?x :where [(ground [1 2]) [?x ...]]]")), "#{[1] [2]}");
  EXPECT_EQ(S(Q("[:find ?x ?y :where [(ground [[1 2] [3 4]]) [[?x ?y]]]]")), "#{[1 2] [3 4]}");
  EXPECT_EQ(S(Q("[:find ?e ?s :where [?e :name] [(get-else $ ?e :sex :none) ?s]]")),
            "#{[1 :none] [2 :none] [3 :none] [4 :male]}");
  EXPECT_EQ(S(Q("[:find ?e :where [?e :name] [(missing? $ ?e :follows)]]")), "#{[3] [4]}");
  EXPECT_EQ(S(Q("[:find ?e ?a ?v :where [?e :name \"Oleg\"] [(get-some $ ?e :sex :age) [?a ?v]]]")),
            "#{[3 :age 22]}");
  // Nested q.
  EXPECT_EQ(S(Q("[:find ?m :where [(q [:find (max ?a) . :where [_ :age ?a]] $) ?m]]")), "#{[40]}");
}

TEST(Query, NotAndNotJoin) {
  EXPECT_EQ(S(Q("[:find ?e :where [?e :name] (not [?e :name \"Ivan\"])]")), "#{[2] [3]}");
  EXPECT_EQ(S(Q("[:find ?e :where [?e :name] (not-join [?e] [?e :follows ?x] [?x :name \"Oleg\"])]")),
            "#{[1] [3] [4]}");
  EXPECT_NE(QErr("[:find ?e :where [?e :name] (not-join [?x] [?x :age 1])]"), "");
}

TEST(Query, OrOrJoinAnd) {
  EXPECT_EQ(S(Q("[:find ?e :where (or [?e :name \"Oleg\"] [?e :age 37])]")), "#{[2] [3]}");
  EXPECT_EQ(S(Q("[:find ?e :where [?e :name] (or (and [?e :name \"Ivan\"] [?e :age 40]) [?e :age 22])]")),
            "#{[3] [4]}");
  EXPECT_EQ(S(Q("[:find ?e :where [?e :age ?a] (or-join [?e] [?e :sex :male] [?e :follows 3])]")),
            "#{[2] [4]}");
  EXPECT_NE(QErr("[:find ?e :where (or [?e :name \"Oleg\"] [?x :age 37])]"), "");
}

TEST(Query, Aggregates) {
  EXPECT_EQ(S(Q("[:find (count ?e) . :where [?e :name]]")), "4");
  EXPECT_EQ(S(Q("[:find ?n (count ?e) :where [?e :name ?n]]")),
            "[[\"Ivan\" 2] [\"Petr\" 1] [\"Oleg\" 1]]");
  EXPECT_EQ(S(Q("[:find (sum ?a) . :with ?e :where [?e :age ?a]]")), "114");
  EXPECT_EQ(S(Q("[:find [(min ?a) (max ?a)] :where [_ :age ?a]]")), "[15 40]");
}

// A chain 1 -> 2 -> ... -> n over :next, plus a branch 1 -> 100.
DbPtr Chain(int n) {
  std::string tx = "[";
  for (int i = 1; i < n; ++i) tx += "{:db/id " + std::to_string(i) + " :next " + std::to_string(i + 1) + "}";
  tx += "{:db/id 1 :next 100}]";
  return With(EmptyDb("{:next {:db/valueType :db.type/ref :db/cardinality :db.cardinality/many}}"), tx);
}

const char* kReach =
    "[[(reach ?a ?b) [?a :next ?b]] [(reach ?a ?b) [?a :next ?t] (reach ?t ?b)]]";

TEST(QueryRules, NonRecursiveWithSeveralBodies) {
  EXPECT_EQ(S(Q("[:find ?e :in $ % :where (young-or-oleg ?e)]",
                {P("[[(young-or-oleg ?e) [?e :age ?a] [(< ?a 20)]] [(young-or-oleg ?e) [?e :name \"Oleg\"]]]")})),
            "#{[1] [3]}");
}

TEST(QueryRules, UnboundRecursionBuildsTheClosure) {
  Value r = Q("[:find ?a ?b :in $ % :where (reach ?a ?b)]", {P(kReach)}, Chain(5));
  // Pairs in the chain 1..5 (10) plus 1 -> 100.
  EXPECT_EQ(r.size(), 11u);
}

// The general strategies, on rules written so that they are not a plain transitive closure (the
// extra [?a :next _] changes nothing but the shape).
const char* kReachGeneral =
    "[[(reach ?a ?b) [?a :next ?b] [?a :next _]] [(reach ?a ?b) [?a :next ?t] (reach ?t ?b)]]";

TEST(QueryRules, BoundFirstArgumentSearchesFromTheSeedOnly) {
  DbPtr db = Chain(50);
  std::vector<Input> in{Input::Database(db), P(kReachGeneral), P("48")};
  Value q = E("[:find ?b :in $ % ?a :where (reach ?a ?b)]");
  EXPECT_EQ(S(query::Q(q, in)), "#{[49] [50]}");
  std::string plan = query::Explain(q, in);
  EXPECT_NE(plan.find("right-linear"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("(seeded)") == std::string::npos && plan.find("right-linear") == std::string::npos, false);
}

TEST(QueryRules, BoundArgumentPassedThroughRunsSeeded) {
  // Left-linear: the bound first argument is passed through unchanged.
  const char* rules =
      "[[(r ?a ?b) [?a :next ?b] [?a :next _]] [(r ?a ?b) (r ?a ?t) [?t :next ?b]]]";
  std::vector<Input> in{Input::Database(Chain(20)), P(rules), P("18")};
  Value q = E("[:find ?b :in $ % ?a :where (r ?a ?b)]");
  EXPECT_EQ(S(query::Q(q, in)), "#{[19] [20]}");
  EXPECT_NE(query::Explain(q, in).find("(seeded)"), std::string::npos);
}

TEST(QueryRules, MutualRecursionAndNonLinear) {
  const char* rules =
      "[[(even ?a ?b) [?a :next ?b]] [(even ?a ?b) (odd ?a ?t) [?t :next ?b]]"
      " [(odd ?a ?b) (even ?a ?t) [?t :next ?b]]]";
  Value r = Q("[:find ?b :in $ % :where (even 1 ?b)]", {P(rules)}, Chain(6));
  EXPECT_EQ(S(r), "#{[2] [4] [6] [100]}");
  const char* nonlinear = "[[(p ?a ?b) [?a :next ?b]] [(p ?a ?b) (p ?a ?t) (p ?t ?b)]]";
  EXPECT_EQ(Q("[:find ?a ?b :in $ % :where (p ?a ?b)]", {P(nonlinear)}, Chain(6)).size(), 16u);
}

// A transitive-closure rule runs as a graph search (Explain says so); its answers equal the general
// bottom-up evaluation of the same rule written so that the shape is not recognised, on random
// graphs with cycles and self-loops, with nothing, the start, the end or both bound, and written
// right- or left-linear.
TEST(QueryRules, TransitiveClosureAgreesWithGeneralEvaluation) {
  const char* right = "[[(r ?a ?b) [?a :next ?b]] [(r ?a ?b) [?a :next ?t] (r ?t ?b)]]";
  const char* left = "[[(r ?a ?b) [?a :next ?b]] [(r ?a ?b) (r ?a ?t) [?t :next ?b]]]";
  const char* general =
      "[[(r ?a ?b) [?a :next ?b]] [(r ?a ?b) [?a :next ?t] [(identity ?t) ?u] (r ?u ?b)]]";
  std::mt19937 rng(11);
  for (int round = 0; round < 12; ++round) {
    std::string tx = "[";
    int nodes = 3 + static_cast<int>(rng() % 25), edges = static_cast<int>(rng() % 40);
    const uint64_t stride = round % 2 == 0 ? 1 : 100003;  // compact ids, or sparse ones
    auto node = [&] { return std::to_string(1 + (rng() % nodes) * stride); };
    for (int k = 0; k < edges; ++k) tx += "[:db/add " + node() + " :next " + node() + "]";
    tx += "[:db/add 1 :name \"one\"]]";
    DbPtr db = With(EmptyDb("{:next {:db/valueType :db.type/ref :db/cardinality :db.cardinality/many}}"),
                    tx);
    std::string a = node(), b = node();
    const std::vector<std::pair<std::string, std::vector<Input>>> queries = {
        {"[:find ?x ?y :in $ % :where (r ?x ?y)]", {}},
        {"[:find ?y :in $ % ?s :where (r ?s ?y)]", {P(a)}},
        {"[:find ?x :in $ % ?s :where (r ?x ?s)]", {P(b)}},
        {"[:find ?x ?y :in $ % [?x ...] :where (r ?x ?y)]", {P("[" + a + " " + b + " 999]")}},
        {"[:find ?x ?y :in $ % [[?x ?y]] :where (r ?x ?y)]", {P("[[" + a + " " + b + "] [1 1]]")}},
        {"[:find ?y :where [?s :name \"one\"] (r ?s ?y) :in $ %]", {}},
        {"[:find ?x :in $ % :where (r ?x ?x)]", {}},
    };
    for (const auto& [q, extra] : queries) {
      auto run = [&](const char* rules) {
        std::vector<Input> in{Input::Database(db), P(rules)};
        in.insert(in.end(), extra.begin(), extra.end());
        return S(query::Q(E(q), in));
      };
      std::string want = run(general);
      EXPECT_EQ(run(right), want) << q << " on " << tx;
      EXPECT_EQ(run(left), want) << q << " on " << tx;
    }
  }
  for (const char* rules : {right, left}) {
    std::vector<Input> in{Input::Database(Chain(6)), P(rules)};
    EXPECT_NE(query::Explain(E("[:find ?x ?y :in $ % :where (r ?x ?y)]"), in).find("transitive closure"),
              std::string::npos);
  }
  EXPECT_EQ(query::Explain(E("[:find ?x ?y :in $ % :where (r ?x ?y)]"),
                           {Input::Database(Chain(6)), P(general)})
                .find("transitive closure"),
            std::string::npos);
}

TEST(QueryRules, RequiredBindingsAndArity) {
  const char* rules = "[[(older [?x] ?y) [?x :age ?ax] [?y :age ?ay] [(> ?ax ?ay)]]]";
  EXPECT_EQ(S(Q("[:find ?y :in $ % :where [?x :name \"Oleg\"] (older ?x ?y)]", {P(rules)})), "#{[1]}");
  EXPECT_NE(QErr("[:find ?y :in $ % :where (older ?x ?y)]", {P(rules)}), "");
  EXPECT_NE(QErr("[:find ?y :in $ % :where [?x :age] (older ?x)]", {P(rules)}), "");
  EXPECT_NE(QErr("[:find ?y :where [?x :age] (nope ?x ?y)]"), "");
}

TEST(Query, ExplainShowsThePlanInExecutionOrder) {
  std::string plan = query::Explain(E("[:find ?e ?a :where [?e :age ?a] [?e :name \"Oleg\"]]"),
                                    {Input::Database(People())});
  size_t name = plan.find(":name");
  size_t age = plan.find(":age");
  ASSERT_NE(name, std::string::npos);
  EXPECT_LT(name, age) << plan;  // the selective pattern runs first
}

TEST(Query, ComparisonOnAnIndexedAttributeUsesARangeScan) {
  DbPtr db = With(EmptyDb("{:n {:db/index true}}"), "[{:db/id 1 :n 5} {:db/id 2 :n 10} {:db/id 3 :n 15}]");
  std::vector<Input> in{Input::Database(db)};
  Value q = E("[:find ?e :where [?e :n ?v] [(> ?v 5)] [(<= ?v 15)]]");
  EXPECT_EQ(S(query::Q(q, in)), "#{[2] [3]}");
  EXPECT_NE(query::Explain(q, in).find("avet range"), std::string::npos);
}

// AVET holds every attribute, so value lookups and ranges use it for unindexed attributes too, in
// every view; the public :avet calls still show only indexed attributes.
TEST(Query, ValueLookupsAndRangesOnUnindexedAttributesInEveryView) {
  DbPtr db1 = With(EmptyDb("{}", "{:keep-history? true}"), "[{:db/id 1 :n 5 :s \"x\"} {:db/id 2 :n 10 :s \"y\"} "
                                  "{:db/id 3 :n 15 :s \"x\"} {:db/id 4 :n \"str\" :s 7}]");
  DbPtr db2 = With(db1, "[[:db/retract 2 :n 10] [:db/add 5 :n 12] [:db/retract 3 :s \"x\"]]");
  Value range = E("[:find ?e :where [?e :n ?v] [(> ?v 5)] [(<= ?v 15)]]");
  Value eq = E("[:find ?e :where [?e :s \"x\"]]");
  auto run = [](const Value& q, const DbPtr& db) { return S(query::Q(q, {Input::Database(db)})); };
  EXPECT_EQ(run(range, db1), "#{[2] [3]}");
  EXPECT_EQ(run(range, db2), "#{[3] [5]}");
  EXPECT_EQ(run(eq, db1), "#{[1] [3]}");
  EXPECT_EQ(run(eq, db2), "#{[1]}");
  EXPECT_NE(query::Explain(range, {Input::Database(db2)}).find("avet range"), std::string::npos);
  DbPtr as_of = db2->AsOf(Value::Long(db1->max_tx()));
  EXPECT_EQ(run(range, as_of), "#{[2] [3]}");
  EXPECT_EQ(run(eq, as_of), "#{[1] [3]}");
  EXPECT_EQ(run(E("[:find ?e :where [?e :n ?v] [(> ?v 11)]]"), db2->Since(Value::Long(db1->max_tx()))),
            "#{[5]}");
  EXPECT_EQ(run(E("[:find ?e ?added :where [?e :n 10 _ ?added]]"), db2->History()),
            "#{[2 false] [2 true]}");
  // Nothing of :n or :s is visible through the public AVET calls.
  EXPECT_TRUE(db2->Datoms(IndexOrder::kAvet, {Kw("n")}).empty());
  EXPECT_TRUE(db2->IndexRange(Kw("n"), Value(), Value()).empty());
  for (const Datom& d : db2->SeekDatoms(IndexOrder::kAvet, {})) {
    EXPECT_NE(KeywordById(d.a)->full, "n");
    EXPECT_NE(KeywordById(d.a)->full, "s");
  }
  for (const Datom& d : db2->RSeekDatoms(IndexOrder::kAvet, {Kw("s")})) {
    EXPECT_NE(KeywordById(d.a)->full, "n");
  }
}

TEST(Query, MalformedQueriesAndInputs) {
  EXPECT_NE(QErr("[:find ?x :where [?e :name]]"), "");                   // unbound find var
  EXPECT_NE(QErr("[:find ?e :where [?e :age ?a] [(no-such-fn ?a)]]"), "");  // unknown function
  EXPECT_NE(QErr("[:find ?e :in $ ?x :where [?e :age ?x]]"), "");        // missing input
  EXPECT_NE(QErr("[:find ?e :where [(> ?a 1)] [?e :name]]"), "");        // predicate never bound
  EXPECT_NE(QErr("[:find ?e :in $ [?a ?b] :where [?e :age ?a]]", {P("5")}), "");  // not a tuple
  EXPECT_NE(QErr("[:find ?e :where [?e :age ?a] [(+ ?a \"x\") ?b]]"), "");  // wrong type
  // A vector in value position must be a lookup ref [attr value].
  EXPECT_NE(QErr("[:find ?e :where [?e :name [\"Ivan\"]]]").find("Bad format for value in pattern"),
            std::string::npos);
  // A lookup ref naming nothing, in entity position.
  DbPtr uniq = With(EmptyDb("{:name {:db/unique :db.unique/identity}}"), "[{:db/id 1 :name \"Ivan\"}]");
  try {
    Q("[:find ?a :where [[:name \"Nobody\"] :age ?a]]", {}, uniq);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("Nothing found for entity id"), std::string::npos);
  }
}

TEST(Query, TimeoutStopsALongQuery) {
  DbPtr db = Chain(300);
  const char* nonlinear = "[[(p ?a ?b) [?a :next ?b]] [(p ?a ?b) (p ?a ?t) (p ?t ?b)]]";
  try {
    Q("{:find [?a ?b] :in [$ %] :where [(p ?a ?b)] :timeout 1}", {P(nonlinear)}, db);
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("too long"), std::string::npos);
    return;
  }
  // Finishing within 1 ms is possible on a fast machine; then the result must be whole.
  SUCCEED();
}

}  // namespace
}  // namespace datahike::testing

namespace datahike::testing {
namespace {

// The text a query prints (what the C ABI returns) reads back as the value Q returns, for every
// find kind, longs of every size and sign, and other values mixed in.
TEST(Query, PrintedResultsReadBackAsTheValues) {
  DbPtr db = With(EmptyDb(), "[{:db/id 1 :n 0 :s \"a \\\"quoted\\\" string\"} {:db/id 2 :n -1}"
                             " {:db/id 3 :n 9223372036854775807} {:db/id 4 :n -9223372036854775808}"
                             " {:db/id 5 :n 1000000} {:db/id 6 :n 99} {:db/id 7 :n 100} {:db/id 8 :n 10}"
                             " {:db/id 9 :n 1.5} {:db/id 10 :n :kw} {:db/id 11 :n 123456789012}"
                             " {:db/id 12 :s \"plain text\"} {:db/id 13 :s \"tab\\there\"}]");
  std::vector<Input> in{Input::Database(db)};
  for (const char* q : {"[:find ?e ?n :where [?e :n ?n]]", "[:find ?n :where [_ :n ?n]]",
                        "[:find [?n ...] :where [_ :n ?n]]", "[:find ?n . :where [4 :n ?n]]",
                        "[:find [?e ?n] :where [3 :n ?n] [?e :n ?n]]",
                        "[:find ?e ?s :where [?e :s ?s]]", "[:find ?e ?n :keys e n :where [?e :n ?n]]",
                        "[:find (count ?e) :where [?e :n]]", "[:find ?n ?e :where [?e :n ?n]]"}) {
    Value want = query::Q(E(q), in);
    EXPECT_EQ(edn::ToString(E(query::QText(E(q), in, false))), edn::ToString(want)) << q;
  }
  EXPECT_EQ(query::QText(E("[:find ?n :where [4 :n ?n]]"), in, true), "[[-9223372036854775808]]");
  EXPECT_EQ(query::QText(E("[:find ?e ?s :where [?e :s ?s] [(= ?e 12)]]"), in, true),
            "[[12,\"plain text\"]]");
  EXPECT_EQ(query::QText(E("[:find ?s :where [13 :s ?s]]"), in, true), "[[\"tab\\there\"]]");
  EXPECT_EQ(query::QText(E("[:find ?e ?n :where [?e :n ?n] [(< ?n 100)] [(> ?n 10)]]"), in, false),
            "#{[6 99]}");
}

}  // namespace
}  // namespace datahike::testing
