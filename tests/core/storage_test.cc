// Tests of core/storage: one typed suite every backend passes, group commit, readers in another
// process (tests/core/storage_probe.cc), the node cache and the codec.
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "core/storage/cached_store.h"
#include "core/storage/codec.h"
#include "core/storage/crc32c.h"
#include "core/storage/error_codes.h"
#include "core/storage/store.h"
#include "core/value/edn.h"

extern char** environ;

namespace datahike::storage {
namespace {

namespace fs = std::filesystem;

// ---- helpers -----------------------------------------------------------------------------------

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> n{0};
    path_ = (fs::temp_directory_path() /
             ("dh-storage-" + std::to_string(::getpid()) + "-" + std::to_string(n++)))
                .string();
    fs::remove_all(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The storage error code `fn` throws, "" when it returns, "<other>" for a non-storage error.
template <typename Fn>
std::string CodeOf(Fn fn) {
  try {
    fn();
  } catch (const Error& e) {
    return StorageErrorCode(e);
  }
  return "";
}

std::vector<std::pair<uint64_t, std::string>> ReadAllLog(Store& s, uint64_t from = 1) {
  std::vector<std::pair<uint64_t, std::string>> out;
  s.ReadLog(from, [&](uint64_t seq, std::string_view r) {
    out.emplace_back(seq, std::string(r));
    return true;
  });
  return out;
}

std::string Str(const Blob& b) { return *b; }

void PutNode(Store& s, uint64_t id, std::string_view bytes) {
  const NodeWrite w{id, bytes};
  s.PutNodes({&w, 1});
}

// The files of a directory tree, relative, for "destroy removes every file".
std::vector<std::string> FilesUnder(const std::string& dir) {
  std::vector<std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    out.push_back(fs::relative(e.path(), dir).string());
  }
  return out;
}

// The newest file in dir whose name ends with `suffix`.
std::string NewestWithSuffix(const std::string& dir, const std::string& suffix) {
  std::string best;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string n = e.path().filename().string();
    if (n.size() > suffix.size() && n.ends_with(suffix) && n > best) best = n;
  }
  return best.empty() ? "" : dir + "/" + best;
}

void TruncateBy(const std::string& file, uintmax_t bytes) {
  const uintmax_t size = fs::file_size(file);
  ASSERT_GT(size, bytes);
  fs::resize_file(file, size - bytes);
}

void FlipByte(const std::string& file, uintmax_t offset) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(static_cast<char>(c ^ 0x5a));
}

// ---- backends of the typed suite ---------------------------------------------------------------

struct MemoryBackend {
  static constexpr bool kDurable = false;
  static StoreConfig Config(const TempDir& dir) {
    StoreConfig c;
    c.backend = StoreBackend::kMemory;
    c.id = "test-" + dir.path();  // unique per test
    return c;
  }
  static void TearLogTail(const StoreConfig&) {}
  static void CorruptLogMiddle(const StoreConfig&) {}
};

struct FileBackend {
  static constexpr bool kDurable = true;
  static StoreConfig Config(const TempDir& dir) {
    StoreConfig c;
    c.backend = StoreBackend::kFile;
    c.path = dir.path() + "/db";
    return c;
  }
  static void TearLogTail(const StoreConfig& c) {
    TruncateBy(NewestWithSuffix(c.path + "/log", ".log"), 3);
  }
  static void CorruptLogMiddle(const StoreConfig& c) {
    FlipByte(NewestWithSuffix(c.path + "/log", ".log"), 22);  // the first record's payload
  }
};

struct LevelDbBackend {
  static constexpr bool kDurable = true;
  static StoreConfig Config(const TempDir& dir) {
    StoreConfig c;
    c.backend = StoreBackend::kLevelDb;
    c.path = dir.path() + "/db";
    return c;
  }
  // LevelDB's own write-ahead log holds the latest writes; its last record is the last append.
  static void TearLogTail(const StoreConfig& c) { TruncateBy(NewestWithSuffix(c.path, ".log"), 3); }
  static void CorruptLogMiddle(const StoreConfig& c) {
    const std::string log = NewestWithSuffix(c.path, ".log");
    FlipByte(log, fs::file_size(log) / 2);
  }
};

template <typename B>
class StoreTest : public ::testing::Test {
 protected:
  StoreTest() : config_(B::Config(dir_)) {}
  ~StoreTest() override {
    try {
      Destroy(config_);
    } catch (const Error&) {
    }
  }
  std::unique_ptr<Store> Writer() { return Open(config_, OpenMode::kWriter); }
  std::unique_ptr<Store> Reader() { return Open(config_, OpenMode::kReader); }

  TempDir dir_;
  StoreConfig config_;
};

using Backends = ::testing::Types<MemoryBackend, FileBackend, LevelDbBackend>;
class BackendNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    if (std::is_same_v<T, MemoryBackend>) return "Memory";
    if (std::is_same_v<T, FileBackend>) return "File";
    return "LevelDb";
  }
};
TYPED_TEST_SUITE(StoreTest, Backends, BackendNames);

