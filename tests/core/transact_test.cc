#include <gtest/gtest.h>

#include <random>

#include "tests/core/test_util.h"

namespace datahike::testing {
namespace {

const char* kSeedSchema =
    "[{:db/ident :name :db/valueType :db.type/string :db/cardinality :db.cardinality/one}"
    " {:db/ident :age :db/valueType :db.type/long :db/cardinality :db.cardinality/one}]";

TEST(Transact, SeedExampleNumbersEntitiesAndTransactionsLikeDatahike) {
  DbPtr db = StoredEmpty("{:keep-history? true :schema-flexibility :write}");
  TxReport schema = Tx(db, kSeedSchema);
  EXPECT_EQ(schema.db_after->max_tx(), 536870913);
  TxReport r = Tx(schema.db_after,
                  "[{:name \"Alice\" :age 20} {:name \"Bob\" :age 30} {:name \"Charlie\" :age 40}"
                  " {:age 15}]");
  EXPECT_EQ(r.db_after->max_tx(), 536870914);
  EXPECT_EQ(r.db_after->max_eid(), 6);
  EXPECT_EQ(Eavt(r.db_after, "[3]"), "[[3 :age 20] [3 :name \"Alice\"]]");
  EXPECT_EQ(Eavt(r.db_after, "[5]"), "[[5 :age 40] [5 :name \"Charlie\"]]");
  EXPECT_EQ(Eavt(r.db_after, "[6]"), "[[6 :age 15]]");
  // The tx entity carries :db/txInstant.
  auto inst = r.db_after->Datoms(IndexOrder::kEavt, {Value::Long(536870914)});
  ASSERT_EQ(inst.size(), 1u);
  EXPECT_EQ(KeywordById(inst[0].a)->full, "db/txInstant");
  EXPECT_EQ(inst[0].v.type(), Type::kInstant);
}

TEST(Transact, NewEntitiesTakeIdsInOrderAndExplicitIdsRaiseMaxEid) {
  DbPtr db = EmptyDb();
  TxReport r = Tx(db, "[{:name \"a\"} {:db/id 296 :name \"b\"} {:name \"c\"}]");
  EXPECT_EQ(Eavt(r.db_after), "[[1 :name \"a\"] [296 :name \"b\"] [297 :name \"c\"]]");
  EXPECT_EQ(r.db_after->max_eid(), 297);
  // A failed transaction uses up no ids.
  EXPECT_NE(TxError(r.db_after, "[{:name \"d\"} [:db/add \"x\" :name nil]]"), "");
  EXPECT_EQ(Eavt(With(r.db_after, "[{:name \"d\"}]"), "[298]"), "[[298 :name \"d\"]]");
}

TEST(Transact, TempidsStringsAndNegativeNumbersResolveOnce) {
  DbPtr db = EmptyDb("{:friend {:db/valueType :db.type/ref}}");
  TxReport r = Tx(db,
                  "[[:db/add \"a\" :name \"A\"] [:db/add -1 :name \"B\"] [:db/add \"a\" :friend -1]"
                  " {:db/id -1 :age 3}]");
  EXPECT_EQ(Tempid(r, "\"a\""), 1);
  EXPECT_EQ(Tempid(r, "-1"), 2);
  EXPECT_EQ(Tempid(r, ":db/current-tx"), 536870913);
  EXPECT_EQ(Eavt(r.db_after), "[[1 :friend 2] [1 :name \"A\"] [2 :age 3] [2 :name \"B\"]]");
  // A tempid used only as a ref value gets its own new entity.
  TxReport v = Tx(r.db_after, "[[:db/add 1 :friend \"new\"]]");
  EXPECT_EQ(Tempid(v, "\"new\""), 3);
  EXPECT_EQ(Eavt(v.db_after, "[1 :friend]"), "[[1 :friend 3]]");
}

TEST(Transact, NestedMapsCollectionsAndReverseAttributes) {
  DbPtr db = EmptyDb(
      "{:child {:db/valueType :db.type/ref :db/cardinality :db.cardinality/many}"
      " :parent {:db/valueType :db.type/ref}"
      " :tags {:db/cardinality :db.cardinality/many}}");
  TxReport r = Tx(db,
                  "[{:db/id 1 :name \"P\" :tags [\"x\" \"y\"]"
                  "  :child [{:name \"C1\"} {:name \"C2\"}]}"
                  " {:db/id 10 :name \"Q\" :_parent [1 11]}]");
  EXPECT_EQ(Eavt(r.db_after, "[1]"),
            "[[1 :child 2] [1 :child 3] [1 :name \"P\"] [1 :parent 10] [1 :tags \"x\"] [1 :tags \"y\"]]");
  EXPECT_EQ(Eavt(r.db_after, "[2]"), "[[2 :name \"C1\"]]");
  EXPECT_EQ(Eavt(r.db_after, "[1 :parent]"), "[[1 :parent 10]]");
  EXPECT_EQ(Eavt(r.db_after, "[11 :parent]"), "[[11 :parent 10]]");
  // Nested map under a reverse attribute points back at the parent.
  TxReport n = Tx(r.db_after, "[{:db/id 20 :_parent [{:name \"kid\"}]}]");
  EXPECT_EQ(Eavt(n.db_after, "[21]"), "[[21 :name \"kid\"] [21 :parent 20]]");
  // A reverse attribute needs a ref attribute.
  EXPECT_NE(TxError(db, "[{:db/id 1 :_name 2}]").find("reverse attribute name requires"),
            std::string::npos);
}

TEST(Transact, RetractWithAndWithoutValue) {
  DbPtr db = With(EmptyDb("{:aka {:db/cardinality :db.cardinality/many}}"),
                  "[{:db/id 1 :name \"Ivan\" :aka [\"a\" \"b\" \"c\"]}]");
  EXPECT_EQ(Eavt(With(db, "[[:db/retract 1 :aka \"b\"]]"), "[1 :aka]"),
            "[[1 :aka \"a\"] [1 :aka \"c\"]]");
  EXPECT_EQ(Eavt(With(db, "[[:db/retract 1 :aka]]"), "[1 :aka]"), "[]");
  // Retracting what is not there changes nothing and reports nothing.
  TxReport r = Tx(db, "[[:db/retract 1 :name \"Petr\"] [:db/retract 99 :name \"x\"]]");
  EXPECT_EQ(TxData(r), "[]");
  EXPECT_EQ(Eavt(r.db_after, "[1 :name]"), "[[1 :name \"Ivan\"]]");
  EXPECT_NE(TxError(db, "[[:db/retract \"tmp\" :name \"Ivan\"]]").find("Tempids are allowed in :db/add only"),
            std::string::npos);
}

TEST(Transact, RetractEntityCascadesToComponentsAndDropsReferences) {
  DbPtr db = With(EmptyDb("{:profile {:db/valueType :db.type/ref :db/isComponent true}"
                          " :friend {:db/valueType :db.type/ref}}"),
                  "[{:db/id 1 :name \"Ivan\" :profile {:db/id 2 :email \"@\" :profile {:db/id 3 :x 1}}}"
                  " {:db/id 4 :name \"Petr\" :friend 1}]");
  DbPtr after = With(db, "[[:db/retractEntity 1]]");
  EXPECT_EQ(Eavt(after), "[[4 :name \"Petr\"]]");
  EXPECT_EQ(Eavt(With(db, "[[:db.fn/retractEntity 99]]")), Eavt(db))
      << "retracting an entity that does not exist changes nothing";
}

TEST(Transact, CompareAndSwap) {
  DbPtr db = With(EmptyDb("{:tags {:db/cardinality :db.cardinality/many}}"),
                  "[{:db/id 1 :weight 200 :tags [:a :b]}]");
  EXPECT_EQ(Eavt(With(db, "[[:db/cas 1 :weight 200 300]]"), "[1 :weight]"), "[[1 :weight 300]]");
  EXPECT_EQ(Eavt(With(db, "[[:db.fn/cas 1 :weight 200 300]]"), "[1 :weight]"), "[[1 :weight 300]]");
  EXPECT_EQ(TxError(db, "[[:db/cas 1 :weight 400 300]]"),
            ":db.fn/cas failed on datom [1 :weight 200], expected 400");
  EXPECT_EQ(Eavt(With(db, "[[:db/cas 1 :height nil 5]]"), "[1 :height]"), "[[1 :height 5]]");
  EXPECT_NE(TxError(db, "[[:db/cas 1 :weight nil 5]]").find("expected nil"), std::string::npos);
  EXPECT_EQ(Eavt(With(db, "[[:db/cas 1 :tags :a :c]]"), "[1 :tags]"),
            "[[1 :tags :a] [1 :tags :b] [1 :tags :c]]");
  EXPECT_NE(TxError(db, "[[:db/cas 1 :tags :z :c]]").find("(:a :b)"), std::string::npos);
}

TEST(Transact, LookupRefsWhereverAnEntityIdStands) {
  DbPtr db = With(EmptyDb("{:name {:db/unique :db.unique/identity}"
                          " :friend {:db/valueType :db.type/ref}}"),
                  "[{:db/id 1 :name \"Ivan\"} {:db/id 2 :name \"Petr\"}]");
  DbPtr a = With(db, "[[:db/add [:name \"Ivan\"] :friend [:name \"Petr\"]]"
                     " {:db/id [:name \"Petr\"] :age 30}]");
  EXPECT_EQ(Eavt(a, "[1 :friend]"), "[[1 :friend 2]]");
  EXPECT_EQ(Eavt(a, "[2 :age]"), "[[2 :age 30]]");
  EXPECT_EQ(TxError(db, "[[:db/add [:name \"Nobody\"] :age 1]]"),
            "Nothing found for entity id [:name \"Nobody\"]");
  EXPECT_EQ(TxError(db, "[[:db/add [:age 1] :age 1]]"),
            "Lookup ref attribute should be marked as :db/unique: [:age 1]");
  EXPECT_EQ(TxError(db, "[[:db/add [:name] :age 1]]"),
            "Lookup ref should contain 2 elements: [:name]");
}

TEST(Transact, UpsertThroughUniqueIdentity) {
  DbPtr db = With(EmptyDb("{:name {:db/unique :db.unique/identity}"
                          " :email {:db/unique :db.unique/identity}}"),
                  "[{:db/id 1 :name \"Ivan\" :email \"@1\"} {:db/id 2 :name \"Petr\" :email \"@2\"}]");
  TxReport r = Tx(db, "[{:db/id -1 :name \"Ivan\" :age 35}]");
  EXPECT_EQ(Tempid(r, "-1"), 1);
  EXPECT_EQ(Eavt(r.db_after, "[1 :age]"), "[[1 :age 35]]");
  // Without :db/id.
  EXPECT_EQ(Eavt(With(db, "[{:name \"Petr\" :age 22}]"), "[2 :age]"), "[[2 :age 22]]");
  // A tempid that was allocated first and upserts later restarts with the upserted id.
  TxReport late = Tx(db, "[[:db/add \"t\" :age 1] [:db/add \"t\" :name \"Ivan\"]]");
  EXPECT_EQ(Tempid(late, "\"t\""), 1);
  EXPECT_EQ(Eavt(late.db_after, "[1 :age]"), "[[1 :age 1]]");
  // Two tempids with the same new unique value are the same new entity.
  TxReport two = Tx(db, "[{:db/id \"a\" :name \"Oleg\"} {:db/id \"b\" :name \"Oleg\" :age 9}]");
  EXPECT_EQ(Tempid(two, "\"a\""), Tempid(two, "\"b\""));
  // Conflicts.
  EXPECT_NE(TxError(db, "[{:name \"Ivan\" :email \"@2\"}]").find("Conflicting upserts: [:name \"Ivan\"] resolves to 1"),
            std::string::npos);
  EXPECT_NE(TxError(db, "[{:db/id 2 :name \"Ivan\"}]").find("Conflicting upsert: [:name \"Ivan\"] resolves to 1, but entity already has :db/id 2"),
            std::string::npos);
}

TEST(Transact, UniqueValueConflictsAreErrors) {
  DbPtr db = With(EmptyDb("{:email {:db/unique :db.unique/value}}"), "[{:db/id 1 :email \"@\"}]");
  EXPECT_NE(TxError(db, "[{:db/id 2 :email \"@\"}]").find("because of unique constraint"),
            std::string::npos);
  // Moving a unique value between attributes of the same entity is fine.
  EXPECT_EQ(Eavt(With(db, "[[:db/add 1 :email \"@\"]]"), "[1]"), "[[1 :email \"@\"]]");
}

TEST(Transact, CardinalityOneReplacementAndReassertion) {
  DbPtr db = With(EmptyDb(), "[{:db/id 1 :name \"Ivan\"}]");
  TxReport r = Tx(db, "[[:db/add 1 :name \"Petr\"]]");
  EXPECT_EQ(TxData(r), "[[1 :name \"Ivan\" false] [1 :name \"Petr\" true]]");
  EXPECT_EQ(TxData(Tx(r.db_after, "[[:db/add 1 :name \"Petr\"]]")), "[]");
  // Two adds in one transaction: add a / retract a / add b.
  TxReport two = Tx(EmptyDb(), "[[:db/add 1 :n \"a\"] [:db/add 1 :n \"b\"]]");
  EXPECT_EQ(TxData(two), "[[1 :n \"a\" true] [1 :n \"a\" false] [1 :n \"b\" true]]");
  EXPECT_EQ(Eavt(two.db_after), "[[1 :n \"b\"]]");
}

TEST(Transact, TransactionMetadataOnTheTxEntity) {
  DbPtr db = StoredEmpty("{:schema-flexibility :read}");
  TxReport r = Tx(db, "[{:db/id \"datomic.tx\" :source \"import\"} {:name \"x\"}]");
  EXPECT_EQ(Tempid(r, "\"datomic.tx\""), 536870913);
  EXPECT_EQ(Eavt(r.db_after, "[536870913 :source]"), "[[536870913 :source \"import\"]]");
  TxReport k = Tx(r.db_after, "[[:db/add :db/current-tx :source \"k\"]]");
  EXPECT_EQ(Eavt(k.db_after, "[536870914 :source]"), "[[536870914 :source \"k\"]]");
  // tx-meta given beside the data lands on the tx entity too.
  TxReport m = Transact(k.db_after, E("[{:name \"y\"}]"), E("{:who \"me\"}"), NowMillis());
  EXPECT_EQ(Eavt(m.db_after, "[536870915 :who]"), "[[536870915 :who \"me\"]]");
  EXPECT_EQ(S(m.tx_meta), "{:who \"me\"}");
}

TEST(Transact, NoTxInstantWithoutHistory) {
  DbPtr db = StoredEmpty("{:keep-history? false :schema-flexibility :read}");
  TxReport r = Tx(db, "[{:name \"x\"}]");
  EXPECT_EQ(Eavt(r.db_after), "[[1 :name \"x\"]]");
  for (const Datom& d : r.tx_data) EXPECT_NE(KeywordById(d.a)->full, "db/txInstant");
}

TEST(Transact, AFailingTransactionChangesNothing) {
  DbPtr db = With(EmptyDb("{:email {:db/unique :db.unique/value}}"), "[{:db/id 1 :email \"@\"}]");
  std::string before = Eavt(db);
  EXPECT_NE(TxError(db, "[{:db/id 5 :name \"x\"} {:db/id 2 :email \"@\"}]"), "");
  EXPECT_EQ(Eavt(db), before);
  EXPECT_EQ(db->max_eid(), 1);
  EXPECT_EQ(db->max_tx(), 536870913);
}

TEST(Transact, BadInputIsAClearError) {
  DbPtr db = EmptyDb();
  EXPECT_NE(TxError(db, "{:name \"x\"}").find("Bad transaction data"), std::string::npos);
  EXPECT_NE(TxError(db, "[42]").find("Bad entity type at 42"), std::string::npos);
  EXPECT_NE(TxError(db, "[[:db/add 1 :name nil]]").find("Cannot store nil as a value"),
            std::string::npos);
  EXPECT_NE(TxError(db, "[[:db/frobnicate 1 :name 2]]").find("Unknown operation"),
            std::string::npos);
  EXPECT_NE(TxError(db, "[[:db/add 1 \"name\" 2]]").find("Bad entity attribute"), std::string::npos);
  EXPECT_NE(TxError(db, "[[:db/add 1.5 :name 2]]").find("Expected number or lookup ref"),
            std::string::npos);
  EXPECT_NE(TxError(db, "[[:db/add 1 :name]]"), "");
  EXPECT_NE(TxError(db, "[[]]"), "");
  EXPECT_EQ(TxErrorKind(db, "[42]"), ErrorKind::kTransaction);
  // nils in tx-data are skipped.
  EXPECT_EQ(Eavt(With(db, "[[:db/add 1 :attr 2] nil [:db/add 3 :attr 4]]")),
            "[[1 :attr 2] [3 :attr 4]]");
  EXPECT_EQ(Eavt(With(db, "nil")), "[]");
}

TEST(Transact, CompositeTuplesFollowTheirParts) {
  DbPtr db = With(StoredEmpty("{:schema-flexibility :write :keep-history? false}"),
                  "[{:db/ident :a :db/valueType :db.type/long :db/cardinality :db.cardinality/one}"
                  " {:db/ident :b :db/valueType :db.type/string :db/cardinality :db.cardinality/one}"
                  " {:db/ident :a+b :db/valueType :db.type/tuple :db/tupleAttrs [:a :b]"
                  "  :db/cardinality :db.cardinality/one :db/unique :db.unique/identity}]");
  DbPtr one = With(db, "[{:db/id 10 :a 1}]");
  EXPECT_EQ(Eavt(one, "[10 :a+b]"), "[[10 :a+b [1 nil]]]");
  DbPtr two = With(one, "[[:db/add 10 :b \"x\"]]");
  EXPECT_EQ(Eavt(two, "[10 :a+b]"), "[[10 :a+b [1 \"x\"]]]");
  DbPtr none = With(two, "[[:db/retract 10 :a 1] [:db/retract 10 :b \"x\"]]");
  EXPECT_EQ(Eavt(none, "[10]"), "[]");
  EXPECT_NE(TxError(two, "[[:db/add 10 :a+b [2 \"y\"]]]").find("modify tuple attrs directly"),
            std::string::npos);
  // Unique composite: a second entity with the same parts upserts into the first.
  TxReport up = Tx(two, "[{:a 1 :b \"x\" :db/id \"t\"}]");
  EXPECT_EQ(Tempid(up, "\"t\""), 10);
}

TEST(Transact, TupleValuesAreChecked) {
  DbPtr db = With(StoredEmpty("{:schema-flexibility :write :keep-history? false}"),
                  "[{:db/ident :h :db/valueType :db.type/tuple :db/tupleType :db.type/long"
                  "  :db/cardinality :db.cardinality/one}"
                  " {:db/ident :t :db/valueType :db.type/tuple"
                  "  :db/tupleTypes [:db.type/long :db.type/keyword] :db/cardinality :db.cardinality/one}]");
  EXPECT_EQ(Eavt(With(db, "[[:db/add 5 :h [1 2 3]]]"), "[5]"), "[[5 :h [1 2 3]]]");
  EXPECT_NE(TxError(db, "[[:db/add 5 :h [1 2 3 4 5 6 7 8 9]]]").find("Cannot store more than 8 values"),
            std::string::npos);
  EXPECT_NE(TxError(db, "[[:db/add 5 :h [\"a\" \"b\"]]]").find("Values are of wrong type"),
            std::string::npos);
  EXPECT_NE(TxError(db, "[[:db/add 5 :t [1 :a 3]]]").find("expecting 2 values, got 3"),
            std::string::npos);
  EXPECT_NE(TxError(db, "[[:db/add 5 :t [:a 1]]]").find("mismatch between values"),
            std::string::npos);
  EXPECT_EQ(Eavt(With(db, "[[:db/add 5 :t [100 :west]]]"), "[5]"), "[[5 :t [100 :west]]]");
}

TEST(Transact, AddThenRetractInOneTransactionLeavesNothing) {
  DbPtr db = With(StoredEmpty("{:schema-flexibility :read}"), "[{:db/id 1 :name \"a\"}]");
  TxReport r = Tx(db, "[[:db/add 1 :score 1] [:db/retract 1 :score 1]]");
  EXPECT_EQ(Eavt(r.db_after, "[1 :score]"), "[]");
  EXPECT_EQ(Eavt(r.db_after->AsOf(Value::Long(r.db_after->max_tx())), "[1 :score]"), "[]");
  // Retract then add keeps the value, also as of that transaction.
  TxReport k = Tx(db, "[[:db/retract 1 :name \"a\"] [:db/add 1 :name \"a\"]]");
  EXPECT_EQ(Eavt(k.db_after, "[1 :name]"), "[[1 :name \"a\"]]");
  EXPECT_EQ(Eavt(k.db_after->AsOf(Value::Long(k.db_after->max_tx())), "[1 :name]"),
            "[[1 :name \"a\"]]");
}

TEST(Transact, BulkTransactionAgreesAcrossIndices) {
  std::string tx = "[";
  for (int i = 0; i < 5000; ++i) {
    tx += "{:name \"n" + std::to_string(i % 97) + "\" :age " + std::to_string(i % 100) +
          " :id " + std::to_string(i) + " :salary " + std::to_string(i * 7919 % 100003) +
          (i % 3 == 0 ? " :sex :male}" : " :sex :female}");
  }
  tx += "]";
  DbPtr db = With(EmptyDb("{:id {:db/unique :db.unique/identity} :age {:db/index true}}"), tx);
  EXPECT_EQ(db->current().eavt.size(), 25000u);
  EXPECT_EQ(db->current().aevt.size(), 25000u);
  EXPECT_EQ(db->current().avet.size(), 25000u);  // AVET holds every datom
  EXPECT_EQ(db->Datoms(IndexOrder::kAvet, {Kw("age"), Value::Long(42)}).size(), 50u);
  // ...but the public :avet calls show only indexed and unique attributes (:id and :age).
  EXPECT_EQ(db->Datoms(IndexOrder::kAvet, {}).size(), 10000u);
  // AVET is EAVT's datoms in AVET order (the bulk sort's value grouping and key sorts).
  std::vector<Datom> by_avet = db->SearchAll(IndexOrder::kEavt, Pattern{});
  std::stable_sort(by_avet.begin(), by_avet.end(), AvetLess());
  EXPECT_EQ(Rows(db->SearchAll(IndexOrder::kAvet, Pattern{}), true), Rows(by_avet, true));
}

// AVET's changes for attributes outside Datahike's AVET are deferred to the end of a transaction;
// the same datom added and retracted, or an attribute made unique, within one transaction still
// ends in the right index state.
// An entity past the Db's max-eid is looked up in the transaction's own changes only; its own
// retractions and replacements still decide.
TEST(Transact, NewEntityChangedTwiceInOneTransaction) {
  DbPtr db = With(EmptyDb("{}", "{:keep-history? true}"), "[[:db/add 1 :x \"a\"]]");
  db = With(db, "[[:db/add 7 :x \"a\"] [:db/retract 7 :x \"a\"] [:db/add 7 :x \"b\"]"
                " [:db/add 8 :x \"c\"] [:db/add 8 :x \"d\"] [:db/add 9 :y 1] [:db/retract 9 :y 1]]");
  Pattern p;
  p.a = AttrOf(Kw("x"));
  EXPECT_EQ(Rows(db->SearchAll(IndexOrder::kEavt, p)),
            "[[1 :x \"a\"] [7 :x \"b\"] [8 :x \"d\"]]");
  Pattern q;
  q.e = 9;
  EXPECT_EQ(Rows(db->SearchAll(IndexOrder::kEavt, q)), "[]");
  EXPECT_EQ(db->current().avet.size(), db->current().eavt.size());
  EXPECT_EQ(db->current().aevt.size(), db->current().eavt.size());
}

// Small transactions leave AEVT's and AVET's changes in a loose log shared by the line of values
// they make; a transaction on an older value of the line (a fork) must see exactly that value's
// changes, across chunk boundaries, and leave the other values alone.
TEST(Transact, LooseLogForksKeepEachValueItsOwnChanges) {
  std::vector<DbPtr> line{With(EmptyDb("{}", "{:keep-history? true}"), "[]")};
  for (int i = 1; i <= 150; ++i) {
    line.push_back(With(line.back(), "[[:db/add " + std::to_string(i) + " :x " +
                                         std::to_string(i) + "]]"));
  }
  auto count = [](const DbPtr& d, IndexOrder order) {
    Pattern p;
    p.a = AttrOf(Kw("x"));
    return d->SearchAll(order, p).size();
  };
  for (size_t k : {0, 1, 5, 31, 32, 33, 64, 95, 96, 97, 149, 150}) {
    DbPtr fork = With(line[k], "[[:db/add 1000 :x -1] [:db/add 2000 :y 5]]");
    DbPtr fork2 = With(fork, "[[:db/retract 1000 :x -1] [:db/add 1001 :x -2]]");
    for (IndexOrder order : {IndexOrder::kEavt, IndexOrder::kAevt, IndexOrder::kAvet}) {
      EXPECT_EQ(count(line[k], order), k) << k;
      EXPECT_EQ(count(fork, order), k + 1) << k;
      EXPECT_EQ(count(fork2, order), k + 1) << k;
    }
    Pattern p;
    p.a = AttrOf(Kw("x"));
    p.v = Value::Long(-2);
    EXPECT_EQ(Rows(fork2->SearchAll(IndexOrder::kAvet, p)), "[[1001 :x -2]]") << k;
  }
  // The line itself, read after all the forks.
  for (size_t k = 0; k < line.size(); ++k) EXPECT_EQ(count(line[k], IndexOrder::kAvet), k);
}

TEST(Transact, DeferredAvetChangesWithinOneTransaction) {
  DbPtr db = With(EmptyDb("{}", "{:keep-history? true}"),
                  "[[:db/add 1 :x \"a\"] [:db/add 1 :x \"b\"] [:db/retract 1 :x \"a\"]"
                  " [:db/add 2 :x \"a\"] [:db/retract 2 :x \"a\"] [:db/add 3 :y 5]]");
  auto values = [](const DbPtr& d, const char* attr) {
    Pattern p;
    p.a = AttrOf(Kw(attr));
    return Rows(d->SearchAll(IndexOrder::kAvet, p));
  };
  EXPECT_EQ(values(db, "x"), "[[1 :x \"b\"]]");
  EXPECT_EQ(values(db, "y"), "[[3 :y 5]]");
  EXPECT_EQ(db->current().avet.size(), db->current().eavt.size());
  // Made unique in a later transaction: existing values must be distinct, and lookup refs work
  // in the same transaction that adds more values.
  db = With(db, "[[:db/add 4 :x \"c\"]]");
  DbPtr schema_db = With(StoredEmpty(), "[{:db/ident :k :db/valueType :db.type/string "
                                        ":db/cardinality :db.cardinality/one}"
                                        " {:db/ident :k2 :db/valueType :db.type/long "
                                        ":db/cardinality :db.cardinality/one}]");
  schema_db = With(schema_db, "[[:db/add 10 :k \"p\"] [:db/add 11 :k \"p\"]]");
  EXPECT_NE(TxError(schema_db, "[{:db/ident :k :db/unique :db.unique/identity}]"), "");
  schema_db = With(schema_db, "[[:db/retract 11 :k \"p\"] [:db/add 11 :k \"q\"]]");
  schema_db = With(schema_db, "[{:db/ident :k :db/unique :db.unique/identity}]");
  schema_db = With(schema_db, "[[:db/add 20 :k \"r\"] {:k \"q\" :k2 1}]");
  EXPECT_EQ(Rows(schema_db->Datoms(IndexOrder::kAvet, {Kw("k")})),
            "[[10 :k \"p\"] [11 :k \"q\"] [20 :k \"r\"]]");
  EXPECT_EQ(schema_db->LookupUnique(AttrOf(Kw("k")), Value::String("q")), 11);
}

}  // namespace
}  // namespace datahike::testing

