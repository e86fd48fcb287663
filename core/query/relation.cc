#include "core/query/relation.h"

#include <algorithm>
#include <bit>

namespace datahike::query {

int Relation::Col(Sym var) const {
  for (size_t i = 0; i < vars.size(); ++i) {
    if (vars[i] == var) return static_cast<int>(i);
  }
  return -1;
}

size_t HashCols(const Value* row, const std::vector<int>& cols) {
  size_t h = 0x9e3779b97f4a7c15ULL;
  for (int c : cols) h = (h ^ Hash(row[c])) * 0x100000001b3ULL + (h >> 29);
  return h;
}

bool EqualCols(const Value* a, const std::vector<int>& acols, const Value* b,
               const std::vector<int>& bcols) {
  for (size_t i = 0; i < acols.size(); ++i) {
    const Value& x = a[acols[i]];
    const Value& y = b[bcols[i]];
    // Entity ids dominate joins: compare longs without the general path.
    if (x.type() == Type::kLong && y.type() == Type::kLong) {
      if (x.as_long() != y.as_long()) return false;
    } else if (!Equal(x, y)) {
      return false;
    }
  }
  return true;
}

RowIndex::RowIndex(const Relation& rel, std::vector<int> cols) : rel_(rel), cols_(std::move(cols)) {
  if (rel.rows == 0) return;
  size_t cap = std::bit_ceil(rel.rows * 2);
  mask_ = cap - 1;
  heads_.assign(cap, kNone);
  next_.resize(rel.rows);
  hashes_.resize(rel.rows);
  // Insert in reverse so that chains list rows in their original order.
  for (size_t i = rel.rows; i-- > 0;) {
    size_t h = HashCols(rel.row(i), cols_);
    hashes_[i] = h;
    next_[i] = heads_[h & mask_];
    heads_[h & mask_] = static_cast<uint32_t>(i);
  }
}

bool RowIndex::Contains(const Value* key, const std::vector<int>& key_cols) const {
  bool found = false;
  if (heads_.empty()) return false;
  size_t h = HashCols(key, key_cols);
  for (uint32_t i = heads_[h & mask_]; i != kNone && !found; i = next_[i]) {
    found = hashes_[i] == h && EqualCols(rel_.row(i), cols_, key, key_cols);
  }
  return found;
}

namespace {
// Columns of the variables a and b share, in a's column order.
void SharedCols(const Relation& a, const Relation& b, std::vector<int>* acols,
                std::vector<int>* bcols) {
  for (size_t i = 0; i < a.vars.size(); ++i) {
    int j = b.Col(a.vars[i]);
    if (j >= 0) {
      acols->push_back(static_cast<int>(i));
      bcols->push_back(j);
    }
  }
}
}  // namespace

Relation Join(const Relation& a, const Relation& b) {
  std::vector<int> acols, bcols;
  SharedCols(a, b, &acols, &bcols);
  Relation out;
  out.vars = a.vars;
  std::vector<int> extra;  // b's columns that a lacks
  for (size_t j = 0; j < b.vars.size(); ++j) {
    if (a.Col(b.vars[j]) < 0) {
      extra.push_back(static_cast<int>(j));
      out.vars.push_back(b.vars[j]);
    }
  }
  if (a.rows == 0 || b.rows == 0) return out;
  size_t w = out.vars.size();
  const size_t aw = a.width();
  auto emit = [&](const Value* ra, const Value* rb) {
    for (size_t k = 0; k < aw; ++k) out.data.push_back(ra[k]);
    for (int j : extra) out.data.push_back(rb[j]);
    ++out.rows;
  };
  if (acols.empty()) {
    out.data.reserve(a.rows * b.rows * w);
    for (size_t i = 0; i < a.rows; ++i) {
      for (size_t j = 0; j < b.rows; ++j) emit(a.row(i), b.row(j));
    }
    return out;
  }
  // Build on the smaller side, probe with the other; emit in a's row order either way when a is
  // the probe side.
  if (b.rows <= a.rows) {
    RowIndex index(b, bcols);
    for (size_t i = 0; i < a.rows; ++i) {
      index.ForEachMatch(a.row(i), acols, [&](uint32_t j) { emit(a.row(i), b.row(j)); });
    }
  } else {
    RowIndex index(a, acols);
    for (size_t j = 0; j < b.rows; ++j) {
      index.ForEachMatch(b.row(j), bcols, [&](uint32_t i) { emit(a.row(i), b.row(j)); });
    }
  }
  return out;
}

Relation SemiJoin(const Relation& a, const Relation& b, bool keep) {
  std::vector<int> acols, bcols;
  SharedCols(a, b, &acols, &bcols);
  Relation out;
  out.vars = a.vars;
  if (acols.empty()) {
    if ((b.rows > 0) == keep) out = a;
    return out;
  }
  RowIndex index(b, bcols);
  for (size_t i = 0; i < a.rows; ++i) {
    if (index.Contains(a.row(i), acols) == keep) out.Push(a.row(i));
  }
  return out;
}

Relation ProjectRows(const Relation& r, const std::vector<Sym>& vars) {
  Relation out;
  out.vars = vars;
  std::vector<int> cols;
  for (Sym v : vars) cols.push_back(r.Col(v));
  out.data.reserve(r.rows * cols.size());
  for (size_t i = 0; i < r.rows; ++i) {
    const Value* row = r.row(i);
    for (int c : cols) out.data.push_back(row[c]);
  }
  out.rows = r.rows;
  return out;
}

Relation Project(const Relation& r, const std::vector<Sym>& vars) {
  bool identity = vars.size() == r.width();
  for (size_t i = 0; identity && i < vars.size(); ++i) identity = vars[i] == r.vars[i];
  if (identity) return r;
  Relation out = ProjectRows(r, vars);
  // Relations hold distinct rows, so only dropping columns can make duplicates.
  if (vars.size() < r.width()) Dedupe(out);
  return out;
}

RowSet::RowSet(std::vector<Sym> vars) {
  rel_.vars = std::move(vars);
  for (size_t i = 0; i < rel_.vars.size(); ++i) cols_.push_back(static_cast<int>(i));
  heads_.assign(16, UINT32_MAX);
}

void RowSet::Grow() {
  heads_.assign(heads_.size() * 2, UINT32_MAX);
  size_t mask = heads_.size() - 1;
  for (uint32_t i = 0; i < rel_.rows; ++i) {
    next_[i] = heads_[hashes_[i] & mask];
    heads_[hashes_[i] & mask] = i;
  }
}

bool RowSet::Contains(const Value* row) const {
  size_t h = HashCols(row, cols_);
  for (uint32_t k = heads_[h & (heads_.size() - 1)]; k != UINT32_MAX; k = next_[k]) {
    if (hashes_[k] == h && EqualCols(rel_.row(k), cols_, row, cols_)) return true;
  }
  return false;
}

bool RowSet::Insert(const Value* row) {
  size_t h = HashCols(row, cols_);
  size_t mask = heads_.size() - 1;
  for (uint32_t k = heads_[h & mask]; k != UINT32_MAX; k = next_[k]) {
    if (hashes_[k] == h && EqualCols(rel_.row(k), cols_, row, cols_)) return false;
  }
  rel_.Push(row);
  hashes_.push_back(h);
  next_.push_back(heads_[h & mask]);
  heads_[h & mask] = static_cast<uint32_t>(rel_.rows - 1);
  if (rel_.rows * 2 > heads_.size()) Grow();
  return true;
}

void Dedupe(Relation& r) {
  if (r.rows <= 1) return;
  if (r.width() == 0) {
    r.rows = 1;
    return;
  }
  RowSet set(r.vars);
  for (size_t i = 0; i < r.rows; ++i) set.Insert(r.row(i));
  if (set.relation().rows != r.rows) r = set.Take();
}

Relation Union(const Relation& a, const Relation& b) {
  if (a.width() == 0) {
    Relation out = a;
    out.rows = std::max(a.rows, b.rows) > 0 ? 1 : 0;
    return out;
  }
  RowSet set(a.vars);
  for (size_t i = 0; i < a.rows; ++i) set.Insert(a.row(i));
  std::vector<int> cols;
  for (Sym v : a.vars) cols.push_back(b.Col(v));
  std::vector<Value> row(cols.size());
  for (size_t i = 0; i < b.rows; ++i) {
    for (size_t k = 0; k < cols.size(); ++k) row[k] = b.row(i)[cols[k]];
    set.Insert(row.data());
  }
  return set.Take();
}

}  // namespace datahike::query
