// EDN reader and printer; the contract is in edn.h, the details of the accepted syntax in README.md.
//
// The reader is a hand-written parser over the input string_view, iterative over an explicit stack of
// open forms, so nesting (limited to kMaxDepth levels) never consumes native stack. It allocates only
// the values it builds plus reused buffers; line and column are computed only when an error is
// reported. Requires GCC or Clang (__int128, __attribute__).
#include "core/value/edn.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/value/error.h"
#include "core/value/text_internal.h"

namespace datahike::edn {
namespace {

// Maximum nesting of collections, tagged values, quotes and discards.
constexpr int kMaxDepth = 10000;
// Maximum number of digits of a hex or radix integer that needs a bigint (the conversion to decimal
// is quadratic).
constexpr size_t kMaxRadixDigits = 4096;

// ---------------------------------------------------------------------------------------------------
// Character classes.

enum : uint8_t {
  kWs = 1,        // whitespace (commas included)
  kTerm = 2,      // ends a token: whitespace and the delimiters " ; ( ) [ ] { } \ ^ ` ~ @
  kSym = 4,       // may appear inside a symbol or keyword
  kDigit = 8,
  kPlain = 16,    // a constituent that needs no special check in a name: not / : # '
  kNameOk = 32,   // kPlain or '/'
};

constexpr std::array<uint8_t, 256> MakeClassTable() {
  std::array<uint8_t, 256> t{};
  for (char c : {' ', '\t', '\n', '\r', '\f', '\v', ','}) t[static_cast<uint8_t>(c)] |= kWs | kTerm;
  for (char c : {'"', ';', '(', ')', '[', ']', '{', '}', '\\', '^', '`', '~', '@'}) {
    t[static_cast<uint8_t>(c)] |= kTerm;
  }
  for (int c = '0'; c <= '9'; ++c) t[c] |= kDigit | kSym;
  for (int c = 'a'; c <= 'z'; ++c) t[c] |= kSym;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] |= kSym;
  for (char c : {'.', '*', '+', '!', '-', '_', '?', '$', '%', '&', '=', '<', '>', '/', ':', '#',
                 '\''}) {
    t[static_cast<uint8_t>(c)] |= kSym;
  }
  for (int c = 0x80; c < 0x100; ++c) t[c] |= kSym;  // UTF-8 text in names
  for (int c = 0; c < 0x100; ++c) {
    if ((t[c] & kSym) && c != '/' && c != ':' && c != '#' && c != '\'') t[c] |= kPlain | kNameOk;
  }
  t['/'] |= kNameOk;
  return t;
}
constexpr std::array<uint8_t, 256> kClass = MakeClassTable();

inline bool IsWs(char c) { return kClass[static_cast<uint8_t>(c)] & kWs; }
inline bool IsTerm(char c) { return kClass[static_cast<uint8_t>(c)] & kTerm; }
inline bool IsSym(char c) { return kClass[static_cast<uint8_t>(c)] & kSym; }
inline bool IsDigit(char c) { return kClass[static_cast<uint8_t>(c)] & kDigit; }

using text_internal::AppendUtf8;
using text_internal::DecodeUtf8;
using text_internal::HexValue;
using text_internal::InternCached;
using text_internal::NamedCache;
using text_internal::OutOfRangeDouble;

// Value of an alphanumeric digit in radix up to 36, or -1.
inline int DigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'z') return c - 'a' + 10;
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  return -1;
}

// ---------------------------------------------------------------------------------------------------
// Calendar arithmetic (proleptic Gregorian, H. Hinnant's algorithms).

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned DaysInMonth(int64_t y, unsigned m) {
  static constexpr unsigned kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Parses an RFC 3339 timestamp as Clojure's #inst reader does: yyyy[-MM[-dd[Thh[:mm[:ss[.f+]]]]]]
// then optionally Z or +hh:mm / -hh:mm. As an extension the year may carry a sign and more than four
// digits (the printer writes such years for instants outside 0000-9999). Fractions beyond
// milliseconds are truncated. Returns nullptr and sets *millis, or returns a description of the error.
const char* ParseInstant(std::string_view s, int64_t* millis) {
  size_t i = 0;
  const size_t n = s.size();
  auto digits = [&](size_t count, int64_t* out) {
    if (n - i < count) return false;
    int64_t v = 0;
    for (size_t k = 0; k < count; ++k) {
      if (!IsDigit(s[i + k])) return false;
      v = v * 10 + (s[i + k] - '0');
    }
    i += count;
    *out = v;
    return true;
  };
  bool neg_year = false;
  if (i < n && (s[i] == '+' || s[i] == '-')) neg_year = s[i++] == '-';
  size_t year_digits = 0;
  while (i + year_digits < n && IsDigit(s[i + year_digits])) ++year_digits;
  if (year_digits < 4) return "the year must have at least four digits";
  if (year_digits > 9) return "the year is out of range";
  int64_t year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0, ms = 0;
  digits(year_digits, &year);
  if (neg_year) year = -year;
  if (i < n && s[i] == '-') {
    ++i;
    if (!digits(2, &month) || month < 1 || month > 12) return "invalid month";
    if (i < n && s[i] == '-') {
      ++i;
      if (!digits(2, &day) || day < 1 || day > DaysInMonth(year, static_cast<unsigned>(month))) {
        return "invalid day";
      }
      if (i < n && (s[i] == 'T' || s[i] == 't')) {
        ++i;
        if (!digits(2, &hour) || hour > 23) return "invalid hour";
        if (i < n && s[i] == ':') {
          ++i;
          if (!digits(2, &minute) || minute > 59) return "invalid minute";
          if (i < n && s[i] == ':') {
            ++i;
            if (!digits(2, &second) || second > (minute == 59 ? 60 : 59)) return "invalid second";
            if (i < n && s[i] == '.') {
              ++i;
              size_t f = 0;
              while (i < n && IsDigit(s[i])) {
                if (f < 3) ms = ms * 10 + (s[i] - '0');
                ++f;
                ++i;
              }
              if (f == 0) return "missing digits after '.'";
              for (; f < 3; ++f) ms *= 10;
            }
          }
        }
      }
    }
  }
  int64_t offset_minutes = 0;
  if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < n && (s[i] == '+' || s[i] == '-')) {
    const bool neg = s[i++] == '-';
    int64_t oh, om;
    if (!digits(2, &oh) || oh > 23 || i >= n || s[i++] != ':' || !digits(2, &om) || om > 59) {
      return "invalid UTC offset (expected +hh:mm or -hh:mm)";
    }
    offset_minutes = (neg ? -1 : 1) * (oh * 60 + om);
  }
  if (i != n) return "unexpected characters in timestamp";
  const int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const int64_t in_day = ((hour * 60 + minute - offset_minutes) * 60 + second) * 1000 + ms;
  // 128-bit so that instants near the int64 limits (whose day starts lie outside them) still fit.
  const __int128 result = static_cast<__int128>(days) * 86400000 + in_day;
  if (result < std::numeric_limits<int64_t>::min() || result > std::numeric_limits<int64_t>::max()) {
    return "instant out of range";
  }
  *millis = static_cast<int64_t>(result);
  return nullptr;
}

