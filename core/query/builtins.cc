// Built-in functions and aggregates of the query language (see builtins.h).
//
// The set is Datahike's `built-ins` map, the pure part of `clojure.core` that queries use (Datahike
// resolves any clojure.core function), and `clojure.string`. Each function follows Clojure's
// semantics on our value model; where that model forces a difference, the comment at the function
// says so. Layout of this file:
//   1. argument checking and errors        5. regular expressions
//   2. numbers                             6. the built-in functions and their registry
//   3. text: code points, case, printing   7. the aggregates and their registry
//   4. sequences and randomness
#include "core/query/builtins.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
// GCC 12 with sanitizers reports -Wmaybe-uninitialized inside libstdc++'s regex automaton (a false
// positive in the library's own code).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <regex>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/value/edn.h"
#include "core/value/error.h"
#include "core/value/text_internal.h"

namespace datahike::query {
namespace {

// ===================================================================================================
// 1. Argument checking and errors

// What an error reports in its data (see builtins.h): an argument the function does not take (wrong
// arity, type or value: Clojure's IllegalArgumentException or ClassCastException, which a Datahike
// predicate treats as false), or a failure while computing (overflow, divide by zero, an index out
// of range, a limit of this implementation).
enum class Failure { kInvalidArgument, kFailed };

[[noreturn]] void Fail(const char* fn, Failure failure, std::string message) {
  Value data =
      Value::Map({{Kw("error"), Kw(failure == Failure::kInvalidArgument ? "query/invalid-argument"
                                                                        : "query/fn-failed")},
                  {Kw("fn"), Value::Symbol(fn)}});
  throw Error(ErrorKind::kQuery, std::move(message), std::move(data));
}

// The EDN text of v for an error message, cut to a readable length on a character boundary.
std::string Show(const Value& v) {
  constexpr size_t kMaxShown = 80;
  std::string s = edn::ToString(v);
  if (s.size() > kMaxShown) {
    size_t n = kMaxShown;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    s.resize(n);
    s += "...";
  }
  return s;
}

// The arguments of one call, with the name of the function for error messages.
struct Args {
  const Value* v;
  size_t n;
  const char* fn;

  const Value& operator[](size_t i) const { return v[i]; }
  size_t size() const { return n; }
  const Value* begin() const { return v; }
  const Value* end() const { return v + n; }

  [[noreturn]] void TypeError(const char* expected, const Value& got) const {
    Fail(fn, Failure::kInvalidArgument,
         std::string(fn) + " expects " + expected + ", got " + Show(got));
  }
  [[noreturn]] void Throw(const std::string& what) const {
    Fail(fn, Failure::kFailed, std::string(fn) + ": " + what);
  }
  [[noreturn]] void Invalid(const std::string& what) const {
    Fail(fn, Failure::kInvalidArgument, std::string(fn) + ": " + what);
  }

  std::string_view String(size_t i) const {
    if (!v[i].is_string()) TypeError("a string", v[i]);
    return v[i].as_string();
  }
  // An integer argument (a long, or a bigint that fits in one).
  int64_t Long(size_t i) const;
};

constexpr uint8_t kVariadic = 255;

[[noreturn]] void ArityError(const char* fn, size_t n, uint8_t min, uint8_t max) {
  std::string expected;
  if (max == kVariadic) {
    expected = "at least " + std::to_string(min);
  } else if (min == max) {
    expected = std::to_string(min);
  } else {
    expected = std::to_string(min) + " to " + std::to_string(max);
  }
  Fail(fn, Failure::kInvalidArgument,
       std::string(fn) + " called with " + std::to_string(n) +
           (n == 1 ? " argument" : " arguments") + ", expects " + expected);
}

// ===================================================================================================
// 2. Numbers
//
// Arithmetic follows Clojure's contagion: long < bigint < bigdec < double (a float computes as a
// double). Longs throw on overflow, as in Clojure. Bigints and bigdecs are computed exactly in 128
// bits (38 decimal digits), which covers every practical query; beyond that the function throws
// rather than lose digits. Clojure has ratios and we do not: `/` of two integers that do not divide
// evenly gives a double.

__extension__ typedef __int128 Int128;

enum class NumKind : uint8_t { kLong, kBigInt, kBigDec, kDouble };  // in contagion order

struct Num {
  NumKind kind = NumKind::kLong;
  Int128 unscaled = 0;  // exact kinds
  int32_t scale = 0;    // kBigDec: the value is unscaled * 10^-scale
  double d = 0;         // kDouble
};

constexpr int kMaxDigits = 38;  // every 38-digit decimal fits in Int128
constexpr int32_t kMaxScale = 1000000;

Int128 Pow10(int k) {
  static const auto table = [] {
    std::array<Int128, kMaxDigits + 1> t{};
    t[0] = 1;
    for (int i = 1; i <= kMaxDigits; ++i) t[i] = t[i - 1] * 10;
    return t;
  }();
  return table[k];
}

bool FitsLong(Int128 x) {
  return x >= std::numeric_limits<int64_t>::min() && x <= std::numeric_limits<int64_t>::max();
}

std::string Int128Text(Int128 x) {
  if (x == 0) return "0";
  bool neg = x < 0;
  unsigned __int128 u =
      neg ? -static_cast<unsigned __int128>(x) : static_cast<unsigned __int128>(x);
  std::string s;
  while (u != 0) {
    s.push_back(static_cast<char>('0' + static_cast<int>(u % 10)));
    u /= 10;
  }
  if (neg) s.push_back('-');
  std::reverse(s.begin(), s.end());
  return s;
}

// Accumulates decimal digits into *out; false when they do not fit.
bool AccumulateDigits(std::string_view digits, Int128* out) {
  for (char c : digits) {
    if (__builtin_mul_overflow(*out, 10, out) || __builtin_add_overflow(*out, c - '0', out)) {
      return false;
    }
  }
  return true;
}

[[noreturn]] void TooBig(const char* fn, const Value& v) {
  Fail(fn, Failure::kFailed,
       std::string(fn) + ": " + Show(v) + " has more than 38 digits, which is not supported");
}

Num BigIntNum(const Value& v, const char* fn) {
  std::string_view t = v.as_string();
  bool neg = !t.empty() && t[0] == '-';
  if (neg) t.remove_prefix(1);
  Int128 u = 0;
  if (!AccumulateDigits(t, &u)) TooBig(fn, v);
  return Num{NumKind::kBigInt, neg ? -u : u, 0, 0};
}

// Parses the text Value::BigDec keeps: [-] digits [. digits] [(e|E) [+-] digits].
Num BigDecNum(const Value& v, const char* fn) {
  std::string_view t = v.as_string();
  bool neg = !t.empty() && t[0] == '-';
  if (neg) t.remove_prefix(1);
  Int128 u = 0;
  int64_t fraction_digits = 0;
  bool in_fraction = false;
  size_t i = 0;
  for (; i < t.size() && t[i] != 'e' && t[i] != 'E'; ++i) {
    if (t[i] == '.') {
      in_fraction = true;
      continue;
    }
    if (!AccumulateDigits(t.substr(i, 1), &u)) TooBig(fn, v);
    if (in_fraction) ++fraction_digits;
  }
  int64_t exponent = 0;
  if (i < t.size()) {
    std::string_view e = t.substr(i + 1);
    if (!e.empty() && e[0] == '+') e.remove_prefix(1);
    auto [end, ec] = std::from_chars(e.data(), e.data() + e.size(), exponent);
    if (ec != std::errc() || end != e.data() + e.size()) TooBig(fn, v);
  }
  int64_t scale = fraction_digits - exponent;
  if (scale > kMaxScale || scale < -kMaxScale) {
    Fail(fn, Failure::kFailed,
         std::string(fn) + ": the exponent of " + Show(v) + " is out of the supported range");
  }
  return Num{NumKind::kBigDec, neg ? -u : u, static_cast<int32_t>(scale), 0};
}

bool IsNumber(const Value& v) { return v.is_number(); }

Num ToNum(const Value& v, const Args& a) {
  switch (v.type()) {
    case Type::kLong:
      return Num{NumKind::kLong, v.as_long(), 0, 0};
    case Type::kBigInt:
      return BigIntNum(v, a.fn);
    case Type::kBigDec:
      return BigDecNum(v, a.fn);
    case Type::kFloat:
    case Type::kDouble:
      return Num{NumKind::kDouble, 0, 0, v.as_double()};
    default:
      a.TypeError("numbers", v);
  }
}

int64_t Args::Long(size_t i) const {
  const Value& x = v[i];
  if (x.is_long()) return x.as_long();
  if (x.type() == Type::kBigInt) {
    Num n = BigIntNum(x, fn);
    if (FitsLong(n.unscaled)) return static_cast<int64_t>(n.unscaled);
  }
  TypeError("an integer", x);
}

// Java's BigDecimal.toString: plain notation unless the scale is negative or the number is below
// 1E-6, then scientific ("1.23E+5").
std::string DecimalText(Int128 unscaled, int32_t scale) {
  std::string digits = Int128Text(unscaled);
  std::string out;
  if (digits[0] == '-') {
    out.push_back('-');
    digits.erase(0, 1);
  }
  const int64_t n = static_cast<int64_t>(digits.size());
  const int64_t adjusted = -static_cast<int64_t>(scale) + (n - 1);
  if (scale >= 0 && adjusted >= -6) {
    if (scale == 0) {
      out += digits;
    } else if (n > scale) {
      out += digits.substr(0, n - scale);
      out += '.';
      out += digits.substr(n - scale);
    } else {
      out += "0.";
      out.append(scale - n, '0');
      out += digits;
    }
  } else {
    out += digits[0];
    if (n > 1) {
      out += '.';
      out += digits.substr(1);
    }
    out += 'E';
    if (adjusted >= 0) out += '+';
    out += std::to_string(adjusted);
  }
  return out;
}

double ToDouble(const Num& x) {
  switch (x.kind) {
    case NumKind::kDouble:
      return x.d;
    case NumKind::kLong:
    case NumKind::kBigInt:
      return static_cast<double>(x.unscaled);
    case NumKind::kBigDec: {
      // Through text, so that the result is correctly rounded.
      std::string t = Int128Text(x.unscaled) + "e" + std::to_string(-static_cast<int64_t>(x.scale));
      double d = 0;
      auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), d);
      if (ec == std::errc::result_out_of_range) {
        return text_internal::OutOfRangeDouble(t);
      }
      return d;
    }
  }
  return 0;
}

Value FromNum(const Num& x) {
  switch (x.kind) {
    case NumKind::kLong:
      return Value::Long(static_cast<int64_t>(x.unscaled));
    case NumKind::kBigInt:
      return Value::BigInt(Int128Text(x.unscaled));
    case NumKind::kBigDec:
      return Value::BigDec(DecimalText(x.unscaled, x.scale));
    case NumKind::kDouble:
      return Value::Double(x.d);
  }
  return Value();
}

Num DoubleNum(double d) { return Num{NumKind::kDouble, 0, 0, d}; }
Num LongNum(int64_t n) { return Num{NumKind::kLong, n, 0, 0}; }

Num ToKind(const Num& x, NumKind k) {
  if (x.kind == k) return x;
  if (k == NumKind::kDouble) return DoubleNum(ToDouble(x));
  Num r = x;
  r.kind = k;  // long -> bigint -> bigdec (scale 0) keep the unscaled value
  return r;
}

// Multiplies x's unscaled value so that its scale becomes `scale` (>= x.scale); false on overflow.
bool Rescale(Num& x, int32_t scale) {
  int64_t diff = static_cast<int64_t>(scale) - x.scale;
  if (diff == 0 || x.unscaled == 0) {
    x.scale = scale;
    return true;
  }
  if (diff > kMaxDigits) return false;
  if (__builtin_mul_overflow(x.unscaled, Pow10(static_cast<int>(diff)), &x.unscaled)) return false;
  x.scale = scale;
  return true;
}