TYPED_TEST(StoreTest, NodesPutGetDeleteList) {
  auto s = this->Writer();
  const uint64_t first = s->AllocateNodeIds(3);
  EXPECT_GE(first, 1u);
  std::string big(100000, 'x');
  big[5] = '\0';
  std::vector<NodeWrite> batch{{first, "a"}, {first + 1, ""}, {first + 2, big}};
  s->PutNodes(batch);
  EXPECT_EQ(Str(s->GetNode(first)), "a");
  EXPECT_EQ(Str(s->GetNode(first + 1)), "");
  EXPECT_EQ(Str(s->GetNode(first + 2)), big);
  EXPECT_EQ(CodeOf([&] { s->GetNode(first + 3); }), "storage/missing-node");
  std::set<uint64_t> ids;
  s->ForEachNodeId([&](uint64_t id) { ids.insert(id); });
  EXPECT_EQ(ids, (std::set<uint64_t>{first, first + 1, first + 2}));
  const uint64_t gone[] = {first, first + 7};
  s->DeleteNodes(gone);
  EXPECT_EQ(CodeOf([&] { s->GetNode(first); }), "storage/missing-node");
  EXPECT_EQ(Str(s->GetNode(first + 1)), "");
  ids.clear();
  s->ForEachNodeId([&](uint64_t id) { ids.insert(id); });
  EXPECT_EQ(ids, (std::set<uint64_t>{first + 1, first + 2}));
  s->Sync();
}

TYPED_TEST(StoreTest, IdsAreNeverReusedAcrossReopen) {
  uint64_t last = 0;
  for (int round = 0; round < 3; ++round) {
    auto s = this->Writer();
    const uint64_t a = s->AllocateNodeIds(10);
    const uint64_t b = s->AllocateNodeIds(70000);  // past one reservation
    EXPECT_GT(a, last);
    EXPECT_EQ(b, a + 10);
    last = b + 70000 - 1;
    PutNode(*s, a, "x");
    const uint64_t del[] = {a};
    s->DeleteNodes(del);  // deleting does not free the id
  }
}

TYPED_TEST(StoreTest, LogAppendReadTruncate) {
  auto s = this->Writer();
  EXPECT_EQ(s->NextLogSeq(), 1u);
  for (int i = 1; i <= 10; ++i) {
    EXPECT_EQ(s->AppendLog("r" + std::to_string(i), i % 2 == 0), static_cast<uint64_t>(i));
  }
  EXPECT_EQ(s->NextLogSeq(), 11u);
  auto all = ReadAllLog(*s);
  ASSERT_EQ(all.size(), 10u);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(all[i].first, static_cast<uint64_t>(i + 1));
    EXPECT_EQ(all[i].second, "r" + std::to_string(i + 1));
  }
  EXPECT_EQ(ReadAllLog(*s, 7).size(), 4u);
  EXPECT_EQ(ReadAllLog(*s, 11).size(), 0u);
  int calls = 0;
  s->ReadLog(1, [&](uint64_t, std::string_view) { return ++calls < 3; });
  EXPECT_EQ(calls, 3);

  s->TruncateLogBefore(6);
  all = ReadAllLog(*s);
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[0].first, 6u);
  EXPECT_EQ(s->AppendLog("r11", true), 11u);
  s->TruncateLogBefore(3);  // behind the start: nothing to do
  EXPECT_EQ(ReadAllLog(*s).front().first, 6u);
  s.reset();

  s = this->Writer();
  EXPECT_EQ(s->NextLogSeq(), 12u);
  all = ReadAllLog(*s);
  ASSERT_EQ(all.size(), 6u);
  EXPECT_EQ(all.front(), std::make_pair(uint64_t{6}, std::string("r6")));
  EXPECT_EQ(all.back(), std::make_pair(uint64_t{11}, std::string("r11")));
  // Dropping everything keeps the numbering, also across a reopen.
  s->TruncateLogBefore(100);
  EXPECT_TRUE(ReadAllLog(*s).empty());
  EXPECT_EQ(s->NextLogSeq(), 12u);
  s.reset();
  s = this->Writer();
  EXPECT_EQ(s->NextLogSeq(), 12u);
  EXPECT_EQ(s->AppendLog("r12", true), 12u);
  all = ReadAllLog(*s);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].second, "r12");
}

TYPED_TEST(StoreTest, LargeAndEmptyRecords) {
  auto s = this->Writer();
  std::string big(3 << 20, 'b');
  big[17] = '\0';
  s->AppendLog("", true);
  s->AppendLog(big, true);
  s.reset();
  s = this->Writer();
  auto all = ReadAllLog(*s);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].second, "");
  EXPECT_EQ(all[1].second, big);
}

TYPED_TEST(StoreTest, TornLogTailIsDroppedAtOpen) {
  if (!TypeParam::kDurable) GTEST_SKIP() << "nothing to tear in memory";
  {
    auto s = this->Writer();
    for (int i = 1; i <= 5; ++i) s->AppendLog("record-" + std::to_string(i), true);
  }
  TypeParam::TearLogTail(this->config_);
  {
    auto reader = this->Reader();  // a reader tolerates the torn tail too
    EXPECT_EQ(ReadAllLog(*reader).size(), 4u);
  }
  auto s = this->Writer();
  auto all = ReadAllLog(*s);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all.back().second, "record-4");
  EXPECT_EQ(s->AppendLog("record-5b", true), 5u);
  s.reset();
  s = this->Writer();
  all = ReadAllLog(*s);
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all.back().second, "record-5b");
}

TYPED_TEST(StoreTest, CorruptMiddleRecordIsAnError) {
  if (!TypeParam::kDurable) GTEST_SKIP() << "nothing to corrupt in memory";
  {
    auto s = this->Writer();
    for (int i = 1; i <= 5; ++i) s->AppendLog("record-" + std::to_string(i), true);
  }
  TypeParam::CorruptLogMiddle(this->config_);
  EXPECT_EQ(CodeOf([&] {
              auto s = this->Writer();
              ReadAllLog(*s);
            }),
            "storage/corrupt");
}

