// Schema: what each attribute is. An immutable value owned by a Db; a transaction that changes the
// schema builds a new one.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/value/value.h"

namespace datahike {

enum class ValueType : uint8_t {
  kAny = 0,  // no :db/valueType (schema-on-read, or a DataScript-style schema without a type)
  kString,
  kBoolean,
  kLong,
  kBigInt,
  kFloat,
  kDouble,
  kBigDec,
  kInstant,
  kUuid,
  kKeyword,
  kSymbol,
  kRef,
  kBytes,
  kTuple,
  kNumber,  // any number (Datahike's :db.type/number)
};

// :db.type/string -> kString; returns false for an unknown keyword.
bool ValueTypeFromKeyword(const Named* k, ValueType* out);
const char* ValueTypeKeyword(ValueType t);  // "db.type/string"
// Whether v may be stored under type t (Datahike's rules: bigint takes any integer, float takes
// doubles, double refuses longs, long refuses bigints, bigdec only bigdecs).
bool ValueConforms(ValueType t, const Value& v);
// The predicate named in Datahike's error message ("string?", "int?", ...).
const char* ValueTypePredicate(ValueType t);

enum class Unique : uint8_t { kNone, kIdentity, kValue };

struct Attribute {
  uint32_t ident = 0;       // keyword id
  int64_t eid = 0;          // entity holding its definition; 0 for a storage-free schema map
  ValueType type = kAnyType;
  bool many = false;
  Unique unique = Unique::kNone;
  bool index = false;
  bool component = false;
  bool no_history = false;
  std::vector<uint32_t> tuple_attrs;     // composite tuple: the attributes it is made of
  std::vector<ValueType> tuple_types;    // heterogeneous tuple
  ValueType tuple_type = kAnyType;       // homogeneous tuple
  bool has_tuple_type = false;
  int64_t max_length = -1;  // :db/maxLength; -1 when not set, 0 disables the default cap

  static constexpr ValueType kAnyType = ValueType::kAny;
  bool is_ref() const { return type == ValueType::kRef; }
  // In Datahike's AVET: indexed, unique or ref (refs are indexed for reverse lookups). Our AVET holds
  // every datom; this decides what the public :avet calls show (core/db/db.h).
  bool in_avet() const { return index || unique != Unique::kNone || type == ValueType::kRef; }
};

class Schema {
 public:
  // The built-in attributes (:db/ident, :db/valueType, ..., :db/txInstant).
  static std::shared_ptr<const Schema> Builtin();

  const Attribute* Find(uint32_t ident) const {
    auto it = attrs_.find(ident);
    return it == attrs_.end() ? nullptr : &it->second;
  }
  bool IsRef(uint32_t a) const {
    const Attribute* x = Find(a);
    return x != nullptr && x->is_ref();
  }
  bool IsMany(uint32_t a) const {
    const Attribute* x = Find(a);
    return x != nullptr && x->many;
  }
  bool IsBuiltin(uint32_t a) const;
  // Composite tuple attributes that include attribute a.
  const std::vector<uint32_t>* CompositesOf(uint32_t a) const {
    auto it = composites_.find(a);
    return it == composites_.end() ? nullptr : &it->second;
  }
  const std::unordered_map<uint32_t, Attribute>& attributes() const { return attrs_; }
  // Whether any composite tuple attribute is unique (upserts then look at composites too).
  bool has_unique_composites() const { return unique_composites_ > 0; }

  // Mutation, only while building a new schema.
  void Put(Attribute a);
  void Remove(uint32_t ident);

  // The schema as Datahike's `schema` returns it: {ident {:db/ident .. :db/valueType .. ...}}.
  // User attributes only (not the built-ins).
  Value ToValue() const;
  // {:db/unique #{...} :db/index #{...} :db.type/ref #{...} ...} as Datahike's reverse-schema.
  Value ReverseValue() const;

 private:
  std::unordered_map<uint32_t, Attribute> attrs_;
  std::unordered_map<uint32_t, std::vector<uint32_t>> composites_;
  int unique_composites_ = 0;
};

// Builds an Attribute from a map of schema properties ({:db/valueType .. :db/cardinality ..}).
// Throws datahike::Error kSchema on an invalid definition. `schema_map` applies DataScript's extra
// checks for storage-free schema maps (a component must be a ref).
Attribute AttributeFromProperties(uint32_t ident, const Value& props, bool schema_map);

}  // namespace datahike