[[noreturn]] void Overflow(const Args& a, NumKind k) {
  if (k == NumKind::kLong) a.Throw("integer overflow");
  a.Throw("result beyond 38 digits, which is not supported");
}

// The exact result must be representable in its kind.
Num CheckedExact(const Args& a, NumKind k, Int128 unscaled, int64_t scale) {
  if (k == NumKind::kLong && !FitsLong(unscaled)) Overflow(a, k);
  if (scale > kMaxScale || scale < -kMaxScale) Overflow(a, k);
  return Num{k, unscaled, static_cast<int32_t>(scale), 0};
}

enum class Op { kAdd, kSub, kMul };

Num Arith(Op op, Num x, Num y, const Args& a) {
  const NumKind k = std::max(x.kind, y.kind);
  x = ToKind(x, k);
  y = ToKind(y, k);
  if (k == NumKind::kDouble) {
    return DoubleNum(op == Op::kAdd ? x.d + y.d : op == Op::kSub ? x.d - y.d : x.d * y.d);
  }
  if (op != Op::kMul) {
    int32_t scale = std::max(x.scale, y.scale);
    if (!Rescale(x, scale) || !Rescale(y, scale)) Overflow(a, k);
  }
  Int128 r = 0;
  bool overflow = op == Op::kAdd   ? __builtin_add_overflow(x.unscaled, y.unscaled, &r)
                  : op == Op::kSub ? __builtin_sub_overflow(x.unscaled, y.unscaled, &r)
                                   : __builtin_mul_overflow(x.unscaled, y.unscaled, &r);
  if (overflow) Overflow(a, k);
  int64_t scale = op == Op::kMul ? static_cast<int64_t>(x.scale) + y.scale : x.scale;
  return CheckedExact(a, k, r, scale);
}

bool IsZero(const Num& x) { return x.kind == NumKind::kDouble ? x.d == 0 : x.unscaled == 0; }

[[noreturn]] void DivideByZero(const Args& a) { a.Throw("divide by zero"); }

// Exact quotient of two bigdecs, as Java's BigDecimal.divide(BigDecimal): the smallest scale at or
// above the preferred one (x.scale - y.scale) that represents the quotient exactly.
Num DivideDecimal(Num x, Num y, const Args& a) {
  for (int k = 0; k <= kMaxDigits; ++k) {
    Int128 numerator = 0;
    if (__builtin_mul_overflow(x.unscaled, Pow10(k), &numerator)) break;
    if (numerator % y.unscaled == 0) {
      int64_t scale = static_cast<int64_t>(x.scale) - y.scale + k;
      return CheckedExact(a, NumKind::kBigDec, numerator / y.unscaled, scale);
    }
  }
  a.Throw("non-terminating decimal expansion; no exact bigdec quotient within 38 digits");
}

Num Divide(Num x, Num y, const Args& a) {
  const NumKind k = std::max(x.kind, y.kind);
  x = ToKind(x, k);
  y = ToKind(y, k);
  if (k == NumKind::kDouble) return DoubleNum(x.d / y.d);
  if (y.unscaled == 0) DivideByZero(a);
  if (k == NumKind::kBigDec) return DivideDecimal(x, y, a);
  if (y.unscaled == -1) return Arith(Op::kSub, Num{k, 0, 0, 0}, x, a);
  if (x.unscaled % y.unscaled == 0) return CheckedExact(a, k, x.unscaled / y.unscaled, 0);
  // Clojure would give a ratio; we have none, so the quotient is a double.
  return DoubleNum(static_cast<double>(static_cast<long double>(x.unscaled) /
                                       static_cast<long double>(y.unscaled)));
}

// Truncating quotient and its remainder (Clojure's quot and rem).
Num QuotRem(Num x, Num y, bool quotient, const Args& a) {
  const NumKind k = std::max(x.kind, y.kind);
  if (k == NumKind::kBigDec) a.Invalid("bigdec arguments are not supported");
  x = ToKind(x, k);
  y = ToKind(y, k);
  if (IsZero(y)) DivideByZero(a);
  if (k == NumKind::kDouble) {
    double q = std::trunc(x.d / y.d);
    return DoubleNum(quotient ? q : x.d - q * y.d);
  }
  if (y.unscaled == -1) {
    return quotient ? Arith(Op::kSub, Num{k, 0, 0, 0}, x, a) : Num{k, 0, 0, 0};
  }
  return Num{k, quotient ? x.unscaled / y.unscaled : x.unscaled % y.unscaled, 0, 0};
}

int Sign(const Num& x) {
  if (x.kind == NumKind::kDouble) return x.d > 0 ? 1 : (x.d < 0 ? -1 : 0);
  return x.unscaled > 0 ? 1 : (x.unscaled < 0 ? -1 : 0);
}

bool IsNaN(const Num& x) { return x.kind == NumKind::kDouble && std::isnan(x.d); }

constexpr int kUnordered = 2;  // a comparison with NaN

// Numeric comparison: -1, 0, 1, or kUnordered when either side is NaN. With a double on either side
// both compare as doubles (Clojure); otherwise exactly.
int NumCompare(const Num& x, const Num& y) {
  const NumKind k = std::max(x.kind, y.kind);
  if (k == NumKind::kDouble) {
    double a = ToDouble(x), b = ToDouble(y);
    if (std::isnan(a) || std::isnan(b)) return kUnordered;
    return a < b ? -1 : (a > b ? 1 : 0);
  }
  Num a = ToKind(x, NumKind::kBigDec), b = ToKind(y, NumKind::kBigDec);
  int32_t scale = std::max(a.scale, b.scale);
  if (Rescale(a, scale) && Rescale(b, scale)) {
    return a.unscaled < b.unscaled ? -1 : (a.unscaled > b.unscaled ? 1 : 0);
  }
  // Scales too far apart for 128 bits: the magnitudes differ enough for doubles to decide.
  double da = ToDouble(x), db = ToDouble(y);
  return da < db ? -1 : (da > db ? 1 : 0);
}

// ===================================================================================================
// 3. Text: code points, case mapping, Clojure's printing

using text_internal::AppendUtf8;

// Strings are indexed by code point (Clojure indexes UTF-16 units; the two agree outside the
// astral planes). A malformed byte counts as one character.
size_t CharLen(const char* p, const char* end) {
  uint32_t cp = 0;
  int n = text_internal::DecodeUtf8(p, end, &cp);
  return n > 0 ? static_cast<size_t>(n) : 1;
}

std::u32string ToCodePoints(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  const char* p = s.data();
  const char* end = p + s.size();
  while (p < end) {
    uint32_t cp = 0;
    int n = text_internal::DecodeUtf8(p, end, &cp);
    if (n <= 0) {
      cp = 0xFFFD;
      n = 1;
    }
    out.push_back(cp);
    p += n;
  }
  return out;
}

std::string FromCodePoints(std::u32string_view cps) {
  std::string out;
  out.reserve(cps.size());
  for (char32_t c : cps) AppendUtf8(c, out);
  return out;
}

size_t CountChars(std::string_view s) {
  size_t count = 0;
  for (const char* p = s.data(); p < s.data() + s.size(); p += CharLen(p, s.data() + s.size())) {
    ++count;
  }
  return count;
}

// Byte offset of the character at index `index` (the end when index == count); npos if beyond.
size_t ByteOffset(std::string_view s, size_t index) {
  const char* p = s.data();
  const char* end = p + s.size();
  for (; index > 0 && p < end; --index) p += CharLen(p, end);
  return index == 0 ? static_cast<size_t>(p - s.data()) : std::string_view::npos;
}

// Character.isWhitespace: the Unicode space separators except the no-break ones, and the ASCII
// controls \t \n \v \f \r and \x1C-\x1F.
bool IsJavaWhitespace(uint32_t c) {
  return (c >= 9 && c <= 13) || (c >= 0x1C && c <= 0x20) || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x2006) || (c >= 0x2008 && c <= 0x200A) || c == 0x2028 ||
         c == 0x2029 || c == 0x205F || c == 0x3000;
}

// Case mapping: Unicode's simple mappings for Latin, Greek, Cyrillic, Armenian, Georgian and the
// fullwidth forms; characters of other scripts are left as they are.
struct OffsetRange {  // upper case [first, last] maps to lower case by adding `delta`
  uint32_t first, last, delta;
};
constexpr OffsetRange kOffsetRanges[] = {
    {0x41, 0x5A, 32},       {0xC0, 0xD6, 32},     {0xD8, 0xDE, 32},   {0x386, 0x386, 38},
    {0x388, 0x38A, 37},     {0x38C, 0x38C, 64},   {0x38E, 0x38F, 63}, {0x391, 0x3A1, 32},
    {0x3A3, 0x3AB, 32},     {0x400, 0x40F, 80},   {0x410, 0x42F, 32}, {0x531, 0x556, 48},
    {0x10A0, 0x10C5, 7264}, {0xFF21, 0xFF3A, 32},
};
struct PairRange {  // upper case at first, first + 2, ...; each lower case right after it
  uint32_t first, last;
};
constexpr PairRange kPairRanges[] = {
    {0x100, 0x12F}, {0x132, 0x137},   {0x139, 0x148},   {0x14A, 0x177}, {0x179, 0x17E},
    {0x182, 0x185}, {0x1A0, 0x1A5},   {0x1CD, 0x1DC},   {0x1DE, 0x1EF}, {0x1F8, 0x21F},
    {0x222, 0x233}, {0x3D8, 0x3EF},   {0x460, 0x481},   {0x48A, 0x4BF}, {0x4C1, 0x4CE},
    {0x4D0, 0x52F}, {0x1E00, 0x1E95}, {0x1EA0, 0x1EFF},
};

uint32_t LowerOf(uint32_t c) {
  if (c < 0x80) return c >= 'A' && c <= 'Z' ? c + 32 : c;
  if (c == 0x178) return 0xFF;
  if (c == 0x130) return 'i';
  for (const OffsetRange& r : kOffsetRanges) {
    if (c >= r.first && c <= r.last) return c + r.delta;
  }
  for (const PairRange& r : kPairRanges) {
    if (c >= r.first && c <= r.last && (c - r.first) % 2 == 0) return c + 1;
  }
  return c;
}

uint32_t UpperOf(uint32_t c) {
  if (c < 0x80) return c >= 'a' && c <= 'z' ? c - 32 : c;
  switch (c) {
    case 0xFF:
      return 0x178;
    case 0xB5:
      return 0x39C;
    case 0x131:
      return 'I';
    case 0x17F:
      return 'S';
    case 0x3C2:
      return 0x3A3;
    default:
      break;
  }
  for (const OffsetRange& r : kOffsetRanges) {
    if (c >= r.first + r.delta && c <= r.last + r.delta) return c - r.delta;
  }
  for (const PairRange& r : kPairRanges) {
    if (c > r.first && c <= r.last && (c - r.first) % 2 == 1) return c - 1;
  }
  return c;
}

std::string MapCase(std::string_view s, bool upper) {
  std::string out;
  out.reserve(s.size());
  for (char32_t c : ToCodePoints(s)) {
    if (upper && c == 0xDF) {
      out += "SS";  // as Java's toUpperCase
    } else {
      AppendUtf8(upper ? UpperOf(c) : LowerOf(c), out);
    }
  }
  return out;
}

