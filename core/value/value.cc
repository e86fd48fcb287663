#include "core/value/value.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>

namespace datahike {

// ---------------------------------------------------------------------------------------------------
// Heap objects

struct HeapObject {
  mutable std::atomic<int32_t> refs{1};
  virtual ~HeapObject() = default;
};
namespace {
struct TextObject final : HeapObject {
  explicit TextObject(std::string_view s) : text(s) {}
  std::string text;
};
struct UuidObject final : HeapObject {
  Uuid uuid;
};
struct SeqObject final : HeapObject {
  std::vector<Value> items;
};
struct MapObject final : HeapObject {
  std::vector<std::pair<Value, Value>> entries;  // insertion order
  std::vector<uint32_t> sorted;                  // entry indices by key; only for large maps
};
constexpr size_t kLinearMapSize = 8;

// Entry indices of a map in key order.
std::vector<uint32_t> SortedIndices(const std::vector<std::pair<Value, Value>>& es) {
  std::vector<uint32_t> idx(es.size());
  for (uint32_t i = 0; i < idx.size(); ++i) idx[i] = i;
  std::sort(idx.begin(), idx.end(),
            [&](uint32_t a, uint32_t b) { return Compare(es[a].first, es[b].first) < 0; });
  return idx;
}
}  // namespace

struct ValueAccess {
  static HeapObject* heap(const Value& v) { return v.bits_.heap; }
  static Value Make(Type t, HeapObject* h) { return Value(t, h); }
};

void Value::RetainHeap() const noexcept { bits_.heap->refs.fetch_add(1, std::memory_order_relaxed); }
void Value::ReleaseHeap() noexcept {
  if (bits_.heap->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete bits_.heap;
}

const char* TypeName(Type t) {
  switch (t) {
    case Type::kNil: return "nil";
    case Type::kBool: return "boolean";
    case Type::kLong: return "long";
    case Type::kBigInt: return "bigint";
    case Type::kFloat: return "float";
    case Type::kDouble: return "double";
    case Type::kBigDec: return "bigdec";
    case Type::kInstant: return "instant";
    case Type::kUuid: return "uuid";
    case Type::kChar: return "char";
    case Type::kString: return "string";
    case Type::kKeyword: return "keyword";
    case Type::kSymbol: return "symbol";
    case Type::kBytes: return "bytes";
    case Type::kList: return "list";
    case Type::kVector: return "vector";
    case Type::kSet: return "set";
    case Type::kMap: return "map";
  }
  return "unknown";
}

// ---------------------------------------------------------------------------------------------------
// Interning

namespace internal {
std::atomic<const Named**> keyword_chunks[kKeywordMaxChunks];
}  // namespace internal

namespace {
constexpr size_t kChunkBits = internal::kKeywordChunkBits;
constexpr size_t kChunkSize = internal::kKeywordChunkSize;
constexpr size_t kMaxChunks = internal::kKeywordMaxChunks;

// (has namespace, ns, name) order: names without a namespace first.
struct NameOrder {
  bool operator()(const std::pair<std::string, std::string>& a,
                  const std::pair<std::string, std::string>& b) const {
    bool an = !a.first.empty(), bn = !b.first.empty();
    if (an != bn) return !an;
    if (a.first != b.first) return a.first < b.first;
    return a.second < b.second;
  }
};

struct Interner {
  std::mutex mu;
  std::unordered_map<std::string, Named*> keywords;
  // Interned names in their order, to give each new one a label between its neighbours'.
  std::map<std::pair<std::string, std::string>, Named*, NameOrder> keyword_order;
  std::map<std::pair<std::string, std::string>, Named*, NameOrder> symbol_order;
  std::unordered_map<std::string, Named*> symbols;
  uint32_t next_id = 1;
  uint32_t next_symbol_id = 1;
};
Interner& GetInterner() {
  static Interner* interner = new Interner();  // never destroyed: interned names outlive everything
  return *interner;
}

Named* NewNamed(std::string_view ns, std::string_view name, bool keyword, uint32_t id) {
  auto* n = new Named();
  n->ns = std::string(ns);
  n->name = std::string(name);
  n->full = ns.empty() ? std::string(name) : std::string(ns) + "/" + std::string(name);
  n->id = id;
  n->is_keyword = keyword;
  return n;
}

void SplitName(std::string_view text, std::string_view& ns, std::string_view& name) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos || text.size() == 1 || slash == 0) {
    ns = {};
    name = text;
  } else {
    ns = text.substr(0, slash);
    name = text.substr(slash + 1);
  }
}
// Gives n a label between its neighbours' in `order` (equal to the lower one when there is no
// room left: ties fall back to comparing text) and adds it.
void AssignLabel(std::map<std::pair<std::string, std::string>, Named*, NameOrder>& order, Named* n) {
  auto key = std::make_pair(n->ns, n->name);
  auto next = order.lower_bound(key);
  uint64_t lo = 0, hi = UINT64_MAX;
  if (next != order.end()) hi = next->second->label;
  if (next != order.begin()) lo = std::prev(next)->second->label;
  n->label = hi - lo >= 2 ? lo + (hi - lo) / 2 : lo;
  order.emplace(std::move(key), n);
}

}  // namespace