// ---------------------------------------------------------------------------------------------------
// Base64 (RFC 4648, standard alphabet), used for #bytes.

constexpr char kBase64Chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void AppendBase64(std::string_view raw, std::string& out) {
  const auto* p = reinterpret_cast<const uint8_t*>(raw.data());
  size_t n = raw.size();
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    const char quad[4] = {kBase64Chars[v >> 18], kBase64Chars[(v >> 12) & 63],
                          kBase64Chars[(v >> 6) & 63], kBase64Chars[v & 63]};
    out.append(quad, 4);
  }
  if (n - i == 1) {
    const uint32_t v = uint32_t{p[i]} << 16;
    const char quad[4] = {kBase64Chars[v >> 18], kBase64Chars[(v >> 12) & 63], '=', '='};
    out.append(quad, 4);
  } else if (n - i == 2) {
    const uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8);
    const char quad[4] = {kBase64Chars[v >> 18], kBase64Chars[(v >> 12) & 63],
                          kBase64Chars[(v >> 6) & 63], '='};
    out.append(quad, 4);
  }
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Decodes standard base64; padding is optional. Returns false on malformed input.
bool DecodeBase64(std::string_view s, std::string* out) {
  size_t pad = 0;
  while (pad < 2 && !s.empty() && s.back() == '=') {
    s.remove_suffix(1);
    ++pad;
  }
  if (pad > 0 && (s.size() + pad) % 4 != 0) return false;
  if (s.size() % 4 == 1) return false;
  out->clear();
  out->reserve(s.size() / 4 * 3 + 2);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    const int v = Base64Value(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------
// UUID text.

bool ParseUuid(std::string_view s, Uuid* u) {
  if (s.size() != 36) return false;
  size_t j = 0;
  for (size_t i = 0; i < 36;) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
      ++i;
      continue;
    }
    const int hi = HexValue(s[i]);
    const int lo = HexValue(s[i + 1]);
    if (hi < 0 || lo < 0) return false;
    u->bytes[j++] = static_cast<uint8_t>(hi << 4 | lo);
    i += 2;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------
// Integers in any radix: returns a long when the value fits (and !force_big), else a bigint.
// `digits` are valid digits of `radix`.

Value RadixInteger(bool neg, std::string_view digits, unsigned radix, bool force_big) {
  uint64_t v = 0;
  bool overflow = false;
  for (char c : digits) {
    const auto d = static_cast<uint64_t>(DigitValue(c));
    if (v > (std::numeric_limits<uint64_t>::max() - d) / radix) {
      overflow = true;
      break;
    }
    v = v * radix + d;
  }
  if (!overflow && !force_big) {
    constexpr uint64_t kMaxPos = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    if (!neg && v <= kMaxPos) return Value::Long(static_cast<int64_t>(v));
    if (neg && v <= kMaxPos + 1) return Value::Long(static_cast<int64_t>(0 - v));
  }
  std::string dec;
  if (neg) dec.push_back('-');
  if (!overflow) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    dec.append(buf, r.ptr);
  } else {
    // Schoolbook conversion to base 1e9 limbs (little endian).
    std::vector<uint32_t> limbs;
    for (char c : digits) {
      uint64_t carry = static_cast<uint64_t>(DigitValue(c));
      for (uint32_t& limb : limbs) {
        const uint64_t cur = uint64_t{limb} * radix + carry;
        limb = static_cast<uint32_t>(cur % 1000000000u);
        carry = cur / 1000000000u;
      }
      while (carry != 0) {
        limbs.push_back(static_cast<uint32_t>(carry % 1000000000u));
        carry /= 1000000000u;
      }
    }
    if (limbs.empty()) limbs.push_back(0);
    char buf[16];
    auto r = std::to_chars(buf, buf + sizeof buf, limbs.back());
    dec.append(buf, r.ptr);
    for (size_t i = limbs.size() - 1; i-- > 0;) {
      r = std::to_chars(buf, buf + sizeof buf, limbs[i]);
      dec.append(9 - static_cast<size_t>(r.ptr - buf), '0');
      dec.append(buf, r.ptr);
    }
  }
  return Value::BigInt(dec);
}

// ---------------------------------------------------------------------------------------------------
// The reader.

class Reader {
 public:
  explicit Reader(std::string_view text)
      : begin_(text.data()), p_(text.data()), end_(text.data() + text.size()),
        cache_(text_internal::ThisThreadNamedCache()) {}

  // Reads the next complete top-level form into *out; false at the end of the input. The parse is
  // iterative: open collections, #_, ' and tags are frames on an explicit stack, so hostile nesting
  // costs heap (bounded by kMaxDepth), never native stack.
  bool Next(Value* out) {
    for (;;) {
      SkipWs();
      if (p_ == end_) {
        if (top_ == Frame::kNone) return false;
        FailOpenAtEnd();
      }
      const char c = *p_;
      if (c == '#' && p_ + 1 < end_ && p_[1] == '_') {
        Push(Frame::kDiscard, p_);
        p_ += 2;
        continue;
      }
      if (top_ == Frame::kNone) form_start_ = p_;
      if (top_ >= Frame::kInst && c != '"') FailTagNotString();
      switch (c) {
        case '(':
          Push(Frame::kList, p_++);
          continue;
        case '[':
          Push(Frame::kVector, p_++);
          continue;
        case '{':
          Push(Frame::kMap, p_++);
          continue;
        case ')':
        case ']':
        case '}':
          if (Deliver(Close(c), out)) return true;
          continue;
        case '"':
          if (Deliver(ReadString(), out)) return true;
          continue;
        case '\\':
          if (Deliver(ReadChar(), out)) return true;
          continue;
        case '\'':
          Push(Frame::kQuote, p_++);
          continue;
        case '#':
          if (p_ + 1 < end_ && p_[1] == '{') {
            Push(Frame::kSet, p_);
            p_ += 2;
            continue;
          }
          if (p_ + 1 < end_ && p_[1] == '#') {
            if (Deliver(ReadSymbolic(), out)) return true;
            continue;
          }
          ReadTag();  // pushes the tag's frame
          continue;
        case '^':
        case '`':
        case '~':
        case '@':
          Fail(p_, std::string("unsupported reader macro '") + c + "'");
        default:
          if (Deliver(ReadToken(), out)) return true;
          continue;
      }
    }
  }

  // Position where the last top-level form started (after whitespace and discards).
  const char* form_start() const { return form_start_; }
  const char* pos() const { return p_; }

  [[noreturn]] void Fail(const char* at, std::string_view what) const {
    std::string msg = "EDN parse error at " + Where(at) + ": ";
    msg += what;
    throw Error(ErrorKind::kParse, std::move(msg));
  }

  // "line L, column C" of a position (1-based; columns count code points).
  std::string Where(const char* at) const { return text_internal::LineColumn(begin_, at); }

 private:
  struct Frame {
    // kNone: no open frame. Then collections, the one-form wrappers, and tags last (>= kInst).
    enum Kind : uint8_t { kNone, kList, kVector, kSet, kMap, kDiscard, kQuote, kInst, kUuid, kBytes };
    Kind kind;
    const char* open;  // where it started, for messages
    size_t base;       // items_.size() when it opened (collections)
  };
  static bool IsCollection(Frame::Kind k) { return k >= Frame::kList && k <= Frame::kMap; }

  // Gives a finished form to the innermost open frame; true when it completes a top-level form,
  // which is then in *out.
  bool Deliver(Value&& v, Value* out) {
    if (IsCollection(top_)) {
      items_.push_back(std::move(v));
      return false;
    }
    return DeliverSlow(std::move(v), out);
  }

  // Top level, or a discard, quote or tag frame (each completes with this one form).
  __attribute__((noinline)) bool DeliverSlow(Value&& v, Value* out) {
    Value cur = std::move(v);
    for (;;) {
      if (top_ == Frame::kNone) {
        *out = std::move(cur);
        return true;
      }
      if (IsCollection(top_)) {
        items_.push_back(std::move(cur));
        return false;
      }
      const Frame::Kind kind = top_;
      Pop();
      if (kind == Frame::kDiscard) return false;
      cur = kind == Frame::kQuote ? Quote(std::move(cur)) : ConvertTag(kind, cur);
    }
  }

  // Skips whitespace, commas and comments.
  void SkipWs() {
    while (p_ < end_) {
      const char c = *p_;
      if (IsWs(c)) {
        ++p_;
      } else if (c == ';') {
        const void* nl = std::memchr(p_, '\n', static_cast<size_t>(end_ - p_));
        p_ = nl ? static_cast<const char*>(nl) + 1 : end_;
      } else {
        break;
      }
    }
  }

  void Push(Frame::Kind kind, const char* open) {
    if (frames_.size() >= static_cast<size_t>(kMaxDepth)) {
      Fail(open, "nesting deeper than " + std::to_string(kMaxDepth) + " levels");
    }
    frames_.push_back(Frame{kind, open, items_.size()});
    top_ = kind;
  }
  void Pop() {
    frames_.pop_back();
    top_ = frames_.empty() ? Frame::kNone : frames_.back().kind;
  }

  static const char* FrameName(Frame::Kind kind) {
    switch (kind) {
      case Frame::kList: return "list";
      case Frame::kVector: return "vector";
      case Frame::kSet: return "set";
      default: return "map";
    }
  }
  static char Closer(Frame::Kind kind) {
    return kind == Frame::kList ? ')' : kind == Frame::kVector ? ']' : '}';
  }
  static const char* TagName(Frame::Kind kind) {
    return kind == Frame::kInst ? "#inst" : kind == Frame::kUuid ? "#uuid" : "#bytes";
  }

  // A closing delimiter at p_: completes the innermost collection.
  Value Close(char c) {
    if (top_ == Frame::kNone) Fail(p_, std::string("unmatched delimiter '") + c + "'");
    const Frame f = frames_.back();
    if (f.kind == Frame::kDiscard) {
      Fail(p_, std::string("#_ must be followed by a form, found '") + c + "'");
    }
    if (f.kind == Frame::kQuote) {
      Fail(p_, std::string("' must be followed by a form, found '") + c + "'");
    }
    if (c != Closer(f.kind)) FailMismatch(f);
    const size_t n = items_.size() - f.base;
    if (f.kind == Frame::kMap && n % 2 != 0) {
      Fail(p_, "map literal must contain an even number of forms");
    }
    ++p_;
    Pop();
    const auto first = items_.begin() + static_cast<ptrdiff_t>(f.base);
    Value v;
    if (f.kind == Frame::kMap) {
      std::vector<std::pair<Value, Value>> entries;
      entries.reserve(n / 2);
      for (auto it = first; it != items_.end(); it += 2) {
        entries.emplace_back(std::move(it[0]), std::move(it[1]));
      }
      v = Value::Map(std::move(entries));
    } else {
      // One exactly sized vector per collection; the shared stack keeps its capacity.
      std::vector<Value> items(std::make_move_iterator(first), std::make_move_iterator(items_.end()));
      v = f.kind == Frame::kList     ? Value::List(std::move(items))
          : f.kind == Frame::kVector ? Value::Vector(std::move(items))
                                     : Value::Set(std::move(items));
    }
    items_.erase(first, items_.end());
    return v;
  }

  static Value Quote(Value v) {
    std::vector<Value> items;
    items.reserve(2);
    items.push_back(Value::Symbol("quote"));
    items.push_back(std::move(v));
    return Value::List(std::move(items));
  }

  [[noreturn]] __attribute__((noinline)) void FailMismatch(const Frame& f) const {
    Fail(p_, std::string("mismatched delimiter: expected '") + Closer(f.kind) + "' to close the " +
                 FrameName(f.kind) + " opened at " + Where(f.open) + ", found '" + *p_ + "'");
  }

  [[noreturn]] __attribute__((noinline)) void FailOpenAtEnd() const {
    const Frame& f = frames_.back();
    switch (f.kind) {
      case Frame::kDiscard:
        Fail(p_, "end of input after #_ (expected the form to discard)");
      case Frame::kQuote:
        Fail(p_, "end of input after ' (expected a form to quote)");
      case Frame::kInst:
      case Frame::kUuid:
      case Frame::kBytes:
        Fail(p_, std::string("end of input after ") + TagName(f.kind) + " (expected a string)");
      default:
        Fail(p_, std::string("unterminated ") + FrameName(f.kind) + " (missing '" + Closer(f.kind) +
                     "' for the one opened at " + Where(f.open) + ")");
    }
  }

  [[noreturn]] __attribute__((noinline)) void FailTagNotString() const {
    Fail(p_, std::string(TagName(frames_.back().kind)) + " must be followed by a string");
  }

  // ------------------------------------------------------------------------------------------------
  // Strings.

  Value ReadString() {
    const char* open = string_at_ = p_;
    const char* q = ++p_;
    while (q < end_ && *q != '"' && *q != '\\') ++q;
    if (q < end_ && *q == '"') {
      Value v = Value::String(std::string_view(p_, static_cast<size_t>(q - p_)));
      p_ = q + 1;
      return v;
    }
    return ReadEscapedString(open, q);
  }

  __attribute__((noinline)) Value ReadEscapedString(const char* open, const char* q) {
    scratch_.assign(p_, q);
    p_ = q;
    for (;;) {
      if (p_ == end_) Fail(p_, "unterminated string (opened at " + Where(open) + ")");
      const char c = *p_;
      if (c == '"') break;
      if (c != '\\') {
        const char* run = p_;
        while (p_ < end_ && *p_ != '"' && *p_ != '\\') ++p_;
        scratch_.append(run, p_);
        continue;
      }
      const char* esc = p_++;
      if (p_ == end_) Fail(p_, "unterminated string (opened at " + Where(open) + ")");
      const char e = *p_++;
      switch (e) {
        case 't': scratch_.push_back('\t'); break;
        case 'r': scratch_.push_back('\r'); break;
        case 'n': scratch_.push_back('\n'); break;
        case '\\': scratch_.push_back('\\'); break;
        case '"': scratch_.push_back('"'); break;
        case 'b': scratch_.push_back('\b'); break;
        case 'f': scratch_.push_back('\f'); break;
        case 'u': {
          uint32_t cp;
          const char* err_at;
          if (const char* why = text_internal::DecodeUnicodeEscape(esc, &p_, end_, &cp, &err_at)) {
            Fail(err_at, why);
          }
          AppendUtf8(cp, scratch_);
          break;
        }
        default:
          if (e >= '0' && e <= '7') {  // octal escape \N, \NN or \NNN up to \377 (Clojure)
            uint32_t v = static_cast<uint32_t>(e - '0');
            for (int k = 0; k < 2 && p_ < end_ && *p_ >= '0' && *p_ <= '7'; ++k) {
              v = v * 8 + static_cast<uint32_t>(*p_++ - '0');
            }
            if (v > 0377) Fail(esc, "octal escape out of range (maximum \\377)");
            AppendUtf8(v, scratch_);
            break;
          }
          Fail(esc, std::string("unsupported escape character '\\") + e + "' in string");
      }
    }
    ++p_;
    return Value::String(scratch_);
  }

  // ------------------------------------------------------------------------------------------------
  // Characters.

  Value ReadChar() {
    const char* start = p_++;
    if (p_ == end_) Fail(start, "end of input after '\\' (expected a character)");
    if (IsWs(*p_) && *p_ != ',') Fail(start, "a backslash must not be followed by whitespace");
    uint32_t cp;
    const int len = DecodeUtf8(p_, end_, &cp);
    if (len == 0) Fail(p_, "invalid UTF-8 in character literal");
    const char* tok = p_;
    const char* q = p_ + len;
    while (q < end_ && !IsTerm(*q)) ++q;
    p_ = q;
    if (q == tok + len) return Value::Char(cp);
    const std::string_view t(tok, static_cast<size_t>(q - tok));
    if (t == "newline") return Value::Char('\n');
    if (t == "space") return Value::Char(' ');
    if (t == "tab") return Value::Char('\t');
    if (t == "return") return Value::Char('\r');
    if (t == "backspace") return Value::Char('\b');
    if (t == "formfeed") return Value::Char('\f');
    if (t[0] == 'u' && t.size() == 5) {
      uint32_t v = 0;
      bool ok = true;
      for (size_t k = 1; k < 5; ++k) {
        const int h = HexValue(t[k]);
        ok = ok && h >= 0;
        v = v << 4 | static_cast<uint32_t>(h & 0xF);
      }
      if (ok) return Value::Char(v);
      Fail(start, "invalid unicode character \\" + std::string(t) + " (expected \\uXXXX)");
    }
    if (t[0] == 'o' && t.size() >= 2 && t.size() <= 4) {
      uint32_t v = 0;
      bool ok = true;
      for (size_t k = 1; k < t.size(); ++k) {
        ok = ok && t[k] >= '0' && t[k] <= '7';
        v = v * 8 + static_cast<uint32_t>(t[k] - '0');
      }
      if (ok && v <= 0377) return Value::Char(v);
      Fail(start, "invalid octal character \\" + std::string(t) + " (expected \\oNNN up to \\o377)");
    }
    Fail(start, "unsupported character \\" + std::string(t));
  }

  // ------------------------------------------------------------------------------------------------
  // Dispatch: ##Inf/##-Inf/##NaN and tags (#{ and #_ are handled in Next).

  __attribute__((noinline)) Value ReadSymbolic() {
    const char* hash = p_;
    const char* q = p_ + 2;
    while (q < end_ && !IsTerm(*q)) ++q;
    const std::string_view t(p_ + 2, static_cast<size_t>(q - p_ - 2));
    p_ = q;
    if (t == "Inf") return Value::Double(std::numeric_limits<double>::infinity());
    if (t == "-Inf") return Value::Double(-std::numeric_limits<double>::infinity());
    if (t == "NaN") return Value::Double(std::numeric_limits<double>::quiet_NaN());
    Fail(hash, "unknown symbolic value ##" + std::string(t) + " (expected ##Inf, ##-Inf or ##NaN)");
  }

  // p_ is at '#' followed by neither '{', '_' nor '#': reads the tag name and opens its frame.
  __attribute__((noinline)) void ReadTag() {
    const char* hash = p_;
    if (p_ + 1 == end_) Fail(hash, "end of input after '#'");
    const char c = p_[1];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
      if (IsTerm(c)) Fail(hash, std::string("unsupported dispatch '#") + c + "'");
      Fail(hash, std::string("unsupported dispatch '#") + c +
                     "' (namespaced maps, regexes, reader conditionals and var quotes are not EDN)");
    }
    const char* q = p_ + 1;
    while (q < end_ && !IsTerm(*q)) ++q;
    const std::string_view tag(p_ + 1, static_cast<size_t>(q - p_ - 1));
    Frame::Kind kind;
    if (tag == "inst") {
      kind = Frame::kInst;
    } else if (tag == "uuid") {
      kind = Frame::kUuid;
    } else if (tag == "bytes") {
      kind = Frame::kBytes;
    } else {
      Fail(hash, "unknown tag #" + std::string(tag) + " (supported: #inst, #uuid, #bytes)");
    }
    Push(kind, hash);
    p_ = q;
  }

  // Converts the string that followed a tag; it started at string_at_.
  __attribute__((noinline)) Value ConvertTag(Frame::Kind kind, const Value& s) const {
    const std::string_view text = s.as_string();
    switch (kind) {
      case Frame::kInst: {
        int64_t millis;
        if (const char* why = ParseInstant(text, &millis)) {
          Fail(string_at_, "invalid #inst \"" + std::string(text) + "\": " + why);
        }
        return Value::Instant(millis);
      }
      case Frame::kUuid: {
        Uuid u;
        if (!ParseUuid(text, &u)) {
          Fail(string_at_, "invalid #uuid \"" + std::string(text) +
                               "\" (expected 8-4-4-4-12 hexadecimal digits)");
        }
        return Value::MakeUuid(u);
      }
      default: {
        std::string raw;
        if (!DecodeBase64(text, &raw)) Fail(string_at_, "invalid base64 in #bytes");
        return Value::Bytes(raw);
      }
    }
  }

  // ------------------------------------------------------------------------------------------------
  // Tokens: numbers, symbols, keywords, nil, true, false.

  Value ReadToken() {
    // One pass finds the end of the token and whether it is a plain name (only kNameOk bytes, at
    // most one '/'), for which the full CheckName is not needed.
    const char* start = p_;
    const bool keyword = *start == ':';
    const char* body = keyword ? start + 1 : start;
    const char* q = body;
    const char* slash = nullptr;
    int slashes = 0;
    uint8_t all = kNameOk;
    while (q < end_) {
      const uint8_t cls = kClass[static_cast<uint8_t>(*q)];
      if (cls & kTerm) break;
      all &= cls;
      if (*q == '/') {
        slash = q;
        ++slashes;
      }
      ++q;
    }
    p_ = q;
    const std::string_view name(body, static_cast<size_t>(q - body));
    const bool plain = (all & kNameOk) && slashes <= 1;
    if (keyword) {
      if (name.empty()) Fail(start, "a keyword must have a name after ':'");
      if (name[0] == ':') Fail(start, "auto-resolved keywords (::) are not supported in EDN");
      if (!plain || !PartsOk(name, slash, true)) CheckName(name, start, true);
      return Value::Keyword(InternCached(cache_, name, true));
    }
    const std::string_view t = name;
    const char c0 = t[0];
    if (IsDigit(c0) || ((c0 == '-' || c0 == '+') && t.size() > 1 && IsDigit(t[1]))) {
      return ReadNumber(t);
    }
    switch (t.size()) {
      case 3:
        if (t == "nil") return Value();
        break;
      case 4:
        if (t == "true") return Value::Bool(true);
        break;
      case 5:
        if (t == "false") return Value::Bool(false);
        break;
      default:
        break;
    }
    if (!plain || !PartsOk(t, slash, false)) CheckName(t, start, false);
    return Value::Keyword(InternCached(cache_, t, false));  // Keyword(const Named*) builds symbols too
  }

  // For a plain name with its '/' at `slash` (or none): true when the namespace and name are
  // non-empty and do not start like a number (a digit, for symbols; '.', '+' or '-' then a digit).
  static bool PartsOk(std::string_view t, const char* slash, bool keyword) {
    auto part_ok = [keyword](const char* b, const char* e) {
      if (b == e) return false;
      if (!keyword && IsDigit(*b)) return false;
      return !((*b == '.' || *b == '+' || *b == '-') && b + 1 < e && IsDigit(b[1]));
    };
    const char* b = t.data();
    const char* e = b + t.size();
    if (slash == nullptr) return part_ok(b, e);
    return part_ok(b, slash) && part_ok(slash + 1, e);
  }

  // Validates the text of a symbol or keyword (without ':'): constituent characters only, at most one
  // '/' separating a non-empty namespace and name ("/" alone is the division symbol), no part starting
  // with a digit (symbols only), with '.', '+' or '-' followed by a digit, or with '#', ':' or '\'';
  // no part ending with ':' and no "::".
  void CheckName(std::string_view t, const char* at, bool keyword) const {
    size_t slash = std::string_view::npos;
    for (size_t i = 0; i < t.size(); ++i) {
      const char c = t[i];
      if (!IsSym(c)) {
        std::string what = "invalid character ";
        if (static_cast<uint8_t>(c) < 0x20 || c == 0x7f) {
          what += "(code " + std::to_string(static_cast<int>(c)) + ")";
        } else {
          what += std::string("'") + c + "'";
        }
        Fail(at, what + " in " + (keyword ? "keyword" : "symbol") + " '" + std::string(t) + "'");
      }
      if (c == '/') {
        if (t.size() == 1 && !keyword) return;  // the symbol `/`
        if (slash != std::string_view::npos) {
          Fail(at, std::string("more than one '/' in ") + (keyword ? "keyword" : "symbol") + " '" +
                       std::string(t) + "'");
        }
        slash = i;
      }
    }
    auto bad = [&](std::string_view why) {
      Fail(at, std::string("invalid ") + (keyword ? "keyword ':" : "symbol '") + std::string(t) +
                   "': " + std::string(why));
    };
    auto check_part = [&](std::string_view part) {
      if (part.empty()) bad("empty namespace or name around '/'");
      const char c0 = part[0];
      if (IsDigit(c0) && !keyword) bad("a symbol cannot start with a digit");
      if ((c0 == '.' || c0 == '+' || c0 == '-') && part.size() > 1 && IsDigit(part[1])) {
        bad("'.', '+' or '-' cannot be followed by a digit at the start");
      }
      if (c0 == '#' || c0 == '\'' || c0 == ':') {
        bad("cannot start with '#', ':' or '''");
      }
      if (part.back() == ':') bad("cannot end with ':'");
    };
    if (t.find("::") != std::string_view::npos) bad("contains '::'");
    if (slash == std::string_view::npos) {
      check_part(t);
    } else {
      check_part(t.substr(0, slash));
      check_part(t.substr(slash + 1));
    }
  }

  // Integers: [+-]digits[N], [+-]0x hex[N], [+-]RRr digits;
  // floats: [+-]digits[.digits][e[+-]digits][M].
  Value ReadNumber(std::string_view t) {
    const char* s = t.data();
    const char* e = s + t.size();
    bool neg = false;
    if (*s == '+' || *s == '-') neg = *s++ == '-';
    // Fast path: plain decimal integers of up to 18 digits.
    const char* d = s;
    uint64_t v = 0;
    while (d < e && IsDigit(*d)) v = v * 10 + static_cast<uint64_t>(*d++ - '0');
    const size_t ndigits = static_cast<size_t>(d - s);
    if (d == e) {
      if (ndigits > 1 && *s == '0') FailNumber(t, "leading zeros are not allowed");
      if (ndigits <= 18) return Value::Long(neg ? -static_cast<int64_t>(v) : static_cast<int64_t>(v));
      return BigDecimalInteger(neg, std::string_view(s, ndigits), false);
    }
    const char c = *d;
    if (c == 'N' && d + 1 == e) {
      if (ndigits > 1 && *s == '0') FailNumber(t, "leading zeros are not allowed");
      return BigDecimalInteger(neg, std::string_view(s, ndigits), true);
    }
    if (c == '.' || c == 'e' || c == 'E' || c == 'M') return ReadFloat(t, neg, s, d, e);
    if ((c == 'x' || c == 'X') && ndigits == 1 && *s == '0') {
      std::string_view hex(d + 1, static_cast<size_t>(e - d - 1));
      bool big = false;
      if (!hex.empty() && hex.back() == 'N') {
        big = true;
        hex.remove_suffix(1);
      }
      if (hex.empty()) FailNumber(t, "no digits after 0x");
      for (char h : hex) {
        if (HexValue(h) < 0) FailNumber(t, "invalid hexadecimal digit");
      }
      if (hex.size() > kMaxRadixDigits) FailNumber(t, "too many digits");
      return RadixInteger(neg, hex, 16, big);
    }
    if ((c == 'r' || c == 'R') && (ndigits == 1 || ndigits == 2)) {
      const auto radix = static_cast<unsigned>(v);
      if (radix < 2 || radix > 36) FailNumber(t, "radix must be between 2 and 36");
      const std::string_view digits(d + 1, static_cast<size_t>(e - d - 1));
      if (digits.empty()) FailNumber(t, "no digits after the radix");
      for (char h : digits) {
        const int dv = DigitValue(h);
        if (dv < 0 || static_cast<unsigned>(dv) >= radix) FailNumber(t, "invalid digit for the radix");
      }
      if (digits.size() > kMaxRadixDigits) FailNumber(t, "too many digits");
      return RadixInteger(neg, digits, radix, false);
    }
    if (c == '/') FailNumber(t, "ratios are not supported");
    FailNumber(t, "unexpected character '" + std::string(1, c) + "'");
  }

  [[noreturn]] __attribute__((noinline)) void FailNumber(std::string_view t,
                                                         std::string_view why) const {
    Fail(t.data(), "invalid number '" + std::string(t) + "': " + std::string(why));
  }

  // A decimal integer of 19 or more digits (or any, with `big`): long if it fits unless big.
  __attribute__((noinline)) Value BigDecimalInteger(bool neg, std::string_view digits, bool big) {
    const char* from = neg ? digits.data() - 1 : digits.data();  // include the '-' sign
    const std::string_view text(from, static_cast<size_t>(digits.data() + digits.size() - from));
    return big ? Value::BigInt(text) : text_internal::DecimalInteger(text);
  }

  // s: first digit (after the sign); d: first non-digit; e: token end.
  __attribute__((noinline)) Value ReadFloat(std::string_view t, bool neg, const char* s,
                                            const char* d, const char* e) {
    const char* q = d;
    const char* dot = nullptr;
    if (q < e && *q == '.') {
      dot = q++;
      while (q < e && IsDigit(*q)) ++q;
    }
    if (q < e && (*q == 'e' || *q == 'E')) {
      ++q;
      if (q < e && (*q == '+' || *q == '-')) ++q;
      const char* exp_digits = q;
      while (q < e && IsDigit(*q)) ++q;
      if (q == exp_digits) FailNumber(t, "missing exponent digits");
    }
    const char* num_end = q;
    bool bigdec = false;
    if (q < e && *q == 'M') {
      bigdec = true;
      ++q;
    }
    if (q != e) FailNumber(t, "unexpected character '" + std::string(1, *q) + "'");
    const char* from = neg ? s - 1 : s;
    std::string_view text(from, static_cast<size_t>(num_end - from));
    if (bigdec) {
      std::string fixed;
      if (dot != nullptr && (dot + 1 == num_end || !IsDigit(dot[1]))) {  // "1." or "1.e5": drop '.'
        fixed.assign(from, dot);
        fixed.append(dot + 1, num_end);
        text = fixed;
      }
      try {
        return Value::BigDec(text);
      } catch (const std::invalid_argument&) {
        FailNumber(t, "invalid decimal");
      }
    }
    double x;
    const auto r = std::from_chars(text.data(), text.data() + text.size(), x);
    if (r.ptr != text.data() + text.size()) FailNumber(t, "invalid floating point number");
    if (r.ec == std::errc::result_out_of_range) x = OutOfRangeDouble(text);
    return Value::Double(x);
  }

  const char* begin_;
  const char* p_;
  const char* end_;
  NamedCache* cache_;
  Frame::Kind top_ = Frame::kNone;    // kind of frames_.back()
  const char* form_start_ = nullptr;  // start of the current top-level form
  const char* string_at_ = nullptr;   // start of the last string read (for tag errors)
  std::vector<Frame> frames_;         // the open collections, discards, quotes and tags
  std::vector<Value> items_;          // elements of the open collections (maps: key, value, ...)
  std::string scratch_;               // text of strings with escapes
};