namespace datahike::testing {
namespace {

// Random tx-data built from a small grammar of plausible and broken forms: every transaction either
// succeeds or throws datahike::Error, never crashes, and a failure leaves the db as it was.
TEST(Transact, RandomBadInputNeverCrashes) {
  std::mt19937 rng(7);
  auto pick = [&](std::initializer_list<const char*> xs) {
    return std::string(*(xs.begin() + rng() % xs.size()));
  };
  auto scalar = [&]() {
    return pick({"1", "-1", "0", "536870913", "\"s\"", ":k", ":db/ident", "nil", "true", "1.5", "1N",
                 "1.5M", "[:name \"a\"]", "[:name]", "[]", "{}", "#{1}", "sym", "\"datomic.tx\"",
                 ":db/current-tx", "#inst \"2020-01-01T00:00:00Z\"", "[1 2 3]", "{:a 1}"});
  };
  auto attr = [&]() {
    return pick({":name", ":age", ":friend", ":tags", ":_friend", ":db/ident", ":db/valueType",
                 ":db/cardinality", ":db/unique", ":db/isComponent", ":db/tupleAttrs", "\"str\"", "1",
                 ":t", ":comp"});
  };
  auto op = [&]() {
    return pick({":db/add", ":db/retract", ":db/retractEntity", ":db.fn/retractEntity", ":db/cas",
                 ":db.fn/retractAttribute", ":db/purge", ":db.purge/entity", ":bogus", "1"});
  };
  DbPtr db = With(EmptyDb("{:name {:db/unique :db.unique/identity}"
                          " :friend {:db/valueType :db.type/ref}"
                          " :tags {:db/cardinality :db.cardinality/many}"
                          " :comp {:db/valueType :db.type/ref :db/isComponent true}"
                          " :t {:db/tupleAttrs [:name :age]}}"),
                  "[{:db/id 1 :name \"a\" :age 1 :friend 2} {:db/id 2 :name \"b\"}]");
  int ok = 0, failed = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string tx = "[";
    int items = 1 + rng() % 4;
    for (int k = 0; k < items; ++k) {
      switch (rng() % 3) {
        case 0: {
          tx.push_back('[');
          tx += op();
          int args = rng() % 5;
          for (int j = 0; j < args; ++j) {
            tx.push_back(' ');
            tx += j == 1 ? attr() : scalar();
          }
          tx.push_back(']');
          break;
        }
        case 1: {
          tx += "{";
          int keys = rng() % 4;
          for (int j = 0; j < keys; ++j) {
            tx += rng() % 3 == 0 ? std::string(":db/id") : attr();
            tx.push_back(' ');
            tx += scalar();
            tx.push_back(' ');
          }
          tx += "}";
          break;
        }
        default:
          tx += scalar();
      }
      tx += " ";
    }
    tx += "]";
    std::string before = Eavt(db);
    try {
      DbPtr next = Tx(db, tx).db_after;
      ++ok;
      if (rng() % 4 == 0) db = next;
    } catch (const Error& e) {
      ++failed;
      EXPECT_FALSE(e.message().empty()) << tx;
      EXPECT_EQ(Eavt(db), before) << tx;
    }
  }
  EXPECT_GT(ok, 0);
  EXPECT_GT(failed, 0);
}

}  // namespace
}  // namespace datahike::testing

