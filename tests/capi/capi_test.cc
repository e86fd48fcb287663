// Tests of the C ABI (libdatahike, capi/include/datahike/datahike.h): every function's happy path,
// then misuse (NULL everywhere, malformed EDN and JSON, wrong types, released handles, double
// release), the error map's format, listeners, and readers on several threads against a writer.
// Results are read back from their text with the engine's EDN and JSON readers.

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/value/edn.h"
#include "core/value/error.h"
#include "core/value/json.h"
#include "datahike/datahike.h"

namespace datahike::capi_testing {
namespace {

constexpr datahike_format kEdn = DATAHIKE_FORMAT_EDN;
constexpr datahike_format kJson = DATAHIKE_FORMAT_JSON;

Value E(const std::string& text) { return edn::Read(text); }
std::string S(const Value& v) { return edn::ToString(v); }

// The outcome of one call: its status, its text result and its error text (both copied, then
// freed with datahike_free).
struct Outcome {
  datahike_status status;
  std::string out;
  bool has_out = false;
  std::string error;
  bool has_error = false;
};

// Runs a call that takes (out, err); `f` receives pointers to both.
Outcome Call(const std::function<datahike_status(char**, char**)>& f) {
  char* out = reinterpret_cast<char*>(&out);  // garbage on entry: the call must not read it
  char* err = reinterpret_cast<char*>(&err);
  Outcome o;
  o.status = f(&out, &err);
  // Out parameters the call does not use keep our garbage: only read those it documents.
  if (o.status == DATAHIKE_OK) {
    EXPECT_EQ(err, nullptr);
  } else {
    EXPECT_NE(err, nullptr);
  }
  if (err != nullptr && err != reinterpret_cast<char*>(&err)) {
    o.error = err;
    o.has_error = true;
    datahike_free(err);
  }
  if (out != reinterpret_cast<char*>(&out)) {
    if (o.status != DATAHIKE_OK) {
      EXPECT_EQ(out, nullptr) << "an out parameter is set on failure";
    }
    if (out != nullptr) {
      o.out = out;
      o.has_out = true;
      datahike_free(out);
    }
  }
  return o;
}

// The text result of a call that must succeed.
std::string Ok(const std::function<datahike_status(char**, char**)>& f) {
  Outcome o = Call(f);
  EXPECT_EQ(o.status, DATAHIKE_OK) << o.error;
  return o.out;
}

// Checks the error map of a failed call: {:error/kind k :message "..." :data {...}} with k the
// keyword datahike_status_name names. Returns the map.
Value ErrorMap(const Outcome& o) {
  EXPECT_NE(o.status, DATAHIKE_OK);
  EXPECT_TRUE(o.has_error);
  Value m = E(o.error);
  EXPECT_TRUE(m.is_map()) << o.error;
  const Value* kind = m.get("error/kind");
  EXPECT_TRUE(kind != nullptr && kind->is_keyword()) << o.error;
  if (kind != nullptr && kind->is_keyword()) {
    EXPECT_EQ(kind->as_named()->full, datahike_status_name(o.status));
  }
  const Value* message = m.get("message");
  EXPECT_TRUE(message != nullptr && message->is_string() && !message->as_string().empty())
      << o.error;
  const Value* data = m.get("data");
  EXPECT_TRUE(data != nullptr && data->is_map()) << o.error;
  EXPECT_EQ(m.size(), 3u) << o.error;
  return m;
}
std::string MessageOf(const Outcome& o) {
  Value m = ErrorMap(o);
  const Value* message = m.get("message");
  return message && message->is_string() ? std::string(message->as_string()) : "";
}

// Expects a failure with `status` whose message contains `fragment`.
#define EXPECT_FAILS(outcome, st, fragment)                                         \
  do {                                                                              \
    Outcome o_ = (outcome);                                                         \
    EXPECT_EQ(o_.status, st) << datahike_status_name(o_.status) << " " << o_.error; \
    EXPECT_NE(MessageOf(o_).find(fragment), std::string::npos) << o_.error;         \
  } while (0)

std::string Cfg(const std::string& id, const std::string& extra = "") {
  return "{:store {:backend :memory :id \"" + id + "\"} " + extra + "}";
}

// RAII owners of handles, so that failing tests leak nothing under ASan.
struct Conn {
  datahike_conn* p = nullptr;
  ~Conn() { datahike_release(&p); }
};
struct DbH {
  datahike_db* p = nullptr;
  DbH() = default;
  DbH(DbH&& o) noexcept : p(o.p) { o.p = nullptr; }
  DbH& operator=(DbH&& o) noexcept {
    datahike_db_release(&p);
    p = o.p;
    o.p = nullptr;
    return *this;
  }
  ~DbH() { datahike_db_release(&p); }
};

const char* kSchema =
    "[{:db/ident :name :db/valueType :db.type/string :db/cardinality :db.cardinality/one"
    "  :db/unique :db.unique/identity}"
    " {:db/ident :age :db/valueType :db.type/long :db/cardinality :db.cardinality/one"
    "  :db/index true}"
    " {:db/ident :friend :db/valueType :db.type/ref :db/cardinality :db.cardinality/many}]";

// A stored database with three attributes (entities 1-3) and three people: Alice 4, Bob 5 (a friend
// of Alice) and Charlie 6 (a friend of both), all in transaction 536870914.
class CapiDb : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_ =
        Cfg(std::string("capi-") + ::testing::UnitTest::GetInstance()->current_test_info()->name(),
            ":keep-history? true :schema-flexibility :write");
    char* err = nullptr;
    ASSERT_EQ(datahike_create_database(cfg_.c_str(), &err), DATAHIKE_OK) << err;
    ASSERT_EQ(datahike_connect(cfg_.c_str(), &conn_.p, &err), DATAHIKE_OK) << err;
    Transact(kSchema);
    Transact(
        "[{:db/id \"alice\" :name \"Alice\" :age 20} {:db/id \"bob\" :name \"Bob\" :age 30"
        "  :friend \"alice\"} {:name \"Charlie\" :age 40 :friend [\"alice\" \"bob\"]}]");
  }
  void TearDown() override {
    datahike_release(&conn_.p);
    char* err = nullptr;
    EXPECT_EQ(datahike_delete_database(cfg_.c_str(), &err), DATAHIKE_OK);
    datahike_free(err);
  }
  std::string Transact(const std::string& tx, datahike_format fmt = kEdn) {
    return Ok([&](char** out, char** err) {
      return datahike_transact(conn_.p, tx.c_str(), fmt, out, err);
    });
  }
  DbH Db() {
    DbH h;
    char* err = nullptr;
    EXPECT_EQ(datahike_conn_db(conn_.p, &h.p, &err), DATAHIKE_OK) << err;
    datahike_free(err);
    return h;
  }
  // Runs a query on one db (EDN), returns its result read back.
  Value Q(const datahike_db* db, const std::string& q, const char* args = nullptr) {
    return E(Ok([&](char** out, char** err) {
      return datahike_q(q.c_str(), &db, 1, args, kEdn, out, err);
    }));
  }
  std::string cfg_;
  Conn conn_;
};

// ---- basics -----------------------------------------------------------------------------------

TEST(Capi, VersionAndStatusNames) {
  std::string v = datahike_version();
  int dots = 0;
  for (char c : v) {
    if (c == '.') {
      ++dots;
    } else {
      EXPECT_TRUE(c >= '0' && c <= '9') << v;
    }
  }
  EXPECT_EQ(dots, 2) << v;
  EXPECT_STREQ(datahike_status_name(DATAHIKE_OK), "ok");
  EXPECT_STREQ(datahike_status_name(DATAHIKE_ERROR_PARSE), "parse/error");
  EXPECT_STREQ(datahike_status_name(DATAHIKE_ERROR_SCHEMA), "schema/violation");
  EXPECT_STREQ(datahike_status_name(DATAHIKE_ERROR_TRANSACTION), "transaction/error");
  EXPECT_STREQ(datahike_status_name(DATAHIKE_ERROR_QUERY), "query/error");
  EXPECT_STREQ(datahike_status_name(DATAHIKE_ERROR_NOT_FOUND), "not-found");
  EXPECT_STREQ(datahike_status_name(DATAHIKE_ERROR_STORAGE), "storage/error");
  EXPECT_STREQ(datahike_status_name(DATAHIKE_ERROR_CONFLICT), "conflict");
  EXPECT_STREQ(datahike_status_name(DATAHIKE_ERROR_MISUSE), "misuse");
  EXPECT_STREQ(datahike_status_name(DATAHIKE_ERROR_INTERNAL), "internal");
  datahike_free(nullptr);
}

TEST(Capi, DatabaseLifecycle) {
  std::string cfg = Cfg("capi-lifecycle");
  int exists = -1;
  EXPECT_EQ(Call([&](char**, char** err) {
              return datahike_database_exists(cfg.c_str(), &exists, err);
            }).status,
            DATAHIKE_OK);
  EXPECT_EQ(exists, 0);
  Ok([&](char**, char** err) { return datahike_create_database(cfg.c_str(), err); });
  EXPECT_FAILS(Call([&](char**, char** err) { return datahike_create_database(cfg.c_str(), err); }),
               DATAHIKE_ERROR_CONFLICT, "already exists");
  Ok([&](char**, char** err) { return datahike_database_exists(cfg.c_str(), &exists, err); });
  EXPECT_EQ(exists, 1);
  Conn conn;
  Ok([&](char**, char** err) { return datahike_connect(cfg.c_str(), &conn.p, err); });
  EXPECT_NE(conn.p, nullptr);
  Ok([&](char**, char** err) { return datahike_delete_database(cfg.c_str(), err); });
  Ok([&](char**, char** err) { return datahike_database_exists(cfg.c_str(), &exists, err); });
  EXPECT_EQ(exists, 0);
  // The open connection of a deleted database refuses further use.
  DbH db;
  EXPECT_FAILS(Call([&](char**, char** err) { return datahike_conn_db(conn.p, &db.p, err); }),
               DATAHIKE_ERROR_MISUSE, "deleted");
  EXPECT_EQ(db.p, nullptr);
  datahike_conn* again = nullptr;
  EXPECT_FAILS(Call([&](char**, char** err) { return datahike_connect(cfg.c_str(), &again, err); }),
               DATAHIKE_ERROR_NOT_FOUND, "does not exist");
  EXPECT_EQ(again, nullptr);
  // Deleting a database that does not exist is not an error.
  Ok([&](char**, char** err) { return datahike_delete_database(cfg.c_str(), err); });
}

// A :file database through the ABI: transact, release, reconnect, query the reopened data and its
// history, delete (every file goes).
TEST(Capi, FileDatabaseReopens) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "capi-file-XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  const std::string path = tmpl + "/db";
  const std::string cfg = "{:store {:backend :file :path \"" + path + "\"}}";
  Ok([&](char**, char** err) { return datahike_create_database(cfg.c_str(), err); });
  {
    Conn conn;
    Ok([&](char**, char** err) { return datahike_connect(cfg.c_str(), &conn.p, err); });
    for (const char* tx :
         {"[{:db/ident :name :db/valueType :db.type/string :db/cardinality :db.cardinality/one}]",
          "[{:name \"Ann\"} {:name \"Ben\"}]", "[[:db/retract 2 :name \"Ann\"]]"}) {
      Ok([&](char** out, char** err) {
        return datahike_transact(conn.p, tx, DATAHIKE_FORMAT_EDN, out, err);
      });
    }
  }  // released: the store is flushed and unlocked
  Conn conn;
  Ok([&](char**, char** err) { return datahike_connect(cfg.c_str(), &conn.p, err); });
  DbH db;
  Ok([&](char**, char** err) { return datahike_conn_db(conn.p, &db.p, err); });
  const datahike_db* dbs[] = {db.p};
  const char* q = "[:find ?n :where [_ :name ?n]]";
  EXPECT_EQ(E(Ok([&](char** out, char** err) {
              return datahike_q(q, dbs, 1, nullptr, DATAHIKE_FORMAT_EDN, out, err);
            })),
            E("#{[\"Ben\"]}"));
  DbH hist;
  Ok([&](char**, char** err) { return datahike_history(db.p, &hist.p, err); });
  const datahike_db* hdbs[] = {hist.p};
  EXPECT_EQ(E(Ok([&](char** out, char** err) {
              return datahike_q(q, hdbs, 1, nullptr, DATAHIKE_FORMAT_EDN, out, err);
            })),
            E("#{[\"Ann\"] [\"Ben\"]}"));
  datahike_db_release(&hist.p);
  datahike_db_release(&db.p);
  datahike_release(&conn.p);
  Ok([&](char**, char** err) { return datahike_delete_database(cfg.c_str(), err); });
  EXPECT_FALSE(std::filesystem::exists(path));
  std::filesystem::remove_all(tmpl);
}

