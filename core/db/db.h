// Db: an immutable database value. Index roots, schema and basis (max-eid, max-tx), plus a view
// (current, as-of, since, history). A Db is never changed after it is built; hold it in a DbPtr and
// query it from any thread without locks. Transactions (core/tx) build new Db values that share
// structure with the old ones.
#pragma once

#include <cstdint>
#include <atomic>
#include <functional>
#include <mutex>
#include <utility>
#include <memory>
#include <optional>
#include <vector>

#include "core/db/config.h"
#include "core/db/schema.h"
#include "core/index/btree.h"
#include "core/index/datom.h"
#include "core/value/value.h"

namespace datahike {

// Node sizes of the datom trees: a leaf of 32 datoms is 1.3 KB, small enough that the path copy of
// a one-entity transaction stays cheap, large enough for scans to run over contiguous memory.
constexpr size_t kDatomLeaf = 32;
constexpr size_t kDatomBranch = 64;
using EavtTree = index::PersistentTree<Datom, EavtLess, kDatomLeaf, kDatomBranch>;
using AevtTree = index::PersistentTree<Datom, AevtLess, kDatomLeaf, kDatomBranch>;
using AvetTree = index::PersistentTree<Datom, AvetLess, kDatomLeaf, kDatomBranch>;

// AEVT changes not yet applied to a tree: one batch per transaction, newest first.
struct AevtPending {
  std::vector<std::pair<Datom, bool>> ops;  // (datom, insert?) in transaction order
  std::shared_ptr<const AevtPending> prev;
  size_t depth = 1;   // batches in the chain
  size_t total = 0;   // ops in the chain
};

// Applies ops (in order; the last op on a datom decides) to base and returns the new tree.
AevtTree ApplyAevtOps(const AevtTree& base, std::vector<std::pair<Datom, bool>> ops);

// AEVT of one Db: a tree, or a base tree plus the pending batches of the transactions since, applied
// once on first read (thread-safe). No transaction reads AEVT while it runs, so small transactions
// leave their AEVT changes pending instead of copying tree paths; reads pay for a whole batch of
// transactions at once. Copies (the Db's views) share the applied result.
class LazyAevt {
 public:
  LazyAevt() : state_(std::make_shared<State>()) { state_->applied.store(true); }
  explicit LazyAevt(AevtTree tree) : LazyAevt() { state_->result = std::move(tree); }
  LazyAevt(AevtTree base, std::shared_ptr<const AevtPending> pending)
      : state_(std::make_shared<State>()) {
    state_->base = std::move(base);
    state_->pending = std::move(pending);
  }
  // The tree with every pending batch applied.
  const AevtTree& tree() const;
  size_t size() const { return tree().size(); }
  // Whether the pending batches have not been applied yet. base() and pending() never change, so a
  // caller may build on them whatever another thread does meanwhile.
  bool has_pending() const { return !state_->applied.load(std::memory_order_acquire); }
  const AevtTree& base() const { return state_->base; }
  const std::shared_ptr<const AevtPending>& pending() const { return state_->pending; }

 private:
  struct State {
    std::once_flag once;
    std::atomic<bool> applied{false};
    AevtTree base;  // with pending: the tree the batches apply to
    std::shared_ptr<const AevtPending> pending;
    AevtTree result;  // valid once applied
  };
  std::shared_ptr<State> state_;
};

// One set of index trees. The current set holds each live datom once; the temporal set holds, for
// every retraction, the retracted assertion and the retraction itself (Datahike's temporal indices).
// AVET holds only indexed, unique and ref attributes (as in Datahike, where refs are indexed: a
// reverse lookup is an AVET range).
struct IndexSet {
  EavtTree eavt;
  LazyAevt aevt;
  AvetTree avet;
};

enum class ViewKind : uint8_t { kCurrent, kAsOf, kSince, kHistory };

// A search pattern: unset fields are unbound. `a == 0` means any attribute.
struct Pattern {
  std::optional<int64_t> e;
  uint32_t a = 0;
  std::optional<Value> v;
  std::optional<int64_t> tx;
};

class Db;
using DbPtr = std::shared_ptr<const Db>;

class Db {
 public:
  // A new database value with no data. `schema_map` is a DataScript-style map (nil for none) whose
  // attributes take no entity ids (storage-free form); a stored database passes nil and transacts
  // its schema as entities.
  static DbPtr Empty(const Config& config, const Value& schema_map, bool storeless);

