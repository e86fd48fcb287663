// Durable databases (:file and :leveldb) through core/api: reopening, replay, release, the single
// writer, damaged files, and a crash test (a child process SIGKILLed while it transacts).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/api/connection.h"
#include "core/storage/error_codes.h"
#include "tests/core/test_util.h"

namespace datahike {
namespace {

namespace fs = std::filesystem;
using testing::E;
using testing::S;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "durable-test-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Every datom of an index as text, in the index's order.
std::vector<std::string> Dump(const DbPtr& db, IndexOrder order) {
  std::vector<std::string> out;
  for (const Datom& d : db->SearchAll(order, Pattern{})) out.push_back(S(DatomToValue(d)));
  return out;
}
Pattern EA(std::optional<int64_t> e, const char* attr) {
  Pattern p;
  p.e = e;
  p.a = AttrOf(Kw(attr));
  return p;
}

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// The three orders hold the same datoms.
void ExpectIndicesAgree(const DbPtr& db) {
  std::vector<std::string> eavt = Sorted(Dump(db, IndexOrder::kEavt));
  EXPECT_EQ(eavt, Sorted(Dump(db, IndexOrder::kAevt)));
  EXPECT_EQ(eavt, Sorted(Dump(db, IndexOrder::kAvet)));
}

struct Snapshot {
  std::vector<std::string> eavt, aevt, avet, history, as_of;
  std::string schema;
  int64_t max_eid, max_tx;
  bool operator==(const Snapshot&) const = default;
};
Snapshot Take(const DbPtr& db, int64_t as_of_tx) {
  Snapshot s;
  s.eavt = Dump(db, IndexOrder::kEavt);
  s.aevt = Dump(db, IndexOrder::kAevt);
  s.avet = Dump(db, IndexOrder::kAvet);
  s.history = Dump(db->History(), IndexOrder::kEavt);
  s.as_of = Dump(db->AsOf(Value::Long(as_of_tx)), IndexOrder::kEavt);
  std::vector<std::string> attrs;
  for (const auto& [id, a] : db->schema().attributes()) {
    attrs.push_back(std::string(KeywordById(id)->full) + (a.many ? " many" : "") +
                    (a.unique != Unique::kNone ? " unique" : "") + (a.is_ref() ? " ref" : ""));
  }
  std::sort(attrs.begin(), attrs.end());
  for (const auto& a : attrs) s.schema += a + ";";
  s.max_eid = db->max_eid();
  s.max_tx = db->max_tx();
  return s;
}

std::string Config(const std::string& backend, const std::string& path,
                   const std::string& extra = "") {
  return "{:store {:backend :" + backend + " :path \"" + path + "\"" + extra + "}}";
}

const char* kSchema =
    "[{:db/ident :name :db/valueType :db.type/string :db/cardinality :db.cardinality/one "
    "  :db/unique :db.unique/identity}"
    " {:db/ident :age :db/valueType :db.type/long :db/cardinality :db.cardinality/one}"
    " {:db/ident :tags :db/valueType :db.type/keyword :db/cardinality :db.cardinality/many}"
    " {:db/ident :friend :db/valueType :db.type/ref :db/cardinality :db.cardinality/many}]";

class Durable : public ::testing::TestWithParam<std::string> {
 protected:
  std::string Cfg(const std::string& extra = "") { return Config(GetParam(), dir_.path() + "/db", extra); }
  TempDir dir_;
};

TEST_P(Durable, LifecycleCreateExistsDelete) {
  Value cfg = E(Cfg());
  EXPECT_FALSE(api::DatabaseExists(cfg));
  EXPECT_THROW(api::Connection::Connect(cfg), Error);
  api::CreateDatabase(cfg);
  EXPECT_TRUE(api::DatabaseExists(cfg));
  try {
    api::CreateDatabase(cfg);
    ADD_FAILURE() << "created twice";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kConflict);
  }
  {
    auto conn = api::Connection::Connect(cfg);
    EXPECT_TRUE(api::DatabaseExists(cfg));
    conn->Transact(E(kSchema));
    conn->Release();
  }
  api::DeleteDatabase(cfg);
  EXPECT_FALSE(api::DatabaseExists(cfg));
  EXPECT_FALSE(fs::exists(dir_.path() + "/db"));
  api::DeleteDatabase(cfg);  // absent: a no-op
}

TEST_P(Durable, ConfigIsValidated) {
  for (const char* extra : {" :flush-every 0", " :sync? 1", " :bogus 1", " :cache-bytes -1"}) {
    try {
      api::CreateDatabase(E(Cfg(extra)));
      ADD_FAILURE() << extra;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kMisuse) << e.message();
    }
  }
}