TEST(Capi, ConfigErrors) {
  auto create = [](const char* cfg) {
    return Call([&](char**, char** err) { return datahike_create_database(cfg, err); });
  };
  EXPECT_FAILS(create("{:store {:backend :memory :id \"x\"} :bogus 1}"), DATAHIKE_ERROR_MISUSE,
               ":bogus");
  EXPECT_FAILS(create("{:store {:backend :memory :id \"x\"} :keep-history? 3}"),
               DATAHIKE_ERROR_MISUSE, ":keep-history?");
  EXPECT_FAILS(create("{:store {:backend :memory"), DATAHIKE_ERROR_PARSE, "config_edn");
  EXPECT_FAILS(create("{:store {:backend :leveldb :path \"/tmp/capi-x\" :sync? 1}}"),
               DATAHIKE_ERROR_MISUSE, ":sync?");
  EXPECT_FAILS(create("[1 2 3]"), DATAHIKE_ERROR_MISUSE, "");
}

// ---- transactions and db values ---------------------------------------------------------------

TEST_F(CapiDb, TransactReportEdn) {
  Value r = E(Transact("[{:db/id \"d\" :name \"Dana\" :age 50}]"));
  ASSERT_TRUE(r.is_map());
  EXPECT_EQ(S(*r.get("tempids")), "{\"d\" 7, :db/current-tx 536870915}");
  EXPECT_EQ(S(*r.get("db-before")), "{:max-tx 536870914, :max-eid 6}");
  EXPECT_EQ(S(*r.get("db-after")), "{:max-tx 536870915, :max-eid 7}");
  std::set<std::string> rows;
  for (const Value& d : r.get("tx-data")->items()) {
    ASSERT_EQ(d.size(), 5u);
    if (d.items()[1].as_named()->full != "db/txInstant") rows.insert(S(d));
  }
  EXPECT_EQ(rows, (std::set<std::string>{"[7 :name \"Dana\" 536870915 true]",
                                         "[7 :age 50 536870915 true]"}));
  // As in Datahike, the report's tx-meta carries the new commit's id.
  ASSERT_TRUE(r.get("tx-meta")->is_map());
  EXPECT_EQ(r.get("tx-meta")->size(), 1u);
  EXPECT_EQ(r.get("tx-meta")->get("db/commitId")->type(), Type::kUuid);
}

TEST_F(CapiDb, TransactJsonInAndOut) {
  std::string text = Transact(
      "[{\"db/id\": \"d\", \"name\": \"Dana\", \"friend\": [[\":name\", "
      "\"Alice\"]]}, [\":db/add\", \"d\", \":age\", 51]]",
      kJson);
  Value r = json::Read(text);  // JSON out: keywords as ":ns/name", map keys without the colon
  ASSERT_TRUE(r.is_map()) << text;
  EXPECT_NE(text.find("\"tempids\":{\"d\":7"), std::string::npos) << text;
  EXPECT_NE(text.find("[7,\":age\",51,536870915,true]"), std::string::npos) << text;
  EXPECT_NE(text.find("[7,\":friend\",4,536870915,true]"), std::string::npos) << text;
  DbH db = Db();
  EXPECT_EQ(S(Q(db.p, "[:find ?a . :where [?e :name \"Dana\"] [?e :age ?a]]")), "51");
}

TEST_F(CapiDb, TransactArgumentMapWithTxMeta) {
  Transact(
      "[{:db/ident :source :db/valueType :db.type/string :db/cardinality :db.cardinality/one}]");
  Value r = E(Transact("{:tx-data [{:name \"Eve\"}] :tx-meta {:source \"import\"}}"));
  EXPECT_EQ(S(*r.get("tx-meta")->get("source")), "\"import\"");
  DbH db = Db();
  EXPECT_EQ(S(*r.get("tx-meta")->get("db/commitId")),
            Ok([&](char** o, char** e) { return datahike_commit_id(db.p, kEdn, o, e); }));
  EXPECT_EQ(S(Q(db.p, "[:find ?s . :where [?tx :source ?s]]")), "\"import\"");
}

TEST_F(CapiDb, TransactOutReportMayBeNull) {
  Outcome o = Call([&](char**, char** err) {
    return datahike_transact(conn_.p, "[{:name \"Fay\"}]", kEdn, nullptr, err);
  });
  EXPECT_EQ(o.status, DATAHIKE_OK) << o.error;
}

TEST_F(CapiDb, FailedTransactionChangesNothing) {
  DbH before = Db();
  EXPECT_FAILS(Call([&](char** out, char** err) {
                 return datahike_transact(conn_.p, "[{:name \"Zed\" :age \"old\"}]", kEdn, out,
                                          err);
               }),
               DATAHIKE_ERROR_SCHEMA, "Bad entity value");
  EXPECT_FAILS(Call([&](char** out, char** err) {
                 return datahike_transact(conn_.p, "[{:nickname \"Z\"}]", kEdn, out, err);
               }),
               DATAHIKE_ERROR_SCHEMA, ":nickname");
  DbH after = Db();
  EXPECT_EQ(S(Q(after.p, "[:find (count ?e) . :where [?e :name]]")), "3");
  Value m =
      E(Ok([&](char** out, char** err) { return datahike_metrics(after.p, kEdn, out, err); }));
  EXPECT_EQ(S(*m.get("max-tx")), "536870914");
}

TEST_F(CapiDb, ViewsAsOfSinceHistory) {
  Transact("[{:db/id [:name \"Alice\"] :age 21}]");
  DbH now = Db();
  auto view = [&](auto fn, const char* t) {
    DbH v;
    Ok([&](char**, char** err) { return fn(now.p, t, &v.p, err); });
    return v;
  };
  DbH past = view(datahike_as_of, "536870914");
  EXPECT_EQ(S(Q(past.p, "[:find ?a . :where [?e :name \"Alice\"] [?e :age ?a]]")), "20");
  DbH recent = view(datahike_since, "536870914");
  EXPECT_EQ(S(Q(recent.p, "[:find ?a :where [?e :age ?a]]")), "#{[21]}");
  DbH hist;
  Ok([&](char**, char** err) { return datahike_history(now.p, &hist.p, err); });
  Value h = Q(hist.p, "[:find ?a ?added :where [?e :name \"Alice\"] [?e :age ?a _ ?added]]");
  EXPECT_EQ(h.size(), 3u) << S(h);  // 20 asserted, 20 retracted, 21 asserted
  // An instant as the time point: far in the future is the latest value.
  DbH future = view(datahike_as_of, "#inst \"2999-01-01T00:00:00.000-00:00\"");
  EXPECT_EQ(S(Q(future.p, "[:find ?a . :where [?e :name \"Alice\"] [?e :age ?a]]")), "21");
  // Views of views, and bad time points.
  DbH v;
  EXPECT_FAILS(Call([&](char**, char** err) { return datahike_as_of(now.p, "\"x\"", &v.p, err); }),
               DATAHIKE_ERROR_MISUSE, "");
  EXPECT_FAILS(Call([&](char**, char** err) { return datahike_as_of(now.p, "12", &v.p, err); }),
               DATAHIKE_ERROR_MISUSE, "");
  EXPECT_FAILS(Call([&](char**, char** err) { return datahike_since(now.p, "[", &v.p, err); }),
               DATAHIKE_ERROR_PARSE, "t_edn");
  EXPECT_EQ(v.p, nullptr);
}

TEST_F(CapiDb, DbValueOutlivesItsConnectionAndDatabase) {
  DbH db = Db();
  datahike_release(&conn_.p);
  EXPECT_EQ(conn_.p, nullptr);
  char* err = nullptr;
  EXPECT_EQ(datahike_delete_database(cfg_.c_str(), &err), DATAHIKE_OK);
  EXPECT_EQ(S(Q(db.p, "[:find ?n . :where [?e :age 30] [?e :name ?n]]")), "\"Bob\"");
}

TEST(Capi, EmptyDbAndDbWith) {
  DbH empty;
  Ok([&](char**, char** err) {
    return datahike_empty_db("{:friend {:db/valueType :db.type/ref}}", nullptr, &empty.p, err);
  });
  DbH with;
  Value r = E(Ok([&](char** out, char** err) {
    return datahike_db_with(empty.p, "[{:db/id -1 :name \"A\" :friend -2} {:db/id -2 :name \"B\"}]",
                            kEdn, &with.p, out, err);
  }));
  EXPECT_EQ(S(*r.get("tempids")), "{-1 1, -2 2, :db/current-tx 536870913}");
  const datahike_db* dbs[] = {with.p};
  EXPECT_EQ(Ok([&](char** out, char** err) {
              return datahike_q("[:find ?n . :where [?e :friend ?f] [?f :name ?n]]", dbs, 1,
                                nullptr, kEdn, out, err);
            }),
            "\"B\"");
  // The original value is untouched.
  dbs[0] = empty.p;
  EXPECT_EQ(Ok([&](char** out, char** err) {
              return datahike_q("[:find ?e :where [?e :name]]", dbs, 1, nullptr, kEdn, out, err);
            }),
            "#{}");
  // out_report may be NULL; JSON tx-data.
  DbH with2;
  Ok([&](char**, char** err) {
    return datahike_db_with(with.p, "[{\"name\": \"C\"}]", kJson, &with2.p, nullptr, err);
  });
  Value m =
      E(Ok([&](char** out, char** err) { return datahike_metrics(with2.p, kEdn, out, err); }));
  EXPECT_EQ(S(*m.get("count")), "4");
  EXPECT_EQ(S(*m.get("max-eid")), "3");
  // A strict storage-free db refuses attributes not in its schema.
  DbH strict;
  Ok([&](char**, char** err) {
    return datahike_empty_db("{:name {:db/valueType :db.type/string}}",
                             "{:schema-flexibility :write}", &strict.p, err);
  });
  DbH bad;
  EXPECT_FAILS(Call([&](char** out, char** err) {
                 return datahike_db_with(strict.p, "[{:age 3}]", kEdn, &bad.p, out, err);
               }),
               DATAHIKE_ERROR_SCHEMA, ":age");
  EXPECT_EQ(bad.p, nullptr);
  // Bad schema maps and configs.
  EXPECT_FAILS(
      Call([&](char**, char** err) { return datahike_empty_db("[1 2]", nullptr, &bad.p, err); }),
      DATAHIKE_ERROR_SCHEMA, "Schema must be a map");
  EXPECT_FAILS(Call([&](char**, char** err) {
                 return datahike_empty_db(nullptr, "{:store {:backend :memory}}", &bad.p, err);
               }),
               DATAHIKE_ERROR_MISUSE, "");
  // db_with on a view is refused.
  DbH temporal, hist;
  Ok([&](char**, char** err) {
    return datahike_empty_db(nullptr, "{:keep-history? true}", &temporal.p, err);
  });
  Ok([&](char**, char** err) { return datahike_history(temporal.p, &hist.p, err); });
  EXPECT_NE(Call([&](char** out, char** err) {
              return datahike_db_with(hist.p, "[{:name \"D\"}]", kEdn, &bad.p, out, err);
            }).status,
            DATAHIKE_OK);
}

// ---- reading ----------------------------------------------------------------------------------

