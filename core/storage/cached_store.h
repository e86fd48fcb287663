// A Store decorator that keeps recently read node blobs in a NodeCache. Nodes are immutable and
// their ids are never reused, so cached blobs never go stale; DeleteNodes evicts them.
#pragma once

#include <memory>

#include "core/storage/node_cache.h"
#include "core/storage/store.h"

namespace datahike::storage {

class CachedStore final : public Store {
 public:
  CachedStore(std::unique_ptr<Store> base, size_t cache_bytes);

  void PutNodes(std::span<const NodeWrite> nodes) override { base_->PutNodes(nodes); }
  Blob GetNode(uint64_t id) override;
  void DeleteNodes(std::span<const uint64_t> ids) override;
  void ForEachNodeId(const std::function<void(uint64_t)>& fn) override { base_->ForEachNodeId(fn); }
  uint64_t AllocateNodeIds(uint64_t count) override { return base_->AllocateNodeIds(count); }
  uint64_t AppendLog(std::string_view record, bool sync) override {
    return base_->AppendLog(record, sync);
  }
  void ReadLog(uint64_t from_seq,
               const std::function<bool(uint64_t, std::string_view)>& fn) override {
    base_->ReadLog(from_seq, fn);
  }
  void TruncateLogBefore(uint64_t seq) override { base_->TruncateLogBefore(seq); }
  uint64_t NextLogSeq() override { return base_->NextLogSeq(); }
  std::optional<std::string> GetRoot(std::string_view branch) override {
    return base_->GetRoot(branch);
  }
  void SetRoot(std::string_view branch, std::string_view root, bool sync) override {
    base_->SetRoot(branch, root, sync);
  }
  void DeleteRoot(std::string_view branch) override { base_->DeleteRoot(branch); }
  std::vector<std::string> Branches() override { return base_->Branches(); }
  void Sync() override { base_->Sync(); }
  void Refresh() override { base_->Refresh(); }

  Store& base() { return *base_; }
  NodeCache<std::string>& cache() { return cache_; }

 private:
  std::unique_ptr<Store> base_;
  NodeCache<std::string> cache_;
};

}  // namespace datahike::storage
