// A datom (e, a, v, tx, added) and the orderings of the indices.
//
// The attribute is the id of its interned keyword (datahike::KeywordById), so a datom is a fixed-size
// 40-byte record; orderings compare attributes by keyword order, not by id.
#pragma once

#include <cstdint>

#include "core/value/value.h"

namespace datahike {

constexpr int64_t kTx0 = 536870912;  // tx0: transaction ids start after it
constexpr int64_t kEmax = 0x7FFFFFFFFFFFFFFF;

struct Datom {
  Value v;
  int64_t e = 0;
  int64_t tx = 0;
  uint32_t a = 0;  // keyword id of the attribute; 0 means "unbound" in search bounds
  bool added = true;
};
static_assert(sizeof(Datom) == 40, "Datom is a fixed 40-byte record");

inline int CompareAttr(uint32_t a, uint32_t b) {
  if (a == b) return 0;
  const Named* x = KeywordById(a);
  const Named* y = KeywordById(b);
  if (x->label != y->label) return x->label < y->label ? -1 : 1;
  return CompareNamed(x, y);
}
inline int CompareLong(int64_t a, int64_t b) { return a < b ? -1 : (a > b ? 1 : 0); }

enum class IndexOrder : uint8_t { kEavt, kAevt, kAvet };

// Full orderings, used by the trees: (e a v tx added), (a e v tx added), (a v e tx added).
// Retractions sort before assertions at the same tx.
struct EavtLess {
  bool operator()(const Datom& x, const Datom& y) const { return Cmp(x, y) < 0; }
  static int Cmp(const Datom& x, const Datom& y) {
    if (int c = CompareLong(x.e, y.e)) return c;
    if (int c = CompareAttr(x.a, y.a)) return c;
    if (int c = Compare(x.v, y.v)) return c;
    if (int c = CompareLong(x.tx, y.tx)) return c;
    return static_cast<int>(x.added) - static_cast<int>(y.added);
  }
};
struct AevtLess {
  bool operator()(const Datom& x, const Datom& y) const { return Cmp(x, y) < 0; }
  static int Cmp(const Datom& x, const Datom& y) {
    if (int c = CompareAttr(x.a, y.a)) return c;
    if (int c = CompareLong(x.e, y.e)) return c;
    if (int c = Compare(x.v, y.v)) return c;
    if (int c = CompareLong(x.tx, y.tx)) return c;
    return static_cast<int>(x.added) - static_cast<int>(y.added);
  }
};
struct AvetLess {
  bool operator()(const Datom& x, const Datom& y) const { return Cmp(x, y) < 0; }
  static int Cmp(const Datom& x, const Datom& y) {
    if (int c = CompareAttr(x.a, y.a)) return c;
    if (int c = Compare(x.v, y.v)) return c;
    if (int c = CompareLong(x.e, y.e)) return c;
    if (int c = CompareLong(x.tx, y.tx)) return c;
    return static_cast<int>(x.added) - static_cast<int>(y.added);
  }
};
}  // namespace datahike