TEST_F(CapiDb, QueryShapesAndInputs) {
  DbH db = Db();
  EXPECT_EQ(Q(db.p, "[:find ?e ?n ?a :where [?e :name ?n] [?e :age ?a]]"),
            E("#{[4 \"Alice\" 20] [5 \"Bob\" 30] [6 \"Charlie\" 40]}"));
  EXPECT_EQ(S(Q(db.p, "[:find ?n . :in $ ?a :where [?e :age ?a] [?e :name ?n]]", "[30]")),
            "\"Bob\"");
  EXPECT_EQ(
      Q(db.p, "[:find [?n ...] :in $ [?a ...] :where [?e :age ?a] [?e :name ?n]]", "[[20 40]]"),
      E("[\"Alice\" \"Charlie\"]"));
  EXPECT_EQ(Q(db.p, "[:find ?n :keys name :where [?e :age 20] [?e :name ?n]]"),
            E("#{{:name \"Alice\"}}"));
  EXPECT_EQ(Q(db.p, "{:find [(max ?a)] :where [[?e :age ?a]]}"), E("[[40]]"));
  EXPECT_EQ(S(Q(db.p, "{:query [:find ?n :where [?e :name ?n]] :limit 1}").size() == 1
                  ? Value::Bool(true)
                  : Value::Bool(false)),
            "true");
  // Rules through args.
  EXPECT_EQ(Q(db.p, "[:find ?n :in $ % :where (friend-of ?e \"Alice\") [?e :name ?n]]",
              "[[[(friend-of ?a ?n) [?a :friend ?b] [?b :name ?n]]]]"),
            E("#{[\"Bob\"] [\"Charlie\"]}"));
  // Pull in :find.
  EXPECT_EQ(Q(db.p, "[:find (pull ?e [:name]) . :where [?e :age 40]]"), E("{:name \"Charlie\"}"));
}

// datahike_q keeps the last queries' parsed text per thread: many distinct texts, repeated, and a
// malformed one in between, all answer as they should.
TEST_F(CapiDb, ManyDistinctQueriesRepeated) {
  DbH db = Db();
  for (int round = 0; round < 3; ++round) {
    for (int a = 0; a < 150; ++a) {
      std::string q = "[:find ?n . :where [?e :age " + std::to_string(a) + "] [?e :name ?n]]";
      Value r = Q(db.p, q);
      EXPECT_EQ(S(r), a == 20   ? "\"Alice\""
                      : a == 30 ? "\"Bob\""
                      : a == 40 ? "\"Charlie\""
                                : "nil");
      const datahike_db* dbs[] = {db.p};
      EXPECT_EQ(Call([&](char** o, char** e) {
                  return datahike_q("[:find ?e :where", dbs, 1, nullptr, kEdn, o, e);
                }).status,
                DATAHIKE_ERROR_PARSE);
    }
  }
}

TEST_F(CapiDb, QuerySeveralSourcesAndCollections) {
  DbH db = Db();
  DbH other;
  Ok([&](char**, char** err) { return datahike_empty_db(nullptr, nullptr, &other.p, err); });
  DbH other2;
  Ok([&](char**, char** err) {
    return datahike_db_with(other.p, "[{:name \"Alice\" :city \"Oslo\"}]", kEdn, &other2.p, nullptr,
                            err);
  });
  const datahike_db* dbs[] = {db.p, other2.p};
  std::string q =
      "[:find ?a ?c :in $ $2 :where [?e :name ?n] [?e :age ?a] [$2 ?x :name ?n] "
      "[$2 ?x :city ?c]]";
  EXPECT_EQ(E(Ok([&](char** out, char** err) {
              return datahike_q(q.c_str(), dbs, 2, nullptr, kEdn, out, err);
            })),
            E("#{[20 \"Oslo\"]}"));
  // The second source as a collection of tuples in args.
  EXPECT_EQ(E(Ok([&](char** out, char** err) {
              return datahike_q(q.c_str(), dbs, 1, "[[[1 :name \"Bob\"] [1 :city \"Rome\"]]]", kEdn,
                                out, err);
            })),
            E("#{[30 \"Rome\"]}"));
  // No database at all: the query runs over collections only.
  EXPECT_EQ(E(Ok([&](char** out, char** err) {
              return datahike_q("[:find ?x :in [?x ...] :where [(> ?x 1)]]", nullptr, 0,
                                "[[1 2 3]]", kEdn, out, err);
            })),
            E("#{[2] [3]}"));
  // More dbs than $-sources, and too few inputs.
  EXPECT_FAILS(Call([&](char** out, char** err) {
                 return datahike_q("[:find ?e :where [?e :name]]", dbs, 2, nullptr, kEdn, out, err);
               }),
               DATAHIKE_ERROR_MISUSE, "2 databases given");
  EXPECT_FAILS(Call([&](char** out, char** err) {
                 return datahike_q("[:find ?e :where [?e :name]]", nullptr, 0, nullptr, kEdn, out,
                                   err);
               }),
               DATAHIKE_ERROR_QUERY, "Wrong number of inputs");
  EXPECT_FAILS(Call([&](char** out, char** err) {
                 return datahike_q("[:find ?e :in $ ?x :where [?e :name ?x]]", dbs, 1, "[1 2]",
                                   kEdn, out, err);
               }),
               DATAHIKE_ERROR_QUERY, "Wrong number of inputs");
}

TEST_F(CapiDb, QueryJson) {
  DbH db = Db();
  const datahike_db* dbs[] = {db.p};
  std::string text = Ok([&](char** out, char** err) {
    return datahike_q("[:find ?n ?a :in $ ?min :where [?e :name ?n] [?e :age ?a] [(> ?a ?min)]]",
                      dbs, 1, "[25]", kJson, out, err);
  });
  Value v = json::Read(text);
  ASSERT_TRUE(v.is_sequential()) << text;
  EXPECT_EQ(Value::Set(v.items()), E("#{[\"Bob\" 30] [\"Charlie\" 40]}"));
  // Keywords in JSON args and results.
  text = Ok([&](char** out, char** err) {
    return datahike_q("[:find [?a ...] :in $ ?attr :where [?e ?attr \"Alice\"] [?e ?a]]", dbs, 1,
                      "[\":name\"]", kJson, out, err);
  });
  EXPECT_EQ(Value::Set(json::Read(text).items()), E("#{:name :age}")) << text;
}

TEST_F(CapiDb, PullPullManyEntity) {
  DbH db = Db();
  auto pull = [&](const char* pattern, const char* eid, datahike_format fmt = kEdn) {
    return Ok(
        [&](char** out, char** err) { return datahike_pull(db.p, pattern, eid, fmt, out, err); });
  };
  EXPECT_EQ(E(pull("[:name {:friend [:name]}]", "6")),
            E("{:name \"Charlie\" :friend [{:name \"Alice\"} {:name \"Bob\"}]}"));
  EXPECT_EQ(E(pull("[*]", "[:name \"Alice\"]")), E("{:db/id 4 :name \"Alice\" :age 20}"));
  EXPECT_EQ(json::Read(pull("[:name :_friend]", "[\":name\", \"Alice\"]", kJson)),
            json::Read("{\"name\": \"Alice\", \"_friend\": [{\"db/id\": 5}, {\"db/id\": 6}]}"));
  EXPECT_EQ(pull("[:name]", "999"), "nil");
  EXPECT_FAILS(Call([&](char** out, char** err) {
                 return datahike_pull(db.p, "[:name]", "[:name \"Nobody\"]", kEdn, out, err);
               }),
               DATAHIKE_ERROR_NOT_FOUND, "Nothing found");
  EXPECT_EQ(E(Ok([&](char** out, char** err) {
              return datahike_pull_many(db.p, "[:age]", "[4 [:name \"Bob\"] 999]", kEdn, out, err);
            })),
            E("[{:age 20} {:age 30}]"));
  EXPECT_EQ(E(Ok([&](char** out, char** err) {
              return datahike_entity(db.p, "[:name \"Bob\"]", kEdn, out, err);
            })),
            E("{:db/id 5 :name \"Bob\" :age 30 :friend #{{:db/id 4}}}"));
  EXPECT_EQ(
      Ok([&](char** out, char** err) { return datahike_entity(db.p, "999", kEdn, out, err); }),
      "nil");
  EXPECT_EQ(json::Read(Ok([&](char** out, char** err) {
              return datahike_entity(db.p, "4", kJson, out, err);
            })),
            json::Read("{\"db/id\": 4, \"name\": \"Alice\", \"age\": 20}"));
}

TEST_F(CapiDb, DatomsSeekRseekIndexRange) {
  DbH db = Db();
  auto datoms = [&](auto fn, const char* index, const char* comps, datahike_format fmt = kEdn) {
    return Ok([&](char** out, char** err) { return fn(db.p, index, comps, fmt, out, err); });
  };
  EXPECT_EQ(datoms(datahike_datoms, ":eavt", "[4 :age]"), "[[4 :age 20 536870914 true]]");
  EXPECT_EQ(datoms(datahike_datoms, ":eavt", "[4, \":age\"]", kJson),
            "[[4,\":age\",20,536870914,true]]");
  EXPECT_EQ(E(datoms(datahike_datoms, ":avet", "[:age]")).size(), 3u);
  EXPECT_EQ(E(datoms(datahike_datoms, ":aevt", "[:friend 6]")).size(), 2u);
  EXPECT_EQ(E(datoms(datahike_datoms, "eavt", nullptr)).size(),
            E(datoms(datahike_seek_datoms, ":eavt", "[]")).size());
  Value seek = E(datoms(datahike_seek_datoms, ":avet", "[:age 30]"));
  ASSERT_GE(seek.size(), 2u);
  EXPECT_EQ(S(seek.items()[0]), "[5 :age 30 536870914 true]");
  EXPECT_EQ(S(seek.items()[1]), "[6 :age 40 536870914 true]");
  Value rseek = E(datoms(datahike_rseek_datoms, ":avet", "[:age 30]"));
  ASSERT_GE(rseek.size(), 2u);
  EXPECT_EQ(S(rseek.items()[0]), "[5 :age 30 536870914 true]");
  EXPECT_EQ(S(rseek.items()[1]), "[4 :age 20 536870914 true]");
  auto range = [&](const char* attr, const char* lo, const char* hi) {
    return Ok([&](char** out, char** err) {
      return datahike_index_range(db.p, attr, lo, hi, kEdn, out, err);
    });
  };
  EXPECT_EQ(range(":age", "25", "45"), "[[5 :age 30 536870914 true] [6 :age 40 536870914 true]]");
  EXPECT_EQ(E(range(":age", nullptr, "25")).size(), 1u);
  EXPECT_EQ(E(range(":age", "25", nullptr)).size(), 2u);
  EXPECT_EQ(E(range(":name", nullptr, nullptr)).size(), 3u);
  EXPECT_FAILS(Call([&](char** out, char** err) {
                 return datahike_datoms(db.p, ":evat", nullptr, kEdn, out, err);
               }),
               DATAHIKE_ERROR_MISUSE, "unknown index :evat");
  EXPECT_FAILS(Call([&](char** out, char** err) {
                 return datahike_datoms(db.p, ":eavt", "{:e 1}", kEdn, out, err);
               }),
               DATAHIKE_ERROR_MISUSE, "components must be a vector");
}

TEST_F(CapiDb, SchemaAndReverseSchema) {
  DbH db = Db();
  Value s = E(Ok([&](char** out, char** err) { return datahike_schema(db.p, kEdn, out, err); }));
  ASSERT_TRUE(s.is_map());
  ASSERT_NE(s.get("name"), nullptr);
  EXPECT_EQ(S(*s.get("name")->get("db/valueType")), ":db.type/string");
  EXPECT_EQ(S(*s.get("friend")->get("db/cardinality")), ":db.cardinality/many");
  Value rs =
      E(Ok([&](char** out, char** err) { return datahike_reverse_schema(db.p, kEdn, out, err); }));
  ASSERT_TRUE(rs.is_map());
  ASSERT_NE(rs.get("db/unique"), nullptr) << S(rs);
  EXPECT_EQ(*rs.get("db/unique"), E("#{:name}"));
  std::string json =
      Ok([&](char** out, char** err) { return datahike_schema(db.p, kJson, out, err); });
  EXPECT_NE(json.find("\"db/valueType\":\":db.type/string\""), std::string::npos) << json;
}

