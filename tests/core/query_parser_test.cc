#include <gtest/gtest.h>

#include <string>

#include "core/query/parser.h"
#include "core/value/edn.h"
#include "core/value/error.h"

namespace datahike::query {
namespace {

Query Parse(const std::string& text) { return ParseQuery(edn::Read(text)); }

Sym S(const char* name) { return InternSymbol(name); }

// Parses, prints, and checks that parsing the printed form prints the same again.
std::string RoundTrip(const std::string& text) {
  std::string printed = ToString(Parse(text));
  EXPECT_EQ(ToString(Parse(printed)), printed) << text;
  return printed;
}

// Expects a kQuery error whose message contains `fragment`.
void ExpectError(const std::string& text, const std::string& fragment) {
  try {
    Parse(text);
    ADD_FAILURE() << "no error for " << text;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kQuery) << e.message();
    EXPECT_NE(e.message().find(fragment), std::string::npos) << e.message();
  }
}

void ExpectRulesError(const std::string& text, const std::string& fragment) {
  try {
    ParseRules(edn::Read(text));
    ADD_FAILURE() << "no error for " << text;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kQuery) << e.message();
    EXPECT_NE(e.message().find(fragment), std::string::npos) << e.message();
  }
}

TEST(QueryParser, VectorFormRelation) {
  Query q = Parse("[:find ?e ?n :where [?e :name ?n]]");
  EXPECT_EQ(q.find_kind, FindKind::kRelation);
  ASSERT_EQ(q.find.size(), 2u);
  EXPECT_EQ(q.find[0].kind, FindElement::Kind::kVariable);
  EXPECT_EQ(q.find[0].var, S("?e"));
  EXPECT_EQ(q.find[1].var, S("?n"));
  ASSERT_EQ(q.in.size(), 1u);
  EXPECT_EQ(q.in[0].kind, Binding::Kind::kSource);
  EXPECT_EQ(q.in[0].sym, S("$"));
  ASSERT_EQ(q.where.size(), 1u);
  const Clause& c = q.where[0];
  EXPECT_EQ(c.kind, Clause::Kind::kPattern);
  EXPECT_EQ(c.source, nullptr);
  ASSERT_EQ(c.terms.size(), 3u);
  EXPECT_EQ(c.terms[0].kind, Term::Kind::kVariable);
  EXPECT_EQ(c.terms[1].kind, Term::Kind::kConstant);
  EXPECT_EQ(c.terms[1].value, Kw("name"));
  EXPECT_EQ(c.terms[2].sym, S("?n"));
  EXPECT_EQ(RoundTrip("[:find ?e ?n :where [?e :name ?n]]"),
            "{:find [?e ?n], :in [$], :where [[?e :name ?n]]}");
}

TEST(QueryParser, FindSpecs) {
  Query scalar = Parse("[:find ?e . :where [?e :a]]");
  EXPECT_EQ(scalar.find_kind, FindKind::kScalar);
  EXPECT_EQ(scalar.find.size(), 1u);
  Query coll = Parse("[:find [?e ...] :where [?e :a]]");
  EXPECT_EQ(coll.find_kind, FindKind::kCollection);
  EXPECT_EQ(coll.find[0].var, S("?e"));
  Query tuple = Parse("[:find [?e ?v] :where [?e :a ?v]]");
  EXPECT_EQ(tuple.find_kind, FindKind::kTuple);
  EXPECT_EQ(tuple.find.size(), 2u);
  EXPECT_EQ(RoundTrip("[:find ?e . :where [?e :a]]"), "{:find [?e .], :in [$], :where [[?e :a]]}");
  EXPECT_EQ(RoundTrip("[:find [?e ...] :where [?e :a]]"),
            "{:find [[?e ...]], :in [$], :where [[?e :a]]}");
  EXPECT_EQ(RoundTrip("[:find [?e ?v] :where [?e :a ?v]]"),
            "{:find [[?e ?v]], :in [$], :where [[?e :a ?v]]}");
}