TEST_P(Durable, ReopenPersistsCurrentHistorySchemaAndBasis) {
  Value cfg = E(Cfg(" :flush-every 3"));
  api::CreateDatabase(cfg);
  Snapshot before;
  int64_t mid_tx = 0;
  Value first_commit;
  {
    auto conn = api::Connection::Connect(cfg);
    conn->Transact(E(kSchema));
    conn->Transact(E("[{:name \"Alice\" :age 30 :tags [:a :b]} {:name \"Bob\" :age 40}]"));
    mid_tx = conn->Db()->max_tx();
    conn->Transact(E("[{:db/id [:name \"Alice\"] :age 31 :friend [[:name \"Bob\"]]}]"));
    conn->Transact(E("[[:db/retract [:name \"Alice\"] :tags :a]]"));
    conn->Transact(E("[[:db/retractEntity [:name \"Bob\"]]]"));
    conn->Transact(E("[{:name \"Carol\" :age 7}]"));
    conn->Transact(E("[[:db/purge [:name \"Carol\"] :age 7]]"));
    before = Take(conn->Db(), mid_tx);
    first_commit = api::CommitId(*conn->Db());
    conn->Release();
  }
  auto conn = api::Connection::Connect(cfg);
  DbPtr db = conn->Db();
  EXPECT_EQ(Take(db, mid_tx), before);
  ExpectIndicesAgree(db);
  EXPECT_EQ(S(api::CommitId(*db)), S(first_commit));
  // The reopened database continues: ids go on from the stored basis, the schema is enforced.
  TxReport r = conn->Transact(E("[{:name \"Dave\" :age 5}]"));
  EXPECT_EQ(r.db_after->max_tx(), before.max_tx + 1);
  EXPECT_EQ(r.db_after->max_eid(), before.max_eid + 1);
  EXPECT_THROW(conn->Transact(E("[{:name \"Eve\" :age \"old\"}]")), Error);
  EXPECT_THROW(conn->Transact(E("[{:undefined 1}]")), Error);
  conn->Release();
}

TEST_P(Durable, ManySmallTransactionsEqualTheMemoryResult) {
  Value cfg = E(Cfg(" :flush-every 37"));
  Value mem_cfg = E("{:store {:backend :memory :id \"durable-many\"}}");
  api::CreateDatabase(cfg);
  api::CreateDatabase(mem_cfg);
  auto mem = api::Connection::Connect(mem_cfg);
  std::vector<std::string> txs = {kSchema};
  std::mt19937 rng(7);
  for (int i = 0; i < 600; ++i) {
    const int who = static_cast<int>(rng() % 50);
    switch (rng() % 4) {
      case 0:
      case 1:
        txs.push_back("[{:name \"p" + std::to_string(who) + "\" :age " + std::to_string(i) +
                      " :tags [:t" + std::to_string(i % 7) + "]}]");
        break;
      case 2:
        txs.push_back("[[:db/retract [:name \"p" + std::to_string(who) + "\"] :tags :t" +
                      std::to_string(i % 7) + "]]");
        break;
      default:
        txs.push_back("[{:name \"p" + std::to_string(who) + "\" :friend [[:name \"p" +
                      std::to_string((who + 1) % 50) + "\"]]}]");
    }
  }
  Snapshot durable_state;
  {
    auto conn = api::Connection::Connect(cfg);
    for (const std::string& tx : txs) {
      std::string mem_err, dur_err;
      try {
        mem->Transact(E(tx));
      } catch (const Error& e) {
        mem_err = e.message();
      }
      try {
        conn->Transact(E(tx));
      } catch (const Error& e) {
        dur_err = e.message();
      }
      ASSERT_EQ(mem_err, dur_err) << tx;
    }
    durable_state = Take(conn->Db(), kTx0 + 300);
    conn->Release();
  }
  auto conn = api::Connection::Connect(cfg);
  Snapshot reopened = Take(conn->Db(), kTx0 + 300);
  EXPECT_EQ(reopened, durable_state);
  // The same datoms as in memory, but for the transactions' instants.
  auto strip = [](std::vector<std::string> v) {
    std::vector<std::string> out;
    for (const std::string& s : v) {
      if (s.find(":db/txInstant") == std::string::npos) out.push_back(s);
    }
    return out;
  };
  Snapshot in_memory = Take(mem->Db(), kTx0 + 300);
  EXPECT_EQ(strip(reopened.eavt), strip(in_memory.eavt));
  EXPECT_EQ(strip(reopened.avet), strip(in_memory.avet));
  EXPECT_EQ(strip(reopened.history), strip(in_memory.history));
  EXPECT_EQ(strip(reopened.as_of), strip(in_memory.as_of));
  EXPECT_EQ(reopened.max_eid, in_memory.max_eid);
  EXPECT_EQ(reopened.max_tx, in_memory.max_tx);
  ExpectIndicesAgree(conn->Db());
  conn->Release();
  mem->Release();
  api::DeleteDatabase(mem_cfg);
}