TEST_F(CapiDb, Metrics) {
  Transact("[{:db/id [:name \"Alice\"] :age 21}]");
  DbH db = Db();
  Value m = E(Ok([&](char** out, char** err) { return datahike_metrics(db.p, kEdn, out, err); }));
  ASSERT_TRUE(m.is_map());
  Value datoms = E(Ok([&](char** out, char** err) {
    return datahike_datoms(db.p, ":eavt", nullptr, kEdn, out, err);
  }));
  EXPECT_EQ(m.get("count")->as_long(), static_cast<int64_t>(datoms.size()));
  EXPECT_EQ(S(*m.get("per-attr-counts")->get(E(":age"))), "3");
  EXPECT_EQ(S(*m.get("per-attr-counts")->get(E(":friend"))), "3");
  EXPECT_EQ(S(*m.get("per-entity-counts")->get(E("4"))), "2");  // Alice: name, age
  // AVET: :db/ident (unique: the three attributes' idents), :name (unique), :age (indexed) and
  // :friend (ref): 3 + 3 + 3 + 3.
  EXPECT_EQ(S(*m.get("avet-count")), "12");
  EXPECT_EQ(S(*m.get("temporal-count")), "2");  // Alice's age 20: the assertion and retraction
  EXPECT_EQ(S(*m.get("temporal-avet-count")), "2");
  EXPECT_EQ(S(*m.get("max-eid")), "6");
  EXPECT_EQ(S(*m.get("max-tx")), "536870915");
  EXPECT_EQ(S(*m.get("transactions")), "3");
  // A storage-free db without history has no temporal counts.
  DbH empty;
  Ok([&](char**, char** err) { return datahike_empty_db(nullptr, nullptr, &empty.p, err); });
  Value e =
      E(Ok([&](char** out, char** err) { return datahike_metrics(empty.p, kEdn, out, err); }));
  EXPECT_EQ(e.get("temporal-count"), nullptr);
  EXPECT_EQ(S(*e.get("count")), "0");
}

// ---- listeners --------------------------------------------------------------------------------

struct Reports {
  std::vector<std::string> texts;
  datahike_conn* conn = nullptr;  // when set, the listener unlistens itself on its first call
  int64_t key = 0;
};
void Record(const char* report, void* user) {
  auto* r = static_cast<Reports*>(user);
  r->texts.push_back(report);
  if (r->conn != nullptr) {
    char* err = nullptr;
    EXPECT_EQ(datahike_unlisten(r->conn, r->key, &err), DATAHIKE_OK);
    datahike_free(err);
  }
}

TEST_F(CapiDb, ListenAndUnlisten) {
  Reports edn_reports, json_reports;
  int64_t k1 = 0, k2 = 0;
  Ok([&](char**, char** err) {
    return datahike_listen(conn_.p, Record, &edn_reports, kEdn, &k1, err);
  });
  Ok([&](char**, char** err) {
    return datahike_listen(conn_.p, Record, &json_reports, kJson, &k2, err);
  });
  EXPECT_NE(k1, k2);
  Transact("[{:name \"Dana\"}]");
  ASSERT_EQ(edn_reports.texts.size(), 1u);
  ASSERT_EQ(json_reports.texts.size(), 1u);
  EXPECT_EQ(S(*E(edn_reports.texts[0]).get("db-after")), "{:max-tx 536870915, :max-eid 7}");
  EXPECT_TRUE(json::Read(json_reports.texts[0]).is_map());
  // A failed transaction reports nothing.
  Call([&](char** out, char** err) {
    return datahike_transact(conn_.p, "[{:age \"x\"}]", kEdn, out, err);
  });
  EXPECT_EQ(edn_reports.texts.size(), 1u);
  // A transaction through another connection to the same database reaches the listener.
  Conn other;
  Ok([&](char**, char** err) { return datahike_connect(cfg_.c_str(), &other.p, err); });
  Ok([&](char** out, char** err) {
    return datahike_transact(other.p, "[{:name \"Eve\"}]", kEdn, out, err);
  });
  EXPECT_EQ(edn_reports.texts.size(), 2u);
  Ok([&](char**, char** err) { return datahike_unlisten(conn_.p, k1, err); });
  Transact("[{:name \"Fay\"}]");
  EXPECT_EQ(edn_reports.texts.size(), 2u);
  EXPECT_EQ(json_reports.texts.size(), 3u);
  // Unknown keys, keys of another connection, a key already removed.
  EXPECT_FAILS(Call([&](char**, char** err) { return datahike_unlisten(conn_.p, k1, err); }),
               DATAHIKE_ERROR_NOT_FOUND, "no listener");
  EXPECT_FAILS(Call([&](char**, char** err) { return datahike_unlisten(other.p, k2, err); }),
               DATAHIKE_ERROR_NOT_FOUND, "no listener");
  // Releasing the connection removes its listeners.
  datahike_release(&conn_.p);
  Ok([&](char** out, char** err) {
    return datahike_transact(other.p, "[{:name \"Gus\"}]", kEdn, out, err);
  });
  EXPECT_EQ(json_reports.texts.size(), 3u);
}

TEST_F(CapiDb, ListenerMayUnlistenItself) {
  Reports once;
  once.conn = conn_.p;
  Ok([&](char**, char** err) {
    return datahike_listen(conn_.p, Record, &once, kEdn, &once.key, err);
  });
  Transact("[{:name \"Dana\"}]");
  Transact("[{:name \"Eve\"}]");
  EXPECT_EQ(once.texts.size(), 1u);
}

// A callback may release the connection its listener was registered on (here a second connection,
// while the transaction runs through the first).
struct Releaser {
  datahike_conn* conn = nullptr;
  int calls = 0;
};
void ReleaseOnCall(const char*, void* user) {
  auto* r = static_cast<Releaser*>(user);
  ++r->calls;
  datahike_release(&r->conn);
}

TEST_F(CapiDb, ListenerMayReleaseItsConnection) {
  Releaser r;
  Ok([&](char**, char** err) { return datahike_connect(cfg_.c_str(), &r.conn, err); });
  int64_t key = 0;
  Ok([&](char**, char** err) {
    return datahike_listen(r.conn, ReleaseOnCall, &r, kEdn, &key, err);
  });
  Transact("[{:name \"Dana\"}]");
  EXPECT_EQ(r.conn, nullptr);
  Transact("[{:name \"Eve\"}]");
  EXPECT_EQ(r.calls, 1);
}

// A datahike_db_listener: records the report and, read through the borrowed handles, the names in
// the db before and after; keeps a copy of the last db_after.
struct DbReports {
  std::vector<std::string> texts;
  std::vector<std::string> before_names, after_names;
  datahike_db* kept = nullptr;
  ~DbReports() { datahike_db_release(&kept); }
};
std::string Names(const datahike_db* db) {
  char *out = nullptr, *err = nullptr;
  EXPECT_EQ(datahike_q("[:find [?n ...] :where [_ :name ?n]]", &db, 1, nullptr, kEdn, &out, &err),
            DATAHIKE_OK)
      << err;
  std::set<std::string> names;
  Value result = E(out ? out : "[]");
  for (const Value& v : result.items()) names.insert(std::string(v.as_string()));
  datahike_free(out);
  datahike_free(err);
  std::string joined;
  for (const std::string& n : names) joined += (joined.empty() ? "" : " ") + n;
  return joined;
}
void RecordDbs(const char* report, const datahike_db* before, const datahike_db* after,
               void* user) {
  auto* r = static_cast<DbReports*>(user);
  r->texts.push_back(report);
  r->before_names.push_back(Names(before));
  r->after_names.push_back(Names(after));
  datahike_db_release(&r->kept);
  char* err = nullptr;
  EXPECT_EQ(datahike_db_copy(after, &r->kept, &err), DATAHIKE_OK);
  datahike_free(err);
}

TEST_F(CapiDb, TransactDbs) {
  DbH before, after;
  std::string report = Ok([&](char** out, char** err) {
    return datahike_transact_dbs(conn_.p, "[{:name \"Dana\"}]", kEdn, out, &before.p, &after.p,
                                 err);
  });
  EXPECT_EQ(S(*E(report).get("db-after")), "{:max-tx 536870915, :max-eid 7}");
  EXPECT_EQ(Names(before.p), "Alice Bob Charlie");
  EXPECT_EQ(Names(after.p), "Alice Bob Charlie Dana");
  // db-after is the connection's new value, a commit: the one the report's :tx-meta names.
  EXPECT_EQ(Ok([&](char** out, char** err) { return datahike_commit_id(after.p, kEdn, out, err); }),
            S(*E(report).get("tx-meta")->get(E(":db/commitId"))));
  EXPECT_EQ(S(Q(after.p, "[:find ?e . :where [?e :name \"Dana\"]]")), "7");
  // The values stay valid after the connection moves on and is released.
  Transact("[{:name \"Eve\"}]");
  EXPECT_EQ(Names(after.p), "Alice Bob Charlie Dana");
  // Every out pointer may be NULL; JSON in and out.
  DbH only_after;
  Ok([&](char**, char** err) {
    return datahike_transact_dbs(conn_.p, "[{\"name\": \"Fay\"}]", kJson, nullptr, nullptr,
                                 &only_after.p, err);
  });
  EXPECT_EQ(Names(only_after.p), "Alice Bob Charlie Dana Eve Fay");
  DbH only_before;
  std::string json_report = Ok([&](char** out, char** err) {
    return datahike_transact_dbs(conn_.p, "[{\"name\": \"Gus\"}]", kJson, out, &only_before.p,
                                 nullptr, err);
  });
  EXPECT_TRUE(json::Read(json_report).is_map());
  EXPECT_EQ(Names(only_before.p), "Alice Bob Charlie Dana Eve Fay");
  Ok([&](char**, char** err) {
    return datahike_transact_dbs(conn_.p, "[{:name \"Hal\"}]", kEdn, nullptr, nullptr, nullptr,
                                 err);
  });
  DbH now = Db();
  EXPECT_EQ(Names(now.p), "Alice Bob Charlie Dana Eve Fay Gus Hal");
  // A failed transaction returns nothing through any out parameter and changes nothing.
  DbH b2, a2;
  b2.p = a2.p = reinterpret_cast<datahike_db*>(&b2);  // garbage on entry
  EXPECT_FAILS(Call([&](char** out, char** err) {
                 return datahike_transact_dbs(conn_.p, "[{:age \"x\"}]", kEdn, out, &b2.p,
                                              &a2.p, err);
               }),
               DATAHIKE_ERROR_SCHEMA, "");
  EXPECT_EQ(b2.p, nullptr);
  EXPECT_EQ(a2.p, nullptr);
  b2.p = a2.p = reinterpret_cast<datahike_db*>(&b2);
  EXPECT_FAILS(Call([&](char** out, char** err) {
                 return datahike_transact_dbs(conn_.p, "[{:name", kEdn, out, &b2.p, &a2.p, err);
               }),
               DATAHIKE_ERROR_PARSE, "datahike_transact_dbs: tx_data");
  EXPECT_EQ(b2.p, nullptr);
  EXPECT_EQ(a2.p, nullptr);
  now = Db();
  EXPECT_EQ(Names(now.p), "Alice Bob Charlie Dana Eve Fay Gus Hal");
}

TEST_F(CapiDb, DbCopy) {
  DbH original = Db();
  DbH copy;
  Ok([&](char**, char** err) { return datahike_db_copy(original.p, &copy.p, err); });
  ASSERT_NE(copy.p, nullptr);
  EXPECT_NE(copy.p, original.p);
  // Either handle may go first: the value lives on in the other.
  datahike_db_release(&original.p);
  Transact("[{:name \"Dana\"}]");
  EXPECT_EQ(Names(copy.p), "Alice Bob Charlie");
  // Copies of views keep the view.
  DbH hist, hist_copy;
  Ok([&](char**, char** err) { return datahike_history(copy.p, &hist.p, err); });
  Ok([&](char**, char** err) { return datahike_db_copy(hist.p, &hist_copy.p, err); });
  datahike_db_release(&hist.p);
  EXPECT_EQ(S(Q(hist_copy.p, "[:find (count ?e) . :where [?e :name]]")), "3");
  // A released handle variable is NULL: copying it is misuse, and nothing is returned.
  DbH out;
  out.p = reinterpret_cast<datahike_db*>(&out);  // garbage on entry
  EXPECT_FAILS(Call([&](char**, char** err) { return datahike_db_copy(original.p, &out.p, err); }),
               DATAHIKE_ERROR_MISUSE, "db is NULL");
  EXPECT_EQ(out.p, nullptr);
}

