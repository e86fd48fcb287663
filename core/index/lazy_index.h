// Datom indices that take small transactions lazily: a base tree plus the changes made since, kept
// as a short chain of sorted runs and folded into the tree on first read or once they grow large.
//
// A random insert into a persistent tree copies a leaf and every branch above it, and most of that
// cost is memory traffic on cold nodes (copying them, then the old version's reference counts when
// it dies). A run of pending changes is a sorted array instead: a transaction adds its own run to
// the chain, and runs merge size-tiered (an LSM tree's write path: a chain of K changes has
// O(log K) runs and each change is copied O(log K) times, in sequential passes). The chain is
// folded into the tree in one pass once it holds as many changes as the tree (so a fold costs O(1)
// datom copies per change), or by the first reader of the Db value.
//
// - LazyIndex: the index of one Db value. Immutable; copies share the fold.
// - StagedIndex: the index as a running transaction sees it (its own changes over the Db's), with
//   merged cursors for the transaction's lookups; Finish() gives the new Db's LazyIndex.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/index/btree.h"
#include "core/index/datom.h"

namespace datahike {

// Node sizes of the datom trees: a leaf of 32 datoms is 1.3 KB, small enough that the path copy of
// a one-entity transaction stays cheap, large enough for scans to run over contiguous memory.
constexpr size_t kDatomLeaf = 32;
constexpr size_t kDatomBranch = 64;
template <class Less>
using DatomTree = index::PersistentTree<Datom, Less, kDatomLeaf, kDatomBranch>;
using EavtTree = DatomTree<EavtLess>;
using AevtTree = DatomTree<AevtLess>;
using AvetTree = DatomTree<AvetLess>;

// One change to an index: insert d (replacing an equal datom) or erase it.
struct IndexOp {
  Datom d;
  bool insert = true;
};

// An immutable sorted run of changes over the runs below it (older changes). Within a chain, the
// newest op on a datom decides.
struct OpRun {
  std::vector<IndexOp> ops;  // sorted in index order, at most one op per datom
  std::shared_ptr<const OpRun> older;
  size_t total = 0;    // ops in this run and every older one
  size_t runs = 1;     // runs in the chain from this one down
  uint32_t level = 0;  // size class: a run of level L was merged from kRunFanout^L transactions
  // For large runs of orders that have a filter key (RunFilter): a Bloom filter over the keys of
  // the ops, so lookups of one key skip the runs that cannot hold it. Empty: no filter.
  std::vector<uint64_t> filter;
};
using OpRunPtr = std::shared_ptr<const OpRun>;

// Whether a running transaction searches an index order: EAVT and AVET yes; AEVT only in the
// end-of-transaction schema checks. The own changes of an unsearched order are kept in the order
// they are made and sorted once, at the end (reads in between search a folded copy).
template <class Less>
struct SearchedInTx {
  static constexpr bool kValue = true;
};
template <>
struct SearchedInTx<AevtLess> {
  static constexpr bool kValue = false;
};

// The key a run's filter is built over, per index order: the entity for EAVT. Other orders have no
// filter (a value-based key would have to hash equal-comparing values of different types alike).
template <class Less>
struct RunFilter {
  static constexpr bool kEnabled = false;
  static uint64_t Key(const Datom&) { return 0; }
};
template <>
struct RunFilter<EavtLess> {
  static constexpr bool kEnabled = true;
  static uint64_t Key(const Datom& d) { return static_cast<uint64_t>(d.e); }
};

// Vectors recycled per thread: a transaction's scratch lists come from here and go back when it
// ends, so a stream of small transactions does not allocate them again and again.
template <class T>
struct VectorPool {
  static std::vector<T> Take() {
    std::vector<std::vector<T>>& p = Pool();
    if (p.empty()) return {};
    std::vector<T> v = std::move(p.back());
    p.pop_back();
    return v;
  }
  // Takes v's storage (v is left empty) unless it is too large to keep or the pool is full.
  static void Give(std::vector<T>& v) {
    std::vector<std::vector<T>>& p = Pool();
    if (v.capacity() == 0 || v.capacity() > kMaxKept || p.size() >= kMaxPooled) return;
    v.clear();
    p.push_back(std::move(v));
    v = std::vector<T>();
  }

 private:
  static constexpr size_t kMaxKept = 1024;
  static constexpr size_t kMaxPooled = 32;
  static std::vector<std::vector<T>>& Pool() {
    thread_local std::vector<std::vector<T>> pool;
    return pool;
  }
};

// Changes in the order they were made, never searched until a fold sorts them (see LazyIndex):
// an append-only log of chunks shared by a line of Db values, each of which owns a prefix. The
// transaction that extends the newest value of a line appends in place; one that builds on an
// older value (a second branch from it) copies that value's part of the last chunk first. Slots
// are written before the value that owns them is published and never again, so readers of any
// value read only slots no one writes.
struct LooseChunk {
  LooseChunk(uint32_t capacity, std::shared_ptr<LooseChunk> prev_chunk, uint32_t prev_used,
             size_t prev_ops)
      : cap(capacity),
        slots(new IndexOp[capacity]),
        prev(std::move(prev_chunk)),
        prev_len(prev_used),
        prev_total(prev_ops) {}
  ~LooseChunk() {
    // Unlinks the chain iteratively (a long line of chunks must not recurse).
    std::shared_ptr<LooseChunk> p = std::move(prev);
    while (p && p.use_count() == 1) {
      std::shared_ptr<LooseChunk> next = std::move(p->prev);
      p = std::move(next);
    }
  }
  const uint32_t cap;
  std::atomic<uint32_t> claimed{0};  // slots handed out to some value of some line
  std::unique_ptr<IndexOp[]> slots;
  std::shared_ptr<LooseChunk> prev;  // the chunk before, of which prev_len slots are ours
  uint32_t prev_len;
  size_t prev_total;  // changes in all the chunks before
};

// One value's part of a loose log: the first `len` slots of `tail` and everything before it.
struct LooseLog {
  std::shared_ptr<LooseChunk> tail;
  uint32_t len = 0;
  // The Defer keys of the changes, sorted (shared while they stay the same).
  std::shared_ptr<const std::vector<uint32_t>> keys;

