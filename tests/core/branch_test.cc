// Branches and commits of core/api (DESIGN.md section 6).
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "core/api/connection.h"
#include "tests/core/test_util.h"

namespace datahike::testing {
namespace {

std::string Cfg(const std::string& id, const std::string& extra = "") {
  return "{:store {:backend :memory :id \"" + id + "\"} " + extra + "}";
}

ErrorKind KindOf(const std::function<void()>& f, std::string* message = nullptr) {
  try {
    f();
  } catch (const Error& e) {
    if (message) *message = e.message();
    return e.kind();
  }
  ADD_FAILURE() << "no error";
  return ErrorKind::kInternal;
}

const char* kSchema =
    "[{:db/ident :sku :db/valueType :db.type/string :db/cardinality :db.cardinality/one "
    ":db/unique :db.unique/identity}]";

std::string Skus(const DbPtr& db) { return Avet(db, "[:sku]"); }

// A database with the schema and sku "A" on :db, deleted at the end of the test.
class BranchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_ = E(Cfg(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    api::CreateDatabase(cfg_);
    conn_ = api::Connection::Connect(cfg_);
    conn_->Transact(E(kSchema));
    conn_->Transact(E("[{:sku \"A\"}]"));
  }
  void TearDown() override { api::DeleteDatabase(cfg_); }
  std::shared_ptr<api::Connection> Branch(const std::string& name) {
    std::string text = S(cfg_);
    return api::Connection::Connect(
        E(text.substr(0, text.size() - 1) + " :branch :" + name + "}"));
  }
  Value cfg_;
  std::shared_ptr<api::Connection> conn_;
};

TEST_F(BranchTest, EveryCommitHasAnIdAndItsParent) {
  DbPtr before = conn_->Db();
  Value before_id = api::CommitId(*before);
  ASSERT_EQ(before_id.type(), Type::kUuid);
  TxReport r = conn_->Transact(E("[{:sku \"B\"}]"));
  Value id = api::CommitId(*r.db_after);
  ASSERT_EQ(id.type(), Type::kUuid);
  EXPECT_NE(S(id), S(before_id));
  EXPECT_EQ(S(*r.tx_meta.get("db/commitId")), S(id));
  EXPECT_EQ(S(api::ParentCommitIds(*r.db_after)), "#{" + S(before_id) + "}");
  EXPECT_EQ(S(api::CommitId(*conn_->Db())), S(id));
  // Version 4 uuids: the version nibble is 4.
  EXPECT_EQ(S(id)[21], '4');
  // Views and db-with values are not commits.
  EXPECT_TRUE(api::CommitId(*r.db_after->History()).is_nil());
  EXPECT_TRUE(api::CommitId(*With(r.db_after, "[{:sku \"C\"}]")).is_nil());
  EXPECT_TRUE(api::ParentCommitIds(*EmptyDb()).is_nil());
}

TEST_F(BranchTest, FirstCommitHasNoParents) {
  Value cfg = E(Cfg("branch-first-commit"));
  api::CreateDatabase(cfg);
  auto conn = api::Connection::Connect(cfg);
  EXPECT_EQ(S(api::ParentCommitIds(*conn->Db())), "#{}");
  EXPECT_EQ(conn->BranchHistory(Kw("db")).size(), 1u);
  api::DeleteDatabase(cfg);
}

TEST_F(BranchTest, BranchTransactAndReadBothHeads) {
  EXPECT_EQ(S(Value::Vector(conn_->Branches())), "[:db]");
  conn_->CreateBranch(Kw("db"), Kw("feature"));
  EXPECT_EQ(S(Value::Vector(conn_->Branches())), "[:db :feature]");
  auto feature = Branch("feature");
  EXPECT_EQ(S(feature->branch()), ":feature");
  EXPECT_EQ(feature->Db().get(), conn_->Db().get());  // same commit
  feature->Transact(E("[{:sku \"B\"}]"));
  EXPECT_EQ(Skus(feature->Db()), "[[2 :sku \"A\"] [3 :sku \"B\"]]");
  EXPECT_EQ(Skus(conn_->Db()), "[[2 :sku \"A\"]]");
  EXPECT_EQ(Skus(conn_->BranchDb(Kw("feature"))), Skus(feature->Db()));
  // Each branch has its own history; the fork point is shared.
  EXPECT_EQ(feature->BranchHistory(Kw("feature")).size(), 4u);  // creation, schema, A, B
  EXPECT_EQ(conn_->BranchHistory(Kw("db")).size(), 3u);
}

TEST_F(BranchTest, BranchFromCommitAndOpenCommit) {
  Value pinned = api::CommitId(*conn_->Db());
  conn_->Transact(E("[{:sku \"B\"}]"));
  EXPECT_EQ(Skus(conn_->CommitDb(pinned)), "[[2 :sku \"A\"]]");
  conn_->CreateBranch(pinned, Kw("snapshot"));
  EXPECT_EQ(Skus(conn_->BranchDb(Kw("snapshot"))), "[[2 :sku \"A\"]]");
  EXPECT_EQ(S(api::CommitId(*conn_->BranchDb(Kw("snapshot")))), S(pinned));
}

TEST_F(BranchTest, MergeRecordsParents) {
  conn_->CreateBranch(Kw("db"), Kw("feature"));
  auto feature = Branch("feature");
  TxReport f = feature->Transact(E("[{:sku \"B\"}]"));
  Value db_head = api::CommitId(*conn_->Db());
  TxReport m = conn_->Merge(E("#{:feature}"), E("[{:sku \"B\"}]"));
  Value merge_id = api::CommitId(*m.db_after);
  EXPECT_EQ(S(*m.tx_meta.get("db/commitId")), S(merge_id));
  EXPECT_EQ(S(api::CommitId(*conn_->Db())), S(merge_id));
  EXPECT_EQ(S(api::ParentCommitIds(*conn_->Db())),
            S(Value::Set({db_head, api::CommitId(*f.db_after)})));
  EXPECT_EQ(Skus(conn_->Db()), "[[2 :sku \"A\"] [3 :sku \"B\"]]");
  // The feature branch is unchanged; history of :db now reaches both lines.
  EXPECT_EQ(S(api::CommitId(*feature->Db())), S(api::CommitId(*f.db_after)));
  EXPECT_EQ(conn_->BranchHistory(Kw("db")).size(), 5u);
  // Merging a branch with itself records it once.
  TxReport self = conn_->Merge(E("[:db]"), E("[]"));
  EXPECT_EQ(api::ParentCommitIds(*self.db_after).items().size(), 1u);
}

TEST_F(BranchTest, ForceBranch) {
  Value first = api::CommitId(*conn_->Db());
  DbPtr with_c = With(conn_->Db(), "[{:sku \"C\"}]");
  api::ForceBranch(with_c, Kw("forced"), E("#{:db}"));
  auto forced = Branch("forced");
  EXPECT_EQ(Skus(forced->Db()), "[[2 :sku \"A\"] [3 :sku \"C\"]]");
  EXPECT_EQ(S(api::ParentCommitIds(*forced->Db())), "#{" + S(first) + "}");
  forced->Transact(E("[{:sku \"D\"}]"));
  // Forcing an existing branch resets it; its connections see the new head.
  api::ForceBranch(conn_->Db(), Kw("forced"), E("[:db]"));
  EXPECT_EQ(Skus(forced->Db()), "[[2 :sku \"A\"]]");
  EXPECT_EQ(KindOf([&] { api::ForceBranch(conn_->Db()->History(), Kw("x"), E("[:db]")); }),
            ErrorKind::kMisuse);
  EXPECT_EQ(KindOf([&] { api::ForceBranch(EmptyDb(), Kw("x"), E("[:db]")); }),
            ErrorKind::kMisuse);
  EXPECT_EQ(KindOf([&] { api::ForceBranch(conn_->Db(), Kw("x"), E("[]")); }), ErrorKind::kMisuse);
  EXPECT_EQ(KindOf([&] { api::ForceBranch(conn_->Db(), E("\"x\""), E("[:db]")); }),
            ErrorKind::kMisuse);
  EXPECT_EQ(KindOf([&] { api::ForceBranch(conn_->Db(), Kw("x"), E("[:nope]")); }),
            ErrorKind::kNotFound);
}

TEST_F(BranchTest, DeleteBranch) {
  conn_->CreateBranch(Kw("db"), Kw("feature"));
  auto feature = Branch("feature");
  TxReport r = feature->Transact(E("[{:sku \"B\"}]"));
  conn_->DeleteBranch(Kw("feature"));
  EXPECT_EQ(S(Value::Vector(conn_->Branches())), "[:db]");
  std::string message;
  EXPECT_EQ(KindOf([&] { feature->Db(); }, &message), ErrorKind::kNotFound);
  EXPECT_EQ(message, "Branch :feature does not exist.");
  EXPECT_EQ(KindOf([&] { feature->Transact(E("[]")); }), ErrorKind::kNotFound);
  EXPECT_EQ(KindOf([&] { Branch("feature"); }), ErrorKind::kNotFound);
  // Its commits stay readable by id; the name can be used again.
  EXPECT_EQ(Skus(conn_->CommitDb(api::CommitId(*r.db_after))), Skus(r.db_after));
  conn_->CreateBranch(Kw("db"), Kw("feature"));
  EXPECT_EQ(Skus(feature->Db()), "[[2 :sku \"A\"]]");
}

TEST_F(BranchTest, Errors) {
  std::string message;
  conn_->CreateBranch(Kw("db"), Kw("feature"));
  EXPECT_EQ(KindOf([&] { conn_->CreateBranch(Kw("db"), Kw("feature")); }, &message),
            ErrorKind::kConflict);
  EXPECT_EQ(message, "Branch :feature already exists.");
  EXPECT_EQ(KindOf([&] { conn_->CreateBranch(Kw("nope"), Kw("x")); }, &message),
            ErrorKind::kNotFound);
  EXPECT_EQ(message, "Branch :nope does not exist.");
  Value unknown = E("#uuid \"00000000-0000-4000-8000-000000000000\"");
  EXPECT_EQ(KindOf([&] { conn_->CreateBranch(unknown, Kw("x")); }), ErrorKind::kNotFound);
  EXPECT_EQ(KindOf([&] { conn_->CommitDb(unknown); }), ErrorKind::kNotFound);
  EXPECT_EQ(KindOf([&] { conn_->CommitDb(Kw("db")); }), ErrorKind::kMisuse);
  EXPECT_EQ(KindOf([&] { conn_->CreateBranch(E("42"), Kw("x")); }), ErrorKind::kMisuse);
  EXPECT_EQ(KindOf([&] { conn_->CreateBranch(Kw("db"), E("\"x\"")); }), ErrorKind::kMisuse);
  EXPECT_EQ(KindOf([&] { conn_->DeleteBranch(Kw("db")); }, &message), ErrorKind::kMisuse);
  EXPECT_EQ(message, "Cannot delete the main :db branch; delete the database instead.");
  EXPECT_EQ(KindOf([&] { conn_->DeleteBranch(Kw("nope")); }), ErrorKind::kNotFound);
  EXPECT_EQ(KindOf([&] { conn_->BranchDb(Kw("nope")); }), ErrorKind::kNotFound);
  EXPECT_EQ(KindOf([&] { conn_->Merge(E("[]"), E("[]")); }), ErrorKind::kMisuse);
  EXPECT_EQ(KindOf([&] { conn_->Merge(E(":feature"), E("[]")); }), ErrorKind::kMisuse);
  EXPECT_EQ(KindOf([&] { conn_->Merge(E("[:nope]"), E("[]")); }), ErrorKind::kNotFound);
  EXPECT_EQ(KindOf([&] { Branch("nope"); }), ErrorKind::kNotFound);
  EXPECT_EQ(KindOf([&] {
              std::string text = S(cfg_);
              api::Connection::Connect(E(text.substr(0, text.size() - 1) + " :branch \"db\"}"));
            }),
            ErrorKind::kMisuse);
  // A failed merge changes nothing.
  Value head = api::CommitId(*conn_->Db());
  ErrorKind tx_kind = KindOf([&] { conn_->Transact(E("[[:db/add -1 :nope 1]]")); });
  EXPECT_EQ(KindOf([&] { conn_->Merge(E("[:feature]"), E("[[:db/add -1 :nope 1]]")); }), tx_kind);
  EXPECT_EQ(S(api::CommitId(*conn_->Db())), S(head));
  // Released connections and deleted databases.
  auto other = api::Connection::Connect(cfg_);
  other->Release();
  EXPECT_EQ(KindOf([&] { other->Branches(); }), ErrorKind::kMisuse);
  EXPECT_EQ(KindOf([&] { other->CreateBranch(Kw("db"), Kw("y")); }), ErrorKind::kMisuse);
}

TEST_F(BranchTest, ListenersHearTheirBranchOnly) {
  conn_->CreateBranch(Kw("db"), Kw("feature"));
  auto feature = Branch("feature");
  int on_db = 0, on_feature = 0;
  conn_->Listen([&](const TxReport&) { ++on_db; });
  feature->Listen([&](const TxReport& r) {
    ++on_feature;
    EXPECT_NE(r.tx_meta.get("db/commitId"), nullptr);
  });
  feature->Transact(E("[{:sku \"B\"}]"));
  conn_->Transact(E("[{:sku \"C\"}]"));
  conn_->Merge(E("[:feature]"), E("[]"));
  EXPECT_EQ(on_db, 2);
  EXPECT_EQ(on_feature, 1);
}

TEST(Branch, DeletedDatabaseValuesAreNotCommits) {
  Value cfg = E(Cfg("branch-deleted"));
  api::CreateDatabase(cfg);
  DbPtr db = api::Connection::Connect(cfg)->Db();
  EXPECT_EQ(api::CommitId(*db).type(), Type::kUuid);
  api::DeleteDatabase(cfg);
  EXPECT_TRUE(api::CommitId(*db).is_nil());
}

}  // namespace
}  // namespace datahike::testing