// Java's Double.toString (and Float.toString for a float): the shortest digits that round-trip,
// plain between 1e-3 and 1e7, else "d.dddE<exp>".
void AppendJavaDouble(double d, bool is_float, std::string& out) {
  if (std::isnan(d)) {
    out += "NaN";
    return;
  }
  if (std::isinf(d)) {
    out += d > 0 ? "Infinity" : "-Infinity";
    return;
  }
  if (d == 0) {
    out += std::signbit(d) ? "-0.0" : "0.0";
    return;
  }
  char buf[64];
  auto r = is_float ? std::to_chars(buf, buf + sizeof buf, static_cast<float>(d),
                                    std::chars_format::scientific)
                    : std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string_view sci(buf, r.ptr - buf);  // "-d.ddde+XX"
  if (sci[0] == '-') {
    out += '-';
    sci.remove_prefix(1);
  }
  size_t e = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e)) {
    if (c != '.') digits += c;
  }
  int exponent = 0;
  std::string_view exp_text = sci.substr(e + 1);
  if (exp_text[0] == '+') exp_text.remove_prefix(1);
  std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exponent);
  const int n = static_cast<int>(digits.size());
  if (exponent >= -3 && exponent < 7) {
    if (exponent >= 0) {
      out += digits.substr(0, std::min(n, exponent + 1));
      if (n < exponent + 1) out.append(exponent + 1 - n, '0');
      out += '.';
      out += n > exponent + 1 ? digits.substr(exponent + 1) : "0";
    } else {
      out += "0.";
      out.append(-exponent - 1, '0');
      out += digits;
    }
  } else {
    out += digits[0];
    out += '.';
    out += n > 1 ? digits.substr(1) : "0";
    out += 'E';
    out += std::to_string(exponent);
  }
}

// Clojure's printer: `readably` is pr (strings quoted, characters escaped), otherwise print.
void PrintClojure(const Value& v, bool readably, std::string& out);

void PrintItems(const std::vector<Value>& items, const char* open, const char* close, bool readably,
                std::string& out) {
  out += open;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ' ';
    PrintClojure(items[i], readably, out);
  }
  out += close;
}

void PrintClojure(const Value& v, bool readably, std::string& out) {
  switch (v.type()) {
    case Type::kBigInt:
    case Type::kBigDec:
      if (readably) {
        edn::Print(v, out);
      } else {
        out += v.as_string();
      }
      return;
    case Type::kFloat:
    case Type::kDouble:
      if (readably && !std::isfinite(v.as_double())) {
        edn::Print(v, out);  // ##Inf ##-Inf ##NaN
      } else {
        AppendJavaDouble(v.as_double(), v.type() == Type::kFloat, out);
      }
      return;
    case Type::kString:
      if (readably) {
        edn::Print(v, out);
      } else {
        out += v.as_string();
      }
      return;
    case Type::kChar:
      if (readably) {
        edn::Print(v, out);
      } else {
        AppendUtf8(v.as_char(), out);
      }
      return;
    case Type::kList:
      PrintItems(v.items(), "(", ")", readably, out);
      return;
    case Type::kVector:
      PrintItems(v.items(), "[", "]", readably, out);
      return;
    case Type::kSet:
      PrintItems(v.items(), "#{", "}", readably, out);
      return;
    case Type::kMap: {
      out += '{';
      bool first = true;
      for (const auto& [k, x] : v.entries()) {
        if (!first) out += ", ";
        first = false;
        PrintClojure(k, readably, out);
        out += ' ';
        PrintClojure(x, readably, out);
      }
      out += '}';
      return;
    }
    default:
      edn::Print(v, out);
      return;  // nil, booleans, longs, names, instants, uuids, bytes
  }
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// java.util.Date.toString in UTC: "Mon Jan 01 00:00:00 UTC 2024".
std::string JavaDateText(int64_t millis) {
  static constexpr const char* kDays[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const int64_t secs = FloorDiv(millis, 1000);
  const int64_t days = FloorDiv(secs, 86400);
  const int64_t sod = secs - days * 86400;
  // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
  const int64_t z = days + 719468;
  const int64_t era = FloorDiv(z, 146097);
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%s %s %02d %02d:%02d:%02d UTC %04lld",
                kDays[((days % 7) + 7) % 7], kMonths[month - 1], static_cast<int>(day),
                static_cast<int>(sod / 3600), static_cast<int>(sod / 60 % 60),
                static_cast<int>(sod % 60), static_cast<long long>(year));
  return buf;
}

// Clojure's (str x) of one value: nil is "", strings and characters are raw, other scalars their
// Java toString, collections their printed (readable) form.
void AppendStr(const Value& v, std::string& out) {
  switch (v.type()) {
    case Type::kNil:
      return;
    case Type::kInstant:
      out += JavaDateText(v.as_instant());
      return;
    case Type::kUuid: {
      std::string t = edn::ToString(v);  // #uuid "..."
      out += t.substr(7, 36);
      return;
    }
    case Type::kList:
    case Type::kVector:
    case Type::kSet:
    case Type::kMap:
      PrintClojure(v, true, out);
      return;
    default:
      PrintClojure(v, false, out);
      return;
  }
}

std::string Str(const Value& v) {
  std::string s;
  AppendStr(v, s);
  return s;
}

// ===================================================================================================
// 4. Sequences and randomness

// The elements of a seqable value as Clojure's `seq` sees them: a collection's items, a map's
// entries as [k v] vectors, a string's characters, nothing for nil. Throws for anything else.
class Seq {
 public:
  Seq(const Args& a, const Value& v) {
    switch (v.type()) {
      case Type::kNil:
        items_ = &owned_;
        return;
      case Type::kList:
      case Type::kVector:
      case Type::kSet:
        items_ = &v.items();
        return;
      case Type::kMap:
        for (const auto& [k, x] : v.entries()) owned_.push_back(Value::Vector({k, x}));
        items_ = &owned_;
        return;
      case Type::kString:
        for (char32_t c : ToCodePoints(v.as_string())) owned_.push_back(Value::Char(c));
        items_ = &owned_;
        return;
      default:
        a.TypeError("a collection or string", v);
    }
  }
  Seq(const Seq&) = delete;
  Seq& operator=(const Seq&) = delete;

  const std::vector<Value>& items() const { return *items_; }
  size_t size() const { return items_->size(); }
  bool empty() const { return items_->empty(); }
  const Value& operator[](size_t i) const { return (*items_)[i]; }

 private:
  std::vector<Value> owned_;
  const std::vector<Value>* items_ = nullptr;
};

bool IsSeqable(const Value& v) {
  return v.is_nil() || v.is_collection() || v.is_map() || v.is_string();
}

std::mt19937_64& Rng() {
  thread_local std::mt19937_64 rng{[] {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }()};
  return rng;
}

double Uniform01() { return std::uniform_real_distribution<double>(0.0, 1.0)(Rng()); }

size_t UniformIndex(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(Rng()); }

// ===================================================================================================
// 5. Regular expressions
//
// There is no pattern value: a pattern is its source string (re-pattern returns the string it is
// given), and every function that takes a pattern takes a string. Patterns use ECMAScript syntax
// (std::regex), which shares with Java's everything queries commonly use; a leading Java inline
// flag group (?i) or (?m) is accepted. Matching runs on code points.
//
// On libstdc++ patterns run in its polynomial (breadth-first) mode: libstdc++'s default
// backtracking matcher recurses once per input character and overflows the stack on strings of a
// few thousand characters. The price: back-references are refused, and where alternatives of
// different length both match at the same start, the longer one wins. Pattern size and nesting are
// bounded for the same reason (the pattern compiler recurses).

constexpr size_t kMaxPatternChars = 1000;
constexpr int kMaxPatternNesting = 64;
#if !defined(__GLIBCXX__)
constexpr size_t kMaxBacktrackingInput = 1000;  // other standard libraries backtrack recursively
#endif

// Text in the regex's character type: one wchar_t per code point (UTF-16 where wchar_t is 16 bits).
std::wstring ToWide(std::string_view s) {
  std::wstring out;
  out.reserve(s.size());
  for (char32_t c : ToCodePoints(s)) {
    if constexpr (sizeof(wchar_t) == 2) {
      if (c >= 0x10000) {
        out.push_back(static_cast<wchar_t>(0xD800 + ((c - 0x10000) >> 10)));
        out.push_back(static_cast<wchar_t>(0xDC00 + ((c - 0x10000) & 0x3FF)));
        continue;
      }
    }
    out.push_back(static_cast<wchar_t>(c));
  }
  return out;
}

std::string FromWide(const wchar_t* p, const wchar_t* end) {
  std::string out;
  for (; p < end; ++p) {
    uint32_t c = static_cast<uint32_t>(*p);
    if constexpr (sizeof(wchar_t) == 2) {
      if (c >= 0xD800 && c < 0xDC00 && p + 1 < end) {
        uint32_t lo = static_cast<uint32_t>(p[1]);
        if (lo >= 0xDC00 && lo < 0xE000) {
          c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
          ++p;
        }
      }
    }
    if (c > 0x10FFFF || (c >= 0xD800 && c < 0xE000)) c = 0xFFFD;
    AppendUtf8(c, out);
  }
  return out;
}

// Deepest parenthesis nesting, outside character classes and escapes.
int PatternNesting(std::u32string_view p) {
  int depth = 0, deepest = 0;
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    char32_t c = p[i];
    if (c == '\\') {
      ++i;
    } else if (in_class) {
      in_class = c != ']';
    } else if (c == '[') {
      in_class = true;
    } else if (c == '(') {
      deepest = std::max(deepest, ++depth);
    } else if (c == ')') {
      --depth;
    }
  }
  return deepest;
}

std::shared_ptr<const std::wregex> Compile(const std::string& source, const char* fn) {
  std::u32string cps = ToCodePoints(source);
  if (cps.size() > kMaxPatternChars) {
    Fail(fn, Failure::kInvalidArgument,
         std::string(fn) + ": pattern longer than " + std::to_string(kMaxPatternChars) +
             " characters");
  }
  if (PatternNesting(cps) > kMaxPatternNesting) {
    Fail(fn, Failure::kInvalidArgument,
         std::string(fn) + ": pattern nested deeper than " + std::to_string(kMaxPatternNesting) +
             " groups");
  }
  auto flags = std::regex_constants::ECMAScript;
#if defined(__GLIBCXX__)
  flags |= std::regex_constants::__polynomial;
#endif
  // A leading Java inline flag group: (?i) (?m) (?im).
  size_t body = 0;
  if (cps.size() >= 3 && cps[0] == '(' && cps[1] == '?') {
    auto inline_flags = std::regex_constants::syntax_option_type();
    size_t i = 2;
    for (; i < cps.size() && (cps[i] == 'i' || cps[i] == 'm'); ++i) {
      inline_flags |= cps[i] == 'i' ? std::regex_constants::icase : std::regex_constants::multiline;
    }
    if (i > 2 && i < cps.size() && cps[i] == ')') {
      flags |= inline_flags;
      body = i + 1;
    }
  }
  try {
    std::wstring wide = ToWide(FromCodePoints(std::u32string_view(cps).substr(body)));
    return std::make_shared<const std::wregex>(wide, flags);
  } catch (const std::regex_error& e) {
    std::string why = std::string_view(e.what()).find("back-reference") != std::string_view::npos
                          ? "back-references are not supported"
                          : e.what();
    Fail(fn, Failure::kInvalidArgument,
         std::string(fn) + ": invalid pattern " + Show(Value::String(source)) + ": " + why);
  }
}

// Compiled patterns, shared by all threads (a std::regex may be used concurrently for matching).
std::shared_ptr<const std::wregex> Pattern(const Args& a, size_t i) {
  constexpr size_t kCacheLimit = 512;
  static std::mutex mu;
  static auto* cache = new std::unordered_map<std::string, std::shared_ptr<const std::wregex>>();
  std::string source(a.String(i));
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = cache->find(source);
    if (it != cache->end()) return it->second;
  }
  auto re = Compile(source, a.fn);  // outside the lock: compiling may be slow
  std::lock_guard<std::mutex> lock(mu);
  if (cache->size() >= kCacheLimit) cache->clear();
  cache->emplace(std::move(source), re);
  return re;
}

// A subject string prepared for matching.
struct Subject {
  std::wstring text;
  const wchar_t* begin() const { return text.data(); }
  const wchar_t* end() const { return text.data() + text.size(); }
};

Subject MakeSubject(const Args& a, size_t i) {
  Subject s{ToWide(a.String(i))};
#if !defined(__GLIBCXX__)
  if (s.text.size() > kMaxBacktrackingInput) a.Throw("string too long for regex matching");
#endif
  return s;
}

using WMatch = std::match_results<const wchar_t*>;