  bool empty() const { return tail == nullptr; }
  size_t size() const { return tail ? tail->prev_total + len : 0; }
  // Every change, oldest first, then `extra`.
  std::vector<IndexOp> Collect(std::vector<IndexOp> extra = {}) const {
    std::vector<std::pair<const LooseChunk*, uint32_t>> parts;
    uint32_t used = len;
    for (const LooseChunk* c = tail.get(); c != nullptr; c = c->prev.get()) {
      parts.emplace_back(c, used);
      used = c->prev_len;
    }
    std::vector<IndexOp> all;
    all.reserve(size() + extra.size());
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
      all.insert(all.end(), it->first->slots.get(), it->first->slots.get() + it->second);
    }
    all.insert(all.end(), std::make_move_iterator(extra.begin()),
               std::make_move_iterator(extra.end()));
    return all;
  }
  // This log with ops appended (see LooseChunk), and keys merged into its keys.
  // ops are moved from (left with their storage); new_keys must be sorted.
  LooseLog Append(std::vector<IndexOp>& ops, const std::vector<uint32_t>& new_keys) const {
    LooseLog out;
    const uint32_t n = static_cast<uint32_t>(ops.size());
    uint32_t expect = len;
    if (tail && n <= tail->cap - len && tail->claimed.compare_exchange_strong(expect, len + n)) {
      out.tail = tail;
      out.len = len + n;
      std::move(ops.begin(), ops.end(), tail->slots.get() + len);
    } else {
      // A new chunk after this value's part of the tail, or, when another line has claimed the
      // rest of the tail, a new chunk holding a copy of this value's part of it.
      const bool forked = tail && tail->claimed.load(std::memory_order_relaxed) != len;
      const uint32_t keep = forked ? len : 0;
      const uint32_t cap = std::max<uint32_t>(
          keep + n, std::min<uint32_t>(4096, std::max<uint32_t>(32, tail ? 2 * tail->cap : 32)));
      std::shared_ptr<LooseChunk> prev = forked ? tail->prev : tail;
      const uint32_t prev_len = forked ? tail->prev_len : len;
      const size_t prev_total = tail ? (forked ? tail->prev_total : tail->prev_total + len) : 0;
      out.tail = std::make_shared<LooseChunk>(cap, std::move(prev), prev_len, prev_total);
      std::copy(tail ? tail->slots.get() : nullptr, tail ? tail->slots.get() + keep : nullptr,
                out.tail->slots.get());
      std::move(ops.begin(), ops.end(), out.tail->slots.get() + keep);
      out.tail->claimed.store(keep + n, std::memory_order_relaxed);
      out.len = keep + n;
    }
    if (keys && std::includes(keys->begin(), keys->end(), new_keys.begin(), new_keys.end())) {
      out.keys = keys;
    } else {
      auto all = std::make_shared<std::vector<uint32_t>>();
      if (keys) {
        std::set_union(keys->begin(), keys->end(), new_keys.begin(), new_keys.end(),
                       std::back_inserter(*all));
      } else {
        *all = new_keys;
      }
      out.keys = std::move(all);
    }
    return out;
  }
  // Whether a change with this Defer key (0: any) is in the log.
  bool Has(uint32_t key) const {
    if (empty()) return false;
    return key == 0 || (keys && std::binary_search(keys->begin(), keys->end(), key));
  }
};

namespace lazy_index {

// Size-tiered merging: when kRunFanout runs of one level lead the chain, they merge into one run of
// the next level. Each change is copied once per level, and a chain of K changes has at most
// (kRunFanout - 1) * log_kRunFanout(K) runs.
constexpr size_t kRunFanout = 4;
// A chain is folded into its tree once it holds max(kMinFold, tree size) changes...
constexpr size_t kMinFold = 4096;
// ...or this many runs (only reachable with very large trees; cursors have room for it).
constexpr size_t kMaxRuns = 48;
// Runs of at least this many ops get a filter (smaller runs are cheap to search).
constexpr size_t kMinFilteredRun = 32;
// A fold rewrites the whole tree in one pass unless the changes are fewer than 1/kRebuildRatio of
// the tree (then path copies through a transient are cheaper).
constexpr size_t kRebuildRatio = 64;

inline uint64_t Mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}
// A blocked Bloom filter: each key sets 4 bits of one 64-bit word (about 8 bits per key).
inline uint64_t FilterBits(uint64_t h) {
  return (uint64_t{1} << (h & 63)) | (uint64_t{1} << ((h >> 6) & 63)) |
         (uint64_t{1} << ((h >> 12) & 63)) | (uint64_t{1} << ((h >> 18) & 63));
}
inline size_t FilterWord(uint64_t h, size_t words) { return ((h >> 32) * words) >> 32; }
inline bool FilterMayContain(const std::vector<uint64_t>& filter, uint64_t key) {
  uint64_t h = Mix64(key);
  uint64_t bits = FilterBits(h);
  return (filter[FilterWord(h, filter.size())] & bits) == bits;
}
template <class Less>
std::vector<uint64_t> BuildFilter(const std::vector<IndexOp>& ops) {
  if (!RunFilter<Less>::kEnabled || ops.size() < kMinFilteredRun) return {};
  std::vector<uint64_t> filter(ops.size() / 8 + 1, 0);
  for (const IndexOp& op : ops) {
    uint64_t h = Mix64(RunFilter<Less>::Key(op.d));
    filter[FilterWord(h, filter.size())] |= FilterBits(h);
  }
  return filter;
}

