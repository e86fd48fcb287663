// The value model: every datum the engine stores, reads from EDN/JSON or returns.
//
// A Value is 16 bytes: a type tag and an 8-byte payload. Scalars (nil, booleans, longs, doubles,
// floats, instants, characters) live in the payload; keywords and symbols are interned for the life of
// the process and the payload points at the interned entry (equality is pointer equality); everything
// else (strings, big numbers, uuids, bytes, collections) is an immutable heap object shared by an
// atomic reference count. Values are immutable, so they may be shared freely across threads.
//
// A total order across all types (Compare) sorts the indices. Numbers compare numerically across
// integer and floating kinds; at equal magnitude an integer sorts before a floating value, which sorts
// before a bigdec. Lists and vectors are one sequential kind (Clojure's equality).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace datahike {

enum class Type : uint8_t {
  kNil = 0,
  kBool,
  kLong,
  kBigInt,   // arbitrary precision integer, EDN `123N`
  kFloat,    // single precision (schema :db.type/float); stored widened to double
  kDouble,
  kBigDec,   // arbitrary precision decimal, EDN `1.5M`
  kInstant,  // milliseconds since the Unix epoch, EDN #inst
  kUuid,     // EDN #uuid
  kChar,     // a Unicode code point, EDN \a
  kString,
  kKeyword,
  kSymbol,
  kBytes,
  kList,
  kVector,
  kSet,      // elements sorted by Compare, no duplicates
  kMap,      // entries in insertion order (as Clojure's array maps print), no duplicate keys
};

const char* TypeName(Type t);

// An interned keyword or symbol. Never freed. `id` is dense from 1 and stable for the process.
struct Named {
  std::string ns;    // empty when there is no namespace
  std::string name;
  std::string full;  // "ns/name" or "name" (without the leading ':')
  uint32_t id;
  bool is_keyword;
  // An order label, fixed at interning: for names of one kind, a < b implies label(a) <= label(b),
  // so different labels decide the order without looking at the text.
  uint64_t label;
};

// Interning. Thread-safe. `text` is "ns/name" or "name" without ':'; "/" alone is the symbol `/`.
const Named* InternKeyword(std::string_view text);
const Named* InternKeyword(std::string_view ns, std::string_view name);
const Named* InternSymbol(std::string_view text);
namespace internal {
// id -> keyword, published chunk by chunk so that readers need no lock.
constexpr size_t kKeywordChunkBits = 12;
constexpr size_t kKeywordChunkSize = size_t{1} << kKeywordChunkBits;
constexpr size_t kKeywordMaxChunks = size_t{1} << 16;
extern std::atomic<const Named**> keyword_chunks[kKeywordMaxChunks];
}  // namespace internal

// The keyword with this id (ids come from Named::id of a keyword); nullptr for an unknown id.
// Lock-free.
inline const Named* KeywordById(uint32_t id) {
  size_t chunk = id >> internal::kKeywordChunkBits;
  if (chunk >= internal::kKeywordMaxChunks) return nullptr;
  const Named** c = internal::keyword_chunks[chunk].load(std::memory_order_acquire);
  return c == nullptr ? nullptr : c[id & (internal::kKeywordChunkSize - 1)];
}
// Keyword order: no namespace first, then by namespace, then by name (Clojure's compare).
int CompareNamed(const Named* a, const Named* b);

class Value;
struct HeapObject;

// 128-bit uuid, most significant byte first.
struct Uuid {
  uint8_t bytes[16];
};

class Value {
 public:
  Value() noexcept : type_(Type::kNil), inline_len_(0), inline_head_{} { bits_.i = 0; }
  Value(const Value& o) noexcept { CopyRaw(o); Retain(); }
  Value(Value&& o) noexcept {
    CopyRaw(o);
    o.Clear();
  }
  Value& operator=(const Value& o) noexcept {
    if (this != &o) {
      o.Retain();
      Release();
      CopyRaw(o);
    }
    return *this;
  }
  Value& operator=(Value&& o) noexcept {
    if (this != &o) {
      Release();
      CopyRaw(o);
      o.Clear();
    }
    return *this;
  }
  ~Value() { Release(); }