// Java's Matcher.find from `from`: the next match at or after it.
bool FindFrom(const std::wregex& re, const Subject& s, size_t from, WMatch& m) {
  auto flags =
      from > 0 ? std::regex_constants::match_prev_avail : std::regex_constants::match_default;
  return std::regex_search(s.begin() + from, s.end(), m, re, flags);
}

// Clojure's re-groups: the matched text, or a vector of it and each group (nil if unmatched).
Value Groups(const WMatch& m) {
  if (m.size() == 1) return Value::String(FromWide(m[0].first, m[0].second));
  std::vector<Value> groups;
  for (size_t i = 0; i < m.size(); ++i) {
    groups.push_back(m[i].matched ? Value::String(FromWide(m[i].first, m[i].second)) : Value());
  }
  return Value::Vector(std::move(groups));
}

// Every match, each search starting where the last match ended (one further after an empty match),
// as Java's Matcher.find does. `visit(m)` returns false to stop.
template <typename Visit>
void ForEachMatch(const std::wregex& re, const Subject& s, Visit visit) {
  size_t from = 0;
  WMatch m;
  while (from <= s.text.size() && FindFrom(re, s, from, m)) {
    if (!visit(m)) return;
    size_t start = static_cast<size_t>(m[0].first - s.begin());
    size_t stop = static_cast<size_t>(m[0].second - s.begin());
    from = stop == start ? stop + 1 : stop;
  }
}

// ===================================================================================================
// 6. Built-in functions

Value Bool(bool b) { return Value::Bool(b); }

// --- Comparison ----------------------------------------------------------------------------------

Value Eq(const Args& a) {
  for (size_t i = 1; i < a.size(); ++i) {
    if (!Equal(a[0], a[i])) return Bool(false);
  }
  return Bool(true);
}

Value NotEq(const Args& a) { return Bool(!Eq(a).as_bool()); }

Value NumEq(const Args& a) {
  Num first = ToNum(a[0], a);
  for (size_t i = 1; i < a.size(); ++i) {
    if (NumCompare(first, ToNum(a[i], a)) != 0) return Bool(false);
  }
  return Bool(true);
}

// The classes of values that order against each other (numbers are handled apart).
int OrderClass(const Value& v) {
  switch (v.type()) {
    case Type::kList:
    case Type::kVector:
      return static_cast<int>(Type::kVector);
    default:
      return static_cast<int>(v.type());
  }
}

// Order for < > <= >=: numbers numerically; other values of one kind by the value order (strings,
// keywords, instants, uuids, booleans, vectors, ...). Values of different kinds do not compare:
// that is an error, as Datahike's ClassCastException (which a predicate treats as false).
int OrderCompare(const Value& x, const Value& y, const Args& a) {
  if (IsNumber(x) && IsNumber(y)) return NumCompare(ToNum(x, a), ToNum(y, a));
  if (OrderClass(x) != OrderClass(y) || IsNumber(x) || IsNumber(y)) {
    Fail(a.fn, Failure::kInvalidArgument,
         std::string(a.fn) + " cannot compare " + Show(x) + " with " + Show(y));
  }
  return Compare(x, y);
}

template <bool (*Holds)(int)>
Value Chain(const Args& a) {
  for (size_t i = 1; i < a.size(); ++i) {
    if (!Holds(OrderCompare(a[i - 1], a[i], a))) return Bool(false);
  }
  return Bool(true);
}
bool IsLess(int c) { return c == -1; }
bool IsGreater(int c) { return c == 1; }
bool IsLessEq(int c) { return c == -1 || c == 0; }
bool IsGreaterEq(int c) { return c == 1 || c == 0; }

Value CompareFn(const Args& a) { return Value::Long(Compare(a[0], a[1])); }

// Datahike's -differ?: the first half of the arguments differs from the second half.
Value Differ(const Args& a) {
  size_t half = (a.size() + 1) / 2;
  size_t rest = a.size() - half;
  if (half != rest) return Bool(true);
  for (size_t i = 0; i < half; ++i) {
    if (!Equal(a[i], a[half + i])) return Bool(true);
  }
  return Bool(false);
}

Value DistinctP(const Args& a) {
  std::unordered_set<Value, ValueHash, ValueEq> seen;
  for (const Value& v : a) {
    if (!seen.insert(v).second) return Bool(false);
  }
  return Bool(true);
}

// --- Arithmetic ----------------------------------------------------------------------------------

template <Op kOp>
Value Fold(const Args& a) {
  if (a.size() == 0) return Value::Long(kOp == Op::kMul ? 1 : 0);
  Num acc = ToNum(a[0], a);
  if (a.size() == 1 && kOp == Op::kSub) return FromNum(Arith(Op::kSub, LongNum(0), acc, a));
  for (size_t i = 1; i < a.size(); ++i) acc = Arith(kOp, acc, ToNum(a[i], a), a);
  return FromNum(acc);
}

Value DivideFn(const Args& a) {
  Num acc = ToNum(a[0], a);
  if (a.size() == 1) return FromNum(Divide(LongNum(1), acc, a));
  for (size_t i = 1; i < a.size(); ++i) acc = Divide(acc, ToNum(a[i], a), a);
  return FromNum(acc);
}

Value Quot(const Args& a) { return FromNum(QuotRem(ToNum(a[0], a), ToNum(a[1], a), true, a)); }
Value Rem(const Args& a) { return FromNum(QuotRem(ToNum(a[0], a), ToNum(a[1], a), false, a)); }

// Clojure's mod: the remainder with the sign of the divisor.
Value Mod(const Args& a) {
  Num x = ToNum(a[0], a), y = ToNum(a[1], a);
  Num m = QuotRem(x, y, false, a);
  if (IsZero(m) || IsNaN(m) || (Sign(x) > 0) == (Sign(y) > 0)) return FromNum(m);
  return FromNum(Arith(Op::kAdd, m, y, a));
}

Value Inc(const Args& a) { return FromNum(Arith(Op::kAdd, ToNum(a[0], a), LongNum(1), a)); }
Value Dec(const Args& a) { return FromNum(Arith(Op::kSub, ToNum(a[0], a), LongNum(1), a)); }

Value Abs(const Args& a) {
  Num x = ToNum(a[0], a);
  if (x.kind == NumKind::kDouble) return Value::Double(std::fabs(x.d));
  return Sign(x) < 0 ? FromNum(Arith(Op::kSub, LongNum(0), x, a)) : a[0];
}

// The least or greatest element by the value order; nil for none.
Value Extreme(const std::vector<Value>& xs, bool greatest) {
  if (xs.empty()) return Value();
  const Value* best = &xs[0];
  for (const Value& x : xs) {
    int c = Compare(x, *best);
    if (greatest ? c > 0 : c < 0) best = &x;
  }
  return *best;
}

// The n least or greatest elements (with repetitions), in ascending order.
Value NExtremes(std::vector<Value> xs, size_t n, bool greatest) {
  n = std::min(n, xs.size());
  if (greatest) {
    std::partial_sort(xs.begin(), xs.begin() + n, xs.end(),
                      [](const Value& x, const Value& y) { return Compare(x, y) > 0; });
    xs.resize(n);
    std::reverse(xs.begin(), xs.end());
  } else {
    std::partial_sort(xs.begin(), xs.begin() + n, xs.end(), ValueLess());
    xs.resize(n);
  }
  return Value::Vector(std::move(xs));
}

size_t CountParam(const Args& a, size_t i) {
  int64_t n = a.Long(i);
  if (n < 0) a.TypeError("a non-negative count", a[i]);
  return static_cast<size_t>(n);
}

// Clojure's max/min over numbers: NaN wins, ties go to the later argument. Datahike binds `max` and
// `min` to its aggregate versions, so the collection forms are accepted too: (max coll) is the
// greatest element by the value order and (max n coll) the n greatest, ascending.
template <bool kGreatest>
Value MaxMin(const Args& a) {
  if (a.size() == 1 && a[0].is_collection()) return Extreme(a[0].items(), kGreatest);
  if (a.size() == 2 && a[0].is_integer() && a[1].is_collection()) {
    return NExtremes(a[1].items(), CountParam(a, 0), kGreatest);
  }
  const Value* best = &a[0];
  Num best_num = ToNum(a[0], a);
  for (size_t i = 1; i < a.size(); ++i) {
    Num x = ToNum(a[i], a);
    if (IsNaN(best_num)) continue;
    int c = NumCompare(best_num, x);
    if (c == kUnordered || c != (kGreatest ? 1 : -1)) {
      best = &a[i];
      best_num = x;
    }
  }
  return *best;
}

template <bool (*Test)(const Num&)>
Value NumPredicate(const Args& a) {
  return Bool(Test(ToNum(a[0], a)));
}
bool NumIsZero(const Num& x) { return IsZero(x) && !IsNaN(x); }
bool NumIsPos(const Num& x) { return Sign(x) > 0; }
bool NumIsNeg(const Num& x) { return Sign(x) < 0; }
bool NumIsNaN(const Num& x) { return IsNaN(x); }
bool NumIsInfinite(const Num& x) { return x.kind == NumKind::kDouble && std::isinf(x.d); }

Value Even(const Args& a) {
  if (!a[0].is_integer()) a.TypeError("an integer", a[0]);
  return Bool(ToNum(a[0], a).unscaled % 2 == 0);
}
Value Odd(const Args& a) { return Bool(!Even(a).as_bool()); }

Value Rand(const Args& a) {
  double u = Uniform01();
  return Value::Double(a.size() == 0 ? u : u * ToDouble(ToNum(a[0], a)));
}

Value RandInt(const Args& a) {
  double r = Uniform01() * ToDouble(ToNum(a[0], a));
  if (!(std::fabs(r) < 9.2e18)) a.Invalid("bound out of range");
  return Value::Long(static_cast<int64_t>(r));
}

Value RandNth(const Args& a) {
  Seq s(a, a[0]);
  if (s.empty()) a.Throw("empty collection");
  return s[UniformIndex(s.size())];
}

// --- Coercions -----------------------------------------------------------------------------------

// Drops a bigdec's fraction (toward zero), leaving scale 0; false when the integer needs more than
// 128 bits.
bool TruncateToInteger(Num& x) {
  if (x.scale < 0) return Rescale(x, 0);
  x.unscaled = x.scale > kMaxDigits ? 0 : x.unscaled / Pow10(x.scale);
  x.scale = 0;
  return true;
}

Value ToLong(const Args& a) {
  if (a[0].type() == Type::kChar) return Value::Long(a[0].as_char());
  Num x = ToNum(a[0], a);
  if (x.kind == NumKind::kDouble) {
    if (std::isnan(x.d)) return Value::Long(0);  // Java's (long) NaN
    if (!(std::fabs(x.d) < 9.3e18) || !FitsLong(static_cast<Int128>(x.d))) {
      a.Invalid("value out of range for long: " + Show(a[0]));
    }
    return Value::Long(static_cast<int64_t>(x.d));
  }
  if (x.kind == NumKind::kBigDec && !TruncateToInteger(x)) {
    a.Invalid("value out of range for long: " + Show(a[0]));
  }
  if (!FitsLong(x.unscaled)) a.Invalid("value out of range for long: " + Show(a[0]));
  return Value::Long(static_cast<int64_t>(x.unscaled));
}

Value ToDoubleFn(const Args& a) { return Value::Double(ToDouble(ToNum(a[0], a))); }
Value ToFloat(const Args& a) { return Value::Float(ToDouble(ToNum(a[0], a))); }

Value ToBigInt(const Args& a) {
  Num x = ToNum(a[0], a);
  if (x.kind == NumKind::kDouble) {
    if (!std::isfinite(x.d) || std::fabs(x.d) >= 1e38) a.Invalid("cannot convert " + Show(a[0]));
    return Value::BigInt(Int128Text(static_cast<Int128>(x.d)));
  }
  if (x.kind == NumKind::kBigDec && !TruncateToInteger(x)) Overflow(a, NumKind::kBigInt);
  return Value::BigInt(Int128Text(x.unscaled));
}