const Named* InternKeyword(std::string_view text) {
  Interner& in = GetInterner();
  std::lock_guard<std::mutex> lock(in.mu);
  auto it = in.keywords.find(std::string(text));
  if (it != in.keywords.end()) return it->second;
  std::string_view ns, name;
  SplitName(text, ns, name);
  uint32_t id = in.next_id++;
  if ((id >> kChunkBits) >= kMaxChunks) throw std::length_error("too many interned keywords");
  Named* n = NewNamed(ns, name, true, id);
  auto& chunk = internal::keyword_chunks[id >> kChunkBits];
  const Named** c = chunk.load(std::memory_order_acquire);
  if (c == nullptr) {
    c = new const Named*[kChunkSize]();
    chunk.store(c, std::memory_order_release);
  }
  AssignLabel(in.keyword_order, n);
  c[id & (kChunkSize - 1)] = n;
  in.keywords.emplace(n->full, n);
  return n;
}

const Named* InternKeyword(std::string_view ns, std::string_view name) {
  if (ns.empty()) return InternKeyword(name);
  std::string full;
  full.reserve(ns.size() + name.size() + 1);
  full.append(ns).append("/").append(name);
  return InternKeyword(full);
}

const Named* InternSymbol(std::string_view text) {
  Interner& in = GetInterner();
  std::lock_guard<std::mutex> lock(in.mu);
  auto it = in.symbols.find(std::string(text));
  if (it != in.symbols.end()) return it->second;
  std::string_view ns, name;
  SplitName(text, ns, name);
  Named* n = NewNamed(ns, name, false, in.next_symbol_id++);
  AssignLabel(in.symbol_order, n);
  in.symbols.emplace(n->full, n);
  return n;
}


int CompareNamed(const Named* a, const Named* b) {
  if (a == b) return 0;
  if (a->label != b->label) return a->label < b->label ? -1 : 1;
  bool a_ns = !a->ns.empty(), b_ns = !b->ns.empty();
  if (a_ns != b_ns) return a_ns ? 1 : -1;
  if (a_ns) {
    if (int c = a->ns.compare(b->ns)) return c < 0 ? -1 : 1;
  }
  int c = a->name.compare(b->name);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

// ---------------------------------------------------------------------------------------------------
// Construction

Value Value::Bool(bool b) {
  Value v;
  v.type_ = Type::kBool;
  v.bits_.i = b ? 1 : 0;
  return v;
}
Value Value::Long(int64_t n) {
  Value v;
  v.type_ = Type::kLong;
  v.bits_.i = n;
  return v;
}
Value Value::Double(double d) {
  Value v;
  v.type_ = Type::kDouble;
  v.bits_.d = d;
  return v;
}
Value Value::Float(double d) {
  Value v;
  v.type_ = Type::kFloat;
  v.bits_.d = static_cast<double>(static_cast<float>(d));
  return v;
}
Value Value::Instant(int64_t millis) {
  Value v;
  v.type_ = Type::kInstant;
  v.bits_.i = millis;
  return v;
}
Value Value::Char(uint32_t cp) {
  Value v;
  v.type_ = Type::kChar;
  v.bits_.i = cp;
  return v;
}

Value Value::BigInt(std::string_view digits) {
  bool neg = false;
  size_t i = 0;
  if (i < digits.size() && (digits[i] == '-' || digits[i] == '+')) {
    neg = digits[i] == '-';
    ++i;
  }
  if (i == digits.size()) throw std::invalid_argument("bigint: no digits");
  for (size_t j = i; j < digits.size(); ++j) {
    if (digits[j] < '0' || digits[j] > '9') throw std::invalid_argument("bigint: bad digit");
  }
  while (i + 1 < digits.size() && digits[i] == '0') ++i;
  std::string text;
  std::string_view mag = digits.substr(i);
  if (neg && mag != "0") text.push_back('-');
  text.append(mag);
  return ValueAccess::Make(Type::kBigInt, new TextObject(text));
}

Value Value::BigDec(std::string_view text) {
  // Syntax: [+-] digits [. digits] [(e|E) [+-] digits]; at least one digit in the mantissa.
  size_t i = 0, n = text.size();
  if (i < n && (text[i] == '-' || text[i] == '+')) ++i;
  size_t mant = 0;
  while (i < n && text[i] >= '0' && text[i] <= '9') ++i, ++mant;
  if (i < n && text[i] == '.') {
    ++i;
    while (i < n && text[i] >= '0' && text[i] <= '9') ++i, ++mant;
  }
  if (mant == 0) throw std::invalid_argument("bigdec: no digits");
  if (i < n && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < n && (text[i] == '-' || text[i] == '+')) ++i;
    size_t exp = 0;
    while (i < n && text[i] >= '0' && text[i] <= '9') ++i, ++exp;
    if (exp == 0) throw std::invalid_argument("bigdec: bad exponent");
  }
  if (i != n) throw std::invalid_argument("bigdec: trailing characters");
  std::string_view t = text;
  if (!t.empty() && t[0] == '+') t.remove_prefix(1);
  return ValueAccess::Make(Type::kBigDec, new TextObject(t));
}