TEST_F(CapiDb, ListenDbs) {
  DbReports with_dbs;
  Reports plain;
  int64_t k1 = 0, k2 = 0;
  Ok([&](char**, char** err) {
    return datahike_listen_dbs(conn_.p, RecordDbs, &with_dbs, kEdn, &k1, err);
  });
  Ok([&](char**, char** err) {
    return datahike_listen(conn_.p, Record, &plain, kJson, &k2, err);
  });
  EXPECT_NE(k1, k2);  // one key space for both kinds
  Transact("[{:name \"Dana\"}]");
  ASSERT_EQ(with_dbs.texts.size(), 1u);
  EXPECT_EQ(S(*E(with_dbs.texts[0]).get("db-after")), "{:max-tx 536870915, :max-eid 7}");
  EXPECT_EQ(with_dbs.before_names[0], "Alice Bob Charlie");
  EXPECT_EQ(with_dbs.after_names[0], "Alice Bob Charlie Dana");
  EXPECT_EQ(plain.texts.size(), 1u);
  // The copy taken in the callback outlives it.
  ASSERT_NE(with_dbs.kept, nullptr);
  EXPECT_EQ(Names(with_dbs.kept), "Alice Bob Charlie Dana");
  // A failed transaction reports nothing; another connection's transaction does.
  Call([&](char** out, char** err) {
    return datahike_transact(conn_.p, "[{:age \"x\"}]", kEdn, out, err);
  });
  EXPECT_EQ(with_dbs.texts.size(), 1u);
  Conn other;
  Ok([&](char**, char** err) { return datahike_connect(cfg_.c_str(), &other.p, err); });
  Ok([&](char** out, char** err) {
    return datahike_transact(other.p, "[{:name \"Eve\"}]", kEdn, out, err);
  });
  ASSERT_EQ(with_dbs.texts.size(), 2u);
  EXPECT_EQ(with_dbs.before_names[1], "Alice Bob Charlie Dana");
  EXPECT_EQ(with_dbs.after_names[1], "Alice Bob Charlie Dana Eve");
  // JSON reports.
  DbReports json_dbs;
  int64_t k3 = 0;
  Ok([&](char**, char** err) {
    return datahike_listen_dbs(conn_.p, RecordDbs, &json_dbs, kJson, &k3, err);
  });
  Transact("[{:name \"Fay\"}]");
  ASSERT_EQ(json_dbs.texts.size(), 1u);
  EXPECT_TRUE(json::Read(json_dbs.texts[0]).is_map());
  // unlisten removes either kind, once.
  Ok([&](char**, char** err) { return datahike_unlisten(conn_.p, k1, err); });
  Ok([&](char**, char** err) { return datahike_unlisten(conn_.p, k2, err); });
  Transact("[{:name \"Gus\"}]");
  EXPECT_EQ(with_dbs.texts.size(), 3u);
  EXPECT_EQ(plain.texts.size(), 3u);
  EXPECT_EQ(json_dbs.texts.size(), 2u);
  EXPECT_FAILS(Call([&](char**, char** err) { return datahike_unlisten(conn_.p, k1, err); }),
               DATAHIKE_ERROR_NOT_FOUND, "no listener");
  EXPECT_FAILS(Call([&](char**, char** err) { return datahike_unlisten(other.p, k3, err); }),
               DATAHIKE_ERROR_NOT_FOUND, "no listener");
  // Releasing the connection removes its listeners of both kinds.
  datahike_release(&conn_.p);
  Ok([&](char** out, char** err) {
    return datahike_transact(other.p, "[{:name \"Hal\"}]", kEdn, out, err);
  });
  EXPECT_EQ(json_dbs.texts.size(), 2u);
}

// ---- misuse -----------------------------------------------------------------------------------

TEST_F(CapiDb, NullArgumentsAreMisuse) {
  DbH db = Db();
  const datahike_db* dbs[] = {db.p};
  const char* cfg = cfg_.c_str();
  datahike_conn* c = conn_.p;
  const datahike_db* d = db.p;
  datahike_db* out_db = nullptr;
  datahike_conn* out_conn = nullptr;
  int exists = 0;
  int64_t key = 0;
  struct Case {
    const char* what;
    std::function<datahike_status(char**, char**)> call;
  };
  // Each call has exactly one required pointer argument NULL.
  std::vector<Case> cases = {
      {"config_edn", [&](char**, char** e) { return datahike_create_database(nullptr, e); }},
      {"config_edn", [&](char**, char** e) { return datahike_delete_database(nullptr, e); }},
      {"config_edn",
       [&](char**, char** e) { return datahike_database_exists(nullptr, &exists, e); }},
      {"out_exists", [&](char**, char** e) { return datahike_database_exists(cfg, nullptr, e); }},
      {"config_edn", [&](char**, char** e) { return datahike_connect(nullptr, &out_conn, e); }},
      {"out_conn", [&](char**, char** e) { return datahike_connect(cfg, nullptr, e); }},
      {"conn", [&](char** o, char** e) { return datahike_transact(nullptr, "[]", kEdn, o, e); }},
      {"tx_data", [&](char** o, char** e) { return datahike_transact(c, nullptr, kEdn, o, e); }},
      {"conn", [&](char**, char** e) { return datahike_conn_db(nullptr, &out_db, e); }},
      {"out_db", [&](char**, char** e) { return datahike_conn_db(c, nullptr, e); }},
      {"conn",
       [&](char**, char** e) { return datahike_listen(nullptr, Record, nullptr, kEdn, &key, e); }},
      {"callback",
       [&](char**, char** e) { return datahike_listen(c, nullptr, nullptr, kEdn, &key, e); }},
      {"out_key",
       [&](char**, char** e) { return datahike_listen(c, Record, nullptr, kEdn, nullptr, e); }},
      {"conn",
       [&](char** o, char** e) {
         return datahike_transact_dbs(nullptr, "[]", kEdn, o, &out_db, &out_db, e);
       }},
      {"tx_data",
       [&](char** o, char** e) {
         return datahike_transact_dbs(c, nullptr, kEdn, o, &out_db, &out_db, e);
       }},
      {"conn",
       [&](char**, char** e) {
         return datahike_listen_dbs(nullptr, RecordDbs, nullptr, kEdn, &key, e);
       }},
      {"callback",
       [&](char**, char** e) { return datahike_listen_dbs(c, nullptr, nullptr, kEdn, &key, e); }},
      {"out_key",
       [&](char**, char** e) {
         return datahike_listen_dbs(c, RecordDbs, nullptr, kEdn, nullptr, e);
       }},
      {"conn", [&](char**, char** e) { return datahike_unlisten(nullptr, 1, e); }},
      {"db", [&](char**, char** e) { return datahike_db_copy(nullptr, &out_db, e); }},
      {"out_db", [&](char**, char** e) { return datahike_db_copy(d, nullptr, e); }},
      {"db", [&](char**, char** e) { return datahike_as_of(nullptr, "536870913", &out_db, e); }},
      {"t_edn", [&](char**, char** e) { return datahike_as_of(d, nullptr, &out_db, e); }},
      {"out_db", [&](char**, char** e) { return datahike_as_of(d, "536870913", nullptr, e); }},
      {"db", [&](char**, char** e) { return datahike_since(nullptr, "536870913", &out_db, e); }},
      {"t_edn", [&](char**, char** e) { return datahike_since(d, nullptr, &out_db, e); }},
      {"out_db", [&](char**, char** e) { return datahike_since(d, "536870913", nullptr, e); }},
      {"db", [&](char**, char** e) { return datahike_history(nullptr, &out_db, e); }},
      {"out_db", [&](char**, char** e) { return datahike_history(d, nullptr, e); }},
      {"out_db", [&](char**, char** e) { return datahike_empty_db(nullptr, nullptr, nullptr, e); }},
      {"db",
       [&](char** o, char** e) { return datahike_db_with(nullptr, "[]", kEdn, &out_db, o, e); }},
      {"tx_data",
       [&](char** o, char** e) { return datahike_db_with(d, nullptr, kEdn, &out_db, o, e); }},
      {"out_db",
       [&](char** o, char** e) { return datahike_db_with(d, "[]", kEdn, nullptr, o, e); }},
      {"query_edn",
       [&](char** o, char** e) { return datahike_q(nullptr, dbs, 1, nullptr, kEdn, o, e); }},
      {"dbs",
       [&](char** o, char** e) {
         return datahike_q("[:find ?e :where [?e]]", nullptr, 1, nullptr, kEdn, o, e);
       }},
      {"dbs[0]",
       [&](char** o, char** e) {
         const datahike_db* none[] = {nullptr};
         return datahike_q("[:find ?e :where [?e]]", none, 1, nullptr, kEdn, o, e);
       }},
      {"out_result",
       [&](char**, char** e) {
         return datahike_q("[:find ?e :where [?e]]", dbs, 1, nullptr, kEdn, nullptr, e);
       }},
      {"db", [&](char** o, char** e) { return datahike_pull(nullptr, "[*]", "1", kEdn, o, e); }},
      {"pattern_edn",
       [&](char** o, char** e) { return datahike_pull(d, nullptr, "1", kEdn, o, e); }},
      {"eid", [&](char** o, char** e) { return datahike_pull(d, "[*]", nullptr, kEdn, o, e); }},
      {"out_result",
       [&](char**, char** e) { return datahike_pull(d, "[*]", "1", kEdn, nullptr, e); }},
      {"db",
       [&](char** o, char** e) { return datahike_pull_many(nullptr, "[*]", "[1]", kEdn, o, e); }},
      {"pattern_edn",
       [&](char** o, char** e) { return datahike_pull_many(d, nullptr, "[1]", kEdn, o, e); }},
      {"eids",
       [&](char** o, char** e) { return datahike_pull_many(d, "[*]", nullptr, kEdn, o, e); }},
      {"out_result",
       [&](char**, char** e) { return datahike_pull_many(d, "[*]", "[1]", kEdn, nullptr, e); }},
      {"db", [&](char** o, char** e) { return datahike_entity(nullptr, "1", kEdn, o, e); }},
      {"eid", [&](char** o, char** e) { return datahike_entity(d, nullptr, kEdn, o, e); }},
      {"out_result", [&](char**, char** e) { return datahike_entity(d, "1", kEdn, nullptr, e); }},
      {"db",
       [&](char** o, char** e) { return datahike_datoms(nullptr, ":eavt", nullptr, kEdn, o, e); }},
      {"index",
       [&](char** o, char** e) { return datahike_datoms(d, nullptr, nullptr, kEdn, o, e); }},
      {"out_result",
       [&](char**, char** e) { return datahike_datoms(d, ":eavt", nullptr, kEdn, nullptr, e); }},
      {"db", [&](char** o,
                 char** e) { return datahike_seek_datoms(nullptr, ":eavt", nullptr, kEdn, o, e); }},
      {"index",
       [&](char** o, char** e) { return datahike_seek_datoms(d, nullptr, nullptr, kEdn, o, e); }},
      {"db",
       [&](char** o, char** e) {
         return datahike_rseek_datoms(nullptr, ":eavt", nullptr, kEdn, o, e);
       }},
      {"out_result",
       [&](char**, char** e) {
         return datahike_rseek_datoms(d, ":eavt", nullptr, kEdn, nullptr, e);
       }},
      {"db",
       [&](char** o, char** e) {
         return datahike_index_range(nullptr, ":age", nullptr, nullptr, kEdn, o, e);
       }},
      {"attr_edn",
       [&](char** o, char** e) {
         return datahike_index_range(d, nullptr, nullptr, nullptr, kEdn, o, e);
       }},
      {"out_result",
       [&](char**, char** e) {
         return datahike_index_range(d, ":age", nullptr, nullptr, kEdn, nullptr, e);
       }},
      {"db", [&](char** o, char** e) { return datahike_schema(nullptr, kEdn, o, e); }},
      {"out_result", [&](char**, char** e) { return datahike_schema(d, kEdn, nullptr, e); }},
      {"db", [&](char** o, char** e) { return datahike_reverse_schema(nullptr, kEdn, o, e); }},
      {"out_result",
       [&](char**, char** e) { return datahike_reverse_schema(d, kEdn, nullptr, e); }},
      {"db", [&](char** o, char** e) { return datahike_metrics(nullptr, kEdn, o, e); }},
      {"out_result", [&](char**, char** e) { return datahike_metrics(d, kEdn, nullptr, e); }},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.what);
    Outcome o = Call(k.call);
    EXPECT_EQ(o.status, DATAHIKE_ERROR_MISUSE) << o.error;
    std::string message = MessageOf(o);
    EXPECT_NE(message.find(std::string(k.what) + " is NULL"), std::string::npos) << message;
    EXPECT_EQ(message.rfind("datahike_", 0), 0u) << "names the function: " << message;
  }
  EXPECT_EQ(out_db, nullptr);
  EXPECT_EQ(out_conn, nullptr);
  // Optional arguments accept NULL, and out_error itself may be NULL.
  EXPECT_EQ(datahike_create_database(nullptr, nullptr), DATAHIKE_ERROR_MISUSE);
  EXPECT_EQ(datahike_database_exists(cfg, &exists, nullptr), DATAHIKE_OK);
  EXPECT_EQ(exists, 1);
  // NULL-safe releases.
  datahike_release(nullptr);
  datahike_conn* none = nullptr;
  datahike_release(&none);
  datahike_db_release(nullptr);
  datahike_db* no_db = nullptr;
  datahike_db_release(&no_db);
}