Value ToBigDec(const Args& a) {
  Num x = ToNum(a[0], a);
  if (x.kind == NumKind::kDouble) {
    if (!std::isfinite(x.d)) a.Invalid("cannot convert " + Show(a[0]));
    std::string t;
    AppendJavaDouble(x.d, false, t);  // BigDecimal.valueOf(double)
    return Value::BigDec(t);
  }
  return Value::BigDec(DecimalText(x.unscaled, x.kind == NumKind::kBigDec ? x.scale : 0));
}

Value ToChar(const Args& a) {
  if (a[0].type() == Type::kChar) return a[0];
  int64_t c = a.Long(0);
  if (c < 0 || c > 0x10FFFF) a.Invalid("value out of range for char: " + Show(a[0]));
  return Value::Char(static_cast<uint32_t>(c));
}

Value Boolean(const Args& a) { return Bool(a[0].truthy()); }

// Clojure 1.11's parse-long / parse-double / parse-boolean: nil when the text is not one.
Value ParseLong(const Args& a) {
  std::string_view s = a.String(0);
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  int64_t n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return Value();
  return Value::Long(n);
}

Value ParseDouble(const Args& a) {
  std::string_view s = a.String(0);
  bool neg = !s.empty() && s[0] == '-';
  std::string_view body = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? s.substr(1) : s;
  if (body == "NaN") return Value::Double(std::numeric_limits<double>::quiet_NaN());
  if (body == "Infinity") {
    return Value::Double(neg ? -std::numeric_limits<double>::infinity()
                             : std::numeric_limits<double>::infinity());
  }
  if (body.empty() || !(std::isdigit(static_cast<unsigned char>(body[0])) || body[0] == '.')) {
    return Value();
  }
  double d = 0;
  auto [end, ec] =
      std::from_chars(body.data(), body.data() + body.size(), d, std::chars_format::general);
  if (end != body.data() + body.size()) return Value();
  if (ec == std::errc::result_out_of_range) d = text_internal::OutOfRangeDouble(body);
  return Value::Double(neg ? -d : d);
}

Value ParseBoolean(const Args& a) {
  std::string_view s = a.String(0);
  if (s == "true") return Bool(true);
  if (s == "false") return Bool(false);
  return Value();
}

Value InstMs(const Args& a) {
  if (a[0].type() != Type::kInstant) a.TypeError("an instant", a[0]);
  return Value::Long(a[0].as_instant());
}

// --- Logic ---------------------------------------------------------------------------------------

Value Not(const Args& a) { return Bool(!a[0].truthy()); }

// Datahike's and-fn / or-fn: the first falsy (truthy) argument, else the last one.
Value And(const Args& a) {
  Value last = Bool(true);
  for (const Value& v : a) {
    if (!v.truthy()) return v;
    last = v;
  }
  return last;
}

Value Or(const Args& a) {
  Value last;
  for (const Value& v : a) {
    if (v.truthy()) return v;
    last = v;
  }
  return last;
}

Value Identity(const Args& a) { return a[0]; }
Value AlwaysNil(const Args&) { return Value(); }

// --- Types ---------------------------------------------------------------------------------------

template <bool (*Test)(const Value&)>
Value TypePredicate(const Args& a) {
  return Bool(Test(a[0]));
}

bool TypeIs(const Value& v, Type t) { return v.type() == t; }
bool IsNil(const Value& v) { return v.is_nil(); }
bool IsSome(const Value& v) { return !v.is_nil(); }
bool IsTrue(const Value& v) { return v.type() == Type::kBool && v.as_bool(); }
bool IsFalse(const Value& v) { return v.type() == Type::kBool && !v.as_bool(); }
bool IsAny(const Value&) { return true; }
bool IsString(const Value& v) { return v.is_string(); }
bool IsChar(const Value& v) { return TypeIs(v, Type::kChar); }
bool IsBoolean(const Value& v) { return TypeIs(v, Type::kBool); }
bool IsInteger(const Value& v) { return v.is_integer(); }
bool IsInt(const Value& v) { return v.is_long(); }  // fixed precision: not bigints
bool IsPosInt(const Value& v) { return v.is_long() && v.as_long() > 0; }
bool IsNegInt(const Value& v) { return v.is_long() && v.as_long() < 0; }
bool IsNatInt(const Value& v) { return v.is_long() && v.as_long() >= 0; }
bool IsDouble(const Value& v) { return TypeIs(v, Type::kDouble); }
bool IsFloat(const Value& v) { return TypeIs(v, Type::kDouble) || TypeIs(v, Type::kFloat); }
bool IsDecimal(const Value& v) { return TypeIs(v, Type::kBigDec); }
bool IsRational(const Value& v) { return v.is_integer() || TypeIs(v, Type::kBigDec); }
bool IsRatio(const Value&) { return false; }  // there are no ratios
bool IsKeyword(const Value& v) { return v.is_keyword(); }
bool IsSymbol(const Value& v) { return TypeIs(v, Type::kSymbol); }
bool IsIdent(const Value& v) { return v.is_keyword() || IsSymbol(v); }
bool IsQualified(const Value& v) { return IsIdent(v) && !v.as_named()->ns.empty(); }
bool IsSimple(const Value& v) { return IsIdent(v) && v.as_named()->ns.empty(); }
bool IsSimpleKeyword(const Value& v) { return v.is_keyword() && IsSimple(v); }
bool IsQualifiedKeyword(const Value& v) { return v.is_keyword() && IsQualified(v); }
bool IsSimpleSymbol(const Value& v) { return IsSymbol(v) && IsSimple(v); }
bool IsQualifiedSymbol(const Value& v) { return IsSymbol(v) && IsQualified(v); }
bool IsUuid(const Value& v) { return TypeIs(v, Type::kUuid); }
bool IsInst(const Value& v) { return TypeIs(v, Type::kInstant); }
bool IsBytes(const Value& v) { return TypeIs(v, Type::kBytes); }
bool IsVector(const Value& v) { return TypeIs(v, Type::kVector); }
bool IsList(const Value& v) { return TypeIs(v, Type::kList); }
bool IsMap(const Value& v) { return v.is_map(); }
bool IsSet(const Value& v) { return v.is_set(); }
bool IsColl(const Value& v) { return v.is_collection() || v.is_map(); }
bool IsSeq(const Value& v) { return IsList(v); }
bool IsSequential(const Value& v) { return v.is_sequential(); }
bool IsAssociative(const Value& v) { return v.is_map() || IsVector(v); }
bool IsCounted(const Value& v) { return IsColl(v); }

// Clojure's (type x) is a Java class; it is given as the symbol of the class name.
Value TypeOf(const Args& a) {
  static constexpr std::pair<Type, const char*> kClassNames[] = {
      {Type::kBool, "java.lang.Boolean"},
      {Type::kLong, "java.lang.Long"},
      {Type::kBigInt, "clojure.lang.BigInt"},
      {Type::kFloat, "java.lang.Float"},
      {Type::kDouble, "java.lang.Double"},
      {Type::kBigDec, "java.math.BigDecimal"},
      {Type::kInstant, "java.util.Date"},
      {Type::kUuid, "java.util.UUID"},
      {Type::kChar, "java.lang.Character"},
      {Type::kString, "java.lang.String"},
      {Type::kKeyword, "clojure.lang.Keyword"},
      {Type::kSymbol, "clojure.lang.Symbol"},
      {Type::kBytes, "[B"},
      {Type::kList, "clojure.lang.PersistentList"},
      {Type::kVector, "clojure.lang.PersistentVector"},
      {Type::kSet, "clojure.lang.PersistentHashSet"},
      {Type::kMap, "clojure.lang.PersistentArrayMap"},
  };
  for (const auto& [t, name] : kClassNames) {
    if (a[0].type() == t) return Value::Symbol(name);
  }
  return Value();
}

// --- Names ---------------------------------------------------------------------------------------

Value Name(const Args& a) {
  if (a[0].is_string()) return a[0];
  if (!IsIdent(a[0])) a.TypeError("a string, keyword or symbol", a[0]);
  return Value::String(a[0].as_named()->name);
}

Value Namespace(const Args& a) {
  if (!IsIdent(a[0])) a.TypeError("a keyword or symbol", a[0]);
  const std::string& ns = a[0].as_named()->ns;
  return ns.empty() ? Value() : Value::String(ns);
}

// (keyword x): a keyword from a string, keyword or symbol; nil for anything else (as Clojure).
// (keyword ns name): ns may be nil.
Value KeywordFn(const Args& a) {
  if (a.size() == 2) {
    if (!a[0].is_nil() && !a[0].is_string()) a.TypeError("a string or nil namespace", a[0]);
    std::string_view name = a.String(1);
    if (a[0].is_nil()) return Value::Keyword(InternKeyword(std::string_view(), name));
    return Value::Keyword(InternKeyword(a[0].as_string(), name));
  }
  if (a[0].is_keyword()) return a[0];
  if (IsSymbol(a[0])) return Value::Keyword(a[0].as_named()->full);
  if (a[0].is_string()) return Value::Keyword(a[0].as_string());
  return Value();
}

Value SymbolFn(const Args& a) {
  if (a.size() == 2) {
    if (!a[0].is_nil() && !a[0].is_string()) a.TypeError("a string or nil namespace", a[0]);
    std::string_view name = a.String(1);
    std::string full =
        a[0].is_nil() ? std::string(name) : std::string(a[0].as_string()) + "/" + std::string(name);
    return Value::Symbol(full);
  }
  if (IsSymbol(a[0])) return a[0];
  if (a[0].is_keyword()) return Value::Symbol(a[0].as_named()->full);
  return Value::Symbol(a.String(0));
}

// --- Collections ---------------------------------------------------------------------------------

std::vector<Value> ArgVector(const Args& a) { return std::vector<Value>(a.begin(), a.end()); }

Value VectorFn(const Args& a) { return Value::Vector(ArgVector(a)); }
Value ListFn(const Args& a) { return Value::List(ArgVector(a)); }
Value HashSet(const Args& a) { return Value::Set(ArgVector(a)); }
Value SetFn(const Args& a) { return Value::Set(Seq(a, a[0]).items()); }
Value Vec(const Args& a) { return Value::Vector(Seq(a, a[0]).items()); }

Value HashMap(const Args& a) {
  if (a.size() % 2 != 0) a.Invalid("no value supplied for key " + Show(a[a.size() - 1]));
  std::vector<std::pair<Value, Value>> entries;
  for (size_t i = 0; i < a.size(); i += 2) entries.emplace_back(a[i], a[i + 1]);
  return Value::Map(std::move(entries));
}

Value Count(const Args& a) {
  const Value& v = a[0];
  if (v.is_string()) return Value::Long(static_cast<int64_t>(CountChars(v.as_string())));
  if (TypeIs(v, Type::kBytes)) return Value::Long(static_cast<int64_t>(v.as_string().size()));
  if (!IsSeqable(v)) a.TypeError("a collection or string", v);
  return Value::Long(static_cast<int64_t>(v.size()));
}

// Position of `key` in a set, or nullptr.
const Value* SetMember(const Value& set, const Value& key) {
  const std::vector<Value>& items = set.items();
  auto it = std::lower_bound(items.begin(), items.end(), key, ValueLess());
  return it != items.end() && Compare(*it, key) == 0 ? &*it : nullptr;
}

// The character at index i of a string, or nil.
Value CharAt(std::string_view s, int64_t i) {
  if (i < 0) return Value();
  size_t at = ByteOffset(s, static_cast<size_t>(i));
  if (at == std::string_view::npos || at >= s.size()) return Value();
  uint32_t cp = 0xFFFD;
  text_internal::DecodeUtf8(s.data() + at, s.data() + s.size(), &cp);
  return Value::Char(cp);
}