TEST(QueryParser, Aggregates) {
  Query q = Parse(
      "[:find ?n (count ?e) (min 3 ?a) (sum ?a) :with ?x :where [?e :n ?n] [?e :a ?a] [?e :x ?x]]");
  ASSERT_EQ(q.find.size(), 4u);
  EXPECT_EQ(q.find[1].kind, FindElement::Kind::kAggregate);
  EXPECT_EQ(q.find[1].fn, S("count"));
  EXPECT_EQ(q.find[1].var, S("?e"));
  EXPECT_TRUE(q.find[1].args.empty());
  EXPECT_EQ(q.find[2].fn, S("min"));
  ASSERT_EQ(q.find[2].args.size(), 1u);
  EXPECT_EQ(q.find[2].args[0], Value::Long(3));
  EXPECT_EQ(q.find[2].var, S("?a"));
  ASSERT_EQ(q.with.size(), 1u);
  EXPECT_EQ(q.with[0], S("?x"));
  // A leading argument may be an input variable.
  Query v = Parse("[:find (sample ?k ?e) :in $ ?k :where [?e :a]]");
  EXPECT_EQ(v.find[0].args[0], Value::Symbol("?k"));
  RoundTrip("[:find ?n (count ?e) (min 3 ?a) :with ?x :where [?e :n ?n] [?e :a ?a] [?e :x ?x]]");
}

TEST(QueryParser, Pull) {
  Query q = Parse("[:find (pull ?e [:name {:friend [*]}]) :where [?e :name]]");
  ASSERT_EQ(q.find.size(), 1u);
  EXPECT_EQ(q.find[0].kind, FindElement::Kind::kPull);
  EXPECT_EQ(q.find[0].var, S("?e"));
  EXPECT_EQ(q.find[0].source, nullptr);
  EXPECT_EQ(edn::ToString(q.find[0].pattern), "[:name {:friend [*]}]");
  Query s = Parse("[:find (pull $db ?e ?p) . :in $db ?p :where [$db ?e :name]]");
  EXPECT_EQ(s.find_kind, FindKind::kScalar);
  EXPECT_EQ(s.find[0].source, S("$db"));
  EXPECT_EQ(s.find[0].pattern, Value::Symbol("?p"));
  RoundTrip("[:find (pull $db ?e ?p) . :in $db ?p :where [$db ?e :name]]");
}

TEST(QueryParser, Keys) {
  Query k = Parse("[:find ?a ?b :keys a b :where [?a :x ?b]]");
  EXPECT_EQ(k.keys_kind, KeysKind::kKeys);
  ASSERT_EQ(k.keys.size(), 2u);
  EXPECT_EQ(k.keys[0], S("a"));
  EXPECT_EQ(Parse("{:find [?a] :strs [a] :where [[?a :x]]}").keys_kind, KeysKind::kStrs);
  EXPECT_EQ(Parse("{:find [?a] :syms [a] :where [[?a :x]]}").keys_kind, KeysKind::kSyms);
  EXPECT_EQ(RoundTrip("[:find ?a ?b :keys a b :where [?a :x ?b]]"),
            "{:find [?a ?b], :keys [a b], :in [$], :where [[?a :x ?b]]}");
}

