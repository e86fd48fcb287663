#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "core/pull/entity.h"
#include "tests/core/test_util.h"

namespace datahike::testing {
namespace {

DbPtr People() {
  return With(EmptyDb("{:name {:db/index true} :age {:db/index true}"
                      " :friend {:db/valueType :db.type/ref}}"),
              "[{:db/id 1 :name \"Ivan\" :age 15} {:db/id 2 :name \"Oleg\" :age 20}"
              " {:db/id 3 :name \"Sergey\" :age 7} {:db/id 4 :name \"Pavel\" :age 45}"
              " {:db/id 5 :name \"Petr\" :age 20 :friend 1}]");
}

TEST(Datoms, PrefixesInEachIndexOrder) {
  DbPtr db = People();
  EXPECT_EQ(Eavt(db, "[1]"), "[[1 :age 15] [1 :name \"Ivan\"]]");
  EXPECT_EQ(Eavt(db, "[5 :friend]"), "[[5 :friend 1]]");
  EXPECT_EQ(Aevt(db, "[:age]"),
            "[[1 :age 15] [2 :age 20] [3 :age 7] [4 :age 45] [5 :age 20]]");
  EXPECT_EQ(Avet(db, "[:age]"), "[[3 :age 7] [1 :age 15] [2 :age 20] [5 :age 20] [4 :age 45]]");
  EXPECT_EQ(Avet(db, "[:age 20]"), "[[2 :age 20] [5 :age 20]]");
  EXPECT_EQ(Avet(db, "[:friend 1]"), "[[5 :friend 1]]") << "refs are in AVET for reverse lookups";
  EXPECT_EQ(Eavt(db, "[99]"), "[]");
  EXPECT_THROW(db->Datoms(IndexOrder::kEavt, E("[1 :a 2 3 4]").items()), Error);
}

TEST(Datoms, AvetHoldsOnlyIndexedUniqueAndRefAttributes) {
  DbPtr db = With(EmptyDb("{:u {:db/unique :db.unique/value}}"), "[{:db/id 1 :plain 1 :u 2}]");
  EXPECT_EQ(Avet(db), "[[1 :u 2]]");
}

TEST(Datoms, SeekRseekAndIndexRange) {
  DbPtr db = People();
  auto seek = db->SeekDatoms(IndexOrder::kAvet, E("[:age 20]").items());
  ASSERT_GE(seek.size(), 3u);
  EXPECT_EQ(Rows({seek[0], seek[1], seek[2]}), "[[2 :age 20] [5 :age 20] [4 :age 45]]");
  EXPECT_EQ(seek.size(), db->current().avet.size() - 2) << "seek runs to the end of the index";
  auto rseek = db->RSeekDatoms(IndexOrder::kAvet, E("[:age 16]").items());
  EXPECT_EQ(Rows(rseek), "[[1 :age 15] [3 :age 7]]");
  EXPECT_EQ(Rows(db->IndexRange(Kw("age"), Value::Long(10), Value::Long(20))),
            "[[1 :age 15] [2 :age 20] [5 :age 20]]");
  EXPECT_EQ(Rows(db->IndexRange(Kw("age"), Value(), Value::Long(10))), "[[3 :age 7]]");
  EXPECT_EQ(Rows(db->IndexRange(Kw("name"), Value::String("P"), Value())),
            "[[4 :name \"Pavel\"] [5 :name \"Petr\"] [3 :name \"Sergey\"]]");
}

TEST(Datoms, LookupRefsAndIdentsInComponents) {
  DbPtr db = With(StoredEmpty("{:schema-flexibility :read}"),
                  "[{:db/ident :email :db/unique :db.unique/identity}"
                  " {:email \"a@b\" :n 1}]");
  EXPECT_EQ(Eavt(db, "[[:email \"a@b\"] :n]"), "[[2 :n 1]]");
  EXPECT_EQ(Eavt(db, "[[:email \"none\"]]"), "[]");
  EXPECT_EQ(Eavt(db, "[:email]"), "[[1 :db/ident :email] [1 :db/unique :db.unique/identity]]")
      << "an ident stands for its entity";
}

TEST(Db, OldValuesStayIntactAfterLaterTransactions) {
  DbPtr v1 = People();
  std::string snapshot = Eavt(v1);
  DbPtr v2 = With(v1, "[[:db/retractEntity 1] {:db/id 6 :name \"New\"} [:db/add 2 :age 21]]");
  EXPECT_EQ(Eavt(v1), snapshot);
  EXPECT_NE(Eavt(v2), snapshot);
  EXPECT_EQ(Eavt(v2, "[5]"), "[[5 :age 20] [5 :name \"Petr\"]]") << "the ref to 1 is gone";
}

DbPtr AliceHistory() {
  DbPtr db = With(StoredEmpty("{:keep-history? true :schema-flexibility :read}"),
                  "[{:db/ident :name :db/valueType :db.type/string :db/unique :db.unique/identity"
                  "  :db/index true :db/cardinality :db.cardinality/one}"
                  " {:db/ident :age :db/valueType :db.type/long :db/cardinality :db.cardinality/one}"
                  " {:name \"Alice\" :age 25} {:name \"Bob\" :age 35}]");  // tx 913
  db = With(db, "[[:db/add [:name \"Alice\"] :age 30]]");                 // 914
  db = With(db, "[[:db/add [:name \"Alice\"] :age 35]]");                 // 915
  db = With(db, "[[:db/add [:name \"Alice\"] :age 25]]");                 // 916
  db = With(db, "[[:db/retract [:name \"Alice\"] :age 25]]");             // 917
  return db;
}

TEST(History, HistoryViewShowsEveryAssertionAndRetraction) {
  DbPtr db = AliceHistory();
  EXPECT_EQ(Eavt(db, "[3 :age]"), "[]");
  EXPECT_EQ(Rows(db->History()->Datoms(IndexOrder::kEavt, E("[3 :age]").items()), true),
            "[[3 :age 25 536870913 true] [3 :age 25 536870914 false] [3 :age 25 536870916 true]"
            " [3 :age 25 536870917 false] [3 :age 30 536870914 true] [3 :age 30 536870915 false]"
            " [3 :age 35 536870915 true] [3 :age 35 536870916 false]]");
  EXPECT_EQ(Rows(db->History()->Datoms(IndexOrder::kAvet, E("[:name]").items()), true),
            "[[3 :name \"Alice\" 536870913 true] [4 :name \"Bob\" 536870913 true]]");
}

TEST(History, AsOfAndSinceByTransactionId) {
  DbPtr db = AliceHistory();
  auto age_as_of = [&](int64_t t) { return Eavt(db->AsOf(Value::Long(t)), "[3 :age]"); };
  EXPECT_EQ(age_as_of(536870913), "[[3 :age 25]]");
  EXPECT_EQ(age_as_of(536870914), "[[3 :age 30]]");
  EXPECT_EQ(age_as_of(536870915), "[[3 :age 35]]");
  EXPECT_EQ(age_as_of(536870916), "[[3 :age 25]]");
  EXPECT_EQ(age_as_of(536870917), "[]");
  EXPECT_EQ(Rows(db->AsOf(Value::Long(536870916))->Datoms(IndexOrder::kEavt, E("[3 :age]").items()), true),
            "[[3 :age 25 536870916 true]]");
  EXPECT_EQ(Eavt(db->Since(Value::Long(536870913)), "[4]"), "[]");
  EXPECT_EQ(Eavt(db->Since(Value::Long(536870912)), "[4]"), "[[4 :age 35] [4 :name \"Bob\"]]");
  try {
    db->AsOf(Value::Long(5));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "Invalid transaction ID. Must be bigger than 536870912.");
  }
  EXPECT_THROW(db->AsOf(Value::String("yesterday")), Error);
}

TEST(History, AsOfByInstant) {
  DbPtr db = With(StoredEmpty("{:schema-flexibility :read}"), "[{:db/id 1 :v 1}]");
  int64_t t1 = db->Datoms(IndexOrder::kEavt, {Value::Long(536870913)})[0].v.as_instant();
  DbPtr later = Transact(db, E("[[:db/add 1 :v 2]]"), Value(), t1 + 1000).db_after;
  EXPECT_EQ(Eavt(later->AsOf(Value::Instant(t1)), "[1 :v]"), "[[1 :v 1]]");
  EXPECT_EQ(Eavt(later->AsOf(Value::Instant(t1 + 1000)), "[1 :v]"), "[[1 :v 2]]");
  EXPECT_EQ(Eavt(later->AsOf(Value::Instant(t1 - 1)), "[1 :v]"), "[]");
  EXPECT_EQ(Eavt(later->Since(Value::Instant(t1)), "[1 :v]"), "[[1 :v 2]]");
}

TEST(History, NoHistoryAttributesKeepNoPast) {
  DbPtr db = With(StoredEmpty("{:schema-flexibility :write}"),
                  "[{:db/ident :name :db/cardinality :db.cardinality/one :db/valueType :db.type/string"
                  "  :db/unique :db.unique/identity}"
                  " {:db/ident :age :db/cardinality :db.cardinality/one :db/valueType :db.type/long"
                  "  :db/noHistory true}"
                  " {:name \"Alice\" :age 25}]");
  EXPECT_EQ(Rows(db->History()->Datoms(IndexOrder::kEavt, E("[3 :age]").items())), "[[3 :age 25]]");
  DbPtr gone = With(db, "[[:db/retractEntity [:name \"Alice\"]]]");
  EXPECT_EQ(Rows(gone->History()->Datoms(IndexOrder::kEavt, E("[3 :age]").items())), "[]");
  EXPECT_EQ(Rows(gone->History()->Datoms(IndexOrder::kEavt, E("[3 :name]").items())),
            "[[3 :name \"Alice\"] [3 :name \"Alice\"]]");
  // Lookup refs still resolve in history after the entity was retracted.
  EXPECT_EQ(Eavt(gone->History(), "[[:name \"Alice\"] :name]"), "[[3 :name \"Alice\"] [3 :name \"Alice\"]]");
}

TEST(History, ViewsNeedHistory) {
  DbPtr db = EmptyDb();
  EXPECT_THROW(db->History(), Error);
  EXPECT_THROW(db->AsOf(Value::Long(536870913)), Error);
  EXPECT_THROW(db->Since(Value::Long(536870913)), Error);
  EXPECT_THROW(Tx(AliceHistory()->History(), "[{:name \"x\"}]"), Error)
      << "a historical view cannot be transacted on";
}

TEST(Entity, TouchedMapOrNil) {
  DbPtr db = People();
  EXPECT_EQ(S(EntityMap(*db, Value::Long(5))),
            "{:db/id 5, :age 20, :friend {:db/id 1}, :name \"Petr\"}");
  EXPECT_TRUE(EntityMap(*db, Value::Long(77)).is_nil());
  EXPECT_TRUE(EntityMap(*db, Value()).is_nil());
  EXPECT_THROW(EntityMap(*db, E("[:name]")), Error);
}

TEST(Db, ReadersOnHeldValuesWhileAWriterTransacts) {
  // The writer publishes each new value here (a mutex-guarded pointer, as a connection does).
  std::mutex mu;
  DbPtr published = EmptyDb("{:n {:db/index true}}");
  auto load = [&] {
    std::lock_guard<std::mutex> lock(mu);
    return published;
  };
  std::atomic<bool> done{false};
  std::thread writer([&] {
    DbPtr db = load();
    for (int i = 0; i < 2000; ++i) {
      // Each transaction adds two datoms on one entity: readers must see both or neither.
      db = With(db, "[{:db/id " + std::to_string(i + 1) + " :n " + std::to_string(i) + " :m " +
                        std::to_string(i) + "}]");
      std::lock_guard<std::mutex> lock(mu);
      published = db;
    }
    done = true;
  });
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      while (!done) {
        DbPtr db = load();
        size_t n = db->Datoms(IndexOrder::kAevt, {Kw("n")}).size();
        size_t m = db->Datoms(IndexOrder::kAevt, {Kw("m")}).size();
        ASSERT_EQ(n, m);
        ASSERT_EQ(n, static_cast<size_t>(db->max_eid()));
        // A held value does not change under the reader.
        ASSERT_EQ(db->Datoms(IndexOrder::kAevt, {Kw("n")}).size(), n);
      }
    });
  }
  writer.join();
  for (auto& t : readers) t.join();
  EXPECT_EQ(load()->max_eid(), 2000);
}