// Clojure's get: nullopt when absent (including on values that have no keys).
std::optional<Value> Lookup(const Value& coll, const Value& key) {
  switch (coll.type()) {
    case Type::kMap:
      if (const Value* v = coll.get(key)) return *v;
      return std::nullopt;
    case Type::kSet:
      if (const Value* v = SetMember(coll, key)) return *v;
      return std::nullopt;
    case Type::kVector:
      if (key.is_long() && key.as_long() >= 0 &&
          static_cast<uint64_t>(key.as_long()) < coll.items().size()) {
        return coll.items()[key.as_long()];
      }
      return std::nullopt;
    case Type::kString: {
      if (!key.is_long()) return std::nullopt;
      Value c = CharAt(coll.as_string(), key.as_long());
      if (c.is_nil()) return std::nullopt;
      return c;
    }
    default:
      return std::nullopt;
  }
}

Value Get(const Args& a) {
  std::optional<Value> v = Lookup(a[0], a[1]);
  return v ? *v : (a.size() == 3 ? a[2] : Value());
}

Value GetIn(const Args& a) {
  Value cur = a[0];
  Seq keys(a, a[1]);
  for (const Value& k : keys.items()) {
    std::optional<Value> next = Lookup(cur, k);
    if (!next) return a.size() == 3 ? a[2] : Value();
    cur = std::move(*next);
  }
  return cur;
}

Value Contains(const Args& a) {
  const Value& c = a[0];
  const Value& k = a[1];
  switch (c.type()) {
    case Type::kNil:
      return Bool(false);
    case Type::kMap:
      return Bool(c.get(k) != nullptr);
    case Type::kSet:
      return Bool(SetMember(c, k) != nullptr);
    case Type::kVector:
      return Bool(k.is_long() && k.as_long() >= 0 &&
                  static_cast<uint64_t>(k.as_long()) < c.items().size());
    case Type::kString:
      return Bool(k.is_long() && k.as_long() >= 0 &&
                  static_cast<uint64_t>(k.as_long()) < CountChars(c.as_string()));
    default:
      a.TypeError("a map, set, vector or string", c);
  }
}

Value First(const Args& a) {
  Seq s(a, a[0]);
  return s.empty() ? Value() : s[0];
}
Value Second(const Args& a) {
  Seq s(a, a[0]);
  return s.size() < 2 ? Value() : s[1];
}
Value Last(const Args& a) {
  Seq s(a, a[0]);
  return s.empty() ? Value() : s[s.size() - 1];
}
Value Rest(const Args& a) {
  Seq s(a, a[0]);
  if (s.empty()) return Value::List({});
  return Value::List(std::vector<Value>(s.items().begin() + 1, s.items().end()));
}
Value Next(const Args& a) {
  Seq s(a, a[0]);
  if (s.size() < 2) return Value();
  return Value::List(std::vector<Value>(s.items().begin() + 1, s.items().end()));
}

Value Nth(const Args& a) {
  const Value& c = a[0];
  if (c.is_set() || c.is_map()) a.TypeError("a list, vector or string", c);
  int64_t i = a.Long(1);
  Seq s(a, c);
  if (i >= 0 && static_cast<uint64_t>(i) < s.size()) return s[static_cast<size_t>(i)];
  if (a.size() == 3) return a[2];
  if (c.is_nil()) return Value();
  a.Throw("index " + std::to_string(i) + " out of bounds for length " + std::to_string(s.size()));
}

Value EmptyP(const Args& a) {
  if (!IsSeqable(a[0])) a.TypeError("a collection or string", a[0]);
  return Bool(a[0].is_string() ? a[0].as_string().empty() : a[0].size() == 0);
}
Value NotEmpty(const Args& a) { return EmptyP(a).as_bool() ? Value() : a[0]; }

Value Empty(const Args& a) {
  switch (a[0].type()) {
    case Type::kList:
      return Value::List({});
    case Type::kVector:
      return Value::Vector({});
    case Type::kSet:
      return Value::Set({});
    case Type::kMap:
      return Value::Map({});
    default:
      return Value();
  }
}

Value SeqFn(const Args& a) {
  Seq s(a, a[0]);
  return s.empty() ? Value() : Value::List(s.items());
}

Value Concat(const Args& a) {
  std::vector<Value> out;
  for (const Value& v : a) {
    Seq s(a, v);
    out.insert(out.end(), s.items().begin(), s.items().end());
  }
  return Value::List(std::move(out));
}

Value Distinct(const Args& a) {
  Seq s(a, a[0]);
  std::unordered_set<Value, ValueHash, ValueEq> seen;
  std::vector<Value> out;
  for (const Value& v : s.items()) {
    if (seen.insert(v).second) out.push_back(v);
  }
  return Value::List(std::move(out));
}

Value Sort(const Args& a) {
  std::vector<Value> xs = Seq(a, a[0]).items();
  std::stable_sort(xs.begin(), xs.end(), ValueLess());
  return Value::List(std::move(xs));
}

Value ReverseColl(const Args& a) {
  std::vector<Value> xs = Seq(a, a[0]).items();
  std::reverse(xs.begin(), xs.end());
  return Value::List(std::move(xs));
}

template <bool kKeys>
Value KeysVals(const Args& a) {
  if (a[0].is_nil()) return Value();
  if (!a[0].is_map()) a.TypeError("a map", a[0]);
  if (a[0].size() == 0) return Value();
  std::vector<Value> out;
  for (const auto& [k, v] : a[0].entries()) out.push_back(kKeys ? k : v);
  return Value::List(std::move(out));
}

// (range end), (range start end), (range start end step): a list. As Clojure, each element is the
// previous one plus step (so a double step accumulates rounding as Clojure's does). The infinite
// forms, (range) and a zero step, are refused, and so is any range longer than kMaxRange.
Value Range(const Args& a) {
  constexpr size_t kMaxRange = 10'000'000;
  for (const Value& v : a) ToNum(v, a);  // type check
  const Num start = a.size() == 1 ? LongNum(0) : ToNum(a[0], a);
  const Num end = ToNum(a[a.size() == 1 ? 0 : 1], a);
  const Num step = a.size() == 3 ? ToNum(a[2], a) : LongNum(1);
  if (IsNaN(step) || IsNaN(start) || IsNaN(end)) a.Invalid("NaN bound");
  const int direction = Sign(step);
  if (direction == 0) {
    if (NumCompare(start, end) == 0) return Value::List({});
    a.Invalid("a zero step gives an infinite range");
  }
  std::vector<Value> out;
  if (start.kind == NumKind::kLong && end.kind == NumKind::kLong && step.kind == NumKind::kLong) {
    // Counted up front, so that a range ending near the long limits does not overflow.
    Int128 count = (end.unscaled - start.unscaled + step.unscaled - direction) / step.unscaled;
    if (count > static_cast<Int128>(kMaxRange)) a.Throw("range longer than 10000000 elements");
    for (Int128 i = 0; i < count; ++i) {
      out.push_back(Value::Long(static_cast<int64_t>(start.unscaled + i * step.unscaled)));
    }
    return Value::List(std::move(out));
  }
  const double estimate = (ToDouble(end) - ToDouble(start)) / ToDouble(step);
  if (estimate > static_cast<double>(kMaxRange) + 2) a.Throw("range longer than 10000000 elements");
  for (Num x = start; NumCompare(x, end) == -direction; x = Arith(Op::kAdd, x, step, a)) {
    if (out.size() == kMaxRange) a.Throw("range longer than 10000000 elements");
    out.push_back(FromNum(x));
  }
  return Value::List(std::move(out));
}

// --- Strings -------------------------------------------------------------------------------------

Value StrFn(const Args& a) {
  std::string out;
  for (const Value& v : a) AppendStr(v, out);
  return Value::String(out);
}

template <bool kReadably, bool kNewline>
Value PrintStr(const Args& a) {
  std::string out;
  for (size_t i = 0; i < a.size(); ++i) {
    if (i > 0) out += ' ';
    PrintClojure(a[i], kReadably, out);
  }
  if (kNewline) out += '\n';
  return Value::String(out);
}

// A character index argument within [0, count]: its byte offset.
size_t IndexArg(const Args& a, size_t i, std::string_view s) {
  int64_t index = a.Long(i);
  size_t at = index < 0 ? std::string_view::npos : ByteOffset(s, static_cast<size_t>(index));
  if (at == std::string_view::npos) {
    a.Throw("index " + std::to_string(index) + " out of range for a string of length " +
            std::to_string(CountChars(s)));
  }
  return at;
}

Value Subs(const Args& a) {
  std::string_view s = a.String(0);
  size_t begin = IndexArg(a, 1, s);
  size_t end = a.size() == 3 ? IndexArg(a, 2, s) : s.size();
  if (end < begin) a.Invalid("end index before start index");
  return Value::String(s.substr(begin, end - begin));
}

Value Blank(const Args& a) {
  if (a[0].is_nil()) return Bool(true);
  for (char32_t c : ToCodePoints(a.String(0))) {
    if (!IsJavaWhitespace(c)) return Bool(false);
  }
  return Bool(true);
}

Value Includes(const Args& a) {
  return Bool(a.String(0).find(a.String(1)) != std::string_view::npos);
}
Value StartsWith(const Args& a) { return Bool(a.String(0).starts_with(a.String(1))); }
Value EndsWith(const Args& a) { return Bool(a.String(0).ends_with(a.String(1))); }

Value LowerCase(const Args& a) { return Value::String(MapCase(a.String(0), false)); }
Value UpperCase(const Args& a) { return Value::String(MapCase(a.String(0), true)); }

// Upper-cases the first character and lower-cases the rest.
Value Capitalize(const Args& a) {
  std::string_view s = a.String(0);
  if (s.empty()) return a[0];
  size_t first = CharLen(s.data(), s.data() + s.size());
  return Value::String(MapCase(s.substr(0, first), true) + MapCase(s.substr(first), false));
}

template <bool kLeft, bool kRight>
Value Trim(const Args& a) {
  std::u32string cps = ToCodePoints(a.String(0));
  size_t begin = 0, end = cps.size();
  while (kLeft && begin < end && IsJavaWhitespace(cps[begin])) ++begin;
  while (kRight && end > begin && IsJavaWhitespace(cps[end - 1])) --end;
  return Value::String(FromCodePoints(std::u32string_view(cps).substr(begin, end - begin)));
}

Value TrimNewline(const Args& a) {
  std::string_view s = a.String(0);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  return Value::String(s);
}

Value ReverseString(const Args& a) {
  std::u32string cps = ToCodePoints(a.String(0));
  std::reverse(cps.begin(), cps.end());
  return Value::String(FromCodePoints(cps));
}

// The text a search looks for: a string or a character.
std::string Needle(const Args& a, size_t i) {
  if (a[i].type() == Type::kChar) {
    std::string s;
    AppendUtf8(a[i].as_char(), s);
    return s;
  }
  return std::string(a.String(i));
}

template <bool kLast>
Value IndexOf(const Args& a) {
  std::string_view s = a.String(0);
  std::string needle = Needle(a, 1);
  size_t from_byte = kLast ? std::string_view::npos : 0;
  if (a.size() == 3) {
    int64_t from = a.Long(2);
    if (from < 0) {
      if (kLast) return Value();
      from = 0;
    }
    size_t at = ByteOffset(s, static_cast<size_t>(from));
    from_byte = at == std::string_view::npos ? (kLast ? s.size() : s.size() + 1) : at;
    if (!kLast && from_byte > s.size()) return Value();
  }
  size_t at = kLast ? s.rfind(needle, from_byte) : s.find(needle, from_byte);
  if (at == std::string_view::npos) return Value();
  return Value::Long(static_cast<int64_t>(CountChars(s.substr(0, at))));
}

// (join coll) / (join separator coll): the str of each element.
Value Join(const Args& a) {
  std::string separator = a.size() == 2 ? Str(a[0]) : std::string();
  Seq items(a, a[a.size() - 1]);
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += separator;
    AppendStr(items[i], out);
  }
  return Value::String(out);
}