TYPED_TEST(StoreTest, RootsReplaceAtomicallyAndListBranches) {
  auto s = this->Writer();
  EXPECT_FALSE(s->GetRoot("db").has_value());
  EXPECT_TRUE(s->Branches().empty());
  s->SetRoot("db", "root-1", true);
  s->SetRoot("db", "root-2", false);
  const std::string odd = std::string("feature/x y%\xC3\xA9.") + std::string(1, '\0');
  s->SetRoot(odd, "odd", true);
  s->SetRoot("", "empty-name", true);
  EXPECT_EQ(s->GetRoot("db").value(), "root-2");
  EXPECT_EQ(s->GetRoot(odd).value(), "odd");
  EXPECT_EQ(s->GetRoot("").value(), "empty-name");
  EXPECT_EQ(s->Branches(), (std::vector<std::string>{"", "db", odd}));
  s->DeleteRoot(odd);
  s->DeleteRoot("never-there");
  EXPECT_FALSE(s->GetRoot(odd).has_value());
  s.reset();
  s = this->Writer();
  EXPECT_EQ(s->GetRoot("db").value(), "root-2");
  EXPECT_EQ(s->Branches(), (std::vector<std::string>{"", "db"}));
}

TYPED_TEST(StoreTest, ReopenPersistsEverything) {
  uint64_t id;
  {
    auto s = this->Writer();
    id = s->AllocateNodeIds(1);
    PutNode(*s, id, "node");
    s->AppendLog("log", false);
    s->SetRoot("db", "root", true);
  }
  EXPECT_TRUE(Exists(this->config_));
  auto s = this->Writer();
  EXPECT_EQ(Str(s->GetNode(id)), "node");
  EXPECT_EQ(ReadAllLog(*s).at(0).second, "log");
  EXPECT_EQ(s->GetRoot("db").value(), "root");
}

TYPED_TEST(StoreTest, ExistsAndDestroyRemoveEverything) {
  EXPECT_FALSE(Exists(this->config_));
  EXPECT_EQ(CodeOf([&] { this->Reader(); }), "storage/missing-store");
  EXPECT_NO_THROW(Destroy(this->config_));  // absent is fine
  {
    auto s = this->Writer();
    const uint64_t id = s->AllocateNodeIds(1);
    PutNode(*s, id, "node");
    s->AppendLog("log", true);
    s->SetRoot("db", "root", true);
    EXPECT_TRUE(Exists(this->config_));
    EXPECT_EQ(CodeOf([&] { Destroy(this->config_); }), "storage/locked");
  }
  {
    auto r = this->Reader();  // leaves its snapshot behind until Destroy
    EXPECT_EQ(r->GetRoot("db").value(), "root");
  }
  Destroy(this->config_);
  EXPECT_FALSE(Exists(this->config_));
  if (TypeParam::kDurable) {
    EXPECT_FALSE(fs::exists(this->config_.path))
        << ::testing::PrintToString(FilesUnder(this->config_.path));
  }
  auto s = this->Writer();  // a fresh, empty store
  EXPECT_FALSE(s->GetRoot("db").has_value());
  EXPECT_EQ(s->NextLogSeq(), 1u);
}

TYPED_TEST(StoreTest, DestroyKeepsForeignFiles) {
  if (!TypeParam::kDurable) GTEST_SKIP();
  {
    this->Writer();
  }
  std::ofstream(this->config_.path + "/notes.txt") << "mine";
  Destroy(this->config_);
  EXPECT_EQ(FilesUnder(this->config_.path), std::vector<std::string>{"notes.txt"});
}

TYPED_TEST(StoreTest, SecondWriterIsLocked) {
  auto s = this->Writer();
  try {
    this->Writer();
    ADD_FAILURE() << "second writer opened";
  } catch (const Error& e) {
    EXPECT_EQ(StorageErrorCode(e), "storage/locked");
    EXPECT_EQ(e.kind(), ErrorKind::kConflict);
  }
  s->SetRoot("db", "still-fine", true);
  s.reset();
  s = this->Writer();  // released on close
  EXPECT_EQ(s->GetRoot("db").value(), "still-fine");
}

TYPED_TEST(StoreTest, ReaderSeesCommitsAndCannotWrite) {
  auto w = this->Writer();
  const uint64_t id = w->AllocateNodeIds(1);
  PutNode(*w, id, "n1");
  w->AppendLog("rec1", true);
  w->SetRoot("db", "r1", true);
  auto r = this->Reader();
  EXPECT_TRUE(r->read_only());
  EXPECT_EQ(r->GetRoot("db").value(), "r1");
  EXPECT_EQ(Str(r->GetNode(id)), "n1");
  EXPECT_EQ(r->NextLogSeq(), 2u);
  EXPECT_EQ(CodeOf([&] { r->AppendLog("x", true); }), "storage/read-only");
  EXPECT_EQ(CodeOf([&] { r->SetRoot("db", "x", true); }), "storage/read-only");
  EXPECT_EQ(CodeOf([&] { PutNode(*r, 99, "x"); }), "storage/read-only");
  EXPECT_EQ(CodeOf([&] { r->AllocateNodeIds(1); }), "storage/read-only");
  EXPECT_EQ(CodeOf([&] { r->TruncateLogBefore(1); }), "storage/read-only");

  const uint64_t id2 = w->AllocateNodeIds(1);
  PutNode(*w, id2, "n2");
  w->AppendLog("rec2", true);
  w->SetRoot("db", "r2", true);
  r->Refresh();
  EXPECT_EQ(r->GetRoot("db").value(), "r2");
  EXPECT_EQ(Str(r->GetNode(id2)), "n2");
  EXPECT_EQ(ReadAllLog(*r).size(), 2u);
  EXPECT_EQ(r->NextLogSeq(), 3u);
}

