// A persistent (immutable, copy-on-write) B+-tree with structural sharing: the sorted set behind
// every index.
//
// A PersistentTree is a value: copying it copies a root pointer, and every update returns a new
// version that shares all untouched nodes with the old one (path copying). Versions are immutable,
// so any number of threads may read them concurrently. A Transient batches many updates: it copies
// a node once and then mutates its own copies in place, never the nodes it shares with persistent
// versions.
//
// Leaves hold their elements in one sorted contiguous array. Branches hold, per child, a reference,
// the maximum element of the child's subtree and the child's element count (for O(log n) rank
// queries). Every non-root node holds between half and all of its capacity; the root may hold
// fewer.
//
// Durable storage: every node has an address (0 = not stored yet) and children are referenced
// through a ChildRef (a loaded pointer and/or an address). A tree opened from storage (Open) loads
// nodes lazily through its NodeSource the first time a reader needs them; a loaded node stays
// cached in its parent's ChildRef for the life of that parent. AssignAddresses and VisitNodes are
// the hooks for a serializer.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <numeric>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/value/error.h"

namespace datahike::index {

// T: the element type (movable, copyable). Less: a stateless, default-constructible strict weak
// order on T. Elements equal under Less are the same element (a set, not a multiset).
template <class T, class Less, size_t kLeafCap = 128, size_t kBranchCap = 64>
class PersistentTree {
  static_assert(kLeafCap >= 4 && kBranchCap >= 4, "node capacities must be at least 4");

  // Only the tree can name this, so only the tree can construct nodes directly.
  struct PassKey {
    explicit PassKey() = default;
  };

 public:
  class Node;

  // Loads stored nodes by address for trees opened from storage. Implementations must be
  // thread-safe. Load never returns a node whose address differs from the one asked for; it throws
  // datahike::Error on failure (a nullptr result is reported as a kStorage error).
  class NodeSource {
   public:
    virtual ~NodeSource() = default;
    virtual std::shared_ptr<const Node> Load(uint64_t address) const = 0;
  };

  // A reference from a branch to a child: the loaded node, or only its address until a reader loads
  // it. Loading is a one-time, thread-safe transition (see LoadChild); after it the pointer never
  // changes.
  class ChildRef {
   public:
    ChildRef() = default;
    explicit ChildRef(std::shared_ptr<const Node> node)
        : owner_(std::move(node)), ptr_(owner_.get()) {}
    explicit ChildRef(uint64_t address) : address_(address) {}
    // A copy takes the loaded pointer only if the load has completed; otherwise it stays unloaded.
    ChildRef(const ChildRef& o) : address_(o.address_) {
      if (const Node* p = o.ptr_.load(std::memory_order_acquire)) {
        owner_ = o.owner_;
        ptr_.store(p, std::memory_order_relaxed);
      }
    }
    // Moves happen only inside nodes that one writer owns exclusively.
    ChildRef(ChildRef&& o) noexcept
        : owner_(std::move(o.owner_)),
          ptr_(o.ptr_.load(std::memory_order_relaxed)),
          address_(o.address_) {
      o.ptr_.store(nullptr, std::memory_order_relaxed);
    }
    ChildRef& operator=(const ChildRef& o) {
      if (this != &o) *this = ChildRef(o);
      return *this;
    }
    ChildRef& operator=(ChildRef&& o) noexcept {
      if (this != &o) {
        owner_ = std::move(o.owner_);
        ptr_.store(o.ptr_.load(std::memory_order_relaxed), std::memory_order_relaxed);
        o.ptr_.store(nullptr, std::memory_order_relaxed);
        address_ = o.address_;
      }
      return *this;
    }

    // The loaded node, or nullptr when it has not been loaded yet.
    const Node* get() const { return ptr_.load(std::memory_order_acquire); }
    // The child's address: the loaded node's own (it may have been assigned after this reference
    // was made), else the address this reference was created with. 0 = not stored.
    uint64_t address() const {
      const Node* p = get();
      return p != nullptr ? p->address() : address_;
    }

   private:
    friend class PersistentTree;
    mutable std::shared_ptr<const Node> owner_;  // written once, before ptr_ is published
    mutable std::atomic<const Node*> ptr_{nullptr};
    uint64_t address_ = 0;
  };

  class Node {
   public:
    Node(PassKey, bool leaf, uint64_t edit) : leaf_(leaf), edit_(edit) {}
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;

    // Constructors for deserializers. A leaf holds `elements` (sorted, unique, non-empty). A branch
    // holds one entry per child: the maximum element of its subtree, its address (nonzero) and its
    // element count. Children are loaded lazily through the tree's NodeSource.
    static std::shared_ptr<const Node> MakeLeaf(std::vector<T> elements, uint64_t address) {
      assert(!elements.empty());
      auto n = std::make_shared<Node>(PassKey{}, true, 0);
      n->keys_ = std::move(elements);
      n->address_.store(address, std::memory_order_relaxed);
      return n;
    }
    static std::shared_ptr<const Node> MakeBranch(std::vector<T> keys,
                                                  const std::vector<uint64_t>& child_addresses,
                                                  std::vector<size_t> counts, uint64_t address) {
      assert(keys.size() == child_addresses.size() && keys.size() == counts.size());
      auto n = std::make_shared<Node>(PassKey{}, false, 0);
      n->keys_ = std::move(keys);
      n->counts_ = std::move(counts);
      n->children_.reserve(child_addresses.size());
      for (uint64_t a : child_addresses) n->children_.emplace_back(a);
      n->address_.store(address, std::memory_order_relaxed);
      return n;
    }