// ---------------------------------------------------------------------------------------------------
// The printer.

void AppendLong(int64_t n, std::string& out) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, r.ptr);
}

void AppendDouble(double d, std::string& out) {
  if (std::isnan(d)) {
    out += "##NaN";
    return;
  }
  if (std::isinf(d)) {
    out += d > 0 ? "##Inf" : "##-Inf";
    return;
  }
  text_internal::AppendFiniteDouble(d, out);
}

void AppendPadded(int64_t v, int width, std::string& out) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  for (int k = static_cast<int>(r.ptr - buf); k < width; ++k) out.push_back('0');
  out.append(buf, r.ptr);
}

// yyyy-mm-ddThh:mm:ss.SSS (UTC), then `zone`.
void AppendTimestamp(int64_t millis, std::string_view zone, std::string& out) {
  int64_t days = millis / 86400000;
  int64_t rem = millis % 86400000;
  if (rem < 0) {
    rem += 86400000;
    --days;
  }
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  if (y < 0) {
    out.push_back('-');
    AppendPadded(-y, 4, out);
  } else {
    AppendPadded(y, 4, out);
  }
  out.push_back('-');
  AppendPadded(m, 2, out);
  out.push_back('-');
  AppendPadded(d, 2, out);
  out.push_back('T');
  AppendPadded(rem / 3600000, 2, out);
  out.push_back(':');
  AppendPadded(rem / 60000 % 60, 2, out);
  out.push_back(':');
  AppendPadded(rem / 1000 % 60, 2, out);
  out.push_back('.');
  AppendPadded(rem % 1000, 3, out);
  out += zone;
}