TYPED_TEST(StoreTest, GroupCommitManyThreads) {
  auto s = this->Writer();
  constexpr int kThreads = 8, kPerThread = 150;
  std::vector<std::vector<uint64_t>> seqs(kThreads);
  std::vector<std::thread> pool;
  for (int t = 0; t < kThreads; ++t) {
    pool.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        seqs[t].push_back(s->AppendLog(std::to_string(t) + ":" + std::to_string(i), true));
      }
    });
  }
  for (auto& th : pool) th.join();
  std::map<uint64_t, std::string> expect;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      if (i > 0) {
        EXPECT_GT(seqs[t][i], seqs[t][i - 1]);  // a thread's appends stay in order
      }
      expect[seqs[t][i]] = std::to_string(t) + ":" + std::to_string(i);
    }
  }
  ASSERT_EQ(expect.size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_EQ(expect.begin()->first, 1u);
  EXPECT_EQ(expect.rbegin()->first, static_cast<uint64_t>(kThreads * kPerThread));
  s.reset();
  s = this->Writer();
  auto all = ReadAllLog(*s);
  ASSERT_EQ(all.size(), expect.size());
  for (const auto& [seq, rec] : all) EXPECT_EQ(expect[seq], rec);
}

TYPED_TEST(StoreTest, ConcurrentNodeWritersAndReaders) {
  auto s = this->Writer();
  std::vector<std::thread> pool;
  std::atomic<int> errors{0};
  for (int t = 0; t < 4; ++t) {
    pool.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        const uint64_t id = s->AllocateNodeIds(2);
        const std::string a = "a" + std::to_string(id), b = "b" + std::to_string(id);
        std::vector<NodeWrite> batch{{id, a}, {id + 1, b}};
        s->PutNodes(batch);
        if (Str(s->GetNode(id)) != a || Str(s->GetNode(id + 1)) != b) ++errors;
        s->SetRoot("t", std::to_string(id), i % 10 == 0);
      }
    });
  }
  for (auto& th : pool) th.join();
  EXPECT_EQ(errors.load(), 0);
  int count = 0;
  s->ForEachNodeId([&](uint64_t) { ++count; });
  EXPECT_EQ(count, 400);
}

// ---- memory specifics --------------------------------------------------------------------------

TEST(MemoryStore, SharedByIdWithinTheProcess) {
  StoreConfig c = StoreConfig::FromValue(edn::Read("{:backend :mem :id \"shared-test\"}"));
  EXPECT_EQ(c.backend, StoreBackend::kMemory);
  {
    auto w = Open(c, OpenMode::kWriter);
    w->SetRoot("db", "x", true);
    auto r = Open(c, OpenMode::kReader);
    EXPECT_EQ(r->GetRoot("db").value(), "x");
    w->SetRoot("db", "y", true);
    EXPECT_EQ(r->GetRoot("db").value(), "y");  // live, no Refresh needed
  }
  StoreConfig other = StoreConfig::FromValue(edn::Read("{:backend :memory :id \"shared-test\"}"));
  auto w2 = Open(other, OpenMode::kWriter);
  EXPECT_EQ(w2->GetRoot("db").value(), "y");
  w2.reset();
  Destroy(c);
  EXPECT_FALSE(Exists(c));
}

TEST(StoreConfig, ParsesStoreMaps) {
  StoreConfig f =
      StoreConfig::FromValue(edn::Read("{:backend :file :path \"/tmp/x\" :cache-bytes 10}"));
  EXPECT_EQ(f.backend, StoreBackend::kFile);
  EXPECT_EQ(f.path, "/tmp/x");
  EXPECT_EQ(f.cache_bytes, 10u);
  EXPECT_EQ(StoreConfig::FromValue(edn::Read("{:backend :leveldb :path \"/tmp/y\"}")).backend,
            StoreBackend::kLevelDb);
  EXPECT_EQ(StoreConfig::FromValue(edn::Read("{:backend :memory :id :kw}")).id, ":kw");
  for (const char* bad :
       {"nil", "{}", "{:backend :s3}", "{:backend :file}", "{:backend :memory}",
        "{:backend :file :path \"\"}", "{:backend :file :path \"/x\" :cache-bytes -1}"}) {
    EXPECT_EQ(CodeOf([&] { StoreConfig::FromValue(edn::Read(bad)); }), "storage/bad-config") << bad;
  }
}

// ---- file and LevelDB specifics ----------------------------------------------------------------

