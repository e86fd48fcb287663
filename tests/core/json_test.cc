// Tests of the JSON mapping (core/value/json.h): every input and output rule, escapes, errors with
// line and column, nesting limits, a seeded round-trip property test and fuzzing.
#include "core/value/json.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/value/edn.h"
#include "core/value/error.h"
#include "tests/core/value_gen.h"

namespace datahike {
namespace {

Value J(std::string_view text) { return json::Read(text); }
std::string JS(const Value& v) { return json::ToString(v); }
std::string E(const Value& v) { return edn::ToString(v); }
// Reads JSON and prints the value as EDN.
std::string JE(std::string_view text) { return E(json::Read(text)); }

void ExpectParseError(std::string_view text, std::string_view where, std::string_view what = "") {
  SCOPED_TRACE("input: " + std::string(text.substr(0, 80)) + (text.size() > 80 ? "..." : ""));
  try {
    Value v = json::Read(text);
    ADD_FAILURE() << "no error; read " << E(v);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kParse);
    EXPECT_NE(e.message().find("JSON parse error at "), std::string::npos) << e.message();
    EXPECT_NE(e.message().find(where), std::string::npos) << e.message();
    if (!what.empty()) {
      EXPECT_NE(e.message().find(what), std::string::npos) << e.message();
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Input rules.

TEST(JsonRead, ObjectsBecomeMapsWithKeywordKeys) {
  Value m = J(R"({"db/id": 1, ":person/name": "Ann", "age": 30})");
  ASSERT_EQ(m.type(), Type::kMap);
  EXPECT_EQ(m.size(), 3u);
  for (const auto& [k, v] : m.entries()) EXPECT_EQ(k.type(), Type::kKeyword);
  EXPECT_EQ(m.get("db/id")->as_long(), 1);          // "db/id" -> :db/id
  EXPECT_EQ(m.get("person/name")->as_string(), "Ann");  // ":person/name" -> :person/name
  EXPECT_EQ(m.get("age")->as_long(), 30);
  EXPECT_EQ(m.entries()[0].first.as_named(), Kw("db/id").as_named());
  // "db/id" and ":db/id" name the same key; the later value wins.
  Value d = J(R"({"db/id": 1, ":db/id": 2})");
  EXPECT_EQ(d.size(), 1u);
  EXPECT_EQ(d.get("db/id")->as_long(), 2);
  EXPECT_EQ(JE("{}"), "{}");
  // Nested objects: keys are keywords at every level, also inside arrays.
  EXPECT_EQ(JE(R"({"a": {"b/c": {":d": [ {"e": 1} ]}}})"), "{:a {:b/c {:d [{:e 1}]}}}");
  // Keys with escapes.
  EXPECT_EQ(J(R"({"a\u002Fb": 1})").entries()[0].first.as_named()->full, "a/b");
  // Insertion order is kept.
  EXPECT_EQ(JE(R"({"z": 1, "a": 2})"), "{:z 1, :a 2}");
}

TEST(JsonRead, KeywordAndEscapedStrings) {
  Value k = J(R"(":db.type/string")");
  EXPECT_EQ(k.type(), Type::kKeyword);
  EXPECT_EQ(k.as_named()->full, "db.type/string");
  EXPECT_EQ(J(R"(":a")").as_named()->full, "a");
  // "\\:" is the literal string after the backslash.
  Value s = J(R"("\\:db/id")");
  EXPECT_EQ(s.type(), Type::kString);
  EXPECT_EQ(s.as_string(), ":db/id");
  EXPECT_EQ(J(R"("\\:")").as_string(), ":");
  // Other strings stay strings, including ones that merely contain ':' or a backslash.
  EXPECT_EQ(J(R"("a:b")").type(), Type::kString);
  EXPECT_EQ(J(R"("\\n")").as_string(), "\\n");
  EXPECT_EQ(J(R"("\\\\:x")").as_string(), "\\\\:x");
  EXPECT_EQ(J(R"(":")").as_string(), ":");  // no name: a plain string
  EXPECT_EQ(J(R"("")").as_string(), "");
  // In arrays and as map values.
  EXPECT_EQ(JE(R"({"db/valueType": ":db.type/string", "note": "\\:not-a-keyword"})"),
            "{:db/valueType :db.type/string, :note \":not-a-keyword\"}");
}

TEST(JsonRead, ArraysAndLiterals) {
  Value a = J("[1, \"x\", true, false, null, [], {}]");
  ASSERT_EQ(a.type(), Type::kVector);
  ASSERT_EQ(a.size(), 7u);
  EXPECT_EQ(a.items()[2].type(), Type::kBool);
  EXPECT_TRUE(a.items()[2].as_bool());
  EXPECT_FALSE(a.items()[3].as_bool());
  EXPECT_TRUE(a.items()[4].is_nil());
  EXPECT_EQ(a.items()[5].type(), Type::kVector);
  EXPECT_EQ(a.items()[6].type(), Type::kMap);
  EXPECT_EQ(J("[]").size(), 0u);
  EXPECT_EQ(J(" [ [ ] , [ 1 ] ] ").size(), 2u);
  EXPECT_TRUE(J("null").is_nil());
  EXPECT_TRUE(J(" \t\r\n true \n").as_bool());
}

TEST(JsonRead, Numbers) {
  EXPECT_EQ(J("0").type(), Type::kLong);
  EXPECT_EQ(J("0").as_long(), 0);
  EXPECT_EQ(J("-0").as_long(), 0);
  EXPECT_EQ(J("42").as_long(), 42);
  EXPECT_EQ(J("-42").as_long(), -42);
  EXPECT_EQ(J("9223372036854775807").as_long(), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(J("-9223372036854775808").as_long(), std::numeric_limits<int64_t>::min());
  Value big = J("9223372036854775808");
  EXPECT_EQ(big.type(), Type::kBigInt);
  EXPECT_EQ(big.as_string(), "9223372036854775808");
  EXPECT_EQ(J("-123456789012345678901234567890").as_string(), "-123456789012345678901234567890");
  EXPECT_EQ(J("1.0").type(), Type::kDouble);
  EXPECT_EQ(J("1.0").as_double(), 1.0);
  EXPECT_EQ(J("1e3").type(), Type::kDouble);
  EXPECT_EQ(J("1e3").as_double(), 1000.0);
  EXPECT_EQ(J("1E-3").as_double(), 0.001);
  EXPECT_EQ(J("-2.5e+2").as_double(), -250.0);
  EXPECT_EQ(J("0.1").as_double(), 0.1);
  EXPECT_TRUE(std::signbit(J("-0.0").as_double()));
  EXPECT_EQ(J("1e400").as_double(), std::numeric_limits<double>::infinity());
  EXPECT_EQ(J("-1e400").as_double(), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(J("1e-400").as_double(), 0.0);
  EXPECT_EQ(J("123456789012345678901234567890.5").type(), Type::kDouble);
}

TEST(JsonRead, StringEscapes) {
  EXPECT_EQ(J(R"("a\"b")").as_string(), "a\"b");
  EXPECT_EQ(J(R"("a\\b")").as_string(), "a\\b");
  EXPECT_EQ(J(R"("a\/b")").as_string(), "a/b");
  EXPECT_EQ(J(R"("\b\f\n\r\t")").as_string(), "\b\f\n\r\t");
  EXPECT_EQ(J(R"("\u0041\u00e9\u20AC")").as_string(), "A\xC3\xA9\xE2\x82\xAC");
  EXPECT_EQ(J(R"("\ud83d\ude00")").as_string(), "\xF0\x9F\x98\x80");
  EXPECT_EQ(J(R"("\u0000")").as_string(), std::string(1, '\0'));
  EXPECT_EQ(J("\"caf\xC3\xA9 \xF0\x9F\x98\x80\"").as_string(), "caf\xC3\xA9 \xF0\x9F\x98\x80");
}

// ---------------------------------------------------------------------------------------------------
// Output rules.

TEST(JsonPrint, Scalars) {
  EXPECT_EQ(JS(Value()), "null");
  EXPECT_EQ(JS(Value::Bool(true)), "true");
  EXPECT_EQ(JS(Value::Bool(false)), "false");
  EXPECT_EQ(JS(Value::Long(-42)), "-42");
  EXPECT_EQ(JS(Value::Long(std::numeric_limits<int64_t>::min())), "-9223372036854775808");
  EXPECT_EQ(JS(Value::Double(1.0)), "1.0");  // stays a double when read back
  EXPECT_EQ(JS(Value::Double(0.1)), "0.1");
  EXPECT_EQ(JS(Value::Double(-0.0)), "-0.0");
  EXPECT_EQ(JS(Value::Double(1e21)), "1e+21");
  EXPECT_EQ(JS(Value::Float(1.5)), "1.5");
  // JSON has no NaN or infinities.
  EXPECT_EQ(JS(Value::Double(std::numeric_limits<double>::quiet_NaN())), "null");
  EXPECT_EQ(JS(Value::Double(std::numeric_limits<double>::infinity())), "null");
  // Bigints and bigdecs are JSON numbers.
  EXPECT_EQ(JS(Value::BigInt("123456789012345678901234567890")), "123456789012345678901234567890");
  EXPECT_EQ(JS(Value::BigDec("1.50")), "1.50");
  EXPECT_EQ(JS(Value::BigDec("-1E+3")), "-1E+3");
  EXPECT_EQ(JS(Value::BigDec("+007.")), "7");
  EXPECT_EQ(JS(Value::BigDec(".5")), "0.5");
  EXPECT_EQ(JS(Value::BigDec("1.e5")), "1e5");
}

TEST(JsonPrint, KeywordsStringsSymbolsChars) {
  EXPECT_EQ(JS(Kw("db/id")), R"(":db/id")");
  EXPECT_EQ(JS(Kw("a")), R"(":a")");
  EXPECT_EQ(JS(Value::String("plain")), R"("plain")");
  EXPECT_EQ(JS(Value::String(":looks-like-a-keyword")), R"("\\:looks-like-a-keyword")");
  EXPECT_EQ(JS(Value::String(":")), R"("\\:")");
  EXPECT_EQ(JS(Value::String("a:b")), R"("a:b")");
  EXPECT_EQ(JS(Value::Symbol("?x")), R"("?x")");
  EXPECT_EQ(JS(Value::Symbol("ns/sym")), R"("ns/sym")");
  EXPECT_EQ(JS(Value::Char('a')), R"("a")");
  EXPECT_EQ(JS(Value::Char('\n')), R"("\n")");
  EXPECT_EQ(JS(Value::Char(0xE9)), "\"\xC3\xA9\"");
  EXPECT_EQ(JS(Value::Char(':')), R"("\\:")");
  EXPECT_EQ(JS(Value::Char(0xD800)), R"("\ufffd")");
}

TEST(JsonPrint, StringEscaping) {
  EXPECT_EQ(JS(Value::String("q\"b\\s/")), R"("q\"b\\s/")");
  EXPECT_EQ(JS(Value::String("\n\t\r\b\f")), R"("\n\t\r\b\f")");
  EXPECT_EQ(JS(Value::String(std::string("\x00\x01\x1f\x7f", 4))), "\"\\u0000\\u0001\\u001f\x7f\"");
  // Non-ASCII passes through as UTF-8; malformed UTF-8 becomes U+FFFD.
  EXPECT_EQ(JS(Value::String("caf\xC3\xA9 \xF0\x9F\x98\x80 \xE2\x80\xA8")),
            "\"caf\xC3\xA9 \xF0\x9F\x98\x80 \xE2\x80\xA8\"");
  EXPECT_EQ(JS(Value::String("a\xFF" "b\xC3")), "\"a\xEF\xBF\xBD" "b\xEF\xBF\xBD\"");
  // An encoded surrogate is malformed: one U+FFFD per byte.
  EXPECT_EQ(JS(Value::String("\xED\xA0\x80")), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
  // Every printed string reads back (as JSON) to the same bytes when it was valid UTF-8.
  const std::string tricky = "x\"\\/\n\x01\xC3\xA9\xF0\x9F\x98\x80";
  EXPECT_EQ(J(JS(Value::String(tricky))).as_string(), tricky);
}

TEST(JsonPrint, CollectionsAndTagged) {
  EXPECT_EQ(JS(Value::Vector({Value::Long(1), Value::String("a")})), R"([1,"a"])");
  EXPECT_EQ(JS(Value::List({Value::Long(1), Value::Long(2)})), "[1,2]");
  EXPECT_EQ(JS(Value::Set({Value::Long(2), Value::Long(1)})), "[1,2]");
  EXPECT_EQ(JS(Value::Vector({})), "[]");
  EXPECT_EQ(JS(Value::Map({})), "{}");
  Uuid u{};
  const uint8_t bytes[16] = {0xf8, 0x1d, 0x4f, 0xae, 0x7d, 0xec, 0x11, 0xd0,
                             0xa7, 0x65, 0x00, 0xa0, 0xc9, 0x1e, 0x6b, 0xf6};
  std::copy(bytes, bytes + 16, u.bytes);
  EXPECT_EQ(JS(Value::MakeUuid(u)), R"("f81d4fae-7dec-11d0-a765-00a0c91e6bf6")");
  EXPECT_EQ(JS(Value::Instant(1577836800000)), R"("2020-01-01T00:00:00.000Z")");
  EXPECT_EQ(JS(Value::Instant(482196050520)), R"("1985-04-12T23:20:50.520Z")");
  EXPECT_EQ(JS(Value::Instant(-1)), R"("1969-12-31T23:59:59.999Z")");
  EXPECT_EQ(JS(Value::Bytes("hello")), R"("aGVsbG8=")");
}

TEST(JsonPrint, MapKeys) {
  // Keyword keys print without ':'; values keep it.
  EXPECT_EQ(JS(Value::Map({{Kw("db/id"), Value::Long(1)}, {Kw("a"), Kw("b/c")}})),
            R"({"db/id":1,"a":":b/c"})");
  // Nested maps.
  Value nested = Value::Map({{Kw("outer/k"), Value::Map({{Kw("inner/k"), Value::Long(1)}})}});
  EXPECT_EQ(JS(nested), R"({"outer/k":{"inner/k":1}})");
  // Non-keyword keys: strings as themselves, symbols by name, everything else as its EDN text.
  EXPECT_EQ(JS(Value::Map({{Value::String("s"), Value::Long(1)}})), R"({"s":1})");
  EXPECT_EQ(JS(Value::Map({{Value::Symbol("sym"), Value::Long(1)}})), R"({"sym":1})");
  EXPECT_EQ(JS(Value::Map({{Value::Long(7), Value::Long(1)}})), R"({"7":1})");
  EXPECT_EQ(JS(Value::Map({{Value::Vector({Value::Long(1), Value::String("x")}), Value::Long(1)}})),
            R"({"[1 \"x\"]":1})");
  EXPECT_EQ(JS(Value::Map({{Value::Instant(0), Value::Nil()}})),
            R"({"#inst \"1970-01-01T00:00:00.000-00:00\"":null})");
  EXPECT_EQ(JS(Value::Map({{Value(), Value::Long(1)}})), R"({"nil":1})");
}

TEST(JsonPrint, AppendsToOutput) {
  std::string out = "x=";
  json::Print(Value::Long(1), out);
  json::Print(Kw("k"), out);
  EXPECT_EQ(out, "x=1\":k\"");
}

// ---------------------------------------------------------------------------------------------------
// Round trips.

TEST(JsonRoundTrip, MirrorOfTheMapping) {
  const char* texts[] = {
      R"({"db/id":1,"person/name":"Ann","person/tags":[":tag/a",":tag/b"],"note":"\\:x"})",
      R"([1,-2,3.5,1e+21,null,true,false,"",":k","\\:s",{"a":{"b":[]}}])",
      R"(12345678901234567890123)",
      R"("caf\u00e9")",
  };
  for (const char* t : texts) {
    SCOPED_TRACE(t);
    Value v = J(t);
    const std::string printed = JS(v);
    Value back = J(printed);
    EXPECT_TRUE(Equal(v, back)) << printed;
    EXPECT_EQ(JS(back), printed);
  }
}

// Random values within the JSON-representable subset: maps with keyword keys, vectors, longs,
// bigints, finite doubles, strings, keywords, booleans and nil.
class JsonGen {
 public:
  explicit JsonGen(uint64_t seed) : rng_(seed) {}
  uint64_t U(uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng_); }

  Value Any(int depth) {
    if (depth <= 0 || U(100) < 55) return Scalar();
    if (U(2) == 0) {
      std::vector<Value> items;
      for (uint64_t i = U(6); i > 0; --i) items.push_back(Any(depth - 1));
      return Value::Vector(std::move(items));
    }
    std::vector<std::pair<Value, Value>> entries;
    for (uint64_t i = U(6); i > 0; --i) entries.emplace_back(Value::Keyword(Name()), Any(depth - 1));
    return Value::Map(std::move(entries));
  }

  Value Scalar() {
    switch (U(9)) {
      case 0: return Value();
      case 1: return Value::Bool(U(2) == 0);
      case 2: return Value::Long(static_cast<int64_t>(rng_()) >> U(64));
      case 3: {
        std::string d = U(2) ? "-" : "";
        d.push_back(static_cast<char>('1' + U(9)));
        for (uint64_t i = 19 + U(20); i > 0; --i) d.push_back(static_cast<char>('0' + U(10)));
        return Value::BigInt(d);
      }
      case 4: {
        double x;
        do {
          const uint64_t bits = rng_();
          std::memcpy(&x, &bits, 8);
        } while (!std::isfinite(x));
        return Value::Double(U(2) ? x : static_cast<double>(static_cast<int64_t>(U(2000)) - 1000));
      }
      case 5: return Value::Keyword(Name());
      default: return Value::String(String());
    }
  }

  std::string Name() {
    static const std::string kChars = "abcxyz-_.?!*0123456789";
    std::string s(1, static_cast<char>('a' + U(26)));
    for (uint64_t i = U(8); i > 0; --i) s.push_back(kChars[U(kChars.size())]);
    if (U(2)) {
      s.push_back('/');
      s.push_back(static_cast<char>('a' + U(26)));
      s += std::to_string(U(100));
    }
    return s;
  }

  std::string String() {
    std::string s;
    if (U(5) == 0) s.push_back(':');  // must survive as a string via the "\:" escape
    for (uint64_t i = U(12); i > 0; --i) {
      switch (U(5)) {
        case 0: s.push_back(static_cast<char>(U(0x20))); break;  // controls
        case 1: s += "\xC3\xA9"; break;
        case 2: s += "\xF0\x9F\x98\x80"; break;
        case 3: s.push_back("\"\\/:"[U(4)]); break;
        default: s.push_back(static_cast<char>(0x20 + U(0x5f))); break;
      }
    }
    // A string that itself starts with "\:" cannot round-trip: the mapping reads it back without
    // its backslash (see README.md).
    if (s.size() >= 2 && s[0] == '\\' && s[1] == ':') s.insert(s.begin(), 'x');
    return s;
  }

 private:
  std::mt19937_64 rng_;
};

TEST(JsonRoundTrip, RandomValues) {
  JsonGen gen(31337);
  for (int i = 0; i < 5000; ++i) {
    Value v = gen.Any(1 + static_cast<int>(gen.U(5)));
    const std::string text = JS(v);
    SCOPED_TRACE(text);
    Value back;
    try {
      back = J(text);
    } catch (const Error& e) {
      ADD_FAILURE() << e.what();
      continue;
    }
    EXPECT_TRUE(Equal(v, back));
    EXPECT_EQ(Compare(v, back), 0);
    EXPECT_EQ(JS(back), text);
  }
}

// ---------------------------------------------------------------------------------------------------
// Errors.

TEST(JsonErrors, MalformedInputsReportLineAndColumn) {
  struct Case {
    const char* text;
    const char* where;
    const char* what;
  };
  const Case cases[] = {
      {"", "line 1, column 1", "end of input"},
      {"   ", "line 1, column 4", "end of input"},
      {"[1, 2", "line 1, column 6", "unterminated array"},
      {"[1 2]", "line 1, column 4", "expected ',' or ']'"},
      {"[1,]", "line 1, column 4", "expected a value"},
      {"[,1]", "line 1, column 2", "expected a value"},
      {"{\"a\": 1", "line 1, column 8", "unterminated object"},
      {"{\"a\" 1}", "line 1, column 6", "':'"},
      {"{\"a\": 1,}", "line 1, column 9", "string key"},
      {"{a: 1}", "line 1, column 2", "string key"},
      {"{1: 1}", "line 1, column 2", "string key"},
      {"{\"\": 1}", "line 1, column 2", "empty"},
      {"{\":\": 1}", "line 1, column 2", "empty"},
      {"{\n  \"a\": 1\n  \"b\": 2\n}", "line 3, column 3", "expected ',' or '}'"},
      {"[1]]", "line 1, column 4", "trailing"},
      {"1 2", "line 1, column 3", "trailing"},
      {"\"abc", "line 1, column 5", "unterminated string"},
      {"\"a\nb\"", "line 1, column 3", "control character"},
      {"\"a\tb\"", "line 1, column 3", "control character"},
      {"\"\\x\"", "line 1, column 2", "invalid escape"},
      {"\"\\'\"", "line 1, column 2", "invalid escape"},
      {"\"\\u12G4\"", "line 1, column 2", "\\u escape"},
      {"\"\\ud800\"", "line 1, column 2", "surrogate"},
      {"\"\\udc00\"", "line 1, column 2", "surrogate"},
      {"01", "line 1, column 1", "leading zeros"},
      {"-", "line 1, column 1", "digit"},
      {"-a", "line 1, column 1", "digit"},
      {"+1", "line 1, column 1", "expected a value"},
      {"1.", "line 1, column 1", "after '.'"},
      {".5", "line 1, column 1", "expected a value"},
      {"1e", "line 1, column 1", "exponent"},
      {"1e+", "line 1, column 1", "exponent"},
      {"NaN", "line 1, column 1", "expected a value"},
      {"Infinity", "line 1, column 1", "expected a value"},
      {"tru", "line 1, column 1", "expected a value"},
      {"nul", "line 1, column 1", "expected a value"},
      {"truex", "line 1, column 5", "trailing"},
      {"[\"\xC3\xA9\", x]", "line 1, column 7", "expected a value"},  // columns count code points
      {"'a'", "line 1, column 1", "'''"},
      {"// c\n1", "line 1, column 1", "'/'"},
  };
  for (const Case& c : cases) ExpectParseError(c.text, c.where, c.what);
}

TEST(JsonErrors, NestingDepthIsLimited) {
  const int kLimit = 10000;
  const std::string ok = std::string(kLimit, '[') + std::string(kLimit, ']');
  Value v = J(ok);
  EXPECT_EQ(v.type(), Type::kVector);
  EXPECT_EQ(JS(v), ok);  // the printer copes with what the reader accepts
  ExpectParseError(std::string(kLimit + 1, '[') + std::string(kLimit + 1, ']'), "line 1, column 10001",
                   "nesting");
  ExpectParseError(std::string(200000, '['), "line 1", "nesting");
  std::string objects;
  for (int i = 0; i < 100000; ++i) objects += "{\"a\":";
  ExpectParseError(objects, "line 1", "nesting");
}

// ---------------------------------------------------------------------------------------------------
// Fuzzing: anything may be rejected, nothing may crash or throw anything but a kParse Error.

bool ReadSafely(std::string_view text) {
  try {
    json::Read(text);
    return true;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kParse) << e.what();
    EXPECT_NE(e.message().find("JSON parse error at line "), std::string::npos) << e.what();
    return false;
  }
}

TEST(JsonFuzz, RandomBytesTruncationsAndMutations) {
  std::mt19937_64 rng(5);
  const std::string alphabet = "{}[]:,\"\\/-+.0123456789eEtruefalsnu \n\t:";
  int ok = 0;
  for (int i = 0; i < 100000; ++i) {
    ok += ReadSafely(testutil::RandomText(rng, alphabet, 32, 5));
  }
  EXPECT_GT(ok, 0);
  JsonGen gen(6);
  for (int i = 0; i < 1500; ++i) {
    const std::string text = JS(gen.Any(4));
    testutil::ReadTruncationsAndMutations(text, "{}[]:,\"\\", rng, ReadSafely);
  }
}

// ---------------------------------------------------------------------------------------------------
// Speed: the JSON form of a transaction file of entity maps. Reports MB/s; the bound is loose.

TEST(JsonSpeed, ArrayOfEntityObjects) {
  std::string text = "[";
  std::mt19937_64 rng(1);
  for (int i = 0; i < 25000; ++i) {
    if (i > 0) text += ",\n";
    text += R"({"db/id":-)" + std::to_string(i + 1) + R"(,"person/name":"Person )" +
            std::to_string(rng() % 100000) + R"(","person/age":)" + std::to_string(rng() % 100) +
            R"(,"person/email":"p)" + std::to_string(i) + R"(@example.com","person/score":)" +
            std::to_string(static_cast<double>(rng() % 10000) / 7) +
            R"(,"person/tags":[":tag/a",":tag/b"],"person/born":"1985-04-12T23:20:50.520Z"})";
  }
  text += "]";
  const double mb = static_cast<double>(text.size()) / 1e6;
  double best = 1e9;
  for (int rep = 0; rep < 5; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    Value v = J(text);
    const auto t1 = std::chrono::steady_clock::now();
    EXPECT_EQ(v.size(), 25000u);
    best = std::min(best, std::chrono::duration<double>(t1 - t0).count());
  }
  std::printf("[ speed    ] JSON read: %.2f MB (25000 entity objects) in %.2f ms = %.0f MB/s\n", mb,
              best * 1e3, mb / best);
  EXPECT_LT(best, 5.0);
}

}  // namespace
}  // namespace datahike
