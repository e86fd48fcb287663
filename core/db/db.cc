#include "core/db/db.h"

#include <algorithm>

#include "core/value/edn.h"
#include "core/value/error.h"

namespace datahike {

namespace {

// Field access by position in an index order: 0..3 are the order's components.
enum class Field : uint8_t { kE, kA, kV, kTx };
constexpr Field kOrderFields[3][4] = {
    {Field::kE, Field::kA, Field::kV, Field::kTx},  // eavt
    {Field::kA, Field::kE, Field::kV, Field::kTx},  // aevt
    {Field::kA, Field::kV, Field::kE, Field::kTx},  // avet
};

bool Bound(const Pattern& p, Field f) {
  switch (f) {
    case Field::kE: return p.e.has_value();
    case Field::kA: return p.a != 0;
    case Field::kV: return p.v.has_value();
    case Field::kTx: return p.tx.has_value();
  }
  return false;
}

int CompareField(const Datom& d, const Pattern& p, Field f) {
  switch (f) {
    case Field::kE: return CompareLong(d.e, *p.e);
    case Field::kA: return CompareAttr(d.a, p.a);
    case Field::kV: return Compare(d.v, *p.v);
    case Field::kTx: return CompareLong(d.tx, *p.tx);
  }
  return 0;
}

bool MatchesAll(const Datom& d, const Pattern& p) {
  if (p.e && d.e != *p.e) return false;
  if (p.a != 0 && d.a != p.a) return false;
  if (p.tx && d.tx != *p.tx) return false;
  if (p.v && Compare(d.v, *p.v) != 0) return false;
  return true;
}

// Compares a datom's leading bound fields (the prefix of the order that the pattern binds).
struct PrefixProbe {
  const Pattern* p;
  const Field* fields;
  int n;  // number of leading bound fields
  int operator()(const Datom& d) const {
    for (int i = 0; i < n; ++i) {
      if (int c = CompareField(d, *p, fields[i])) return c;
    }
    return 0;
  }
};

int LeadingBound(const Pattern& p, const Field* fields) {
  int n = 0;
  while (n < 4 && Bound(p, fields[n])) ++n;
  return n;
}

bool SameEav(const Datom& x, const Datom& y) {
  return x.e == y.e && x.a == y.a && Compare(x.v, y.v) == 0;
}

// Visits the tree from the first datom at or after the probe's prefix: while the prefix matches
// (and the datom matches the whole pattern) when `bounded`, else to the end of the index.
template <class Tree>
void ScanTree(const Tree& tree, const PrefixProbe& probe, const Pattern& p,
              const std::function<bool(const Datom&)>& f, bool bounded = true) {
  auto it = probe.n == 0 ? tree.Begin() : tree.Seek(probe);
  for (; it.Valid(); it.Next()) {
    const Datom& d = *it;
    if (bounded) {
      if (probe.n > 0 && probe(d) != 0) break;
      if (!MatchesAll(d, p)) continue;
    }
    if (!f(d)) return;
  }
}

template <class Tree, class Less>
void MergeTrees(const Tree& a, const Tree& b, const PrefixProbe& probe, const Pattern& p,
                const std::function<bool(const Datom&)>& f, bool bounded = true) {
  auto ia = probe.n == 0 ? a.Begin() : a.Seek(probe);
  auto ib = probe.n == 0 ? b.Begin() : b.Seek(probe);
  auto in_range = [&](auto& it) {
    return it.Valid() && (!bounded || probe.n == 0 || probe(*it) == 0);
  };
  Less less;
  while (true) {
    bool va = in_range(ia), vb = in_range(ib);
    if (!va && !vb) return;
    const Datom* d;
    if (va && (!vb || !less(*ib, *ia))) {
      d = &*ia;
      if (vb && !less(*ia, *ib)) ib.Next();  // the same datom in both: emit once
      ia.Next();
    } else {
      d = &*ib;
      ib.Next();
    }
    if (bounded && !MatchesAll(*d, p)) continue;
    if (!f(*d)) return;
  }
}

}  // namespace

DbPtr Db::Empty(const Config& config, const Value& schema_map, bool storeless) {
  auto db = std::shared_ptr<Db>(new Db());
  db->config_ = config;
  auto schema = std::make_shared<Schema>(*Schema::Builtin());
  if (!schema_map.is_nil()) {
    if (!schema_map.is_map()) {
      throw Error(ErrorKind::kSchema, "Schema must be a map of attribute -> properties, got " +
                                          edn::ToString(schema_map));
    }
    for (const auto& [k, props] : schema_map.entries()) {
      if (!k.is_keyword()) {
        throw Error(ErrorKind::kSchema, "Schema attribute must be a keyword, got " + edn::ToString(k));
      }
      schema->Put(AttributeFromProperties(k.as_named()->id, props, true));
    }
  }
  db->storeless_ = storeless;
  db->schema_ = std::move(schema);
  return db;
}

// ---------------------------------------------------------------------------------------------------
// Views

int64_t Db::ResolveTimePoint(const Value& t) const {
  if (t.type() == Type::kLong || t.type() == Type::kBigInt) {
    int64_t tx = t.type() == Type::kLong ? t.as_long() : kTx0;
    if (tx < kTx0 || t.type() == Type::kBigInt) {
      throw Error(ErrorKind::kMisuse, "Invalid transaction ID. Must be bigger than 536870912.",
                  Value::Map({{Kw("tx"), t}}));
    }
    return tx;
  }
  if (t.type() == Type::kInstant) {
    // The latest transaction whose :db/txInstant is at or before the instant.
    int64_t best = kTx0;
    Pattern p;
    p.a = InternKeyword("db/txInstant")->id;
    ScanTree(current_.aevt.tree(), PrefixProbe{&p, kOrderFields[1], 1}, p, [&](const Datom& d) {
      if (d.v.type() == Type::kInstant && d.v.as_instant() <= t.as_instant()) {
        best = std::max(best, d.e);
      }
      return true;
    });
    return best;
  }
  throw Error(ErrorKind::kMisuse,
              "A time point must be a transaction id or an instant, got " + edn::ToString(t),
              Value::Map({{Kw("time-point"), t}}));
}

namespace {
void RequireHistory(const Db& db, const char* what) {
  if (!db.keep_history()) {
    throw Error(ErrorKind::kMisuse,
                std::string(what) + " is only available in temporal databases (:keep-history? true)");
  }
}
}  // namespace

DbPtr Db::AsOf(const Value& t) const {
  RequireHistory(*this, "as-of");
  int64_t tx = ResolveTimePoint(t);
  auto db = std::make_shared<Db>(*this);
  db->view_ = ViewKind::kAsOf;
  db->view_tx_ = tx;
  return db;
}

DbPtr Db::Since(const Value& t) const {
  RequireHistory(*this, "since");
  int64_t tx = ResolveTimePoint(t);
  auto db = std::make_shared<Db>(*this);
  db->view_ = ViewKind::kSince;
  db->view_tx_ = tx;
  return db;
}

DbPtr Db::History() const {
  RequireHistory(*this, "history");
  auto db = std::make_shared<Db>(*this);
  db->view_ = ViewKind::kHistory;
  db->view_tx_ = 0;
  return db;
}

// ---------------------------------------------------------------------------------------------------
// Search

void Db::ScanMerged(IndexOrder order, const Pattern& p, bool include_temporal,
                    const std::function<bool(const Datom&)>& f, bool bounded) const {
  const Field* fields = kOrderFields[static_cast<int>(order)];
  PrefixProbe probe{&p, fields, LeadingBound(p, fields)};
  switch (order) {
    case IndexOrder::kEavt:
      if (include_temporal) {
        MergeTrees<EavtTree, EavtLess>(current_.eavt.tree(), temporal_.eavt.tree(), probe, p, f,
                                       bounded);
      } else {
        ScanTree(current_.eavt.tree(), probe, p, f, bounded);
      }
      return;
    case IndexOrder::kAevt:
      if (include_temporal) {
        MergeTrees<AevtTree, AevtLess>(current_.aevt.tree(), temporal_.aevt.tree(), probe, p, f,
                                       bounded);
      } else {
        ScanTree(current_.aevt.tree(), probe, p, f, bounded);
      }
      return;
    case IndexOrder::kAvet:
      if (include_temporal) {
        MergeTrees<AvetTree, AvetLess>(current_.avet.tree(), temporal_.avet.tree(), probe, p, f,
                                       bounded);
      } else {
        ScanTree(current_.avet.tree(), probe, p, f, bounded);
      }
      return;
  }
}

void Db::Search(IndexOrder order, const Pattern& p,
                const std::function<bool(const Datom&)>& f) const {
  ViewScan(order, p, true, f);
}

void Db::ViewScan(IndexOrder order, const Pattern& p, bool bounded,
                  const std::function<bool(const Datom&)>& f) const {
  switch (view_) {
    case ViewKind::kCurrent:
      ScanMerged(order, p, false, f, bounded);
      return;
    case ViewKind::kSince: {
      int64_t t = view_tx_;
      ScanMerged(order, p, false, [&](const Datom& d) { return d.tx <= t || f(d); }, bounded);
      return;
    }
    case ViewKind::kHistory:
      ScanMerged(order, p, true, f, bounded);
      return;
    case ViewKind::kAsOf: {
      // Resolve each (e, a, v) group: visible when an assertion has the latest tx <= T among the
      // group's events; the visible datom carries that assertion's tx.
      int64_t t = view_tx_;
      Pattern unbound_tx = p;
      unbound_tx.tx.reset();
      bool have = false, stopped = false;
      Datom group;          // first datom of the current group
      int64_t last_tx = -1;  // latest event tx <= T in the group
      bool last_added = false;
      int64_t add_tx = 0;
      auto flush = [&]() -> bool {
        if (!have || !last_added) return true;
        Datom out = group;
        out.tx = add_tx;
        out.added = true;
        if (p.tx && out.tx != *p.tx) return true;
        return f(out);
      };
      ScanMerged(order, unbound_tx, true, [&](const Datom& d) {
        if (!have || !SameEav(d, group)) {
          if (!flush()) {
            stopped = true;
            return false;
          }
          group = d;
          have = true;
          last_tx = -1;
          last_added = false;
        }
        if (d.tx <= t && d.tx >= last_tx) {
          if (d.tx > last_tx) last_added = false;
          last_tx = d.tx;
          if (d.added) {
            last_added = true;
            add_tx = d.tx;
          }
        }
        return true;
      }, bounded);
      if (!stopped) flush();
      return;
    }
  }
}

size_t Db::EstimateCount(IndexOrder order, const Pattern& p) const {
  const Field* fields = kOrderFields[static_cast<int>(order)];
  PrefixProbe probe{&p, fields, LeadingBound(p, fields)};
  auto count = [&](const auto& tree) {
    if (probe.n == 0) return tree.size();
    return tree.RankIf([&](const Datom& d) { return probe(d) <= 0; }) -
           tree.RankIf([&](const Datom& d) { return probe(d) < 0; });
  };
  switch (order) {
    case IndexOrder::kEavt: return count(current_.eavt.tree());
    case IndexOrder::kAevt: return count(current_.aevt.tree());
    case IndexOrder::kAvet: return count(current_.avet.tree());
  }
  return 0;
}

std::vector<Datom> Db::SearchAll(IndexOrder order, const Pattern& p) const {
  std::vector<Datom> out;
  Search(order, p, [&](const Datom& d) {
    out.push_back(d);
    return true;
  });
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Entity resolution

int64_t Db::LookupUnique(uint32_t a, const Value& v) const {
  Pattern p;
  p.a = a;
  p.v = v;
  int64_t found = 0;
  ScanTree(current_.avet.tree(), PrefixProbe{&p, kOrderFields[2], 2}, p, [&](const Datom& d) {
    found = d.e;
    return false;
  });
  return found;
}

uint32_t Db::AttrId(const Value& attr) const {
  if (attr.is_keyword()) return attr.as_named()->id;
  if (attr.type() == Type::kLong) {
    Pattern p;
    p.e = attr.as_long();
    p.a = InternKeyword("db/ident")->id;
    uint32_t id = 0;
    Search(IndexOrder::kEavt, p, [&](const Datom& d) {
      if (d.v.is_keyword()) id = d.v.as_named()->id;
      return false;
    });
    return id;
  }
  return 0;
}

int64_t Db::Entid(const Value& ref) const {
  switch (ref.type()) {
    case Type::kLong:
      return ref.as_long();
    case Type::kKeyword: {
      Pattern p;
      p.a = InternKeyword("db/ident")->id;
      p.v = ref;
      int64_t found = 0;
      Search(IndexOrder::kAvet, p, [&](const Datom& d) {
        found = d.e;
        return false;
      });
      return found;
    }
    case Type::kList:
    case Type::kVector: {
      const auto& items = ref.items();
      if (items.size() != 2) {
        throw Error(ErrorKind::kTransaction,
                    "Lookup ref should contain 2 elements: " + edn::ToString(ref),
                    Value::Map({{Kw("error"), Kw("lookup-ref/syntax")}, {Kw("entity-id"), ref}}));
      }
      uint32_t a = AttrId(items[0]);
      const Attribute* attr = a != 0 ? schema_->Find(a) : nullptr;
      if (attr == nullptr || attr->unique == Unique::kNone) {
        throw Error(ErrorKind::kTransaction,
                    "Lookup ref attribute should be marked as :db/unique: " + edn::ToString(ref),
                    Value::Map({{Kw("error"), Kw("lookup-ref/unique")}, {Kw("entity-id"), ref}}));
      }
      if (items[1].is_nil()) return 0;
      Pattern p;
      p.a = a;
      p.v = items[1];
      int64_t found = 0;
      Search(IndexOrder::kAvet, p, [&](const Datom& d) {
        found = d.e;
        return false;
      });
      return found;
    }
    default:
      throw Error(ErrorKind::kTransaction,
                  "Expected number or lookup ref for entity id, got " + edn::ToString(ref),
                  Value::Map({{Kw("error"), Kw("entity-id/syntax")}, {Kw("entity-id"), ref}}));
  }
}

// ---------------------------------------------------------------------------------------------------
// The datoms API

namespace {

const char* OrderName(IndexOrder o) {
  switch (o) {
    case IndexOrder::kEavt: return ":eavt";
    case IndexOrder::kAevt: return ":aevt";
    case IndexOrder::kAvet: return ":avet";
  }
  return "?";
}

}  // namespace

// Converts components into a pattern. Returns false when an entity reference resolves to nothing
// (then nothing can match).
static bool ComponentsToPattern(const Db& db, IndexOrder order, const std::vector<Value>& comps,
                                Pattern* p) {
  if (comps.size() > 4) {
    throw Error(ErrorKind::kMisuse, std::string("Too many components for index ") + OrderName(order));
  }
  const Field* fields = kOrderFields[static_cast<int>(order)];
  for (size_t i = 0; i < comps.size(); ++i) {
    const Value& c = comps[i];
    switch (fields[i]) {
      case Field::kE: {
        if (c.is_nil()) break;
        int64_t e = db.Entid(c);
        if (e == 0) return false;
        p->e = e;
        break;
      }
      case Field::kA: {
        if (c.is_nil()) break;
        if (!c.is_keyword() && c.type() != Type::kLong) {
          throw Error(ErrorKind::kMisuse, "Attribute must be a keyword, got " + edn::ToString(c));
        }
        uint32_t a = db.AttrId(c);
        if (a == 0) return false;
        p->a = a;
        break;
      }
      case Field::kV: {
        if (c.is_nil()) break;
        Value v = c;
        if (p->a != 0 && db.schema().IsRef(p->a) && (c.is_sequential() || c.is_keyword())) {
          int64_t e = db.Entid(c);
          if (e == 0) return false;
          v = Value::Long(e);
        }
        p->v = v;
        break;
      }
      case Field::kTx: {
        if (c.is_nil()) break;
        if (c.type() != Type::kLong) {
          throw Error(ErrorKind::kMisuse, "Transaction component must be a number, got " +
                                              edn::ToString(c));
        }
        p->tx = c.as_long();
        break;
      }
    }
  }
  return true;
}

std::vector<Datom> Db::Datoms(IndexOrder order, const std::vector<Value>& components) const {
  Pattern p;
  if (!ComponentsToPattern(*this, order, components, &p)) return {};
  if (order != IndexOrder::kAvet) return SearchAll(order, p);
  std::vector<Datom> out;
  Search(order, p, [&](const Datom& d) {
    if (PublicAvet(d.a)) out.push_back(d);
    return true;
  });
  return out;
}

std::vector<Datom> Db::SeekDatoms(IndexOrder order, const std::vector<Value>& components) const {
  Pattern p;
  ComponentsToPattern(*this, order, components, &p);
  const Field* fields = kOrderFields[static_cast<int>(order)];
  PrefixProbe probe{&p, fields, LeadingBound(p, fields)};
  // Start at the components' position (the seek is a tree seek) and run to the end of the index;
  // the first datoms of an as-of group may sort before the position, so filter by the probe.
  std::vector<Datom> out;
  Pattern start;
  for (int i = 0; i < probe.n && i < 3; ++i) {
    switch (fields[i]) {
      case Field::kE: start.e = p.e; break;
      case Field::kA: start.a = p.a; break;
      case Field::kV: start.v = p.v; break;
      case Field::kTx: start.tx = p.tx; break;
    }
  }
  const bool avet = order == IndexOrder::kAvet;
  ViewScan(order, start, false, [&](const Datom& d) {
    if (probe(d) >= 0 && (!avet || PublicAvet(d.a))) out.push_back(d);
    return true;
  });
  return out;
}

std::vector<Datom> Db::RSeekDatoms(IndexOrder order, const std::vector<Value>& components) const {
  Pattern p;
  ComponentsToPattern(*this, order, components, &p);
  const Field* fields = kOrderFields[static_cast<int>(order)];
  PrefixProbe probe{&p, fields, LeadingBound(p, fields)};
  // Everything up to the components' position, in index order, then reversed.
  std::vector<Datom> out;
  const bool avet = order == IndexOrder::kAvet;
  Search(order, Pattern{}, [&](const Datom& d) {
    if (probe(d) > 0) return false;
    if (!avet || PublicAvet(d.a)) out.push_back(d);
    return true;
  });
  std::reverse(out.begin(), out.end());
  return out;
}

bool Db::PublicAvet(uint32_t a) const {
  const Attribute* attr = schema_->Find(a);
  return attr != nullptr && attr->in_avet();
}

void Db::ValueRange(uint32_t a, const std::optional<Value>& lo, const std::optional<Value>& hi,
                    const std::function<bool(const Datom&)>& f) const {
  Pattern p;
  p.a = a;
  if (lo) p.v = *lo;  // start at the lower bound; unbounded runs to the end of the index
  ViewScan(IndexOrder::kAvet, p, false, [&](const Datom& d) {
    if (d.a != a) return false;
    if (lo && Compare(d.v, *lo) < 0) return true;
    if (hi && Compare(d.v, *hi) > 0) return false;
    return f(d);
  });
}

std::vector<Datom> Db::IndexRange(const Value& attr, const Value& start, const Value& end) const {
  uint32_t a = AttrId(attr);
  if (a == 0 || !PublicAvet(a)) return {};
  std::vector<Datom> out;
  ValueRange(a, start.is_nil() ? std::nullopt : std::optional<Value>(start),
             end.is_nil() ? std::nullopt : std::optional<Value>(end), [&](const Datom& d) {
               out.push_back(d);
               return true;
             });
  return out;
}

}  // namespace datahike
