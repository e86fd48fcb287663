#include "core/pull/entity.h"

#include <string>
#include <utility>
#include <vector>

#include "core/value/edn.h"
#include "core/value/error.h"

namespace datahike {

namespace {

const Value& DbIdKey() {
  static const Value key = Kw("db/id");
  return key;
}

Value IdMap(const Value& e) { return Value::Map({{DbIdKey(), e}}); }

std::vector<Datom> EntityDatoms(const Db& db, int64_t e) {
  Pattern p;
  p.e = e;
  return db.SearchAll(IndexOrder::kEavt, p);
}

// One entity being touched. Its datoms are consumed one attribute at a time; a component
// attribute's entities are touched in child frames before the attribute is added.
struct TouchFrame {
  int64_t e = 0;
  std::vector<Datom> datoms;
  size_t next = 0;  // first datom of the next attribute
  std::vector<std::pair<Value, Value>> out;
  // The component attribute in progress.
  bool pending = false;
  Value key;
  bool many = false;
  std::vector<Value> children;  // its values (entity ids)
  size_t next_child = 0;
  std::vector<Value> touched;
};

// Datahike's touch, with touch-components: every attribute, components touched recursively. Runs on
// an explicit stack, so a deep component tree cannot overflow the C++ stack.
Value Touch(const Db& db, int64_t root, std::vector<Datom> root_datoms) {
  const Schema& schema = db.schema();
  std::vector<TouchFrame> stack;
  stack.push_back(TouchFrame{});
  stack.back().e = root;
  stack.back().datoms = std::move(root_datoms);
  auto on_path = [&](int64_t e) {
    for (const TouchFrame& f : stack) {
      if (f.e == e) return true;
    }
    return false;
  };
  while (true) {
    TouchFrame& f = stack.back();
    if (f.pending) {
      if (f.next_child < f.children.size()) {
        const Value& c = f.children[f.next_child++];
        if (c.type() != Type::kLong || on_path(c.as_long())) {
          f.touched.push_back(c.type() == Type::kLong ? IdMap(c) : c);
          continue;
        }
        int64_t child = c.as_long();
        TouchFrame t;
        t.e = child;
        t.datoms = EntityDatoms(db, child);
        stack.push_back(std::move(t));  // f is not used again before the child is done
        continue;
      }
      f.out.emplace_back(std::move(f.key),
                         f.many ? Value::Set(std::move(f.touched)) : std::move(f.touched[0]));
      f.pending = false;
      f.children.clear();
      f.touched.clear();
      f.next_child = 0;
    }
    if (f.next < f.datoms.size()) {
      size_t begin = f.next, end = f.next + 1;
      uint32_t a = f.datoms[begin].a;
      while (end < f.datoms.size() && f.datoms[end].a == a) ++end;
      f.next = end;
      const Attribute* attr = schema.Find(a);
      bool ref = attr != nullptr && attr->is_ref();
      bool many = attr != nullptr && attr->many;
      Value key = Value::Keyword(KeywordById(a));
      // A cardinality-one attribute shows its first datom (a history view may hold several).
      if (!many) end = begin + 1;
      std::vector<Value> vals;
      for (size_t k = begin; k < end; ++k) vals.push_back(f.datoms[k].v);
      if (ref && attr->component) {
        f.pending = true;
        f.key = std::move(key);
        f.many = many;
        f.children = std::move(vals);
        continue;
      }
      if (ref) {
        for (Value& v : vals) v = IdMap(v);
      }
      f.out.emplace_back(std::move(key), many ? Value::Set(std::move(vals)) : std::move(vals[0]));
      continue;
    }
    std::vector<std::pair<Value, Value>> entries;
    entries.reserve(f.out.size() + 1);
    entries.emplace_back(DbIdKey(), Value::Long(f.e));
    for (auto& kv : f.out) entries.push_back(std::move(kv));
    Value m = Value::Map(std::move(entries));
    stack.pop_back();
    if (stack.empty()) return m;
    stack.back().touched.push_back(std::move(m));
  }
}

}  // namespace

int64_t EntityId(const Db& db, const Value& eid) {
  // Only numbers, lookup refs and idents can name an entity; anything else names none.
  if (!(eid.type() == Type::kLong || eid.is_keyword() || eid.is_sequential())) return 0;
  int64_t e = db.Entid(eid);
  return e > 0 ? e : 0;
}

Value EntityMap(const Db& db, const Value& eid) {
  int64_t e = EntityId(db, eid);
  if (e == 0) return Value();
  std::vector<Datom> datoms = EntityDatoms(db, e);
  if (datoms.empty()) return Value();
  return Touch(db, e, std::move(datoms));
}

Value EntityGet(const Db& db, int64_t eid, const Value& attr) {
  if (attr.is_string()) return Value();  // this engine's attributes are keywords
  if (!attr.is_keyword()) {
    throw Error(ErrorKind::kQuery,
                "Bad attribute type: " + edn::ToString(attr) + ", expected keyword or string",
                Value::Map({{Kw("error"), Kw("transact/syntax")}, {Kw("attribute"), attr}}));
  }
  const Named* k = attr.as_named();
  if (k->full == "db/id") return Value::Long(eid);
  const Schema& schema = db.schema();
  if (!k->name.empty() && k->name[0] == '_') {
    if (k->name.size() == 1) return Value();
    uint32_t a = InternKeyword(k->ns, k->name.substr(1))->id;
    const Attribute* forward = schema.Find(a);
    Pattern p;
    p.a = a;
    p.v = Value::Long(eid);
    // AVET holds every datom: the referrers are one range.
    std::vector<Value> referrers;
    db.Search(IndexOrder::kAvet, p, [&](const Datom& d) {
      referrers.push_back(IdMap(Value::Long(d.e)));
      return true;
    });
    if (referrers.empty()) return Value();
    if (forward != nullptr && forward->is_ref() && forward->component) return referrers[0];
    return Value::Set(std::move(referrers));
  }
  uint32_t a = k->id;
  const Attribute* def = schema.Find(a);
  bool ref = def != nullptr && def->is_ref();
  bool many = def != nullptr && def->many;
  Pattern p;
  p.e = eid;
  p.a = a;
  std::vector<Value> vals;
  db.Search(IndexOrder::kEavt, p, [&](const Datom& d) {
    vals.push_back(ref ? IdMap(d.v) : d.v);
    return many;  // cardinality one: the first datom
  });
  if (vals.empty()) return Value();
  return many ? Value::Set(std::move(vals)) : std::move(vals[0]);
}

}  // namespace datahike