TEST_P(Durable, ConnectionsShareTheWriterAndReleaseFreesTheLock) {
  Value cfg = E(Cfg());
  api::CreateDatabase(cfg);
  auto a = api::Connection::Connect(cfg);
  auto b = api::Connection::Connect(cfg);
  a->Transact(E(kSchema));
  EXPECT_EQ(a->Db(), b->Db());  // one state
  b->Transact(E("[{:name \"x\"}]"));
  EXPECT_EQ(a->Db()->max_tx(), kTx0 + 2);
  a->Release();
  EXPECT_THROW(a->Transact(E("[]")), Error);
  b->Transact(E("[{:name \"y\"}]"));  // still open through b
  DbPtr held = b->Db();
  b->Release();
  // Released: another opener (here: a fresh open in this process) gets the store at once.
  auto c = api::Connection::Connect(cfg);
  EXPECT_EQ(c->Db()->max_tx(), kTx0 + 3);
  EXPECT_EQ(Dump(c->Db(), IndexOrder::kEavt), Dump(held, IndexOrder::kEavt));
  c->Release();
  // A value held past the release still reads (its store is reopened read-only on demand).
  EXPECT_EQ(held->SearchAll(IndexOrder::kAevt, Pattern{}).size(),
            Dump(held, IndexOrder::kEavt).size());
}

TEST_P(Durable, ListenersAndConcurrentWritersShareSyncs) {
  Value cfg = E(Cfg(" :flush-every 50"));
  api::CreateDatabase(cfg);
  auto conn = api::Connection::Connect(cfg);
  conn->Transact(E(kSchema));
  std::atomic<int> heard{0};
  conn->Listen([&](const TxReport&) { ++heard; });
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        conn->Transact(E("[{:name \"t" + std::to_string(t) + "-" + std::to_string(i) + "\"}]"));
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(heard.load(), 200);
  Snapshot s = Take(conn->Db(), kTx0 + 1);
  conn->Release();
  auto again = api::Connection::Connect(cfg);
  EXPECT_EQ(Take(again->Db(), kTx0 + 1), s);
  EXPECT_EQ(again->Db()->max_tx(), kTx0 + 201);
  again->Release();
}

TEST_P(Durable, BranchOperationsAreRefusedClearly) {
  Value cfg = E(Cfg());
  api::CreateDatabase(cfg);
  auto conn = api::Connection::Connect(cfg);
  try {
    conn->CreateBranch(E(":db"), E(":other"));
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("not yet supported"), std::string::npos);
  }
  EXPECT_EQ(conn->BranchHistory(E(":db")).size(), 1u);
  conn->Release();
}