TEST(QueryParser, InBindings) {
  Query q = Parse(
      "[:find ?a :in $ $hist % ?x [?t1 ?t2] [?c ...] [[?r1 _ ?r2]] _ :where [?a :x ?x] [?a :t ?t1]"
      " [?a :t ?t2] [?a :c ?c] [?a :r ?r1] [?a :r ?r2]]");
  ASSERT_EQ(q.in.size(), 8u);
  EXPECT_EQ(q.in[0].kind, Binding::Kind::kSource);
  EXPECT_EQ(q.in[1].kind, Binding::Kind::kSource);
  EXPECT_EQ(q.in[1].sym, S("$hist"));
  EXPECT_EQ(q.in[2].kind, Binding::Kind::kRules);
  EXPECT_EQ(q.in[3].kind, Binding::Kind::kScalar);
  EXPECT_EQ(q.in[3].sym, S("?x"));
  EXPECT_EQ(q.in[4].kind, Binding::Kind::kTuple);
  ASSERT_EQ(q.in[4].elements.size(), 2u);
  EXPECT_EQ(q.in[4].elements[1].sym, S("?t2"));
  EXPECT_EQ(q.in[5].kind, Binding::Kind::kCollection);
  ASSERT_EQ(q.in[5].elements.size(), 1u);
  EXPECT_EQ(q.in[5].elements[0].sym, S("?c"));
  EXPECT_EQ(q.in[6].kind, Binding::Kind::kRelation);
  ASSERT_EQ(q.in[6].elements.size(), 3u);
  EXPECT_EQ(q.in[6].elements[1].kind, Binding::Kind::kIgnore);
  EXPECT_EQ(q.in[7].kind, Binding::Kind::kIgnore);
  std::string printed =
      RoundTrip("[:find ?a :in $ $hist % ?x [?t1 ?t2] [?c ...] [[?r1 _ ?r2]] _ :where [?a :x ?x]]");
  EXPECT_NE(printed.find(":in [$ $hist % ?x [?t1 ?t2] [?c ...] [[?r1 _ ?r2]] _],"),
            std::string::npos);
  // The input alone binds a find variable.
  EXPECT_EQ(Parse("[:find ?x :in ?x]").where.size(), 0u);
}

TEST(QueryParser, MapFormAndArgMap) {
  Query q = Parse(
      "{:find [?e] :in [$ ?n] :with [?w] :where [[?e :n ?n] [?e :w ?w]] :limit 10 :offset 5 "
      ":timeout 100}");
  EXPECT_EQ(q.find.size(), 1u);
  EXPECT_EQ(q.in.size(), 2u);
  EXPECT_EQ(q.with.size(), 1u);
  EXPECT_EQ(q.where.size(), 2u);
  EXPECT_EQ(q.limit, 10);
  EXPECT_EQ(q.offset, 5);
  EXPECT_EQ(q.timeout, 100);
  Query a = Parse("{:query [:find ?e :where [?e :n]] :args [db] :limit 3 :offset 1}");
  EXPECT_EQ(a.find[0].var, S("?e"));
  EXPECT_EQ(a.limit, 3);
  EXPECT_EQ(a.offset, 1);
  EXPECT_FALSE(a.timeout.has_value());
  Query m = Parse("{:query {:find [?e] :where [[?e :n]] :limit 2} :args []}");
  EXPECT_EQ(m.limit, 2);
  Query s = Parse("{:query \"[:find ?e :where [?e :n]]\" :offset 4}");
  EXPECT_EQ(s.offset, 4);
  EXPECT_EQ(RoundTrip("{:find [?e] :where [[?e :n]] :limit 10 :offset 5}"),
            "{:find [?e], :in [$], :where [[?e :n]], :limit 10, :offset 5}");
}

TEST(QueryParser, DataPatterns) {
  Query q = Parse(
      "[:find ?e :where [$h ?e :a _ ?tx true] [?e :name \"Ivan\"] [[:id 1] :friend ?e]"
      " [?e :friend [:name \"x\"]] [?e 10 4.5] [?e :n nil]]");
  ASSERT_EQ(q.where.size(), 6u);
  const Clause& h = q.where[0];
  EXPECT_EQ(h.source, S("$h"));
  ASSERT_EQ(h.terms.size(), 5u);
  EXPECT_EQ(h.terms[2].kind, Term::Kind::kBlank);
  EXPECT_EQ(h.terms[3].sym, S("?tx"));
  EXPECT_EQ(h.terms[4].value, Value::Bool(true));
  EXPECT_EQ(q.where[1].terms[2].value, Value::String("Ivan"));
  EXPECT_EQ(edn::ToString(q.where[2].terms[0].value), "[:id 1]");
  EXPECT_EQ(edn::ToString(q.where[3].terms[2].value), "[:name \"x\"]");
  EXPECT_EQ(q.where[4].terms[1].value, Value::Long(10));
  EXPECT_TRUE(q.where[5].terms[2].value.is_nil());
  RoundTrip("[:find ?e :where [$h ?e :a _ ?tx true] [[:id 1] :friend ?e] [?e :n nil]]");
}