// The two sorted op lists merged into one; on equal datoms the newer op wins.
template <class Less>
std::vector<IndexOp> MergeOps(std::vector<IndexOp> newer, const std::vector<IndexOp>& older) {
  if (older.empty()) return newer;
  std::vector<IndexOp> out;
  out.reserve(newer.size() + older.size());
  size_t i = 0, j = 0;
  while (i < newer.size() && j < older.size()) {
    int c = Less::Cmp(newer[i].d, older[j].d);
    if (c < 0) {
      out.push_back(std::move(newer[i++]));
    } else if (c > 0) {
      out.push_back(older[j++]);
    } else {
      out.push_back(std::move(newer[i++]));
      ++j;
    }
  }
  out.insert(out.end(), std::make_move_iterator(newer.begin() + i),
             std::make_move_iterator(newer.end()));
  out.insert(out.end(), older.begin() + j, older.end());
  return out;
}

// The sorted op lists lists[0..n) (newest first; n <= kMaxRuns + 2) merged into one; on equal
// datoms the newest op wins.
template <class Less>
std::vector<IndexOp> MergeOpLists(const std::vector<IndexOp>* const* lists, size_t n) {
  assert(n <= kMaxRuns + 2);
  struct Head {
    const IndexOp* cur;
    const IndexOp* end;
  };
  std::array<Head, kMaxRuns + 2> heads;
  size_t total = 0, live = 0;
  for (size_t i = 0; i < n; ++i) {
    total += lists[i]->size();
    const IndexOp* b = lists[i]->data();
    if (!lists[i]->empty()) heads[live++] = Head{b, b + lists[i]->size()};
  }
  std::vector<IndexOp> out;
  out.reserve(total);
  while (live > 1) {
    size_t best = 0;
    for (size_t i = 1; i < live; ++i) {
      int c = Less::Cmp(heads[i].cur->d, heads[best].cur->d);
      if (c < 0) {
        best = i;
      } else if (c == 0 && ++heads[i].cur == heads[i].end) {
        // An older op on a datom that a newer list changes is dropped; this list is done.
        std::copy(heads.begin() + i + 1, heads.begin() + live, heads.begin() + i);
        --live;
        --i;
      }
    }
    out.push_back(*heads[best].cur);
    if (++heads[best].cur == heads[best].end) {
      std::copy(heads.begin() + best + 1, heads.begin() + live, heads.begin() + best);
      --live;
    }
  }
  if (live == 1) out.insert(out.end(), heads[0].cur, heads[0].end);
  return out;
}

// A value's sort key within one attribute's AVET changes when all its values are of one kind.
struct LongKey {
  int64_t v;
  bool operator<(const LongKey& o) const { return v < o.v; }
  bool operator!=(const LongKey& o) const { return v != o.v; }
};
struct TextKey {
  std::string_view v;
  bool operator<(const TextKey& o) const { return v < o.v; }
  bool operator!=(const TextKey& o) const { return v != o.v; }
};
struct NameKey {
  const Named* v;
  bool operator<(const NameKey& o) const {
    if (v->label != o.v->label) return v->label < o.v->label;
    return v != o.v && CompareNamed(v, o.v) < 0;
  }
  bool operator!=(const NameKey& o) const { return v != o.v; }
};

// For keys already in (e, tx, added) order with few distinct values (a bulk load's names, sexes,
// ages): ids in value order by grouping equal values, linear but for sorting the distinct values.
// False, leaving ids alone, when the values are mostly distinct.
template <class Key>
bool GroupByValue(const std::vector<Key>& keys, std::vector<uint32_t>& ids) {
  using Raw = decltype(keys[0].v.v);
  std::unordered_map<Raw, uint32_t> group_of;
  std::vector<uint32_t> group(keys.size());
  std::vector<size_t> first;  // a key index of each group
  const size_t limit = keys.size() / 8 + 1;
  for (size_t i = 0; i < keys.size(); ++i) {
    auto [it, fresh] = group_of.emplace(keys[i].v.v, static_cast<uint32_t>(first.size()));
    if (fresh) {
      if (first.size() == limit) return false;
      first.push_back(i);
    }
    group[i] = it->second;
  }
  std::vector<uint32_t> order(first.size());
  for (uint32_t g = 0; g < order.size(); ++g) order[g] = g;
  std::sort(order.begin(), order.end(),
            [&](uint32_t a, uint32_t b) { return keys[first[a]].v < keys[first[b]].v; });
  std::vector<size_t> start(first.size() + 1, 0), rank(first.size());
  for (uint32_t r = 0; r < order.size(); ++r) rank[order[r]] = r;
  for (uint32_t g : group) ++start[rank[g] + 1];
  for (size_t r = 0; r < order.size(); ++r) start[r + 1] += start[r];
  for (size_t i = 0; i < keys.size(); ++i) ids[start[rank[group[i]]]++] = keys[i].id;
  return true;
}

// One attribute's AVET changes (ids into ops) sorted by (v, e, tx, added, op order) through compact
// keys when every value is a long, a string or a keyword (the bulk-load case); false, leaving ids
// as they were, for other values. Changes made in (e, tx, added) order, as a transaction makes
// them entity by entity, need only a stable sort by value.
inline bool SortByValueKeys(const std::vector<IndexOp>& ops, std::vector<uint32_t>& ids) {
  const Type t = ops[ids[0]].d.v.type();
  if (t != Type::kLong && t != Type::kString && t != Type::kKeyword) return false;
  bool entity_order = true;
  for (size_t i = 0; i < ids.size(); ++i) {
    const Datom& d = ops[ids[i]].d;
    if (d.v.type() != t) return false;
    if (i > 0 && entity_order) {
      const Datom& p = ops[ids[i - 1]].d;
      entity_order = p.e < d.e || (p.e == d.e && (p.tx < d.tx || (p.tx == d.tx && p.added <= d.added)));
    }
  }
  auto sort_keys = [&](auto key_of) {
    using K = decltype(key_of(ops[0].d.v));
    struct Key {
      K v;
      int64_t e, tx;
      uint32_t id;
      bool added;
    };
    std::vector<Key> keys;
    keys.reserve(ids.size());
    for (uint32_t k : ids) {
      const Datom& d = ops[k].d;
      keys.push_back(Key{key_of(d.v), d.e, d.tx, k, d.added});
    }
    if (entity_order && GroupByValue(keys, ids)) return;
    if (entity_order) {
      std::stable_sort(keys.begin(), keys.end(), [](const Key& x, const Key& y) { return x.v < y.v; });
    } else {
      std::sort(keys.begin(), keys.end(), [](const Key& x, const Key& y) {
        if (x.v != y.v) return x.v < y.v;
        if (x.e != y.e) return x.e < y.e;
        if (x.tx != y.tx) return x.tx < y.tx;
        if (x.added != y.added) return x.added < y.added;
        return x.id < y.id;
      });
    }
    for (size_t i = 0; i < keys.size(); ++i) ids[i] = keys[i].id;
  };
  if (t == Type::kLong) {
    sort_keys([](const Value& v) { return LongKey{v.as_long()}; });
  } else if (t == Type::kString) {
    sort_keys([](const Value& v) { return TextKey{v.as_string()}; });
  } else {
    sort_keys([](const Value& v) { return NameKey{v.as_named()}; });
  }
  return true;
}