TEST(FileStore, DamagedNodeAndRootFilesAreCorrupt) {
  TempDir dir;
  StoreConfig c = FileBackend::Config(dir);
  auto s = OpenUncached(c, OpenMode::kWriter);
  const uint64_t id = s->AllocateNodeIds(1);
  PutNode(*s, id, "some node bytes");
  s->SetRoot("db", "root bytes", true);
  std::string node_file;
  for (const auto& e : fs::recursive_directory_iterator(c.path + "/nodes")) {
    if (e.is_regular_file()) node_file = e.path().string();
  }
  ASSERT_FALSE(node_file.empty());
  FlipByte(node_file, 14);
  EXPECT_EQ(CodeOf([&] { s->GetNode(id); }), "storage/corrupt");
  TruncateBy(node_file, 2);
  EXPECT_EQ(CodeOf([&] { s->GetNode(id); }), "storage/corrupt");
  FlipByte(c.path + "/roots/=db", 13);
  EXPECT_EQ(CodeOf([&] { s->GetRoot("db"); }), "storage/corrupt");
}

TEST(FileStore, TornTailAtEveryCutOfTheLastGroup) {
  TempDir dir;
  StoreConfig c = FileBackend::Config(dir);
  {
    auto s = Open(c, OpenMode::kWriter);
    for (int i = 1; i <= 3; ++i) s->AppendLog("record-" + std::to_string(i), true);
  }
  const std::string seg = NewestWithSuffix(c.path + "/log", ".log");
  std::string full;
  {
    std::ifstream in(seg, std::ios::binary);
    full.assign(std::istreambuf_iterator<char>(in), {});
  }
  const size_t last_start = full.size() - (20 + 8);
  for (size_t cut = last_start; cut < full.size(); ++cut) {
    std::ofstream(seg, std::ios::binary | std::ios::trunc).write(full.data(), cut);
    auto r = Open(c, OpenMode::kReader);
    EXPECT_EQ(ReadAllLog(*r).size(), 2u) << cut;
  }
  // Zeros where the last write should be (a crash after the size grew but before the data).
  std::string zeroed = full;
  std::fill(zeroed.begin() + last_start, zeroed.end(), '\0');
  std::ofstream(seg, std::ios::binary | std::ios::trunc) << zeroed;
  auto s = Open(c, OpenMode::kWriter);
  EXPECT_EQ(ReadAllLog(*s).size(), 2u);
  EXPECT_EQ(s->AppendLog("record-3b", true), 3u);
}

std::string ProbePath() { return STORAGE_PROBE_PATH; }

