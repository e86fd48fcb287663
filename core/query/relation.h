// Relations of the query executor: a set of variables (columns) and rows of values, stored row-major
// in one flat vector (no per-tuple allocation), with the hash join, projection and deduplication
// the executor builds on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/query/parser.h"
#include "core/value/value.h"

namespace datahike::query {

// Invariant kept by every operation of the executor: the rows of a relation are distinct.
struct Relation {
  std::vector<Sym> vars;
  std::vector<Value> data;  // rows * vars.size() values, row-major
  size_t rows = 0;

  size_t width() const { return vars.size(); }
  const Value* row(size_t i) const { return data.data() + i * vars.size(); }
  // The column of `var`, or -1.
  int Col(Sym var) const;
  bool Has(Sym var) const { return Col(var) >= 0; }
  // Appends one row of width() values.
  void Push(const Value* values) {
    for (size_t i = 0, n = vars.size(); i < n; ++i) data.push_back(values[i]);
    ++rows;
  }
  // The relation with no columns and one row: the identity of the join.
  static Relation Unit() {
    Relation r;
    r.rows = 1;
    return r;
  }
};

// Hash of the values at `cols` of a row, and their equality (Clojure's = on each value).
size_t HashCols(const Value* row, const std::vector<int>& cols);
bool EqualCols(const Value* a, const std::vector<int>& acols, const Value* b,
               const std::vector<int>& bcols);

// A chained hash index over rows of a relation, keyed by some of its columns.
class RowIndex {
 public:
  RowIndex(const Relation& rel, std::vector<int> cols);
  // Calls f(row index) for every row whose key columns equal `key` at `key_cols`.
  template <class F>
  void ForEachMatch(const Value* key, const std::vector<int>& key_cols, F f) const {
    if (heads_.empty()) return;
    size_t h = HashCols(key, key_cols);
    for (uint32_t i = heads_[h & mask_]; i != kNone; i = next_[i]) {
      if (hashes_[i] == h && EqualCols(rel_.row(i), cols_, key, key_cols)) f(i);
    }
  }
  bool Contains(const Value* key, const std::vector<int>& key_cols) const;

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  const Relation& rel_;
  std::vector<int> cols_;
  std::vector<uint32_t> heads_;
  std::vector<uint32_t> next_;
  std::vector<size_t> hashes_;
  size_t mask_ = 0;
};

// A growing set of distinct rows (of one relation's width): Insert tells whether a row is new.
class RowSet {
 public:
  explicit RowSet(std::vector<Sym> vars);
  bool Insert(const Value* row);
  bool Contains(const Value* row) const;
  const Relation& relation() const { return rel_; }
  Relation Take() { return std::move(rel_); }

 private:
  void Grow();
  Relation rel_;
  std::vector<int> cols_;
  std::vector<uint32_t> heads_;
  std::vector<uint32_t> next_;
  std::vector<size_t> hashes_;
};

// Natural join on the shared variables (the cross product when there are none). Columns: a's, then
// b's columns that a lacks.
Relation Join(const Relation& a, const Relation& b);
// The rows of a whose shared-variable values do (keep = true) or do not (keep = false) occur in b.
Relation SemiJoin(const Relation& a, const Relation& b, bool keep);
// The columns `vars` (each must be in r), rows deduplicated when columns are dropped.
Relation Project(const Relation& r, const std::vector<Sym>& vars);
// The columns `vars` of every row, duplicates kept: breaks the distinct-rows invariant, so only for
// callers that deduplicate the result themselves.
Relation ProjectRows(const Relation& r, const std::vector<Sym>& vars);
// Removes duplicate rows in place (first occurrence kept).
void Dedupe(Relation& r);
// Rows of a and b (same variables, possibly in another column order), deduplicated.
Relation Union(const Relation& a, const Relation& b);

}  // namespace datahike::query