// Changes in the order they were made, sorted in index order, keeping the last op on each datom.
// Orders led by the attribute sort per attribute: a transaction's changes usually come entity by
// entity, so each attribute's share is already in order (a bulk load sorts in linear time).
template <class Less>
std::vector<IndexOp> SortOps(std::vector<IndexOp> ops) {
  // Already in order (a small transaction, or one made in index order): drop overridden ops.
  size_t i = 1;
  while (i < ops.size() && Less::Cmp(ops[i - 1].d, ops[i].d) <= 0) ++i;
  if (i >= ops.size()) {
    size_t w = 0;
    for (size_t k = 0; k < ops.size(); ++k) {
      if (k + 1 < ops.size() && Less::Cmp(ops[k].d, ops[k + 1].d) == 0) continue;
      if (w != k) ops[w] = std::move(ops[k]);
      ++w;
    }
    ops.resize(w);
    return ops;
  }
  auto before = [&ops](uint32_t x, uint32_t y) {
    int c = Less::Cmp(ops[x].d, ops[y].d);
    return c < 0 || (c == 0 && x < y);
  };
  std::vector<uint32_t> order(ops.size());
  for (uint32_t k = 0; k < order.size(); ++k) order[k] = k;
  if constexpr (std::is_same_v<Less, AevtLess> || std::is_same_v<Less, AvetLess>) {
    std::unordered_map<uint32_t, std::vector<uint32_t>> buckets;
    for (uint32_t k : order) buckets[ops[k].d.a].push_back(k);
    std::vector<uint32_t> attrs;
    attrs.reserve(buckets.size());
    for (const auto& [a, ids] : buckets) attrs.push_back(a);
    std::sort(attrs.begin(), attrs.end(),
              [](uint32_t x, uint32_t y) { return CompareAttr(x, y) < 0; });
    order.clear();
    for (uint32_t a : attrs) {
      std::vector<uint32_t>& ids = buckets[a];
      if (!std::is_sorted(ids.begin(), ids.end(), before)) {
        if (!std::is_same_v<Less, AvetLess> || !SortByValueKeys(ops, ids)) {
          std::sort(ids.begin(), ids.end(), before);
        }
      }
      order.insert(order.end(), ids.begin(), ids.end());
    }
  } else {
    std::sort(order.begin(), order.end(), before);
  }
  std::vector<IndexOp> out;
  out.reserve(ops.size());
  for (size_t k = 0; k < order.size(); ++k) {
    // Equal datoms are adjacent in op order: the last one decides.
    if (k + 1 < order.size() && Less::Cmp(ops[order[k]].d, ops[order[k + 1]].d) == 0) continue;
    out.push_back(std::move(ops[order[k]]));
  }
  return out;
}

// Every change of a chain as one sorted list (newest op per datom).
template <class Less>
std::vector<IndexOp> FlattenRuns(const OpRun* newest) {
  if (newest == nullptr) return {};
  std::vector<IndexOp> acc = newest->ops;
  for (const OpRun* r = newest->older.get(); r != nullptr; r = r->older.get()) {
    acc = MergeOps<Less>(std::move(acc), r->ops);
  }
  return acc;
}

// The changes of a sorted chain and of a loose log (with `extra` changes after it) as one sorted
// list. Where both change a datom, the loose change is the newer one (see LazyIndex).
template <class Less>
std::vector<IndexOp> FlattenChains(const OpRun* pending, const LooseLog& loose,
                                   std::vector<IndexOp> extra = {}) {
  std::vector<IndexOp> sorted = FlattenRuns<Less>(pending);
  if (loose.empty() && extra.empty()) return sorted;
  std::vector<IndexOp> rest = SortOps<Less>(loose.Collect(std::move(extra)));
  if (sorted.empty()) return rest;
  return MergeOps<Less>(std::move(rest), sorted);
}

// base with the sorted changes applied.
template <class Less>
DatomTree<Less> ApplyOps(const DatomTree<Less>& base, std::vector<IndexOp> ops) {
  using Tree = DatomTree<Less>;
  if (ops.empty()) return base;
  // A few changes, or a stored tree (whose untouched nodes must stay shared with storage): path
  // copies through a transient, in index order.
  if (ops.size() * kRebuildRatio < base.size() || base.source() != nullptr) {
    auto t = base.AsTransient();
    for (const IndexOp& op : ops) {
      if (op.insert) {
        t.Insert(op.d);
      } else {
        t.Erase(op.d);
      }
    }
    return t.Persistent();
  }
  // Many: one merge pass over the tree and a bottom-up build with full leaves.
  std::vector<Datom> out;
  if (base.empty()) {
    out.reserve(ops.size());
    for (IndexOp& op : ops) {
      if (op.insert) out.push_back(std::move(op.d));
    }
    return Tree::FromSorted(std::move(out));
  }
  out.reserve(base.size() + ops.size());
  size_t j = 0;
  base.ForEach([&](const Datom& d) {
    while (j < ops.size() && Less()(ops[j].d, d)) {
      if (ops[j].insert) out.push_back(std::move(ops[j].d));
      ++j;
    }
    if (j < ops.size() && !Less()(d, ops[j].d)) {  // the same datom: the op decides
      if (ops[j].insert) out.push_back(std::move(ops[j].d));
      ++j;
      return;
    }
    out.push_back(d);
  });
  for (; j < ops.size(); ++j) {
    if (ops[j].insert) out.push_back(std::move(ops[j].d));
  }
  return Tree::FromSorted(std::move(out));
}

}  // namespace lazy_index

