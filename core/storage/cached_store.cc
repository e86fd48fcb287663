#include "core/storage/cached_store.h"

namespace datahike::storage {

CachedStore::CachedStore(std::unique_ptr<Store> base, size_t cache_bytes)
    : Store(base->read_only()), base_(std::move(base)), cache_(cache_bytes) {}

Blob CachedStore::GetNode(uint64_t id) {
  if (Blob hit = cache_.Get(id)) return hit;
  Blob blob = base_->GetNode(id);
  cache_.Put(id, blob, blob->size() + 64);  // + map and list overhead
  return blob;
}

void CachedStore::DeleteNodes(std::span<const uint64_t> ids) {
  for (uint64_t id : ids) cache_.Erase(id);
  base_->DeleteNodes(ids);
}

}  // namespace datahike::storage