// The second process of SecondWriterProcessIsLockedOut: this test binary run again with
// DURABLE_TEST_CONNECT=<config> tries to connect and exits 0 on :storage/locked, before main.
const bool kSecondWriterChild = [] {
  const char* cfg = std::getenv("DURABLE_TEST_CONNECT");
  if (cfg == nullptr) return false;
  int code = 1;
  try {
    api::Connection::Connect(E(cfg));
    code = 2;
  } catch (const Error& e) {
    code = storage::StorageErrorCode(e) == "storage/locked" && e.kind() == ErrorKind::kConflict
               ? 0
               : 3;
    std::fprintf(stderr, "second writer: %s\n", e.message().c_str());
  } catch (...) {
    code = 4;
  }
  std::fflush(stderr);
  ::_exit(code);
}();

// A second process cannot open the database while this one writes it: :storage/locked.
TEST_P(Durable, SecondWriterProcessIsLockedOut) {
  Value cfg = E(Cfg());
  api::CreateDatabase(cfg);
  auto conn = api::Connection::Connect(cfg);
  conn->Transact(E(kSchema));
  const std::string text = Cfg();
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::setenv("DURABLE_TEST_CONNECT", text.c_str(), 1);
    ::execl("/proc/self/exe", "durable_test", static_cast<char*>(nullptr));
    ::_exit(5);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  conn->Transact(E("[{:name \"still fine\"}]"));
  conn->Release();
  auto again = api::Connection::Connect(cfg);
  EXPECT_EQ(again->Db()->max_tx(), kTx0 + 2);
  again->Release();
}

// Damaged files give a clear error, never a crash.
TEST_P(Durable, DamagedFilesAreReportedNotCrashed) {
  Value cfg = E(Cfg(" :flush-every 2"));
  api::CreateDatabase(cfg);
  {
    auto conn = api::Connection::Connect(cfg);
    conn->Transact(E(kSchema));
    for (int i = 0; i < 5; ++i) conn->Transact(E("[{:name \"n" + std::to_string(i) + "\"}]"));
    conn->Release();
  }
  // Flip bytes in every file of the store, one file at a time, and reopen + read everything.
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(dir_.path() + "/db")) {
    if (e.is_regular_file() && e.file_size() > 0 && e.path().filename() != "LOCK") {
      files.push_back(e.path());
    }
  }
  ASSERT_FALSE(files.empty());
  int errors = 0;
  for (const fs::path& f : files) {
    std::string original;
    {
      std::ifstream in(f, std::ios::binary);
      original.assign(std::istreambuf_iterator<char>(in), {});
    }
    for (int mode = 0; mode < 2; ++mode) {
      std::string damaged = original;
      if (mode == 0) {
        for (size_t i = damaged.size() / 2; i < damaged.size() && i < damaged.size() / 2 + 8; ++i) {
          damaged[i] = static_cast<char>(damaged[i] ^ 0x5a);
        }
      } else {
        damaged.resize(damaged.size() / 2);  // truncated
      }
      {
        std::ofstream out(f, std::ios::binary | std::ios::trunc);
        out << damaged;
      }
      try {
        auto conn = api::Connection::Connect(cfg);
        DbPtr db = conn->Db();
        Dump(db, IndexOrder::kEavt);
        Dump(db, IndexOrder::kAevt);
        Dump(db, IndexOrder::kAvet);
        Dump(db->History(), IndexOrder::kEavt);
        conn->Release();
      } catch (const Error& e) {
        ++errors;
        EXPECT_FALSE(e.message().empty());
      }
      std::ofstream out(f, std::ios::binary | std::ios::trunc);
      out << original;
    }
  }
  EXPECT_GT(errors, 0);
  auto conn = api::Connection::Connect(cfg);  // restored files open again
  EXPECT_EQ(conn->Db()->max_tx(), kTx0 + 6);
  conn->Release();
}

// ---- crash test ----------------------------------------------------------------------------------