// Values outside the enums (legal in C, undefined in C++) are tested by header_c_test.c.

TEST_F(CapiDb, MalformedTextIsAParseErrorNamingTheArgument) {
  DbH db = Db();
  const datahike_db* dbs[] = {db.p};
  DbH out_db;
  EXPECT_FAILS(Call([&](char** o, char** e) {
                 return datahike_transact(conn_.p, "[{:name \"x\"", kEdn, o, e);
               }),
               DATAHIKE_ERROR_PARSE, "datahike_transact: tx_data: EDN parse error at line 1");
  EXPECT_FAILS(Call([&](char** o, char** e) {
                 return datahike_transact(conn_.p, "[{\"name\": }]", kJson, o, e);
               }),
               DATAHIKE_ERROR_PARSE, "tx_data");
  EXPECT_FAILS(Call([&](char** o, char** e) {
                 return datahike_transact(conn_.p, "[{:name \"x\"}]", kJson, o, e);
               }),
               DATAHIKE_ERROR_PARSE, "tx_data");
  EXPECT_FAILS(Call([&](char** o, char** e) {
                 return datahike_q("[:find ?e :where [?e :name]", dbs, 1, nullptr, kEdn, o, e);
               }),
               DATAHIKE_ERROR_PARSE, "query_edn");
  EXPECT_FAILS(Call([&](char** o, char** e) {
                 return datahike_q("[:find ?e :in $ ?n :where [?e :name ?n]]", dbs, 1, "[\"Alice",
                                   kEdn, o, e);
               }),
               DATAHIKE_ERROR_PARSE, "args");
  EXPECT_FAILS(Call([&](char** o, char** e) {
                 return datahike_q("[:find ?e :in $ ?n :where [?e :name ?n]]", dbs, 1, "[1,]",
                                   kJson, o, e);
               }),
               DATAHIKE_ERROR_PARSE, "args");
  EXPECT_FAILS(
      Call([&](char** o, char** e) { return datahike_pull(db.p, "[:name", "1", kEdn, o, e); }),
      DATAHIKE_ERROR_PARSE, "pattern_edn");
  EXPECT_FAILS(Call([&](char** o, char** e) {
                 return datahike_pull_many(db.p, "[:name]", "[1 2", kEdn, o, e);
               }),
               DATAHIKE_ERROR_PARSE, "eids");
  EXPECT_FAILS(Call([&](char** o, char** e) { return datahike_entity(db.p, "", kEdn, o, e); }),
               DATAHIKE_ERROR_PARSE, "eid");
  EXPECT_FAILS(
      Call([&](char** o, char** e) { return datahike_datoms(db.p, ":eavt", "[1", kEdn, o, e); }),
      DATAHIKE_ERROR_PARSE, "components");
  EXPECT_FAILS(Call([&](char** o, char** e) {
                 return datahike_index_range(db.p, ":age", "{", nullptr, kEdn, o, e);
               }),
               DATAHIKE_ERROR_PARSE, "start");
  EXPECT_FAILS(
      Call([&](char**, char** e) { return datahike_empty_db("{:a", nullptr, &out_db.p, e); }),
      DATAHIKE_ERROR_PARSE, "schema_edn");
  EXPECT_FAILS(Call([&](char** o, char** e) {
                 return datahike_db_with(db.p, "1 2", kEdn, &out_db.p, o, e);
               }),
               DATAHIKE_ERROR_PARSE, "tx_data");
  // Invalid UTF-8 and embedded control bytes are text errors, never crashes.
  Outcome o = Call([&](char** o, char** e) {
    return datahike_transact(conn_.p, "[{:name \"\xff\xfe\"}]", kEdn, o, e);
  });
  EXPECT_NE(o.status, DATAHIKE_ERROR_INTERNAL) << o.error;
}

TEST_F(CapiDb, WrongTypesAndUnknownAttributes) {
  DbH db = Db();
  const datahike_db* dbs[] = {db.p};
  auto status_of = [](const Outcome& o) {
    ErrorMap(o);
    return o.status;
  };
  auto tx = [&](const char* text) {
    return Call([&](char** o, char** e) { return datahike_transact(conn_.p, text, kEdn, o, e); });
  };
  EXPECT_EQ(status_of(tx("42")), DATAHIKE_ERROR_TRANSACTION);
  EXPECT_EQ(status_of(tx("{:name \"x\"}")), DATAHIKE_ERROR_TRANSACTION);
  EXPECT_EQ(status_of(tx("[{:name 42}]")), DATAHIKE_ERROR_SCHEMA);
  EXPECT_EQ(status_of(tx("[[:db/add 1]]")), DATAHIKE_ERROR_TRANSACTION);
  EXPECT_EQ(status_of(tx("[{:unknown 1}]")), DATAHIKE_ERROR_SCHEMA);
  EXPECT_EQ(status_of(tx("[[:db/add \"x\" :unknown 1]]")), DATAHIKE_ERROR_SCHEMA);
  auto q = [&](const char* query, const char* args) {
    return Call([&](char** o, char** e) { return datahike_q(query, dbs, 1, args, kEdn, o, e); });
  };
  EXPECT_EQ(status_of(q("42", nullptr)), DATAHIKE_ERROR_QUERY);
  EXPECT_EQ(status_of(q("[:find ?e :where [?e :name] [(unknown-fn ?e)]]", nullptr)),
            DATAHIKE_ERROR_QUERY);
  EXPECT_FAILS(q("[:find ?e :in $ ?x :where [?e :name ?x]]", "{:x 1}"), DATAHIKE_ERROR_MISUSE,
               "args must be a vector");
  EXPECT_EQ(status_of(q("[:find ?e :in $ [?x ...] :where [?e :name ?x]]", "[42]")),
            DATAHIKE_ERROR_QUERY);
  // Unknown attributes in reads are simply absent.
  EXPECT_EQ(S(Q(db.p, "[:find ?e :where [?e :unknown]]")), "#{}");
  EXPECT_EQ(
      Ok([&](char** o, char** e) { return datahike_pull(db.p, "[:unknown]", "4", kEdn, o, e); }),
      "nil");
  Outcome p = Call([&](char** o, char** e) { return datahike_pull(db.p, "42", "4", kEdn, o, e); });
  EXPECT_EQ(status_of(p), DATAHIKE_ERROR_QUERY);
  p = Call([&](char** o, char** e) { return datahike_pull_many(db.p, "[*]", "42", kEdn, o, e); });
  EXPECT_EQ(status_of(p), DATAHIKE_ERROR_MISUSE);
  p = Call([&](char** o, char** e) {
    return datahike_index_range(db.p, "\"age\"", nullptr, nullptr, kEdn, o, e);
  });
  EXPECT_EQ(p.status, DATAHIKE_OK) << p.error;  // a string names no attribute: no datoms
  EXPECT_EQ(p.out, "[]");
}

// Every function with unusual values in every argument: never a crash, never an internal error,
// always a well-formed error map on failure.
TEST_F(CapiDb, GarbageInEveryArgumentIsNeverInternal) {
  DbH db = Db();
  DbH hist;
  Ok([&](char**, char** err) { return datahike_history(db.p, &hist.p, err); });
  const std::vector<const char*> junk = {"",
                                         " ",
                                         "nil",
                                         "42",
                                         "-1",
                                         "0",
                                         "9223372036854775807",
                                         "99999999999999999999",
                                         "1.5",
                                         "\"s\"",
                                         ":kw",
                                         ":db/id",
                                         "sym",
                                         "$",
                                         "%",
                                         "[]",
                                         "{}",
                                         "#{}",
                                         "()",
                                         "[nil]",
                                         "[1 2 3]",
                                         "[[1 2]]",
                                         "[:a \"b\"]",
                                         "{:a 1}",
                                         "#inst \"2020-01-01\"",
                                         "#uuid \"00000000-0000-0000-0000-000000000000\"",
                                         "[:db/add -1 :name \"x\"]",
                                         "[[:db/retractEntity 1]]",
                                         "[{:db/id 1}]",
                                         "[*]",
                                         "[:*]",
                                         "[{:friend ...}]",
                                         "[(limit :friend -1)]",
                                         "[:find]",
                                         "[:find ?e]",
                                         "[:find ?e :where]",
                                         "{:query 1}",
                                         "{:query \"[:find\"}",
                                         "[:find ?e :in $ $ :where [?e]]",
                                         "\\a",
                                         "#_ 1",
                                         "[\"\\u0000\"]",
                                         "{\"a\": 1}",
                                         "[1,]",
                                         "\"\\:x\"",
                                         "\":x\"",
                                         "[\":name\", \"Alice\"]"};
  const std::vector<datahike_format> formats = {kEdn, kJson};
  int calls = 0;
  auto check = [&](const Outcome& o, const std::string& what) {
    ++calls;
    EXPECT_NE(o.status, DATAHIKE_ERROR_INTERNAL) << what << ": " << o.error;
    if (o.status != DATAHIKE_OK) ErrorMap(o);
  };
  for (const char* j : junk) {
    for (datahike_format f : formats) {
      std::string w = std::string("«") + j + "» fmt " + std::to_string(f);
      for (const datahike_db* d :
           {static_cast<const datahike_db*>(db.p), static_cast<const datahike_db*>(hist.p)}) {
        const datahike_db* dbs[] = {d};
        check(Call([&](char** o, char** e) { return datahike_q(j, dbs, 1, nullptr, f, o, e); }),
              "q query " + w);
        check(Call([&](char** o, char** e) {
                return datahike_q("[:find ?e :in $ ?x :where [?e :name ?x]]", dbs, 1, j, f, o, e);
              }),
              "q args " + w);
        check(Call([&](char** o, char** e) { return datahike_pull(d, j, "4", f, o, e); }),
              "pull pattern " + w);
        check(Call([&](char** o, char** e) { return datahike_pull(d, "[*]", j, f, o, e); }),
              "pull eid " + w);
        check(Call([&](char** o, char** e) { return datahike_pull_many(d, j, "[4]", f, o, e); }),
              "pull-many pattern " + w);
        check(Call([&](char** o, char** e) { return datahike_pull_many(d, "[*]", j, f, o, e); }),
              "pull-many eids " + w);
        check(Call([&](char** o, char** e) { return datahike_entity(d, j, f, o, e); }),
              "entity " + w);
        for (const char* index : {":eavt", ":aevt", ":avet"}) {
          check(Call([&](char** o, char** e) { return datahike_datoms(d, index, j, f, o, e); }),
                std::string("datoms ") + index + " " + w);
          check(
              Call([&](char** o, char** e) { return datahike_seek_datoms(d, index, j, f, o, e); }),
              std::string("seek ") + index + " " + w);
          check(
              Call([&](char** o, char** e) { return datahike_rseek_datoms(d, index, j, f, o, e); }),
              std::string("rseek ") + index + " " + w);
        }
        check(Call([&](char** o, char** e) { return datahike_datoms(d, j, nullptr, f, o, e); }),
              "datoms index " + w);
        check(Call([&](char** o, char** e) {
                return datahike_index_range(d, j, nullptr, nullptr, f, o, e);
              }),
              "index-range attr " + w);
        check(Call([&](char** o, char** e) {
                return datahike_index_range(d, ":age", j, j, f, o, e);
              }),
              "index-range bounds " + w);
        DbH v;
        check(Call([&](char**, char** e) { return datahike_as_of(d, j, &v.p, e); }), "as-of " + w);
        DbH v2;
        check(Call([&](char**, char** e) { return datahike_since(d, j, &v2.p, e); }), "since " + w);
        DbH v3;
        check(Call([&](char** o, char** e) { return datahike_db_with(d, j, f, &v3.p, o, e); }),
              "db-with " + w);
      }
      check(Call([&](char** o, char** e) { return datahike_transact(conn_.p, j, f, o, e); }),
            "transact " + w);
      DbH v;
      check(Call([&](char**, char** e) { return datahike_empty_db(j, nullptr, &v.p, e); }),
            "empty-db schema " + w);
      DbH v2;
      check(Call([&](char**, char** e) { return datahike_empty_db(nullptr, j, &v2.p, e); }),
            "empty-db config " + w);
      int exists = 0;
      check(Call([&](char**, char** e) { return datahike_database_exists(j, &exists, e); }),
            "exists " + w);
      datahike_conn* c = nullptr;
      Outcome o = Call([&](char**, char** e) { return datahike_connect(j, &c, e); });
      check(o, "connect " + w);
      datahike_release(&c);
    }
  }
  EXPECT_GT(calls, 1000);
}