TEST(QueryParser, PredicatesAndFunctions) {
  Query q = Parse(
      "[:find ?e ?x ?y ?z ?w :where [?e :a ?a] [(> ?a 10)] [(str ?a \"x\") ?x]"
      " [(get-else $ ?e :b 0) ?y] [(vector ?a ?a) [?z ?w]] [(range ?a) [?r ...]]"
      " [(pairs ?a) [[?p _]]] [(f ?a) _]]");
  ASSERT_EQ(q.where.size(), 8u);
  EXPECT_EQ(q.where[1].kind, Clause::Kind::kPredicate);
  EXPECT_EQ(q.where[1].fn, S(">"));
  EXPECT_EQ(q.where[1].terms[1].value, Value::Long(10));
  EXPECT_EQ(q.where[2].kind, Clause::Kind::kFunction);
  EXPECT_EQ(q.where[2].binding.kind, Binding::Kind::kScalar);
  EXPECT_EQ(q.where[3].terms[0].kind, Term::Kind::kSource);
  EXPECT_EQ(q.where[4].binding.kind, Binding::Kind::kTuple);
  EXPECT_EQ(q.where[5].binding.kind, Binding::Kind::kCollection);
  EXPECT_EQ(q.where[6].binding.kind, Binding::Kind::kRelation);
  EXPECT_EQ(q.where[7].binding.kind, Binding::Kind::kIgnore);
  std::vector<Sym> vars = ClauseVars(q.where[6]);
  ASSERT_EQ(vars.size(), 2u);
  EXPECT_EQ(vars[0], S("?a"));
  EXPECT_EQ(vars[1], S("?p"));
  RoundTrip(
      "[:find ?e ?z :where [?e :a ?a] [(> ?a 10)] [(get-else $ ?e :b 0) ?y] [(vector ?a ?a) [?z "
      "?w]]"
      " [(range ?a) [?r ...]] [(pairs ?a) [[?p _]]]]");
}

TEST(QueryParser, NotAndNotJoin) {
  Query q = Parse(
      "[:find ?e :where [?e :a ?v] (not [?e :b 1] [?e :c ?v]) (not-join [?e] [?e :d ?x] [?x :y 2])"
      " ($h not [?e :z])]");
  ASSERT_EQ(q.where.size(), 4u);
  const Clause& n = q.where[1];
  EXPECT_EQ(n.kind, Clause::Kind::kNot);
  EXPECT_EQ(n.clauses.size(), 2u);
  ASSERT_EQ(n.join_vars.size(), 2u);
  EXPECT_EQ(n.join_vars[1], S("?v"));
  const Clause& nj = q.where[2];
  EXPECT_EQ(nj.kind, Clause::Kind::kNotJoin);
  ASSERT_EQ(nj.join_vars.size(), 1u);
  EXPECT_EQ(nj.join_vars[0], S("?e"));
  EXPECT_EQ(ClauseVars(nj), std::vector<Sym>{S("?e")});
  EXPECT_EQ(q.where[3].source, S("$h"));
  EXPECT_EQ(q.where[3].kind, Clause::Kind::kNot);
  RoundTrip(
      "[:find ?e :where [?e :a ?v] (not [?e :b 1]) (not-join [?e] [?e :d ?x]) ($h not [?e :z])]");
}

