#include <gtest/gtest.h>

#include <thread>
#include <unordered_set>

#include "core/value/value.h"

namespace datahike {
namespace {

TEST(Value, ScalarsRoundTripThroughAccessors) {
  EXPECT_TRUE(Value().is_nil());
  EXPECT_EQ(Value::Long(-7).as_long(), -7);
  EXPECT_EQ(Value::Double(1.5).as_double(), 1.5);
  EXPECT_TRUE(Value::Bool(true).as_bool());
  EXPECT_EQ(Value::Instant(1234).as_instant(), 1234);
  EXPECT_EQ(Value::Char('x').as_char(), 'x');
  EXPECT_EQ(Value::String("héllo").as_string(), "héllo");
  EXPECT_EQ(Value::BigInt("-000123").as_string(), "-123");
  EXPECT_EQ(Value::BigInt("-0").as_string(), "0");
  EXPECT_EQ(Value::BigDec("+1.50").as_string(), "1.50");
  EXPECT_THROW(Value::BigInt("12a"), std::invalid_argument);
  EXPECT_THROW(Value::BigDec("1.2.3"), std::invalid_argument);
  EXPECT_THROW(Value::BigDec("e5"), std::invalid_argument);
}

TEST(Value, KeywordsAreInternedAndSplit) {
  Value a = Kw("db/ident"), b = Kw("db/ident");
  EXPECT_EQ(a.as_named(), b.as_named());
  EXPECT_EQ(a.as_named()->ns, "db");
  EXPECT_EQ(a.as_named()->name, "ident");
  EXPECT_EQ(KeywordById(a.as_named()->id), a.as_named());
  EXPECT_EQ(Kw("name").as_named()->ns, "");
  EXPECT_NE(Value::Symbol("name").as_named(), Kw("name").as_named());
  EXPECT_EQ(Value::Symbol("/").as_named()->name, "/");
  EXPECT_EQ(InternKeyword("a.b", "c-d")->full, "a.b/c-d");
}

TEST(Value, KeywordsWithoutNamespaceSortFirst) {
  EXPECT_LT(Compare(Kw("age"), Kw("name")), 0);
  EXPECT_LT(Compare(Kw("name"), Kw("db/ident")), 0);
  EXPECT_LT(Compare(Kw("db/ident"), Kw("db/valueType")), 0);
  EXPECT_LT(Compare(Kw("a/z"), Kw("b/a")), 0);
}

TEST(Value, TotalOrderAcrossTypes) {
  std::vector<Value> ordered = {Value(),          Value::Bool(false),  Value::Bool(true),
                                Value::Long(-5),  Value::Double(-4.5), Value::Long(0),
                                Value::BigInt("99999999999999999999"), Value::Instant(0),
                                Value::Char('a'), Value::String("a"),  Value::String("b"),
                                Kw("a"),          Value::Symbol("a"),  Value::Vector({}),
                                Value::Set({}),   Value::Map({})};
  for (size_t i = 0; i < ordered.size(); ++i) {
    for (size_t j = 0; j < ordered.size(); ++j) {
      int c = Compare(ordered[i], ordered[j]);
      if (i < j) {
        EXPECT_LT(c, 0) << i << " " << j;
      }
      if (i == j) {
        EXPECT_EQ(c, 0) << i;
      }
      if (i > j) {
        EXPECT_GT(c, 0) << i << " " << j;
      }
    }
  }
}

TEST(Value, NumericEqualityFollowsClojure) {
  EXPECT_TRUE(Equal(Value::Long(1), Value::BigInt("1")));
  EXPECT_EQ(Hash(Value::Long(1)), Hash(Value::BigInt("1")));
  EXPECT_FALSE(Equal(Value::Long(1), Value::Double(1.0)));
  EXPECT_NE(Compare(Value::Long(1), Value::Double(1.0)), 0);
  EXPECT_LT(Compare(Value::Long(1), Value::Double(1.5)), 0);
  EXPECT_LT(Compare(Value::Double(0.5), Value::Long(1)), 0);
  EXPECT_LT(Compare(Value::BigInt("-99999999999999999999"), Value::Long(INT64_MIN)), 0);
  EXPECT_LT(Compare(Value::BigDec("1.5"), Value::BigDec("2")), 0);
  EXPECT_TRUE(Equal(Value::Double(0.0), Value::Double(-0.0)));
  EXPECT_EQ(Hash(Value::Double(0.0)), Hash(Value::Double(-0.0)));
}

TEST(Value, ListsAndVectorsAreOneSequentialKind) {
  Value l = Value::List({Value::Long(1), Value::Long(2)});
  Value v = Value::Vector({Value::Long(1), Value::Long(2)});
  EXPECT_TRUE(Equal(l, v));
  EXPECT_EQ(Hash(l), Hash(v));
  EXPECT_FALSE(Equal(v, Value::Set({Value::Long(1), Value::Long(2)})));
}

TEST(Value, SetsAndMapsAreSortedAndDeduplicated) {
  Value s = Value::Set({Value::Long(3), Value::Long(1), Value::Long(3), Value::Long(2)});
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s.items()[0].as_long(), 1);
  EXPECT_EQ(s.items()[2].as_long(), 3);
  Value m = Value::Map({{Kw("b"), Value::Long(1)}, {Kw("a"), Value::Long(2)}, {Kw("b"), Value::Long(3)}});
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m.get("b")->as_long(), 3);  // the later duplicate wins
  EXPECT_EQ(m.get(Kw("a"))->as_long(), 2);
  EXPECT_EQ(m.get("zzz"), nullptr);
  EXPECT_TRUE(Equal(m, Value::Map({{Kw("a"), Value::Long(2)}, {Kw("b"), Value::Long(3)}})));
}

TEST(Value, CopiesShareHeapObjectsSafelyAcrossThreads) {
  Value shared = Value::Vector({Value::String("x"), Value::Map({{Kw("k"), Value::String("v")}})});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&shared] {
      for (int i = 0; i < 20000; ++i) {
        Value copy = shared;
        Value moved = std::move(copy);
        ASSERT_EQ(moved.size(), 2u);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(shared.items()[0].as_string(), "x");
}

TEST(Value, HashAgreesWithEqualityOnACollectionOfValues) {
  std::vector<Value> vs = {Value::Long(1),         Value::BigInt("1"),      Value::Double(1),
                           Value::String("1"),     Kw("x"),                 Value::Symbol("x"),
                           Value::Vector({Kw("a")}), Value::List({Kw("a")}), Value::Set({Kw("a")})};
  for (const Value& a : vs) {
    for (const Value& b : vs) {
      if (Equal(a, b)) {
        EXPECT_EQ(Hash(a), Hash(b));
      }
    }
  }
}

TEST(Value, InterningFromManyThreadsGivesOneEntry) {
  std::vector<std::thread> threads;
  std::vector<const Named*> got(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&got, t] { got[t] = InternKeyword("concurrent/kw"); });
  }
  for (auto& t : threads) t.join();
  for (const Named* n : got) EXPECT_EQ(n, got[0]);
}

}  // namespace
}  // namespace datahike