    bool is_leaf() const { return leaf_; }
    // 0 until AssignAddresses (or a deserializer) gives the node one.
    uint64_t address() const { return address_.load(std::memory_order_relaxed); }
    // Leaf: its elements. Branch: the maximum element of each child's subtree.
    const std::vector<T>& keys() const { return keys_; }
    size_t num_children() const { return children_.size(); }
    uint64_t child_address(size_t i) const { return children_[i].address(); }
    // Branch: the element count of each child's subtree.
    const std::vector<size_t>& counts() const { return counts_; }
    size_t subtree_size() const {
      return leaf_ ? keys_.size() : std::accumulate(counts_.begin(), counts_.end(), size_t{0});
    }

   private:
    friend class PersistentTree;
    bool leaf_;
    uint64_t edit_;  // the transient that may mutate this node in place; 0 = none
    mutable std::atomic<uint64_t> address_{0};
    std::vector<T> keys_;
    std::vector<ChildRef> children_;  // branch only
    std::vector<size_t> counts_;      // branch only
  };

 private:
  static constexpr size_t Log2Floor(size_t v) {
    size_t r = 0;
    while (v > 1) {
      v >>= 1;
      ++r;
    }
    return r;
  }

 public:
  // Upper bound on the number of branch levels for any tree of at most 2^64 elements (non-root
  // branches have at least kBranchCap / 2 children).
  static constexpr size_t kMaxDepth = 2 + 64 / Log2Floor(kBranchCap / 2);

  // A bidirectional cursor over one version. Keeps that version alive. Valid() is false past either
  // end; Next, Prev and dereference REQUIRE Valid().
  class Iterator {
   public:
    Iterator() = default;
    bool Valid() const { return cur_ != nullptr; }
    const T& operator*() const {
      assert(Valid());
      return *cur_;
    }
    const T* operator->() const {
      assert(Valid());
      return cur_;
    }
    void Next() {
      assert(Valid());
      if (++cur_ != end_) return;
      while (depth_ > 0) {
        Frame& f = stack_[depth_ - 1];
        if (f.index + 1 < f.node->children_.size()) {
          ++f.index;
          DescendFirst(LoadChild(f.node->children_[f.index], source_.get()));
          return;
        }
        --depth_;
      }
      cur_ = nullptr;
    }
    void Prev() {
      assert(Valid());
      if (cur_ != begin_) {
        --cur_;
        return;
      }
      while (depth_ > 0) {
        Frame& f = stack_[depth_ - 1];
        if (f.index > 0) {
          --f.index;
          DescendLast(LoadChild(f.node->children_[f.index], source_.get()));
          return;
        }
        --depth_;
      }
      cur_ = nullptr;
    }

    // Moves forward to the first element e, at or after the current one, with !before(e)
    // (`before` monotone: true, then false), by binary search within leaves and skipping whole
    // leaves by their last element. Gives up (returns false, position unspecified but valid or at
    // the end) after stepping over `max_leaves` leaves, when a fresh seek is cheaper.
    template <class Before>
    bool AdvanceWhile(Before before, int max_leaves) {
      for (int leaves = 0; cur_ != nullptr; ++leaves) {
        if (!before(*(end_ - 1))) {
          cur_ = std::partition_point(cur_, end_, before);
          return true;
        }
        if (leaves >= max_leaves) return false;
        cur_ = end_ - 1;
        Next();  // the first element of the next leaf
      }
      return true;
    }

   private:
    friend class PersistentTree;
    struct Frame {
      const Node* node;
      size_t index;
    };

    Iterator(std::shared_ptr<const Node> root, std::shared_ptr<const NodeSource> source)
        : root_(std::move(root)), source_(std::move(source)) {}

    void Push(const Node* n, size_t i) {
      assert(depth_ < kMaxDepth);
      stack_[depth_++] = Frame{n, i};
    }
    void SetLeaf(const Node* leaf, size_t i) {
      begin_ = leaf->keys_.data();
      end_ = begin_ + leaf->keys_.size();
      cur_ = begin_ + i;
    }
    void DescendFirst(const Node* n) {
      while (!n->leaf_) {
        Push(n, 0);
        n = LoadChild(n->children_[0], source_.get());
      }
      SetLeaf(n, 0);
    }
    void DescendLast(const Node* n) {
      while (!n->leaf_) {
        size_t i = n->children_.size() - 1;
        Push(n, i);
        n = LoadChild(n->children_[i], source_.get());
      }
      SetLeaf(n, n->keys_.size() - 1);
    }