TEST(QueryParser, OrAndOrJoin) {
  Query q = Parse(
      "[:find ?e :where [?e :a ?v] (or [?e :b ?x] (and [?e :c ?x] [(= ?x 2)] [?x :d ?e]) [?e :f "
      "?x])"
      " (or-join [?e] [?e :g ?y] [?e :h]) (or-join [[?e] ?v] (and [?e :i ?v] [?v :j]) [?e :k ?v])"
      " ($h or [?e :m] [?e :n])]");
  ASSERT_EQ(q.where.size(), 5u);
  const Clause& o = q.where[1];
  EXPECT_EQ(o.kind, Clause::Kind::kOr);
  ASSERT_EQ(o.clauses.size(), 3u);
  EXPECT_EQ(o.clauses[1].kind, Clause::Kind::kAnd);
  EXPECT_EQ(o.clauses[1].clauses.size(), 3u);
  EXPECT_EQ(o.join_vars, (std::vector<Sym>{S("?e"), S("?x")}));
  EXPECT_EQ(q.where[1].clauses[1].kind, Clause::Kind::kAnd);
  const Clause& oj = q.where[2];
  EXPECT_EQ(oj.kind, Clause::Kind::kOrJoin);
  EXPECT_EQ(oj.join_vars, std::vector<Sym>{S("?e")});
  EXPECT_TRUE(oj.required_vars.empty());
  const Clause& req = q.where[3];
  EXPECT_EQ(req.required_vars, std::vector<Sym>{S("?e")});
  EXPECT_EQ(req.join_vars, (std::vector<Sym>{S("?e"), S("?v")}));
  EXPECT_EQ(q.where[4].source, S("$h"));
  EXPECT_EQ(q.where[4].kind, Clause::Kind::kOr);
  std::string printed = RoundTrip(
      "[:find ?e :where [?e :a ?v] (or [?e :b ?x] (and [?e :c ?x] [(= ?x 2)])) (or-join [[?e] ?v] "
      "[?e :k ?v])]");
  EXPECT_NE(printed.find("(or-join [[?e] ?v] [?e :k ?v])"), std::string::npos);
}

TEST(QueryParser, RuleCalls) {
  Query q = Parse(
      "[:find ?e :in $ % :where (follows ?e \"x\" ?f) ($h reachable ?e _) (or (r1 ?e) (r2 ?e))]");
  ASSERT_EQ(q.where.size(), 3u);
  const Clause& r = q.where[0];
  EXPECT_EQ(r.kind, Clause::Kind::kRuleCall);
  EXPECT_EQ(r.fn, S("follows"));
  ASSERT_EQ(r.terms.size(), 3u);
  EXPECT_EQ(r.terms[1].value, Value::String("x"));
  EXPECT_EQ(q.where[1].source, S("$h"));
  EXPECT_EQ(q.where[1].fn, S("reachable"));
  EXPECT_EQ(q.where[1].terms[1].kind, Term::Kind::kBlank);
  EXPECT_EQ(q.where[2].clauses[0].kind, Clause::Kind::kRuleCall);
  RoundTrip("[:find ?e :in $ % :where (follows ?e \"x\" ?f) ($h reachable ?e _)]");
}

TEST(QueryParser, Rules) {
  std::vector<Rule> rules =
      ParseRules(edn::Read("[[(follows ?a ?b) [?a :follows ?b]]"
                           " [(follows ?a ?b) [?a :follows ?x] (follows ?x ?b)]"
                           " [(adult [?p] ?age) [?p :age ?age] [(>= ?age 18)]]]"));
  ASSERT_EQ(rules.size(), 3u);
  EXPECT_EQ(rules[0].name, S("follows"));
  EXPECT_EQ(rules[0].vars, (std::vector<Sym>{S("?a"), S("?b")}));
  EXPECT_TRUE(rules[0].required_vars.empty());
  EXPECT_EQ(rules[0].body.size(), 1u);
  EXPECT_EQ(rules[1].body.size(), 2u);
  EXPECT_EQ(rules[1].body[1].kind, Clause::Kind::kRuleCall);
  EXPECT_EQ(rules[2].required_vars, std::vector<Sym>{S("?p")});
  EXPECT_EQ(rules[2].vars, std::vector<Sym>{S("?age")});
  EXPECT_EQ(rules[2].body[1].kind, Clause::Kind::kPredicate);
  EXPECT_TRUE(ParseRules(edn::Read("[]")).empty());
}

