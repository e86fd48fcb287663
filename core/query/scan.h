// The executor's index scan: the datoms of a Db matching a pattern, with the caller's callback
// inlined. For the current view of an entity or attribute prefix it walks the index tree directly
// (one seek, then a leaf-by-leaf walk with the few field checks the pattern needs): this is the
// query engine's innermost loop. Every other case goes through Db::Search, which handles views.
#pragma once

#include "core/db/db.h"

namespace datahike::query {

// Whether equal values of v's kind always have the same 16 bytes (see SameRepresentation).
inline bool RawComparable(const Value& v) {
  switch (v.type()) {
    case Type::kLong:
    case Type::kBool:
    case Type::kInstant:
    case Type::kChar:
    case Type::kKeyword:
    case Type::kSymbol:
      return true;
    default:
      return v.is_inline_string();
  }
}

// Value equality as the index orders values (Compare == 0), decided from the bytes when it can.
inline bool SameValue(const Value& a, const Value& b) {
  if (a.SameRepresentation(b)) return true;
  if (a.type() == b.type() && (RawComparable(a) || RawComparable(b))) return false;
  return Compare(a, b) == 0;
}

// Calls f(const Datom&) -> bool (false stops) for every datom matching p, in `order`.
template <class F>
void ScanPattern(const Db& db, IndexOrder order, const Pattern& p, F&& f) {
  const Value* pv = p.v ? &*p.v : nullptr;
  const bool raw = pv != nullptr && RawComparable(*pv);
  auto rest = [&](const Datom& d) {
    if (p.tx && d.tx != *p.tx) return false;
    if (pv == nullptr) return true;
    if (raw) {
      if (d.v.SameRepresentation(*pv)) return true;
      // Other bytes of the same kind are another value; across kinds only numbers can be equal.
      if (d.v.type() == pv->type() || !d.v.is_number() || !pv->is_number()) return false;
    }
    return SameValue(d.v, *pv);
  };
  if (db.view() == ViewKind::kCurrent && order == IndexOrder::kEavt && p.e) {
    const int64_t e = *p.e;
    const uint32_t a = p.a;
    const auto& tree = db.current().eavt.tree();
    auto it = tree.Seek([&](const Datom& d) {
      if (int c = CompareLong(d.e, e)) return c;
      return a == 0 ? 0 : CompareAttr(d.a, a);
    });
    for (; it.Valid(); it.Next()) {
      const Datom& d = *it;
      if (d.e != e || (a != 0 && d.a != a)) return;
      if (rest(d) && !f(d)) return;
    }
    return;
  }
  if (db.view() == ViewKind::kCurrent && order == IndexOrder::kAevt && p.a != 0) {
    const uint32_t a = p.a;
    const auto& tree = db.current().aevt.tree();
    auto it = tree.Seek([&](const Datom& d) {
      if (int c = CompareAttr(d.a, a)) return c;
      return p.e ? CompareLong(d.e, *p.e) : 0;
    });
    for (; it.Valid(); it.Next()) {
      const Datom& d = *it;
      if (d.a != a || (p.e && d.e != *p.e)) return;
      if (rest(d) && !f(d)) return;
    }
    return;
  }
  if (db.view() == ViewKind::kCurrent && order == IndexOrder::kAvet && p.a != 0 && pv != nullptr) {
    const uint32_t a = p.a;
    const auto& tree = db.current().avet.tree();
    auto it = tree.Seek([&](const Datom& d) {
      if (int c = CompareAttr(d.a, a)) return c;
      return Compare(d.v, *pv);
    });
    for (; it.Valid(); it.Next()) {
      const Datom& d = *it;
      if (d.a != a || !SameValue(d.v, *pv)) return;
      if (p.tx && d.tx != *p.tx) continue;
      if (!f(d)) return;
    }
    return;
  }
  db.Search(order, p, [&f](const Datom& d) { return f(d); });
}

// Calls f(const Datom&) -> bool (false stops) for the datoms of attribute a with lo <= v <= hi
// (unset = open end), in AVET order.
template <class F>
void ScanValueRange(const Db& db, uint32_t a, const std::optional<Value>& lo,
                    const std::optional<Value>& hi, F&& f) {
  if (db.view() != ViewKind::kCurrent) {
    db.ValueRange(a, lo, hi, [&f](const Datom& d) { return f(d); });
    return;
  }
  const auto& tree = db.current().avet.tree();
  auto it = tree.Seek([&](const Datom& d) {
    if (int c = CompareAttr(d.a, a)) return c;
    return lo ? Compare(d.v, *lo) : 0;
  });
  for (; it.Valid(); it.Next()) {
    const Datom& d = *it;
    if (d.a != a || (hi && Compare(d.v, *hi) > 0)) return;
    if (!f(d)) return;
  }
}

// Merge join of sorted entity ids with one attribute: for the current view, calls f(i, datom) for
// every datom (ids[i], p.a, ...) matching p's value and tx, walking AEVT forward from one id to the
// next and seeking only across long gaps. `ids` must be ascending and distinct. Returns false (and
// does nothing) when the db is not the current view or p has no attribute.
template <class F>
bool MergeByEntity(const Db& db, const Pattern& p, const std::vector<int64_t>& ids, F&& f) {
  if (db.view() != ViewKind::kCurrent || p.a == 0) return false;
  if (ids.empty()) return true;
  const uint32_t a = p.a;
  const auto& tree = db.current().aevt.tree();
  auto seek = [&](int64_t e) {
    return tree.Seek([&](const Datom& d) {
      if (int c = CompareAttr(d.a, a)) return c;
      return CompareLong(d.e, e);
    });
  };
  auto it = seek(ids[0]);
  constexpr int kMaxLeaves = 2;  // leaves to skip before a fresh seek pays
  for (size_t i = 0; i < ids.size(); ++i) {
    const int64_t e = ids[i];
    if (!it.Valid()) return true;
    if (!it.AdvanceWhile([&](const Datom& d) { return d.a == a && d.e < e; }, kMaxLeaves)) {
      it = seek(e);
    }
    if (!it.Valid() || it->a != a) return true;
    for (; it.Valid() && it->a == a && it->e == e; it.Next()) {
      const Datom& d = *it;
      if ((!p.v || SameValue(d.v, *p.v)) && (!p.tx || d.tx == *p.tx)) f(i, d);
    }
  }
  return true;
}

}  // namespace datahike::query