// clojure.string/replace and replace-first with a string (or character) match: a literal
// replacement. Patterns are strings here (see section 5), so the regex form of replace is not
// available: a pattern given to replace is matched literally.
template <bool kFirstOnly>
Value Replace(const Args& a) {
  std::string_view s = a.String(0);
  const bool chars = a[1].type() == Type::kChar;
  if (chars != (a[2].type() == Type::kChar)) {
    a.TypeError("a match and replacement of one kind (two strings or two characters)", a[2]);
  }
  std::string match = Needle(a, 1);
  std::string replacement = Needle(a, 2);
  std::string out;
  if (match.empty()) {  // Java inserts the replacement between characters
    const char* p = s.data();
    const char* end = p + s.size();
    out += replacement;
    if (kFirstOnly) return Value::String(out + std::string(s));
    while (p < end) {
      size_t n = CharLen(p, end);
      out.append(p, n);
      out += replacement;
      p += n;
    }
    return Value::String(out);
  }
  size_t from = 0;
  for (size_t at; (at = s.find(match, from)) != std::string_view::npos;) {
    out.append(s.substr(from, at - from));
    out += replacement;
    from = at + match.size();
    if (kFirstOnly) break;
  }
  out.append(s.substr(from));
  return Value::String(out);
}

// (escape s cmap): each character found as a key of the map cmap is replaced by the str of its
// value.
Value Escape(const Args& a) {
  std::string_view s = a.String(0);
  if (!a[1].is_map()) a.TypeError("a map of characters", a[1]);
  std::string out;
  for (char32_t c : ToCodePoints(s)) {
    if (const Value* r = a[1].get(Value::Char(c))) {
      AppendStr(*r, out);
    } else {
      AppendUtf8(c, out);
    }
  }
  return Value::String(out);
}

Value SplitLines(const Args& a) {
  std::string_view s = a.String(0);
  std::vector<Value> lines;
  size_t from = 0;
  while (from <= s.size()) {
    size_t nl = s.find('\n', from);
    size_t stop = nl == std::string_view::npos ? s.size() : nl;
    size_t line_end = stop > from && s[stop - 1] == '\r' ? stop - 1 : stop;
    lines.push_back(Value::String(s.substr(from, line_end - from)));
    if (nl == std::string_view::npos) break;
    from = nl + 1;
  }
  while (lines.size() > 1 && lines.back().as_string().empty()) lines.pop_back();
  if (lines.size() == 1 && lines[0].as_string().empty() && !s.empty()) lines.clear();
  return Value::Vector(std::move(lines));
}

// --- Regular expressions -------------------------------------------------------------------------

Value RePattern(const Args& a) {
  Pattern(a, 0);  // validates
  return a[0];
}

Value ReFind(const Args& a) {
  auto re = Pattern(a, 0);
  Subject s = MakeSubject(a, 1);
  WMatch m;
  return FindFrom(*re, s, 0, m) ? Groups(m) : Value();
}

Value ReMatches(const Args& a) {
  auto re = Pattern(a, 0);
  Subject s = MakeSubject(a, 1);
  WMatch m;
  return std::regex_match(s.begin(), s.end(), m, *re) ? Groups(m) : Value();
}

Value ReSeq(const Args& a) {
  auto re = Pattern(a, 0);
  Subject s = MakeSubject(a, 1);
  std::vector<Value> out;
  ForEachMatch(*re, s, [&](const WMatch& m) {
    out.push_back(Groups(m));
    return true;
  });
  return out.empty() ? Value() : Value::List(std::move(out));
}

// clojure.string/split: Java's Pattern.split. A limit > 0 gives at most that many parts; with no
// limit (or 0) trailing empty parts are dropped; a limit < 0 keeps them.
Value Split(const Args& a) {
  auto re = Pattern(a, 1);
  Subject s = MakeSubject(a, 0);
  const int64_t limit = a.size() == 3 ? a.Long(2) : 0;
  std::vector<Value> parts;
  size_t index = 0;
  auto part = [&](size_t from, size_t to) {
    parts.push_back(Value::String(FromWide(s.begin() + from, s.begin() + to)));
  };
  ForEachMatch(*re, s, [&](const WMatch& m) {
    size_t start = static_cast<size_t>(m[0].first - s.begin());
    size_t stop = static_cast<size_t>(m[0].second - s.begin());
    if (limit > 0 && static_cast<int64_t>(parts.size()) >= limit - 1) return false;
    if (index == 0 && start == 0 && stop == 0) return true;  // no leading empty part
    part(index, start);
    index = stop;
    return true;
  });
  if (index == 0) return Value::Vector({Value::String(a.String(0))});
  part(index, s.text.size());
  if (limit == 0) {
    while (!parts.empty() && parts.back().as_string().empty()) parts.pop_back();
  }
  return Value::Vector(std::move(parts));
}

// --- Tuples --------------------------------------------------------------------------------------

Value Untuple(const Args& a) { return a[0]; }

// ===================================================================================================
// The registry

using Impl = Value (*)(const Args&);

// Where a name is visible: bare only (Datahike's own), bare and as clojure.core/name, or only under
// its full clojure.string/ name.
enum class Scope : uint8_t { kDatahike, kCore, kString };

struct Builtin {
  const char* name;
  Scope scope;
  uint8_t min_args;
  uint8_t max_args;  // kVariadic: no maximum
  Impl impl;
};

constexpr Scope D = Scope::kDatahike, C = Scope::kCore, S = Scope::kString;
constexpr uint8_t N = kVariadic;

constexpr Builtin kBuiltins[] = {
    // Comparison
    {"=", C, 1, N, Eq},
    {"==", C, 1, N, NumEq},
    {"not=", C, 1, N, NotEq},
    {"!=", D, 1, N, NotEq},
    {"<", C, 1, N, Chain<IsLess>},
    {">", C, 1, N, Chain<IsGreater>},
    {"<=", C, 1, N, Chain<IsLessEq>},
    {">=", C, 1, N, Chain<IsGreaterEq>},
    {"before?", D, 1, N, Chain<IsLess>},
    {"after?", D, 1, N, Chain<IsGreater>},
    {"compare", C, 2, 2, CompareFn},
    {"-differ?", D, 0, N, Differ},
    {"distinct?", C, 1, N, DistinctP},
    // Arithmetic
    {"+", C, 0, N, Fold<Op::kAdd>},
    {"-", C, 1, N, Fold<Op::kSub>},
    {"*", C, 0, N, Fold<Op::kMul>},
    {"/", C, 1, N, DivideFn},
    {"quot", C, 2, 2, Quot},
    {"rem", C, 2, 2, Rem},
    {"mod", C, 2, 2, Mod},
    {"inc", C, 1, 1, Inc},
    {"dec", C, 1, 1, Dec},
    {"abs", C, 1, 1, Abs},
    {"max", C, 1, N, MaxMin<true>},
    {"min", C, 1, N, MaxMin<false>},
    {"zero?", C, 1, 1, NumPredicate<NumIsZero>},
    {"pos?", C, 1, 1, NumPredicate<NumIsPos>},
    {"neg?", C, 1, 1, NumPredicate<NumIsNeg>},
    {"even?", C, 1, 1, Even},
    {"odd?", C, 1, 1, Odd},
    {"NaN?", C, 1, 1, NumPredicate<NumIsNaN>},
    {"infinite?", C, 1, 1, NumPredicate<NumIsInfinite>},
    {"rand", C, 0, 1, Rand},
    {"rand-int", C, 1, 1, RandInt},
    {"rand-nth", C, 1, 1, RandNth},
    // Coercions
    {"long", C, 1, 1, ToLong},
    {"int", C, 1, 1, ToLong},
    {"double", C, 1, 1, ToDoubleFn},
    {"float", C, 1, 1, ToFloat},
    {"bigint", C, 1, 1, ToBigInt},
    {"bigdec", C, 1, 1, ToBigDec},
    {"char", C, 1, 1, ToChar},
    {"boolean", C, 1, 1, Boolean},
    {"parse-long", C, 1, 1, ParseLong},
    {"parse-double", C, 1, 1, ParseDouble},
    {"parse-boolean", C, 1, 1, ParseBoolean},
    {"inst-ms", C, 1, 1, InstMs},
    // Logic
    {"not", C, 1, 1, Not},
    {"and", D, 0, N, And},
    {"or", D, 0, N, Or},
    {"true?", C, 1, 1, TypePredicate<IsTrue>},
    {"false?", C, 1, 1, TypePredicate<IsFalse>},
    {"nil?", C, 1, 1, TypePredicate<IsNil>},
    {"some?", C, 1, 1, TypePredicate<IsSome>},
    {"identity", C, 1, 1, Identity},
    // Types
    {"type", C, 1, 1, TypeOf},
    {"class", C, 1, 1, TypeOf},
    {"meta", C, 1, 1, AlwaysNil},  // values carry no metadata
    {"any?", C, 1, 1, TypePredicate<IsAny>},
    {"string?", C, 1, 1, TypePredicate<IsString>},
    {"char?", C, 1, 1, TypePredicate<IsChar>},
    {"boolean?", C, 1, 1, TypePredicate<IsBoolean>},
    {"number?", C, 1, 1, TypePredicate<IsNumber>},
    {"integer?", C, 1, 1, TypePredicate<IsInteger>},
    {"int?", C, 1, 1, TypePredicate<IsInt>},
    {"pos-int?", C, 1, 1, TypePredicate<IsPosInt>},
    {"neg-int?", C, 1, 1, TypePredicate<IsNegInt>},
    {"nat-int?", C, 1, 1, TypePredicate<IsNatInt>},
    {"double?", C, 1, 1, TypePredicate<IsDouble>},
    {"float?", C, 1, 1, TypePredicate<IsFloat>},
    {"decimal?", C, 1, 1, TypePredicate<IsDecimal>},
    {"rational?", C, 1, 1, TypePredicate<IsRational>},
    {"ratio?", C, 1, 1, TypePredicate<IsRatio>},
    {"keyword?", C, 1, 1, TypePredicate<IsKeyword>},
    {"symbol?", C, 1, 1, TypePredicate<IsSymbol>},
    {"ident?", C, 1, 1, TypePredicate<IsIdent>},
    {"simple-keyword?", C, 1, 1, TypePredicate<IsSimpleKeyword>},
    {"qualified-keyword?", C, 1, 1, TypePredicate<IsQualifiedKeyword>},
    {"simple-symbol?", C, 1, 1, TypePredicate<IsSimpleSymbol>},
    {"qualified-symbol?", C, 1, 1, TypePredicate<IsQualifiedSymbol>},
    {"simple-ident?", C, 1, 1, TypePredicate<IsSimple>},
    {"qualified-ident?", C, 1, 1, TypePredicate<IsQualified>},
    {"uuid?", C, 1, 1, TypePredicate<IsUuid>},
    {"inst?", C, 1, 1, TypePredicate<IsInst>},
    {"bytes?", C, 1, 1, TypePredicate<IsBytes>},
    {"vector?", C, 1, 1, TypePredicate<IsVector>},
    {"list?", C, 1, 1, TypePredicate<IsList>},
    {"map?", C, 1, 1, TypePredicate<IsMap>},
    {"set?", C, 1, 1, TypePredicate<IsSet>},
    {"coll?", C, 1, 1, TypePredicate<IsColl>},
    {"seq?", C, 1, 1, TypePredicate<IsSeq>},
    {"sequential?", C, 1, 1, TypePredicate<IsSequential>},
    {"associative?", C, 1, 1, TypePredicate<IsAssociative>},
    {"counted?", C, 1, 1, TypePredicate<IsCounted>},
    {"seqable?", C, 1, 1, TypePredicate<IsSeqable>},
    // Names
    {"name", C, 1, 1, Name},
    {"namespace", C, 1, 1, Namespace},
    {"keyword", C, 1, 2, KeywordFn},
    {"symbol", C, 1, 2, SymbolFn},
    // Collections
    {"vector", C, 0, N, VectorFn},
    {"list", C, 0, N, ListFn},
    {"hash-set", C, 0, N, HashSet},
    {"set", C, 1, 1, SetFn},
    {"vec", C, 1, 1, Vec},
    {"hash-map", C, 0, N, HashMap},
    {"array-map", C, 0, N, HashMap},
    {"count", C, 1, 1, Count},
    {"get", C, 2, 3, Get},
    {"get-in", C, 2, 3, GetIn},
    {"contains?", C, 2, 2, Contains},
    {"first", C, 1, 1, First},
    {"second", C, 1, 1, Second},
    {"last", C, 1, 1, Last},
    {"rest", C, 1, 1, Rest},
    {"next", C, 1, 1, Next},
    {"nth", C, 2, 3, Nth},
    {"empty?", C, 1, 1, EmptyP},
    {"not-empty", C, 1, 1, NotEmpty},
    {"empty", C, 1, 1, Empty},
    {"seq", C, 1, 1, SeqFn},
    {"concat", C, 0, N, Concat},
    {"distinct", C, 1, 1, Distinct},
    {"sort", C, 1, 1, Sort},
    {"reverse", C, 1, 1, ReverseColl},
    {"keys", C, 1, 1, KeysVals<true>},
    {"vals", C, 1, 1, KeysVals<false>},
    {"range", C, 1, 3, Range},
    {"tuple", D, 0, N, VectorFn},
    {"untuple", D, 1, 1, Untuple},
    // Strings
    {"str", C, 0, N, StrFn},
    {"subs", C, 2, 3, Subs},
    {"pr-str", C, 0, N, PrintStr<true, false>},
    {"prn-str", C, 0, N, PrintStr<true, true>},
    {"print-str", C, 0, N, PrintStr<false, false>},
    {"println-str", C, 0, N, PrintStr<false, true>},
    {"re-pattern", C, 1, 1, RePattern},
    {"re-find", C, 2, 2, ReFind},
    {"re-matches", C, 2, 2, ReMatches},
    {"re-seq", C, 2, 2, ReSeq},
    {"clojure.string/blank?", S, 1, 1, Blank},
    {"clojure.string/capitalize", S, 1, 1, Capitalize},
    {"clojure.string/ends-with?", S, 2, 2, EndsWith},
    {"clojure.string/escape", S, 2, 2, Escape},
    {"clojure.string/includes?", S, 2, 2, Includes},
    {"clojure.string/index-of", S, 2, 3, IndexOf<false>},
    {"clojure.string/join", S, 1, 2, Join},
    {"clojure.string/last-index-of", S, 2, 3, IndexOf<true>},
    {"clojure.string/lower-case", S, 1, 1, LowerCase},
    {"clojure.string/replace", S, 3, 3, Replace<false>},
    {"clojure.string/replace-first", S, 3, 3, Replace<true>},
    {"clojure.string/reverse", S, 1, 1, ReverseString},
    {"clojure.string/split", S, 2, 3, Split},
    {"clojure.string/split-lines", S, 1, 1, SplitLines},
    {"clojure.string/starts-with?", S, 2, 2, StartsWith},
    {"clojure.string/trim", S, 1, 1, Trim<true, true>},
    {"clojure.string/trim-newline", S, 1, 1, TrimNewline},
    {"clojure.string/triml", S, 1, 1, Trim<true, false>},
    {"clojure.string/trimr", S, 1, 1, Trim<false, true>},
    {"clojure.string/upper-case", S, 1, 1, UpperCase},
};