TEST(QueryParser, RuleErrors) {
  ExpectRulesError("{:a 1}", "Rules must be a vector");
  ExpectRulesError("[(r ?a)]", "Cannot parse rule");
  ExpectRulesError("[[(r ?a)]]", "Rule branch should have clauses");
  ExpectRulesError("[[(?r ?a) [?a :b]]]", "Cannot parse rule name");
  ExpectRulesError("[[(r :k) [?a :b]]]", "arguments must be variables");
  ExpectRulesError("[[(r) [?a :b]]]", "at least one argument");
  ExpectRulesError("[[(r ?a) [?a :b]] [(r ?a ?b) [?a :b ?b]]]", "Arity mismatch for rule 'r'");
  ExpectRulesError("[[(r ?a) (foo)]]", "Rule call must have at least one argument");
}

TEST(QueryParser, FindErrors) {
  ExpectError("[:find :where [?e :a]]", ":find must have at least one element");
  ExpectError("{:find [] :where [[?e :a]]}", ":find must have at least one element");
  ExpectError("[:where [?e :a]]", ":find must have at least one element");
  ExpectError("[:find ?e ?v . :where [?e :a ?v]]", "Cannot parse :find");
  ExpectError("[:find [?e ?v ...] :where [?e :a ?v]]", "Cannot parse :find");
  ExpectError("[:find [] :where [?e :a]]", "Cannot parse :find");
  ExpectError("[:find \"e\" :where [?e :a]]", "Cannot parse find element");
  ExpectError("[:find (count) :where [?e :a]]", "Cannot parse find element");
  ExpectError("[:find (pull ?e) :where [?e :a]]", "Cannot parse pull expression");
  ExpectError("[:find (pull ?e :name) :where [?e :a]]", "Cannot parse pull pattern");
  ExpectError("[:find ?x :where [?e :a]]", "Query for unknown vars: [?x]");
  ExpectError("[:find (max ?x) :where [?e :a]]", "Query for unknown vars: [?x]");
  ExpectError("[:find ?e :with ?w :where [?e :a]]", "Query for unknown vars: [?w]");
  ExpectError("[:find ?e :with 1 :where [?e :a]]", ":with must list variables");
  ExpectError("[:find ?e ?v :with ?v :where [?e :a ?v]]",
              ":find and :with should not use same variables: [?v]");
  ExpectError("[:find ?e :in $ ?x [?x ...] :where [?e :a ?x]]",
              "Vars used in :in should be distinct, ?x is repeated");
}

TEST(QueryParser, KeysErrors) {
  ExpectError("[:find ?a ?b :keys a :where [?a :x ?b]]",
              "Count of :keys/:strs/:syms must match count of :find");
  ExpectError("{:find [?a] :strs [a b] :where [[?a :x]]}", "Count of :keys/:strs/:syms must match");
  ExpectError("[:find ?a :keys a :strs a :where [?a :x]]", "Only one of :keys, :strs, :syms");
  ExpectError("[:find ?a :keys :a :where [?a :x]]", "Unknown query section :a");
}

TEST(QueryParser, FormErrors) {
  ExpectError("{:find [?e] :where [[?e :a]] :foo 1}", "Unknown query section :foo");
  ExpectError("[:find ?e :bar ?x :where [?e :a]]", "Unknown query section :bar");
  ExpectError("[?e :find ?e]", "Query must start with a keyword");
  ExpectError("(:find ?e)", "Query must be a vector or a map");
  ExpectError("{:find [?e] :where [[?e :a]] :limit -1}", ":limit must be a non-negative integer");
  ExpectError("{:find [?e] :where [[?e :a]] :offset \"1\"}",
              ":offset must be a non-negative integer");
  ExpectError("{:find ?e :where [[?e :a]]}", "Query section :find must be a vector");
  ExpectError("[:find ?e :where [?e :a] :where [?e :b]]", "Duplicate query section :where");
  ExpectError("{:query [:find ?e :where [?e :a]] :foo 1}",
              "Unknown key in query argument map :foo");
  ExpectError("{:query [:find ?e :where [?e :a]] :limit :x}",
              ":limit must be a non-negative integer");
  ExpectError("[:find ?e :in [?a ...] [] :where [?e :a]]", "Cannot parse binding");
  ExpectError("[:find ?e :in :x :where [?e :a]]", "Unknown query section :x");
  ExpectError("[:find ?e :in \"x\" :where [?e :a]]", "Cannot parse binding");
  ExpectError("[:find ?e :in [[?a :b]] :where [?e :a]]", "relation columns must be variables or _");
}