// Runs storage_probe with args; returns its pid.
pid_t Spawn(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  std::string prog = ProbePath();
  argv.push_back(prog.data());
  std::vector<std::string> copy = args;
  for (std::string& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid;
  if (posix_spawn(&pid, prog.c_str(), nullptr, nullptr, argv.data(), environ) != 0) return -1;
  return pid;
}
int WaitExit(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

class CrossProcess : public ::testing::TestWithParam<StoreBackend> {
 protected:
  StoreConfig Config(const TempDir& dir) {
    return GetParam() == StoreBackend::kFile ? FileBackend::Config(dir)
                                             : LevelDbBackend::Config(dir);
  }
  std::string Name() { return GetParam() == StoreBackend::kFile ? "file" : "leveldb"; }
};

TEST_P(CrossProcess, SecondWriterInAnotherProcessIsLocked) {
  TempDir dir;
  StoreConfig c = Config(dir);
  {
    auto w = Open(c, OpenMode::kWriter);
    EXPECT_EQ(WaitExit(Spawn({"lock", Name(), c.path})), 3);
  }
  EXPECT_EQ(WaitExit(Spawn({"lock", Name(), c.path})), 0);
  Destroy(c);
}

TEST_P(CrossProcess, ReaderFollowsAWriterInAnotherProcess) {
  TempDir dir;
  StoreConfig c = Config(dir);
  const pid_t writer = Spawn({"writer", Name(), c.path, "2.5"});
  ASSERT_GT(writer, 0);
  std::unique_ptr<Store> r;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    try {
      if (!r) r = Open(c, OpenMode::kReader);
      r->Refresh();
      if (r->GetRoot("db")) break;
    } catch (const Error&) {
      // not created yet
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(r && r->GetRoot("db")) << "the writer never committed";
  uint64_t last_seen = 0;
  int distinct = 0, checks = 0;
  bool writer_done = false;
  int exit_code = -1;
  while (!writer_done) {
    int status = 0;
    const pid_t done = waitpid(writer, &status, WNOHANG);
    if (done == writer) {
      writer_done = true;
      exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    }
    r->Refresh();
    const std::string root = r->GetRoot("db").value();
    const size_t colon = root.find(':');
    const uint64_t i = std::stoull(root.substr(0, colon));
    const uint64_t id = std::stoull(root.substr(colon + 1));
    ASSERT_GE(i, last_seen) << "roots go back in time";
    if (i != last_seen) ++distinct;
    last_seen = i;
    const std::string node = Str(r->GetNode(id));
    ASSERT_EQ(node.substr(0, node.find(':') + 1), "node-" + std::to_string(i) + ":");
    std::string rec;
    r->ReadLog(i, [&](uint64_t seq, std::string_view bytes) {
      EXPECT_EQ(seq, i);
      rec = std::string(bytes);
      return false;
    });
    ASSERT_EQ(rec, "rec-" + std::to_string(i));
    ++checks;
  }
  EXPECT_EQ(exit_code, 0);
  EXPECT_GE(distinct, 3) << "the reader should have seen the writer progress";
  // After the writer is gone, a fresh look sees its last commit.
  r->Refresh();
  auto last = r->GetRoot("db").value();
  EXPECT_GE(std::stoull(last.substr(0, last.find(':'))), last_seen);
  std::printf("[ reader ] %d consistent snapshots, %d distinct commits seen, last %s\n", checks,
              distinct, last.c_str());
  r.reset();
  Destroy(c);
}

INSTANTIATE_TEST_SUITE_P(Backends, CrossProcess,
                         ::testing::Values(StoreBackend::kFile, StoreBackend::kLevelDb),
                         [](const auto& info) {
                           return info.param == StoreBackend::kFile ? "File" : "LevelDb";
                         });

// ---- cache -------------------------------------------------------------------------------------

TEST(NodeCache, EvictsLeastRecentlyUsedWithinCapacity) {
  NodeCache<std::string> cache(16 * 1000);  // 1000 bytes per shard
  for (uint64_t id = 1; id <= 1000; ++id) {
    cache.Put(id, std::make_shared<const std::string>(std::to_string(id)), 100);
  }
  EXPECT_LE(cache.used_bytes(), 16u * 1000);
  EXPECT_NE(cache.Get(1000), nullptr);  // the newest survive
  EXPECT_EQ(cache.Get(1), nullptr);
  cache.Put(5000, std::make_shared<const std::string>("huge"), 5000);  // larger than a shard
  EXPECT_EQ(cache.Get(5000), nullptr);
  cache.Erase(1000);
  EXPECT_EQ(cache.Get(1000), nullptr);
}

TEST(CachedStore, HitsShareTheBlobAndDeleteEvicts) {
  TempDir dir;
  StoreConfig c = FileBackend::Config(dir);
  auto s = Open(c, OpenMode::kWriter);
  auto* cached = dynamic_cast<CachedStore*>(s.get());
  ASSERT_NE(cached, nullptr);
  const uint64_t id = s->AllocateNodeIds(1);
  PutNode(*s, id, "cached node");
  Blob a = s->GetNode(id);
  Blob b = s->GetNode(id);
  EXPECT_EQ(a.get(), b.get());
  const uint64_t ids[] = {id};
  s->DeleteNodes(ids);
  EXPECT_EQ(CodeOf([&] { s->GetNode(id); }), "storage/missing-node");
  s.reset();
  Destroy(c);
}

// ---- codec -------------------------------------------------------------------------------------

// Strict sameness: same kinds all the way down, doubles bit for bit.
bool Same(const Value& a, const Value& b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case Type::kFloat:
    case Type::kDouble: {
      uint64_t x, y;
      const double da = a.as_double(), db = b.as_double();
      std::memcpy(&x, &da, 8);
      std::memcpy(&y, &db, 8);
      return x == y;
    }
    case Type::kBigInt:
    case Type::kBigDec:
    case Type::kString:
    case Type::kBytes:
      return a.as_string() == b.as_string();
    case Type::kList:
    case Type::kVector:
    case Type::kSet: {
      if (a.items().size() != b.items().size()) return false;
      for (size_t i = 0; i < a.items().size(); ++i) {
        if (!Same(a.items()[i], b.items()[i])) return false;
      }
      return true;
    }
    case Type::kMap: {
      if (a.entries().size() != b.entries().size()) return false;
      for (size_t i = 0; i < a.entries().size(); ++i) {
        if (!Same(a.entries()[i].first, b.entries()[i].first) ||
            !Same(a.entries()[i].second, b.entries()[i].second)) {
          return false;
        }
      }
      return true;
    }
    default:
      return Equal(a, b) && Compare(a, b) == 0;
  }
}

class Gen {
 public:
  explicit Gen(uint64_t seed) : rng_(seed) {}
  uint64_t U(uint64_t n) { return rng_() % n; }
  std::string Text(size_t max) {
    std::string s(U(max), '\0');
    for (char& ch : s) ch = U(4) == 0 ? static_cast<char>(rng_()) : static_cast<char>('a' + U(26));
    return s;
  }
  Value Scalar() {
    switch (U(15)) {
      case 0:
        return Value();
      case 1:
        return Value::Bool(U(2) == 0);
      case 2:
        return Value::Long(U(2) ? static_cast<int64_t>(rng_())
                                : static_cast<int64_t>(U(200)) - 100);
      case 3:
        return Value::BigInt((U(2) ? "-" : "") + std::to_string(1 + U(1000000)) +
                             "123456789012345678901234567890");
      case 4:
        return Value::Float(static_cast<float>(static_cast<int>(U(1000)) - 500) / 8.0f);
      case 5: {
        const uint64_t bits = rng_();
        double d;
        std::memcpy(&d, &bits, 8);
        return Value::Double(U(3) == 0 ? d : static_cast<double>(rng_() % 100000) / 7.0);
      }
      case 6:
        return Value::BigDec((U(2) ? "-" : "") + std::to_string(U(100000)) + "." +
                             std::to_string(U(1000)) + (U(3) == 0 ? "E+5" : ""));
      case 7:
        return Value::Instant(static_cast<int64_t>(rng_()));
      case 8: {
        Uuid u;
        for (auto& byte : u.bytes) byte = static_cast<uint8_t>(rng_());
        return Value::MakeUuid(u);
      }
      case 9:
        return Value::Char(static_cast<uint32_t>(U(0x110000)));
      case 10:
        return Value::String(Text(U(4) == 0 ? 200 : 16));
      case 11:
        return Value::Keyword(U(2) ? "ns" + std::to_string(U(5)) + "/k" + std::to_string(U(50))
                                   : "k" + std::to_string(U(50)));
      case 12:
        return Value::Symbol(U(2) ? "s" + std::to_string(U(20)) : "sns/s" + std::to_string(U(20)));
      case 13:
        return Value::Bytes(Text(40));
      default:
        return Value::String(Text(14));
    }
  }
  Value Any(int depth) {
    if (depth <= 0 || U(3) != 0) return Scalar();
    const size_t n = U(5);
    switch (U(4)) {
      case 0:
      case 1:
      case 2: {
        std::vector<Value> items;
        for (size_t i = 0; i < n; ++i) items.push_back(Any(depth - 1));
        const uint64_t kind = U(3);
        return kind == 0   ? Value::List(std::move(items))
               : kind == 1 ? Value::Vector(std::move(items))
                           : Value::Set(std::move(items));
      }
      default: {
        std::vector<std::pair<Value, Value>> entries;
        for (size_t i = 0; i < n; ++i) entries.emplace_back(Any(depth - 1), Any(depth - 1));
        return Value::Map(std::move(entries));
      }
    }
  }

 private:
  std::mt19937_64 rng_;
};

TEST(Codec, EveryKindRoundTrips) {
  Uuid u{};
  for (int i = 0; i < 16; ++i) u.bytes[i] = static_cast<uint8_t>(i * 17);
  const std::vector<Value> values = {
      Value(),
      Value::Bool(true),
      Value::Bool(false),
      Value::Long(0),
      Value::Long(std::numeric_limits<int64_t>::min()),
      Value::Long(std::numeric_limits<int64_t>::max()),
      Value::BigInt("-123456789012345678901234567890"),
      Value::Float(1.5),
      Value::Double(-0.0),
      Value::Double(std::numeric_limits<double>::quiet_NaN()),
      Value::Double(std::numeric_limits<double>::infinity()),
      Value::BigDec("1.50"),
      Value::BigDec("-1E+3"),
      Value::Instant(-62135596800000),
      Value::MakeUuid(u),
      Value::Char(0x1F600),
      Value::String(""),
      Value::String("short"),
      Value::String(std::string(1000, 'y')),
      Value::Bytes(std::string("\0\1\2", 3)),
      Kw("db/ident"),
      Kw("plain"),
      Value::Symbol("/"),
      Value::Symbol("ns/sym"),
      Value::List({}),
      Value::Vector({Value::Long(1), Kw("a")}),
      Value::Set({Value::Long(3), Value::Long(1)}),
      Value::Map({{Kw("a"), Value::Vector({Value::List({Value::String("deep")})})}})};
  for (const Value& v : values) {
    const std::string blob = EncodeValue(v);
    EXPECT_TRUE(Same(DecodeValue(blob), v)) << edn::ToString(v);
  }
}

TEST(Codec, GeneratedValuesRoundTrip) {
  Gen gen(42);
  for (int i = 0; i < 3000; ++i) {
    const Value v = gen.Any(4);
    const Value back = DecodeValue(EncodeValue(v));
    ASSERT_TRUE(Same(back, v)) << edn::ToString(v) << " vs " << edn::ToString(back);
  }
}

TEST(Codec, DeepNestingAtTheLimit) {
  Value v = Value::Long(1);
  for (int i = 0; i < kMaxValueDepth; ++i) v = Value::Vector({v});
  EXPECT_EQ(edn::ToString(DecodeValue(EncodeValue(v))), edn::ToString(v));
  Value deeper = Value::Vector({v});
  EXPECT_THROW(EncodeValue(deeper), Error);
}

std::vector<Datom> SortedDatoms(Gen& gen, size_t n) {
  std::vector<Datom> out;
  const std::vector<const Named*> names = {InternKeyword("person/name"),
                                           InternKeyword("person/age"), InternKeyword("db/ident"),
                                           InternKeyword("x")};
  int64_t e = 1;
  for (size_t i = 0; i < n; ++i) {
    if (gen.U(3) == 0) e += 1 + static_cast<int64_t>(gen.U(3));
    Datom d;
    d.e = e;
    d.a = names[gen.U(names.size())]->id;
    d.v = gen.U(2) ? Value::Long(static_cast<int64_t>(gen.U(100))) : gen.Any(1);
    d.tx = kTx0 + 1 + static_cast<int64_t>(gen.U(50));
    d.added = gen.U(5) != 0;
    out.push_back(std::move(d));
  }
  return out;
}

bool SameDatoms(const std::vector<Datom>& a, const std::vector<Datom>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].e != b[i].e || a[i].a != b[i].a || a[i].tx != b[i].tx || a[i].added != b[i].added ||
        !Same(a[i].v, b[i].v)) {
      return false;
    }
  }
  return true;
}