// The index of one Db value: a tree, or a base tree plus chains of pending changes that the first
// read folds in (once, thread-safe; copies of a LazyIndex share the result). Immutable otherwise,
// so any number of threads may use it.
//
// Two chains, newest run first: `pending` holds sorted runs, which a running transaction searches
// (StagedIndex); `loose` holds changes in the order they were made (LooseLog), which nothing searches
// until the fold sorts them once (the changes a transaction does not read back: all of AEVT, and
// AVET's deferred changes, see StagedIndex::Defer). The fold needs no order between the chains:
// where both change a datom the loose change is the newer, because a change goes to the sorted
// chain only while its key is not deferred, and a key that stops being deferred is undeferred
// first (StagedIndex::Undefer), which folds the loose log away.
template <class Less>
class LazyIndex {
 public:
  using Tree = DatomTree<Less>;

  // What the index holds, unfolded: the chains (nullptr when empty) over `base`.
  struct Snapshot {
    Tree base;
    OpRunPtr pending;
    LooseLog loose;
  };

  LazyIndex() : LazyIndex(Tree()) {}
  explicit LazyIndex(Tree tree) : state_(std::make_shared<State>()) {
    state_->result = std::move(tree);
    state_->applied.store(true, std::memory_order_relaxed);
  }
  LazyIndex(Tree base, OpRunPtr pending, LooseLog loose) : state_(std::make_shared<State>()) {
    state_->base = std::move(base);
    state_->pending = std::move(pending);
    state_->loose = std::move(loose);
    if (state_->pending == nullptr && state_->loose.empty()) {
      state_->result = std::move(state_->base);
      state_->applied.store(true, std::memory_order_relaxed);
    }
  }

  // The tree with every pending change applied; the first call folds them.
  const Tree& tree() const {
    State& s = *state_;
    if (s.applied.load(std::memory_order_acquire)) return s.result;
    std::call_once(s.once, [&s] {
      Tree folded = lazy_index::ApplyOps<Less>(
          s.base, lazy_index::FlattenChains<Less>(s.pending.get(), s.loose));
      Tree old_base;
      OpRunPtr old_pending;
      LooseLog old_loose;
      {
        std::lock_guard<std::mutex> lock(s.mu);
        s.result = std::move(folded);
        old_base = std::move(s.base);  // released outside the lock
        old_pending = std::move(s.pending);
        old_loose = std::move(s.loose);
        s.applied.store(true, std::memory_order_release);
      }
    });
    return s.result;
  }
  size_t size() const { return tree().size(); }
  // A consistent view for building on: the folded tree once folded, else base and chains.
  Snapshot snapshot() const {
    State& s = *state_;
    if (s.applied.load(std::memory_order_acquire)) return Snapshot{s.result, nullptr, {}};
    std::lock_guard<std::mutex> lock(s.mu);
    if (s.applied.load(std::memory_order_relaxed)) return Snapshot{s.result, nullptr, {}};
    return Snapshot{s.base, s.pending, s.loose};
  }

 private:
  struct State {
    std::once_flag once;
    std::atomic<bool> applied{false};
    std::mutex mu;     // guards base and the chains against their release by the fold
    Tree base;         // until folded: the tree the chains apply to
    OpRunPtr pending;  // until folded: the sorted runs, newest first
    LooseLog loose;    // until folded: the unsorted changes
    Tree result;       // valid once applied
  };
  std::shared_ptr<State> state_;
};

// One index as a running transaction sees it: the Db's index (base tree and pending runs) with the
// transaction's own changes on top. Reads see every change made so far. Single-threaded.
template <class Less>
class StagedIndex {
 public:
  using Tree = DatomTree<Less>;

 private:
  struct OpLess {
    bool operator()(const IndexOp& x, const IndexOp& y) const { return Less()(x.d, y.d); }
  };
  using OpTree = index::PersistentTree<IndexOp, OpLess, kDatomLeaf, kDatomBranch>;
  // A transaction's own changes live in a sorted vector up to this many, then in a transient tree
  // of changes, and beyond max(kMinFold, tree size / kDirectRatio) they are applied to the folded
  // tree and the rest of the transaction writes into a transient of it directly (a bulk load).
  static constexpr size_t kSmallOps = 64;
  static constexpr size_t kDirectRatio = 8;
  // How far from the end of the appended changes (see Add) a change may land.
  static constexpr long kAppendSlack = 64;

 public:
  // A cursor over the live datoms in index order: a merge of the transaction's changes, the pending
  // runs (newest first) and the base tree, where the newest source holding a datom decides whether
  // it is present. Invalidated by the next Insert or Erase.
  class Cursor {
   public:
    bool Valid() const { return cur_ != nullptr; }
    const Datom& operator*() const {
      assert(Valid());
      return *cur_;
    }
    const Datom* operator->() const {
      assert(Valid());
      return cur_;
    }
    void Next() {
      assert(Valid());
      Advance(mask_);
      Settle();
    }

   private:
    friend class StagedIndex;
    struct RunPos {
      const IndexOp* cur;
      const IndexOp* end;
    };
    // Source bits: 0 = the own-changes tree, 1 + i = runs_[i] (the own-changes vector first, if
    // any, then the pending runs), kBaseBit = the base tree.
    static constexpr uint64_t kBaseBit = uint64_t{1} << 63;