TEST(QueryParser, ClauseErrors) {
  ExpectError("[:find ?e :where [?e :a [:b 1 2]]]",
              "Bad format for value in pattern, must be a scalar, nil or a vector of two elements: "
              "[?e :a [:b 1 2]]");
  ExpectError("[:find ?e :where [[:b] :a 1]]", "Bad format for value in pattern");
  ExpectError("[:find ?e :where [?e \"a\" 1]]", "Bad attribute in pattern");
  ExpectError("[:find ?e :where [?e :a {:b 1}]]", "Cannot parse pattern element {:b 1}");
  ExpectError("[:find ?e :where [?e :a foo]]", "Cannot parse pattern element foo");
  ExpectError("[:find ?e :where []]", "Pattern must have between 1 and 5 elements");
  ExpectError("[:find ?e :where [?e :a 1 2 true 6]]", "Pattern must have between 1 and 5 elements");
  ExpectError("[:find ?e :where :x]", "Unknown query section :x");
  ExpectError("[:find ?e :where [?e :a] \"x\"]", "Cannot parse clause");
  ExpectError("[:find ?e :where [?e :a] ()]", "Cannot parse clause: ()");
  ExpectError("[:find ?e :where [?e :a] [() ?x]]", "Cannot parse function call");
  ExpectError("[:find ?e :where [?e :a] [(f ?e) ?x ?y]]", "Cannot parse function clause");
  ExpectError("[:find ?e :where [?e :a] [(f (g ?e))]]", "Cannot parse argument");
  ExpectError("[:find ?e :where [?e :a] [(f ?e) :k]]", "Cannot parse binding");
  ExpectError("[:find ?e :where [?e :a] [(f ?e) $]]", "Cannot parse binding");
  ExpectError("[:find ?e :where [?e :a] (not)]",
              "Clause must contain at least one nested clause: (not)");
  ExpectError("[:find ?e :where [?e :a] (not-join [?x] [?e :b])]",
              "Join variable not declared inside clauses: [?x]: (not-join [?x] [?e :b])");
  ExpectError("[:find ?e :where [?e :a] (not-join ?e [?e :b])]", "Expected a vector of variables");
  ExpectError("[:find ?e :where [?e :a] (or [?e :b] [?x :c])]",
              "Join variable not declared inside clauses: [?e]");
  ExpectError("[:find ?e :in $ ?a :where (or [?e :age ?a] [?e :name \"Oleg\"])]",
              "Join variable not declared inside clauses: [?a]");
  // A join variable must occur in some branch (one branch may leave it to the outer binding).
  ExpectError("[:find ?e :where [?e :a] (or-join [?e ?z] [?e :b] [?e :c])]",
              "Join variable not declared inside clauses");
  ExpectError("[:find ?e :where [?e :a] (or-join [[?q] ?e] [?e :b])]",
              "Join variable not declared inside clauses: [?q]");
  ExpectError("[:find ?e :where [?e :a] (or-join ?e [?e :b])]", "Cannot parse or-join");
  ExpectError("[:find ?e :where [?e :a] (or-join [:k] [?e :b])]", "Cannot parse or-join");
  ExpectError("[:find ?e :where [?e :a] (and [?e :b])]",
              "'and' is only allowed as a branch of or/or-join");
  ExpectError("[:find ?e :where [?e :a] (rule)]", "Rule call must have at least one argument");
  ExpectError("[:find ?e :where [?e :a] (?r ?e)]", "Cannot parse clause");
  ExpectError("[:find ?e :where [?e :a] ($h)]", "Cannot parse clause");
}

}  // namespace
}  // namespace datahike::query