Value Value::MakeUuid(const Uuid& u) {
  auto* o = new UuidObject();
  o->uuid = u;
  return ValueAccess::Make(Type::kUuid, o);
}
Value Value::String(std::string_view s) {
  if (s.size() <= kInlineMax) {
    Value v;
    v.type_ = Type::kString;
    v.inline_len_ = static_cast<uint8_t>(kInlineFlag | s.size());
    char* dst = reinterpret_cast<char*>(&v) + 2;
    for (size_t i = 0; i < s.size(); ++i) dst[i] = s[i];
    return v;
  }
  return ValueAccess::Make(Type::kString, new TextObject(s));
}
Value Value::Bytes(std::string_view raw) { return ValueAccess::Make(Type::kBytes, new TextObject(raw)); }

Value Value::List(std::vector<Value> items) {
  auto* o = new SeqObject();
  o->items = std::move(items);
  return ValueAccess::Make(Type::kList, o);
}
Value Value::Vector(std::vector<Value> items) {
  auto* o = new SeqObject();
  o->items = std::move(items);
  return ValueAccess::Make(Type::kVector, o);
}
Value Value::Set(std::vector<Value> items) {
  std::sort(items.begin(), items.end(), ValueLess());
  items.erase(std::unique(items.begin(), items.end(),
                          [](const Value& a, const Value& b) { return Compare(a, b) == 0; }),
              items.end());
  auto* o = new SeqObject();
  o->items = std::move(items);
  return ValueAccess::Make(Type::kSet, o);
}
Value Value::Map(std::vector<std::pair<Value, Value>> entries) {
  auto* o = new MapObject();
  if (entries.size() <= kLinearMapSize) {
    o->entries.reserve(entries.size());
    auto same_key = [](const Value& x, const Value& y) {
      if (x.is_keyword() && y.is_keyword()) return x.as_named() == y.as_named();
      return Compare(x, y) == 0;
    };
    for (auto& e : entries) {
      auto it = std::find_if(o->entries.begin(), o->entries.end(),
                             [&](const auto& x) { return same_key(x.first, e.first); });
      if (it != o->entries.end()) {
        it->second = std::move(e.second);
      } else {
        o->entries.push_back(std::move(e));
      }
    }
  } else {
    // Deduplicate through a stable sort of indices: equal keys keep the first position and the
    // last value.
    std::vector<uint32_t> idx(entries.size());
    for (uint32_t i = 0; i < idx.size(); ++i) idx[i] = i;
    std::stable_sort(idx.begin(), idx.end(), [&](uint32_t a, uint32_t b) {
      return Compare(entries[a].first, entries[b].first) < 0;
    });
    std::vector<bool> keep(entries.size(), false);
    for (size_t i = 0; i < idx.size();) {
      size_t j = i;
      while (j + 1 < idx.size() && Compare(entries[idx[j + 1]].first, entries[idx[i]].first) == 0) ++j;
      keep[idx[i]] = true;
      if (j != i) entries[idx[i]].second = std::move(entries[idx[j]].second);
      i = j + 1;
    }
    o->entries.reserve(entries.size());
    for (size_t i = 0; i < entries.size(); ++i) {
      if (keep[i]) o->entries.push_back(std::move(entries[i]));
    }
    if (o->entries.size() > kLinearMapSize) o->sorted = SortedIndices(o->entries);
  }
  return ValueAccess::Make(Type::kMap, o);
}