TEST(Db, RandomTransactionsKeepIndicesConsistent) {
  std::mt19937 rng(42);
  DbPtr db = EmptyDb("{:tag {:db/cardinality :db.cardinality/many :db/index true}"
                     " :v {:db/index true}}");
  for (int i = 0; i < 300; ++i) {
    std::string tx = "[";
    for (int k = 0; k < 5; ++k) {
      int e = 1 + rng() % 40;
      switch (rng() % 4) {
        case 0: tx += "[:db/add " + std::to_string(e) + " :v " + std::to_string(rng() % 10) + "]"; break;
        case 1: tx += "[:db/add " + std::to_string(e) + " :tag " + std::to_string(rng() % 5) + "]"; break;
        case 2: tx += "[:db/retract " + std::to_string(e) + " :tag " + std::to_string(rng() % 5) + "]"; break;
        case 3: tx += "[:db.fn/retractEntity " + std::to_string(e) + "]"; break;
      }
    }
    db = With(db, tx + "]");
    ASSERT_EQ(db->current().eavt.size(), db->current().aevt.size());
    ASSERT_EQ(db->current().eavt.size(), db->current().avet.size());
  }
  // Every EAVT datom is in AEVT and AVET.
  for (const Datom& d : db->SearchAll(IndexOrder::kEavt, Pattern{})) {
    Pattern p;
    p.a = d.a;
    p.v = d.v;
    p.e = d.e;
    EXPECT_EQ(db->SearchAll(IndexOrder::kAvet, p).size(), 1u);
    EXPECT_EQ(db->SearchAll(IndexOrder::kAevt, p).size(), 1u);
  }
}

