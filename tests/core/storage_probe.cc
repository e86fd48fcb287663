// A second process for the storage tests, and the storage microbenchmarks.
//
//   storage_probe writer <file|leveldb> <path> <seconds>   commit continuously for a while
//   storage_probe lock <file|leveldb> <path>               open as writer: exit 0, 3 when locked
//   storage_probe bench <file|leveldb> <path>              print AppendLog / GetNode figures
//
// The writer's commit i: a node "node-<i>:" + padding under a fresh id, a log record "rec-<i>",
// then root "db" = "<i>:<id>" (synced every 50 commits). The reader test checks every root it
// sees against those.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "core/storage/cached_store.h"
#include "core/storage/error_codes.h"
#include "core/storage/store.h"

using datahike::storage::NodeWrite;
using datahike::storage::OpenMode;
using datahike::storage::StoreBackend;
using datahike::storage::StoreConfig;
using Clock = std::chrono::steady_clock;

namespace {

StoreConfig Config(const std::string& backend, const std::string& path) {
  StoreConfig c;
  c.backend = backend == "leveldb" ? StoreBackend::kLevelDb : StoreBackend::kFile;
  c.path = path;
  return c;
}

int Writer(const StoreConfig& c, double seconds) {
  auto store = datahike::storage::Open(c, OpenMode::kWriter);
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  const std::string padding(1500, 'p');
  for (uint64_t i = 1; Clock::now() < end; ++i) {
    const uint64_t id = store->AllocateNodeIds(1);
    const std::string node = "node-" + std::to_string(i) + ":" + padding;
    const NodeWrite w{id, node};
    store->PutNodes({&w, 1});
    store->AppendLog("rec-" + std::to_string(i), false);
    store->SetRoot("db", std::to_string(i) + ":" + std::to_string(id), i % 50 == 0);
  }
  return 0;
}

int Lock(const StoreConfig& c) {
  try {
    auto store = datahike::storage::Open(c, OpenMode::kWriter);
  } catch (const datahike::Error& e) {
    if (datahike::storage::StorageErrorCode(e) == "storage/locked") return 3;
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

void BenchAppend(const StoreConfig& c, const char* name, bool sync, int threads, int per_thread) {
  datahike::storage::Destroy(c);
  auto store = datahike::storage::Open(c, OpenMode::kWriter);
  const std::string record(200, 'r');
  const auto start = Clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i = 0; i < per_thread; ++i) store->AppendLog(record, sync);
    });
  }
  for (auto& th : pool) th.join();
  const double s = Seconds(start);
  std::printf("%-8s AppendLog 200 B sync=%d threads=%d: %10.0f ops/s\n", name, sync ? 1 : 0,
              threads, threads * per_thread / s);
}

void BenchGet(const StoreConfig& base, const char* name) {
  StoreConfig c = base;
  datahike::storage::Destroy(c);
  constexpr int kNodes = 2000;
  const std::string node(4096, 'n');
  {
    auto store = datahike::storage::Open(c, OpenMode::kWriter);
    const uint64_t first = store->AllocateNodeIds(kNodes);
    std::vector<NodeWrite> batch;
    for (int i = 0; i < kNodes; ++i) batch.push_back({first + i, node});
    store->PutNodes(batch);
    store->Sync();
  }
  for (bool cached : {false, true}) {
    auto store = cached ? datahike::storage::Open(c, OpenMode::kWriter)
                        : datahike::storage::OpenUncached(c, OpenMode::kWriter);
    for (int i = 0; i < kNodes; ++i) store->GetNode(1 + i);  // warm the OS / LevelDB caches
    const int rounds = cached ? 200 : 10;
    const auto start = Clock::now();
    size_t bytes = 0;
    for (int r = 0; r < rounds; ++r) {
      for (int i = 0; i < kNodes; ++i) bytes += store->GetNode(1 + i)->size();
    }
    const double ns = Seconds(start) * 1e9 / (rounds * kNodes);
    std::printf("%-8s GetNode 4 KiB %s: %8.0f ns/op (%zu bytes read)\n", name,
                cached ? "cached  " : "uncached", ns, bytes);
  }
}

int Bench(const StoreConfig& c, const std::string& name) {
  BenchAppend(c, name.c_str(), false, 1, 200000);
  BenchAppend(c, name.c_str(), true, 1, 300);
  BenchAppend(c, name.c_str(), true, 8, 300);
  BenchGet(c, name.c_str());
  datahike::storage::Destroy(c);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: storage_probe writer|lock|bench file|leveldb PATH [SECONDS]\n");
    return 2;
  }
  const std::string mode = argv[1];
  const StoreConfig c = Config(argv[2], argv[3]);
  try {
    if (mode == "writer") return Writer(c, argc > 4 ? std::atof(argv[4]) : 1.0);
    if (mode == "lock") return Lock(c);
    if (mode == "bench") return Bench(c, argv[2]);
  } catch (const datahike::Error& e) {
    std::fprintf(stderr, "storage_probe: %s\n", e.what());
    return 1;
  }
  return 2;
}