void AppendUuidText(const Uuid& u, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[u.bytes[i] >> 4]);
    out.push_back(kHex[u.bytes[i] & 15]);
  }
}

void AppendU4(uint32_t cp, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  const char buf[6] = {'\\', 'u', kHex[(cp >> 12) & 15], kHex[(cp >> 8) & 15], kHex[(cp >> 4) & 15],
                       kHex[cp & 15]};
  out.append(buf, 6);
}

void AppendString(std::string_view s, std::string& out) {
  out.push_back('"');
  const char* run = s.data();
  const char* end = s.data() + s.size();
  for (const char* q = run; q < end; ++q) {
    const auto c = static_cast<uint8_t>(*q);
    if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f) continue;
    out.append(run, q);
    run = q + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default: AppendU4(c, out); break;
    }
  }
  out.append(run, end);
  out.push_back('"');
}

void AppendChar(uint32_t cp, std::string& out) {
  out.push_back('\\');
  switch (cp) {
    case '\n': out += "newline"; return;
    case ' ': out += "space"; return;
    case '\t': out += "tab"; return;
    case '\r': out += "return"; return;
    case '\b': out += "backspace"; return;
    case '\f': out += "formfeed"; return;
    default: break;
  }
  // Controls, surrogates and non-characters beyond Unicode as \uXXXX (the latter cannot round-trip);
  // everything else as its UTF-8 text.
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
    out.pop_back();  // AppendU4 writes the backslash itself
    AppendU4(cp, out);
  } else {
    AppendUtf8(cp, out);
  }
}