// Thousands of one-datom transactions (so the indices keep changes pending, merge them and fold
// them): every held value keeps its contents when read late, each index order agrees with a model,
// and as-of each held value's transaction the final db shows exactly that value's datoms.
TEST(Db, ManySmallTransactionsKeepEveryValue) {
  std::mt19937 rng(7);
  DbPtr db = EmptyDb("{:tag {:db/cardinality :db.cardinality/many :db/index true}"
                     " :v {:db/index true} :w {}}",
                     "{:keep-history? true}");
  std::map<std::pair<int64_t, std::string>, std::set<int64_t>> model;  // (e, attr) -> values
  struct Held {
    DbPtr db;
    size_t count;
    std::string eavt;
  };
  std::vector<Held> held;
  const std::vector<std::string> attrs = {"v", "w", "tag"};
  for (int i = 0; i < 9000; ++i) {
    int64_t e = 1 + static_cast<int64_t>(rng() % 400);
    const std::string& a = attrs[rng() % 3];
    int64_t x = static_cast<int64_t>(rng() % 6);
    std::string tx;
    auto& vs = model[{e, a}];
    switch (rng() % 5) {
      case 0:
        tx = "[[:db/retract " + std::to_string(e) + " :" + a + " " + std::to_string(x) + "]]";
        vs.erase(x);
        break;
      case 1:
        if (i % 10 == 0) {
          tx = "[[:db.fn/retractEntity " + std::to_string(e) + "]]";
          for (const std::string& b : attrs) model[{e, b}].clear();
          break;
        }
        [[fallthrough]];
      default:
        tx = "[[:db/add " + std::to_string(e) + " :" + a + " " + std::to_string(x) + "]]";
        if (a != "tag") vs.clear();  // cardinality one: the old value is retracted
        vs.insert(x);
        break;
    }
    db = With(db, tx);
    if (i % 1000 == 999) {
      size_t count = 0;
      for (const auto& [k, v] : model) count += v.size();
      // The string of a value is taken now; the value is read again at the end.
      held.push_back(Held{db, count, ""});
    }
  }
  // Read each held value only now, long after later transactions were built on it.
  for (Held& h : held) {
    size_t user = 0;
    for (const Datom& d : h.db->SearchAll(IndexOrder::kEavt, Pattern{})) {
      user += KeywordById(d.a)->full == "db/txInstant" ? 0 : 1;
    }
    EXPECT_EQ(user, h.count);
    h.eavt = Rows(h.db->SearchAll(IndexOrder::kEavt, Pattern{}), true);
    // AEVT and AVET hold the same datoms; the public :avet calls show the :v and :tag ones.
    EXPECT_EQ(h.db->current().aevt.size(), h.db->current().eavt.size());
    EXPECT_EQ(h.db->current().avet.size(), h.db->current().eavt.size());
    size_t in_avet = 0;
    for (const Datom& d : h.db->SearchAll(IndexOrder::kEavt, Pattern{})) {
      const std::string& name = KeywordById(d.a)->full;
      in_avet += name == "v" || name == "tag" ? 1 : 0;
    }
    EXPECT_EQ(h.db->Datoms(IndexOrder::kAvet, {}).size(), in_avet);
    // AVET's datoms, in EAVT order, are EAVT's (:w ones included, written in deferred runs).
    std::vector<Datom> avet = h.db->SearchAll(IndexOrder::kAvet, Pattern{});
    std::sort(avet.begin(), avet.end(), EavtLess());
    EXPECT_EQ(Rows(avet, true), h.eavt);
  }
  // The final value against the model, attribute by attribute.
  for (const auto& [k, vs] : model) {
    std::string want = "[";
    for (int64_t x : vs) {
      want += (want.size() > 1 ? " [" : "[") + std::to_string(k.first) + " :" + k.second + " " +
              std::to_string(x) + "]";
    }
    want += "]";
    ASSERT_EQ(Eavt(db, "[" + std::to_string(k.first) + " :" + k.second + "]"), want);
  }
  // History: as of each held value's last transaction, the final db shows that value.
  for (const Held& h : held) {
    DbPtr as_of = db->AsOf(Value::Long(h.db->max_tx()));
    EXPECT_EQ(Rows(as_of->SearchAll(IndexOrder::kEavt, Pattern{}), true), h.eavt);
  }
}

}  // namespace
}  // namespace datahike::testing