    void Advance(uint64_t mask) {
      if (mask & 1) own_.Next();
      for (size_t i = 0; i < nruns_; ++i) {
        if (mask & (uint64_t{2} << i)) ++runs_[i].cur;
      }
      if (mask & kBaseBit) base_.Next();
    }
    // Moves to the first live datom at or after the sources' heads.
    void Settle() {
      while (true) {
        const Datom* min = nullptr;
        bool live = false;
        uint64_t mask = 0;
        auto consider = [&](const Datom* h, bool insert, uint64_t bit) {
          if (min != nullptr) {
            int c = Less::Cmp(*h, *min);
            if (c > 0) return;
            if (c == 0) {  // a lower-priority source with the same datom: skipped along
              mask |= bit;
              return;
            }
          }
          min = h;
          live = insert;
          mask = bit;
        };
        if (has_own_ && own_.Valid()) consider(&own_->d, own_->insert, 1);
        for (size_t i = 0; i < nruns_; ++i) {
          if (runs_[i].cur != runs_[i].end) {
            consider(&runs_[i].cur->d, runs_[i].cur->insert, uint64_t{2} << i);
          }
        }
        if (base_.Valid()) consider(&*base_, true, kBaseBit);
        if (min == nullptr || live) {
          cur_ = min;
          mask_ = mask;
          return;
        }
        Advance(mask);
      }
    }

    typename OpTree::Iterator own_;
    bool has_own_ = false;
    std::array<RunPos, lazy_index::kMaxRuns + 1> runs_;  // the first nruns_ are set
    size_t nruns_ = 0;
    typename Tree::Iterator base_;
    const Datom* cur_ = nullptr;
    uint64_t mask_ = 0;
  };

  StagedIndex()
      : small_(VectorPool<IndexOp>::Take()),
        deferred_(VectorPool<IndexOp>::Take()),
        deferred_keys_(VectorPool<uint32_t>::Take()) {}
  ~StagedIndex() {
    VectorPool<IndexOp>::Give(small_);
    VectorPool<IndexOp>::Give(deferred_);
    VectorPool<uint32_t>::Give(deferred_keys_);
  }
  StagedIndex(const StagedIndex&) = delete;
  StagedIndex& operator=(const StagedIndex&) = delete;

  // Starts over from `before` (which must outlive this transaction), dropping any changes.
  void Reset(const LazyIndex<Less>* before) {
    before_ = before;
    snap_.reset();
    folded_.reset();
    small_.clear();
    own_.reset();
    direct_.reset();
    appended_.clear();
    direct_max_.reset();
    deferred_.clear();
    deferred_keys_.clear();
    barrier_ = false;
  }

  void Insert(const Datom& d) { Add(IndexOp{d, true}); }
  void Erase(const Datom& d) { Add(IndexOp{d, false}); }
  // Whether this transaction has changed the index (Finish would return a new value).
  bool changed() const { return direct_ || own_ || !small_.empty() || !deferred_.empty(); }

  // A change that reads in this transaction will not look for unless they first call Undefer for
  // its key (for AVET: the attribute). Deferred changes are kept in the order made and go to the
  // loose chain at Finish, sorted only when the index is folded: a stream of small transactions
  // or a bulk load of unindexed attributes into AVET costs one sort, not a merge per transaction.
  // The caller must defer every change of a key or none (per key, across transactions), except
  // that Undefer may be called at any time.
  void Defer(const Datom& d, bool insert, uint32_t key) {
    deferred_.push_back(IndexOp{d, insert});
    if (deferred_keys_.empty() || deferred_keys_.back() != key) {
      if (std::find(deferred_keys_.begin(), deferred_keys_.end(), key) == deferred_keys_.end()) {
        deferred_keys_.push_back(key);
      }
    }
  }
  // Makes the deferred changes with this key (0: any key) searchable, this transaction's and
  // earlier ones'. That ends the partition of the chains (see LazyIndex): the index is read
  // folded from here on and the transaction's result is a folded tree (a rare case: reads of
  // deferred keys, schema changes).
  void Undefer(uint32_t key = 0) {
    const bool mine =
        !deferred_.empty() && (key == 0 || std::find(deferred_keys_.begin(), deferred_keys_.end(),
                                                     key) != deferred_keys_.end());
    const bool older = !barrier_ && !direct_ && LooseHas(key);
    if (!mine && !older) return;
    if (!direct_ && !barrier_) {
      barrier_ = true;
      // Everything earlier transactions left in either chain, folded into one tree.
      snap_.emplace(typename LazyIndex<Less>::Snapshot{before_->tree(), nullptr, {}});
    }
    std::vector<IndexOp> ops = lazy_index::SortOps<Less>(std::move(deferred_));
    deferred_.clear();
    deferred_keys_.clear();
    for (IndexOp& op : ops) Add(std::move(op));
  }