// ---------------------------------------------------------------------------------------------------
// Access

bool Value::is_number() const {
  switch (type_) {
    case Type::kLong:
    case Type::kBigInt:
    case Type::kFloat:
    case Type::kDouble:
    case Type::kBigDec:
      return true;
    default:
      return false;
  }
}

std::string_view Value::HeapText() const {
  assert(type_ == Type::kString || type_ == Type::kBytes || type_ == Type::kBigInt ||
         type_ == Type::kBigDec);
  return static_cast<const TextObject*>(bits_.heap)->text;
}
const Uuid& Value::as_uuid() const {
  assert(type_ == Type::kUuid);
  return static_cast<const UuidObject*>(bits_.heap)->uuid;
}
const std::vector<Value>& Value::items() const {
  assert(is_collection());
  return static_cast<const SeqObject*>(bits_.heap)->items;
}
const std::vector<std::pair<Value, Value>>& Value::entries() const {
  assert(is_map());
  return static_cast<const MapObject*>(bits_.heap)->entries;
}
const Value* Value::get(const Value& key) const {
  const auto* o = static_cast<const MapObject*>(bits_.heap);
  const auto& es = o->entries;
  if (o->sorted.empty()) {
    for (const auto& e : es) {
      if (Compare(e.first, key) == 0) return &e.second;
    }
    return nullptr;
  }
  auto it = std::lower_bound(o->sorted.begin(), o->sorted.end(), key, [&](uint32_t i, const Value& k) {
    return Compare(es[i].first, k) < 0;
  });
  if (it != o->sorted.end() && Compare(es[*it].first, key) == 0) return &es[*it].second;
  return nullptr;
}
const Value* Value::get(std::string_view keyword) const { return get(Value::Keyword(keyword)); }

size_t Value::size() const {
  if (is_collection()) return items().size();
  if (is_map()) return entries().size();
  return 0;
}

double Value::number_as_double() const {
  switch (type_) {
    case Type::kLong: return static_cast<double>(bits_.i);
    case Type::kFloat:
    case Type::kDouble: return bits_.d;
    case Type::kBigInt:
    case Type::kBigDec: return std::strtod(std::string(as_string()).c_str(), nullptr);
    default: return 0;
  }
}

// ---------------------------------------------------------------------------------------------------
// Order, equality, hash