TEST_F(CapiDb, ReleasedConnectionHandles) {
  datahike_conn* copy = conn_.p;
  datahike_release(&conn_.p);
  EXPECT_EQ(conn_.p, nullptr);
  datahike_release(&conn_.p);  // NULL now: nothing happens
  // A stale copy of the handle is detected, by every call, and releasing it again is a no-op.
  DbH db;
  EXPECT_FAILS(Call([&](char**, char** e) { return datahike_conn_db(copy, &db.p, e); }),
               DATAHIKE_ERROR_MISUSE, "released");
  EXPECT_FAILS(Call([&](char** o, char** e) {
                 return datahike_transact(copy, "[{:name \"x\"}]", kEdn, o, e);
               }),
               DATAHIKE_ERROR_MISUSE, "released");
  int64_t key = 0;
  EXPECT_FAILS(
      Call([&](char**, char** e) { return datahike_listen(copy, Record, nullptr, kEdn, &key, e); }),
      DATAHIKE_ERROR_MISUSE, "released");
  EXPECT_FAILS(Call([&](char**, char** e) { return datahike_unlisten(copy, 1, e); }),
               DATAHIKE_ERROR_MISUSE, "released");
  DbH before, after;
  before.p = after.p = reinterpret_cast<datahike_db*>(&copy);  // garbage: must be cleared
  EXPECT_FAILS(Call([&](char** o, char** e) {
                 return datahike_transact_dbs(copy, "[{:name \"x\"}]", kEdn, o, &before.p,
                                              &after.p, e);
               }),
               DATAHIKE_ERROR_MISUSE, "released");
  EXPECT_EQ(before.p, nullptr);
  EXPECT_EQ(after.p, nullptr);
  EXPECT_FAILS(Call([&](char**, char** e) {
                 return datahike_listen_dbs(copy, RecordDbs, nullptr, kEdn, &key, e);
               }),
               DATAHIKE_ERROR_MISUSE, "released");
  datahike_release(&copy);
  EXPECT_EQ(copy, nullptr);
  // A made-up handle is refused the same way.
  auto* bogus = reinterpret_cast<datahike_conn*>(uintptr_t{0x1234});
  EXPECT_FAILS(Call([&](char**, char** e) { return datahike_conn_db(bogus, &db.p, e); }),
               DATAHIKE_ERROR_MISUSE, "invalid");
  datahike_release(&bogus);
  // The database is still there: connect again.
  Ok([&](char**, char** e) { return datahike_connect(cfg_.c_str(), &conn_.p, e); });
  db = Db();
  EXPECT_EQ(S(Q(db.p, "[:find (count ?e) . :where [?e :name]]")), "3");
}

TEST_F(CapiDb, ErrorMapFormat) {
  DbH db = Db();
  const datahike_db* dbs[] = {db.p};
  Outcome o = Call([&](char** out, char** err) {
    return datahike_q("[:find ?e :where [?e :name] [(no-such-fn ?e)]]", dbs, 1, nullptr, kEdn, out,
                      err);
  });
  Value m = ErrorMap(o);
  EXPECT_EQ(S(*m.get("error/kind")), ":query/error");
  // The keys in this order, always all three.
  std::vector<std::string> keys;
  for (const auto& [k, v] : m.entries()) keys.push_back(S(k));
  EXPECT_EQ(keys, (std::vector<std::string>{":error/kind", ":message", ":data"}));
  // Data of the engine's errors comes through.
  o = Call([&](char**, char** err) { return datahike_create_database(cfg_.c_str(), err); });
  m = ErrorMap(o);
  EXPECT_EQ(S(*m.get("error/kind")), ":conflict");
  EXPECT_NE(m.get("data")->get("store"), nullptr) << o.error;
  // Messages with quotes and newlines survive the round trip.
  o = Call([&](char** out, char** err) {
    return datahike_transact(conn_.p, "[{:name \"a\\\"b\\nc\" :age \"\\\"\"}]", kEdn, out, err);
  });
  EXPECT_NE(MessageOf(o).find("\"\\\"\""), std::string::npos) << o.error;
  // Misuse errors name the function in :data.
  o = Call([&](char**, char** err) { return datahike_history(nullptr, nullptr, err); });
  EXPECT_EQ(S(*ErrorMap(o).get("data")), "{:function \"datahike_history\"}");
}

// ---- threads ----------------------------------------------------------------------------------

// Readers hold db values and query them while a writer transacts; each transaction adds two datoms
// (:pair/left n and :pair/right n on one new entity), so every reader sees both or neither, and a
// held value never changes.
TEST_F(CapiDb, ReadersSeeWholeTransactionsOnly) {
  constexpr int kTransactions = 2000;
  constexpr int kReaders = 4;
  std::atomic<bool> done{false};
  std::atomic<int> bad{0}, reads{0};
  auto reader = [&] {
    for (int mine = 0; !done.load() || mine < 20; ++mine) {
      DbH db = Db();
      const datahike_db* dbs[] = {db.p};
      auto count = [&](const char* attr) {
        std::string q = std::string("[:find (count ?e) . :where [?e ") + attr + "]]";
        char *out = nullptr, *err = nullptr;
        if (datahike_q(q.c_str(), dbs, 1, nullptr, kEdn, &out, &err) != DATAHIKE_OK) {
          ++bad;
          datahike_free(err);
          return std::string("error");
        }
        std::string s = out;
        datahike_free(out);
        return s;
      };
      std::string left = count(":pair/left"), right = count(":pair/right");
      if (left != right) ++bad;
      // The held value answers the same again, however far the writer got meanwhile.
      if (count(":pair/left") != left) ++bad;
      char *out = nullptr, *err = nullptr;
      if (datahike_datoms(db.p, ":aevt", "[:pair/right]", kEdn, &out, &err) != DATAHIKE_OK) ++bad;
      datahike_free(out);
      datahike_free(err);
      ++reads;
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < kReaders; ++i) threads.emplace_back(reader);
  for (int i = 0; i < kTransactions; ++i) {
    std::string tx =
        "[{:pair/left " + std::to_string(i) + " :pair/right " + std::to_string(i) + "}]";
    char* err = nullptr;
    // Schema-on-write: declare the two attributes first.
    if (i == 0) {
      Transact(
          "[{:db/ident :pair/left :db/valueType :db.type/long :db/cardinality "
          ":db.cardinality/one} {:db/ident :pair/right :db/valueType :db.type/long "
          ":db/cardinality :db.cardinality/one}]");
    }
    EXPECT_EQ(datahike_transact(conn_.p, tx.c_str(), kEdn, nullptr, &err), DATAHIKE_OK) << err;
    datahike_free(err);
  }
  done = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(reads.load(), 0);
  DbH db = Db();
  EXPECT_EQ(S(Q(db.p, "[:find (count ?e) . :where [?e :pair/right]]")),
            std::to_string(kTransactions));
}

// One thread releases a connection while others use (copies of) its handle: every call either
// works or reports a released handle.
TEST_F(CapiDb, ReleaseWhileOtherThreadsUseTheHandle) {
  datahike_conn* shared = conn_.p;
  std::atomic<int> ok{0}, refused{0}, other{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < 200; ++i) {
        char* err = nullptr;
        datahike_status st;
        if (t == 0) {
          st = datahike_transact(shared, "[{:name \"T\"}]", kEdn, nullptr, &err);
        } else {
          datahike_db* db = nullptr;
          st = datahike_conn_db(shared, &db, &err);
          datahike_db_release(&db);
        }
        if (st == DATAHIKE_OK) {
          ++ok;
        } else if (st == DATAHIKE_ERROR_MISUSE) {
          ++refused;
        } else {
          ++other;
        }
        datahike_free(err);
      }
    });
  }
  go = true;
  std::this_thread::sleep_for(std::chrono::milliseconds(1));
  datahike_release(&conn_.p);
  for (auto& t : threads) t.join();
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(ok.load() + refused.load(), 600);
}

// ---- branches and commits -------------------------------------------------------------------

// The commit id of a db handle, read back (nil when not a commit).
Value CommitIdOf(const datahike_db* db) {
  return E(Ok([&](char** o, char** e) { return datahike_commit_id(db, kEdn, o, e); }));
}

