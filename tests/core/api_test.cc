#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "tests/core/test_util.h"

namespace datahike::testing {
namespace {

std::string Cfg(const std::string& id, const std::string& extra = "") {
  return "{:store {:backend :memory :id \"" + id + "\"} " + extra + "}";
}

std::string ErrorOf(const std::function<void()>& f, ErrorKind* kind = nullptr) {
  try {
    f();
  } catch (const Error& e) {
    if (kind) *kind = e.kind();
    return e.message();
  }
  return "";
}

TEST(Api, LifecycleCreateConnectTransactDelete) {
  Value cfg = E(Cfg("api-lifecycle", ":keep-history? true :schema-flexibility :write"));
  EXPECT_FALSE(api::DatabaseExists(cfg));
  api::CreateDatabase(cfg);
  EXPECT_TRUE(api::DatabaseExists(cfg));
  ErrorKind kind;
  EXPECT_EQ(ErrorOf([&] { api::CreateDatabase(cfg); }, &kind), "Database already exists.");
  EXPECT_EQ(kind, ErrorKind::kConflict);
  auto conn = api::Connection::Connect(cfg);
  conn->Transact(E("[{:db/ident :name :db/valueType :db.type/string :db/cardinality :db.cardinality/one}]"));
  TxReport r = conn->Transact(E("[{:name \"Alice\"}]"));
  EXPECT_EQ(Eavt(conn->Db(), "[2]"), "[[2 :name \"Alice\"]]");
  EXPECT_EQ(r.db_after->max_tx(), 536870914);
  // A second connection shares the same database.
  auto conn2 = api::Connection::Connect(cfg);
  EXPECT_EQ(conn2->Db().get(), conn->Db().get());
  api::DeleteDatabase(cfg);
  EXPECT_FALSE(api::DatabaseExists(cfg));
  EXPECT_NE(ErrorOf([&] { conn->Db(); }, &kind), "");
  EXPECT_EQ(kind, ErrorKind::kMisuse);
  EXPECT_NE(ErrorOf([&] { api::Connection::Connect(cfg); }, &kind), "");
  EXPECT_EQ(kind, ErrorKind::kNotFound);
  api::DeleteDatabase(cfg);  // deleting again is a no-op
}

TEST(Api, InitialTxIsTheFirstTransaction) {
  Value cfg = E(Cfg("api-initial",
                    ":initial-tx [{:db/ident :name :db/valueType :db.type/string"
                    " :db/cardinality :db.cardinality/one}]"));
  api::CreateDatabase(cfg);
  auto conn = api::Connection::Connect(cfg);
  EXPECT_EQ(conn->Db()->max_tx(), 536870913);
  conn->Transact(E("[{:name \"x\"}]"));
  EXPECT_EQ(Eavt(conn->Db(), "[2]"), "[[2 :name \"x\"]]");
  api::DeleteDatabase(cfg);
}

TEST(Api, ConfigIsValidatedWithClearErrors) {
  ErrorKind kind;
  EXPECT_NE(ErrorOf([] { api::CreateDatabase(E("{:store {:backend :memory :id \"x\"} :bogus 1}")); }, &kind)
                .find("unknown key :bogus"),
            std::string::npos);
  EXPECT_EQ(kind, ErrorKind::kMisuse);
  EXPECT_NE(ErrorOf([] { api::CreateDatabase(E("{:store {:backend :cassandra}}")); })
                .find("unknown :backend :cassandra"),
            std::string::npos);
  EXPECT_NE(ErrorOf([] { api::CreateDatabase(E("{:keep-history? \"yes\"}")); })
                .find(":keep-history? must be a boolean"),
            std::string::npos);
  EXPECT_NE(ErrorOf([] { api::CreateDatabase(E("{:schema-flexibility :sometimes}")); })
                .find(":schema-flexibility must be :read or :write"),
            std::string::npos);
  EXPECT_NE(ErrorOf([] { api::CreateDatabase(E("[1 2]")); }).find("expected a map"),
            std::string::npos);
  EXPECT_NE(ErrorOf([] { api::CreateDatabase(E("{:store {:backend :memory :id 42}}")); })
                .find(":id must be a string or a uuid"),
            std::string::npos);
  EXPECT_NE(ErrorOf([] { api::CreateDatabase(E("{:store {:backend :file}}")); })
                .find("needs a :path"),
            std::string::npos);
  // Durable backends' store keys are validated.
  EXPECT_NE(ErrorOf([] { api::CreateDatabase(E("{:store {:backend :leveldb :path \"/tmp/x\" :flush-every 0}}")); }, &kind)
                .find(":flush-every"),
            std::string::npos);
  EXPECT_EQ(kind, ErrorKind::kMisuse);
  // :mem is an alias of :memory; a uuid id works.
  Value uuid_cfg = E("{:store {:backend :mem :id #uuid \"5f3c2d8e-0000-4000-8000-000000000002\"}}");
  api::CreateDatabase(uuid_cfg);
  EXPECT_TRUE(api::DatabaseExists(
      E("{:store {:backend :memory :id #uuid \"5f3c2d8e-0000-4000-8000-000000000002\"}}")));
  api::DeleteDatabase(uuid_cfg);
  // Storage-free configs allow only their two keys.
  EXPECT_THROW(Config::Storeless(E("{:store {:backend :memory}}")), Error);
}

TEST(Api, ReleasedConnectionsRefuseWork) {
  Value cfg = E(Cfg("api-release", ":schema-flexibility :read"));
  api::CreateDatabase(cfg);
  auto conn = api::Connection::Connect(cfg);
  conn->Release();
  conn->Release();  // idempotent
  ErrorKind kind;
  EXPECT_EQ(ErrorOf([&] { conn->Transact(E("[{:a 1}]")); }, &kind),
            "The connection has been released");
  EXPECT_EQ(kind, ErrorKind::kMisuse);
  EXPECT_NE(ErrorOf([&] { conn->Db(); }), "");
  // The database itself is still there for new connections.
  auto again = api::Connection::Connect(cfg);
  EXPECT_NO_THROW(again->Db());
  api::DeleteDatabase(cfg);
}

TEST(Api, AFailedTransactionLeavesTheConnectionsDbUnchanged) {
  Value cfg = E(Cfg("api-failed", ":schema-flexibility :write"));
  api::CreateDatabase(cfg);
  auto conn = api::Connection::Connect(cfg);
  DbPtr before = conn->Db();
  EXPECT_THROW(conn->Transact(E("[{:db/ident :a :db/valueType :db.type/long :db/cardinality "
                                ":db.cardinality/one} {:b 1}]")),
               Error);
  EXPECT_EQ(conn->Db().get(), before.get());
  api::DeleteDatabase(cfg);
}

TEST(Api, ListenersGetEveryReport) {
  Value cfg = E(Cfg("api-listen", ":schema-flexibility :read"));
  api::CreateDatabase(cfg);
  auto conn = api::Connection::Connect(cfg);
  std::vector<int64_t> seen;
  int64_t key = conn->Listen([&](const TxReport& r) { seen.push_back(r.db_after->max_tx()); });
  conn->Transact(E("[{:a 1}]"));
  conn->Transact(E("[{:a 2}]"));
  EXPECT_TRUE(conn->Unlisten(key));
  EXPECT_FALSE(conn->Unlisten(key));
  conn->Transact(E("[{:a 3}]"));
  EXPECT_EQ(seen, (std::vector<int64_t>{536870913, 536870914}));
  // Releasing a connection removes its listeners; other connections keep theirs.
  auto other = api::Connection::Connect(cfg);
  int other_calls = 0, released_calls = 0;
  other->Listen([&](const TxReport&) { ++other_calls; });
  conn->Listen([&](const TxReport&) { ++released_calls; });
  conn->Release();
  other->Transact(E("[{:a 4}]"));
  EXPECT_EQ(other_calls, 1);
  EXPECT_EQ(released_calls, 0);
  api::DeleteDatabase(cfg);
}

TEST(Api, ConcurrentTransactsAreSerialized) {
  Value cfg = E(Cfg("api-concurrent", ":schema-flexibility :read"));
  api::CreateDatabase(cfg);
  auto conn = api::Connection::Connect(cfg);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&conn, t] {
      for (int i = 0; i < 250; ++i) {
        conn->Transact(E("[{:thread " + std::to_string(t) + " :i " + std::to_string(i) + "}]"));
      }
    });
  }
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done) {
      DbPtr db = conn->Db();
      // Every transaction adds one entity with two datoms.
      ASSERT_EQ(db->Datoms(IndexOrder::kAevt, {Kw("thread")}).size(),
                db->Datoms(IndexOrder::kAevt, {Kw("i")}).size());
    }
  });
  for (auto& t : threads) t.join();
  done = true;
  reader.join();
  DbPtr db = conn->Db();
  EXPECT_EQ(db->max_tx(), 536870912 + 1000);
  EXPECT_EQ(db->max_eid(), 1000);
  EXPECT_EQ(db->Datoms(IndexOrder::kAevt, {Kw("i")}).size(), 1000u);
  api::DeleteDatabase(cfg);
}

}  // namespace
}  // namespace datahike::testing