  // Constructors. Collections are built from element vectors; Set sorts and deduplicates; Map keeps
  // the first position of each key and the last value given for it (Clojure's assoc).
  static Value Nil() { return Value(); }
  static Value Bool(bool b);
  static Value Long(int64_t n);
  static Value Double(double d);
  static Value Float(double d);
  static Value Instant(int64_t millis);
  static Value Char(uint32_t code_point);
  // `digits` is an optional '-' then decimal digits (no 'N'); normalised (no leading zeros).
  // Throws std::invalid_argument on bad text.
  static Value BigInt(std::string_view digits);
  // `text` is a decimal number without the 'M' suffix, e.g. "-1.50" or "1E+3"; kept as written
  // (scale matters for printing, not for comparison). Throws std::invalid_argument on bad text.
  static Value BigDec(std::string_view text);
  static Value MakeUuid(const Uuid& u);
  static Value String(std::string_view s);
  static Value Bytes(std::string_view raw);
  static Value Keyword(std::string_view text) { return Value(InternKeyword(text)); }
  static Value Keyword(const Named* k) { return Value(k); }
  static Value Symbol(std::string_view text) { return Value(InternSymbol(text)); }
  static Value List(std::vector<Value> items);
  static Value Vector(std::vector<Value> items);
  static Value Set(std::vector<Value> items);
  static Value Map(std::vector<std::pair<Value, Value>> entries);