namespace {

// Rank of each type in the cross-type order. Numbers share one rank; lists and vectors share one.
int Rank(Type t) {
  switch (t) {
    case Type::kNil: return 0;
    case Type::kBool: return 1;
    case Type::kLong:
    case Type::kBigInt:
    case Type::kFloat:
    case Type::kDouble:
    case Type::kBigDec: return 2;
    case Type::kInstant: return 3;
    case Type::kUuid: return 4;
    case Type::kChar: return 5;
    case Type::kString: return 6;
    case Type::kKeyword: return 7;
    case Type::kSymbol: return 8;
    case Type::kBytes: return 9;
    case Type::kList:
    case Type::kVector: return 10;
    case Type::kSet: return 11;
    case Type::kMap: return 12;
  }
  return 13;
}

// Numeric kind for tie-breaking: integers < floating < bigdec.
int NumKind(Type t) {
  if (t == Type::kLong || t == Type::kBigInt) return 0;
  if (t == Type::kFloat || t == Type::kDouble) return 1;
  return 2;
}

int Sign(int c) { return c < 0 ? -1 : (c > 0 ? 1 : 0); }

// Compares two decimal integer strings (normalised, optional leading '-').
int CompareIntText(std::string_view a, std::string_view b) {
  bool an = !a.empty() && a[0] == '-', bn = !b.empty() && b[0] == '-';
  if (an != bn) return an ? -1 : 1;
  if (an) {
    a.remove_prefix(1);
    b.remove_prefix(1);
  }
  int c = a.size() != b.size() ? (a.size() < b.size() ? -1 : 1) : Sign(a.compare(b));
  return an ? -c : c;
}

std::string LongText(int64_t n) { return std::to_string(n); }

int CompareNumbers(const Value& a, const Value& b) {
  Type ta = a.type(), tb = b.type();
  if (ta == Type::kLong && tb == Type::kLong) {
    return a.as_long() < b.as_long() ? -1 : (a.as_long() > b.as_long() ? 1 : 0);
  }
  if ((ta == Type::kDouble || ta == Type::kFloat) && (tb == Type::kDouble || tb == Type::kFloat)) {
    double x = a.as_double(), y = b.as_double();
    if (x < y) return -1;
    if (x > y) return 1;
    if (x == y) return 0;
    // NaN sorts after everything, equal to itself.
    bool xn = std::isnan(x), yn = std::isnan(y);
    return xn == yn ? 0 : (xn ? 1 : -1);
  }
  int ka = NumKind(ta), kb = NumKind(tb);
  if (ka == 0 && kb == 0) {  // long/bigint mixes: exact
    std::string sa = ta == Type::kLong ? LongText(a.as_long()) : std::string(a.as_string());
    std::string sb = tb == Type::kLong ? LongText(b.as_long()) : std::string(b.as_string());
    return CompareIntText(sa, sb);
  }
  if (ta == Type::kBigDec && tb == Type::kBigDec) {
    long double x = std::strtold(std::string(a.as_string()).c_str(), nullptr);
    long double y = std::strtold(std::string(b.as_string()).c_str(), nullptr);
    if (x != y) return x < y ? -1 : 1;
    return Sign(a.as_string().compare(b.as_string()));
  }
  double x = a.number_as_double(), y = b.number_as_double();
  if (x < y) return -1;
  if (x > y) return 1;
  return ka < kb ? -1 : (ka > kb ? 1 : 0);
}

int CompareSeq(const std::vector<Value>& a, const std::vector<Value>& b) {
  size_t n = std::min(a.size(), b.size());
  // Shorter sorts first (Clojure compares vectors by length first).
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  for (size_t i = 0; i < n; ++i) {
    if (int c = Compare(a[i], b[i])) return c;
  }
  return 0;
}

}  // namespace

int CompareSlow(const Value& a, const Value& b) {
  Type ta = a.type(), tb = b.type();
  int ra = Rank(ta), rb = Rank(tb);
  if (ra != rb) return ra < rb ? -1 : 1;
  switch (ta) {
    case Type::kNil: return 0;
    case Type::kBool: return static_cast<int>(a.as_bool()) - static_cast<int>(b.as_bool());
    case Type::kLong:
    case Type::kBigInt:
    case Type::kFloat:
    case Type::kDouble:
    case Type::kBigDec: return CompareNumbers(a, b);
    case Type::kInstant:
      return a.as_instant() < b.as_instant() ? -1 : (a.as_instant() > b.as_instant() ? 1 : 0);
    case Type::kUuid: return Sign(std::memcmp(a.as_uuid().bytes, b.as_uuid().bytes, 16));
    case Type::kChar: return a.as_char() < b.as_char() ? -1 : (a.as_char() > b.as_char() ? 1 : 0);
    case Type::kString:
    case Type::kBytes: return Sign(a.as_string().compare(b.as_string()));
    case Type::kKeyword:
    case Type::kSymbol: return CompareNamed(a.as_named(), b.as_named());
    case Type::kList:
    case Type::kVector:
    case Type::kSet: return CompareSeq(a.items(), b.items());
    case Type::kMap: {
      const auto& x = a.entries();
      const auto& y = b.entries();
      if (x.size() != y.size()) return x.size() < y.size() ? -1 : 1;
      std::vector<uint32_t> ix = SortedIndices(x), iy = SortedIndices(y);
      for (size_t i = 0; i < x.size(); ++i) {
        if (int c = Compare(x[ix[i]].first, y[iy[i]].first)) return c;
        if (int c = Compare(x[ix[i]].second, y[iy[i]].second)) return c;
      }
      return 0;
    }
  }
  return 0;
}

