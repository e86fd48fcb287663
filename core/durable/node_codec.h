// Index nodes as stored blobs, and the NodeSource that loads a stored datom tree lazily.
//
// A node blob (codec BlobKind::kIndexNode) holds:
//   varint order (0 EAVT, 1 AEVT, 2 AVET) | varint is_leaf |
//   leaf:   the datoms (a codec datom block, sorted in the order)
//   branch: the children's maximum datoms (a datom block), varint child count, then per child
//           varint node id and varint element count of its subtree
// The order is checked on load, so a node is never read into the wrong index.
#pragma once

#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/index/lazy_index.h"
#include "core/storage/codec.h"
#include "core/storage/error_codes.h"
#include "core/storage/store.h"

namespace datahike::durable {

template <class Less>
constexpr uint64_t OrderTag() {
  if constexpr (std::is_same_v<Less, EavtLess>) return 0;
  if constexpr (std::is_same_v<Less, AevtLess>) return 1;
  return 2;
}

template <class Less>
std::string EncodeNode(const typename DatomTree<Less>::Node& n) {
  storage::BlobWriter w(storage::BlobKind::kIndexNode);
  w.PutVarint(OrderTag<Less>());
  w.PutVarint(n.is_leaf() ? 1 : 0);
  w.PutDatoms(n.keys());
  if (!n.is_leaf()) {
    w.PutVarint(n.num_children());
    for (size_t i = 0; i < n.num_children(); ++i) {
      w.PutVarint(n.child_address(i));
      w.PutVarint(n.counts()[i]);
    }
  }
  return w.Finish();
}

// Throws :storage/corrupt when the blob is not a well-formed node of this order.
template <class Less>
std::shared_ptr<const typename DatomTree<Less>::Node> DecodeNode(std::string_view blob,
                                                                 uint64_t id) {
  using Node = typename DatomTree<Less>::Node;
  auto bad = [id](const std::string& what) {
    storage::ThrowCorrupt("Index node " + std::to_string(id) + " is damaged: " + what + ".");
  };
  storage::BlobReader r(blob, storage::BlobKind::kIndexNode);
  if (r.GetVarint() != OrderTag<Less>()) bad("it belongs to another index");
  const uint64_t leaf = r.GetVarint();
  if (leaf > 1) bad("bad node type");
  std::vector<Datom> keys = r.GetDatoms();
  if (keys.empty()) bad("no entries");
  if (leaf == 1) {
    r.ExpectDone();
    return Node::MakeLeaf(std::move(keys), id);
  }
  if (r.GetVarint() != keys.size()) bad("child count differs from key count");
  std::vector<uint64_t> children(keys.size());
  std::vector<size_t> counts(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    children[i] = r.GetVarint();
    counts[i] = static_cast<size_t>(r.GetVarint());
    if (children[i] == 0 || counts[i] == 0) bad("a child without an id or elements");
  }
  r.ExpectDone();
  return Node::MakeBranch(std::move(keys), children, std::move(counts), id);
}

// The store behind a database's trees, shared by its NodeSources. Close() takes the store away
// (releasing the writer's lock); a later load opens the store read-only, so database values held
// past a connection's release keep working while the files exist.
class StoreHandle {
 public:
  StoreHandle(std::shared_ptr<storage::Store> store, storage::StoreConfig config)
      : store_(std::move(store)), config_(std::move(config)) {}

  storage::Blob GetNode(uint64_t id) {
    {
      std::shared_lock<std::shared_mutex> lock(mu_);
      if (store_ != nullptr) return store_->GetNode(id);
    }
    std::unique_lock<std::shared_mutex> lock(mu_);
    if (store_ == nullptr) store_ = storage::Open(config_, storage::OpenMode::kReader);
    return store_->GetNode(id);
  }
  // Waits for loads in progress, then drops the store (the writer's lock goes with it when this
  // was the last reference).
  void Close() {
    std::unique_lock<std::shared_mutex> lock(mu_);
    store_.reset();
  }

 private:
  std::shared_mutex mu_;
  std::shared_ptr<storage::Store> store_;
  const storage::StoreConfig config_;
};

template <class Less>
class StoreNodeSource final : public DatomTree<Less>::NodeSource {
 public:
  explicit StoreNodeSource(std::shared_ptr<StoreHandle> handle) : handle_(std::move(handle)) {}
  std::shared_ptr<const typename DatomTree<Less>::Node> Load(uint64_t address) const override {
    storage::Blob blob = handle_->GetNode(address);
    return DecodeNode<Less>(*blob, address);
  }

 private:
  std::shared_ptr<StoreHandle> handle_;
};

}  // namespace datahike::durable