    std::shared_ptr<const Node> root_;
    std::shared_ptr<const NodeSource> source_;
    const T* cur_ = nullptr;  // nullptr when not Valid()
    const T* begin_ = nullptr;
    const T* end_ = nullptr;
    size_t depth_ = 0;  // branch frames on the stack; the current leaf is [begin_, end_)
    std::array<Frame, kMaxDepth> stack_{};
  };

  // Batch mode. Move-only; single-threaded. Mutates in place only nodes it created itself.
  class Transient {
   public:
    Transient(const Transient&) = delete;
    Transient& operator=(const Transient&) = delete;
    Transient(Transient&& o) noexcept
        : root_(std::move(o.root_)), size_(o.size_), source_(std::move(o.source_)), edit_(o.edit_) {
      o.size_ = 0;
      o.edit_ = 0;
    }
    Transient& operator=(Transient&& o) noexcept {
      if (this != &o) {
        root_ = std::move(o.root_);
        size_ = o.size_;
        source_ = std::move(o.source_);
        edit_ = o.edit_;
        o.size_ = 0;
        o.edit_ = 0;
      }
      return *this;
    }

    // True if x was added; false if an equal element was replaced by x.
    bool Insert(const T& x) {
      assert(edit_ != 0 && "use of an ended Transient");
      return InsertRoot(Editor{source_.get(), edit_}, &root_, &size_, x);
    }
    // True if an equal element was removed.
    bool Erase(const T& x) {
      assert(edit_ != 0 && "use of an ended Transient");
      return EraseRoot(Editor{source_.get(), edit_}, &root_, &size_, x);
    }
    size_t size() const { return size_; }
    bool Contains(const T& x) const { return Find(x) != nullptr; }
    // The equal element or nullptr; the pointer is invalidated by the next Insert or Erase.
    const T* Find(const T& x) const {
      assert(edit_ != 0 && "use of an ended Transient");
      return FindIn(root_.get(), source_.get(), x);
    }
    // A cursor over the transient's current contents; invalidated by the next Insert or Erase.
    template <class Probe>
    Iterator Seek(Probe probe) const {
      assert(edit_ != 0 && "use of an ended Transient");
      return PersistentTree(root_, size_, source_).Seek(probe);
    }
    Iterator Begin() const {
      assert(edit_ != 0 && "use of an ended Transient");
      return PersistentTree(root_, size_, source_).Begin();
    }
    // The first element with probe(e) >= 0 (see Seek), or nullptr; no cursor is built. The pointer
    // is invalidated by the next Insert or Erase.
    template <class Probe>
    const T* First(Probe probe) const {
      assert(edit_ != 0 && "use of an ended Transient");
      return FirstIn(root_.get(), source_.get(), probe);
    }
    // Ends the transient and returns its contents as a persistent version. Any later use of this
    // Transient is a programmer error.
    PersistentTree Persistent() {
      assert(edit_ != 0 && "use of an ended Transient");
      edit_ = 0;
      PersistentTree t(std::move(root_), size_, std::move(source_));
      size_ = 0;
      return t;
    }

   private:
    friend class PersistentTree;
    Transient(std::shared_ptr<const Node> root, size_t size,
              std::shared_ptr<const NodeSource> source)
        : root_(std::move(root)), size_(size), source_(std::move(source)), edit_(NextEdit()) {}

    std::shared_ptr<const Node> root_;
    size_t size_;
    std::shared_ptr<const NodeSource> source_;
    uint64_t edit_;  // 0 once ended
  };

  PersistentTree() = default;

  // REQUIRES: v sorted and unique under Less. Builds bottom-up with evenly filled, near-full nodes.
  static PersistentTree FromSorted(std::vector<T> v) {
    assert(std::adjacent_find(v.begin(), v.end(),
                              [](const T& a, const T& b) { return !Less()(a, b); }) == v.end());
    if (v.empty()) return PersistentTree();
    const size_t n = v.size();
    std::vector<std::shared_ptr<const Node>> level;
    size_t count = (n + kLeafCap - 1) / kLeafCap;
    level.reserve(count);
    size_t pos = 0;
    for (size_t k = 0; k < count; ++k) {
      size_t len = n / count + (k < n % count ? 1 : 0);
      auto leaf = NewNode(true, 0, len);
      leaf->keys_.assign(std::make_move_iterator(v.begin() + pos),
                         std::make_move_iterator(v.begin() + pos + len));
      pos += len;
      level.push_back(std::move(leaf));
    }
    while (level.size() > 1) {
      const size_t m = level.size();
      count = (m + kBranchCap - 1) / kBranchCap;
      std::vector<std::shared_ptr<const Node>> next;
      next.reserve(count);
      pos = 0;
      for (size_t k = 0; k < count; ++k) {
        size_t len = m / count + (k < m % count ? 1 : 0);
        auto branch = NewNode(false, 0, len);
        for (size_t c = pos; c < pos + len; ++c) {
          branch->keys_.push_back(level[c]->keys_.back());
          branch->counts_.push_back(level[c]->subtree_size());
          branch->children_.emplace_back(std::move(level[c]));
        }
        pos += len;
        next.push_back(std::move(branch));
      }
      level = std::move(next);
    }
    return PersistentTree(std::move(level[0]), n, nullptr);
  }