// Everything but collections; out of line so that the recursive PrintValue keeps a small stack
// frame (values nest as deep as the reader allows).
__attribute__((noinline)) void PrintScalar(const Value& v, std::string& out) {
  switch (v.type()) {
    case Type::kNil:
      out += "nil";
      return;
    case Type::kBool:
      out += v.as_bool() ? "true" : "false";
      return;
    case Type::kLong:
      AppendLong(v.as_long(), out);
      return;
    case Type::kBigInt:
      out += v.as_string();
      out.push_back('N');
      return;
    case Type::kFloat:  // prints like a double; reads back as a double of the same value
    case Type::kDouble:
      AppendDouble(v.as_double(), out);
      return;
    case Type::kBigDec:
      out += v.as_string();
      out.push_back('M');
      return;
    case Type::kInstant:
      out += "#inst \"";
      AppendTimestamp(v.as_instant(), "-00:00\"", out);
      return;
    case Type::kUuid:
      out += "#uuid \"";
      AppendUuidText(v.as_uuid(), out);
      out.push_back('"');
      return;
    case Type::kChar:
      AppendChar(v.as_char(), out);
      return;
    case Type::kString:
      AppendString(v.as_string(), out);
      return;
    case Type::kKeyword:
      out.push_back(':');
      out += v.as_named()->full;
      return;
    case Type::kSymbol:
      out += v.as_named()->full;
      return;
    case Type::kBytes:
      out += "#bytes \"";
      AppendBase64(v.as_string(), out);
      out.push_back('"');
      return;
    default:
      return;
  }
}