// The BuiltinFn of entry I: checks the arity, then runs the implementation.
template <size_t I>
Value CallBuiltin(const Value* args, size_t n) {
  const Builtin& b = kBuiltins[I];
  if (n < b.min_args || (b.max_args != kVariadic && n > b.max_args)) {
    ArityError(b.name, n, b.min_args, b.max_args);
  }
  return b.impl(Args{args, n, b.name});
}

template <size_t... I>
constexpr std::array<BuiltinFn, sizeof...(I)> BuiltinCalls(std::index_sequence<I...>) {
  return {&CallBuiltin<I>...};
}

constexpr auto kBuiltinCalls = BuiltinCalls(std::make_index_sequence<std::size(kBuiltins)>());

// ===================================================================================================
// 7. Aggregates
//
// Result types follow Datahike (validated there against Datomic): count, sum, min and max are exact
// and keep the type; avg, median, variance and stddev are doubles; variance and stddev are
// population statistics. Datahike never aggregates an empty group; here an empty group gives 0 for
// count, count-distinct and sum, an empty collection for distinct and the n-forms, and nil for the
// others.

struct AggArgs {
  const Value* params;
  size_t nparams;
  std::vector<Value>& values;
  const char* fn;

  Args AsArgs() const { return Args{params, nparams, fn}; }
};

Value AggCount(const AggArgs& g) { return Value::Long(static_cast<int64_t>(g.values.size())); }

Value AggCountDistinct(const AggArgs& g) {
  std::unordered_set<Value, ValueHash, ValueEq> seen(g.values.begin(), g.values.end());
  return Value::Long(static_cast<int64_t>(seen.size()));
}

Num SumOf(const AggArgs& g) {
  Args a{g.values.data(), g.values.size(), g.fn};
  Num total = LongNum(0);
  for (const Value& v : g.values) total = Arith(Op::kAdd, total, ToNum(v, a), a);
  return total;
}

Value AggSum(const AggArgs& g) { return FromNum(SumOf(g)); }

// Mean as a long double; REQUIRES: values not empty.
long double MeanOf(const AggArgs& g) {
  Args a{g.values.data(), g.values.size(), g.fn};
  bool all_long =
      std::all_of(g.values.begin(), g.values.end(), [](const Value& v) { return v.is_long(); });
  if (all_long) {  // exact in 128 bits: no overflow for any count of longs that fits in memory
    Int128 total = 0;
    for (const Value& v : g.values) total += v.as_long();
    return static_cast<long double>(total) / static_cast<long double>(g.values.size());
  }
  long double total = 0;
  for (const Value& v : g.values) total += ToDouble(ToNum(v, a));
  return total / static_cast<long double>(g.values.size());
}

Value AggAvg(const AggArgs& g) {
  if (g.values.empty()) return Value();
  return Value::Double(static_cast<double>(MeanOf(g)));
}

// Population variance (divides by n); REQUIRES: values not empty.
double VarianceOf(const AggArgs& g) {
  Args a{g.values.data(), g.values.size(), g.fn};
  const long double mean = MeanOf(g);
  long double sum = 0;
  for (const Value& v : g.values) {
    long double delta = static_cast<long double>(ToDouble(ToNum(v, a))) - mean;
    sum += delta * delta;
  }
  return static_cast<double>(sum / static_cast<long double>(g.values.size()));
}

Value AggVariance(const AggArgs& g) {
  return g.values.empty() ? Value() : Value::Double(VarianceOf(g));
}

Value AggStddev(const AggArgs& g) {
  return g.values.empty() ? Value() : Value::Double(std::sqrt(VarianceOf(g)));
}

// The middle value by the value order, as a double for numbers; for an even count the mean of the
// two middle values (numbers only). A non-number median of an odd count is returned as it is.
Value AggMedian(const AggArgs& g) {
  if (g.values.empty()) return Value();
  Args a{g.values.data(), g.values.size(), g.fn};
  std::vector<Value>& xs = g.values;
  const size_t mid = xs.size() / 2;
  std::nth_element(xs.begin(), xs.begin() + mid, xs.end(), ValueLess());
  const Value upper = xs[mid];
  if (xs.size() % 2 == 1) {
    return IsNumber(upper) ? Value::Double(ToDouble(ToNum(upper, a))) : upper;
  }
  const Value lower = *std::max_element(xs.begin(), xs.begin() + mid, ValueLess());
  long double sum = 0;
  if (lower.is_long() && upper.is_long()) {  // exact: the sum of two longs may overflow a long
    sum = static_cast<long double>(static_cast<Int128>(lower.as_long()) + upper.as_long());
  } else {
    sum = static_cast<long double>(ToDouble(ToNum(lower, a))) + ToDouble(ToNum(upper, a));
  }
  return Value::Double(static_cast<double>(sum / 2));
}

template <bool kGreatest>
Value AggMaxMin(const AggArgs& g) {
  if (g.nparams == 0) return Extreme(g.values, kGreatest);
  return NExtremes(std::move(g.values), CountParam(g.AsArgs(), 0), kGreatest);
}

Value AggDistinct(const AggArgs& g) { return Value::Set(std::move(g.values)); }

// (rand ?x): one value picked at random; (rand n ?x): n picks, with repetition.
Value AggRand(const AggArgs& g) {
  if (g.nparams == 0) return g.values.empty() ? Value() : g.values[UniformIndex(g.values.size())];
  size_t n = CountParam(g.AsArgs(), 0);
  std::vector<Value> picks;
  if (g.values.empty()) return Value::Vector({});
  for (size_t i = 0; i < n; ++i) picks.push_back(g.values[UniformIndex(g.values.size())]);
  return Value::Vector(std::move(picks));
}

// (sample n ?x): up to n values drawn without repetition (of positions), in random order.
Value AggSample(const AggArgs& g) {
  size_t n = std::min(CountParam(g.AsArgs(), 0), g.values.size());
  std::vector<Value>& xs = g.values;
  for (size_t i = 0; i < n; ++i) {
    std::swap(xs[i], xs[i + UniformIndex(xs.size() - i)]);
  }
  xs.resize(n);
  return Value::Vector(std::move(xs));
}

using AggImpl = Value (*)(const AggArgs&);

struct Aggregate {
  const char* name;
  uint8_t min_params;
  uint8_t max_params;
  AggImpl impl;
};

constexpr Aggregate kAggregates[] = {
    {"count", 0, 0, AggCount},      {"count-distinct", 0, 0, AggCountDistinct},
    {"sum", 0, 0, AggSum},          {"avg", 0, 0, AggAvg},
    {"median", 0, 0, AggMedian},    {"variance", 0, 0, AggVariance},
    {"stddev", 0, 0, AggStddev},    {"min", 0, 1, AggMaxMin<false>},
    {"max", 0, 1, AggMaxMin<true>}, {"distinct", 0, 0, AggDistinct},
    {"rand", 0, 1, AggRand},        {"sample", 1, 1, AggSample},
};

template <size_t I>
Value CallAggregate(const Value* params, size_t nparams, std::vector<Value>& values) {
  const Aggregate& g = kAggregates[I];
  if (nparams < g.min_params || nparams > g.max_params) {
    Fail(g.name, Failure::kInvalidArgument,
         std::string("aggregate ") + g.name + " takes " +
             (g.min_params == g.max_params
                  ? std::to_string(g.min_params)
                  : std::to_string(g.min_params) + " or " + std::to_string(g.max_params)) +
             " leading parameter" + (g.max_params == 1 ? "" : "s") + ", got " +
             std::to_string(nparams));
  }
  return g.impl(AggArgs{params, nparams, values, g.name});
}

template <size_t... I>
constexpr std::array<AggregateFn, sizeof...(I)> AggregateCalls(std::index_sequence<I...>) {
  return {&CallAggregate<I>...};
}

constexpr auto kAggregateCalls = AggregateCalls(std::make_index_sequence<std::size(kAggregates)>());

}  // namespace

BuiltinFn FindBuiltin(std::string_view name) {
  static const auto* index = [] {
    auto* m = new std::unordered_map<std::string, BuiltinFn>();
    for (size_t i = 0; i < std::size(kBuiltins); ++i) {
      m->emplace(kBuiltins[i].name, kBuiltinCalls[i]);
      if (kBuiltins[i].scope == Scope::kCore) {
        m->emplace(std::string("clojure.core/") + kBuiltins[i].name, kBuiltinCalls[i]);
      }
    }
    return m;
  }();
  auto it = index->find(std::string(name));
  return it == index->end() ? nullptr : it->second;
}

AggregateFn FindAggregate(std::string_view name) {
  for (size_t i = 0; i < std::size(kAggregates); ++i) {
    if (name == kAggregates[i].name) return kAggregateCalls[i];
  }
  return nullptr;
}

}  // namespace datahike::query