  // The first live datom with probe(d) >= 0 (probe as in PersistentTree::Seek). With a filter
  // key, runs whose filter rules the key out are skipped: REQUIRES that the caller then reads only
  // datoms whose RunFilter key equals it (the cursor may pass over others of skipped runs).
  template <class Probe>
  Cursor Seek(const Probe& probe, std::optional<uint64_t> filter_key = std::nullopt) const {
    Cursor c;
    if constexpr (!SearchedInTx<Less>::kValue) {
      c.base_ = Folded().Seek(probe);
      c.Settle();
      return c;
    }
    if (direct_) {
      c.base_ = direct_->Seek(probe);
      if (!appended_.empty()) c.runs_[c.nruns_++] = FirstOp(appended_, probe);
      c.Settle();
      return c;
    }
    const typename LazyIndex<Less>::Snapshot& s = Snap();
    if (own_) {
      c.has_own_ = true;
      c.own_ = own_->Seek([&probe](const IndexOp& op) { return probe(op.d); });
    } else if (!small_.empty()) {
      c.runs_[c.nruns_++] = FirstOp(small_, probe);
    }
    for (const OpRun* r = s.pending.get(); r != nullptr; r = r->older.get()) {
      if (!Filtered(*r, filter_key)) c.runs_[c.nruns_++] = FirstOp(r->ops, probe);
    }
    c.base_ = s.base.Seek(probe);
    c.Settle();
    return c;
  }
  Cursor Begin() const {
    return Seek([](const Datom&) { return 0; });
  }
  // The first live datom with probe(d) >= 0, or nullptr; valid until the next Insert or Erase.
  // filter_key as for Seek.
  // With own_only, only this transaction's changes are searched: the caller knows the Db it
  // started from has no datom at or after the target that probe(d) == 0 could match.
  template <class Probe>
  const Datom* First(const Probe& probe, std::optional<uint64_t> filter_key = std::nullopt,
                     bool own_only = false) const {
    // Each source's first candidate; the least wins, the newest source on ties. Only when the
    // winner is an erase does the full cursor take over.
    if constexpr (!SearchedInTx<Less>::kValue) return Folded().First(probe);
    if (direct_) {
      // Everything appended sorts after everything in the tree.
      if (!direct_max_ || probe(*direct_max_) >= 0) {  // else the whole tree is before the target
        if (const Datom* d = direct_->First(probe)) return d;
      }
      typename Cursor::RunPos p = FirstOp(appended_, probe);
      return p.cur != p.end ? &p.cur->d : nullptr;
    }
    const typename LazyIndex<Less>::Snapshot& s = Snap();
    const Datom* min = nullptr;
    bool live = true;
    auto consider = [&](const Datom* h, bool insert) {
      if (h == nullptr) return;
      if (min != nullptr && Less::Cmp(*h, *min) >= 0) return;
      min = h;
      live = insert;
    };
    if (own_) {
      const IndexOp* op = own_->First([&probe](const IndexOp& o) { return probe(o.d); });
      if (op != nullptr) consider(&op->d, op->insert);
    } else if (!small_.empty()) {
      typename Cursor::RunPos p = FirstOp(small_, probe);
      if (p.cur != p.end) consider(&p.cur->d, p.cur->insert);
    }
    if (own_only && live) return min;  // (an erase as the first own change: the full search)
    for (const OpRun* r = s.pending.get(); r != nullptr; r = r->older.get()) {
      if (Filtered(*r, filter_key)) continue;
      typename Cursor::RunPos p = FirstOp(r->ops, probe);
      if (p.cur != p.end) consider(&p.cur->d, p.cur->insert);
    }
    // The whole base may end before the target (a new entity in EAVT): no descent then.
    const Datom* base_max = s.base.Max();
    if (base_max != nullptr && probe(*base_max) >= 0) consider(s.base.First(probe), true);
    if (live) return min;
    Cursor c = Seek(probe, filter_key);
    return c.Valid() ? &*c : nullptr;
  }

  // The new Db value's index: unchanged if this transaction made no changes, else its searchable
  // changes as the newest run of the old sorted chain (merged per kRunFanout) and its deferred or
  // unsearched ones appended to the loose log (LooseLog); folded
  // when the chains are large.
  LazyIndex<Less> Finish() {
    if (direct_) {
      Undefer();
      Tree t = lazy_index::ApplyOps<Less>(direct_->Persistent(), std::move(appended_));
      appended_.clear();
      direct_.reset();
      return LazyIndex<Less>(std::move(t));
    }
    std::vector<IndexOp> sorted;
    // The changes for the loose log: AVET's deferred ones, or all of an order not searched in a
    // transaction (which defers nothing). Kept in their vector, which goes back to the pool.
    std::vector<IndexOp>* loose = &deferred_;
    if (own_) {
      sorted.reserve(own_->size());
      for (auto it = own_->Begin(); it.Valid(); it.Next()) sorted.push_back(*it);
      own_.reset();
    } else if constexpr (SearchedInTx<Less>::kValue) {
      sorted = std::move(small_);
      small_.clear();
    } else {
      assert(deferred_.empty());
      loose = &small_;
    }
    if (barrier_) {
      // Snap() is the folded index; deferred changes are newer than searchable ones (Undefer).
      if (!loose->empty()) {
        sorted = lazy_index::MergeOps<Less>(lazy_index::SortOps<Less>(std::move(*loose)), sorted);
        loose->clear();
      }
      deferred_keys_.clear();
      if (sorted.empty()) return *before_;
      return LazyIndex<Less>(lazy_index::ApplyOps<Less>(Snap().base, std::move(sorted)));
    }
    if (sorted.empty() && loose->empty()) return *before_;
    typename LazyIndex<Less>::Snapshot s = Snap();
    OpRunPtr pending = s.pending;
    if (!sorted.empty()) pending = PushRun(std::move(sorted), std::move(pending));
    const size_t total = (pending ? pending->total : 0) + s.loose.size() + loose->size();
    if (total >= std::max(lazy_index::kMinFold, s.base.size()) ||
        (pending && pending->runs > lazy_index::kMaxRuns)) {
      std::vector<IndexOp> extra = std::move(*loose);
      loose->clear();
      deferred_keys_.clear();
      return LazyIndex<Less>(lazy_index::ApplyOps<Less>(
          s.base, lazy_index::FlattenChains<Less>(pending.get(), s.loose, std::move(extra))));
    }
    LooseLog log = s.loose;
    if (!loose->empty()) {
      std::sort(deferred_keys_.begin(), deferred_keys_.end());
      log = s.loose.Append(*loose, deferred_keys_);
      loose->clear();
    }
    deferred_keys_.clear();
    return LazyIndex<Less>(std::move(s.base), std::move(pending), std::move(log));
  }