TEST(Codec, DatomBlocksRoundTripCompactly) {
  Gen gen(7);
  for (size_t n : {size_t{0}, size_t{1}, size_t{17}, size_t{1000}}) {
    const std::vector<Datom> datoms = SortedDatoms(gen, n);
    const std::string blob = EncodeDatoms(datoms);
    EXPECT_TRUE(SameDatoms(DecodeDatoms(blob), datoms)) << n;
  }
  // Extreme ids and unsorted order still round-trip (deltas wrap).
  std::vector<Datom> odd(3);
  odd[0].e = kEmax;
  odd[0].tx = std::numeric_limits<int64_t>::min();
  odd[0].a = InternKeyword("a/b")->id;
  odd[1].e = std::numeric_limits<int64_t>::min();
  odd[1].tx = kEmax;
  odd[1].a = InternKeyword("a/c")->id;
  odd[1].v = Value::String("v");
  odd[2].e = 0;
  odd[2].a = InternKeyword("a/b")->id;
  odd[2].added = false;
  EXPECT_TRUE(SameDatoms(DecodeDatoms(EncodeDatoms(odd)), odd));
  // An EAVT-ordered block of long values: a few bytes per datom, not 40.
  std::vector<Datom> dense;
  for (int64_t e = 1; e <= 1000; ++e) {
    Datom d;
    d.e = e;
    d.a = InternKeyword("person/age")->id;
    d.v = Value::Long(e % 90);
    d.tx = kTx0 + 1 + e / 100;
    dense.push_back(d);
  }
  const std::string blob = EncodeDatoms(dense);
  EXPECT_LT(blob.size(), 1000u * 6);
  std::printf("[ codec ] 1000 EAVT datoms with long values: %zu bytes\n", blob.size());
}