  // The tree stored with root `root_address` (0 = the empty tree). Loads the root now and every
  // other node when first needed. Updates to the result keep using `source` for untouched stored
  // nodes.
  static PersistentTree Open(uint64_t root_address, std::shared_ptr<const NodeSource> source) {
    assert(source != nullptr);
    if (root_address == 0) return PersistentTree(nullptr, 0, std::move(source));
    std::shared_ptr<const Node> root = source->Load(root_address);
    if (root == nullptr) throw NotFound(root_address);
    size_t size = root->subtree_size();
    return PersistentTree(std::move(root), size, std::move(source));
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // A new version with x; an equal element, if present, is replaced by x.
  PersistentTree Insert(const T& x) const {
    PersistentTree t = *this;
    InsertRoot(Editor{source_.get(), 0}, &t.root_, &t.size_, x);
    return t;
  }
  // A new version without x; the same version (SameRoot) if x is absent.
  PersistentTree Erase(const T& x) const {
    PersistentTree t = *this;
    EraseRoot(Editor{source_.get(), 0}, &t.root_, &t.size_, x);
    return t;
  }
  bool Contains(const T& x) const { return Find(x) != nullptr; }
  // The element equal to x, or nullptr. The pointer lives as long as this version.
  const T* Find(const T& x) const { return FindIn(root_.get(), source_.get(), x); }

  // A transient starting from this version; this version is never affected by it.
  Transient AsTransient() const { return Transient(root_, size_, source_); }

  Iterator Begin() const {
    Iterator it(root_, source_);
    if (root_) it.DescendFirst(root_.get());
    return it;
  }
  // The greatest element, or nullptr (a branch's keys are its children's greatest elements).
  const T* Max() const { return root_ ? &root_->keys_.back() : nullptr; }
  Iterator Last() const {
    Iterator it(root_, source_);
    if (root_) it.DescendLast(root_.get());
    return it;
  }
  // First element e with !Less(e, x).
  Iterator LowerBound(const T& x) const {
    return SeekFirstNotBefore([&x](const T& e) { return Less()(e, x); });
  }
  // First element e with Less(x, e).
  Iterator UpperBound(const T& x) const {
    return SeekFirstNotBefore([&x](const T& e) { return !Less()(x, e); });
  }
  // REQUIRES: probe(e) is an int, monotone non-decreasing in tree order; < 0 means "before the
  // target". Returns the first element with probe(e) >= 0.
  template <class Probe>
  Iterator Seek(Probe probe) const {
    return SeekFirstNotBefore([&probe](const T& e) { return probe(e) < 0; });
  }
  // Same probe contract. The first element with probe(e) >= 0, or nullptr; no cursor is built.
  // The pointer lives as long as this version.
  template <class Probe>
  const T* First(Probe probe) const {
    return FirstIn(root_.get(), source_.get(), probe);
  }
  // Same probe contract. Returns the last element with probe(e) <= 0 (start of a reverse scan).
  template <class Probe>
  Iterator SeekLastAtOrBefore(Probe probe) const {
    Iterator it = SeekFirstNotBefore([&probe](const T& e) { return probe(e) <= 0; });
    if (!it.Valid()) return Last();
    it.Prev();
    return it;
  }

  // Number of elements e with Less(e, x). O(log n).
  size_t Rank(const T& x) const {
    const Node* n = root_.get();
    if (n == nullptr) return 0;
    size_t rank = 0;
    while (!n->leaf_) {
      size_t i = LowerIndex(n->keys_, x);
      const size_t* counts = n->counts_.data();
      if (i == n->keys_.size()) return std::accumulate(counts, counts + i, rank);
      rank = std::accumulate(counts, counts + i, rank);
      n = LoadChild(n->children_[i], source_.get());
    }
    return rank + LowerIndex(n->keys_, x);
  }
  // Number of elements e with before(e); `before` is monotone (true, then false, in tree order).
  // O(log n).
  template <class Before>
  size_t RankIf(Before before) const {
    const Node* n = root_.get();
    if (n == nullptr) return 0;
    size_t rank = 0;
    while (!n->leaf_) {
      size_t i = static_cast<size_t>(
          std::partition_point(n->keys_.begin(), n->keys_.end(), before) - n->keys_.begin());
      const size_t* counts = n->counts_.data();
      rank = std::accumulate(counts, counts + i, rank);
      if (i == n->keys_.size()) return rank;
      n = LoadChild(n->children_[i], source_.get());
    }
    return rank + static_cast<size_t>(
                      std::partition_point(n->keys_.begin(), n->keys_.end(), before) -
                      n->keys_.begin());
  }
  // Number of elements in [LowerBound(lo), LowerBound(hi)); 0 when hi is not after lo. O(log n).
  size_t CountRange(const T& lo, const T& hi) const {
    if (!Less()(lo, hi)) return 0;
    return Rank(hi) - Rank(lo);
  }

  // Calls f(const T&) for every element in order.
  template <class F>
  void ForEach(F f) const {
    if (root_) ForEachIn(root_.get(), f);
  }

  // True if both versions have the same root node (or are both empty): identical contents, shared.
  bool SameRoot(const PersistentTree& o) const { return root_ == o.root_; }

  // Serializer hooks.
  //
  // Calls f(const Node&) for every node, parents before children, loading stored nodes as needed.
  // If f returns bool, false skips that node's children (e.g. a mark phase stopping at known
  // addresses).
  template <class F>
  void VisitNodes(F f) const {
    if (root_) VisitIn(root_.get(), f);
  }
  // Gives every node without an address one: calls assign(node) children first (so a branch's
  // child_address() values are already set), expecting a nonzero address back; typically assign
  // writes the node to storage. Nodes that have an address are skipped with their subtrees (a
  // stored node only references stored nodes), so after an update this visits only the new path.
  // Readers may run concurrently; concurrent AssignAddresses calls over shared unstored nodes must
  // be serialized.
  void AssignAddresses(const std::function<uint64_t(const Node&)>& assign) const {
    if (root_) AssignIn(root_.get(), assign);
  }
  // The root's address; 0 for an empty tree or an unstored root.
  uint64_t root_address() const { return root_ ? root_->address() : 0; }
  const std::shared_ptr<const NodeSource>& source() const { return source_; }

  // Checks every structural invariant (order, branch keys and counts, fill bounds, uniform leaf
  // depth, size), loading nodes as needed. Returns "" when all hold, else a description of the
  // first failure. O(n); for tests and debugging.
  std::string CheckInvariants() const {
    if (!root_) return size_ == 0 ? "" : "empty root with nonzero size";
    int leaf_depth = -1;
    const T* prev = nullptr;
    std::string err;
    size_t total = CheckIn(root_.get(), true, 0, &leaf_depth, &prev, &err);
    if (err.empty() && total != size_) err = "size mismatch";
    return err;
  }

 private:
  PersistentTree(std::shared_ptr<const Node> root, size_t size,
                 std::shared_ptr<const NodeSource> source)
      : root_(std::move(root)), size_(size), source_(std::move(source)) {}

  static uint64_t NextEdit() {
    static std::atomic<uint64_t> next{1};
    return next.fetch_add(1, std::memory_order_relaxed);
  }

  static Error NotFound(uint64_t address) {
    return Error(ErrorKind::kStorage,
                 "btree: stored node " + std::to_string(address) + " not found");
  }

  static std::mutex& LoadMutex(const void* slot) {
    static std::array<std::mutex, 64> mutexes;
    return mutexes[(reinterpret_cast<uintptr_t>(slot) >> 4) % mutexes.size()];
  }

  // The child's node, loading it through `source` on first use. Thread-safe: concurrent first uses
  // may both call Load, but exactly one result is installed and returned to all.
  static const Node* LoadChild(const ChildRef& c, const NodeSource* source) {
    if (const Node* p = c.ptr_.load(std::memory_order_acquire)) return p;
    return LoadChildSlow(c, source);
  }
  static const Node* LoadChildSlow(const ChildRef& c, const NodeSource* source) {
    if (source == nullptr) {
      throw Error(ErrorKind::kInternal, "btree: node " + std::to_string(c.address_) +
                                            " is not loaded and there is no source");
    }
    std::shared_ptr<const Node> loaded = source->Load(c.address_);
    if (loaded == nullptr) throw NotFound(c.address_);
    assert(loaded->address() == c.address_);
    std::lock_guard<std::mutex> lock(LoadMutex(&c));
    if (const Node* p = c.ptr_.load(std::memory_order_relaxed)) return p;
    c.owner_ = std::move(loaded);
    const Node* p = c.owner_.get();
    c.ptr_.store(p, std::memory_order_release);
    return p;
  }

  static size_t LowerIndex(const std::vector<T>& keys, const T& x) {
    auto it = std::lower_bound(keys.begin(), keys.end(), x, Less());
    return static_cast<size_t>(it - keys.begin());
  }
  // LowerIndex for inserts: checks the last key first, so appends (ascending ids) cost one
  // comparison.
  static size_t InsertIndex(const std::vector<T>& keys, const T& x) {
    if (Less()(keys.back(), x)) return keys.size();
    return LowerIndex(keys, x);
  }

  static std::shared_ptr<Node> NewNode(bool leaf, uint64_t edit, size_t reserve) {
    auto n = std::make_shared<Node>(PassKey{}, leaf, edit);
    n->keys_.reserve(reserve);
    if (!leaf) {
      n->children_.reserve(reserve);
      n->counts_.reserve(reserve);
    }
    return n;
  }

  static const T* FindIn(const Node* n, const NodeSource* source, const T& x) {
    if (n == nullptr) return nullptr;
    while (!n->leaf_) {
      size_t i = LowerIndex(n->keys_, x);
      if (i == n->keys_.size()) return nullptr;
      n = LoadChild(n->children_[i], source);
    }
    auto it = std::lower_bound(n->keys_.begin(), n->keys_.end(), x, Less());
    if (it == n->keys_.end() || Less()(x, *it)) return nullptr;
    return &*it;
  }

  // The first element with probe(e) >= 0 under node n, or nullptr. A branch key is the maximum of
  // its child's subtree, so the first child whose key is not before the target holds the answer.
  template <class Probe>
  static const T* FirstIn(const Node* n, const NodeSource* source, Probe& probe) {
    if (n == nullptr) return nullptr;
    auto before = [&](const T& e) { return probe(e) < 0; };
    while (!n->leaf_) {
      auto it = std::partition_point(n->keys_.begin(), n->keys_.end(), before);
      if (it == n->keys_.end()) return nullptr;
      n = LoadChild(n->children_[static_cast<size_t>(it - n->keys_.begin())], source);
    }
    auto it = std::partition_point(n->keys_.begin(), n->keys_.end(), before);
    return it == n->keys_.end() ? nullptr : &*it;
  }

  // The first element e with !before(e); `before` is monotone (true, then false, in tree order).
  template <class Before>
  Iterator SeekFirstNotBefore(Before before) const {
    Iterator it(root_, source_);
    const Node* n = root_.get();
    if (n == nullptr) return it;
    while (!n->leaf_) {
      size_t i = static_cast<size_t>(
          std::partition_point(n->keys_.begin(), n->keys_.end(), before) - n->keys_.begin());
      if (i == n->keys_.size()) return Iterator();
      it.Push(n, i);
      n = LoadChild(n->children_[i], source_.get());
    }
    size_t j = static_cast<size_t>(
        std::partition_point(n->keys_.begin(), n->keys_.end(), before) - n->keys_.begin());
    if (j == n->keys_.size()) {
      // Only at the root leaf, or if a probe separates elements that are equal under Less.
      it.SetLeaf(n, j - 1);
      it.Next();
    } else {
      it.SetLeaf(n, j);
    }
    return it;
  }

  template <class F>
  void ForEachIn(const Node* n, F& f) const {
    if (n->leaf_) {
      for (const T& e : n->keys_) f(e);
      return;
    }
    for (const ChildRef& c : n->children_) ForEachIn(LoadChild(c, source_.get()), f);
  }

  template <class F>
  void VisitIn(const Node* n, F& f) const {
    if constexpr (std::is_same_v<std::invoke_result_t<F&, const Node&>, bool>) {
      if (!f(*n)) return;
    } else {
      f(*n);
    }
    if (n->leaf_) return;
    for (const ChildRef& c : n->children_) VisitIn(LoadChild(c, source_.get()), f);
  }

  static void AssignIn(const Node* n, const std::function<uint64_t(const Node&)>& assign) {
    if (n->address() != 0) return;
    for (const ChildRef& c : n->children_) {
      // An unloaded child came from storage, so it has an address already.
      if (const Node* child = c.get()) AssignIn(child, assign);
    }
    uint64_t address = assign(*n);
    assert(address != 0);
    n->address_.store(address, std::memory_order_relaxed);
  }

  size_t CheckIn(const Node* n, bool is_root, int depth, int* leaf_depth, const T** prev,
                 std::string* err) const {
    const size_t cap = n->leaf_ ? kLeafCap : kBranchCap;
    const size_t min = is_root ? (n->leaf_ ? 1 : 2) : cap / 2;
    if (n->keys_.size() < min || n->keys_.size() > cap) {
      *err = "node fill " + std::to_string(n->keys_.size()) + " out of bounds";
      return 0;
    }
    if (n->leaf_) {
      if (*leaf_depth < 0) *leaf_depth = depth;
      if (*leaf_depth != depth) {
        *err = "leaves at different depths";
        return 0;
      }
      for (const T& e : n->keys_) {
        if (*prev != nullptr && !Less()(**prev, e)) {
          *err = "elements out of order";
          return 0;
        }
        *prev = &e;
      }
      return n->keys_.size();
    }
    if (n->children_.size() != n->keys_.size() || n->counts_.size() != n->keys_.size()) {
      *err = "branch vectors differ in length";
      return 0;
    }
    size_t total = 0;
    for (size_t i = 0; i < n->children_.size(); ++i) {
      const Node* c = LoadChild(n->children_[i], source_.get());
      size_t sub = CheckIn(c, false, depth + 1, leaf_depth, prev, err);
      if (!err->empty()) return 0;
      if (sub != n->counts_[i]) {
        *err = "branch count mismatch";
        return 0;
      }
      const T& max = c->keys_.back();
      if (Less()(max, n->keys_[i]) || Less()(n->keys_[i], max)) {
        *err = "branch key is not the child's maximum";
        return 0;
      }
      total += sub;
    }
    return total;
  }

  struct InsertResult {
    std::shared_ptr<Node> fresh;  // the node's replacement; nullptr if it was updated in place
    std::shared_ptr<Node> right;  // the new right sibling after a split, else nullptr
    bool added = false;           // false when an equal element was replaced
  };
  struct EraseResult {
    bool found = false;
    std::shared_ptr<Node> fresh;  // the node's replacement; nullptr if in place or not found
  };

  // The update algorithms, shared by persistent updates (edit 0: every node on the path is copied)
  // and transients (nodes carrying the transient's edit token are mutated in place). Nodes are
  // copied on the way back up, so an update that changes nothing copies nothing.
  //
  // Invariant relied on by the in-place path: a node carrying a live transient's token is reachable
  // only through nodes carrying the same token (every parent of a node created by an update is
  // itself owned or freshly copied by it), so a child updated in place never hangs below a shared
  // parent.
  class Editor {
   public:
    Editor(const NodeSource* source, uint64_t edit) : source_(source), edit_(edit) {}

    uint64_t edit() const { return edit_; }
    const Node* Load(const ChildRef& c) const { return LoadChild(c, source_); }

    // A node this update may mutate: n itself if the transient owns it (*fresh unchanged), else a
    // copy of n (stored in *fresh) with room for `want` entries.
    Node* Own(const Node* n, size_t want, std::shared_ptr<Node>* fresh) const {
      if (edit_ != 0 && n->edit_ == edit_) return const_cast<Node*>(n);
      const size_t cap = n->leaf_ ? kLeafCap : kBranchCap;
      auto m = NewNode(n->leaf_, edit_, edit_ != 0 ? cap + 1 : std::max(want, n->keys_.size()));
      m->keys_.assign(n->keys_.begin(), n->keys_.end());
      if (!n->leaf_) {
        m->children_.assign(n->children_.begin(), n->children_.end());
        m->counts_.assign(n->counts_.begin(), n->counts_.end());
      }
      Node* p = m.get();
      *fresh = std::move(m);
      return p;
    }

    InsertResult Insert(const Node* n, const T& x) const {
      InsertResult out;
      if (n->leaf_) {
        const size_t pos = InsertIndex(n->keys_, x);
        const bool equal = pos < n->keys_.size() && !Less()(x, n->keys_[pos]);
        Node* m = Own(n, n->keys_.size() + 1, &out.fresh);
        if (equal) {
          m->keys_[pos] = x;
          return out;
        }
        m->keys_.insert(m->keys_.begin() + pos, x);
        out.added = true;
        if (m->keys_.size() > kLeafCap) out.right = SplitOff(m);
        return out;
      }
      size_t i = InsertIndex(n->keys_, x);
      if (i == n->keys_.size()) --i;  // beyond every element: extend the last child
      const Node* child = Load(n->children_[i]);
      InsertResult r = Insert(child, x);
      out.added = r.added;
      Node* m = Own(n, n->keys_.size() + 1, &out.fresh);
      const Node* c = child;
      if (r.fresh) {
        c = r.fresh.get();
        m->children_[i] = ChildRef(std::move(r.fresh));
      }
      if (!r.right) {
        if (r.added) ++m->counts_[i];
        if (!Less()(x, m->keys_[i])) m->keys_[i] = x;  // x is the child's new maximum
        return out;
      }
      m->keys_[i] = c->keys_.back();
      m->counts_[i] = c->subtree_size();
      m->keys_.insert(m->keys_.begin() + i + 1, r.right->keys_.back());
      m->counts_.insert(m->counts_.begin() + i + 1, r.right->subtree_size());
      m->children_.insert(m->children_.begin() + i + 1, ChildRef(std::move(r.right)));
      if (m->keys_.size() > kBranchCap) out.right = SplitOff(m);
      return out;
    }

    EraseResult Erase(const Node* n, const T& x) const {
      EraseResult out;
      const size_t i = LowerIndex(n->keys_, x);
      if (i == n->keys_.size()) return out;
      if (n->leaf_) {
        if (Less()(x, n->keys_[i])) return out;
        out.found = true;
        Node* m = Own(n, n->keys_.size(), &out.fresh);
        m->keys_.erase(m->keys_.begin() + i);
        return out;
      }
      const Node* child = Load(n->children_[i]);
      EraseResult r = Erase(child, x);
      if (!r.found) return out;
      out.found = true;
      Node* m = Own(n, n->keys_.size(), &out.fresh);
      // The child is now exclusively this update's: either a fresh copy or owned by the transient.
      Node* c = const_cast<Node*>(child);
      if (r.fresh) {
        c = r.fresh.get();
        m->children_[i] = ChildRef(std::move(r.fresh));
      }
      --m->counts_[i];
      const size_t cap = c->leaf_ ? kLeafCap : kBranchCap;
      if (c->keys_.size() < cap / 2) {
        Rebalance(m, i, c);
      } else if (!Less()(x, m->keys_[i])) {
        m->keys_[i] = c->keys_.back();  // x was the child's maximum
      }
      return out;
    }

   private:
    // Moves entries [from, to) of src to position `at` of dst.
    static void Splice(Node* dst, size_t at, Node* src, size_t from, size_t to) {
      auto move = [&](auto& d, auto& s) {
        d.insert(d.begin() + at, std::make_move_iterator(s.begin() + from),
                 std::make_move_iterator(s.begin() + to));
        s.erase(s.begin() + from, s.begin() + to);
      };
      move(dst->keys_, src->keys_);
      if (!src->leaf_) {
        move(dst->children_, src->children_);
        move(dst->counts_, src->counts_);
      }
    }
    static void AppendCopy(Node* dst, const Node& src) {
      dst->keys_.insert(dst->keys_.end(), src.keys_.begin(), src.keys_.end());
      if (!src.leaf_) {
        dst->children_.insert(dst->children_.end(), src.children_.begin(), src.children_.end());
        dst->counts_.insert(dst->counts_.end(), src.counts_.begin(), src.counts_.end());
      }
    }

    // Splits an overfull node m: m keeps the lower half, the returned new node gets the upper half.
    std::shared_ptr<Node> SplitOff(Node* m) const {
      const size_t n = m->keys_.size();
      const size_t cap = m->leaf_ ? kLeafCap : kBranchCap;
      auto right = NewNode(m->leaf_, edit_, edit_ != 0 ? cap + 1 : n - n / 2);
      Splice(right.get(), 0, m, n / 2, n);
      return right;
    }

    // Child i of m (the mutable node c) has fallen below half full: merge it with a neighbour if
    // the two fit in one node, else even out their sizes.
    void Rebalance(Node* m, size_t i, Node* c) const {
      const size_t a = i > 0 ? i - 1 : i;
      const size_t b = a + 1;
      const size_t s = i == a ? b : a;
      const Node* sibling = Load(m->children_[s]);
      const size_t cap = c->leaf_ ? kLeafCap : kBranchCap;
      const size_t total = c->keys_.size() + sibling->keys_.size();
      if (total <= cap) {
        Node* left;
        if (i == a) {
          left = c;
          if (edit_ != 0 && sibling->edit_ == edit_) {
            Node* owned = const_cast<Node*>(sibling);
            Splice(left, left->keys_.size(), owned, 0, owned->keys_.size());
          } else {
            AppendCopy(left, *sibling);
          }
        } else {
          std::shared_ptr<Node> fresh;
          left = Own(sibling, total, &fresh);
          Splice(left, left->keys_.size(), c, 0, c->keys_.size());
          if (fresh) m->children_[a] = ChildRef(std::move(fresh));
        }
        m->keys_[a] = left->keys_.back();
        m->counts_[a] += m->counts_[b];
        m->keys_.erase(m->keys_.begin() + b);
        m->counts_.erase(m->counts_.begin() + b);
        m->children_.erase(m->children_.begin() + b);
        return;
      }
      std::shared_ptr<Node> fresh;
      Node* other = Own(sibling, cap, &fresh);
      if (fresh) m->children_[s] = ChildRef(std::move(fresh));
      Node* left = i == a ? c : other;
      Node* right = i == a ? other : c;
      const size_t want = total / 2;
      const size_t have = left->keys_.size();
      if (have > want) {
        Splice(right, 0, left, want, have);
      } else {
        Splice(left, have, right, 0, want - have);
      }
      m->keys_[a] = left->keys_.back();
      m->keys_[b] = right->keys_.back();
      m->counts_[a] = left->subtree_size();
      m->counts_[b] = right->subtree_size();
    }

    const NodeSource* source_;
    uint64_t edit_;
  };

  static bool InsertRoot(const Editor& ed, std::shared_ptr<const Node>* root, size_t* size,
                         const T& x) {
    if (*root == nullptr) {
      auto leaf = NewNode(true, ed.edit(), ed.edit() != 0 ? kLeafCap + 1 : 1);
      leaf->keys_.push_back(x);
      *root = std::move(leaf);
      *size = 1;
      return true;
    }
    InsertResult r = ed.Insert(root->get(), x);
    if (r.fresh) *root = std::move(r.fresh);
    if (r.right) {
      auto branch = NewNode(false, ed.edit(), ed.edit() != 0 ? kBranchCap + 1 : 2);
      std::shared_ptr<const Node> right = std::move(r.right);
      for (std::shared_ptr<const Node> c : {*root, right}) {
        branch->keys_.push_back(c->keys_.back());
        branch->counts_.push_back(c->subtree_size());
        branch->children_.emplace_back(std::move(c));
      }
      *root = std::move(branch);
    }
    if (r.added) ++*size;
    return r.added;
  }

  static bool EraseRoot(const Editor& ed, std::shared_ptr<const Node>* root, size_t* size,
                        const T& x) {
    if (*root == nullptr) return false;
    EraseResult r = ed.Erase(root->get(), x);
    if (!r.found) return false;
    if (r.fresh) *root = std::move(r.fresh);
    --*size;
    const Node* n = root->get();
    if (n->leaf_) {
      if (n->keys_.empty()) root->reset();
    } else if (n->children_.size() == 1) {
      ed.Load(n->children_[0]);
      std::shared_ptr<const Node> only = n->children_[0].owner_;
      *root = std::move(only);
    }
    return true;
  }

  std::shared_ptr<const Node> root_;  // nullptr when empty
  size_t size_ = 0;
  std::shared_ptr<const NodeSource> source_;  // nullptr for purely in-memory trees
};

}  // namespace datahike::index