 private:
  // ops (sorted) as the newest run of the chain `older`. Size-tiered: a run starts at the level
  // its size calls for and absorbs the lower-level runs in front of it, plus kRunFanout - 1 runs
  // of its own level if the chain has them (then it moves up a level), so levels never decrease
  // down a chain. On equal datoms the newest op wins.
  static OpRunPtr PushRun(std::vector<IndexOp> ops, OpRunPtr older) {
    using lazy_index::kRunFanout;
    uint32_t level = 0;
    for (size_t n = ops.size(); n >= kRunFanout; n /= kRunFanout) ++level;
    while (true) {
      const OpRun* below = older.get();
      while (below != nullptr && below->level < level) below = below->older.get();
      size_t same = 0;
      const OpRun* r = below;
      while (r != nullptr && r->level == level && same < kRunFanout - 1) {
        ++same;
        r = r->older.get();
      }
      const bool up = same == kRunFanout - 1;
      if (up) below = r;
      if (below == older.get()) break;
      std::array<const std::vector<IndexOp>*, lazy_index::kMaxRuns + 2> lists;
      size_t n = 0;
      lists[n++] = &ops;
      for (const OpRun* x = older.get(); x != below; x = x->older.get()) lists[n++] = &x->ops;
      ops = lazy_index::MergeOpLists<Less>(lists.data(), n);
      while (older.get() != below) older = older->older;
      if (up) ++level;
    }
    auto run = std::make_shared<OpRun>();
    run->total = ops.size() + (older ? older->total : 0);
    run->runs = 1 + (older ? older->runs : 0);
    run->level = level;
    run->filter = lazy_index::BuildFilter<Less>(ops);
    run->ops = std::move(ops);
    run->older = std::move(older);
    return run;
  }
  // Whether the loose log of the index this transaction started from has changes with this
  // Defer key (0: any).
  bool LooseHas(uint32_t key) const { return Snap().loose.Has(key); }
  const typename LazyIndex<Less>::Snapshot& Snap() const {
    if (!snap_) snap_.emplace(before_->snapshot());
    return *snap_;
  }
  static bool Filtered(const OpRun& r, const std::optional<uint64_t>& key) {
    return key && !r.filter.empty() && !lazy_index::FilterMayContain(r.filter, *key);
  }
  template <class Probe>
  static typename Cursor::RunPos FirstOp(const std::vector<IndexOp>& ops, const Probe& probe) {
    const IndexOp* b = ops.data();
    const IndexOp* e = b + ops.size();
    // Most runs of a lookup of a new key end before it (EAVT's new entities): one probe.
    if (b == e || probe(e[-1].d) < 0) return typename Cursor::RunPos{e, e};
    return typename Cursor::RunPos{
        std::partition_point(b, e, [&probe](const IndexOp& op) { return probe(op.d) < 0; }), e};
  }
  void Add(IndexOp op) {
    if constexpr (!SearchedInTx<Less>::kValue) {
      folded_.reset();
      small_.push_back(std::move(op));
      return;
    }
    if (direct_) {
      // A bulk load: changes past the tree's last datom (new entities, in EAVT) are kept in a
      // sorted vector and joined to the tree once, at Finish, instead of inserted one by one.
      if (!direct_max_ || Less::Cmp(op.d, *direct_max_) > 0) {
        auto it = std::lower_bound(appended_.begin(), appended_.end(), op, OpLess());
        if (appended_.end() - it > kAppendSlack) {
          // Far from the end (changes in no particular order): into the tree, and start over.
          FlushAppended();
          Add(std::move(op));
          return;
        }
        const bool same = it != appended_.end() && !OpLess()(op, *it);
        if (op.insert) {
          if (same) {
            *it = std::move(op);
          } else {
            appended_.insert(it, std::move(op));
          }
        } else if (same) {
          appended_.erase(it);
        }
        return;
      }
      if (op.insert) {
        direct_->Insert(op.d);
      } else {
        direct_->Erase(op.d);
      }
      return;
    }
    if (own_) {
      own_->Insert(op);
      const typename LazyIndex<Less>::Snapshot& s = Snap();
      if (own_->size() > std::max(lazy_index::kMinFold, s.base.size() / kDirectRatio)) {
        std::vector<IndexOp> ops;
        ops.reserve(own_->size());
        for (auto it = own_->Begin(); it.Valid(); it.Next()) ops.push_back(*it);
        own_.reset();
        StartDirect(lazy_index::ApplyOps<Less>(before_->tree(), std::move(ops)));
      }
      return;
    }
    auto it = std::lower_bound(small_.begin(), small_.end(), op, OpLess());
    if (it != small_.end() && !OpLess()(op, *it)) {
      *it = std::move(op);  // a later change of the same datom replaces the earlier one
      return;
    }
    if (small_.size() < kSmallOps) {
      small_.insert(it, std::move(op));
      return;
    }
    own_.emplace(OpTree().AsTransient());
    for (const IndexOp& x : small_) own_->Insert(x);
    small_.clear();
    own_->Insert(op);
  }

  // Joins the appended changes to direct_ (a path copy for a few, a rebuild for many).
  void FlushAppended() {
    if (appended_.empty()) return;
    Tree t = lazy_index::ApplyOps<Less>(direct_->Persistent(), std::move(appended_));
    appended_.clear();
    StartDirect(std::move(t));
  }
  // Writes go into a transient of t from now on; later inserts past its last datom are appended.
  void StartDirect(Tree t) {
    auto last = t.SeekLastAtOrBefore([](const Datom&) { return 0; });
    if (last.Valid()) direct_max_ = *last;
    direct_.emplace(t.AsTransient());
  }

  // For an order not searched in a transaction: the Db's index, folded, with this transaction's
  // changes applied.
  const Tree& Folded() const {
    if (!folded_) {
      folded_.emplace(
          lazy_index::ApplyOps<Less>(before_->tree(), lazy_index::SortOps<Less>(small_)));
    }
    return *folded_;
  }

  const LazyIndex<Less>* before_ = nullptr;
  mutable std::optional<typename LazyIndex<Less>::Snapshot> snap_;  // taken on first use
  mutable std::optional<Tree> folded_;  // Folded(), until the next change
  // Own changes while few, sorted (for an order not searched in a transaction: all of them, in the
  // order they were made).
  std::vector<IndexOp> small_;
  std::optional<typename OpTree::Transient> own_;   // own changes once many
  std::optional<typename Tree::Transient> direct_;  // the folded tree and all changes, once more
  std::optional<Datom> direct_max_;  // direct_'s last datom when it was made
  std::vector<IndexOp> appended_;    // inserts past direct_max_, sorted (see Add)
  std::vector<IndexOp> deferred_;       // Defer's changes, in the order made
  std::vector<uint32_t> deferred_keys_;  // their distinct keys
  bool barrier_ = false;  // Undefer has made every change searchable (Snap() is folded)
};

}  // namespace datahike
