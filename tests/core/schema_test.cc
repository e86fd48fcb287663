#include <gtest/gtest.h>

#include "tests/core/test_util.h"

namespace datahike::testing {
namespace {

DbPtr Strict(const std::string& schema_tx) {
  return With(StoredEmpty("{:schema-flexibility :write :keep-history? true}"), schema_tx);
}

const char* kTypes =
    "[{:db/ident :value/bigint :db/valueType :db.type/bigint :db/cardinality :db.cardinality/one}"
    " {:db/ident :value/float :db/valueType :db.type/float :db/cardinality :db.cardinality/one}"
    " {:db/ident :value/double :db/valueType :db.type/double :db/cardinality :db.cardinality/one}"
    " {:db/ident :value/long :db/valueType :db.type/long :db/cardinality :db.cardinality/one}"
    " {:db/ident :value/bigdec :db/valueType :db.type/bigdec :db/cardinality :db.cardinality/one}"
    " {:db/ident :value/string :db/valueType :db.type/string :db/cardinality :db.cardinality/one}"
    " {:db/ident :value/boolean :db/valueType :db.type/boolean :db/cardinality :db.cardinality/one}"
    " {:db/ident :value/instant :db/valueType :db.type/instant :db/cardinality :db.cardinality/one}"
    " {:db/ident :value/uuid :db/valueType :db.type/uuid :db/cardinality :db.cardinality/one}"
    " {:db/ident :value/keyword :db/valueType :db.type/keyword :db/cardinality :db.cardinality/one}"
    " {:db/ident :value/symbol :db/valueType :db.type/symbol :db/cardinality :db.cardinality/one}"
    " {:db/ident :value/ref :db/valueType :db.type/ref :db/cardinality :db.cardinality/one}]";

TEST(Schema, EveryValueTypeAcceptsItsValuesAndRefusesOthers) {
  DbPtr db = Strict(kTypes);
  struct Case {
    const char* attr;
    const char* ok;
    const char* bad;
  } cases[] = {
      {"value/bigint", "1N", "1.0"},   {"value/bigint", "7", "\"7\""},
      {"value/float", "1.5", "1"},     {"value/double", "1.5", "1"},
      {"value/long", "1", "1N"},       {"value/long", "-9", ":2"},
      {"value/bigdec", "1.5M", "1.5"}, {"value/string", "\"s\"", ":one"},
      {"value/boolean", "false", "0"}, {"value/instant", "#inst \"2020-01-01T00:00:00Z\"", "1"},
      {"value/uuid", "#uuid \"5f3c2d8e-0000-4000-8000-000000000001\"", "1"},
      {"value/keyword", ":k", "1"},    {"value/symbol", "sym", ":one"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.attr);
    EXPECT_EQ(TxError(db, std::string("[[:db/add 100 :") + c.attr + " " + c.ok + "]]"), "");
    std::string err = TxError(db, std::string("[[:db/add 100 :") + c.attr + " " + c.bad + "]]");
    EXPECT_NE(err.find(std::string("Bad entity value ") + c.bad + " at [:db/add 100 :" + c.attr),
              std::string::npos)
        << err;
    EXPECT_NE(err.find("value does not match schema definition"), std::string::npos);
  }
  EXPECT_EQ(TxErrorKind(db, "[[:db/add 100 :value/long \"x\"]]"), ErrorKind::kSchema);
  EXPECT_NE(TxError(db, "[[:db/add 100 :value/string 42]]").find("Must be conform to: string?"),
            std::string::npos);
}

TEST(Schema, WriteFlexibilityRejectsUnknownAttributes) {
  DbPtr db = Strict(kTypes);
  EXPECT_EQ(TxError(db, "[{:db/id 3 :age 42}]"),
            "Bad entity attribute :age at {:db/id 3, :age 42}, not defined in current schema");
  EXPECT_NE(TxError(db, "[[:db/add 3 :age 42]]").find("not defined in current schema"),
            std::string::npos);
  // :read accepts anything, storing vectors and maps as single values.
  DbPtr read = StoredEmpty("{:schema-flexibility :read}");
  DbPtr r = With(read, "[{:db/id 1 :v [1 2] :m {:a 1}}]");
  EXPECT_EQ(Eavt(r, "[1]"), "[[1 :m {:a 1}] [1 :v [1 2]]]");
}

TEST(Schema, IncompleteDefinitionsAreRefusedButBareIdentsAccepted) {
  DbPtr db = StoredEmpty("{:schema-flexibility :write}");
  EXPECT_EQ(TxError(db, "[{:db/ident :name :db/valueType :db.type/string}]"),
            "Incomplete schema transaction attributes, expected :db/ident, :db/valueType, "
            ":db/cardinality");
  EXPECT_EQ(TxError(db, "[{:db/ident :color/red}]"), "");
  EXPECT_NE(TxError(db, "[{:db/ident :x :db/valueType :db.type/nonsense :db/cardinality :db.cardinality/one}]"),
            "");
}

TEST(Schema, SchemaTransactedAsDataIsUsableInTheSameTransaction) {
  DbPtr db = With(StoredEmpty("{:schema-flexibility :write}"),
                  "[{:db/ident :name :db/valueType :db.type/string :db/unique :db.unique/identity"
                  "  :db/cardinality :db.cardinality/one}"
                  " {:name \"Alice\"}]");
  EXPECT_EQ(Avet(db, "[:name]"), "[[2 :name \"Alice\"]]");
  const Attribute* a = db->schema().Find(InternKeyword("name")->id);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->eid, 1);
  EXPECT_EQ(a->unique, Unique::kIdentity);
  EXPECT_EQ(S(*db->schema().ToValue().get("name")->get("db/valueType")), ":db.type/string");
}

TEST(Schema, ChangesFollowDatahikesRules) {
  DbPtr db = Strict(
      "[{:db/ident :u :db/valueType :db.type/string :db/cardinality :db.cardinality/one"
      "  :db/unique :db.unique/identity}"
      " {:db/ident :m :db/valueType :db.type/string :db/cardinality :db.cardinality/many}"
      " {:db/ident :i :db/valueType :db.type/long :db/cardinality :db.cardinality/one"
      "  :db/index true}"
      " {:db/ident :p :db/valueType :db.type/long :db/cardinality :db.cardinality/one}]");
  // Always allowed.
  EXPECT_EQ(TxError(db, "[{:db/id 1 :db/doc \"the u\" :db/noHistory true}]"), "");
  // one -> many on a unique attribute.
  EXPECT_EQ(TxError(db, "[{:db/id 1 :db/cardinality :db.cardinality/many}]"),
            "Update not supported for these schema attributes");
  // unique may switch between identity and value.
  EXPECT_EQ(TxError(db, "[{:db/id 1 :db/unique :db.unique/value}]"), "");
  // index on, not off.
  EXPECT_EQ(TxError(db, "[{:db/id 3 :db/index false}]"),
            "Update not supported for these schema attributes");
  DbPtr indexed = With(With(db, "[{:db/id 10 :p 5}]"), "[{:db/id 4 :db/index true}]");
  EXPECT_EQ(Avet(indexed, "[:p]"), "[[10 :p 5]]") << "switching :db/index on backfills AVET";
  // many -> one only while no entity holds two values.
  DbPtr two = With(db, "[{:db/id 10 :m [\"a\" \"b\"]}]");
  EXPECT_NE(TxError(two, "[{:db/id 2 :db/cardinality :db.cardinality/one}]"), "");
  DbPtr single = With(db, "[{:db/id 10 :m [\"a\"]}]");
  EXPECT_EQ(TxError(single, "[{:db/id 2 :db/cardinality :db.cardinality/one}]"), "");
  // valueType only while unused.
  EXPECT_EQ(TxError(db, "[{:db/id 4 :db/valueType :db.type/string}]"), "");
  DbPtr used = With(db, "[{:db/id 10 :p 5}]");
  EXPECT_NE(TxError(used, "[{:db/id 4 :db/valueType :db.type/string}]").find("requires the attribute to be unused"),
            std::string::npos);
}

TEST(Schema, DataScriptStyleSchemaMaps) {
  EXPECT_THROW(EmptyDb("{:profile {:db/isComponent true}}"), Error);
  try {
    EmptyDb("{:profile {:db/isComponent true}}");
  } catch (const Error& e) {
    EXPECT_EQ(e.message(),
              "Bad attribute specification for :profile: {:db/isComponent true} should also have "
              "{:db/valueType :db.type/ref}");
  }
  try {
    EmptyDb("{:profile {:db/isComponent \"aaa\" :db/valueType :db.type/ref}}");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.message(),
              "Bad attribute specification for {:profile {:db/isComponent \"aaa\"}}, expected one "
              "of #{true false}");
  }
  EXPECT_THROW(EmptyDb("[:not-a-map]"), Error);
  EXPECT_THROW(EmptyDb("{:a {:db/cardinality :db.cardinality/several}}"), Error);
  DbPtr db = EmptyDb("{:aka {:db/cardinality :db.cardinality/many}}");
  EXPECT_TRUE(db->schema().IsMany(InternKeyword("aka")->id));
  // Storage-free schema attributes take no entity ids.
  EXPECT_EQ(Eavt(With(db, "[{:name \"x\"}]")), "[[1 :name \"x\"]]");
}

TEST(Schema, ReverseSchemaGroupsAttributesByProperty) {
  DbPtr db = EmptyDb("{:name {:db/unique :db.unique/identity} :friend {:db/valueType :db.type/ref"
                     " :db/cardinality :db.cardinality/many}}");
  Value r = db->schema().ReverseValue();
  EXPECT_EQ(S(*r.get("db/unique")), "#{:name}");
  EXPECT_EQ(S(*r.get("db.type/ref")), "#{:friend}");
  EXPECT_EQ(S(*r.get("db.cardinality/many")), "#{:friend}");
}

}  // namespace
}  // namespace datahike::testing