namespace {
bool SeqEqual(const std::vector<Value>& a, const std::vector<Value>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!Equal(a[i], b[i])) return false;
  }
  return true;
}
}  // namespace

bool Equal(const Value& a, const Value& b) {
  Type ta = a.type(), tb = b.type();
  if (ta == tb) {
    switch (ta) {
      case Type::kNil: return true;
      case Type::kBool:
      case Type::kLong:
      case Type::kInstant:
      case Type::kChar: return a.raw_bits() == b.raw_bits();
      case Type::kFloat:
      case Type::kDouble: return a.as_double() == b.as_double() ||
                                 (std::isnan(a.as_double()) && std::isnan(b.as_double()));
      case Type::kKeyword:
      case Type::kSymbol: return a.as_named() == b.as_named();
      case Type::kString:
        if (a.SameRepresentation(b)) return true;
        if (a.is_inline_string() || b.is_inline_string()) return false;
        return a.as_string() == b.as_string();
      case Type::kList:
      case Type::kVector:
      case Type::kSet: return SeqEqual(a.items(), b.items());
      case Type::kMap: {
        const auto& x = a.entries();
        if (x.size() != b.size()) return false;
        for (const auto& [k, v] : x) {
          const Value* w = b.get(k);
          if (w == nullptr || !Equal(v, *w)) return false;
        }
        return true;
      }
      default: return Compare(a, b) == 0;
    }
  }
  if (a.is_sequential() && b.is_sequential()) return SeqEqual(a.items(), b.items());
  if (a.is_integer() && b.is_integer()) return Compare(a, b) == 0;
  if ((ta == Type::kFloat || ta == Type::kDouble) && (tb == Type::kFloat || tb == Type::kDouble)) {
    return a.as_double() == b.as_double() || (std::isnan(a.as_double()) && std::isnan(b.as_double()));
  }
  return false;
}

namespace {
size_t Mix(size_t h, size_t x) { return h ^ (x + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2)); }
}  // namespace

size_t Hash(const Value& v) {
  switch (v.type()) {
    case Type::kNil: return 0x51ed27;
    case Type::kBool: return v.as_bool() ? 1231 : 1237;
    case Type::kLong: return std::hash<int64_t>()(v.as_long()) * 0x9E3779B97F4A7C15ULL;
    case Type::kBigInt: {
      // Bigints that fit a long hash like the long, since they are equal.
      std::string_view t = v.as_string();
      int64_t n = 0;
      auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
      if (ec == std::errc() && end == t.data() + t.size()) {
        return std::hash<int64_t>()(n) * 0x9E3779B97F4A7C15ULL;
      }
      return std::hash<std::string_view>()(t);
    }
    case Type::kFloat:
    case Type::kDouble: {
      double d = v.as_double();
      if (d == 0) d = 0;  // -0.0 == 0.0
      uint64_t bits;
      std::memcpy(&bits, &d, 8);
      return std::hash<uint64_t>()(bits) ^ 0xd0b1e;
    }
    case Type::kBigDec: return std::hash<std::string_view>()(v.as_string()) ^ 0xdec;
    case Type::kInstant: return std::hash<int64_t>()(v.as_instant()) ^ 0x1257;
    case Type::kUuid: {
      size_t h = 0;
      for (uint8_t b : v.as_uuid().bytes) h = Mix(h, b);
      return h;
    }
    case Type::kChar: return v.as_char() * 31 + 7;
    case Type::kString: return std::hash<std::string_view>()(v.as_string());
    case Type::kBytes: return std::hash<std::string_view>()(v.as_string()) ^ 0xb7e5;
    case Type::kKeyword:
    case Type::kSymbol: return reinterpret_cast<uintptr_t>(v.as_named()) * 0x9E3779B97F4A7C15ULL;
    case Type::kList:
    case Type::kVector: {
      size_t h = 0x5e9;
      for (const Value& x : v.items()) h = Mix(h, Hash(x));
      return h;
    }
    case Type::kSet: {
      size_t h = 0x5e7;
      for (const Value& x : v.items()) h = Mix(h, Hash(x));
      return h;
    }
    case Type::kMap: {
      // Order-independent: maps equal in any insertion order hash alike.
      size_t h = 0x3a9;
      for (const auto& [k, x] : v.entries()) h += Mix(Hash(k), Hash(x));
      return h;
    }
  }
  return 0;
}

}  // namespace datahike
