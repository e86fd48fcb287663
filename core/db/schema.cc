#include "core/db/schema.h"

#include <algorithm>

#include "core/value/edn.h"
#include "core/value/error.h"

namespace datahike {

namespace {
struct TypeInfo {
  ValueType type;
  const char* keyword;
  const char* predicate;
};
constexpr TypeInfo kTypes[] = {
    {ValueType::kString, "db.type/string", "string?"},
    {ValueType::kBoolean, "db.type/boolean", "boolean?"},
    {ValueType::kLong, "db.type/long", "int?"},
    {ValueType::kBigInt, "db.type/bigint", "integer?"},
    {ValueType::kFloat, "db.type/float", "float?"},
    {ValueType::kDouble, "db.type/double", "double?"},
    {ValueType::kBigDec, "db.type/bigdec", "decimal?"},
    {ValueType::kInstant, "db.type/instant", "inst?"},
    {ValueType::kUuid, "db.type/uuid", "uuid?"},
    {ValueType::kKeyword, "db.type/keyword", "keyword?"},
    {ValueType::kSymbol, "db.type/symbol", "symbol?"},
    {ValueType::kRef, "db.type/ref", "ref?"},
    {ValueType::kBytes, "db.type/bytes", "bytes?"},
    {ValueType::kTuple, "db.type/tuple", "vector?"},
    {ValueType::kNumber, "db.type/number", "number?"},
};
}  // namespace

bool ValueTypeFromKeyword(const Named* k, ValueType* out) {
  for (const TypeInfo& t : kTypes) {
    if (k->full == t.keyword) {
      *out = t.type;
      return true;
    }
  }
  // Datahike also accepts these as "any value" types.
  if (k->full == "db.type/any" || k->full == "db.type/value") {
    *out = ValueType::kAny;
    return true;
  }
  return false;
}

const char* ValueTypeKeyword(ValueType t) {
  for (const TypeInfo& x : kTypes) {
    if (x.type == t) return x.keyword;
  }
  return "db.type/any";
}

const char* ValueTypePredicate(ValueType t) {
  for (const TypeInfo& x : kTypes) {
    if (x.type == t) return x.predicate;
  }
  return "any?";
}

bool ValueConforms(ValueType t, const Value& v) {
  switch (t) {
    case ValueType::kAny: return true;
    case ValueType::kString: return v.type() == Type::kString;
    case ValueType::kBoolean: return v.type() == Type::kBool;
    case ValueType::kLong: return v.type() == Type::kLong;
    case ValueType::kBigInt: return v.is_integer();
    case ValueType::kFloat: return v.type() == Type::kFloat || v.type() == Type::kDouble;
    case ValueType::kDouble: return v.type() == Type::kDouble || v.type() == Type::kFloat;
    case ValueType::kBigDec: return v.type() == Type::kBigDec;
    case ValueType::kInstant: return v.type() == Type::kInstant;
    case ValueType::kUuid: return v.type() == Type::kUuid;
    case ValueType::kKeyword: return v.type() == Type::kKeyword;
    case ValueType::kSymbol: return v.type() == Type::kSymbol;
    case ValueType::kRef: return v.type() == Type::kLong;  // after entity resolution
    case ValueType::kBytes: return v.type() == Type::kBytes;
    case ValueType::kTuple: return v.type() == Type::kVector || v.type() == Type::kList;
    case ValueType::kNumber: return v.is_number();
  }
  return false;
}

// ---------------------------------------------------------------------------------------------------

namespace {
uint32_t KwId(const char* text) { return InternKeyword(text)->id; }

Attribute Builtin(const char* ident, ValueType type, Unique unique, bool no_history) {
  Attribute a;
  a.ident = KwId(ident);
  a.type = type;
  a.unique = unique;
  a.no_history = no_history;
  return a;
}
}  // namespace

std::shared_ptr<const Schema> Schema::Builtin() {
  static const std::shared_ptr<const Schema> builtin = [] {
    auto s = std::make_shared<Schema>();
    s->Put(datahike::Builtin("db/ident", ValueType::kKeyword, Unique::kIdentity, false));
    s->Put(datahike::Builtin("db/valueType", ValueType::kKeyword, Unique::kNone, false));
    s->Put(datahike::Builtin("db/cardinality", ValueType::kKeyword, Unique::kNone, false));
    s->Put(datahike::Builtin("db/unique", ValueType::kKeyword, Unique::kNone, false));
    s->Put(datahike::Builtin("db/index", ValueType::kBoolean, Unique::kNone, false));
    s->Put(datahike::Builtin("db/isComponent", ValueType::kBoolean, Unique::kNone, false));
    s->Put(datahike::Builtin("db/noHistory", ValueType::kBoolean, Unique::kNone, false));
    s->Put(datahike::Builtin("db/doc", ValueType::kString, Unique::kNone, false));
    s->Put(datahike::Builtin("db/txInstant", ValueType::kInstant, Unique::kNone, true));
    s->Put(datahike::Builtin("db/tupleAttrs", ValueType::kAny, Unique::kNone, false));
    s->Put(datahike::Builtin("db/tupleTypes", ValueType::kAny, Unique::kNone, false));
    s->Put(datahike::Builtin("db/tupleType", ValueType::kKeyword, Unique::kNone, false));
    s->Put(datahike::Builtin("db/maxLength", ValueType::kLong, Unique::kNone, false));
    return s;
  }();
  return builtin;
}

bool Schema::IsBuiltin(uint32_t a) const {
  const Named* k = KeywordById(a);
  return k != nullptr && k->ns == "db" && Builtin()->Find(a) != nullptr;
}

void Schema::Put(Attribute a) {
  Remove(a.ident);
  for (uint32_t part : a.tuple_attrs) composites_[part].push_back(a.ident);
  if (!a.tuple_attrs.empty() && a.unique != Unique::kNone) ++unique_composites_;
  uint32_t ident = a.ident;
  attrs_[ident] = std::move(a);
}

void Schema::Remove(uint32_t ident) {
  auto it = attrs_.find(ident);
  if (it == attrs_.end()) return;
  if (!it->second.tuple_attrs.empty() && it->second.unique != Unique::kNone) --unique_composites_;
  for (uint32_t part : it->second.tuple_attrs) {
    auto& v = composites_[part];
    v.erase(std::remove(v.begin(), v.end(), ident), v.end());
    if (v.empty()) composites_.erase(part);
  }
  attrs_.erase(it);
}

namespace {
Value AttributeToValue(const Attribute& a) {
  std::vector<std::pair<Value, Value>> m;
  m.emplace_back(Kw("db/ident"), Value::Keyword(KeywordById(a.ident)));
  if (a.type != ValueType::kAny) m.emplace_back(Kw("db/valueType"), Kw(ValueTypeKeyword(a.type)));
  m.emplace_back(Kw("db/cardinality"),
                 Kw(a.many ? "db.cardinality/many" : "db.cardinality/one"));
  if (a.unique != Unique::kNone) {
    m.emplace_back(Kw("db/unique"),
                   Kw(a.unique == Unique::kIdentity ? "db.unique/identity" : "db.unique/value"));
  }
  if (a.index) m.emplace_back(Kw("db/index"), Value::Bool(true));
  if (a.component) m.emplace_back(Kw("db/isComponent"), Value::Bool(true));
  if (a.no_history) m.emplace_back(Kw("db/noHistory"), Value::Bool(true));
  if (!a.tuple_attrs.empty()) {
    std::vector<Value> v;
    for (uint32_t t : a.tuple_attrs) v.push_back(Value::Keyword(KeywordById(t)));
    m.emplace_back(Kw("db/tupleAttrs"), Value::Vector(std::move(v)));
  }
  if (!a.tuple_types.empty()) {
    std::vector<Value> v;
    for (ValueType t : a.tuple_types) v.push_back(Kw(ValueTypeKeyword(t)));
    m.emplace_back(Kw("db/tupleTypes"), Value::Vector(std::move(v)));
  }
  if (a.has_tuple_type) m.emplace_back(Kw("db/tupleType"), Kw(ValueTypeKeyword(a.tuple_type)));
  if (a.eid != 0) m.emplace_back(Kw("db/id"), Value::Long(a.eid));
  return Value::Map(std::move(m));
}
}  // namespace

Value Schema::ToValue() const {
  std::vector<std::pair<Value, Value>> out;
  for (const auto& [id, a] : attrs_) {
    if (IsBuiltin(id)) continue;
    out.emplace_back(Value::Keyword(KeywordById(id)), AttributeToValue(a));
  }
  return Value::Map(std::move(out));
}

Value Schema::ReverseValue() const {
  std::vector<Value> unique, identity, value, index, component, no_history, ref, many, tuples, ident;
  for (const auto& [id, a] : attrs_) {
    if (IsBuiltin(id)) continue;
    Value k = Value::Keyword(KeywordById(id));
    ident.push_back(k);
    if (a.unique != Unique::kNone) unique.push_back(k);
    if (a.unique == Unique::kIdentity) identity.push_back(k);
    if (a.unique == Unique::kValue) value.push_back(k);
    if (a.index) index.push_back(k);
    if (a.component) component.push_back(k);
    if (a.no_history) no_history.push_back(k);
    if (a.is_ref()) ref.push_back(k);
    if (a.many) many.push_back(k);
    if (a.type == ValueType::kTuple) tuples.push_back(k);
  }
  std::vector<std::pair<Value, Value>> m;
  auto add = [&](const char* key, std::vector<Value>& v) {
    if (!v.empty()) m.emplace_back(Kw(key), Value::Set(std::move(v)));
  };
  add("db/ident", ident);
  add("db/unique", unique);
  add("db.unique/identity", identity);
  add("db.unique/value", value);
  add("db/index", index);
  add("db/isComponent", component);
  add("db/noHistory", no_history);
  add("db.type/ref", ref);
  add("db.cardinality/many", many);
  add("db.type/tuple", tuples);
  return Value::Map(std::move(m));
}

// ---------------------------------------------------------------------------------------------------

namespace {
[[noreturn]] void BadSpec(uint32_t ident, const std::string& why, const Value& props) {
  std::string msg = "Bad attribute specification for :" + KeywordById(ident)->full + ": " + why;
  throw Error(ErrorKind::kSchema, msg,
              Value::Map({{Kw("error"), Kw("schema/validation")},
                          {Kw("attribute"), Value::Keyword(KeywordById(ident))},
                          {Kw("value"), props}}));
}

ValueType TypeOrThrow(uint32_t ident, const Value& v, const Value& props) {
  ValueType t;
  if (!v.is_keyword() || !ValueTypeFromKeyword(v.as_named(), &t)) {
    BadSpec(ident, "unknown :db/valueType " + edn::ToString(v), props);
  }
  return t;
}
}  // namespace

Attribute AttributeFromProperties(uint32_t ident, const Value& props, bool schema_map) {
  Attribute a;
  a.ident = ident;
  if (!props.is_map()) BadSpec(ident, "expected a map of properties", props);
  bool has_type = false, has_card = false;
  for (const auto& [k, v] : props.entries()) {
    if (!k.is_keyword()) BadSpec(ident, "property keys must be keywords", props);
    const std::string& key = k.as_named()->full;
    if (key == "db/valueType" || key == "db/type") {
      a.type = TypeOrThrow(ident, v, props);
      has_type = true;
    } else if (key == "db/cardinality") {
      if (v.is_keyword() && v.as_named()->full == "db.cardinality/many") {
        a.many = true;
      } else if (v.is_keyword() && v.as_named()->full == "db.cardinality/one") {
        a.many = false;
      } else {
        BadSpec(ident, "unknown :db/cardinality " + edn::ToString(v), props);
      }
      has_card = true;
    } else if (key == "db/unique") {
      if (v.is_keyword() && v.as_named()->full == "db.unique/identity") {
        a.unique = Unique::kIdentity;
      } else if (v.is_keyword() && v.as_named()->full == "db.unique/value") {
        a.unique = Unique::kValue;
      } else if (!v.is_nil()) {
        BadSpec(ident, "unknown :db/unique " + edn::ToString(v), props);
      }
    } else if (key == "db/index" || key == "db/isComponent" || key == "db/noHistory") {
      if (v.type() != Type::kBool) {
        std::string msg = "Bad attribute specification for {:" + KeywordById(ident)->full + " {:" +
                          key + " " + edn::ToString(v) + "}}, expected one of #{true false}";
        throw Error(ErrorKind::kSchema, msg,
                    Value::Map({{Kw("error"), Kw("schema/validation")},
                                {Kw("attribute"), Value::Keyword(KeywordById(ident))}}));
      }
      bool b = v.as_bool();
      if (key == "db/index") a.index = b;
      if (key == "db/isComponent") a.component = b;
      if (key == "db/noHistory") a.no_history = b;
    } else if (key == "db/tupleAttrs") {
      if (!v.is_sequential() || v.size() == 0) BadSpec(ident, ":db/tupleAttrs must be a vector", props);
      for (const Value& x : v.items()) {
        if (!x.is_keyword()) BadSpec(ident, ":db/tupleAttrs must hold attribute keywords", props);
        a.tuple_attrs.push_back(x.as_named()->id);
      }
    } else if (key == "db/tupleTypes") {
      if (!v.is_sequential() || v.size() == 0) BadSpec(ident, ":db/tupleTypes must be a vector", props);
      for (const Value& x : v.items()) a.tuple_types.push_back(TypeOrThrow(ident, x, props));
    } else if (key == "db/tupleType") {
      a.tuple_type = TypeOrThrow(ident, v, props);
      a.has_tuple_type = true;
    } else if (key == "db/maxLength") {
      if (v.type() != Type::kLong || v.as_long() < 0) {
        BadSpec(ident, ":db/maxLength must be a non-negative long", props);
      }
      a.max_length = v.as_long();
    }
    // :db/ident, :db/id, :db/doc and unknown keys are carried by the entity, not the Attribute.
  }
  (void)has_card;
  if (schema_map && a.component && a.type != ValueType::kRef) {
    BadSpec(ident, "{:db/isComponent true} should also have {:db/valueType :db.type/ref}", props);
  }
  if (schema_map && !has_type) {
    // As Datahike's schema map: tuple properties only count on a :db.type/tuple attribute, so
    // {:db/tupleAttrs [:a :b]} alone derives nothing (DataScript would derive the tuple).
    a.tuple_attrs.clear();
    a.tuple_types.clear();
    a.has_tuple_type = false;
  }
  if (!a.tuple_attrs.empty() || !a.tuple_types.empty() || a.has_tuple_type) {
    if (has_type && a.type != ValueType::kTuple) {
      BadSpec(ident, "tuple properties need {:db/valueType :db.type/tuple}", props);
    }
    a.type = ValueType::kTuple;
    if (a.tuple_attrs.size() > 8 || a.tuple_types.size() > 8) {
      BadSpec(ident, "a tuple holds at most 8 values", props);
    }
  }
  return a;
}

}  // namespace datahike