TEST(Codec, TruncationAtEveryByteIsCorrupt) {
  Gen gen(11);
  const std::string value_blob = EncodeValue(gen.Any(4));
  const std::string datom_blob = EncodeDatoms(SortedDatoms(gen, 50));
  for (size_t cut = 0; cut < value_blob.size(); ++cut) {
    EXPECT_EQ(CodeOf([&] { DecodeValue(std::string_view(value_blob).substr(0, cut)); }),
              "storage/corrupt")
        << cut;
  }
  for (size_t cut = 0; cut < datom_blob.size(); ++cut) {
    EXPECT_EQ(CodeOf([&] { DecodeDatoms(std::string_view(datom_blob).substr(0, cut)); }),
              "storage/corrupt")
        << cut;
  }
}

TEST(Codec, BitFlipsAreCorrupt) {
  Gen gen(13);
  std::mt19937_64 rng(5);
  for (int round = 0; round < 200; ++round) {
    std::string blob = round % 2 ? EncodeValue(gen.Any(3)) : EncodeDatoms(SortedDatoms(gen, 20));
    const size_t bit = rng() % (blob.size() * 8);
    blob[bit / 8] = static_cast<char>(blob[bit / 8] ^ (1 << (bit % 8)));
    const std::string code = CodeOf([&] {
      if (round % 2) {
        DecodeValue(blob);
      } else {
        DecodeDatoms(blob);
      }
    });
    // A flip of the version byte reads as a newer format; anything else fails the checksum.
    EXPECT_TRUE(code == "storage/corrupt" || code == "storage/unsupported-format") << code;
  }
}

// Damage behind a valid checksum (a bug or a malicious file): the decoder must fail cleanly.
TEST(Codec, DamagedBodiesWithValidChecksumNeverCrash) {
  Gen gen(17);
  std::mt19937_64 rng(9);
  int decoded = 0, rejected = 0;
  for (int round = 0; round < 4000; ++round) {
    const bool datoms = round % 2 == 0;
    std::string blob = datoms ? EncodeDatoms(SortedDatoms(gen, 5)) : EncodeValue(gen.Any(3));
    std::string body = blob.substr(0, blob.size() - 4);
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < edits && body.size() > 4; ++k) {
      const size_t at = 4 + rng() % (body.size() - 4);
      switch (rng() % 3) {
        case 0:
          body[at] = static_cast<char>(rng());
          break;
        case 1:
          body.erase(at, 1 + rng() % 4);
          break;
        default:
          body.insert(at, 1, static_cast<char>(rng()));
          break;
      }
    }
    std::string fixed = body;
    const uint32_t crc = MaskCrc(Crc32c(body));
    for (int i = 0; i < 4; ++i) fixed.push_back(static_cast<char>(crc >> (8 * i)));
    try {
      if (datoms) {
        DecodeDatoms(fixed);
      } else {
        DecodeValue(fixed);
      }
      ++decoded;
    } catch (const Error& e) {
      EXPECT_EQ(StorageErrorCode(e), "storage/corrupt") << e.what();
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 1000);
}

TEST(Codec, HeaderChecks) {
  std::string blob = EncodeValue(Value::Long(5));
  EXPECT_EQ(CodeOf([&] { DecodeDatoms(blob); }), "storage/corrupt");  // wrong kind
  std::string newer = blob.substr(0, blob.size() - 4);
  newer[2] = static_cast<char>(kCodecVersion + 1);
  const uint32_t crc = MaskCrc(Crc32c(newer));
  for (int i = 0; i < 4; ++i) newer.push_back(static_cast<char>(crc >> (8 * i)));
  EXPECT_EQ(CodeOf([&] { DecodeValue(newer); }), "storage/unsupported-format");
  EXPECT_EQ(CodeOf([&] { DecodeValue(""); }), "storage/corrupt");
  EXPECT_EQ(CodeOf([&] { DecodeValue(blob + "x"); }), "storage/corrupt");
}

TEST(Crc32c, KnownVectors) {
  EXPECT_EQ(Crc32c("123456789"), 0xe3069283u);
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8a9136aau);
  std::string s(1000, 'q');
  EXPECT_EQ(Crc32cExtend(Crc32c(s.substr(0, 333)), s.data() + 333, 667), Crc32c(s));
  EXPECT_EQ(UnmaskCrc(MaskCrc(0x12345678u)), 0x12345678u);
}

}  // namespace
}  // namespace datahike::storage