// The child: transacts {:name "c<i>" :age i} plus the counter entity's :age = i, for i from `start`,
// writing i to `fd` after each acknowledgement, until killed.
[[noreturn]] void CrashChild(const std::string& cfg, int start, int fd) {
  try {
    auto conn = api::Connection::Connect(E(cfg));
    for (int i = start;; ++i) {
      conn->Transact(E("[{:name \"c" + std::to_string(i) + "\" :age " + std::to_string(i) +
                       " :tags [:x :y]} {:name \"counter\" :age " + std::to_string(i) + "}]"));
      int32_t n = i;
      if (::write(fd, &n, sizeof n) != sizeof n) ::_exit(3);
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "crash child: %s\n", e.message().c_str());
  }
  ::_exit(2);
}

TEST_P(Durable, CrashTestKillsLoseNoAcknowledgedTransaction) {
  const std::string text = Cfg(" :flush-every 16");
  Value cfg = E(text);
  api::CreateDatabase(cfg);
  {
    auto conn = api::Connection::Connect(cfg);
    conn->Transact(E(kSchema));
    conn->Release();
  }
  std::mt19937 rng(1234);
  int acked = 0;  // every i < acked... is the highest acknowledged + 1
  int highest_acked = -1;
  int total_txs = 0;
  constexpr int kKills = 20;
  for (int round = 0; round < kKills; ++round) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      CrashChild(text, acked, fds[1]);
    }
    ::close(fds[1]);
    ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(20 + rng() % 150);
    bool killed = false;
    while (true) {
      int32_t n;
      ssize_t got = ::read(fds[0], &n, sizeof n);
      if (got == sizeof n) {
        highest_acked = std::max(highest_acked, static_cast<int>(n));
        continue;
      }
      if (!killed && std::chrono::steady_clock::now() >= deadline) {
        ::kill(pid, SIGKILL);
        killed = true;
      }
      if (got == 0) break;  // the child is gone and the pipe drained
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    ::close(fds[0]);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the child exited by itself: " << status;

    // Reopen: every acknowledged transaction is there, whole; at most one more (in flight).
    auto conn = api::Connection::Connect(cfg);
    DbPtr db = conn->Db();
    ExpectIndicesAgree(db);
    std::set<int> present;
    for (const Datom& d : db->SearchAll(IndexOrder::kAevt, EA(std::nullopt, "name"))) {
      std::string name(d.v.as_string());
      if (name == "counter") continue;
      present.insert(std::stoi(name.substr(1)));
    }
    const int highest_present = present.empty() ? -1 : *present.rbegin();
    ASSERT_GE(highest_present, highest_acked) << "round " << round;
    ASSERT_LE(highest_present, highest_acked + 1) << "round " << round;
    ASSERT_EQ(static_cast<int>(present.size()), highest_present + 1) << "round " << round;
    // Nothing half-applied: each entity has its age and tags, the counter the last i.
    for (int i : present) {
      int64_t e = db->LookupUnique(AttrOf(Kw("name")), Value::String("c" + std::to_string(i)));
      ASSERT_NE(e, 0);
      EXPECT_EQ(db->SearchAll(IndexOrder::kEavt, EA(e, "age")).size(), 1u);
      EXPECT_EQ(db->SearchAll(IndexOrder::kEavt, EA(e, "tags")).size(), 2u);
    }
    if (highest_present >= 0) {
      int64_t counter = db->LookupUnique(AttrOf(Kw("name")), Value::String("counter"));
      auto age = db->SearchAll(IndexOrder::kEavt, EA(counter, "age"));
      ASSERT_EQ(age.size(), 1u);
      EXPECT_EQ(age[0].v.as_long(), highest_present);
      // History: the counter took every value once.
      auto hist = db->History()->SearchAll(IndexOrder::kEavt, EA(counter, "age"));
      EXPECT_EQ(static_cast<int>(hist.size()), 2 * highest_present + 1);
    }
    EXPECT_EQ(db->max_tx(), kTx0 + 1 + highest_present + 1);
    total_txs = highest_present + 1;
    acked = highest_present + 1;
    highest_acked = highest_present;
    conn->Release();
  }
  std::printf("crash test (%s): %d kills, %d transactions acknowledged\n", GetParam().c_str(), kKills,
              total_txs);
  EXPECT_GT(total_txs, kKills);
}

INSTANTIATE_TEST_SUITE_P(Backends, Durable, ::testing::Values("file", "leveldb"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace datahike
