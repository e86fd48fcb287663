// Tests of the query built-ins and aggregates (core/query/builtins.h): every function and
// aggregate, with its error paths, plus a sweep that calls every built-in with every small
// combination of odd arguments and checks that each call returns a value or throws Error(kQuery),
// nothing else.
#include "core/query/builtins.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/value/edn.h"
#include "core/value/error.h"

namespace datahike::query {
namespace {

Value E(const std::string& text) { return edn::Read(text); }
std::string S(const Value& v) { return edn::ToString(v); }

// Calls the built-in `name` on the arguments in the EDN vector `args`; the EDN text of the result.
std::string Call(const std::string& name, const std::string& args) {
  BuiltinFn f = FindBuiltin(name);
  if (f == nullptr) return "<no built-in " + name + ">";
  Value v = E(args);
  return S(f(v.items().data(), v.items().size()));
}

Value CallValue(const std::string& name, const std::vector<Value>& args) {
  return FindBuiltin(name)(args.data(), args.size());
}

// The message of the Error(kQuery) the call throws; "<no error>" when it returns.
std::string Err(const std::string& name, const std::string& args) {
  try {
    Call(name, args);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kQuery) << e.message();
    return e.message();
  }
  return "<no error>";
}

bool StartsWith(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

std::string Agg(const std::string& name, const std::string& params, const std::string& values) {
  AggregateFn f = FindAggregate(name);
  if (f == nullptr) return "<no aggregate " + name + ">";
  Value p = E(params);
  std::vector<Value> vals = E(values).items();
  return S(f(p.items().data(), p.items().size(), vals));
}

std::string AggErr(const std::string& name, const std::string& params, const std::string& values) {
  try {
    Agg(name, params, values);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kQuery) << e.message();
    return e.message();
  }
  return "<no error>";
}

// ---------------------------------------------------------------------------------------------------
// Registry

TEST(BuiltinsRegistry, Lookup) {
  EXPECT_NE(FindBuiltin("str"), nullptr);
  EXPECT_EQ(FindBuiltin("clojure.core/str"), FindBuiltin("str"));
  EXPECT_NE(FindBuiltin("clojure.string/blank?"), nullptr);
  EXPECT_EQ(FindBuiltin("blank?"), nullptr);  // clojure.string functions need their namespace
  EXPECT_EQ(FindBuiltin("clojure.core/tuple"), nullptr);  // Datahike's own names are bare only
  EXPECT_NE(FindBuiltin("tuple"), nullptr);
  EXPECT_EQ(FindBuiltin("get-else"), nullptr);  // the executor's
  EXPECT_EQ(FindBuiltin("ground"), nullptr);
  EXPECT_EQ(FindBuiltin("q"), nullptr);
  EXPECT_EQ(FindBuiltin("no-such-fn"), nullptr);
  EXPECT_EQ(FindBuiltin(""), nullptr);
  EXPECT_NE(FindAggregate("count-distinct"), nullptr);
  EXPECT_EQ(FindAggregate("no-such-aggregate"), nullptr);
  EXPECT_EQ(FindAggregate("str"), nullptr);
}

TEST(BuiltinsRegistry, ArityErrorsNameTheFunction) {
  EXPECT_EQ(Err("subs", "[\"a\"]"), "subs called with 1 argument, expects 2 to 3");
  EXPECT_EQ(Err("not", "[1 2]"), "not called with 2 arguments, expects 1");
  EXPECT_EQ(Err("=", "[]"), "= called with 0 arguments, expects at least 1");
  EXPECT_EQ(Err("compare", "[1]"), "compare called with 1 argument, expects 2");
  EXPECT_EQ(Err("clojure.string/split", "[\"a\"]"),
            "clojure.string/split called with 1 argument, expects 2 to 3");
}

// The :error of the data of the error the call throws.
std::string ErrKind(const std::string& name, const std::string& args) {
  try {
    Call(name, args);
  } catch (const Error& e) {
    return S(*e.data().get("error")) + " " + S(*e.data().get("fn"));
  }
  return "<no error>";
}

TEST(BuiltinsRegistry, ErrorDataTellsArgumentErrorsFromFailures) {
  EXPECT_EQ(ErrKind("+", "[1 \"a\"]"), ":query/invalid-argument +");
  EXPECT_EQ(ErrKind("subs", "[\"a\"]"), ":query/invalid-argument subs");
  EXPECT_EQ(ErrKind("<", "[1 :a]"), ":query/invalid-argument <");
  EXPECT_EQ(ErrKind("re-find", "[\"(\" \"a\"]"), ":query/invalid-argument re-find");
  EXPECT_EQ(ErrKind("clojure.string/trim", "[1]"), ":query/invalid-argument clojure.string/trim");
  EXPECT_EQ(ErrKind("inc", "[9223372036854775807]"), ":query/fn-failed inc");
  EXPECT_EQ(ErrKind("/", "[1 0]"), ":query/fn-failed /");
  EXPECT_EQ(ErrKind("nth", "[[] 1]"), ":query/fn-failed nth");
  try {
    std::vector<Value> values;
    FindAggregate("sample")(nullptr, 0, values);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(S(e.data()), "{:error :query/invalid-argument, :fn sample}");
  }
}

TEST(BuiltinsRegistry, TypeErrorsQuoteTheValue) {
  EXPECT_EQ(Err("+", "[1 \"a\"]"), "+ expects numbers, got \"a\"");
  std::string long_text(300, 'x');
  std::string message = Err("+", "[\"" + long_text + "\"]");
  EXPECT_LT(message.size(), 120u);
  EXPECT_EQ(message.substr(message.size() - 3), "...");
}

// ---------------------------------------------------------------------------------------------------
// Comparison

TEST(BuiltinsCompare, Equality) {
  EXPECT_EQ(Call("=", "[1 1]"), "true");
  EXPECT_EQ(Call("=", "[1 1.0]"), "false");  // Clojure's =
  EXPECT_EQ(Call("=", "[1 1N]"), "true");
  EXPECT_EQ(Call("=", "[[1 2] (1 2)]"), "true");
  EXPECT_EQ(Call("=", "[\"a\" \"a\" \"a\"]"), "true");
  EXPECT_EQ(Call("=", "[\"a\" \"a\" \"b\"]"), "false");
  EXPECT_EQ(Call("=", "[{:a 1 :b 2} {:b 2 :a 1}]"), "true");
  EXPECT_EQ(Call("=", "[:x]"), "true");
  EXPECT_EQ(Call("not=", "[1 2]"), "true");
  EXPECT_EQ(Call("not=", "[1 1]"), "false");
  EXPECT_EQ(Call("not=", "[1]"), "false");
  EXPECT_EQ(Call("!=", "[1 1 2]"), "true");
  EXPECT_EQ(Call("!=", "[1 1 1]"), "false");
}

TEST(BuiltinsCompare, NumericEquality) {
  EXPECT_EQ(Call("==", "[1 1.0]"), "true");
  EXPECT_EQ(Call("==", "[1 1N 1.00M]"), "true");
  EXPECT_EQ(Call("==", "[1 2]"), "false");
  EXPECT_EQ(Call("==", "[1.0 ##NaN]"), "false");
  EXPECT_EQ(Call("==", "[5]"), "true");
  EXPECT_EQ(Err("==", "[\"a\" \"a\"]"), "== expects numbers, got \"a\"");
}

TEST(BuiltinsCompare, OrderNumbers) {
  EXPECT_EQ(Call("<", "[1 2 3]"), "true");
  EXPECT_EQ(Call("<", "[1 3 2]"), "false");
  EXPECT_EQ(Call("<", "[1 1]"), "false");
  EXPECT_EQ(Call("<=", "[1 1 2]"), "true");
  EXPECT_EQ(Call(">", "[3 2 1]"), "true");
  EXPECT_EQ(Call(">=", "[3 3 1]"), "true");
  EXPECT_EQ(Call(">=", "[3 4]"), "false");
  EXPECT_EQ(Call("<", "[1 1.5 2N 2.5M]"), "true");
  EXPECT_EQ(Call("<=", "[1 1.0]"), "true");  // numerically, not by the index order
  EXPECT_EQ(Call(">=", "[1 1.0]"), "true");
  EXPECT_EQ(Call("<", "[1]"), "true");
  // Exact across integer and decimal kinds, where doubles would tie.
  EXPECT_EQ(Call(">", "[9007199254740993 9007199254740992M]"), "true");
  EXPECT_EQ(Call("<", "[9007199254740993 9007199254740994N]"), "true");
  // NaN is unordered.
  EXPECT_EQ(Call("<", "[1 ##NaN]"), "false");
  EXPECT_EQ(Call(">", "[##NaN 1]"), "false");
  EXPECT_EQ(Call(">=", "[##NaN ##NaN]"), "false");
  EXPECT_EQ(Call("<", "[##-Inf 0 ##Inf]"), "true");
}

TEST(BuiltinsCompare, OrderOtherKinds) {
  EXPECT_EQ(Call("<", "[\"a\" \"b\"]"), "true");
  EXPECT_EQ(Call(">", "[\"Oleg\" \"Ivan\" \"Alek\"]"), "true");
  EXPECT_EQ(Call("<", "[:a :b]"), "true");
  EXPECT_EQ(Call("<", "[:a/b :a-/b]"), "true");
  EXPECT_EQ(Call("<", "[a b]"), "true");
  EXPECT_EQ(Call("<=", "[false true true]"), "true");
  EXPECT_EQ(Call("<", "[true false]"), "false");
  EXPECT_EQ(Call("<", "[#inst \"2024-01-01\" #inst \"2024-01-02\"]"), "true");
  EXPECT_EQ(Call("before?", "[#inst \"2024-01-01\" #inst \"2024-01-02\"]"), "true");
  EXPECT_EQ(Call("after?", "[#inst \"2024-01-01\" #inst \"2024-01-02\"]"), "false");
  EXPECT_EQ(Call("<",
                 "[#uuid \"00000000-0000-0000-0000-000000000001\" "
                 "#uuid \"00000000-0000-0000-0000-000000000002\"]"),
            "true");
  EXPECT_EQ(Call("<", "[[1 2] [1 3]]"), "true");
  EXPECT_EQ(Call("<", "[[9 9] [1 1 1]]"), "true");  // shorter vectors first, as Clojure
  EXPECT_EQ(Call("<", "[\\a \\b]"), "true");
}

TEST(BuiltinsCompare, OrderAcrossKindsIsAnError) {
  EXPECT_EQ(Err("<", "[1 \"a\"]"), "< cannot compare 1 with \"a\"");
  EXPECT_EQ(Err(">", "[\"a\" :a]"), "> cannot compare \"a\" with :a");
  EXPECT_EQ(Err("<=", "[nil 1]"), "<= cannot compare nil with 1");
  EXPECT_EQ(Err(">=", "[#inst \"2024-01-01\" 5]"),
            ">= cannot compare #inst \"2024-01-01T00:00:00.000-00:00\" with 5");
  // Like Clojure's, the chain stops at the first pair that fails.
  EXPECT_EQ(Call("<", "[3 2 \"a\"]"), "false");
}

TEST(BuiltinsCompare, CompareIsTheTotalOrder) {
  EXPECT_EQ(Call("compare", "[1 2]"), "-1");
  EXPECT_EQ(Call("compare", "[\"b\" \"a\"]"), "1");
  EXPECT_EQ(Call("compare", "[:a :a]"), "0");
  EXPECT_EQ(Call("compare", "[1 \"a\"]"), "-1");  // numbers sort before strings
  EXPECT_EQ(Call("compare", "[nil 1]"), "-1");
}

TEST(BuiltinsCompare, DifferAndDistinct) {
  EXPECT_EQ(Call("-differ?", "[1 2 1 2]"), "false");
  EXPECT_EQ(Call("-differ?", "[1 2 1 3]"), "true");
  EXPECT_EQ(Call("-differ?", "[]"), "false");
  EXPECT_EQ(Call("-differ?", "[1 2 3]"), "true");
  EXPECT_EQ(Call("distinct?", "[1 2 3]"), "true");
  EXPECT_EQ(Call("distinct?", "[1 2 1]"), "false");
  EXPECT_EQ(Call("distinct?", "[1 1.0]"), "true");
  EXPECT_EQ(Call("distinct?", "[1]"), "true");
}

// ---------------------------------------------------------------------------------------------------
// Arithmetic

TEST(BuiltinsArithmetic, Add) {
  EXPECT_EQ(Call("+", "[]"), "0");
  EXPECT_EQ(Call("+", "[5]"), "5");
  EXPECT_EQ(Call("+", "[1 2 3]"), "6");
  EXPECT_EQ(Call("+", "[1 2.5]"), "3.5");
  EXPECT_EQ(Call("+", "[1 1N]"), "2N");
  EXPECT_EQ(Call("+", "[0.1M 0.20M]"), "0.30M");
  EXPECT_EQ(Call("+", "[1.5M 1]"), "2.5M");
  EXPECT_EQ(Call("+", "[1.5M 1N]"), "2.5M");
  EXPECT_EQ(Call("+", "[1.5M 1.0]"), "2.5");  // a double makes everything double
  EXPECT_EQ(Call("+", "[9223372036854775807 1N]"), "9223372036854775808N");
  EXPECT_EQ(Call("+", "[99999999999999999999999999999999999999N 0]"),
            "99999999999999999999999999999999999999N");
  EXPECT_EQ(Err("+", "[9223372036854775807 1]"), "+: integer overflow");
  EXPECT_EQ(Err("+",
                "[99999999999999999999999999999999999999N "
                "99999999999999999999999999999999999999N]"),
            "+: result beyond 38 digits, which is not supported");
  EXPECT_EQ(Err("+", "[1 nil]"), "+ expects numbers, got nil");
  EXPECT_EQ(Err("+", "[1000000000000000000000000000000000000000N 1]"),
            "+: 1000000000000000000000000000000000000000N has more than 38 digits, which is not "
            "supported");
  Value f = CallValue("float", {Value::Long(1)});
  EXPECT_EQ(CallValue("+", {f, Value::Long(1)}).type(), Type::kDouble);
}

TEST(BuiltinsArithmetic, Subtract) {
  EXPECT_EQ(Call("-", "[5]"), "-5");
  EXPECT_EQ(Call("-", "[10 1 2]"), "7");
  EXPECT_EQ(Call("-", "[1.5M 2]"), "-0.5M");
  EXPECT_EQ(Call("-", "[1 0.5]"), "0.5");
  EXPECT_EQ(Err("-", "[-9223372036854775808]"), "-: integer overflow");
  EXPECT_EQ(Err("-", "[-9223372036854775807 2]"), "-: integer overflow");
  EXPECT_EQ(Err("-", "[]"), "- called with 0 arguments, expects at least 1");
}

TEST(BuiltinsArithmetic, Multiply) {
  EXPECT_EQ(Call("*", "[]"), "1");
  EXPECT_EQ(Call("*", "[2 3 4]"), "24");
  EXPECT_EQ(Call("*", "[1.5M 2]"), "3.0M");
  EXPECT_EQ(Call("*", "[0.5M 0.5M]"), "0.25M");
  EXPECT_EQ(Call("*", "[2N 3]"), "6N");
  EXPECT_EQ(Call("*", "[4294967296N 4294967296]"), "18446744073709551616N");
  EXPECT_EQ(Err("*", "[4294967296 4294967296]"), "*: integer overflow");
  EXPECT_EQ(Err("*", "[:a]"), "* expects numbers, got :a");
}

TEST(BuiltinsArithmetic, Divide) {
  EXPECT_EQ(Call("/", "[6 3]"), "2");
  EXPECT_EQ(Call("/", "[7 2]"), "3.5");  // a ratio in Clojure
  EXPECT_EQ(Call("/", "[2]"), "0.5");
  EXPECT_EQ(Call("/", "[-6 3]"), "-2");
  EXPECT_EQ(Call("/", "[60 3 2]"), "10");
  EXPECT_EQ(Call("/", "[6N 3]"), "2N");
  EXPECT_EQ(Call("/", "[1.0 0]"), "##Inf");
  EXPECT_EQ(Call("/", "[1 0.0]"), "##Inf");
  EXPECT_EQ(Call("/", "[1M 4M]"), "0.25M");
  EXPECT_EQ(Call("/", "[6.0M 2M]"), "3.0M");
  EXPECT_EQ(Call("/", "[1.5M 0.5M]"), "3M");
  EXPECT_EQ(Call("/", "[6M 2.0M]"), "3M");
  EXPECT_EQ(Call("/", "[60M 2.0M]"), "3E+1M");  // Java's preferred scale
  EXPECT_EQ(Call("/", "[1.5M 2]"), "0.75M");
  EXPECT_EQ(Err("/", "[1 0]"), "/: divide by zero");
  EXPECT_EQ(Err("/", "[0]"), "/: divide by zero");
  EXPECT_EQ(Err("/", "[1M 0.0M]"), "/: divide by zero");
  EXPECT_EQ(Err("/", "[1M 3M]"),
            "/: non-terminating decimal expansion; no exact bigdec quotient within 38 digits");
  EXPECT_EQ(Err("/", "[-9223372036854775808 -1]"), "/: integer overflow");
  EXPECT_EQ(Err("/", "[\"6\" 2]"), "/ expects numbers, got \"6\"");
}

TEST(BuiltinsArithmetic, QuotRemMod) {
  EXPECT_EQ(Call("quot", "[7 2]"), "3");
  EXPECT_EQ(Call("quot", "[-7 2]"), "-3");
  EXPECT_EQ(Call("quot", "[7.5 2]"), "3.0");
  EXPECT_EQ(Call("quot", "[7N 2]"), "3N");
  EXPECT_EQ(Err("quot", "[1 0]"), "quot: divide by zero");
  EXPECT_EQ(Err("quot", "[1.0 0.0]"), "quot: divide by zero");
  EXPECT_EQ(Err("quot", "[-9223372036854775808 -1]"), "quot: integer overflow");
  EXPECT_EQ(Err("quot", "[1.5M 1]"), "quot: bigdec arguments are not supported");
  EXPECT_EQ(Call("rem", "[7 2]"), "1");
  EXPECT_EQ(Call("rem", "[-7 2]"), "-1");
  EXPECT_EQ(Call("rem", "[7.5 2]"), "1.5");
  EXPECT_EQ(Call("rem", "[-9223372036854775808 -1]"), "0");
  EXPECT_EQ(Err("rem", "[1 0]"), "rem: divide by zero");
  EXPECT_EQ(Call("mod", "[7 2]"), "1");
  EXPECT_EQ(Call("mod", "[-7 2]"), "1");
  EXPECT_EQ(Call("mod", "[7 -2]"), "-1");
  EXPECT_EQ(Call("mod", "[-7 -2]"), "-1");
  EXPECT_EQ(Call("mod", "[6 3]"), "0");
  EXPECT_EQ(Call("mod", "[-7.5 2]"), "0.5");
  EXPECT_EQ(Err("mod", "[1 0]"), "mod: divide by zero");
  EXPECT_EQ(Err("mod", "[1 \"2\"]"), "mod expects numbers, got \"2\"");
}

TEST(BuiltinsArithmetic, IncDecAbs) {
  EXPECT_EQ(Call("inc", "[1]"), "2");
  EXPECT_EQ(Call("inc", "[1.5]"), "2.5");
  EXPECT_EQ(Call("inc", "[1N]"), "2N");
  EXPECT_EQ(Call("dec", "[1.5M]"), "0.5M");
  EXPECT_EQ(Call("dec", "[0]"), "-1");
  EXPECT_EQ(Err("inc", "[9223372036854775807]"), "inc: integer overflow");
  EXPECT_EQ(Err("dec", "[-9223372036854775808]"), "dec: integer overflow");
  EXPECT_EQ(Err("inc", "[\"a\"]"), "inc expects numbers, got \"a\"");
  EXPECT_EQ(Call("abs", "[-3]"), "3");
  EXPECT_EQ(Call("abs", "[3]"), "3");
  EXPECT_EQ(Call("abs", "[-1.5]"), "1.5");
  EXPECT_EQ(Call("abs", "[-2N]"), "2N");
  EXPECT_EQ(Call("abs", "[-1.50M]"), "1.50M");
  EXPECT_EQ(Err("abs", "[-9223372036854775808]"), "abs: integer overflow");
  EXPECT_EQ(Err("abs", "[nil]"), "abs expects numbers, got nil");
}

TEST(BuiltinsArithmetic, MaxMin) {
  EXPECT_EQ(Call("max", "[1 3 2]"), "3");
  EXPECT_EQ(Call("min", "[4 3 5]"), "3");
  EXPECT_EQ(Call("max", "[1 2.0]"), "2.0");
  EXPECT_EQ(Call("max", "[1 1.0]"), "1.0");  // ties go to the later argument, as Clojure
  EXPECT_EQ(Call("max", "[1.0 1]"), "1");
  EXPECT_EQ(Call("min", "[1 1.0]"), "1.0");
  EXPECT_EQ(Call("max", "[1 ##NaN 3]"), "##NaN");
  EXPECT_EQ(Call("max", "[5]"), "5");
  EXPECT_EQ(Call("max", "[1 2N 1.5M]"), "2N");
  EXPECT_EQ(Err("max", "[\"a\" \"b\"]"), "max expects numbers, got \"a\"");
  // Datahike's collection forms.
  EXPECT_EQ(Call("max", "[[1 5 3]]"), "5");
  EXPECT_EQ(Call("max", "[[\"a\" \"c\" \"b\"]]"), "\"c\"");
  EXPECT_EQ(Call("min", "[#{3 1 2}]"), "1");
  EXPECT_EQ(Call("max", "[[]]"), "nil");
  EXPECT_EQ(Call("min", "[2 [5 1 3]]"), "[1 3]");
  EXPECT_EQ(Call("max", "[2 [5 1 3]]"), "[3 5]");
  EXPECT_EQ(Err("max", "[-1 [5 1 3]]"), "max expects a non-negative count, got -1");
}

TEST(BuiltinsArithmetic, NumberPredicates) {
  EXPECT_EQ(Call("zero?", "[0]"), "true");
  EXPECT_EQ(Call("zero?", "[0.0]"), "true");
  EXPECT_EQ(Call("zero?", "[0.00M]"), "true");
  EXPECT_EQ(Call("zero?", "[0N]"), "true");
  EXPECT_EQ(Call("zero?", "[1]"), "false");
  EXPECT_EQ(Call("zero?", "[##NaN]"), "false");
  EXPECT_EQ(Err("zero?", "[\"0\"]"), "zero? expects numbers, got \"0\"");
  EXPECT_EQ(Call("pos?", "[1]"), "true");
  EXPECT_EQ(Call("pos?", "[0]"), "false");
  EXPECT_EQ(Call("pos?", "[##NaN]"), "false");
  EXPECT_EQ(Call("pos?", "[0.1M]"), "true");
  EXPECT_EQ(Call("neg?", "[-1.5]"), "true");
  EXPECT_EQ(Call("neg?", "[0]"), "false");
  EXPECT_EQ(Call("neg?", "[-1N]"), "true");
  EXPECT_EQ(Err("neg?", "[nil]"), "neg? expects numbers, got nil");
  EXPECT_EQ(Call("even?", "[2]"), "true");
  EXPECT_EQ(Call("even?", "[-3]"), "false");
  EXPECT_EQ(Call("even?", "[0]"), "true");
  EXPECT_EQ(Call("odd?", "[3N]"), "true");
  EXPECT_EQ(Call("odd?", "[-3]"), "true");
  EXPECT_EQ(Err("even?", "[2.0]"), "even? expects an integer, got 2.0");
  EXPECT_EQ(Err("odd?", "[\"1\"]"), "odd? expects an integer, got \"1\"");
  EXPECT_EQ(Call("NaN?", "[##NaN]"), "true");
  EXPECT_EQ(Call("NaN?", "[1.0]"), "false");
  EXPECT_EQ(Call("infinite?", "[##-Inf]"), "true");
  EXPECT_EQ(Call("infinite?", "[1]"), "false");
  EXPECT_EQ(Err("NaN?", "[:a]"), "NaN? expects numbers, got :a");
}

TEST(BuiltinsArithmetic, Random) {
  for (int i = 0; i < 200; ++i) {
    double r = E(Call("rand", "[]")).as_double();
    EXPECT_GE(r, 0.0);
    EXPECT_LT(r, 1.0);
    double r10 = E(Call("rand", "[10]")).as_double();
    EXPECT_GE(r10, 0.0);
    EXPECT_LT(r10, 10.0);
    Value n = E(Call("rand-int", "[5]"));
    ASSERT_TRUE(n.is_long());
    EXPECT_GE(n.as_long(), 0);
    EXPECT_LT(n.as_long(), 5);
    std::string pick = Call("rand-nth", "[[:a :b :c]]");
    EXPECT_TRUE(pick == ":a" || pick == ":b" || pick == ":c") << pick;
  }
  EXPECT_EQ(Call("rand-int", "[0]"), "0");
  EXPECT_EQ(Err("rand", "[\"a\"]"), "rand expects numbers, got \"a\"");
  EXPECT_EQ(Err("rand-int", "[1e300]"), "rand-int: bound out of range");
  EXPECT_EQ(Err("rand-nth", "[[]]"), "rand-nth: empty collection");
  EXPECT_EQ(Err("rand-nth", "[5]"), "rand-nth expects a collection or string, got 5");
}

// ---------------------------------------------------------------------------------------------------
// Coercions

TEST(BuiltinsCoercion, Numbers) {
  EXPECT_EQ(Call("long", "[1.9]"), "1");
  EXPECT_EQ(Call("long", "[-1.9]"), "-1");
  EXPECT_EQ(Call("long", "[2N]"), "2");
  EXPECT_EQ(Call("long", "[1.99M]"), "1");
  EXPECT_EQ(Call("long", "[1E+2M]"), "100");
  EXPECT_EQ(Call("long", "[\\a]"), "97");
  EXPECT_EQ(Call("int", "[3.7]"), "3");
  EXPECT_EQ(Err("long", "[1e30]"), "long: value out of range for long: 1e+30");
  EXPECT_EQ(Err("long", "[99999999999999999999N]"),
            "long: value out of range for long: 99999999999999999999N");
  EXPECT_EQ(Err("long", "[\"1\"]"), "long expects numbers, got \"1\"");
  EXPECT_EQ(Call("double", "[1]"), "1.0");
  EXPECT_EQ(Call("double", "[1N]"), "1.0");
  EXPECT_EQ(Call("double", "[0.1M]"), "0.1");
  EXPECT_EQ(Call("double", "[1E-400M]"), "0.0");
  Value f = CallValue("float", {Value::Double(0.1)});
  EXPECT_EQ(f.type(), Type::kFloat);
  EXPECT_EQ(CallValue("str", {f}).as_string(), "0.1");  // Float.toString
  EXPECT_EQ(Call("bigint", "[5]"), "5N");
  EXPECT_EQ(Call("bigint", "[1.9]"), "1N");
  EXPECT_EQ(Call("bigint", "[-12.5M]"), "-12N");
  EXPECT_EQ(Err("bigint", "[##Inf]"), "bigint: cannot convert ##Inf");
  EXPECT_EQ(Call("bigdec", "[1]"), "1M");
  EXPECT_EQ(Call("bigdec", "[1.5]"), "1.5M");
  EXPECT_EQ(Call("bigdec", "[2N]"), "2M");
  EXPECT_EQ(Call("bigdec", "[2.50M]"), "2.50M");
  EXPECT_EQ(Err("bigdec", "[##NaN]"), "bigdec: cannot convert ##NaN");
  EXPECT_EQ(Call("char", "[97]"), "\\a");
  EXPECT_EQ(Call("char", "[\\b]"), "\\b");
  EXPECT_EQ(Err("char", "[-1]"), "char: value out of range for char: -1");
  EXPECT_EQ(Err("char", "[1.5]"), "char expects an integer, got 1.5");
}

TEST(BuiltinsCoercion, BooleanAndParsing) {
  EXPECT_EQ(Call("boolean", "[nil]"), "false");
  EXPECT_EQ(Call("boolean", "[false]"), "false");
  EXPECT_EQ(Call("boolean", "[0]"), "true");
  EXPECT_EQ(Call("parse-long", "[\"42\"]"), "42");
  EXPECT_EQ(Call("parse-long", "[\"-7\"]"), "-7");
  EXPECT_EQ(Call("parse-long", "[\"+7\"]"), "7");
  EXPECT_EQ(Call("parse-long", "[\"4.2\"]"), "nil");
  EXPECT_EQ(Call("parse-long", "[\"\"]"), "nil");
  EXPECT_EQ(Call("parse-long", "[\"99999999999999999999\"]"), "nil");
  EXPECT_EQ(Err("parse-long", "[42]"), "parse-long expects a string, got 42");
  EXPECT_EQ(Call("parse-double", "[\"1.5\"]"), "1.5");
  EXPECT_EQ(Call("parse-double", "[\"-2e3\"]"), "-2000.0");
  EXPECT_EQ(Call("parse-double", "[\".5\"]"), "0.5");
  EXPECT_EQ(Call("parse-double", "[\"Infinity\"]"), "##Inf");
  EXPECT_EQ(Call("parse-double", "[\"-Infinity\"]"), "##-Inf");
  EXPECT_EQ(Call("parse-double", "[\"NaN\"]"), "##NaN");
  EXPECT_EQ(Call("parse-double", "[\"1e999\"]"), "##Inf");
  EXPECT_EQ(Call("parse-double", "[\"abc\"]"), "nil");
  EXPECT_EQ(Call("parse-double", "[\"1.5x\"]"), "nil");
  EXPECT_EQ(Call("parse-double", "[\"\"]"), "nil");
  EXPECT_EQ(Call("parse-boolean", "[\"true\"]"), "true");
  EXPECT_EQ(Call("parse-boolean", "[\"false\"]"), "false");
  EXPECT_EQ(Call("parse-boolean", "[\"yes\"]"), "nil");
  EXPECT_EQ(Call("inst-ms", "[#inst \"1970-01-01T00:00:01.000-00:00\"]"), "1000");
  EXPECT_EQ(Err("inst-ms", "[1000]"), "inst-ms expects an instant, got 1000");
}

// ---------------------------------------------------------------------------------------------------
// Logic and identity

TEST(BuiltinsLogic, All) {
  EXPECT_EQ(Call("not", "[nil]"), "true");
  EXPECT_EQ(Call("not", "[false]"), "true");
  EXPECT_EQ(Call("not", "[0]"), "false");
  EXPECT_EQ(Call("and", "[]"), "true");
  EXPECT_EQ(Call("and", "[1 2]"), "2");
  EXPECT_EQ(Call("and", "[1 nil 2]"), "nil");
  EXPECT_EQ(Call("and", "[1 false]"), "false");
  EXPECT_EQ(Call("or", "[]"), "nil");
  EXPECT_EQ(Call("or", "[nil 2 3]"), "2");
  EXPECT_EQ(Call("or", "[nil false]"), "false");
  EXPECT_EQ(Call("true?", "[true]"), "true");
  EXPECT_EQ(Call("true?", "[1]"), "false");
  EXPECT_EQ(Call("false?", "[false]"), "true");
  EXPECT_EQ(Call("false?", "[nil]"), "false");
  EXPECT_EQ(Call("nil?", "[nil]"), "true");
  EXPECT_EQ(Call("nil?", "[false]"), "false");
  EXPECT_EQ(Call("some?", "[false]"), "true");
  EXPECT_EQ(Call("some?", "[nil]"), "false");
  EXPECT_EQ(Call("identity", "[[1 {:a 2}]]"), "[1 {:a 2}]");
  EXPECT_EQ(Call("untuple", "[[1 2]]"), "[1 2]");
  EXPECT_EQ(Call("tuple", "[1 :a \"b\"]"), "[1 :a \"b\"]");
  EXPECT_EQ(Call("tuple", "[]"), "[]");
}

// ---------------------------------------------------------------------------------------------------
// Types and names

TEST(BuiltinsTypes, Predicates) {
  struct Case {
    const char* fn;
    const char* yes;
    const char* no;
  };
  const Case cases[] = {
      {"string?", "\"a\"", "\\a"},
      {"char?", "\\a", "\"a\""},
      {"boolean?", "false", "nil"},
      {"number?", "1.5M", "\"1\""},
      {"integer?", "1N", "1.0"},
      {"int?", "1", "1N"},
      {"pos-int?", "1", "0"},
      {"neg-int?", "-1", "0"},
      {"nat-int?", "0", "-1"},
      {"double?", "1.0", "1"},
      {"float?", "1.0", "1M"},
      {"decimal?", "1M", "1.0"},
      {"rational?", "1M", "1.0"},
      {"keyword?", ":a", "a"},
      {"symbol?", "a", ":a"},
      {"ident?", "a/b", "\"a\""},
      {"simple-keyword?", ":a", ":a/b"},
      {"qualified-keyword?", ":a/b", ":a"},
      {"simple-symbol?", "a", "a/b"},
      {"qualified-symbol?", "a/b", ":a/b"},
      {"simple-ident?", ":a", "a/b"},
      {"qualified-ident?", "a/b", "a"},
      {"uuid?", "#uuid \"00000000-0000-0000-0000-000000000001\"", "\"00000000\""},
      {"inst?", "#inst \"2024-01-01\"", "0"},
      {"bytes?", "#bytes \"aGk=\"", "\"hi\""},
      {"vector?", "[1]", "(1)"},
      {"list?", "(1)", "[1]"},
      {"map?", "{}", "[]"},
      {"set?", "#{}", "[]"},
      {"coll?", "{}", "\"abc\""},
      {"seq?", "(1)", "[1]"},
      {"sequential?", "[1]", "#{1}"},
      {"associative?", "[1]", "(1)"},
      {"counted?", "#{1}", "\"a\""},
      {"seqable?", "\"a\"", "1"},
      {"any?", "nil", nullptr},
      {"ratio?", nullptr, "1"},
  };
  for (const Case& c : cases) {
    if (c.yes != nullptr) {
      EXPECT_EQ(Call(c.fn, std::string("[") + c.yes + "]"), "true") << c.fn;
    }
    if (c.no != nullptr) {
      EXPECT_EQ(Call(c.fn, std::string("[") + c.no + "]"), "false") << c.fn;
    }
  }
}

TEST(BuiltinsTypes, TypeAndMeta) {
  EXPECT_EQ(Call("type", "[1]"), "java.lang.Long");
  EXPECT_EQ(Call("type", "[\"a\"]"), "java.lang.String");
  EXPECT_EQ(Call("type", "[:a]"), "clojure.lang.Keyword");
  EXPECT_EQ(Call("type", "[{}]"), "clojure.lang.PersistentArrayMap");
  EXPECT_EQ(Call("class", "[1.5]"), "java.lang.Double");
  EXPECT_EQ(Call("type", "[nil]"), "nil");
  EXPECT_EQ(Call("meta", "[[1]]"), "nil");
}

TEST(BuiltinsNames, NameAndNamespace) {
  EXPECT_EQ(Call("name", "[:a/b]"), "\"b\"");
  EXPECT_EQ(Call("name", "[:b]"), "\"b\"");
  EXPECT_EQ(Call("name", "[x/y]"), "\"y\"");
  EXPECT_EQ(Call("name", "[\"s/t\"]"), "\"s/t\"");
  EXPECT_EQ(Err("name", "[1]"), "name expects a string, keyword or symbol, got 1");
  EXPECT_EQ(Call("namespace", "[:a/b]"), "\"a\"");
  EXPECT_EQ(Call("namespace", "[:b]"), "nil");
  EXPECT_EQ(Call("namespace", "[x/y]"), "\"x\"");
  EXPECT_EQ(Err("namespace", "[\"a/b\"]"), "namespace expects a keyword or symbol, got \"a/b\"");
}

TEST(BuiltinsNames, KeywordAndSymbol) {
  EXPECT_EQ(Call("keyword", "[\"Ivan\"]"), ":Ivan");
  EXPECT_EQ(Call("keyword", "[\"a/b\"]"), ":a/b");
  EXPECT_EQ(Call("keyword", "[:x]"), ":x");
  EXPECT_EQ(Call("keyword", "[x/y]"), ":x/y");
  EXPECT_EQ(Call("keyword", "[nil]"), "nil");
  EXPECT_EQ(Call("keyword", "[1]"), "nil");
  EXPECT_EQ(Call("keyword", "[\"ns\" \"n\"]"), ":ns/n");
  EXPECT_EQ(Call("keyword", "[nil \"n\"]"), ":n");
  EXPECT_EQ(Err("keyword", "[1 \"n\"]"), "keyword expects a string or nil namespace, got 1");
  EXPECT_EQ(Err("keyword", "[\"ns\" 1]"), "keyword expects a string, got 1");
  EXPECT_EQ(Call("symbol", "[\"a\"]"), "a");
  EXPECT_EQ(Call("symbol", "[\"ns\" \"a\"]"), "ns/a");
  EXPECT_EQ(Call("symbol", "[nil \"a\"]"), "a");
  EXPECT_EQ(Call("symbol", "[:a/b]"), "a/b");
  EXPECT_EQ(Call("symbol", "[s]"), "s");
  EXPECT_EQ(Err("symbol", "[1]"), "symbol expects a string, got 1");
}

// ---------------------------------------------------------------------------------------------------
// Collections

TEST(BuiltinsCollections, Constructors) {
  EXPECT_EQ(Call("vector", "[1 2]"), "[1 2]");
  EXPECT_EQ(Call("vector", "[]"), "[]");
  EXPECT_EQ(Call("list", "[1 2]"), "(1 2)");
  EXPECT_EQ(Call("hash-set", "[2 1 2]"), "#{1 2}");
  EXPECT_EQ(Call("set", "[[1 2 1]]"), "#{1 2}");
  EXPECT_EQ(Call("set", "[nil]"), "#{}");
  EXPECT_EQ(Call("set", "[\"aba\"]"), "#{\\a \\b}");
  EXPECT_EQ(Call("set", "[{:a 1}]"), "#{[:a 1]}");
  EXPECT_EQ(Err("set", "[1]"), "set expects a collection or string, got 1");
  EXPECT_EQ(Call("vec", "[(1 2)]"), "[1 2]");
  EXPECT_EQ(Call("vec", "[nil]"), "[]");
  EXPECT_EQ(Err("vec", "[:a]"), "vec expects a collection or string, got :a");
  EXPECT_EQ(Call("hash-map", "[:a 1 :b 2]"), "{:a 1, :b 2}");
  EXPECT_EQ(Call("hash-map", "[]"), "{}");
  EXPECT_EQ(Call("array-map", "[:a 1 :a 2]"), "{:a 2}");
  EXPECT_EQ(Err("hash-map", "[:a 1 :b]"), "hash-map: no value supplied for key :b");
}

TEST(BuiltinsCollections, CountAndEmptiness) {
  EXPECT_EQ(Call("count", "[[1 2]]"), "2");
  EXPECT_EQ(Call("count", "[\"h\u00e9llo\"]"), "5");  // characters, not bytes
  EXPECT_EQ(Call("count", "[nil]"), "0");
  EXPECT_EQ(Call("count", "[{:a 1}]"), "1");
  EXPECT_EQ(Call("count", "[#bytes \"aGk=\"]"), "2");
  EXPECT_EQ(Err("count", "[1]"), "count expects a collection or string, got 1");
  EXPECT_EQ(Call("empty?", "[[]]"), "true");
  EXPECT_EQ(Call("empty?", "[\"\"]"), "true");
  EXPECT_EQ(Call("empty?", "[nil]"), "true");
  EXPECT_EQ(Call("empty?", "[{:a 1}]"), "false");
  EXPECT_EQ(Err("empty?", "[1]"), "empty? expects a collection or string, got 1");
  EXPECT_EQ(Call("not-empty", "[[]]"), "nil");
  EXPECT_EQ(Call("not-empty", "[[1]]"), "[1]");
  EXPECT_EQ(Call("not-empty", "[\"\"]"), "nil");
  EXPECT_EQ(Err("not-empty", "[:a]"), "not-empty expects a collection or string, got :a");
  EXPECT_EQ(Call("empty", "[[1]]"), "[]");
  EXPECT_EQ(Call("empty", "[(1)]"), "()");
  EXPECT_EQ(Call("empty", "[#{1}]"), "#{}");
  EXPECT_EQ(Call("empty", "[{:a 1}]"), "{}");
  EXPECT_EQ(Call("empty", "[\"a\"]"), "nil");
  EXPECT_EQ(Call("seq", "[[]]"), "nil");
  EXPECT_EQ(Call("seq", "[[1 2]]"), "(1 2)");
  EXPECT_EQ(Call("seq", "[\"ab\"]"), "(\\a \\b)");
  EXPECT_EQ(Call("seq", "[{:a 1}]"), "([:a 1])");
  EXPECT_EQ(Err("seq", "[1]"), "seq expects a collection or string, got 1");
}

TEST(BuiltinsCollections, Get) {
  EXPECT_EQ(Call("get", "[{:a 1} :a]"), "1");
  EXPECT_EQ(Call("get", "[{:a 1} :b]"), "nil");
  EXPECT_EQ(Call("get", "[{:a 1} :b 0]"), "0");
  EXPECT_EQ(Call("get", "[{:b 1} :d]"), "nil");
  EXPECT_EQ(Call("get", "[{[1 2] :v} [1 2]]"), ":v");
  EXPECT_EQ(Call("get", "[[1 2] 1]"), "2");
  EXPECT_EQ(Call("get", "[[1 2] 5 :nf]"), ":nf");
  EXPECT_EQ(Call("get", "[[1 2] -1]"), "nil");
  EXPECT_EQ(Call("get", "[#{1 2} 2]"), "2");
  EXPECT_EQ(Call("get", "[#{1 2} 3]"), "nil");
  EXPECT_EQ(Call("get", "[\"abc\" 1]"), "\\b");
  EXPECT_EQ(Call("get", "[\"abc\" 3]"), "nil");
  EXPECT_EQ(Call("get", "[nil :a]"), "nil");
  EXPECT_EQ(Call("get", "[1 :a :nf]"), ":nf");
  EXPECT_EQ(Call("get", "[(1 2) 0]"), "nil");  // lists have no keys in Clojure
  EXPECT_EQ(Call("get-in", "[{:a {:b 1}} [:a :b]]"), "1");
  EXPECT_EQ(Call("get-in", "[{:a [5 6]} [:a 1]]"), "6");
  EXPECT_EQ(Call("get-in", "[{:a 1} [:x :y]]"), "nil");
  EXPECT_EQ(Call("get-in", "[{:a 1} [:x :y] :nf]"), ":nf");
  EXPECT_EQ(Call("get-in", "[{:a {:b 1}} []]"), "{:a {:b 1}}");
  EXPECT_EQ(Err("get-in", "[{:a 1} :a]"), "get-in expects a collection or string, got :a");
}

TEST(BuiltinsCollections, Contains) {
  EXPECT_EQ(Call("contains?", "[{:a 1} :a]"), "true");
  EXPECT_EQ(Call("contains?", "[{:a nil} :a]"), "true");
  EXPECT_EQ(Call("contains?", "[{:a 1} :b]"), "false");
  EXPECT_EQ(Call("contains?", "[#{1} 1]"), "true");
  EXPECT_EQ(Call("contains?", "[#{1} 1N]"), "true");
  EXPECT_EQ(Call("contains?", "[#{1} 1.0]"), "false");
  EXPECT_EQ(Call("contains?", "[#{\"n0\" \"n299\"} \"n0\"]"), "true");
  EXPECT_EQ(Call("contains?", "[[5 6] 1]"), "true");
  EXPECT_EQ(Call("contains?", "[[5 6] 2]"), "false");
  EXPECT_EQ(Call("contains?", "[[5 6] 5]"), "false");  // keys of a vector are its indices
  EXPECT_EQ(Call("contains?", "[\"ab\" 1]"), "true");
  EXPECT_EQ(Call("contains?", "[nil 1]"), "false");
  EXPECT_EQ(Err("contains?", "[(1 2) 1]"),
            "contains? expects a map, set, vector or string, got (1 2)");
  EXPECT_EQ(Err("contains?", "[5 1]"), "contains? expects a map, set, vector or string, got 5");
}

TEST(BuiltinsCollections, Access) {
  EXPECT_EQ(Call("first", "[[1 2 3]]"), "1");
  EXPECT_EQ(Call("first", "[[]]"), "nil");
  EXPECT_EQ(Call("first", "[nil]"), "nil");
  EXPECT_EQ(Call("first", "[\"ab\"]"), "\\a");
  EXPECT_EQ(Call("first", "[{:a 1}]"), "[:a 1]");
  EXPECT_EQ(Err("first", "[1]"), "first expects a collection or string, got 1");
  EXPECT_EQ(Call("second", "[[1 2 3]]"), "2");
  EXPECT_EQ(Call("second", "[[1]]"), "nil");
  EXPECT_EQ(Call("last", "[[1 2 3]]"), "3");
  EXPECT_EQ(Call("last", "[[]]"), "nil");
  EXPECT_EQ(Call("rest", "[[1 2 3]]"), "(2 3)");
  EXPECT_EQ(Call("rest", "[[]]"), "()");
  EXPECT_EQ(Call("rest", "[nil]"), "()");
  EXPECT_EQ(Call("next", "[[1 2 3]]"), "(2 3)");
  EXPECT_EQ(Call("next", "[[1]]"), "nil");
  EXPECT_EQ(Call("nth", "[[1 2 3] 1]"), "2");
  EXPECT_EQ(Call("nth", "[(1 2 3) 2]"), "3");
  EXPECT_EQ(Call("nth", "[\"abc\" 2]"), "\\c");
  EXPECT_EQ(Call("nth", "[[1] 5 :nf]"), ":nf");
  EXPECT_EQ(Call("nth", "[nil 0]"), "nil");
  EXPECT_EQ(Err("nth", "[[1] 5]"), "nth: index 5 out of bounds for length 1");
  EXPECT_EQ(Err("nth", "[[1] -1]"), "nth: index -1 out of bounds for length 1");
  EXPECT_EQ(Err("nth", "[#{1} 0]"), "nth expects a list, vector or string, got #{1}");
  EXPECT_EQ(Err("nth", "[[1] \"0\"]"), "nth expects an integer, got \"0\"");
}

TEST(BuiltinsCollections, SequenceFunctions) {
  EXPECT_EQ(Call("concat", "[[1] (2) nil #{3}]"), "(1 2 3)");
  EXPECT_EQ(Call("concat", "[]"), "()");
  EXPECT_EQ(Err("concat", "[[1] 2]"), "concat expects a collection or string, got 2");
  EXPECT_EQ(Call("distinct", "[[1 2 1 1.0 2]]"), "(1 2 1.0)");
  EXPECT_EQ(Call("sort", "[[3 1 2]]"), "(1 2 3)");
  EXPECT_EQ(Call("sort", "[[\"b\" \"a\"]]"), "(\"a\" \"b\")");
  EXPECT_EQ(Call("reverse", "[[1 2 3]]"), "(3 2 1)");
  EXPECT_EQ(Call("keys", "[{:a 1 :b 2}]"), "(:a :b)");
  EXPECT_EQ(Call("vals", "[{:a 1 :b 2}]"), "(1 2)");
  EXPECT_EQ(Call("keys", "[{}]"), "nil");
  EXPECT_EQ(Call("vals", "[nil]"), "nil");
  EXPECT_EQ(Err("keys", "[[1]]"), "keys expects a map, got [1]");
}

TEST(BuiltinsCollections, Range) {
  EXPECT_EQ(Call("range", "[3]"), "(0 1 2)");
  EXPECT_EQ(Call("range", "[1 4]"), "(1 2 3)");
  EXPECT_EQ(Call("range", "[0 10 3]"), "(0 3 6 9)");
  EXPECT_EQ(Call("range", "[5 0 -2]"), "(5 3 1)");
  EXPECT_EQ(Call("range", "[0]"), "()");
  EXPECT_EQ(Call("range", "[-3]"), "()");
  EXPECT_EQ(Call("range", "[3 1]"), "()");
  EXPECT_EQ(Call("range", "[1 1 0]"), "()");
  EXPECT_EQ(Call("range", "[0 1 0.25]"), "(0 0.25 0.5 0.75)");
  EXPECT_EQ(Call("range", "[1.5]"), "(0 1)");
  EXPECT_EQ(Call("range", "[1N 3]"), "(1N 2N)");
  EXPECT_EQ(Call("range", "[9223372036854775806 9223372036854775807 2]"), "(9223372036854775806)");
  EXPECT_EQ(Err("range", "[0 5 0]"), "range: a zero step gives an infinite range");
  EXPECT_EQ(Err("range", "[100000000]"), "range: range longer than 10000000 elements");
  EXPECT_EQ(Err("range", "[0 1e300 1e-300]"), "range: range longer than 10000000 elements");
  EXPECT_EQ(Err("range", "[\"a\"]"), "range expects numbers, got \"a\"");
  EXPECT_EQ(Err("range", "[0 ##NaN]"), "range: NaN bound");
  EXPECT_EQ(Err("range", "[]"), "range called with 0 arguments, expects 1 to 3");
}

// ---------------------------------------------------------------------------------------------------
// Strings

TEST(BuiltinsStrings, Str) {
  EXPECT_EQ(Call("str", "[]"), "\"\"");
  EXPECT_EQ(Call("str", "[nil]"), "\"\"");
  EXPECT_EQ(Call("str", "[\"a\" 1 :k/w sym \\c nil true 1N 1.5M]"), "\"a1:k/wsymctrue11.5\"");
  EXPECT_EQ(Call("str", "[[1 \"a\" \\c nil]]"), "\"[1 \\\"a\\\" \\\\c nil]\"");
  EXPECT_EQ(Call("str", "[{:a \"x\"}]"), "\"{:a \\\"x\\\"}\"");
  EXPECT_EQ(Call("str", "[(1 2) #{3}]"), "\"(1 2)#{3}\"");
  EXPECT_EQ(Call("str", "[[1N 2.5M ##Inf]]"), "\"[1N 2.5M ##Inf]\"");
  EXPECT_EQ(Call("str", "[#uuid \"6F9619FF-8B86-D011-B42D-00CF4FC964FF\"]"),
            "\"6f9619ff-8b86-d011-b42d-00cf4fc964ff\"");
  EXPECT_EQ(Call("str", "[#inst \"2024-01-01T00:00:00.000-00:00\"]"),
            "\"Mon Jan 01 00:00:00 UTC 2024\"");
  EXPECT_EQ(Call("str", "[#inst \"1969-12-31T23:59:59.999-00:00\"]"),
            "\"Wed Dec 31 23:59:59 UTC 1969\"");
}

TEST(BuiltinsStrings, StrOfDoublesIsJavas) {
  const std::pair<const char*, const char*> cases[] = {
      {"1.5", "1.5"},
      {"100.0", "100.0"},
      {"1e7", "1.0E7"},
      {"1e21", "1.0E21"},
      {"1234567.0", "1234567.0"},
      {"0.001", "0.001"},
      {"1e-4", "1.0E-4"},
      {"-2.5e-10", "-2.5E-10"},
      {"123456.789", "123456.789"},
      {"-0.0", "-0.0"},
      {"0.0", "0.0"},
      {"##Inf", "Infinity"},
      {"##-Inf", "-Infinity"},
      {"##NaN", "NaN"},
      {"1.2345678e7", "1.2345678E7"},
  };
  for (const auto& [in, out] : cases) {
    EXPECT_EQ(E(Call("str", std::string("[") + in + "]")).as_string(), out) << in;
  }
}

TEST(BuiltinsStrings, Printing) {
  EXPECT_EQ(Call("pr-str", "[\"a\" 1 nil]"), "\"\\\"a\\\" 1 nil\"");
  EXPECT_EQ(Call("pr-str", "[1N 1.5M ##Inf \\c 1e21]"), "\"1N 1.5M ##Inf \\\\c 1.0E21\"");
  EXPECT_EQ(Call("pr-str", "[]"), "\"\"");
  EXPECT_EQ(Call("prn-str", "[\"a\"]"), "\"\\\"a\\\"\\n\"");
  EXPECT_EQ(Call("print-str", "[\"a\" [\"b\" \\c] nil 1N]"), "\"a [b c] nil 1\"");
  EXPECT_EQ(Call("println-str", "[\"a\" \"b\"]"), "\"a b\\n\"");
}

TEST(BuiltinsStrings, Subs) {
  EXPECT_EQ(Call("subs", "[\"hello\" 1]"), "\"ello\"");
  EXPECT_EQ(Call("subs", "[\"hello\" 1 3]"), "\"el\"");
  EXPECT_EQ(Call("subs", "[\"hello\" 5]"), "\"\"");
  EXPECT_EQ(Call("subs", "[\"h\u00e9llo\" 1 2]"), "\"\u00e9\"");
  EXPECT_EQ(Err("subs", "[\"abc\" 4]"), "subs: index 4 out of range for a string of length 3");
  EXPECT_EQ(Err("subs", "[\"abc\" -1]"), "subs: index -1 out of range for a string of length 3");
  EXPECT_EQ(Err("subs", "[\"abc\" 2 1]"), "subs: end index before start index");
  EXPECT_EQ(Err("subs", "[1 0]"), "subs expects a string, got 1");
  EXPECT_EQ(Err("subs", "[\"abc\" 1.0]"), "subs expects an integer, got 1.0");
}

TEST(BuiltinsStrings, Predicates) {
  EXPECT_EQ(Call("clojure.string/blank?", "[nil]"), "true");
  EXPECT_EQ(Call("clojure.string/blank?", "[\"\"]"), "true");
  EXPECT_EQ(Call("clojure.string/blank?", "[\" \\t\\n\"]"), "true");
  EXPECT_EQ(Call("clojure.string/blank?", "[\"\u2003\"]"), "true");   // em space
  EXPECT_EQ(Call("clojure.string/blank?", "[\"\u00a0\"]"), "false");  // no-break space
  EXPECT_EQ(Call("clojure.string/blank?", "[\" a \"]"), "false");
  EXPECT_EQ(Err("clojure.string/blank?", "[1]"), "clojure.string/blank? expects a string, got 1");
  EXPECT_EQ(Call("clojure.string/includes?", "[\"hello\" \"ell\"]"), "true");
  EXPECT_EQ(Call("clojure.string/includes?", "[\"hello\" \"xyz\"]"), "false");
  EXPECT_EQ(Call("clojure.string/includes?", "[\"hello\" \"\"]"), "true");
  EXPECT_EQ(Err("clojure.string/includes?", "[nil \"a\"]"),
            "clojure.string/includes? expects a string, got nil");
  EXPECT_EQ(Call("clojure.string/starts-with?", "[\"hello\" \"he\"]"), "true");
  EXPECT_EQ(Call("clojure.string/starts-with?", "[\"hello\" \"lo\"]"), "false");
  EXPECT_EQ(Call("clojure.string/ends-with?", "[\"hello\" \"lo\"]"), "true");
  EXPECT_EQ(Call("clojure.string/ends-with?", "[\"hello\" \"he\"]"), "false");
  EXPECT_EQ(Err("clojure.string/ends-with?", "[\"a\" \\a]"),
            "clojure.string/ends-with? expects a string, got \\a");
}

TEST(BuiltinsStrings, Case) {
  EXPECT_EQ(Call("clojure.string/lower-case", "[\"HeLLo 42\"]"), "\"hello 42\"");
  EXPECT_EQ(Call("clojure.string/upper-case", "[\"alice\"]"), "\"ALICE\"");
  EXPECT_EQ(Call("clojure.string/upper-case", "[\"stra\u00dfe\"]"), "\"STRASSE\"");
  EXPECT_EQ(Call("clojure.string/lower-case", "[\"\u00c0\u00c9\u00ce\u0178\"]"),
            "\"\u00e0\u00e9\u00ee\u00ff\"");
  EXPECT_EQ(Call("clojure.string/upper-case", "[\"\u00e0\u00e9\u00ee\u00ff\u0101\"]"),
            "\"\u00c0\u00c9\u00ce\u0178\u0100\"");
  EXPECT_EQ(Call("clojure.string/upper-case", "[\"\u043f\u0440\u0438\u0432\u0435\u0442\"]"),
            "\"\u041f\u0420\u0418\u0412\u0415\u0422\"");
  EXPECT_EQ(Call("clojure.string/lower-case", "[\"\u03a9mega \u0391\"]"), "\"\u03c9mega \u03b1\"");
  EXPECT_EQ(Call("clojure.string/upper-case", "[\"\u03c2\"]"), "\"\u03a3\"");
  EXPECT_EQ(Call("clojure.string/upper-case", "[\"\u65e5\u672c\"]"), "\"\u65e5\u672c\"");
  EXPECT_EQ(Err("clojure.string/upper-case", "[:a]"),
            "clojure.string/upper-case expects a string, got :a");
  EXPECT_EQ(Call("clojure.string/capitalize", "[\"hELLO wORLD\"]"), "\"Hello world\"");
  EXPECT_EQ(Call("clojure.string/capitalize", "[\"\"]"), "\"\"");
  EXPECT_EQ(Call("clojure.string/capitalize", "[\"\u00e9t\u00c9\"]"), "\"\u00c9t\u00e9\"");
}

TEST(BuiltinsStrings, Trim) {
  EXPECT_EQ(Call("clojure.string/trim", "[\"  a b  \"]"), "\"a b\"");
  EXPECT_EQ(Call("clojure.string/triml", "[\"  a b  \"]"), "\"a b  \"");
  EXPECT_EQ(Call("clojure.string/trimr", "[\"  a b  \"]"), "\"  a b\"");
  EXPECT_EQ(Call("clojure.string/trim", "[\"\\t\\n\u2003x\u3000\"]"), "\"x\"");
  EXPECT_EQ(Call("clojure.string/trim", "[\"   \"]"), "\"\"");
  EXPECT_EQ(Call("clojure.string/trim", "[\"\u00a0x\"]"), "\"\u00a0x\"");
  EXPECT_EQ(Call("clojure.string/trim-newline", "[\"a\\r\\n\"]"), "\"a\"");
  EXPECT_EQ(Call("clojure.string/trim-newline", "[\"a\\n\\n\"]"), "\"a\"");
  EXPECT_EQ(Call("clojure.string/trim-newline", "[\"a \\n\"]"), "\"a \"");
  EXPECT_EQ(Err("clojure.string/trim", "[nil]"), "clojure.string/trim expects a string, got nil");
}

TEST(BuiltinsStrings, ReverseIndexJoin) {
  EXPECT_EQ(Call("clojure.string/reverse", "[\"abc\"]"), "\"cba\"");
  EXPECT_EQ(Call("clojure.string/reverse", "[\"h\u00e9llo\"]"), "\"oll\u00e9h\"");
  EXPECT_EQ(Call("clojure.string/index-of", "[\"hello\" \"l\"]"), "2");
  EXPECT_EQ(Call("clojure.string/index-of", "[\"hello\" \\l]"), "2");
  EXPECT_EQ(Call("clojure.string/index-of", "[\"hello\" \"z\"]"), "nil");
  EXPECT_EQ(Call("clojure.string/index-of", "[\"hello\" \"l\" 3]"), "3");
  EXPECT_EQ(Call("clojure.string/index-of", "[\"hello\" \"l\" -5]"), "2");
  EXPECT_EQ(Call("clojure.string/index-of", "[\"hello\" \"l\" 10]"), "nil");
  EXPECT_EQ(Call("clojure.string/index-of", "[\"h\u00e9llo\" \"l\"]"), "2");
  EXPECT_EQ(Call("clojure.string/index-of", "[\"abc\" \"\"]"), "0");
  EXPECT_EQ(Call("clojure.string/last-index-of", "[\"hello\" \"l\"]"), "3");
  EXPECT_EQ(Call("clojure.string/last-index-of", "[\"hello\" \"l\" 2]"), "2");
  EXPECT_EQ(Call("clojure.string/last-index-of", "[\"hello\" \"l\" 1]"), "nil");
  EXPECT_EQ(Call("clojure.string/last-index-of", "[\"hello\" \"l\" -1]"), "nil");
  EXPECT_EQ(Err("clojure.string/index-of", "[\"hello\" 1]"),
            "clojure.string/index-of expects a string, got 1");
  EXPECT_EQ(Call("clojure.string/join", "[[1 2 3]]"), "\"123\"");
  EXPECT_EQ(Call("clojure.string/join", "[\", \" [\"a\" nil :b]]"), "\"a, , :b\"");
  EXPECT_EQ(Call("clojure.string/join", "[\",\" []]"), "\"\"");
  EXPECT_EQ(Call("clojure.string/join", "[\\- \"abc\"]"), "\"a-b-c\"");
  EXPECT_EQ(Err("clojure.string/join", "[\",\" 1]"),
            "clojure.string/join expects a collection or string, got 1");
}

TEST(BuiltinsStrings, ReplaceAndEscape) {
  EXPECT_EQ(Call("clojure.string/replace", "[\"a.b.c\" \".\" \"-\"]"), "\"a-b-c\"");
  EXPECT_EQ(Call("clojure.string/replace", "[\"aaa\" \"a\" \"bb\"]"), "\"bbbbbb\"");
  EXPECT_EQ(Call("clojure.string/replace", "[\"abc\" \"\" \"-\"]"), "\"-a-b-c-\"");
  EXPECT_EQ(Call("clojure.string/replace", "[\"abc\" \\b \\x]"), "\"axc\"");
  EXPECT_EQ(Err("clojure.string/replace", "[\"abc\" \"b\" \\x]"),
            "clojure.string/replace expects a match and replacement of one kind (two strings or "
            "two characters), got \\x");
  EXPECT_EQ(Call("clojure.string/replace-first", "[\"a.b.c\" \".\" \"-\"]"), "\"a-b.c\"");
  EXPECT_EQ(Call("clojure.string/replace-first", "[\"abc\" \"\" \"-\"]"), "\"-abc\"");
  EXPECT_EQ(Call("clojure.string/replace-first", "[\"abc\" \"x\" \"-\"]"), "\"abc\"");
  EXPECT_EQ(Call("clojure.string/escape", "[\"a<b>\" {\\< \"&lt;\" \\> \"&gt;\"}]"),
            "\"a&lt;b&gt;\"");
  EXPECT_EQ(Err("clojure.string/escape", "[\"a\" [1]]"),
            "clojure.string/escape expects a map of characters, got [1]");
}

TEST(BuiltinsStrings, Split) {
  EXPECT_EQ(Call("clojure.string/split", "[\"a,b,,c,,\" \",\"]"), "[\"a\" \"b\" \"\" \"c\"]");
  EXPECT_EQ(Call("clojure.string/split", "[\"a1b22c\" \"\\\\d+\"]"), "[\"a\" \"b\" \"c\"]");
  EXPECT_EQ(Call("clojure.string/split", "[\"abc\" \"\"]"), "[\"a\" \"b\" \"c\"]");
  EXPECT_EQ(Call("clojure.string/split", "[\"\" \",\"]"), "[\"\"]");
  EXPECT_EQ(Call("clojure.string/split", "[\"abc\" \"x\"]"), "[\"abc\"]");
  EXPECT_EQ(Call("clojure.string/split", "[\",a\" \",\"]"), "[\"\" \"a\"]");
  EXPECT_EQ(Call("clojure.string/split", "[\"a,b,c\" \",\" 2]"), "[\"a\" \"b,c\"]");
  EXPECT_EQ(Call("clojure.string/split", "[\"a,b,c\" \",\" 1]"), "[\"a,b,c\"]");
  EXPECT_EQ(Call("clojure.string/split", "[\"a,b,,\" \",\" -1]"), "[\"a\" \"b\" \"\" \"\"]");
  EXPECT_EQ(Call("clojure.string/split", "[\"h\u00e9\u00e9o\" \"\u00e9\"]"), "[\"h\" \"\" \"o\"]");
  EXPECT_EQ(Call("clojure.string/split", "[\"a b\" \"\\\\s\"]"), "[\"a\" \"b\"]");
  EXPECT_TRUE(StartsWith(Err("clojure.string/split", "[\"a b\" \"(\"]"),
                         "clojure.string/split: invalid pattern \"(\": "));
  EXPECT_EQ(Call("clojure.string/split-lines", "[\"a\\nb\\r\\nc\\n\\n\"]"), "[\"a\" \"b\" \"c\"]");
  EXPECT_EQ(Call("clojure.string/split-lines", "[\"\"]"), "[\"\"]");
  EXPECT_EQ(Call("clojure.string/split-lines", "[\"\\n\"]"), "[]");
  EXPECT_EQ(Call("clojure.string/split-lines", "[\"\\na\"]"), "[\"\" \"a\"]");
}

// ---------------------------------------------------------------------------------------------------
// Regular expressions

TEST(BuiltinsRegex, PatternIsItsString) {
  EXPECT_EQ(Call("re-pattern", "[\"X\"]"), "\"X\"");
  EXPECT_TRUE(StartsWith(Err("re-pattern", "[\"(\"]"), "re-pattern: invalid pattern \"(\": "));
  EXPECT_EQ(Err("re-pattern", "[1]"), "re-pattern expects a string, got 1");
}

TEST(BuiltinsRegex, Find) {
  EXPECT_EQ(Call("re-find", "[\"X\" \"aXb\"]"), "\"X\"");
  EXPECT_EQ(Call("re-find", "[\"X\" \"abc\"]"), "nil");
  EXPECT_EQ(Call("re-find", "[\"\\\\d+\" \"ab123cd45\"]"), "\"123\"");
  EXPECT_EQ(Call("re-find", "[\"a(b)?(c)\" \"xac\"]"), "[\"ac\" nil \"c\"]");
  EXPECT_EQ(Call("re-find", "[\"(?i)abc\" \"xABCx\"]"), "\"ABC\"");
  EXPECT_EQ(Call("re-find", "[\"(?:ab)+\" \"xababx\"]"), "\"abab\"");
  EXPECT_EQ(Call("re-find", "[\"h.llo\" \"h\u00e9llo\"]"), "\"h\u00e9llo\"");
  EXPECT_EQ(Call("re-find", "[\"^b\" \"ab\"]"), "nil");
  EXPECT_EQ(Call("re-find", "[\"a+?\" \"aaa\"]"), "\"a\"");
  EXPECT_EQ(Err("re-find", "[1 \"a\"]"), "re-find expects a string, got 1");
  EXPECT_EQ(Err("re-find", "[\"a\" nil]"), "re-find expects a string, got nil");
  EXPECT_EQ(Err("re-find", "[\"(a)\\\\1\" \"aa\"]"),
            "re-find: invalid pattern \"(a)\\\\1\": back-references are not supported");
}

TEST(BuiltinsRegex, MatchesAndSeq) {
  EXPECT_EQ(Call("re-matches", "[\"a.c\" \"abc\"]"), "\"abc\"");
  EXPECT_EQ(Call("re-matches", "[\"a\" \"ab\"]"), "nil");
  EXPECT_EQ(Call("re-matches", "[\"(a)(b)\" \"ab\"]"), "[\"ab\" \"a\" \"b\"]");
  EXPECT_EQ(Call("re-seq", "[\"\\\\d+\" \"a1b22c333\"]"), "(\"1\" \"22\" \"333\")");
  EXPECT_EQ(Call("re-seq", "[\"x\" \"abc\"]"), "nil");
  EXPECT_EQ(Call("re-seq", "[\"\" \"ab\"]"), "(\"\" \"\" \"\")");
  EXPECT_EQ(Call("re-seq", "[\"(\\\\w)=(\\\\d)\" \"a=1 b=2\"]"),
            "([\"a=1\" \"a\" \"1\"] [\"b=2\" \"b\" \"2\"])");
  EXPECT_EQ(Call("re-seq", "[\"\\\\bb\" \"ab b\"]"), "(\"b\")");
}

TEST(BuiltinsRegex, LongInputsDoNotOverflowTheStack) {
  std::string big(300000, 'a');
  Value pattern = Value::String("(a|b)*");
  Value subject = Value::String(big);
  Value found = CallValue("re-find", {pattern, subject});
  EXPECT_EQ(found.items()[0].as_string().size(), big.size());
  Value matched = CallValue("re-matches", {Value::String("[ab]*c?"), subject});
  EXPECT_EQ(matched.as_string().size(), big.size());
  Value parts = CallValue("clojure.string/split", {Value::String(big + ",x"), Value::String(",")});
  EXPECT_EQ(parts.size(), 2u);
}

TEST(BuiltinsRegex, PatternLimits) {
  EXPECT_EQ(Err("re-find", "[\"" + std::string(1001, 'a') + "\" \"a\"]"),
            "re-find: pattern longer than 1000 characters");
  EXPECT_EQ(Err("re-find", "[\"" + std::string(65, '(') + "a" + std::string(65, ')') + "\" \"a\"]"),
            "re-find: pattern nested deeper than 64 groups");
  EXPECT_EQ(Call("re-find", "[\"" + std::string(64, '(') + "a" + std::string(64, ')') + "\" \"a\"]")
                .substr(0, 5),
            "[\"a\" ");
  EXPECT_EQ(Call("re-find", "[\"[((((((]\" \"(\"]"), "\"(\"");  // parentheses in a class
}

TEST(BuiltinsRegex, ConcurrentUse) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &failures] {
      for (int i = 0; i < 2000; ++i) {
        std::string digits = std::to_string((i * 7 + t) % 600);
        Value r = CallValue(
            "re-find", {Value::String("x" + digits + "y"), Value::String("ax" + digits + "yb")});
        if (r.as_string() != "x" + digits + "y") ++failures;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

// ---------------------------------------------------------------------------------------------------
// Aggregates

TEST(BuiltinsAggregates, CountAndSum) {
  EXPECT_EQ(Agg("count", "[]", "[10 15 20 35 75]"), "5");
  EXPECT_EQ(Agg("count", "[]", "[1 1 2]"), "3");
  EXPECT_EQ(Agg("count", "[]", "[]"), "0");
  EXPECT_EQ(Agg("count-distinct", "[]", "[1 1 2 1.0 1N]"), "3");
  EXPECT_EQ(Agg("count-distinct", "[]", "[]"), "0");
  EXPECT_EQ(Agg("sum", "[]", "[10 15 20 35 75]"), "155");
  EXPECT_EQ(Agg("sum", "[]", "[2.5 10]"), "12.5");
  EXPECT_EQ(Agg("sum", "[]", "[1 2 3.5]"), "6.5");
  EXPECT_EQ(Agg("sum", "[]", "[1N 2]"), "3N");
  EXPECT_EQ(Agg("sum", "[]", "[1.5M 1]"), "2.5M");
  EXPECT_EQ(Agg("sum", "[]", "[]"), "0");
  EXPECT_EQ(AggErr("sum", "[]", "[1 \"a\"]"), "sum expects numbers, got \"a\"");
  EXPECT_EQ(AggErr("sum", "[]", "[9223372036854775807 1]"), "sum: integer overflow");
  EXPECT_EQ(AggErr("count", "[1]", "[1]"), "aggregate count takes 0 leading parameters, got 1");
}

TEST(BuiltinsAggregates, AverageAndSpread) {
  EXPECT_EQ(Agg("avg", "[]", "[10 15 20 35 75]"), "31.0");
  EXPECT_EQ(Agg("avg", "[]", "[1 2]"), "1.5");
  EXPECT_EQ(Agg("avg", "[]", "[10 2.5]"), "6.25");
  EXPECT_EQ(Agg("avg", "[]", "[1 2 3.5]"), "2.1666666666666665");
  EXPECT_EQ(Agg("avg", "[]", "[1.5M 2N]"), "1.75");
  EXPECT_EQ(Agg("avg", "[]", "[9223372036854775807 9223372036854775807]"),
            "9223372036854775808.0");  // no overflow
  EXPECT_EQ(Agg("avg", "[]", "[]"), "nil");
  EXPECT_EQ(AggErr("avg", "[]", "[:a]"), "avg expects numbers, got :a");
  EXPECT_EQ(Agg("variance", "[]", "[10 15 20 35 75]"), "554.0");
  EXPECT_EQ(Agg("variance", "[]", "[10 20 30 12]"), "62.0");
  EXPECT_EQ(Agg("variance", "[]", "[7]"), "0.0");
  EXPECT_EQ(Agg("variance", "[]", "[]"), "nil");
  EXPECT_EQ(AggErr("variance", "[]", "[1 nil]"), "variance expects numbers, got nil");
  EXPECT_EQ(Agg("stddev", "[]", "[10 15 20 35 75]"), "23.53720459187964");
  EXPECT_EQ(Agg("stddev", "[]", "[7]"), "0.0");
  EXPECT_EQ(Agg("stddev", "[]", "[]"), "nil");
  EXPECT_EQ(AggErr("stddev", "[]", "[\"x\"]"), "stddev expects numbers, got \"x\"");
}

TEST(BuiltinsAggregates, Median) {
  EXPECT_EQ(Agg("median", "[]", "[1 2 3 4]"), "2.5");
  EXPECT_EQ(Agg("median", "[]", "[3 1 2]"), "2.0");
  EXPECT_EQ(Agg("median", "[]", "[4 1 3 2 5 6]"), "3.5");
  EXPECT_EQ(Agg("median", "[]", "[1 2.0]"), "1.5");
  EXPECT_EQ(Agg("median", "[]", "[9223372036854775807 9223372036854775807]"),
            "9223372036854775808.0");
  EXPECT_EQ(Agg("median", "[]", "[\"b\" \"a\" \"c\"]"), "\"b\"");
  EXPECT_EQ(Agg("median", "[]", "[]"), "nil");
  EXPECT_EQ(AggErr("median", "[]", "[\"a\" \"b\"]"), "median expects numbers, got \"a\"");
}

TEST(BuiltinsAggregates, MinMax) {
  EXPECT_EQ(Agg("min", "[]", "[10 15 20 35 75]"), "10");
  EXPECT_EQ(Agg("max", "[]", "[10 15 20 35 75]"), "75");
  EXPECT_EQ(Agg("min", "[]", "[10 2.5]"), "2.5");
  EXPECT_EQ(Agg("min", "[]", "[3.5 1 2]"), "1");
  EXPECT_EQ(Agg("min", "[]", "[\"b\" \"a\" \"c\"]"), "\"a\"");
  EXPECT_EQ(Agg("min", "[]", "[:a-/b :a/b]"), ":a/b");
  EXPECT_EQ(Agg("max", "[]", "[:a-/b :a/b]"), ":a-/b");
  EXPECT_EQ(Agg("min", "[]", "[]"), "nil");
  EXPECT_EQ(Agg("min", "[2]", "[:a/b :a-/b :a/c]"), "[:a/b :a/c]");
  EXPECT_EQ(Agg("max", "[2]", "[:a/b :a-/b :a/c]"), "[:a/c :a-/b]");
  EXPECT_EQ(Agg("max", "[3]", "[1 2 3 4 5]"), "[3 4 5]");
  EXPECT_EQ(Agg("min", "[3]", "[5 4 3 2 1]"), "[1 2 3]");
  EXPECT_EQ(Agg("max", "[3]", "[7 8]"), "[7 8]");
  EXPECT_EQ(Agg("min", "[2]", "[1 1 1]"), "[1 1]");
  EXPECT_EQ(Agg("min", "[0]", "[1]"), "[]");
  EXPECT_EQ(Agg("max", "[2]", "[]"), "[]");
  EXPECT_EQ(AggErr("min", "[-1]", "[1]"), "min expects a non-negative count, got -1");
  EXPECT_EQ(AggErr("max", "[\"2\"]", "[1]"), "max expects an integer, got \"2\"");
  EXPECT_EQ(AggErr("max", "[1 2]", "[1]"), "aggregate max takes 0 or 1 leading parameter, got 2");
}

TEST(BuiltinsAggregates, DistinctRandSample) {
  EXPECT_EQ(Agg("distinct", "[]", "[1 2 1]"), "#{1 2}");
  EXPECT_EQ(Agg("distinct", "[]", "[]"), "#{}");
  for (int i = 0; i < 50; ++i) {
    std::string one = Agg("rand", "[]", "[1 2 3]");
    EXPECT_TRUE(one == "1" || one == "2" || one == "3") << one;
    Value picks = E(Agg("rand", "[5]", "[1 2]"));
    ASSERT_EQ(picks.size(), 5u);
    for (const Value& p : picks.items()) EXPECT_TRUE(S(p) == "1" || S(p) == "2");
    Value sample = E(Agg("sample", "[2]", "[1 2 3]"));
    ASSERT_EQ(sample.size(), 2u);
    EXPECT_NE(S(sample.items()[0]), S(sample.items()[1]));
    Value all = E(Agg("sample", "[5]", "[1 2]"));
    EXPECT_EQ(S(E("#{" + S(all).substr(1, S(all).size() - 2) + "}")), "#{1 2}");
  }
  EXPECT_EQ(Agg("rand", "[]", "[]"), "nil");
  EXPECT_EQ(Agg("rand", "[3]", "[]"), "[]");
  EXPECT_EQ(Agg("sample", "[0]", "[1]"), "[]");
  EXPECT_EQ(Agg("sample", "[2]", "[]"), "[]");
  EXPECT_EQ(AggErr("sample", "[]", "[1]"), "aggregate sample takes 1 leading parameter, got 0");
  EXPECT_EQ(AggErr("rand", "[-2]", "[1]"), "rand expects a non-negative count, got -2");
}

// ---------------------------------------------------------------------------------------------------
// Robustness: every built-in, every small combination of odd arguments.

const char* const kAllBuiltins[] = {
    "=",
    "==",
    "not=",
    "!=",
    "<",
    ">",
    "<=",
    ">=",
    "before?",
    "after?",
    "compare",
    "-differ?",
    "distinct?",
    "+",
    "-",
    "*",
    "/",
    "quot",
    "rem",
    "mod",
    "inc",
    "dec",
    "abs",
    "max",
    "min",
    "zero?",
    "pos?",
    "neg?",
    "even?",
    "odd?",
    "NaN?",
    "infinite?",
    "rand",
    "rand-int",
    "rand-nth",
    "long",
    "int",
    "double",
    "float",
    "bigint",
    "bigdec",
    "char",
    "boolean",
    "parse-long",
    "parse-double",
    "parse-boolean",
    "inst-ms",
    "not",
    "and",
    "or",
    "true?",
    "false?",
    "nil?",
    "some?",
    "identity",
    "type",
    "class",
    "meta",
    "any?",
    "string?",
    "char?",
    "boolean?",
    "number?",
    "integer?",
    "int?",
    "pos-int?",
    "neg-int?",
    "nat-int?",
    "double?",
    "float?",
    "decimal?",
    "rational?",
    "ratio?",
    "keyword?",
    "symbol?",
    "ident?",
    "simple-keyword?",
    "qualified-keyword?",
    "simple-symbol?",
    "qualified-symbol?",
    "simple-ident?",
    "qualified-ident?",
    "uuid?",
    "inst?",
    "bytes?",
    "vector?",
    "list?",
    "map?",
    "set?",
    "coll?",
    "seq?",
    "sequential?",
    "associative?",
    "counted?",
    "seqable?",
    "name",
    "namespace",
    "keyword",
    "symbol",
    "vector",
    "list",
    "hash-set",
    "set",
    "vec",
    "hash-map",
    "array-map",
    "count",
    "get",
    "get-in",
    "contains?",
    "first",
    "second",
    "last",
    "rest",
    "next",
    "nth",
    "empty?",
    "not-empty",
    "empty",
    "seq",
    "concat",
    "distinct",
    "sort",
    "reverse",
    "keys",
    "vals",
    "range",
    "tuple",
    "untuple",
    "str",
    "subs",
    "pr-str",
    "prn-str",
    "print-str",
    "println-str",
    "re-pattern",
    "re-find",
    "re-matches",
    "re-seq",
    "clojure.string/blank?",
    "clojure.string/capitalize",
    "clojure.string/ends-with?",
    "clojure.string/escape",
    "clojure.string/includes?",
    "clojure.string/index-of",
    "clojure.string/join",
    "clojure.string/last-index-of",
    "clojure.string/lower-case",
    "clojure.string/replace",
    "clojure.string/replace-first",
    "clojure.string/reverse",
    "clojure.string/split",
    "clojure.string/split-lines",
    "clojure.string/starts-with?",
    "clojure.string/trim",
    "clojure.string/trim-newline",
    "clojure.string/triml",
    "clojure.string/trimr",
    "clojure.string/upper-case",
};

const char* const kAllAggregates[] = {"count",  "count-distinct", "sum",    "avg",
                                      "median", "variance",       "stddev", "min",
                                      "max",    "distinct",       "rand",   "sample"};

TEST(BuiltinsRobustness, EveryNameIsRegistered) {
  std::set<std::string> names;
  for (const char* name : kAllBuiltins) {
    EXPECT_NE(FindBuiltin(name), nullptr) << name;
    EXPECT_TRUE(names.insert(name).second) << "listed twice: " << name;
  }
  for (const char* name : kAllAggregates) EXPECT_NE(FindAggregate(name), nullptr) << name;
}

// Returns normally or throws Error(kQuery); anything else fails the test.
void ExpectValueOrQueryError(const std::string& name, const std::vector<Value>& args) {
  try {
    FindBuiltin(name)(args.data(), args.size());
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kQuery) << name << ": " << e.message();
  } catch (const std::exception& e) {
    ADD_FAILURE() << name << " threw a non-query exception: " << e.what();
  }
}

TEST(BuiltinsRobustness, OddArgumentsGiveValuesOrQueryErrors) {
  const std::vector<Value> pool =
      edn::Read(
          "[nil true 0 -1 2 9223372036854775807 1.5 ##NaN 3N 2.5M \"\" \"ab\" \"(\" :k a/b \\c "
          "[1 \"x\"] (1 2) #{1} {:a 1} #inst \"2024-01-01\" "
          "#uuid \"00000000-0000-0000-0000-000000000001\" -9223372036854775808 1e300 #bytes "
          "\"aGk=\"]")
          .items();
  const size_t small = 14;  // the pool's prefix used for three arguments
  for (const char* name : kAllBuiltins) {
    ExpectValueOrQueryError(name, {});
    for (const Value& x : pool) {
      ExpectValueOrQueryError(name, {x});
      for (const Value& y : pool) {
        ExpectValueOrQueryError(name, {x, y});
      }
    }
    for (size_t i = 0; i < small; ++i) {
      for (size_t j = 0; j < small; ++j) {
        for (size_t k = 0; k < small; ++k) {
          ExpectValueOrQueryError(name, {pool[i], pool[j], pool[k]});
        }
      }
    }
    ExpectValueOrQueryError(name, std::vector<Value>(40, Value::Long(1)));
  }
}

TEST(BuiltinsRobustness, AggregatesOverOddValues) {
  const std::vector<Value> pool =
      edn::Read("[nil 1 1.5 2N 2.5M \"a\" :k [1] #{2} ##NaN -9223372036854775808]").items();
  const std::vector<Value> params = edn::Read("[[] [0] [2] [-1] [\"x\"] [1 2]]").items();
  for (const char* name : kAllAggregates) {
    for (const Value& p : params) {
      for (size_t n = 0; n <= pool.size(); ++n) {
        std::vector<Value> values(pool.begin(), pool.begin() + n);
        try {
          FindAggregate(name)(p.items().data(), p.items().size(), values);
        } catch (const Error& e) {
          EXPECT_EQ(e.kind(), ErrorKind::kQuery) << name << ": " << e.message();
        } catch (const std::exception& e) {
          ADD_FAILURE() << name << " threw a non-query exception: " << e.what();
        }
      }
    }
  }
}

}  // namespace
}  // namespace datahike::query
