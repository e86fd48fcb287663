// Durable write and reopen figures: small transactions per second on :file and :leveldb with and
// without fsync (:sync?), from one thread and from four, and the time to reopen (root + log
// replay). Usage: bench_durable [DIR] (default: a fresh directory under /tmp).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "core/api/connection.h"
#include "core/value/edn.h"

using namespace datahike;
namespace fs = std::filesystem;

namespace {
double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

int main(int argc, char** argv) {
  const std::string base = argc > 1 ? argv[1] : (fs::temp_directory_path() / "bench-durable").string();
  fs::remove_all(base);
  const char* schema =
      "[{:db/ident :name :db/valueType :db.type/string :db/cardinality :db.cardinality/one "
      "  :db/unique :db.unique/identity} {:db/ident :age :db/valueType :db.type/long "
      "  :db/cardinality :db.cardinality/one}]";
  std::printf("%-8s %-6s %8s %12s %12s %12s\n", "backend", "sync?", "threads", "tx/s", "reopen ms",
              "txs");
  for (const char* backend : {"file", "leveldb"}) {
    for (bool sync : {true, false}) {
      for (int threads : {1, 4}) {
        const std::string path = base + "/" + backend + (sync ? "-sync" : "-nosync") +
                                 std::to_string(threads);
        const std::string cfg_text = std::string("{:store {:backend :") + backend + " :path \"" +
                                     path + "\" :sync? " + (sync ? "true" : "false") + "}}";
        Value cfg = edn::Read(cfg_text);
        api::CreateDatabase(cfg);
        auto conn = api::Connection::Connect(cfg);
        conn->Transact(edn::Read(schema));
        const int per_thread = sync ? 500 : 5000;
        auto t0 = std::chrono::steady_clock::now();
        std::vector<std::thread> ts;
        for (int t = 0; t < threads; ++t) {
          ts.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i) {
              conn->Transact(edn::Read("[{:name \"p" + std::to_string(t) + "-" +
                                       std::to_string(i) + "\" :age " + std::to_string(i) + "}]"));
            }
          });
        }
        for (auto& th : ts) th.join();
        const double write_s = Seconds(t0);
        const int n = per_thread * threads;
        conn->Release();
        t0 = std::chrono::steady_clock::now();
        auto again = api::Connection::Connect(cfg);
        const double reopen_s = Seconds(t0);
        again->Release();
        std::printf("%-8s %-6s %8d %12.0f %12.1f %12d\n", backend, sync ? "true" : "false", threads,
                    n / write_s, reopen_s * 1000, n);
        api::DeleteDatabase(cfg);
      }
    }
  }
  fs::remove_all(base);
  return 0;
}