void PrintValue(const Value& v, std::string& out) {
  switch (v.type()) {
    case Type::kList:
    case Type::kVector:
    case Type::kSet: {
      const Type t = v.type();
      out += t == Type::kList ? "(" : t == Type::kVector ? "[" : "#{";
      bool first = true;
      for (const Value& item : v.items()) {
        if (!first) out.push_back(' ');
        first = false;
        PrintValue(item, out);
      }
      out.push_back(t == Type::kList ? ')' : t == Type::kVector ? ']' : '}');
      return;
    }
    case Type::kMap: {
      out.push_back('{');
      bool first = true;
      for (const auto& [k, val] : v.entries()) {
        if (!first) out += ", ";
        first = false;
        PrintValue(k, out);
        out.push_back(' ');
        PrintValue(val, out);
      }
      out.push_back('}');
      return;
    }
    default:
      PrintScalar(v, out);
      return;
  }
}

}  // namespace

Value Read(std::string_view text) {
  Reader r(text);
  Value v;
  if (!r.Next(&v)) r.Fail(r.pos(), "expected a value, found end of input");
  Value extra;
  if (r.Next(&extra)) r.Fail(r.form_start(), "unexpected trailing characters after the value");
  return v;
}

std::vector<Value> ReadAll(std::string_view text) {
  Reader r(text);
  std::vector<Value> out;
  Value v;
  while (r.Next(&v)) out.push_back(std::move(v));
  return out;
}

void Print(const Value& v, std::string& out) { PrintValue(v, out); }

std::string ToString(const Value& v) {
  std::string out;
  PrintValue(v, out);
  return out;
}

}  // namespace datahike::edn
