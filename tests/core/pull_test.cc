// Pull API and entity tests. Expected values are Datahike's (pull_api_test.cljc, entity_test.cljc,
// DataScript's pull_api.cljc), including its quirks, which core/pull/README.md lists.

#include "core/pull/pull.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/pull/entity.h"
#include "tests/core/test_util.h"

namespace datahike {
namespace {

using testing::E;
using testing::EmptyDb;
using testing::S;
using testing::StoredEmpty;
using testing::With;

const char* kSchema =
    "{:aka {:db/cardinality :db.cardinality/many}"
    " :child {:db/cardinality :db.cardinality/many :db/valueType :db.type/ref}"
    " :friend {:db/cardinality :db.cardinality/many :db/valueType :db.type/ref}"
    " :enemy {:db/cardinality :db.cardinality/many :db/valueType :db.type/ref}"
    " :father {:db/valueType :db.type/ref}"
    " :part {:db/valueType :db.type/ref :db/isComponent true"
    "        :db/cardinality :db.cardinality/many}"
    " :spec {:db/valueType :db.type/ref :db/isComponent true"
    "        :db/cardinality :db.cardinality/one}"
    " :name {:db/unique :db.unique/identity}}";

const char* kData =
    "[[:db/add 1 :name \"Petr\"] [:db/add 1 :aka \"Devil\"] [:db/add 1 :aka \"Tupen\"]"
    " [:db/add 2 :name \"David\"] [:db/add 3 :name \"Thomas\"] [:db/add 4 :name \"Lucy\"]"
    " [:db/add 5 :name \"Elizabeth\"] [:db/add 6 :name \"Matthew\"] [:db/add 7 :name \"Eunan\"]"
    " [:db/add 8 :name \"Kerri\"] [:db/add 9 :name \"Rebecca\"]"
    " [:db/add 1 :child 2] [:db/add 1 :child 3] [:db/add 2 :father 1] [:db/add 3 :father 1]"
    " [:db/add 6 :father 3]"
    " [:db/add 10 :name \"Part A\"] [:db/add 11 :name \"Part A.A\"] [:db/add 10 :part 11]"
    " [:db/add 12 :name \"Part A.A.A\"] [:db/add 11 :part 12]"
    " [:db/add 13 :name \"Part A.A.A.A\"] [:db/add 12 :part 13]"
    " [:db/add 14 :name \"Part A.A.A.B\"] [:db/add 12 :part 14]"
    " [:db/add 15 :name \"Part A.B\"] [:db/add 10 :part 15]"
    " [:db/add 16 :name \"Part A.B.A\"] [:db/add 15 :part 16]"
    " [:db/add 17 :name \"Part A.B.A.A\"] [:db/add 16 :part 17]"
    " [:db/add 18 :name \"Part A.B.A.B\"] [:db/add 16 :part 18]]";

const char* kFriends =
    "[[:db/add 4 :friend 5] [:db/add 5 :friend 6] [:db/add 6 :friend 7] [:db/add 7 :friend 8]"
    " [:db/add 4 :enemy 6] [:db/add 5 :enemy 7] [:db/add 6 :enemy 8] [:db/add 7 :enemy 4]]";

DbPtr TestDb() {
  static const DbPtr db = With(EmptyDb(kSchema), kData);
  return db;
}
DbPtr FriendsDb() {
  static const DbPtr db = With(TestDb(), kFriends);
  return db;
}

// Compares by value (maps as maps, vectors in order) and prints both sides as EDN on failure.
::testing::AssertionResult Is(const Value& got, const std::string& want_edn) {
  Value want = E(want_edn);
  if (Equal(got, want) && got.type() == want.type()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "got  " << S(got) << "\nwant " << want_edn;
}

Value P(const DbPtr& db, const std::string& pattern, const std::string& eid) {
  return Pull(*db, E(pattern), E(eid));
}

// The message of the error a pull raises ("" when it succeeds); kind in *kind.
std::string PullError(const DbPtr& db, const std::string& pattern, const std::string& eid,
                      ErrorKind* kind = nullptr) {
  try {
    Pull(*db, E(pattern), E(eid));
  } catch (const Error& e) {
    if (kind != nullptr) *kind = e.kind();
    return e.message();
  }
  return "";
}

std::string ParseError(const std::string& pattern, ErrorKind* kind = nullptr) {
  try {
    ParsePullPattern(E(pattern));
  } catch (const Error& e) {
    if (kind != nullptr) *kind = e.kind();
    return e.message();
  }
  return "";
}

// Runs f on a thread with a 256 KB stack: far too small for a pull that nests on the C++ stack
// thousands of levels deep.
void OnSmallStack(const std::function<void()>& f) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  pthread_t thread;
  auto run = [](void* arg) -> void* {
    (*static_cast<const std::function<void()>*>(arg))();
    return nullptr;
  };
  ASSERT_EQ(pthread_create(&thread, &attr, run, const_cast<std::function<void()>*>(&f)), 0);
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attr);
}

// ---------------------------------------------------------------------------------------------------
// Attribute names

TEST(Pull, AttributeNames) {
  EXPECT_TRUE(Is(P(TestDb(), "[:name :aka]", "1"), "{:name \"Petr\" :aka [\"Devil\" \"Tupen\"]}"));
  EXPECT_TRUE(Is(P(TestDb(), "[:name :father :db/id]", "6"),
                 "{:name \"Matthew\" :father {:db/id 3} :db/id 6}"));
  EXPECT_TRUE(Is(P(TestDb(), "[:child]", "1"), "{:child [{:db/id 2} {:db/id 3}]}"));
}

TEST(Pull, OneAttributeAndManyAttributesReadTheSame) {
  // One attribute seeks [e a]; several read the entity in one scan. Both must agree.
  DbPtr db = TestDb();
  for (const char* attr : {":name", ":aka", ":child", ":father", ":part", ":nothing"}) {
    Value one = P(db, std::string("[") + attr + "]", "1");
    Value many = P(db, std::string("[") + attr + " :zzz/none :yyy/none]", "1");
    EXPECT_TRUE(Equal(one, many)) << attr << ": " << S(one) << " vs " << S(many);
  }
  EXPECT_TRUE(Is(P(db, "[[:aka :limit 1] :name]", "1"), "{:aka [\"Devil\"] :name \"Petr\"}"));
  EXPECT_TRUE(Is(P(db, "[[:aka :limit 1]]", "1"), "{:aka [\"Devil\"]}"));
}

TEST(Pull, MissingAttributesAreLeftOutAndNothingIsNil) {
  EXPECT_TRUE(P(TestDb(), "[:foo]", "1").is_nil());
  EXPECT_TRUE(Is(P(TestDb(), "[:name :foo]", "1"), "{:name \"Petr\"}"));
  EXPECT_TRUE(P(TestDb(), "[:name]", "999").is_nil());
  EXPECT_TRUE(P(TestDb(), "[]", "1").is_nil());
  EXPECT_TRUE(P(TestDb(), "[{}]", "1").is_nil()) << "an empty map spec adds nothing";
}

TEST(Pull, DbIdOnly) {
  EXPECT_TRUE(Is(P(TestDb(), "[:db/id]", "3"), "{:db/id 3}"));
  EXPECT_TRUE(P(TestDb(), "[:db/id]", "999").is_nil()) << "an entity with no datoms";
  EXPECT_TRUE(Is(P(TestDb(), "[:db/id :foo]", "3"), "{:db/id 3}"));
  // Datahike pulls :db/id under its own name whatever the options say.
  EXPECT_TRUE(Is(P(TestDb(), "[[:db/id :as :id]]", "3"), "{:db/id 3}"));
}

TEST(Pull, SetPatterns) {
  EXPECT_TRUE(Is(P(TestDb(), "#{:name}", "1"), "{:name \"Petr\"}"));
  EXPECT_TRUE(Is(P(TestDb(), "[{:father #{:name}}]", "6"), "{:father {:name \"Thomas\"}}"));
}

TEST(Pull, ListPatterns) { EXPECT_TRUE(Is(P(TestDb(), "(:name)", "1"), "{:name \"Petr\"}")); }

TEST(Pull, DuplicateKeysTheLaterWins) {
  EXPECT_TRUE(Is(P(TestDb(), "[:name [:name :as :n]]", "1"), "{:n \"Petr\"}"));
  // Map specs come after the others (Datahike's order), so the map wins wherever it is written.
  EXPECT_TRUE(Is(P(TestDb(), "[{:father [:name]} :father]", "6"), "{:father {:name \"Thomas\"}}"));
}

TEST(Pull, StringAttributeNamesReadNothing) {
  EXPECT_TRUE(P(TestDb(), "[\"name\"]", "1").is_nil());
  EXPECT_TRUE(Is(P(TestDb(), "[[\"name\" :default 1]]", "1"), "{\"name\" 1}"));
}

// ---------------------------------------------------------------------------------------------------
// Reverse attributes

TEST(Pull, ReverseAttributes) {
  EXPECT_TRUE(Is(P(TestDb(), "[:name :_child]", "2"), "{:name \"David\" :_child [{:db/id 1}]}"));
  EXPECT_TRUE(Is(P(TestDb(), "[:name {:_child [:name]}]", "2"),
                 "{:name \"David\" :_child [{:name \"Petr\"}]}"));
  EXPECT_TRUE(Is(P(TestDb(), "[:name :_father]", "3"), "{:name \"Thomas\" :_father [{:db/id 6}]}"));
  EXPECT_TRUE(Is(P(TestDb(), "[:name :_father]", "1"),
                 "{:name \"Petr\" :_father [{:db/id 2} {:db/id 3}]}"));
  EXPECT_TRUE(Is(P(TestDb(), "[:name {:_father [:name]}]", "1"),
                 "{:name \"Petr\" :_father [{:name \"David\"} {:name \"Thomas\"}]}"));
  EXPECT_TRUE(Is(P(TestDb(), "[:name :_father :_child]", "1"),
                 "{:name \"Petr\" :_father [{:db/id 2} {:db/id 3}]}"));
  EXPECT_TRUE(P(TestDb(), "[:_father]", "9").is_nil());
}

TEST(Pull, ReverseComponentIsASingleMap) {
  EXPECT_TRUE(Is(P(TestDb(), "[:name :_part]", "11"), "{:name \"Part A.A\" :_part {:db/id 10}}"));
  EXPECT_TRUE(Is(P(TestDb(), "[:name {:_part ...}]", "14"),
                 "{:name \"Part A.A.A.B\" :_part {:name \"Part A.A.A\" :_part {:name \"Part A.A\""
                 " :_part {:name \"Part A\"}}}}"));
  DbPtr db = With(EmptyDb("{:ref {:db/valueType :db.type/ref :db/isComponent true}}"),
                  "[{:name \"1\" :ref {:name \"2\" :ref {:name \"3\"}}}]");
  EXPECT_TRUE(Is(P(db, "[:name {:ref [:name {:ref [:name {:_ref [:name]}]}]}]", "1"),
                 "{:name \"1\" :ref {:name \"2\" :ref {:name \"3\" :_ref {:name \"2\"}}}}"));
}

TEST(Pull, ReverseOfAnIndexedNonRefAttributeGivesNumbers) {
  // Datahike reads reverse attributes from AVET: an indexed attribute holding the number works.
  DbPtr db =
      With(EmptyDb("{:n {:db/index true}}"), "[{:db/id 1 :n 5} {:db/id 2 :n 5} {:db/id 5 :x 1}]");
  EXPECT_TRUE(Is(P(db, "[:_n]", "5"), "{:_n [1 2]}"));
}

// ---------------------------------------------------------------------------------------------------
// Components

TEST(Pull, ComponentsAreExpandedRecursively) {
  EXPECT_TRUE(Is(P(TestDb(), "[:name :part]", "10"),
                 "{:name \"Part A\" :part [{:db/id 11 :name \"Part A.A\" :part [{:db/id 12"
                 " :name \"Part A.A.A\" :part [{:db/id 13 :name \"Part A.A.A.A\"} {:db/id 14"
                 " :name \"Part A.A.A.B\"}]}]} {:db/id 15 :name \"Part A.B\" :part [{:db/id 16"
                 " :name \"Part A.B.A\" :part [{:db/id 17 :name \"Part A.B.A.A\"} {:db/id 18"
                 " :name \"Part A.B.A.B\"}]}]}]}"));
}

TEST(Pull, ComponentExpansionStopsAtLoops) {
  DbPtr db = With(TestDb(), "[[:db/add 12 :part 10]]");
  EXPECT_TRUE(Is(P(db, "[:name :part]", "10"),
                 "{:name \"Part A\" :part [{:db/id 11 :name \"Part A.A\" :part [{:db/id 12"
                 " :name \"Part A.A.A\" :part [{:db/id 10} {:db/id 13 :name \"Part A.A.A.A\"}"
                 " {:db/id 14 :name \"Part A.A.A.B\"}]}]} {:db/id 15 :name \"Part A.B\" :part"
                 " [{:db/id 16 :name \"Part A.B.A\" :part [{:db/id 17 :name \"Part A.B.A.A\"}"
                 " {:db/id 18 :name \"Part A.B.A.B\"}]}]}]}"));
}

TEST(Pull, CardinalityOneComponent) {
  DbPtr db = With(TestDb(), "[{:db/id 20 :name \"Box\" :spec {:db/id 21 :name \"Lid\"}}]");
  EXPECT_TRUE(Is(P(db, "[:spec]", "20"), "{:spec {:db/id 21 :name \"Lid\"}}"));
  EXPECT_TRUE(Is(P(db, "[*]", "20"), "{:db/id 20 :name \"Box\" :spec {:db/id 21 :name \"Lid\"}}"));
  EXPECT_TRUE(Is(P(db, "[:_spec]", "21"), "{:_spec {:db/id 20}}"));
}

TEST(Pull, SubpatternOverridesComponentExpansion) {
  const char* parts = "{:name \"Part A\" :part [{:name \"Part A.A\"} {:name \"Part A.B\"}]}";
  EXPECT_TRUE(Is(P(TestDb(), "[:name {:part [:name]}]", "10"), parts));
  EXPECT_TRUE(Is(P(TestDb(), "[:name {:part 1}]", "10"), parts));
}

// ---------------------------------------------------------------------------------------------------
// Wildcard

TEST(Pull, Wildcard) {
  const char* petr =
      "{:db/id 1 :name \"Petr\" :aka [\"Devil\" \"Tupen\"] :child [{:db/id 2} {:db/id 3}]}";
  EXPECT_TRUE(Is(P(TestDb(), "[*]", "1"), petr));
  EXPECT_TRUE(Is(P(TestDb(), "[:*]", "1"), petr));
  EXPECT_TRUE(Is(P(TestDb(), "[\"*\"]", "1"), petr));
  EXPECT_TRUE(Is(P(TestDb(), "[:name *]", "1"), petr));
  EXPECT_TRUE(Is(P(TestDb(), "[:aka :name *]", "1"), petr));
  EXPECT_TRUE(Is(P(TestDb(), "[* :_child]", "2"),
                 "{:db/id 2 :name \"David\" :_child [{:db/id 1}] :father {:db/id 1}}"));
}

TEST(Pull, WildcardAppliesTheOptionsOfNamedAttributes) {
  EXPECT_TRUE(Is(P(TestDb(), "[[:aka :as :alias] [:name :as :first-name] *]", "1"),
                 "{:alias [\"Devil\" \"Tupen\"] :child [{:db/id 2} {:db/id 3}]"
                 " :first-name \"Petr\" :db/id 1}"));
  EXPECT_TRUE(Is(P(TestDb(), "[* [:aka :limit 1] {:child [:name]}]", "1"),
                 "{:db/id 1 :name \"Petr\" :aka [\"Devil\"] :child [{:name \"David\"}"
                 " {:name \"Thomas\"}]}"));
  EXPECT_TRUE(Is(P(TestDb(), "[* {:_child [:name]}]", "2"),
                 "{:db/id 2 :name \"David\" :father {:db/id 1} :_child [{:name \"Petr\"}]}"));
}

TEST(Pull, WildcardQuirksOfDatahike) {
  // Under the wildcard only attributes the entity has are read, so a forward :default is unused;
  // a reverse one still applies.
  EXPECT_TRUE(Is(P(TestDb(), "[* [:foo :default 1]]", "9"), "{:db/id 9 :name \"Rebecca\"}"));
  EXPECT_TRUE(
      Is(P(TestDb(), "[* [:_foo :default 1]]", "9"), "{:db/id 9 :name \"Rebecca\" :_foo 1}"));
  // An entity with no datoms still gives its :db/id.
  EXPECT_TRUE(Is(P(TestDb(), "[*]", "999"), "{:db/id 999}"));
  // The entities a recursion reaches under the wildcard are on its path already: ids only.
  EXPECT_TRUE(Is(P(FriendsDb(), "[* {:friend ...}]", "4"),
                 "{:db/id 4 :name \"Lucy\" :friend [{:db/id 5}] :enemy [{:db/id 6}]}"));
}

TEST(Pull, IdentEntities) {
  DbPtr db = With(EmptyDb("{:ref {:db/valueType :db.type/ref}}"),
                  "[[:db/add 1 :db/ident :ent1] [:db/add 2 :db/ident :ent2] [:db/add 2 :ref 1]]");
  EXPECT_TRUE(Is(P(db, "[*]", ":ent1"), "{:db/id 1 :db/ident :ent1}"));
  // A ref to an entity with an ident is {:db/id x}, as in Datahike without attribute refs.
  EXPECT_TRUE(Is(P(db, "[:ref]", ":ent2"), "{:ref {:db/id 1}}"));
  EXPECT_TRUE(
      Is(P(db, "[:db/ident {:ref [:db/ident]}]", "2"), "{:db/ident :ent2 :ref {:db/ident :ent1}}"));
}

TEST(Pull, StoredDatabaseSchemaEntities) {
  DbPtr db = With(StoredEmpty(),
                  "[{:db/ident :name :db/valueType :db.type/string"
                  "  :db/cardinality :db.cardinality/one :db/unique :db.unique/identity}]");
  EXPECT_TRUE(Is(P(db, "[*]", ":name"),
                 "{:db/id 1 :db/ident :name :db/valueType :db.type/string"
                 " :db/cardinality :db.cardinality/one :db/unique :db.unique/identity}"));
}

// ---------------------------------------------------------------------------------------------------
// Nested maps and recursion

TEST(Pull, Subpatterns) {
  EXPECT_TRUE(Is(P(TestDb(), "[:name {:father [:name]}]", "6"),
                 "{:name \"Matthew\" :father {:name \"Thomas\"}}"));
  EXPECT_TRUE(Is(P(TestDb(), "[:name {:child [:name]}]", "1"),
                 "{:name \"Petr\" :child [{:name \"David\"} {:name \"Thomas\"}]}"));
  EXPECT_TRUE(Is(P(TestDb(), "[:name {:father [:name]}]", "1"), "{:name \"Petr\"}"));
  // Datahike keeps a cardinality-many attribute whose sub-pulls found nothing, as [].
  EXPECT_TRUE(Is(P(TestDb(), "[:name {:child [:foo]}]", "1"), "{:name \"Petr\" :child []}"));
  EXPECT_TRUE(Is(P(TestDb(), "[{:child [:foo]}]", "1"), "{:child []}"));
  EXPECT_TRUE(P(TestDb(), "[{:father [:foo]}]", "6").is_nil());
  EXPECT_TRUE(Is(P(TestDb(), "[{:child [:name] :_child [:name]}]", "1"),
                 "{:child [{:name \"David\"} {:name \"Thomas\"}]}"));
  EXPECT_TRUE(Is(P(TestDb(), "[{:father [*]}]", "6"),
                 "{:father {:db/id 3 :name \"Thomas\""
                 " :father {:db/id 1}}}"));
  EXPECT_TRUE(Is(P(TestDb(), "[{:father [{:father [:name]}]}]", "6"),
                 "{:father {:father {:name \"Petr\"}}}"));
}

TEST(Pull, SubpatternOfANonRefValueIsAnError) {
  ErrorKind kind = ErrorKind::kInternal;
  std::string msg = PullError(TestDb(), "[{:name [:foo]}]", "1", &kind);
  EXPECT_NE(msg.find("not an entity id"), std::string::npos) << msg;
  EXPECT_EQ(kind, ErrorKind::kQuery);
  // Without a schema (schema-on-read) a ref is a plain number and a sub-pattern follows it.
  DbPtr db = With(EmptyDb(), "[{:db/id 1 :name \"a\" :next 2} {:db/id 2 :name \"b\"}]");
  EXPECT_TRUE(Is(P(db, "[:name {:next [:name]}]", "1"), "{:name \"a\" :next {:name \"b\"}}"));
  EXPECT_TRUE(Is(P(db, "[:next]", "1"), "{:next 2}"));
}

TEST(Pull, UnboundedRecursion) {
  EXPECT_TRUE(Is(P(FriendsDb(), "[:db/id :name {:friend ...}]", "4"),
                 "{:db/id 4 :name \"Lucy\" :friend [{:db/id 5 :name \"Elizabeth\" :friend"
                 " [{:db/id 6 :name \"Matthew\" :friend [{:db/id 7 :name \"Eunan\" :friend"
                 " [{:db/id 8 :name \"Kerri\"}]}]}]}]}"));
  EXPECT_TRUE(Is(P(FriendsDb(), "[:db/id :name {:friend \"...\"}]", "7"),
                 "{:db/id 7 :name \"Eunan\" :friend [{:db/id 8 :name \"Kerri\"}]}"));
}

TEST(Pull, RecursionStopsAtEntitiesSeenOnThePath) {
  DbPtr db = With(FriendsDb(), "[[:db/add 8 :friend 4]]");
  EXPECT_TRUE(Is(P(db, "[:db/id :name {:friend ...}]", "4"),
                 "{:db/id 4 :name \"Lucy\" :friend [{:db/id 5 :name \"Elizabeth\" :friend"
                 " [{:db/id 6 :name \"Matthew\" :friend [{:db/id 7 :name \"Eunan\" :friend"
                 " [{:db/id 8 :name \"Kerri\" :friend [{:db/id 4 :name \"Lucy\" :friend"
                 " [{:db/id 5}]}]}]}]}]}]}"));
}

TEST(Pull, DepthLimitedRecursion) {
  EXPECT_TRUE(Is(P(FriendsDb(), "[:db/id :name {:friend 2 :enemy 2}]", "4"),
                 "{:db/id 4 :name \"Lucy\" :friend [{:db/id 5 :name \"Elizabeth\" :friend"
                 " [{:db/id 6 :name \"Matthew\" :enemy [{:db/id 8 :name \"Kerri\"}]}] :enemy"
                 " [{:db/id 7 :name \"Eunan\" :friend [{:db/id 8 :name \"Kerri\"}] :enemy"
                 " [{:db/id 4 :name \"Lucy\" :friend [{:db/id 5}]}]}]}] :enemy [{:db/id 6"
                 " :name \"Matthew\" :friend [{:db/id 7 :name \"Eunan\" :friend [{:db/id 8"
                 " :name \"Kerri\"}] :enemy [{:db/id 4 :name \"Lucy\" :friend [{:db/id 5"
                 " :name \"Elizabeth\"}]}]}] :enemy [{:db/id 8 :name \"Kerri\"}]}]}"));
  EXPECT_TRUE(Is(P(FriendsDb(), "[:name {:friend 1}]", "4"),
                 "{:name \"Lucy\" :friend [{:name \"Elizabeth\"}]}"));
  EXPECT_TRUE(Is(P(FriendsDb(), "[:db/id {:_friend 2}]", "8"),
                 "{:db/id 8 :_friend [{:db/id 7 :_friend [{:db/id 6}]}]}"));
  EXPECT_TRUE(Is(P(FriendsDb(), "[:db/id {:_friend ...}]", "8"),
                 "{:db/id 8 :_friend [{:db/id 7 :_friend [{:db/id 6 :_friend [{:db/id 5"
                 " :_friend [{:db/id 4}]}]}]}]}"));
  // A limit that is not an integer never equals a depth (Clojure's =): no bound.
  EXPECT_TRUE(Is(P(FriendsDb(), "[:db/id {:friend 1.5}]", "6"),
                 "{:db/id 6 :friend [{:db/id 7 :friend [{:db/id 8}]}]}"));
  // Limits as map keys.
  EXPECT_TRUE(Is(P(FriendsDb(), "[:name {(limit :friend 1) [:name]}]", "4"),
                 "{:name \"Lucy\" :friend [{:name \"Elizabeth\"}]}"));
  EXPECT_TRUE(Is(P(FriendsDb(), "[:db/id {[:friend :as :pals] 1}]", "6"),
                 "{:db/id 6 :pals [{:db/id 7 :pals [{:db/id 8}]}]}"))
      << "Datahike looks the depth limit up under the alias, finds none, and recurses unbounded";
}

TEST(Pull, DualRecursion) {
  DbPtr db =
      With(EmptyDb("{:part {:db/valueType :db.type/ref} :spec {:db/valueType :db.type/ref}}"),
           "[[:db/add 1 :part 2] [:db/add 2 :part 3] [:db/add 3 :part 1]"
           " [:db/add 1 :spec 2] [:db/add 2 :spec 1]]");
  EXPECT_TRUE(Is(P(db, "[:db/id {:part ...} {:spec ...}]", "1"),
                 "{:db/id 1 :spec {:db/id 2 :spec {:db/id 1 :spec {:db/id 2} :part {:db/id 2}}"
                 " :part {:db/id 3 :part {:db/id 1 :spec {:db/id 2} :part {:db/id 2}}}}"
                 " :part {:db/id 2 :spec {:db/id 1 :spec {:db/id 2} :part {:db/id 2}}"
                 " :part {:db/id 3 :part {:db/id 1 :spec {:db/id 2} :part {:db/id 2}}}}}"));
}

TEST(Pull, DeepRecursionUsesNoCStack) {
  // A chain of 5000 friends, pulled whole on a small stack: the nesting lives on the heap. (The
  // result is destroyed on the main thread: freeing a nested Value recurses.)
  const int kDepth = 5000;
  std::string tx = "[";
  for (int i = 1; i <= kDepth; ++i) {
    tx += "[:db/add " + std::to_string(i) + " :name \"P" + std::to_string(i) + "\"]";
    if (i < kDepth) {
      tx += "[:db/add " + std::to_string(i) + " :friend " + std::to_string(i + 1) + "]";
    }
  }
  tx += "]";
  DbPtr db = With(EmptyDb(kSchema), tx);
  Value v;
  OnSmallStack([&] { v = P(db, "[:name {:friend ...}]", "1"); });
  int depth = 1;
  while (const Value* f = v.get("friend")) {
    ASSERT_TRUE(f->is_sequential());
    ASSERT_EQ(f->size(), 1u);
    Value next = f->items()[0];  // a copy first: assigning releases v, which owns f
    v = std::move(next);
    ++depth;
  }
  EXPECT_EQ(depth, kDepth);
  EXPECT_TRUE(Is(*v.get("name"), "\"P5000\""));
  Value r = P(db, "[:db/id {:_friend 3}]", std::to_string(kDepth));
  EXPECT_TRUE(Is(r,
                 "{:db/id 5000 :_friend [{:db/id 4999 :_friend [{:db/id 4998 :_friend"
                 " [{:db/id 4997}]}]}]}"));
}

// ---------------------------------------------------------------------------------------------------
// Attribute expressions

TEST(Pull, Limits) {
  std::string tx =
      "[[:db/add 4 :friend 5] [:db/add 4 :friend 6] [:db/add 4 :friend 7]"
      " [:db/add 4 :friend 8]";
  for (int i = 0; i < 2000; ++i) tx += " [:db/add 8 :aka \"aka-" + std::to_string(i) + "\"]";
  tx += "]";
  DbPtr db = With(TestDb(), tx);
  auto count = [&](const std::string& pattern, const char* key) {
    Value v = P(db, pattern, "8");
    return v.get(key) == nullptr ? size_t{0} : v.get(key)->size();
  };
  EXPECT_EQ(count("[:aka]", "aka"), 1000u) << "the default limit";
  EXPECT_EQ(count("[:aka :name]", "aka"), 1000u) << "the default limit, entity scanned whole";
  EXPECT_EQ(count("[*]", "aka"), 1000u) << "the default limit under the wildcard";
  EXPECT_EQ(count("[(limit :aka 500)]", "aka"), 500u);
  EXPECT_EQ(count("[[:aka :limit 500]]", "aka"), 500u);
  EXPECT_EQ(count("[(limit :aka 1500)]", "aka"), 1500u);
  EXPECT_EQ(count("[(limit :aka nil)]", "aka"), 2000u);
  EXPECT_EQ(count("[[:aka :limit nil]]", "aka"), 2000u);
  EXPECT_EQ(count("[[:aka :limit nil] :name]", "aka"), 2000u);
  EXPECT_EQ(count("[[:aka :limit 2.5]]", "aka"), 3u) << "(take 2.5) keeps three";
  EXPECT_EQ(count("[[:aka :as :a :limit 3]]", "a"), 3u);
  // Entity 8 is too big to scan for a few attributes: they are read with a seek each.
  EXPECT_TRUE(Is(P(db, "[:db/id :name [:aka :limit 2] :foo]", "8"),
                 "{:db/id 8 :name \"Kerri\" :aka [\"aka-0\" \"aka-1\"]}"));
  EXPECT_TRUE(Is(P(db, "[:name {(limit :friend 2) [:name]}]", "4"),
                 "{:name \"Lucy\" :friend [{:name \"Elizabeth\"} {:name \"Matthew\"}]}"));
  EXPECT_TRUE(Is(P(db, "[(limit :_friend 1)]", "5"), "{:_friend [{:db/id 4}]}"));
  // A limit of 0 (or less) finds nothing, so the attribute is missing and its default shows.
  EXPECT_TRUE(P(db, "[[:aka :limit 0]]", "8").is_nil());
  EXPECT_TRUE(Is(P(db, "[[:aka :limit -1 :default []]]", "8"), "{:aka []}"));
}

TEST(Pull, Defaults) {
  EXPECT_TRUE(Is(P(TestDb(), "[(default :foo \"bar\")]", "1"), "{:foo \"bar\"}"));
  EXPECT_TRUE(Is(P(TestDb(), "[[:foo :default \"bar\"]]", "1"), "{:foo \"bar\"}"));
  EXPECT_TRUE(Is(P(TestDb(), "[[:foo :default false]]", "1"), "{:foo false}"));
  EXPECT_TRUE(Is(P(TestDb(), "[[:foo :as :bar :default false]]", "1"), "{:bar false}"));
  EXPECT_TRUE(Is(P(TestDb(), "[[:foo :default nil]]", "1"), "{:foo nil}"));
  EXPECT_TRUE(Is(P(TestDb(), "[[:name :default \"x\"]]", "1"), "{:name \"Petr\"}"));
  EXPECT_TRUE(Is(P(TestDb(), "[(default :_child :none)]", "1"), "{:_child :none}"));
  EXPECT_TRUE(Is(P(TestDb(), "[[:foo :default 1] :db/id]", "999"), "{:foo 1}"));
  EXPECT_TRUE(Is(P(TestDb(), "[{[:father :default :orphan] [:name]}]", "1"), "{:father :orphan}"));
}

TEST(Pull, Aliases) {
  EXPECT_TRUE(Is(P(TestDb(), "[[:name :as \"Name\"] [:aka :as :alias]]", "1"),
                 "{\"Name\" \"Petr\" :alias [\"Devil\" \"Tupen\"]}"));
  EXPECT_TRUE(
      Is(P(TestDb(), "[[:x :as \"Name\" :default \"Nothing\"]]", "1"), "{\"Name\" \"Nothing\"}"));
  EXPECT_TRUE(Is(P(TestDb(), "[[:name :as 42]]", "1"), "{42 \"Petr\"}"));
  EXPECT_TRUE(Is(P(TestDb(), "[[:name :as [1 2]]]", "1"), "{[1 2] \"Petr\"}"));
  EXPECT_TRUE(Is(P(TestDb(), "[[:name :as nil]]", "1"), "{:name \"Petr\"}"))
      << "a falsy alias is no alias";
  EXPECT_TRUE(Is(P(TestDb(), "[[:_child :as :parents]]", "2"), "{:parents [{:db/id 1}]}"));
  EXPECT_TRUE(Is(P(TestDb(), "[{[:father :as :dad] [:name]}]", "6"), "{:dad {:name \"Thomas\"}}"));
  EXPECT_TRUE(
      Is(P(TestDb(), "[[:part :as :pieces :limit 1]]", "10"),
         "{:pieces [{:db/id 11 :name \"Part A.A\" :part [{:db/id 12 :name \"Part A.A.A\""
         " :part [{:db/id 13 :name \"Part A.A.A.A\"} {:db/id 14 :name \"Part A.A.A.B\"}]}]}]}"));
  EXPECT_TRUE(Is(P(TestDb(), "[[:name :as :a :as :b]]", "1"), "{:b \"Petr\"}"))
      << "a repeated option: the last wins";
}

TEST(Pull, LegacyFormsAcceptStringsAndKeywords) {
  EXPECT_TRUE(Is(P(TestDb(), "[(\"limit\" :aka 1)]", "1"), "{:aka [\"Devil\"]}"));
  EXPECT_TRUE(Is(P(TestDb(), "[[:limit :aka 1]]", "1"), "{:aka [\"Devil\"]}"));
  EXPECT_TRUE(Is(P(TestDb(), "[[:default :foo 1]]", "1"), "{:foo 1}"));
  EXPECT_TRUE(Is(P(TestDb(), "[(\"default\" :foo 1)]", "1"), "{:foo 1}"));
  EXPECT_TRUE(Is(P(TestDb(), "[[:name]]", "1"), "{:name \"Petr\"}"));
}

// ---------------------------------------------------------------------------------------------------
// Entity references, pull-many, views

TEST(Pull, EntityReferences) {
  EXPECT_TRUE(Is(P(TestDb(), "[:db/id]", "[:name \"Lucy\"]"), "{:db/id 4}"));
  EXPECT_TRUE(Is(P(TestDb(), "[:db/id]", "(:name \"Lucy\")"), "{:db/id 4}"));
  ErrorKind kind = ErrorKind::kInternal;
  EXPECT_EQ(PullError(TestDb(), "[:name]", "[:name \"Nobody\"]", &kind),
            "Nothing found for entity id [:name \"Nobody\"]");
  EXPECT_EQ(kind, ErrorKind::kNotFound);
  EXPECT_EQ(PullError(TestDb(), "[:name]", ":no-such-ident", &kind),
            "Nothing found for entity id :no-such-ident");
  EXPECT_EQ(PullError(TestDb(), "[:name]", "[:name nil]"),
            "Nothing found for entity id [:name nil]");
  EXPECT_NE(PullError(TestDb(), "[:name]", "[:aka \"Devil\"]")
                .find("Lookup ref attribute should be marked as :db/unique"),
            std::string::npos);
  EXPECT_NE(PullError(TestDb(), "[:name]", "[:name]").find("Lookup ref should contain 2 elements"),
            std::string::npos);
  for (const char* bad : {"0", "-1", "nil", "\"abc\"", "1.5", "{:a 1}"}) {
    EXPECT_NE(PullError(TestDb(), "[:name]", bad).find("Expected number or lookup ref"),
              std::string::npos)
        << bad;
  }
}

TEST(Pull, ParsedSpecWithAValueEid) {
  std::shared_ptr<const PullSpec> spec = ParsePullPattern(E("[:name]"));
  EXPECT_TRUE(Is(Pull(*TestDb(), *spec, E("[:name \"Lucy\"]")), "{:name \"Lucy\"}"));
  EXPECT_TRUE(Is(Pull(*TestDb(), *spec, Value::Long(5)), "{:name \"Elizabeth\"}"));
  EXPECT_TRUE(Is(PullEntity(*TestDb(), *spec, 6), "{:name \"Matthew\"}"));
  EXPECT_TRUE(PullEntity(*TestDb(), *spec, 999).is_nil());
}

TEST(Pull, PullMany) {
  EXPECT_TRUE(Is(PullMany(*TestDb(), E("[:name]"), E("[1 5 7 9]")),
                 "[{:name \"Petr\"} {:name \"Elizabeth\"} {:name \"Eunan\"} {:name \"Rebecca\"}]"));
  EXPECT_TRUE(Is(PullMany(*TestDb(), E("[:name]"), E("[9 [:name \"Lucy\"] 1]")),
                 "[{:name \"Rebecca\"} {:name \"Lucy\"} {:name \"Petr\"}]"));
  // As in Datahike, entities with nothing to show are left out.
  EXPECT_TRUE(Is(PullMany(*TestDb(), E("[:name]"), E("[1 999 2]")),
                 "[{:name \"Petr\"} {:name \"David\"}]"));
  EXPECT_TRUE(Is(PullMany(*TestDb(), E("[:name]"), E("[]")), "[]"));
  EXPECT_TRUE(Is(PullMany(*TestDb(), E("[:db/id]"), E("#{2 1}")), "[{:db/id 1} {:db/id 2}]"));
  EXPECT_THROW(PullMany(*TestDb(), E("[:name]"), E("1")), Error);
  EXPECT_THROW(PullMany(*TestDb(), E("[:name]"), E("[1 [:name \"Nobody\"]]")), Error);
  EXPECT_THROW(PullMany(*TestDb(), E(":name"), E("[1]")), Error);
}

TEST(Pull, HistoricalViews) {
  DbPtr db = testing::StoredEmpty("{:keep-history? true :schema-flexibility :read}");
  db = With(db, "[{:db/id 1 :name \"Alice\" :age 30}]");
  int64_t t1 = db->max_tx();
  db = With(db, "[[:db/add 1 :age 31]]");
  db = With(db, "[[:db/retractEntity 1]]");
  EXPECT_TRUE(P(db, "[:name :age]", "1").is_nil());
  EXPECT_TRUE(
      Is(Pull(*db->AsOf(Value::Long(t1)), E("[:name :age]"), E("1")), "{:name \"Alice\" :age 30}"));
  EXPECT_TRUE(Is(Pull(*db->AsOf(Value::Long(t1 + 1)), E("[*]"), E("1")),
                 "{:db/id 1 :name \"Alice\" :age 31}"));
  // A history view shows every datom, retractions included (Datahike reads them all).
  Value h = Pull(*db->History(), E("[:name]"), E("1"));
  EXPECT_TRUE(Is(h, "{:name \"Alice\"}"));
  Value since = Pull(*db->Since(Value::Long(t1)), E("[:age]"), E("1"));
  EXPECT_TRUE(since.is_nil()) << S(since);
}

TEST(Pull, SpecSharedAcrossThreads) {
  std::shared_ptr<const PullSpec> spec =
      ParsePullPattern(E("[:db/id :name {:friend ...} {:_father [:name]} :part]"));
  DbPtr db = FriendsDb();
  Value want4 = PullEntity(*db, *spec, 4);
  Value want10 = PullEntity(*db, *spec, 10);
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        if (!Equal(PullEntity(*db, *spec, 4), want4)) ++mismatches;
        if (!Equal(PullEntity(*db, *spec, 10), want10)) ++mismatches;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

// ---------------------------------------------------------------------------------------------------
// Malformed patterns

TEST(PullPattern, MalformedPatternsAreQueryErrors) {
  struct Case {
    const char* pattern;
    const char* message;
  };
  const Case cases[] = {
      {"42", "Cannot parse pull pattern, expected: [attr-spec+]"},
      {"nil", "Cannot parse pull pattern, expected: [attr-spec+]"},
      {":name", "Cannot parse pull pattern, expected: [attr-spec+]"},
      {"{:friend [:name]}", "Cannot parse pull pattern, expected: [attr-spec+]"},
      {"\"[:name]\"", "Cannot parse pull pattern, expected: [attr-spec+]"},
      {"[42]", "Cannot parse attr-spec"},
      {"[nil]", "Cannot parse attr-spec"},
      {"[name]", "Cannot parse attr-spec"},
      {"[...]", "Cannot parse attr-spec"},
      {"[#{:name}]", "Cannot parse attr-spec"},
      {"[[]]", "Expected [attr-name attr-option+]"},
      {"[[42 :as :x]]", "Expected [attr-name attr-option+]"},
      {"[[:name :as]]", "Option list must contain even number of elements"},
      {"[[:name :as :x :limit]]", "Option list must contain even number of elements"},
      {"[[:name :foo 1]]", "Invalid attribute option: :foo"},
      {"[[:name \"as\" 1]]", "Invalid attribute option: \"as\""},
      {"[[:name nil 1]]", "Invalid attribute option: nil"},
      {"[[:aka :limit \"x\"]]", ":limit expects a number or nil"},
      {"[[:aka :limit :many]]", ":limit expects a number or nil"},
      {"[(limit :aka -1)]", "Expected [\"limit\" attr-name (positive-number | nil)]"},
      {"[(limit :aka 0)]", "Expected [\"limit\" attr-name (positive-number | nil)]"},
      {"[(limit :aka \"2\")]", "Expected [\"limit\" attr-name (positive-number | nil)]"},
      {"[(limit 5 2)]", "Expected [\"limit\" attr-name (positive-number | nil)]"},
      {"[(default 5 2)]", "Expected [\"default\" attr-name any-value]"},
      {"[{:friend -1}]", "Expected (pattern | recursion-limit)"},
      {"[{:friend 0}]", "Expected (pattern | recursion-limit)"},
      {"[{:friend :name}]", "Expected (pattern | recursion-limit)"},
      {"[{:friend nil}]", "Expected (pattern | recursion-limit)"},
      {"[{:friend {:name 1}}]", "Expected (pattern | recursion-limit)"},
      {"[{42 [:name]}]", "Expected (attr-name | attr-expr)"},
      {"[{* [:name]}]", "Expected (attr-name | attr-expr)"},
      {"[{[:friend :bogus 1] [:name]}]", "Invalid attribute option: :bogus"},
      {"[{:friend [42]}]", "Cannot parse attr-spec"},
      {"[{:friend [{:enemy [[:x :as]]}]}]", "Option list must contain even number of elements"},
  };
  for (const Case& c : cases) {
    ErrorKind kind = ErrorKind::kInternal;
    std::string msg = ParseError(c.pattern, &kind);
    EXPECT_NE(msg.find(c.message), std::string::npos) << c.pattern << " -> " << msg;
    EXPECT_EQ(kind, ErrorKind::kQuery) << c.pattern;
  }
}

TEST(PullPattern, ErrorsNameTheFragmentAndCarryData) {
  try {
    ParsePullPattern(E("[:name [:aka :bogus 1]]"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "Invalid attribute option: :bogus, got [:aka :bogus 1]");
    EXPECT_TRUE(Is(e.data(), "{:error :parser/pull :fragment [:aka :bogus 1]}"));
  }
}

TEST(PullPattern, RandomPatternsNeverCrash) {
  // Random nestings of pattern-like pieces: each either parses and pulls, or throws
  // datahike::Error.
  const char* atoms[] = {":name", ":aka",   ":friend",  ":_friend", ":part",  ":_part",   "*",
                         "...",   ":db/id", "\"name\"", "1",        "-1",     "0",        "2.5",
                         "nil",   "limit",  "default",  ":as",      ":limit", ":default", ":x",
                         "name",  "true",   "\"*\"",    "#{}"};
  std::mt19937 rng(42);
  std::function<std::string(int)> gen = [&](int depth) -> std::string {
    int kind = depth > 3 ? 0 : static_cast<int>(rng() % 5);
    if (kind <= 1) return atoms[rng() % std::size(atoms)];
    int n = static_cast<int>(rng() % 4);
    std::string s;
    if (kind == 2) s = "[";
    if (kind == 3) s = "(";
    if (kind == 4) s = "{";
    for (int i = 0; i < n * (kind == 4 ? 2 : 1); ++i) s += gen(depth + 1) + " ";
    if (kind == 4 && n > 0) {
      // Map keys must be unique to read; fall back to a vector when they are not.
      try {
        E(s + "}");
      } catch (const Error&) {
        s[0] = '[';
        return s + "]";
      }
    }
    return s + (kind == 2 ? "]" : kind == 3 ? ")" : "}");
  };
  DbPtr db = FriendsDb();
  int parsed = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string text = "[";
    text += gen(0);
    text += " ";
    text += gen(0);
    text += "]";
    Value pattern;
    try {
      pattern = E(text);
    } catch (const Error&) {
      continue;
    }
    try {
      std::shared_ptr<const PullSpec> spec = ParsePullPattern(pattern);
      ++parsed;
      for (int64_t e : {1, 4, 8, 10, 14, 999}) PullEntity(*db, *spec, e);
    } catch (const Error&) {
      // a clear error is fine
    }
  }
  EXPECT_GT(parsed, 100);
}

// ---------------------------------------------------------------------------------------------------
// Entity

TEST(Entity, MapTouchesComponents) {
  EXPECT_TRUE(Is(EntityMap(*TestDb(), E("1")),
                 "{:db/id 1 :name \"Petr\" :aka #{\"Devil\" \"Tupen\"} :child #{{:db/id 2}"
                 " {:db/id 3}}}"));
  EXPECT_TRUE(Is(EntityMap(*TestDb(), E("6")), "{:db/id 6 :name \"Matthew\" :father {:db/id 3}}"));
  EXPECT_TRUE(Is(EntityMap(*TestDb(), E("15")),
                 "{:db/id 15 :name \"Part A.B\" :part #{{:db/id 16 :name \"Part A.B.A\" :part"
                 " #{{:db/id 17 :name \"Part A.B.A.A\"} {:db/id 18 :name \"Part A.B.A.B\"}}}}}"));
  DbPtr db = With(TestDb(), "[{:db/id 20 :name \"Box\" :spec {:db/id 21 :name \"Lid\"}}]");
  EXPECT_TRUE(Is(EntityMap(*db, E("[:name \"Box\"]")),
                 "{:db/id 20 :name \"Box\" :spec {:db/id 21 :name \"Lid\"}}"));
}

TEST(Entity, MapStopsAtComponentCycles) {
  DbPtr db = With(TestDb(), "[[:db/add 18 :part 15]]");
  EXPECT_TRUE(Is(EntityMap(*db, E("16")),
                 "{:db/id 16 :name \"Part A.B.A\" :part #{{:db/id 17 :name \"Part A.B.A.A\"}"
                 " {:db/id 18 :name \"Part A.B.A.B\" :part #{{:db/id 15 :name \"Part A.B\""
                 " :part #{{:db/id 16}}}}}}}"));
}

TEST(Entity, MapOfNothing) {
  EXPECT_TRUE(EntityMap(*TestDb(), E("999")).is_nil());
  EXPECT_TRUE(EntityMap(*TestDb(), Value()).is_nil());
  EXPECT_TRUE(EntityMap(*TestDb(), E("\"abc\"")).is_nil());
  EXPECT_TRUE(EntityMap(*TestDb(), E("[:name \"Nobody\"]")).is_nil());
  EXPECT_TRUE(EntityMap(*TestDb(), E("[:name nil]")).is_nil());
  EXPECT_THROW(EntityMap(*TestDb(), E("[:name]")), Error);
  EXPECT_THROW(EntityMap(*TestDb(), E("[:aka \"Devil\"]")), Error);
}

TEST(Entity, DeepComponentChainUsesNoCStack) {
  const int kDepth = 5000;
  std::string tx = "[";
  for (int i = 1; i < kDepth; ++i) {
    tx += "[:db/add " + std::to_string(i) + " :spec " + std::to_string(i + 1) + "]";
  }
  tx += "[:db/add " + std::to_string(kDepth) + " :name \"bottom\"]]";
  DbPtr db = With(EmptyDb(kSchema), tx);
  Value v;
  OnSmallStack([&] { v = EntityMap(*db, E("1")); });
  int depth = 1;
  while (const Value* s = v.get("spec")) {
    Value next = *s;
    v = std::move(next);
    ++depth;
  }
  EXPECT_EQ(depth, kDepth);
  EXPECT_TRUE(Is(*v.get("name"), "\"bottom\""));
}

TEST(Entity, Id) {
  EXPECT_EQ(EntityId(*TestDb(), E("5")), 5);
  EXPECT_EQ(EntityId(*TestDb(), E("[:name \"Lucy\"]")), 4);
  EXPECT_EQ(EntityId(*TestDb(), E("[:name \"Nobody\"]")), 0);
  EXPECT_EQ(EntityId(*TestDb(), E(":nothing")), 0);
  EXPECT_EQ(EntityId(*TestDb(), E("\"x\"")), 0);
  EXPECT_EQ(EntityId(*TestDb(), E("-3")), 0);
  EXPECT_THROW(EntityId(*TestDb(), E("[:name 1 2]")), Error);
}

TEST(Entity, Get) {
  const Db& db = *TestDb();
  EXPECT_TRUE(Is(EntityGet(db, 1, E(":db/id")), "1"));
  EXPECT_TRUE(Is(EntityGet(db, 999, E(":db/id")), "999"));
  EXPECT_TRUE(Is(EntityGet(db, 1, E(":name")), "\"Petr\""));
  EXPECT_TRUE(Is(EntityGet(db, 1, E(":aka")), "#{\"Devil\" \"Tupen\"}"));
  EXPECT_TRUE(Is(EntityGet(db, 1, E(":child")), "#{{:db/id 2} {:db/id 3}}"));
  EXPECT_TRUE(Is(EntityGet(db, 6, E(":father")), "{:db/id 3}"));
  EXPECT_TRUE(Is(EntityGet(db, 10, E(":part")), "#{{:db/id 11} {:db/id 15}}"))
      << "a lookup does not touch components";
  EXPECT_TRUE(EntityGet(db, 1, E(":father")).is_nil());
  EXPECT_TRUE(EntityGet(db, 999, E(":name")).is_nil());
  EXPECT_TRUE(EntityGet(db, 1, E("\"name\"")).is_nil());
  EXPECT_THROW(EntityGet(db, 1, E("42")), Error);
  EXPECT_THROW(EntityGet(db, 1, Value()), Error);
}

TEST(Entity, GetReverse) {
  const Db& db = *TestDb();
  EXPECT_TRUE(Is(EntityGet(db, 1, E(":_father")), "#{{:db/id 2} {:db/id 3}}"));
  EXPECT_TRUE(Is(EntityGet(db, 3, E(":_father")), "#{{:db/id 6}}"));
  EXPECT_TRUE(Is(EntityGet(db, 2, E(":_child")), "#{{:db/id 1}}"));
  EXPECT_TRUE(Is(EntityGet(db, 11, E(":_part")), "{:db/id 10}")) << "a component's owner";
  EXPECT_TRUE(EntityGet(db, 9, E(":_father")).is_nil());
  EXPECT_TRUE(EntityGet(db, 9, E(":_")).is_nil());
  // Without a schema a "ref" is a number in AEVT only; the reverse lookup still finds it.
  DbPtr plain = With(EmptyDb(), "[{:db/id 1 :next 2} {:db/id 3 :next 2} {:db/id 2 :name \"b\"}]");
  EXPECT_TRUE(Is(EntityGet(*plain, 2, E(":_next")), "#{{:db/id 1} {:db/id 3}}"));
}

TEST(Entity, GetNamespacedReverse) {
  DbPtr db = With(EmptyDb("{:person/parent {:db/valueType :db.type/ref}}"),
                  "[{:db/id 1 :person/name \"a\"} {:db/id 2 :person/parent 1}]");
  EXPECT_TRUE(Is(EntityGet(*db, 1, E(":person/_parent")), "#{{:db/id 2}}"));
  EXPECT_TRUE(Is(P(db, "[:person/_parent]", "1"), "{:person/_parent [{:db/id 2}]}"));
}

}  // namespace
}  // namespace datahike
