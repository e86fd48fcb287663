// The :memory backend: a process-wide registry of states by id, so that every open of the same id
// sees the same data until Destroy. Nothing is durable; Sync is a no-op.
#include <deque>
#include <map>
#include <mutex>
#include <unordered_map>

#include "core/storage/backends.h"
#include "core/storage/error_codes.h"

namespace datahike::storage {
namespace {

struct MemoryState {
  std::mutex mu;
  std::unordered_map<uint64_t, Blob> nodes;
  std::deque<std::string> log;  // log[i] has sequence number log_start + i
  uint64_t log_start = 1;
  std::map<std::string, std::string, std::less<>> roots;
  uint64_t next_id = 1;
  bool writer_open = false;  // guarded by the registry's mutex
};

struct Registry {
  std::mutex mu;
  std::unordered_map<std::string, std::shared_ptr<MemoryState>> states;
};
Registry& GetRegistry() {
  static Registry* r = new Registry();  // never destroyed: stores may close during exit
  return *r;
}

[[noreturn]] void Locked(const StoreConfig& c) {
  ThrowStorageError(ErrorKind::kConflict, "storage/locked",
                    "The memory store \"" + c.id + "\" is already open for writing.",
                    {{Kw("id"), Value::String(c.id)}});
}

class MemoryStore final : public Store {
 public:
  MemoryStore(std::shared_ptr<MemoryState> state, bool read_only)
      : Store(read_only), state_(std::move(state)) {}
  ~MemoryStore() override {
    if (read_only()) return;
    std::lock_guard<std::mutex> lock(GetRegistry().mu);
    state_->writer_open = false;
  }

  void PutNodes(std::span<const NodeWrite> nodes) override {
    RequireWriter("PutNodes");
    std::vector<std::pair<uint64_t, Blob>> blobs;
    blobs.reserve(nodes.size());
    for (const NodeWrite& n : nodes) {
      blobs.emplace_back(n.id, std::make_shared<const std::string>(n.bytes));
    }
    std::lock_guard<std::mutex> lock(state_->mu);
    for (auto& [id, blob] : blobs) state_->nodes[id] = std::move(blob);
  }
  Blob GetNode(uint64_t id) override {
    std::lock_guard<std::mutex> lock(state_->mu);
    auto it = state_->nodes.find(id);
    if (it == state_->nodes.end()) {
      ThrowStorageError(ErrorKind::kStorage, "storage/missing-node",
                        "Node " + std::to_string(id) + " is not in the store.",
                        {{Kw("id"), Value::Long(static_cast<int64_t>(id))}});
    }
    return it->second;
  }
  void DeleteNodes(std::span<const uint64_t> ids) override {
    RequireWriter("DeleteNodes");
    std::lock_guard<std::mutex> lock(state_->mu);
    for (uint64_t id : ids) state_->nodes.erase(id);
  }
  void ForEachNodeId(const std::function<void(uint64_t)>& fn) override {
    std::vector<uint64_t> ids;
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      ids.reserve(state_->nodes.size());
      for (const auto& [id, blob] : state_->nodes) ids.push_back(id);
    }
    for (uint64_t id : ids) fn(id);
  }
  uint64_t AllocateNodeIds(uint64_t count) override {
    RequireWriter("AllocateNodeIds");
    std::lock_guard<std::mutex> lock(state_->mu);
    const uint64_t first = state_->next_id;
    state_->next_id += count;
    return first;
  }

  uint64_t AppendLog(std::string_view record, bool) override {
    RequireWriter("AppendLog");
    std::string copy(record);
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->log.push_back(std::move(copy));
    return state_->log_start + state_->log.size() - 1;
  }
  void ReadLog(uint64_t from_seq,
               const std::function<bool(uint64_t, std::string_view)>& fn) override {
    // Copy out under the lock, call fn without it (fn may append or read again).
    uint64_t seq = from_seq;
    while (true) {
      std::vector<std::string> chunk;
      {
        std::lock_guard<std::mutex> lock(state_->mu);
        seq = std::max(seq, state_->log_start);
        for (uint64_t i = seq - state_->log_start; i < state_->log.size() && chunk.size() < 256;
             ++i) {
          chunk.push_back(state_->log[i]);
        }
      }
      if (chunk.empty()) return;
      for (const std::string& r : chunk) {
        if (!fn(seq++, r)) return;
      }
    }
  }
  void TruncateLogBefore(uint64_t seq) override {
    RequireWriter("TruncateLogBefore");
    std::lock_guard<std::mutex> lock(state_->mu);
    const uint64_t end = state_->log_start + state_->log.size();
    seq = std::min(seq, end);
    while (state_->log_start < seq) {
      state_->log.pop_front();
      ++state_->log_start;
    }
  }
  uint64_t NextLogSeq() override {
    std::lock_guard<std::mutex> lock(state_->mu);
    return state_->log_start + state_->log.size();
  }

  std::optional<std::string> GetRoot(std::string_view branch) override {
    std::lock_guard<std::mutex> lock(state_->mu);
    auto it = state_->roots.find(branch);
    if (it == state_->roots.end()) return std::nullopt;
    return it->second;
  }
  void SetRoot(std::string_view branch, std::string_view root, bool) override {
    RequireWriter("SetRoot");
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->roots.insert_or_assign(std::string(branch), std::string(root));
  }
  void DeleteRoot(std::string_view branch) override {
    RequireWriter("DeleteRoot");
    std::lock_guard<std::mutex> lock(state_->mu);
    auto it = state_->roots.find(branch);
    if (it != state_->roots.end()) state_->roots.erase(it);
  }
  std::vector<std::string> Branches() override {
    std::lock_guard<std::mutex> lock(state_->mu);
    std::vector<std::string> out;
    for (const auto& [name, root] : state_->roots) out.push_back(name);
    return out;
  }
  void Sync() override {}
  void Refresh() override {}

 private:
  std::shared_ptr<MemoryState> state_;
};

}  // namespace

std::unique_ptr<Store> OpenMemoryStore(const StoreConfig& config, OpenMode mode) {
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  auto it = r.states.find(config.id);
  if (mode == OpenMode::kReader) {
    if (it == r.states.end()) {
      ThrowStorageError(ErrorKind::kNotFound, "storage/missing-store",
                        "No memory store \"" + config.id + "\".",
                        {{Kw("id"), Value::String(config.id)}});
    }
    return std::make_unique<MemoryStore>(it->second, true);
  }
  if (it == r.states.end()) {
    it = r.states.emplace(config.id, std::make_shared<MemoryState>()).first;
  }
  if (it->second->writer_open) Locked(config);
  it->second->writer_open = true;
  return std::make_unique<MemoryStore>(it->second, false);
}

bool MemoryStoreExists(const StoreConfig& config) {
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  return r.states.count(config.id) != 0;
}

void DestroyMemoryStore(const StoreConfig& config) {
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  auto it = r.states.find(config.id);
  if (it == r.states.end()) return;
  if (it->second->writer_open) Locked(config);
  r.states.erase(it);
}

}  // namespace datahike::storage
