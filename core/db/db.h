// Db: an immutable database value. Index roots, schema and basis (max-eid, max-tx), plus a view
// (current, as-of, since, history). A Db is never changed after it is built; hold it in a DbPtr and
// query it from any thread without locks. Transactions (core/tx) build new Db values that share
// structure with the old ones.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "core/db/config.h"
#include "core/db/schema.h"
#include "core/index/datom.h"
#include "core/index/lazy_index.h"
#include "core/value/value.h"

namespace datahike {

// One set of index trees. The current set holds each live datom once; the temporal set holds, for
// every retraction, the retracted assertion and the retraction itself (Datahike's temporal indices).
// AVET holds every datom, so that the query engine can find an attribute's entities by value (or by
// a value range) for any attribute, as Datalevin's AVE index does. What Datahike users observe of
// AVET (datoms, seek-datoms, rseek-datoms and index-range on :avet) is only the datoms of indexed,
// unique and ref attributes (Attribute::in_avet): the public calls below filter by it.
//
// Each index is a LazyIndex (core/index/lazy_index.h): small transactions leave their changes as
// sorted runs over the previous tree, and the first read of a Db's index (Search and everything
// built on it) folds them in, once, for that value and its views.
struct IndexSet {
  LazyIndex<EavtLess> eavt;
  LazyIndex<AevtLess> aevt;
  LazyIndex<AvetLess> avet;
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
  // AVET datoms of `attr` with start <= v <= end (nil = open end); empty for an attribute that is
  // not indexed, unique or a ref.
  std::vector<Datom> IndexRange(const Value& attr, const Value& start, const Value& end) const;
  // The query engine's value range over any attribute a (the view's datoms with lo <= v <= hi,
  // unset = open end, in AVET order). Stops when f returns false.
  void ValueRange(uint32_t a, const std::optional<Value>& lo, const std::optional<Value>& hi,
                  const std::function<bool(const Datom&)>& f) const;
  // Whether the public :avet calls show attribute a's datoms (Attribute::in_avet).
  bool PublicAvet(uint32_t a) const;

  // The number of datoms of the current indices whose leading fields in `order` equal the
  // pattern's bound leading fields (the rest of the pattern is ignored). O(log n); the query planner
  // uses it as its size estimate for every view.
  size_t EstimateCount(IndexOrder order, const Pattern& p) const;

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
