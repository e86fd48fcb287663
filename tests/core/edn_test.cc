// Tests of the EDN reader and printer (core/value/edn.h): every literal kind and escape, error
// positions, nesting limits, a seeded round-trip property test, fuzzing and a parse-speed measurement.
#include "core/value/edn.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/value/error.h"
#include "tests/core/value_gen.h"

namespace datahike {
namespace {

Value R(std::string_view text) { return edn::Read(text); }
std::string P(const Value& v) { return edn::ToString(v); }
// Read then print.
std::string RP(std::string_view text) { return P(edn::Read(text)); }

Uuid MakeUuidBytes(std::initializer_list<uint8_t> b) {
  Uuid u{};
  size_t i = 0;
  for (uint8_t x : b) u.bytes[i++] = x;
  return u;
}

// Expects edn::Read(text) to throw a kParse error whose message contains `where` (e.g.
// "line 1, column 5") and, when given, `what`.
void ExpectParseError(std::string_view text, std::string_view where, std::string_view what = "") {
  SCOPED_TRACE("input: " + std::string(text.substr(0, 80)) + (text.size() > 80 ? "..." : ""));
  try {
    Value v = edn::Read(text);
    ADD_FAILURE() << "no error; read " << P(v);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kParse);
    EXPECT_NE(e.message().find("EDN parse error at "), std::string::npos) << e.message();
    EXPECT_NE(e.message().find(where), std::string::npos) << e.message();
    if (!what.empty()) {
      EXPECT_NE(e.message().find(what), std::string::npos) << e.message();
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Literals.

TEST(EdnRead, NilAndBooleans) {
  EXPECT_TRUE(R("nil").is_nil());
  EXPECT_EQ(R("true").type(), Type::kBool);
  EXPECT_TRUE(R("true").as_bool());
  EXPECT_FALSE(R("false").as_bool());
  EXPECT_EQ(R("  nil  ").type(), Type::kNil);
  // Symbols that merely start with the words.
  EXPECT_EQ(R("nil?").type(), Type::kSymbol);
  EXPECT_EQ(R("truex").type(), Type::kSymbol);
  EXPECT_EQ(R("nil/x").type(), Type::kSymbol);
}

TEST(EdnRead, Integers) {
  EXPECT_EQ(R("0").as_long(), 0);
  EXPECT_EQ(R("-0").as_long(), 0);
  EXPECT_EQ(R("42").as_long(), 42);
  EXPECT_EQ(R("+42").as_long(), 42);
  EXPECT_EQ(R("-42").as_long(), -42);
  EXPECT_EQ(R("9223372036854775807").as_long(), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(R("-9223372036854775808").as_long(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(R("123456789012345678").as_long(), 123456789012345678);
  EXPECT_EQ(R("-999999999999999999").as_long(), -999999999999999999);
  // Overflow becomes a bigint.
  Value big = R("9223372036854775808");
  EXPECT_EQ(big.type(), Type::kBigInt);
  EXPECT_EQ(big.as_string(), "9223372036854775808");
  Value nbig = R("-9223372036854775809");
  EXPECT_EQ(nbig.type(), Type::kBigInt);
  EXPECT_EQ(nbig.as_string(), "-9223372036854775809");
  EXPECT_EQ(R("123456789012345678901234567890").as_string(), "123456789012345678901234567890");
  // N suffix.
  EXPECT_EQ(R("1N").type(), Type::kBigInt);
  EXPECT_EQ(R("1N").as_string(), "1");
  EXPECT_EQ(R("-7N").as_string(), "-7");
  EXPECT_EQ(R("+7N").as_string(), "7");
  EXPECT_EQ(R("0N").as_string(), "0");
  EXPECT_TRUE(Equal(R("1N"), Value::Long(1)));
}

TEST(EdnRead, HexAndRadixIntegers) {
  EXPECT_EQ(R("0x1F").as_long(), 31);
  EXPECT_EQ(R("0X1f").as_long(), 31);
  EXPECT_EQ(R("-0x10").as_long(), -16);
  EXPECT_EQ(R("0x7FFFFFFFFFFFFFFF").as_long(), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(R("-0x8000000000000000").as_long(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(R("0x8000000000000000").type(), Type::kBigInt);
  EXPECT_EQ(R("0x8000000000000000").as_string(), "9223372036854775808");
  EXPECT_EQ(R("0x100000000000000000000").as_string(), "1208925819614629174706176");
  EXPECT_EQ(R("-0x100000000000000000000").as_string(), "-1208925819614629174706176");
  EXPECT_EQ(R("0xFFN").type(), Type::kBigInt);
  EXPECT_EQ(R("0xFFN").as_string(), "255");
  EXPECT_EQ(R("2r1010").as_long(), 10);
  EXPECT_EQ(R("-2r1010").as_long(), -10);
  EXPECT_EQ(R("8r777").as_long(), 511);
  EXPECT_EQ(R("36rZZ").as_long(), 1295);
  EXPECT_EQ(R("36rzz").as_long(), 1295);
  EXPECT_EQ(R("16R1f").as_long(), 31);
  EXPECT_EQ(R("36rZZZZZZZZZZZZZZZZZZZZ").as_string(), "13367494538843734067838845976575");
}

TEST(EdnRead, Floats) {
  EXPECT_EQ(R("1.5").type(), Type::kDouble);
  EXPECT_DOUBLE_EQ(R("1.5").as_double(), 1.5);
  EXPECT_DOUBLE_EQ(R("-1.5").as_double(), -1.5);
  EXPECT_DOUBLE_EQ(R("+1.5").as_double(), 1.5);
  EXPECT_DOUBLE_EQ(R("1.").as_double(), 1.0);
  EXPECT_DOUBLE_EQ(R("1e3").as_double(), 1000.0);
  EXPECT_DOUBLE_EQ(R("1E3").as_double(), 1000.0);
  EXPECT_DOUBLE_EQ(R("1.5e-3").as_double(), 0.0015);
  EXPECT_DOUBLE_EQ(R("1.5E+3").as_double(), 1500.0);
  EXPECT_DOUBLE_EQ(R("0.1").as_double(), 0.1);
  EXPECT_EQ(R("1e3").type(), Type::kDouble);
  EXPECT_EQ(R("0.0").as_double(), 0.0);
  EXPECT_TRUE(std::signbit(R("-0.0").as_double()));
  EXPECT_EQ(R("1e400").as_double(), std::numeric_limits<double>::infinity());
  EXPECT_EQ(R("-1e400").as_double(), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(R("1e-400").as_double(), 0.0);
  EXPECT_EQ(R("4.9e-324").as_double(), std::numeric_limits<double>::denorm_min());
  EXPECT_EQ(R("1.7976931348623157e308").as_double(), std::numeric_limits<double>::max());
  EXPECT_EQ(R("##Inf").as_double(), std::numeric_limits<double>::infinity());
  EXPECT_EQ(R("##-Inf").as_double(), -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(R("##NaN").as_double()));
  EXPECT_EQ(R("##NaN").type(), Type::kDouble);
}

TEST(EdnRead, BigDecimals) {
  Value d = R("1.50M");
  EXPECT_EQ(d.type(), Type::kBigDec);
  EXPECT_EQ(d.as_string(), "1.50");
  EXPECT_EQ(R("-1.5M").as_string(), "-1.5");
  EXPECT_EQ(R("+1.5M").as_string(), "1.5");
  EXPECT_EQ(R("1M").as_string(), "1");
  EXPECT_EQ(R("1E+3M").as_string(), "1E+3");
  EXPECT_EQ(R("1.5e-3M").as_string(), "1.5e-3");
  EXPECT_EQ(R("1.M").as_string(), "1");
  EXPECT_EQ(R("123456789012345678901234567890.123456789M").as_string(),
            "123456789012345678901234567890.123456789");
}

TEST(EdnRead, StringsAndEscapes) {
  EXPECT_EQ(R("\"\"").as_string(), "");
  EXPECT_EQ(R("\"hello\"").as_string(), "hello");
  EXPECT_EQ(R(R"("a\tb")").as_string(), "a\tb");
  EXPECT_EQ(R(R"("a\rb")").as_string(), "a\rb");
  EXPECT_EQ(R(R"("a\nb")").as_string(), "a\nb");
  EXPECT_EQ(R(R"("a\\b")").as_string(), "a\\b");
  EXPECT_EQ(R(R"("a\"b")").as_string(), "a\"b");
  EXPECT_EQ(R(R"("a\bb")").as_string(), "a\bb");
  EXPECT_EQ(R(R"("a\fb")").as_string(), "a\fb");
  EXPECT_EQ(R(R"("\u0041")").as_string(), "A");
  EXPECT_EQ(R(R"("\u00e9")").as_string(), "\xC3\xA9");
  EXPECT_EQ(R(R"("\u20AC")").as_string(), "\xE2\x82\xAC");
  EXPECT_EQ(R(R"("\ud83d\ude00")").as_string(), "\xF0\x9F\x98\x80");  // surrogate pair
  EXPECT_EQ(R(R"("\uD83D\uDE00!")").as_string(), "\xF0\x9F\x98\x80!");
  EXPECT_EQ(R(R"("\u0000")").as_string(), std::string(1, '\0'));
  EXPECT_EQ(R(R"("\101\60\0")").as_string(), std::string("A0\0", 3));  // octal (Clojure)
  EXPECT_EQ(R("\"multi\nline\"").as_string(), "multi\nline");
  EXPECT_EQ(R("\"caf\xC3\xA9 \xF0\x9F\x98\x80\"").as_string(), "caf\xC3\xA9 \xF0\x9F\x98\x80");
  EXPECT_EQ(R(R"("x\n\t\"y\\" )").as_string(), "x\n\t\"y\\");
}

TEST(EdnRead, Characters) {
  EXPECT_EQ(R("\\a").as_char(), 'a');
  EXPECT_EQ(R("\\a").type(), Type::kChar);
  EXPECT_EQ(R("\\newline").as_char(), '\n');
  EXPECT_EQ(R("\\space").as_char(), ' ');
  EXPECT_EQ(R("\\tab").as_char(), '\t');
  EXPECT_EQ(R("\\return").as_char(), '\r');
  EXPECT_EQ(R("\\backspace").as_char(), '\b');
  EXPECT_EQ(R("\\formfeed").as_char(), '\f');
  EXPECT_EQ(R("\\u0041").as_char(), 'A');
  EXPECT_EQ(R("\\u20ac").as_char(), 0x20ACu);
  EXPECT_EQ(R("\\o101").as_char(), 'A');
  EXPECT_EQ(R("\\o7").as_char(), 7u);
  EXPECT_EQ(R("\\u").as_char(), 'u');
  EXPECT_EQ(R("\\o").as_char(), 'o');
  EXPECT_EQ(R("\\n").as_char(), 'n');
  EXPECT_EQ(R("\\\\").as_char(), '\\');
  EXPECT_EQ(R("\\\"").as_char(), '"');
  EXPECT_EQ(R("\\(").as_char(), '(');
  EXPECT_EQ(R("\\,").as_char(), ',');  // as in Clojure, although ',' is whitespace elsewhere
  EXPECT_EQ(R("\\é").as_char(), 0xE9u);
  EXPECT_EQ(R("\\\xF0\x9F\x98\x80").as_char(), 0x1F600u);
  Value v = R("[\\a \\b\\c (\\))]");
  ASSERT_EQ(v.size(), 4u);
  EXPECT_EQ(v.items()[1].as_char(), 'b');
  EXPECT_EQ(v.items()[2].as_char(), 'c');
  EXPECT_EQ(v.items()[3].items()[0].as_char(), ')');
}

TEST(EdnRead, Keywords) {
  Value k = R(":a");
  EXPECT_EQ(k.type(), Type::kKeyword);
  EXPECT_EQ(k.as_named()->name, "a");
  EXPECT_EQ(k.as_named()->ns, "");
  Value q = R(":ns/name");
  EXPECT_EQ(q.as_named()->ns, "ns");
  EXPECT_EQ(q.as_named()->name, "name");
  EXPECT_EQ(q.as_named(), Kw("ns/name").as_named());  // interned
  Value c = R(":a.b/c-d?");
  EXPECT_EQ(c.as_named()->ns, "a.b");
  EXPECT_EQ(c.as_named()->name, "c-d?");
  EXPECT_EQ(R(":db.type/string").as_named()->full, "db.type/string");
  EXPECT_EQ(R(":a*+!-_?$%&=<>#'.x").as_named()->full, "a*+!-_?$%&=<>#'.x");
  EXPECT_EQ(R(":a:b").as_named()->full, "a:b");
  EXPECT_EQ(R(":1").as_named()->full, "1");  // Clojure accepts keywords starting with a digit
  EXPECT_EQ(R(":名前").as_named()->full, "名前");
}

TEST(EdnRead, Symbols) {
  for (const char* s : {"/", "ns/name", "+", "-", ".", "...", "?x", "_", "$", "$1", "%", "%1", "a.b/c",
                        "x'", "<=", "->>", "*ns*", "!x", "&", "a#", "+a", "-a", ".a", "a/-", "a:b"}) {
    SCOPED_TRACE(s);
    Value v = R(s);
    EXPECT_EQ(v.type(), Type::kSymbol);
    EXPECT_EQ(v.as_named()->full, s);
    EXPECT_FALSE(v.as_named()->is_keyword);
  }
  EXPECT_EQ(R("/").as_named()->name, "/");
  EXPECT_EQ(R("ns/name").as_named()->ns, "ns");
}

TEST(EdnRead, Collections) {
  Value l = R("(1 2 3)");
  EXPECT_EQ(l.type(), Type::kList);
  EXPECT_EQ(l.size(), 3u);
  Value v = R("[1 [2] (3) {:a 1} #{4}]");
  EXPECT_EQ(v.type(), Type::kVector);
  ASSERT_EQ(v.size(), 5u);
  EXPECT_EQ(v.items()[1].type(), Type::kVector);
  EXPECT_EQ(v.items()[2].type(), Type::kList);
  EXPECT_EQ(v.items()[3].type(), Type::kMap);
  EXPECT_EQ(v.items()[4].type(), Type::kSet);
  EXPECT_EQ(R("()").size(), 0u);
  EXPECT_EQ(R("[]").size(), 0u);
  EXPECT_EQ(R("{}").size(), 0u);
  EXPECT_EQ(R("#{}").size(), 0u);
  Value m = R("{:a 1, :b \"x\", \"k\" [1 2]}");
  EXPECT_EQ(m.type(), Type::kMap);
  EXPECT_EQ(m.size(), 3u);
  EXPECT_EQ(m.get("a")->as_long(), 1);
  EXPECT_EQ(m.get("b")->as_string(), "x");
  EXPECT_EQ(m.get(Value::String("k"))->size(), 2u);
  // Duplicate keys: the later wins. Duplicate set elements collapse.
  EXPECT_EQ(R("{:a 1 :a 2}").get("a")->as_long(), 2);
  EXPECT_EQ(RP("{:a 1 :b 2 :a 3}"), "{:a 3, :b 2}");
  EXPECT_EQ(RP("{:z 1, :a 2, \"m\" 3}"), "{:z 1, :a 2, \"m\" 3}");  // insertion order kept
  EXPECT_EQ(R("#{1 2 1}").size(), 2u);
  // Whitespace and commas.
  EXPECT_EQ(R("[ 1,2 ,,3\t\n\r 4 ]").size(), 4u);
  EXPECT_EQ(R("[1[2]3]").size(), 3u);
  EXPECT_EQ(R("[\"a\"\"b\"[]:c:d]").size(), 4u);  // ':' is a constituent: one keyword :c:d
}

TEST(EdnRead, TaggedInstants) {
  EXPECT_EQ(R("#inst \"1970-01-01T00:00:00Z\"").as_instant(), 0);
  EXPECT_EQ(R("#inst \"1970-01-01T00:00:00.000-00:00\"").as_instant(), 0);
  EXPECT_EQ(R("#inst \"1985-04-12T23:20:50.52Z\"").as_instant(), 482196050520);
  EXPECT_EQ(R("#inst \"1985-04-12T23:20:50.52Z\"").type(), Type::kInstant);
  EXPECT_EQ(R("#inst \"1985-04-12T23:20:50.520123456Z\"").as_instant(), 482196050520);
  EXPECT_EQ(R("#inst \"1985-04-12T23:20:50.52+01:00\"").as_instant(), 482196050520 - 3600000);
  EXPECT_EQ(R("#inst \"1985-04-12T23:20:50.52-05:30\"").as_instant(),
            482196050520 + (5 * 60 + 30) * 60000);
  EXPECT_EQ(R("#inst \"2020-01-01\"").as_instant(), 1577836800000);
  EXPECT_EQ(R("#inst \"2020-01\"").as_instant(), 1577836800000);
  EXPECT_EQ(R("#inst \"2020\"").as_instant(), 1577836800000);
  EXPECT_EQ(R("#inst \"2020-01-01T10\"").as_instant(), 1577836800000 + 36000000);
  EXPECT_EQ(R("#inst \"2020-01-01T10:30\"").as_instant(), 1577836800000 + 37800000);
  EXPECT_EQ(R("#inst \"2020-02-29T00:00:00Z\"").as_instant(), 1582934400000);
  EXPECT_EQ(R("#inst \"1969-12-31T23:59:59.999Z\"").as_instant(), -1);
  EXPECT_EQ(R("#inst \"0001-01-01T00:00:00Z\"").as_instant(), -62135596800000);
  EXPECT_EQ(R("#inst\"1970-01-01T00:00:01Z\"").as_instant(), 1000);   // no space
  EXPECT_EQ(R("#inst  ;c\n \"1970-01-01T00:00:01Z\"").as_instant(), 1000);
  EXPECT_EQ(R("#inst \"1970-01-01t00:00:01z\"").as_instant(), 1000);
  EXPECT_EQ(R("#inst \"1972-06-30T23:59:60Z\"").as_instant(), 78796800000);  // leap second
  // Extended years, as printed for instants outside 0000..9999.
  EXPECT_EQ(R("#inst \"+10000-01-01T00:00:00.000-00:00\"").as_instant(), 253402300800000);
  EXPECT_EQ(R("#inst \"-0001-01-01T00:00:00.000-00:00\"").as_instant(), -62198755200000);
}

TEST(EdnRead, TaggedUuidAndBytes) {
  Value u = R("#uuid \"f81d4fae-7dec-11d0-a765-00a0c91e6bf6\"");
  EXPECT_EQ(u.type(), Type::kUuid);
  const Uuid want = MakeUuidBytes({0xf8, 0x1d, 0x4f, 0xae, 0x7d, 0xec, 0x11, 0xd0, 0xa7, 0x65, 0x00,
                                   0xa0, 0xc9, 0x1e, 0x6b, 0xf6});
  EXPECT_EQ(std::memcmp(u.as_uuid().bytes, want.bytes, 16), 0);
  EXPECT_TRUE(Equal(u, R("#uuid \"F81D4FAE-7DEC-11D0-A765-00A0C91E6BF6\"")));
  EXPECT_EQ(R("#bytes \"aGVsbG8=\"").as_string(), "hello");
  EXPECT_EQ(R("#bytes \"aGVsbG8=\"").type(), Type::kBytes);
  EXPECT_EQ(R("#bytes \"aGVsbG8\"").as_string(), "hello");  // padding optional
  EXPECT_EQ(R("#bytes \"\"").as_string(), "");
  EXPECT_EQ(R("#bytes \"AP8=\"").as_string(), std::string("\x00\xff", 2));
}

TEST(EdnRead, DiscardCommentsQuote) {
  EXPECT_EQ(R("#_ 1 2").as_long(), 2);
  EXPECT_EQ(R("#_1 2").as_long(), 2);
  EXPECT_EQ(R("#_ #_ 1 2 3").as_long(), 3);
  EXPECT_EQ(R("[1 #_ 2 3]").size(), 2u);
  EXPECT_EQ(R("[1 #_ #_ 2 3]").size(), 1u);
  EXPECT_EQ(R("[1 #_ [2 3 [4]] 5]").size(), 2u);
  EXPECT_EQ(R("{:a #_ :b 1}").size(), 1u);
  EXPECT_EQ(R("{:a 1 #_ :b}").size(), 1u);
  EXPECT_EQ(R("[1 #_ 2]").size(), 1u);
  EXPECT_EQ(R("1 #_ 2").as_long(), 1);
  EXPECT_EQ(R("; comment\n 1 ; trailing").as_long(), 1);
  EXPECT_EQ(R("[1 ; two\n 3]").size(), 2u);
  EXPECT_EQ(R("1;c").as_long(), 1);
  Value q = R("'x");
  EXPECT_EQ(q.type(), Type::kList);
  ASSERT_EQ(q.size(), 2u);
  EXPECT_EQ(q.items()[0].as_named()->full, "quote");
  EXPECT_EQ(q.items()[1].as_named()->full, "x");
  EXPECT_EQ(P(R("'[a 'b]")), "(quote [a (quote b)])");
}

TEST(EdnRead, ReadAll) {
  std::vector<Value> vs = edn::ReadAll("1 :a [2 3] ; c\n \"s\" #_ 4");
  ASSERT_EQ(vs.size(), 4u);
  EXPECT_EQ(vs[0].as_long(), 1);
  EXPECT_EQ(vs[1].type(), Type::kKeyword);
  EXPECT_EQ(vs[2].size(), 2u);
  EXPECT_EQ(vs[3].as_string(), "s");
  EXPECT_TRUE(edn::ReadAll("").empty());
  EXPECT_TRUE(edn::ReadAll("  ;; only a comment\n , #_ x").empty());
  EXPECT_EQ(edn::ReadAll("1\n2\n3").size(), 3u);
  try {
    edn::ReadAll("1\n[2\n  3)");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kParse);
    EXPECT_NE(e.message().find("line 3, column 4"), std::string::npos) << e.message();
  }
}

// ---------------------------------------------------------------------------------------------------
// Printer.

TEST(EdnPrint, Scalars) {
  EXPECT_EQ(P(Value()), "nil");
  EXPECT_EQ(P(Value::Bool(true)), "true");
  EXPECT_EQ(P(Value::Bool(false)), "false");
  EXPECT_EQ(P(Value::Long(0)), "0");
  EXPECT_EQ(P(Value::Long(-42)), "-42");
  EXPECT_EQ(P(Value::Long(std::numeric_limits<int64_t>::min())), "-9223372036854775808");
  EXPECT_EQ(P(Value::BigInt("123456789012345678901234567890")), "123456789012345678901234567890N");
  EXPECT_EQ(P(Value::BigInt("5")), "5N");
  EXPECT_EQ(P(Value::BigDec("1.50")), "1.50M");
  EXPECT_EQ(P(Value::BigDec("-1E+3")), "-1E+3M");
  EXPECT_EQ(P(Value::Double(1.0)), "1.0");
  EXPECT_EQ(P(Value::Double(-3.0)), "-3.0");
  EXPECT_EQ(P(Value::Double(1.5)), "1.5");
  EXPECT_EQ(P(Value::Double(0.1)), "0.1");
  EXPECT_EQ(P(Value::Double(100.0)), "100.0");
  EXPECT_EQ(P(Value::Double(1e21)), "1e+21");
  EXPECT_EQ(P(Value::Double(1e-7)), "1e-07");
  EXPECT_EQ(P(Value::Double(-0.0)), "-0.0");
  EXPECT_EQ(P(Value::Double(0.0)), "0.0");
  EXPECT_EQ(P(Value::Double(std::numeric_limits<double>::infinity())), "##Inf");
  EXPECT_EQ(P(Value::Double(-std::numeric_limits<double>::infinity())), "##-Inf");
  EXPECT_EQ(P(Value::Double(std::numeric_limits<double>::quiet_NaN())), "##NaN");
  EXPECT_EQ(P(Value::Double(std::numeric_limits<double>::max())), "1.7976931348623157e+308");
  // Floats print as the (widened) double; they read back as doubles of the same value.
  EXPECT_EQ(P(Value::Float(1.5)), "1.5");
  EXPECT_EQ(P(Value::Float(0.1)), "0.10000000149011612");
  EXPECT_TRUE(Equal(R(P(Value::Float(0.1))), Value::Float(0.1)));
  EXPECT_EQ(Compare(R(P(Value::Float(0.1))), Value::Float(0.1)), 0);
}

TEST(EdnPrint, StringsAndChars) {
  EXPECT_EQ(P(Value::String("")), "\"\"");
  EXPECT_EQ(P(Value::String("plain")), "\"plain\"");
  EXPECT_EQ(P(Value::String("q\"b\\n\nt\tr\rb\bf\f")), R"("q\"b\\n\nt\tr\rb\bf\f")");
  EXPECT_EQ(P(Value::String(std::string("\x01\x1f\x7f", 3))), R"("\u0001\u001f\u007f")");
  EXPECT_EQ(P(Value::String(std::string("a\0b", 3))), R"("a\u0000b")");
  EXPECT_EQ(P(Value::String("caf\xC3\xA9 \xF0\x9F\x98\x80")), "\"caf\xC3\xA9 \xF0\x9F\x98\x80\"");
  EXPECT_EQ(P(Value::Char('a')), "\\a");
  EXPECT_EQ(P(Value::Char('\n')), "\\newline");
  EXPECT_EQ(P(Value::Char(' ')), "\\space");
  EXPECT_EQ(P(Value::Char('\t')), "\\tab");
  EXPECT_EQ(P(Value::Char('\r')), "\\return");
  EXPECT_EQ(P(Value::Char('\b')), "\\backspace");
  EXPECT_EQ(P(Value::Char('\f')), "\\formfeed");
  EXPECT_EQ(P(Value::Char(1)), "\\u0001");
  EXPECT_EQ(P(Value::Char(0x7f)), "\\u007f");
  EXPECT_EQ(P(Value::Char(0xD800)), "\\ud800");
  EXPECT_EQ(P(Value::Char(0xE9)), "\\\xC3\xA9");
  EXPECT_EQ(P(Value::Char(0x1F600)), "\\\xF0\x9F\x98\x80");
  EXPECT_EQ(P(Value::Char('\\')), "\\\\");
  EXPECT_EQ(P(Value::Char('(')), "\\(");
}

TEST(EdnPrint, NamedAndCollections) {
  EXPECT_EQ(P(Kw("a")), ":a");
  EXPECT_EQ(P(Kw("ns/name")), ":ns/name");
  EXPECT_EQ(P(Value::Symbol("x")), "x");
  EXPECT_EQ(P(Value::Symbol("ns/x")), "ns/x");
  EXPECT_EQ(P(Value::Symbol("/")), "/");
  EXPECT_EQ(P(Value::List({Value::Long(1), Value::Long(2)})), "(1 2)");
  EXPECT_EQ(P(Value::Vector({Value::Long(1), Value::String("a")})), "[1 \"a\"]");
  EXPECT_EQ(P(Value::Set({Value::Long(2), Value::Long(1)})), "#{1 2}");
  // Maps print in insertion order (Clojure array-map style).
  EXPECT_EQ(P(Value::Map({{Kw("b"), Value::Long(2)}, {Kw("a"), Value::Long(1)}})), "{:b 2, :a 1}");
  EXPECT_EQ(P(Value::List({})), "()");
  EXPECT_EQ(P(Value::Vector({})), "[]");
  EXPECT_EQ(P(Value::Set({})), "#{}");
  EXPECT_EQ(P(Value::Map({})), "{}");
  EXPECT_EQ(RP("{:a [1 {:b #{:c}}] :d ()}"), "{:a [1 {:b #{:c}}], :d ()}");
}

TEST(EdnPrint, Tagged) {
  EXPECT_EQ(P(Value::Instant(0)), "#inst \"1970-01-01T00:00:00.000-00:00\"");
  EXPECT_EQ(P(Value::Instant(482196050520)), "#inst \"1985-04-12T23:20:50.520-00:00\"");
  EXPECT_EQ(P(Value::Instant(-1)), "#inst \"1969-12-31T23:59:59.999-00:00\"");
  EXPECT_EQ(P(Value::Instant(253402300800000)), "#inst \"10000-01-01T00:00:00.000-00:00\"");
  EXPECT_EQ(P(Value::Instant(-62198755200000)), "#inst \"-0001-01-01T00:00:00.000-00:00\"");
  for (int64_t ms : {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(),
                     int64_t{-62135596800001}, int64_t{951782400000}}) {
    SCOPED_TRACE(ms);
    EXPECT_EQ(R(P(Value::Instant(ms))).as_instant(), ms);
  }
  const Uuid u = MakeUuidBytes({0xf8, 0x1d, 0x4f, 0xae, 0x7d, 0xec, 0x11, 0xd0, 0xa7, 0x65, 0x00, 0xa0,
                                0xc9, 0x1e, 0x6b, 0xf6});
  EXPECT_EQ(P(Value::MakeUuid(u)), "#uuid \"f81d4fae-7dec-11d0-a765-00a0c91e6bf6\"");
  EXPECT_EQ(P(Value::Bytes("")), "#bytes \"\"");
  EXPECT_EQ(P(Value::Bytes("h")), "#bytes \"aA==\"");
  EXPECT_EQ(P(Value::Bytes("he")), "#bytes \"aGU=\"");
  EXPECT_EQ(P(Value::Bytes("hello")), "#bytes \"aGVsbG8=\"");
  EXPECT_EQ(P(Value::Bytes(std::string("\x00\xff\xfe", 3))), "#bytes \"AP/+\"");
  const std::string raw("\x00\xff\xfe", 3);
  EXPECT_EQ(R(P(Value::Bytes(raw))).as_string(), raw);
}

TEST(EdnPrint, AppendsToOutput) {
  std::string out = "x=";
  edn::Print(Value::Long(1), out);
  edn::Print(Kw("k"), out);
  EXPECT_EQ(out, "x=1:k");
}

// ---------------------------------------------------------------------------------------------------
// Errors.

TEST(EdnErrors, MalformedInputsReportLineAndColumn) {
  struct Case {
    const char* text;
    const char* where;
    const char* what;
  };
  const Case cases[] = {
      {"", "line 1, column 1", "end of input"},
      {"   ; only a comment", "line 1, column 20", "end of input"},
      {"#_ 1", "line 1, column 5", "end of input"},
      {"[1 2", "line 1, column 5", "unterminated vector"},
      {"(1 2\n 3", "line 2, column 3", "unterminated list"},
      {"{:a 1\n:b", "line 2, column 3", "unterminated map"},
      {"#{1 2", "line 1, column 6", "unterminated set"},
      {"[1 2", "opened at line 1, column 1", ""},
      {"\"abc", "line 1, column 5", "unterminated string"},
      {"\"ab\\", "line 1, column 5", "unterminated string"},
      {"\"a\\qb\"", "line 1, column 3", "unsupported escape"},
      {"\"\\u12G4\"", "line 1, column 2", "\\u escape"},
      {"\"\\u12\"", "line 1, column 2", "\\u escape"},
      {"\"\\ud800\"", "line 1, column 2", "surrogate"},
      {"\"\\ud800\\u0041\"", "line 1, column 2", "surrogate"},
      {"\"\\udc00\"", "line 1, column 2", "surrogate"},
      {"\"\\400\"", "line 1, column 2", "octal"},
      {"(1]", "line 1, column 3", "mismatched delimiter"},
      {"[1\n 2\n  )", "line 3, column 3", "mismatched delimiter"},
      {"[\"\xC3\xA9\" )", "line 1, column 6", "mismatched"},  // columns count code points
      {"]", "line 1, column 1", "unmatched delimiter"},
      {"  )", "line 1, column 3", "unmatched delimiter"},
      {"{:a}", "line 1, column 4", "even number"},
      {"{:a 1 :b}", "line 1, column 9", "even number"},
      {"{:a 1 :b]", "line 1, column 9", "mismatched"},
      {"1 2", "line 1, column 3", "trailing"},
      {"[] x", "line 1, column 4", "trailing"},
      {"::a", "line 1, column 1", "::"},
      {":", "line 1, column 1", "keyword"},
      {"[1 :]", "line 1, column 4", "keyword"},
      {"01", "line 1, column 1", "leading zeros"},
      {"-007N", "line 1, column 1", "leading zeros"},
      {"1/2", "line 1, column 1", "ratio"},
      {"1.2.3", "line 1, column 1", "invalid number"},
      {"1e", "line 1, column 1", "exponent"},
      {"1e+", "line 1, column 1", "exponent"},
      {"1x", "line 1, column 1", "invalid number"},
      {"1.5N", "line 1, column 1", "invalid number"},
      {"1NN", "line 1, column 1", "invalid number"},
      {"1MM", "line 1, column 1", "invalid number"},
      {"0x", "line 1, column 1", "0x"},
      {"0xG1", "line 1, column 1", "hexadecimal"},
      {"1r0", "line 1, column 1", "radix"},
      {"37r1", "line 1, column 1", "radix"},
      {"2r102", "line 1, column 1", "digit"},
      {"2r", "line 1, column 1", "no digits"},
      {".5", "line 1, column 1", "symbol"},
      {"a/b/c", "line 1, column 1", "more than one '/'"},
      {"a/", "line 1, column 1", "empty"},
      {"/a", "line 1, column 1", "empty"},
      {":a/", "line 1, column 1", "empty"},
      {"a::b", "line 1, column 1", "::"},
      {"a:", "line 1, column 1", "end with ':'"},
      {"a/1b", "line 1, column 1", "digit"},
      {"a|b", "line 1, column 1", "invalid character '|'"},
      {"[x\x01y]", "line 1, column 2", "invalid character"},
      {"#foo 1", "line 1, column 1", "unknown tag #foo"},
      {"[1\n  #foo/bar 1]", "line 2, column 3", "unknown tag"},
      {"#inst 1", "line 1, column 7", "must be followed by a string"},
      {"#inst", "line 1, column 6", "end of input"},
      {"#inst \"2020-13-01\"", "line 1, column 7", "invalid month"},
      {"#inst \"2021-02-29\"", "line 1, column 7", "invalid day"},
      {"#inst \"2020-01-01T24:00\"", "line 1, column 7", "invalid hour"},
      {"#inst \"2020-01-01T10:60\"", "line 1, column 7", "invalid minute"},
      {"#inst \"2020-01-01T10:10:60\"", "line 1, column 7", "invalid second"},
      {"#inst \"2020-01-01T00:00:00.\"", "line 1, column 7", "digits"},
      {"#inst \"2020-01-01T00:00:00+01\"", "line 1, column 7", "offset"},
      {"#inst \"2020-01-01T00:00:00+24:00\"", "line 1, column 7", "offset"},
      {"#inst \"20\"", "line 1, column 7", "four digits"},
      {"#inst \"2020-1-01\"", "line 1, column 7", "month"},
      {"#inst \"2020-01-01X\"", "line 1, column 7", "unexpected"},
      {"#inst \"999999999-01-01\"", "line 1, column 7", "out of range"},
      {"#uuid \"xyz\"", "line 1, column 7", "invalid #uuid"},
      {"#uuid \"f81d4fae-7dec-11d0-a765-00a0c91e6bfg\"", "line 1, column 7", "invalid #uuid"},
      {"#uuid \"f81d4fae7dec-11d0-a765-00a0c91e6bf6a\"", "line 1, column 7", "invalid #uuid"},
      {"#uuid 1", "line 1, column 7", "string"},
      {"#bytes \"a\"", "line 1, column 8", "base64"},
      {"#bytes \"!!!!\"", "line 1, column 8", "base64"},
      {"#bytes \"a===\"", "line 1, column 8", "base64"},
      {"##Foo", "line 1, column 1", "##Foo"},
      {"##", "line 1, column 1", "##"},
      {"#", "line 1, column 1", "end of input"},
      {"#:a{:b 1}", "line 1, column 1", "dispatch"},
      {"#\"re\"", "line 1, column 1", "dispatch"},
      {"#(+ 1)", "line 1, column 1", "dispatch"},
      {"# x", "line 1, column 1", "dispatch"},
      {"\\", "line 1, column 1", "end of input"},
      {"\\ ", "line 1, column 1", "whitespace"},
      {"\\foo", "line 1, column 1", "unsupported character"},
      {"\\u12", "line 1, column 1", "unsupported character"},
      {"\\uZZZZ", "line 1, column 1", "unicode"},
      {"\\o400", "line 1, column 1", "octal"},
      {"\\o8", "line 1, column 1", "octal"},
      {"\\\xff", "line 1, column 2", "UTF-8"},
      {"@x", "line 1, column 1", "reader macro"},
      {"^x", "line 1, column 1", "reader macro"},
      {"`x", "line 1, column 1", "reader macro"},
      {"~x", "line 1, column 1", "reader macro"},
      {"[1 #_]", "line 1, column 6", "#_"},
      {"#_", "line 1, column 3", "#_"},
      {"'", "line 1, column 2", "end of input"},
      {"(')", "line 1, column 3", "'"},
  };
  for (const Case& c : cases) ExpectParseError(c.text, c.where, c.what);
}

TEST(EdnErrors, NestingDepthIsLimited) {
  const int kLimit = 10000;
  // At the limit: fine.
  {
    std::string ok = std::string(kLimit, '[') + std::string(kLimit, ']');
    Value v = edn::Read(ok);
    EXPECT_EQ(v.type(), Type::kVector);
    EXPECT_EQ(P(v), ok);  // the printer copes with what the reader accepts
    const std::string inner = std::string(kLimit - 3, '[') + std::string(kLimit - 3, ']');
    EXPECT_EQ(edn::Read("(#{{:a " + inner + "}})").type(), Type::kList);  // mixed kinds count too
    ExpectParseError("(#{{:a " + ok + "}})", "line 1, column 10005", "nesting");
  }
  // One deeper: an error, not a stack overflow.
  ExpectParseError(std::string(kLimit + 1, '[') + std::string(kLimit + 1, ']'),
                   "line 1, column 10001", "nesting");
  // Far deeper, unterminated, mixed kinds, discards, quotes and tags.
  std::string mixed;
  static const char* kOpen[] = {"(", "[", "{", "#{"};
  for (int i = 0; i < 200000; ++i) mixed += kOpen[i % 4];
  ExpectParseError(mixed, "line 1", "nesting");
  std::string sets;
  for (int i = 0; i < 100000; ++i) sets += "#{";
  ExpectParseError(sets, "line 1", "nesting");
  std::string discards;
  for (int i = 0; i < 100000; ++i) discards += "#_";
  ExpectParseError(discards, "line 1", "nesting");
  ExpectParseError(std::string(100000, '\''), "line 1", "nesting");
  std::string tags;
  for (int i = 0; i < 100000; ++i) tags += "#inst ";
  ExpectParseError(tags, "line 1", "");
  std::string maps;
  for (int i = 0; i < 100000; ++i) maps += "{:a ";
  ExpectParseError(maps, "line 1", "nesting");
}

// ---------------------------------------------------------------------------------------------------
// Round trip property: random values print, read back equal, and print identically.

class ValueGen {
 public:
  explicit ValueGen(uint64_t seed) : rng_(seed) {}

  uint64_t U(uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng_); }
  bool Coin(int percent) { return U(100) < static_cast<uint64_t>(percent); }

  Value Any(int depth) {
    if (depth <= 0 || Coin(60)) return Scalar();
    switch (U(4)) {
      case 0: return Value::List(Items(depth));
      case 1: return Value::Vector(Items(depth));
      case 2: return Value::Set(Items(depth));
      default: {
        std::vector<std::pair<Value, Value>> entries;
        const uint64_t n = U(6);
        for (uint64_t i = 0; i < n; ++i) entries.emplace_back(Any(depth - 1), Any(depth - 1));
        return Value::Map(std::move(entries));
      }
    }
  }

  std::vector<Value> Items(int depth) {
    std::vector<Value> items;
    const uint64_t n = U(6);
    for (uint64_t i = 0; i < n; ++i) items.push_back(Any(depth - 1));
    return items;
  }

  Value Scalar() {
    switch (U(17)) {
      case 0: return Value();
      case 1: return Value::Bool(Coin(50));
      case 2: return Value::Long(Long());
      case 3: return Value::BigInt(BigIntText());
      case 4: return Value::Double(Double());
      case 5: {
        // Not NaN: Equal(Float(NaN), Double(NaN)) is false while Compare is 0 (value.cc).
        const double d = Double();
        return Value::Float(std::isnan(d) ? 0.5 : d);
      }
      case 6: return Value::BigDec(BigDecText());
      case 7: return Value::Instant(Instant());
      case 8: {
        Uuid u;
        for (auto& b : u.bytes) b = static_cast<uint8_t>(U(256));
        return Value::MakeUuid(u);
      }
      case 9: return Value::Char(CodePoint(true));
      case 10:
      case 11: return Value::String(String());
      case 12:
      case 13: return Value::Keyword(NamedText(true));
      case 14: return Value::Symbol(NamedText(false));
      case 15: {
        std::string raw;
        const uint64_t n = U(12);
        for (uint64_t i = 0; i < n; ++i) raw.push_back(static_cast<char>(U(256)));
        return Value::Bytes(raw);
      }
      default: return Value::Long(static_cast<int64_t>(U(100)) - 50);
    }
  }

  int64_t Long() {
    switch (U(4)) {
      case 0: return static_cast<int64_t>(U(1000)) - 500;
      case 1: return static_cast<int64_t>(rng_());
      case 2:
        return Coin(50) ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max();
      default: return static_cast<int64_t>(rng_()) >> U(63);
    }
  }

  std::string BigIntText() {
    std::string s = Coin(50) ? "-" : "";
    s.push_back(static_cast<char>('1' + U(9)));
    const uint64_t n = U(40);
    for (uint64_t i = 0; i < n; ++i) s.push_back(static_cast<char>('0' + U(10)));
    return s;
  }

  std::string BigDecText() {
    std::string s = Coin(50) ? "-" : "";
    const uint64_t n = 1 + U(20);
    for (uint64_t i = 0; i < n; ++i) s.push_back(static_cast<char>('0' + U(10)));
    if (Coin(70)) {
      s.push_back('.');
      const uint64_t f = 1 + U(20);
      for (uint64_t i = 0; i < f; ++i) s.push_back(static_cast<char>('0' + U(10)));
    }
    if (Coin(30)) {
      s.push_back(Coin(50) ? 'e' : 'E');
      if (Coin(50)) s.push_back(Coin(50) ? '+' : '-');
      s += std::to_string(U(300));
    }
    return s;
  }

  double Double() {
    switch (U(6)) {
      case 0: return static_cast<double>(static_cast<int64_t>(U(2000)) - 1000);
      case 1: return std::uniform_real_distribution<double>(-1e6, 1e6)(rng_);
      case 2: {
        const uint64_t bits = rng_();
        double d;
        std::memcpy(&d, &bits, 8);
        return d;  // any bit pattern: subnormals, huge, NaN payloads, infinities
      }
      case 3: {
        static const double kSpecial[] = {0.0,
                                          -0.0,
                                          0.1,
                                          1e21,
                                          1e-7,
                                          std::numeric_limits<double>::infinity(),
                                          -std::numeric_limits<double>::infinity(),
                                          std::numeric_limits<double>::quiet_NaN(),
                                          std::numeric_limits<double>::max(),
                                          std::numeric_limits<double>::lowest(),
                                          std::numeric_limits<double>::min(),
                                          std::numeric_limits<double>::denorm_min(),
                                          9007199254740993.0};
        return kSpecial[U(sizeof kSpecial / sizeof kSpecial[0])];
      }
      default: return std::ldexp(std::uniform_real_distribution<double>(-1, 1)(rng_),
                                 static_cast<int>(U(200)) - 100);
    }
  }

  int64_t Instant() {
    switch (U(4)) {
      case 0: return static_cast<int64_t>(U(4102444800000));  // 1970..2100
      case 1: return -static_cast<int64_t>(U(62135596800000));  // back to year 1
      case 2: return static_cast<int64_t>(rng_());  // anywhere, including far-out years
      default: return static_cast<int64_t>(U(1000)) - 500;
    }
  }

  uint32_t CodePoint(bool allow_surrogates) {
    switch (U(6)) {
      case 0: return static_cast<uint32_t>(0x20 + U(0x5f));  // printable ASCII
      case 1: return static_cast<uint32_t>(U(0x20));         // controls
      case 2: return static_cast<uint32_t>(0x80 + U(0x780));
      case 3: {
        uint32_t c = static_cast<uint32_t>(0x800 + U(0xF800));
        if (!allow_surrogates && c >= 0xD800 && c <= 0xDFFF) c = 0xE000;
        return c;
      }
      case 4: return static_cast<uint32_t>(0x10000 + U(0x100000));
      default: {
        static const uint32_t kSpecial[] = {'\n', ' ', '\t', '\r', '\b', '\f', '\\', '"', '(', ')',
                                            '[', ']', '{', '}', ';', ',', '#', ':', 'u', 'o', 'n',
                                            0x7f, 0xa0, 0x2028};
        return kSpecial[U(sizeof kSpecial / sizeof kSpecial[0])];
      }
    }
  }

  std::string String() {
    std::string s;
    const uint64_t n = U(16);
    for (uint64_t i = 0; i < n; ++i) {
      if (Coin(3)) {
        s.push_back(static_cast<char>(0x80 + U(0x80)));  // stray byte: passes through unchanged
      } else {
        AppendCodePoint(CodePoint(false), s);
      }
    }
    return s;
  }

  static void AppendCodePoint(uint32_t cp, std::string& s) {
    if (cp < 0x80) {
      s.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      s.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      s.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  // A valid symbol/keyword part.
  std::string Part() {
    static const std::string kFirst = "abcdefghijklmnopqrstuvwxyzABCXYZ*!_?$%&=<>";
    static const std::string kRest = "abcdefghijklmnopqrstuvwxyz0123456789*+!-_?$%&=<>.#'";
    std::string s;
    if (Coin(5)) {
      s = "\xC3\xA9t\xC3\xA9";  // non-ASCII
    } else {
      s.push_back(kFirst[U(kFirst.size())]);
    }
    const uint64_t n = U(8);
    for (uint64_t i = 0; i < n; ++i) s.push_back(kRest[U(kRest.size())]);
    if (Coin(5)) s += ":x";  // ':' inside (not at the end, never "::")
    return s;
  }

  std::string NamedText(bool keyword) {
    if (!keyword && Coin(10)) {
      static const char* kSpecial[] = {"/", "+", "-", ".", "...", "?x", "_", "$", "$1", "%", "->"};
      return kSpecial[U(sizeof kSpecial / sizeof kSpecial[0])];
    }
    std::string s;
    do {
      s = Part();
      if (Coin(50)) {
        s.push_back('/');
        s += Part();
      }
    } while (s == "nil" || s == "true" || s == "false");
    return s;
  }

 private:
  std::mt19937_64 rng_;
};

TEST(EdnRoundTrip, RandomValues) {
  ValueGen gen(20240601);
  std::string all;  // every text, for a ReadAll pass
  std::vector<Value> values;
  for (int i = 0; i < 5000; ++i) {
    Value v = gen.Any(1 + static_cast<int>(gen.U(5)));
    const std::string text = P(v);
    SCOPED_TRACE(text);
    Value back;
    try {
      back = edn::Read(text);
    } catch (const Error& e) {
      ADD_FAILURE() << e.what();
      continue;
    }
    EXPECT_TRUE(Equal(v, back));
    EXPECT_EQ(Compare(v, back), 0);
    EXPECT_EQ(Compare(back, v), 0);
    EXPECT_EQ(P(back), text);
    all += text;
    all += i % 3 == 0 ? "\n" : i % 3 == 1 ? " , " : " ;; comment\n";
    values.push_back(std::move(v));
  }
  std::vector<Value> back = edn::ReadAll(all);
  ASSERT_EQ(back.size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) EXPECT_TRUE(Equal(values[i], back[i]));
}

TEST(EdnRoundTrip, ScalarKindsArePreserved) {
  // Everything but float (which reads back as double) keeps its type through print/read.
  ValueGen gen(7);
  for (int i = 0; i < 20000; ++i) {
    Value v = gen.Scalar();
    Value back = edn::Read(P(v));
    const Type want = v.type() == Type::kFloat ? Type::kDouble : v.type();
    EXPECT_EQ(back.type(), want) << P(v);
    if (v.type() == Type::kDouble || v.type() == Type::kFloat) {
      const double a = v.as_double(), b = back.as_double();
      EXPECT_TRUE((std::isnan(a) && std::isnan(b)) ||
                  (a == b && std::signbit(a) == std::signbit(b)))
          << P(v);
    }
  }
}

TEST(EdnRoundTrip, ConcurrentReaders) {
  // Each thread has its own name cache; interning is shared. All threads must see the same values.
  ValueGen gen(99);
  std::string text = "[";
  for (int i = 0; i < 300; ++i) text += P(gen.Any(3)) + " ";
  text += "]";
  const Value want = edn::Read(text);
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) ok[t] += Equal(edn::Read(text), want) ? 1 : 0;
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(ok[t], 20);
}

// ---------------------------------------------------------------------------------------------------
// Fuzzing: anything may be rejected, nothing may crash or throw anything but a kParse Error.

bool ReadSafely(std::string_view text) {
  try {
    edn::ReadAll(text);
    edn::Read(text);
    return true;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kParse) << e.what();
    EXPECT_NE(e.message().find("EDN parse error at line "), std::string::npos) << e.what();
    return false;
  }
}

TEST(EdnFuzz, RandomBytes) {
  std::mt19937_64 rng(99);
  const std::string alphabet = "()[]{}#_\"\\;:,'/.+-0123456789eEMNxr abcnultrfsu\n\t{}#{}##InfNaN@^`~";
  int ok = 0;
  for (int i = 0; i < 100000; ++i) {
    ok += ReadSafely(testutil::RandomText(rng, alphabet, 40, 4));
  }
  EXPECT_GT(ok, 0);
}

TEST(EdnFuzz, TruncationsAndMutationsOfValidText) {
  ValueGen gen(4242);
  std::mt19937_64 rng(4243);
  for (int i = 0; i < 1500; ++i) {
    const std::string text = P(gen.Any(4));
    testutil::ReadTruncationsAndMutations(text, "()[]{}#\"\\:;'", rng, ReadSafely);
  }
}

// ---------------------------------------------------------------------------------------------------
// Speed: a transaction file of entity maps. Reports MB/s; the bound is loose so that sanitizer and
// debug builds pass.

TEST(EdnSpeed, VectorOfEntityMaps) {
  std::string text = "[";
  std::mt19937_64 rng(1);
  for (int i = 0; i < 25000; ++i) {
    text += "{:db/id -" + std::to_string(i + 1) + " :person/name \"Person " +
            std::to_string(rng() % 100000) + "\" :person/age " + std::to_string(rng() % 100) +
            " :person/email \"p" + std::to_string(i) +
            "@example.com\" :person/score " + std::to_string(static_cast<double>(rng() % 10000) / 7) +
            " :person/tags #{:tag/a :tag/b} :person/born #inst \"1985-04-12T23:20:50.520Z\"" +
            " :person/friend [:person/email \"p" + std::to_string(rng() % 1000) + "@example.com\"]}\n";
  }
  text += "]";
  const double mb = static_cast<double>(text.size()) / 1e6;
  double best = 1e9;
  size_t n = 0;
  for (int rep = 0; rep < 5; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    Value v = edn::Read(text);
    const auto t1 = std::chrono::steady_clock::now();
    n = v.size();
    best = std::min(best, std::chrono::duration<double>(t1 - t0).count());
  }
  EXPECT_EQ(n, 25000u);
  std::printf("[ speed    ] EDN read: %.2f MB (25000 entity maps, 200k datoms) in %.2f ms = %.0f MB/s\n",
              mb, best * 1e3, mb / best);
  Value v = edn::Read(text);
  std::string out;
  const auto t0 = std::chrono::steady_clock::now();
  edn::Print(v, out);
  const auto t1 = std::chrono::steady_clock::now();
  const double ps = std::chrono::duration<double>(t1 - t0).count();
  std::printf("[ speed    ] EDN print: %.2f MB in %.2f ms = %.0f MB/s\n",
              static_cast<double>(out.size()) / 1e6, ps * 1e3,
              static_cast<double>(out.size()) / 1e6 / ps);
  EXPECT_LT(best, 5.0);
}

}  // namespace
}  // namespace datahike