  Type type() const { return type_; }
  bool is_nil() const { return type_ == Type::kNil; }
  bool is_keyword() const { return type_ == Type::kKeyword; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_long() const { return type_ == Type::kLong; }
  bool is_integer() const { return type_ == Type::kLong || type_ == Type::kBigInt; }
  bool is_number() const;
  // List or vector.
  bool is_sequential() const { return type_ == Type::kList || type_ == Type::kVector; }
  bool is_map() const { return type_ == Type::kMap; }
  bool is_set() const { return type_ == Type::kSet; }
  // List, vector or set.
  bool is_collection() const { return is_sequential() || is_set(); }

  // Accessors. REQUIRES: the matching type (checked only by assert).
  bool as_bool() const { return bits_.i != 0; }
  int64_t as_long() const { return bits_.i; }
  double as_double() const { return bits_.d; }  // kDouble and kFloat
  int64_t as_instant() const { return bits_.i; }
  uint32_t as_char() const { return static_cast<uint32_t>(bits_.i); }
  const Named* as_named() const { return bits_.named; }  // keyword or symbol
  // String, bytes, bigint digits, bigdec text.
  std::string_view as_string() const {
    if (is_inline()) return std::string_view(inline_data(), inline_len_ & ~kInlineFlag);
    return HeapText();
  }
  const Uuid& as_uuid() const;
  // Elements of a list, vector or set.
  const std::vector<Value>& items() const;
  // Entries of a map, in insertion order.
  const std::vector<std::pair<Value, Value>>& entries() const;
  // Map lookup; nullptr when absent. REQUIRES: is_map().
  const Value* get(const Value& key) const;
  const Value* get(std::string_view keyword) const;  // convenience: key is the keyword `keyword`
  // Number of elements or entries; 0 for scalars.
  size_t size() const;

  // Truthiness as in Clojure: everything but nil and false.
  bool truthy() const { return !(type_ == Type::kNil || (type_ == Type::kBool && !bits_.i)); }

  // Numeric value as double (long, bigint, float, double, bigdec). REQUIRES: is_number().
  double number_as_double() const;

  // Whether both values have the same 16 bytes: then they are equal. Strings of up to 14 bytes
  // live inline with zeroed padding, so two strings are equal exactly when they have the same
  // bytes or both live on the heap with equal text.
  bool SameRepresentation(const Value& o) const {
    return std::memcmp(static_cast<const void*>(this), static_cast<const void*>(&o), sizeof(Value)) == 0;
  }
  bool is_inline_string() const { return type_ == Type::kString && is_inline(); }

  // Raw payload for hashing/packing.
  uint64_t raw_bits() const { return static_cast<uint64_t>(bits_.i); }

 private:
  explicit Value(const Named* n) noexcept
      : type_(n->is_keyword ? Type::kKeyword : Type::kSymbol), inline_len_(0), inline_head_{} {
    bits_.named = n;
  }
  Value(Type t, HeapObject* h) noexcept : type_(t), inline_len_(0), inline_head_{} { bits_.heap = h; }
  static bool HeapType(Type t) {
    return t == Type::kBigInt || t == Type::kBigDec || t == Type::kUuid || t == Type::kString ||
           t == Type::kBytes || t >= Type::kList;
  }
  // A short string lives inside the value (no heap object, no reference count): bytes 2..15.
  static constexpr size_t kInlineMax = 14;
  static constexpr uint8_t kInlineFlag = 0x80;
  bool is_inline() const { return (inline_len_ & kInlineFlag) != 0; }
  bool is_heap() const { return HeapType(type_) && !is_inline(); }
  const char* inline_data() const { return reinterpret_cast<const char*>(this) + 2; }
  void CopyRaw(const Value& o) noexcept { std::memcpy(static_cast<void*>(this), &o, sizeof(Value)); }
  void Clear() noexcept {
    type_ = Type::kNil;
    inline_len_ = 0;
    bits_.i = 0;
  }
  void Retain() const noexcept {
    if (is_heap()) RetainHeap();
  }
  void Release() noexcept {
    if (is_heap()) ReleaseHeap();
  }
  void RetainHeap() const noexcept;
  void ReleaseHeap() noexcept;
  std::string_view HeapText() const;

  Type type_;
  uint8_t inline_len_;     // kInlineFlag | length for an inline string, else 0
  char inline_head_[6];    // the first 6 bytes of an inline string; the rest overlay bits_
  union Bits {
    int64_t i;
    double d;
    const Named* named;
    HeapObject* heap;
    char chars[8];
  } bits_;

  friend struct ValueAccess;
};

static_assert(sizeof(Value) == 16, "Value must stay 16 bytes");

// Total order across all values: negative, zero or positive. The index comparators call it for
// every value they order, so the common same-kind cases are decided inline.
int CompareSlow(const Value& a, const Value& b);
inline int Compare(const Value& a, const Value& b) {
  if (a.type() == b.type()) {
    switch (a.type()) {
      case Type::kLong: {
        int64_t x = a.as_long(), y = b.as_long();
        return (x > y) - (x < y);
      }
      case Type::kString: {
        int c = a.as_string().compare(b.as_string());
        return (c > 0) - (c < 0);
      }
      case Type::kKeyword:
        if (a.as_named() == b.as_named()) return 0;
        break;
      default:
        break;
    }
  }
  return CompareSlow(a, b);
}
// Equality consistent with Compare == 0 except across numeric kinds: 1 and 1.0 are not equal
// (Clojure's =), while 1 and 1N are.
bool Equal(const Value& a, const Value& b);
inline bool operator==(const Value& a, const Value& b) { return Equal(a, b); }
inline bool operator!=(const Value& a, const Value& b) { return !Equal(a, b); }
size_t Hash(const Value& v);

struct ValueLess {
  bool operator()(const Value& a, const Value& b) const { return Compare(a, b) < 0; }
};
struct ValueHash {
  size_t operator()(const Value& v) const { return Hash(v); }
};
struct ValueEq {
  bool operator()(const Value& a, const Value& b) const { return Equal(a, b); }
};

// Convenience constructors used all over the engine.
inline Value Kw(std::string_view text) { return Value::Keyword(text); }

}  // namespace datahike