TEST_F(CapiDb, BranchesWorkflow) {
  EXPECT_EQ(Ok([&](char** o, char** e) { return datahike_branches(conn_.p, kEdn, o, e); }),
            "#{:db}");
  DbH pinned = Db();
  Value pinned_id = CommitIdOf(pinned.p);
  ASSERT_EQ(pinned_id.type(), Type::kUuid);
  Ok([&](char**, char** e) { return datahike_branch(conn_.p, ":db", ":feature", e); });
  Value names = E(Ok([&](char** o, char** e) { return datahike_branches(conn_.p, kEdn, o, e); }));
  EXPECT_EQ(S(names), S(E("#{:db :feature}")));
  Value json_names =
      json::Read(Ok([&](char** o, char** e) { return datahike_branches(conn_.p, kJson, o, e); }));
  EXPECT_EQ(json_names.items().size(), 2u);

  // A connection to :feature transacts there; :db keeps its value.
  std::string feature_cfg = cfg_.substr(0, cfg_.size() - 1) + " :branch :feature}";
  Conn feature;
  Ok([&](char**, char** e) { return datahike_connect(feature_cfg.c_str(), &feature.p, e); });
  Value report = E(Ok([&](char** o, char** e) {
    return datahike_transact(feature.p, "[{:name \"Dora\"}]", kEdn, o, e);
  }));
  Value feature_head = *report.get("tx-meta")->get("db/commitId");
  EXPECT_EQ(feature_head.type(), Type::kUuid);
  const char* count = "[:find (count ?e) . :where [?e :name]]";
  DbH db = Db();
  EXPECT_EQ(S(Q(db.p, count)), "3");
  EXPECT_EQ(S(CommitIdOf(db.p)), S(pinned_id));
  DbH fdb;
  Ok([&](char**, char** e) { return datahike_branch_db(conn_.p, ":feature", &fdb.p, e); });
  EXPECT_EQ(S(Q(fdb.p, count)), "4");
  EXPECT_EQ(S(CommitIdOf(fdb.p)), S(feature_head));
  EXPECT_EQ(S(E(Ok([&](char** o, char** e) {
              return datahike_parent_commit_ids(fdb.p, kEdn, o, e);
            }))),
            "#{" + S(pinned_id) + "}");

  // Open a commit by id; branch from it.
  std::string pinned_text = S(pinned_id);
  DbH cdb;
  Ok([&](char**, char** e) { return datahike_commit_db(conn_.p, pinned_text.c_str(), &cdb.p, e); });
  EXPECT_EQ(S(Q(cdb.p, count)), "3");
  Ok([&](char**, char** e) {
    return datahike_branch(conn_.p, pinned_text.c_str(), ":snapshot", e);
  });

  // Merge :feature into :db: one commit with both heads as parents.
  std::string merge_report = Ok([&](char** o, char** e) {
    return datahike_merge(conn_.p, "#{:feature}", "[{\"name\": \"Dora\"}]", kJson, o, e);
  });
  EXPECT_NE(merge_report.find("commitId"), std::string::npos) << merge_report;
  db = Db();
  EXPECT_EQ(S(Q(db.p, count)), "4");
  Value parents = E(Ok([&](char** o, char** e) {
    return datahike_parent_commit_ids(db.p, kEdn, o, e);
  }));
  EXPECT_EQ(S(parents), S(Value::Set({pinned_id, feature_head})));
  Value history = E(Ok([&](char** o, char** e) {
    return datahike_branch_history(conn_.p, ":db", kEdn, o, e);
  }));
  EXPECT_EQ(S(history.items()[0]), S(CommitIdOf(db.p)));
  EXPECT_EQ(history.items().size(), 5u);  // merge, feature's commit, 2 SetUp txs, creation
  // A merge without a report.
  Ok([&](char**, char** e) {
    return datahike_merge(conn_.p, "[:snapshot]", "[]", kEdn, nullptr, e);
  });

  // Delete :feature; its connection then fails; :db cannot be deleted.
  Ok([&](char**, char** e) { return datahike_delete_branch(conn_.p, ":feature", e); });
  EXPECT_FAILS(Call([&](char** o, char** e) {
                 return datahike_transact(feature.p, "[]", kEdn, o, e);
               }),
               DATAHIKE_ERROR_NOT_FOUND, "does not exist");
  EXPECT_FAILS(Call([&](char**, char** e) { return datahike_delete_branch(conn_.p, ":db", e); }),
               DATAHIKE_ERROR_MISUSE, "main :db branch");
}

TEST_F(CapiDb, ForceBranchAndNonCommits) {
  DbH db = Db();
  DbH with;
  Ok([&](char** o, char** e) {
    return datahike_db_with(db.p, "[{:name \"Eve\"}]", kEdn, &with.p, o, e);
  });
  EXPECT_EQ(S(CommitIdOf(with.p)), "nil");
  EXPECT_EQ(Ok([&](char** o, char** e) { return datahike_commit_id(with.p, kJson, o, e); }),
            "null");
  EXPECT_EQ(Ok([&](char** o, char** e) { return datahike_parent_commit_ids(with.p, kEdn, o, e); }),
            "nil");
  Ok([&](char**, char** e) { return datahike_force_branch(with.p, ":forced", "[:db]", e); });
  DbH forced;
  Ok([&](char**, char** e) { return datahike_branch_db(conn_.p, ":forced", &forced.p, e); });
  EXPECT_EQ(S(Q(forced.p, "[:find (count ?e) . :where [?e :name]]")), "4");
  EXPECT_EQ(CommitIdOf(forced.p).type(), Type::kUuid);
  DbH hist;
  Ok([&](char**, char** e) { return datahike_history(db.p, &hist.p, e); });
  EXPECT_EQ(S(CommitIdOf(hist.p)), "nil");
  EXPECT_FAILS(Call([&](char**, char** e) { return datahike_force_branch(hist.p, ":x", "[:db]", e); }),
               DATAHIKE_ERROR_MISUSE, "current value");
  DbH empty;
  Ok([&](char**, char** e) { return datahike_empty_db(nullptr, nullptr, &empty.p, e); });
  EXPECT_EQ(S(CommitIdOf(empty.p)), "nil");
  EXPECT_FAILS(
      Call([&](char**, char** e) { return datahike_force_branch(empty.p, ":x", "[:db]", e); }),
      DATAHIKE_ERROR_MISUSE, "live database");
  EXPECT_FAILS(Call([&](char**, char** e) { return datahike_force_branch(db.p, ":x", "[]", e); }),
               DATAHIKE_ERROR_MISUSE, "non-empty");
}

TEST_F(CapiDb, BranchMisuse) {
  const char* unknown = "#uuid \"00000000-0000-4000-8000-000000000000\"";
  DbH db;
  // Unknown names and ids.
  EXPECT_FAILS(Call([&](char**, char** e) { return datahike_branch(conn_.p, ":nope", ":x", e); }),
               DATAHIKE_ERROR_NOT_FOUND, "Branch :nope does not exist");
  EXPECT_FAILS(Call([&](char**, char** e) { return datahike_branch(conn_.p, unknown, ":x", e); }),
               DATAHIKE_ERROR_NOT_FOUND, "does not exist");
  EXPECT_FAILS(Call([&](char**, char** e) { return datahike_commit_db(conn_.p, unknown, &db.p, e); }),
               DATAHIKE_ERROR_NOT_FOUND, "does not exist");
  EXPECT_EQ(db.p, nullptr);
  EXPECT_FAILS(Call([&](char**, char** e) { return datahike_branch_db(conn_.p, ":nope", &db.p, e); }),
               DATAHIKE_ERROR_NOT_FOUND, "does not exist");
  EXPECT_FAILS(Call([&](char**, char** e) { return datahike_delete_branch(conn_.p, ":nope", e); }),
               DATAHIKE_ERROR_NOT_FOUND, "does not exist");
  EXPECT_FAILS(Call([&](char** o, char** e) {
                 return datahike_merge(conn_.p, "[:nope]", "[]", kEdn, o, e);
               }),
               DATAHIKE_ERROR_NOT_FOUND, "does not exist");
  EXPECT_FAILS(Call([&](char** o, char** e) {
                 return datahike_branch_history(conn_.p, ":nope", kEdn, o, e);
               }),
               DATAHIKE_ERROR_NOT_FOUND, "does not exist");
  std::string nope_cfg = cfg_.substr(0, cfg_.size() - 1) + " :branch :nope}";
  Conn c;
  EXPECT_FAILS(Call([&](char**, char** e) { return datahike_connect(nope_cfg.c_str(), &c.p, e); }),
               DATAHIKE_ERROR_NOT_FOUND, "does not exist");
  // Existing branch.
  EXPECT_FAILS(Call([&](char**, char** e) { return datahike_branch(conn_.p, ":db", ":db", e); }),
               DATAHIKE_ERROR_CONFLICT, "already exists");
  // Wrong types and malformed text.
  EXPECT_FAILS(Call([&](char**, char** e) { return datahike_branch(conn_.p, ":db", "\"x\"", e); }),
               DATAHIKE_ERROR_MISUSE, "keyword");
  EXPECT_FAILS(Call([&](char**, char** e) { return datahike_branch(conn_.p, "42", ":x", e); }),
               DATAHIKE_ERROR_MISUSE, "commit uuid");
  EXPECT_FAILS(Call([&](char**, char** e) { return datahike_commit_db(conn_.p, ":db", &db.p, e); }),
               DATAHIKE_ERROR_MISUSE, "uuid");
  EXPECT_FAILS(Call([&](char**, char** e) { return datahike_branch(conn_.p, "[:db", ":x", e); }),
               DATAHIKE_ERROR_PARSE, "from_edn");
  EXPECT_FAILS(Call([&](char** o, char** e) {
                 return datahike_merge(conn_.p, ":db", "[]", kEdn, o, e);
               }),
               DATAHIKE_ERROR_MISUSE, "non-empty collection");
  EXPECT_FAILS(Call([&](char** o, char** e) {
                 return datahike_merge(conn_.p, "[:db]", "[]", static_cast<datahike_format>(7), o, e);
               }),
               DATAHIKE_ERROR_MISUSE, "format");
  // NULLs.
  EXPECT_FAILS(Call([&](char** o, char** e) { return datahike_branches(nullptr, kEdn, o, e); }),
               DATAHIKE_ERROR_MISUSE, "conn is NULL");
  EXPECT_FAILS(Call([&](char**, char** e) { return datahike_branches(conn_.p, kEdn, nullptr, e); }),
               DATAHIKE_ERROR_MISUSE, "out_result is NULL");
  EXPECT_FAILS(Call([&](char**, char** e) { return datahike_branch(conn_.p, nullptr, ":x", e); }),
               DATAHIKE_ERROR_MISUSE, "from_edn is NULL");
  EXPECT_FAILS(Call([&](char**, char** e) { return datahike_branch(conn_.p, ":db", nullptr, e); }),
               DATAHIKE_ERROR_MISUSE, "new_branch_edn is NULL");
  EXPECT_FAILS(Call([&](char**, char** e) { return datahike_delete_branch(conn_.p, nullptr, e); }),
               DATAHIKE_ERROR_MISUSE, "branch_edn is NULL");
  EXPECT_FAILS(Call([&](char**, char** e) { return datahike_force_branch(nullptr, ":x", "[:db]", e); }),
               DATAHIKE_ERROR_MISUSE, "db is NULL");
  EXPECT_FAILS(Call([&](char** o, char** e) { return datahike_commit_id(nullptr, kEdn, o, e); }),
               DATAHIKE_ERROR_MISUSE, "db is NULL");
  EXPECT_FAILS(Call([&](char** o, char** e) { return datahike_parent_commit_ids(nullptr, kEdn, o, e); }),
               DATAHIKE_ERROR_MISUSE, "db is NULL");
  EXPECT_FAILS(Call([&](char**, char** e) { return datahike_branch_db(conn_.p, ":db", nullptr, e); }),
               DATAHIKE_ERROR_MISUSE, "out_db is NULL");
  EXPECT_FAILS(Call([&](char**, char** e) { return datahike_commit_db(conn_.p, nullptr, &db.p, e); }),
               DATAHIKE_ERROR_MISUSE, "commit_id_edn is NULL");
  EXPECT_FAILS(Call([&](char** o, char** e) { return datahike_merge(conn_.p, nullptr, "[]", kEdn, o, e); }),
               DATAHIKE_ERROR_MISUSE, "parents_edn is NULL");
  // Released handles.
  datahike_conn* copy = conn_.p;
  datahike_release(&conn_.p);
  EXPECT_FAILS(Call([&](char** o, char** e) { return datahike_branches(copy, kEdn, o, e); }),
               DATAHIKE_ERROR_MISUSE, "released");
  EXPECT_FAILS(Call([&](char**, char** e) { return datahike_branch(copy, ":db", ":x", e); }),
               DATAHIKE_ERROR_MISUSE, "released");
  EXPECT_FAILS(Call([&](char**, char** e) { return datahike_delete_branch(copy, ":x", e); }),
               DATAHIKE_ERROR_MISUSE, "released");
  EXPECT_FAILS(Call([&](char** o, char** e) { return datahike_merge(copy, "[:db]", "[]", kEdn, o, e); }),
               DATAHIKE_ERROR_MISUSE, "released");
  EXPECT_FAILS(Call([&](char**, char** e) { return datahike_branch_db(copy, ":db", &db.p, e); }),
               DATAHIKE_ERROR_MISUSE, "released");
  EXPECT_FAILS(Call([&](char**, char** e) { return datahike_commit_db(copy, unknown, &db.p, e); }),
               DATAHIKE_ERROR_MISUSE, "released");
  EXPECT_FAILS(Call([&](char** o, char** e) { return datahike_branch_history(copy, ":db", kEdn, o, e); }),
               DATAHIKE_ERROR_MISUSE, "released");
  EXPECT_EQ(db.p, nullptr);
  Ok([&](char**, char** e) { return datahike_connect(cfg_.c_str(), &conn_.p, e); });
}

}  // namespace
}  // namespace datahike::capi_testing