namespace datahike::testing {
namespace {

// A large transaction on a non-empty db (AEVT changes applied in bulk): adds, replacements and
// retractions, including add-then-retract of the same datom, leave AEVT equal to EAVT.
TEST(Transact, LargeMixedTransactionKeepsAevtInStep) {
  std::string init = "[";
  for (int i = 1; i <= 200; ++i) {
    init += "{:db/id " + std::to_string(i) + " :n " + std::to_string(i) + " :s \"x" +
            std::to_string(i) + "\"}";
  }
  DbPtr db = With(EmptyDb(), init + "]");
  std::string tx = "[";
  for (int i = 1; i <= 200; ++i) {
    std::string e = std::to_string(i);
    if (i % 3 == 0) tx += "[:db/retractEntity " + e + "]";
    if (i % 3 == 1) tx += "[:db/add " + e + " :n " + std::to_string(i * 10) + "]";
    if (i % 3 == 2) tx += "[:db/add " + e + " :t 1] [:db/retract " + e + " :t 1]";
  }
  tx += "[:db/add 500 :n 5]]";
  DbPtr after = With(db, tx);
  auto eavt = after->Datoms(IndexOrder::kEavt, {});
  auto aevt = after->Datoms(IndexOrder::kAevt, {});
  ASSERT_EQ(eavt.size(), aevt.size());
  std::sort(aevt.begin(), aevt.end(), EavtLess());
  for (size_t i = 0; i < eavt.size(); ++i) EXPECT_EQ(EavtLess::Cmp(eavt[i], aevt[i]), 0);
  EXPECT_EQ(Aevt(after, "[:n 1]"), "[[1 :n 10]]");
  EXPECT_EQ(Aevt(after, "[:n 3]"), "[]");
  EXPECT_EQ(Aevt(after, "[:t]"), "[]");
  EXPECT_EQ(Aevt(after, "[:n 500]"), "[[500 :n 5]]");
}

}  // namespace
}  // namespace datahike::testing