  const Config& config() const { return config_; }
  const Schema& schema() const { return *schema_; }
  const std::shared_ptr<const Schema>& schema_ptr() const { return schema_; }
  int64_t max_eid() const { return max_eid_; }
  int64_t max_tx() const { return max_tx_; }
  ViewKind view() const { return view_; }
  int64_t view_tx() const { return view_tx_; }
  bool keep_history() const { return config_.keep_history; }
  const IndexSet& current() const { return current_; }
  const IndexSet& temporal() const { return temporal_; }

  // Views. `t` is a tx id (>= tx0) or an instant. Errors (datahike::Error) when the db keeps no
  // history, or t is below tx0, or not a number/instant.
  DbPtr AsOf(const Value& t) const;
  DbPtr Since(const Value& t) const;
  DbPtr History() const;

  // Visits the datoms that match `p` in the order of `order`, as the view shows them (history
  // views include retractions with added=false). Stops when f returns false.
  void Search(IndexOrder order, const Pattern& p, const std::function<bool(const Datom&)>& f) const;
  std::vector<Datom> SearchAll(IndexOrder order, const Pattern& p) const;

  // The datoms API: components are in the index's order ([e a v tx] for :eavt, [a e v tx] for
  // :aevt, [a v e tx] for :avet); entity positions accept lookup refs and idents, attribute
  // positions keywords. `datoms` matches the prefix; `seek` runs from the components to the end
  // of the index; `rseek` from the components backwards to the start.
  std::vector<Datom> Datoms(IndexOrder order, const std::vector<Value>& components) const;
  std::vector<Datom> SeekDatoms(IndexOrder order, const std::vector<Value>& components) const;
  std::vector<Datom> RSeekDatoms(IndexOrder order, const std::vector<Value>& components) const;
  // AVET datoms of `attr` with start <= v <= end (nil = open end).
  std::vector<Datom> IndexRange(const Value& attr, const Value& start, const Value& end) const;

  // Resolves an entity reference: a positive number (returned as is), a lookup ref [attr value],
  // or an ident keyword. Returns 0 when the lookup finds nothing; throws on a malformed reference.
  int64_t Entid(const Value& ref) const;
  // The eid of the entity with the unique attribute a = v in the current indices, or 0.
  int64_t LookupUnique(uint32_t a, const Value& v) const;
  // The keyword of an attribute reference: a keyword, or the eid of an entity with a :db/ident.
  // Returns 0 when there is none.
  uint32_t AttrId(const Value& attr) const;

  // Whether this db is the storage-free kind (empty_db) whose schema attributes have no entities.
  bool storeless() const { return storeless_; }

 private:
  friend class TxBuilder;  // core/tx builds new values
  Db() = default;

  Config config_;
  std::shared_ptr<const Schema> schema_;
  IndexSet current_;
  IndexSet temporal_;
  int64_t max_eid_ = 0;
  int64_t max_tx_ = kTx0;
  bool storeless_ = false;
  ViewKind view_ = ViewKind::kCurrent;
  int64_t view_tx_ = 0;

  void ScanMerged(IndexOrder order, const Pattern& p, bool include_temporal,
                  const std::function<bool(const Datom&)>& f, bool bounded) const;
  // Search's view logic; unbounded, it starts at p's prefix and runs to the end of the index.
  void ViewScan(IndexOrder order, const Pattern& p, bool bounded,
                const std::function<bool(const Datom&)>& f) const;
  // The tx id a time point stands for: a tx id (>= tx0) as is, an instant as the latest tx whose
  // :db/txInstant is at or before it.
  int64_t ResolveTimePoint(const Value& t) const;
};

// The keyword id of an attribute keyword, interning it.
inline uint32_t AttrOf(const Value& kw) { return kw.as_named()->id; }

}  // namespace datahike
