#include "core/pull/entity.h"

#include <map>
#include <vector>

namespace datahike {

Value EntityMap(const Db& db, const Value& eid) {
  // Only numbers, lookup refs and idents can name an entity; anything else names none.
  if (!(eid.type() == Type::kLong || eid.is_keyword() || eid.is_sequential())) return Value();
  int64_t e = db.Entid(eid);
  if (e <= 0) return Value();
  std::vector<Datom> ds;
  Pattern p;
  p.e = e;
  db.Search(IndexOrder::kEavt, p, [&](const Datom& d) {
    if (d.added) ds.push_back(d);
    return true;
  });
  if (ds.empty()) return Value();
  std::vector<std::pair<Value, Value>> out;
  out.emplace_back(Kw("db/id"), Value::Long(e));
  const Schema& schema = db.schema();
  for (size_t i = 0; i < ds.size();) {
    uint32_t a = ds[i].a;
    const Attribute* attr = schema.Find(a);
    bool ref = attr != nullptr && attr->is_ref();
    auto conv = [&](const Value& v) {
      return ref ? Value::Map({{Kw("db/id"), v}}) : v;
    };
    size_t j = i;
    std::vector<Value> vs;
    while (j < ds.size() && ds[j].a == a) vs.push_back(conv(ds[j++].v));
    Value key = Value::Keyword(KeywordById(a));
    if (attr != nullptr && attr->many) {
      out.emplace_back(key, Value::Set(std::move(vs)));
    } else {
      out.emplace_back(key, vs.back());
    }
    i = j;
  }
  return Value::Map(std::move(out));
}

}  // namespace datahike
