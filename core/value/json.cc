// JSON reader and printer with the C ABI's mapping; the contract is in json.h, details in README.md.
//
// The reader is a strict RFC 8259 parser over the input (any value at top level, only whitespace
// after it), iterative over an explicit stack of open arrays and objects, so nesting (limited to
// kMaxDepth levels) never consumes native stack. Line and column are computed only on error.
#include "core/value/json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/value/edn.h"
#include "core/value/error.h"
#include "core/value/text_internal.h"

namespace datahike::json {
namespace {

constexpr int kMaxDepth = 10000;

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }
inline bool IsJsonWs(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

using text_internal::AppendUtf8;
using text_internal::NamedCache;
using text_internal::OutOfRangeDouble;

// The interned keyword of `text`; `cache` is this thread's (looked up once per read).
inline const Named* InternKeywordCached(NamedCache* cache, std::string_view text) {
  return text_internal::InternCached(cache, text, true);
}

// Length of the well-formed UTF-8 sequence at [p, end), or 0 if malformed.
inline int Utf8Length(const char* p, const char* end) {
  uint32_t cp;
  return text_internal::DecodeUtf8(p, end, &cp);
}

// ---------------------------------------------------------------------------------------------------
// The reader.

class Reader {
 public:
  explicit Reader(std::string_view text)
      : begin_(text.data()), p_(text.data()), end_(text.data() + text.size()),
        cache_(text_internal::ThisThreadNamedCache()) {}

  void SkipWs() {
    while (p_ < end_ && IsJsonWs(*p_)) ++p_;
  }
  bool AtEnd() const { return p_ == end_; }
  const char* pos() const { return p_; }

  [[noreturn]] void Fail(const char* at, std::string_view what) const {
    std::string msg = "JSON parse error at " + Where(at) + ": ";
    msg += what;
    throw Error(ErrorKind::kParse, std::move(msg));
  }

  std::string Where(const char* at) const { return text_internal::LineColumn(begin_, at); }

  [[noreturn]] __attribute__((noinline)) void FailUnexpected(const char* expected) const {
    if (p_ == end_) Fail(p_, std::string("unexpected end of input, expected ") + expected);
    const auto c = static_cast<uint8_t>(*p_);
    std::string found;
    if (c >= 0x20 && c < 0x7f) {
      found = std::string("'") + static_cast<char>(c) + "'";
    } else {
      found = "byte " + std::to_string(c);
    }
    Fail(p_, "unexpected " + found + ", expected " + expected);
  }

  // Reads one complete value. The parse is iterative: open arrays and objects are frames on an
  // explicit stack, so hostile nesting costs heap (bounded by kMaxDepth), never native stack.
  Value ReadValue() {
    for (;;) {
      SkipWs();
      if (p_ == end_) FailUnexpected("a value");
      Value v;
      switch (*p_) {
        case '[':
          Push(false);
          SkipWs();
          if (p_ < end_ && *p_ == ']') {
            ++p_;
            v = CloseFrame();
            break;
          }
          continue;  // the first element
        case '{':
          Push(true);
          SkipWs();
          if (p_ < end_ && *p_ == '}') {
            ++p_;
            v = CloseFrame();
            break;
          }
          ReadKey();
          continue;  // the first member's value
        case '"':
          v = StringValue(ReadString());
          break;
        case 't':
          v = ReadLiteral("true", Value::Bool(true));
          break;
        case 'f':
          v = ReadLiteral("false", Value::Bool(false));
          break;
        case 'n':
          v = ReadLiteral("null", Value());
          break;
        default:
          if (*p_ != '-' && !IsDigit(*p_)) FailUnexpected("a value");
          v = ReadNumber();
          break;
      }
      // v is complete: add it to the innermost frame and close every frame that ends here.
      for (;;) {
        if (frames_.empty()) return v;
        items_.push_back(std::move(v));
        SkipWs();
        const Frame& f = frames_.back();
        if (p_ < end_ && *p_ == ',') {
          ++p_;
          if (f.object) ReadKey();
          break;  // the next element or member value
        }
        if (p_ < end_ && *p_ == (f.object ? '}' : ']')) {
          ++p_;
          v = CloseFrame();
          continue;
        }
        if (p_ == end_) {
          Fail(p_, std::string("unterminated ") + (f.object ? "object" : "array") + " (opened at " +
                       Where(f.open) + ")");
        }
        FailUnexpected(f.object ? "',' or '}'" : "',' or ']'");
      }
    }
  }

 private:
  struct Frame {
    bool object;       // else an array
    const char* open;  // where it started, for messages
    size_t base;       // items_.size() when it opened
  };

  // Opens an array or object at p_.
  void Push(bool object) {
    if (frames_.size() >= static_cast<size_t>(kMaxDepth)) {
      Fail(p_, "nesting deeper than " + std::to_string(kMaxDepth) + " levels");
    }
    frames_.push_back(Frame{object, p_, items_.size()});
    ++p_;
  }

  // Builds the innermost frame's vector or map (one exactly sized vector) and pops it.
  Value CloseFrame() {
    const Frame f = frames_.back();
    frames_.pop_back();
    const auto first = items_.begin() + static_cast<ptrdiff_t>(f.base);
    Value v;
    if (f.object) {
      std::vector<std::pair<Value, Value>> entries;
      entries.reserve((items_.size() - f.base) / 2);
      for (auto it = first; it != items_.end(); it += 2) {
        entries.emplace_back(std::move(it[0]), std::move(it[1]));
      }
      v = Value::Map(std::move(entries));
    } else {
      v = Value::Vector(
          std::vector<Value>(std::make_move_iterator(first), std::make_move_iterator(items_.end())));
    }
    items_.erase(first, items_.end());
    return v;
  }

  // Reads `"key" :` inside an object and pushes the key (a keyword) onto items_.
  void ReadKey() {
    SkipWs();
    if (p_ == end_) {
      Fail(p_, "unterminated object (opened at " + Where(frames_.back().open) + ")");
    }
    if (*p_ != '"') FailUnexpected("a string key");
    const char* key_at = p_;
    std::string_view key = ReadString();
    if (!key.empty() && key[0] == ':') key.remove_prefix(1);
    if (key.empty()) Fail(key_at, "an empty object key cannot be a keyword");
    items_.push_back(Value::Keyword(InternKeywordCached(cache_, key)));
    SkipWs();
    if (p_ == end_ || *p_ != ':') FailUnexpected("':' after the object key");
    ++p_;
  }

  Value ReadLiteral(std::string_view word, Value v) {
    if (static_cast<size_t>(end_ - p_) < word.size() ||
        std::memcmp(p_, word.data(), word.size()) != 0) {
      FailUnexpected("a value");
    }
    p_ += word.size();
    return v;
  }

  // The mapping of string values: ":x" is the keyword :x, "\:x" the string ":x", others strings.
  Value StringValue(std::string_view s) {
    if (s.size() > 1 && s[0] == ':') return Value::Keyword(InternKeywordCached(cache_, s.substr(1)));
    if (s.size() > 1 && s[0] == '\\' && s[1] == ':') return Value::String(s.substr(1));
    return Value::String(s);
  }

  // Reads a string; the result points into the input or into scratch_ (valid until the next call).
  std::string_view ReadString() {
    const char* open = p_;
    const char* q = ++p_;
    while (q < end_ && *q != '"' && *q != '\\' && static_cast<uint8_t>(*q) >= 0x20) ++q;
    if (q < end_ && *q == '"') {
      const std::string_view s(p_, static_cast<size_t>(q - p_));
      p_ = q + 1;
      return s;
    }
    return ReadEscapedString(open, q);
  }

  __attribute__((noinline)) std::string_view ReadEscapedString(const char* open, const char* q) {
    scratch_.assign(p_, q);
    p_ = q;
    for (;;) {
      if (p_ == end_) Fail(p_, "unterminated string (opened at " + Where(open) + ")");
      const char c = *p_;
      if (c == '"') break;
      if (static_cast<uint8_t>(c) < 0x20) {
        Fail(p_, "unescaped control character (code " + std::to_string(static_cast<int>(c)) +
                     ") in string");
      }
      if (c != '\\') {
        const char* run = p_;
        while (p_ < end_ && *p_ != '"' && *p_ != '\\' && static_cast<uint8_t>(*p_) >= 0x20) ++p_;
        scratch_.append(run, p_);
        continue;
      }
      const char* esc = p_++;
      if (p_ == end_) Fail(p_, "unterminated string (opened at " + Where(open) + ")");
      switch (*p_++) {
        case '"': scratch_.push_back('"'); break;
        case '\\': scratch_.push_back('\\'); break;
        case '/': scratch_.push_back('/'); break;
        case 'b': scratch_.push_back('\b'); break;
        case 'f': scratch_.push_back('\f'); break;
        case 'n': scratch_.push_back('\n'); break;
        case 'r': scratch_.push_back('\r'); break;
        case 't': scratch_.push_back('\t'); break;
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
          Fail(esc, "invalid escape in string");
      }
    }
    ++p_;
    return scratch_;
  }

  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  Value ReadNumber() {
    const char* start = p_;
    const char* q = p_;
    const bool neg = *q == '-';
    if (neg) ++q;
    if (q == end_ || !IsDigit(*q)) Fail(start, "invalid number: expected a digit");
    const char* int_start = q;
    uint64_t v = 0;
    if (*q == '0') {
      ++q;
      if (q < end_ && IsDigit(*q)) Fail(start, "invalid number: leading zeros are not allowed");
    } else {
      while (q < end_ && IsDigit(*q)) v = v * 10 + static_cast<uint64_t>(*q++ - '0');
    }
    const size_t ndigits = static_cast<size_t>(q - int_start);
    bool is_double = false;
    if (q < end_ && *q == '.') {
      ++q;
      if (q == end_ || !IsDigit(*q)) Fail(start, "invalid number: expected a digit after '.'");
      while (q < end_ && IsDigit(*q)) ++q;
      is_double = true;
    }
    if (q < end_ && (*q == 'e' || *q == 'E')) {
      ++q;
      if (q < end_ && (*q == '+' || *q == '-')) ++q;
      if (q == end_ || !IsDigit(*q)) Fail(start, "invalid number: expected exponent digits");
      while (q < end_ && IsDigit(*q)) ++q;
      is_double = true;
    }
    p_ = q;
    const std::string_view text(start, static_cast<size_t>(q - start));
    if (!is_double) {
      if (ndigits <= 18) return Value::Long(neg ? -static_cast<int64_t>(v) : static_cast<int64_t>(v));
      return text_internal::DecimalInteger(text);
    }
    double x;
    const auto r = std::from_chars(text.data(), text.data() + text.size(), x);
    if (r.ec == std::errc::result_out_of_range) x = OutOfRangeDouble(text);
    return Value::Double(x);
  }

  const char* begin_;
  const char* p_;
  const char* end_;
  NamedCache* cache_;
  std::vector<Frame> frames_;  // the open arrays and objects
  std::vector<Value> items_;   // their elements (objects: key, value, ...)
  std::string scratch_;        // text of strings with escapes
};

// ---------------------------------------------------------------------------------------------------
// The printer.

// Appends s as the body of a JSON string (no quotes): escapes '"', '\' and control characters, passes
// well-formed UTF-8 through and replaces malformed bytes with U+FFFD.
void AppendEscaped(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  const char* run = s.data();
  const char* end = s.data() + s.size();
  const char* q = run;
  while (q < end) {
    const auto c = static_cast<uint8_t>(*q);
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      ++q;
      continue;
    }
    if (c >= 0x80) {
      const int len = Utf8Length(q, end);
      if (len > 0) {
        q += len;
        continue;
      }
      out.append(run, q);
      out += "\xEF\xBF\xBD";  // U+FFFD
      run = ++q;
      continue;
    }
    out.append(run, q);
    run = ++q;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default: {
        const char buf[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        out.append(buf, 6);
      }
    }
  }
  out.append(run, end);
}

void AppendQuoted(std::string_view s, std::string& out) {
  out.push_back('"');
  AppendEscaped(s, out);
  out.push_back('"');
}

// A string value: one starting with ':' gets a leading backslash so it does not read as a keyword.
void AppendStringValue(std::string_view s, std::string& out) {
  out.push_back('"');
  if (!s.empty() && s[0] == ':') out += "\\\\";
  AppendEscaped(s, out);
  out.push_back('"');
}

void AppendDouble(double d, std::string& out) {
  if (!std::isfinite(d)) {  // JSON has no NaN or infinities
    out += "null";
    return;
  }
  text_internal::AppendFiniteDouble(d, out);
}

// A bigdec's text as a JSON number: no '+', no leading zeros, digits on both sides of '.'.
void AppendBigDec(std::string_view t, std::string& out) {
  size_t i = 0;
  if (i < t.size() && (t[i] == '+' || t[i] == '-')) {
    if (t[i] == '-') out.push_back('-');
    ++i;
  }
  size_t int_end = i;
  while (int_end < t.size() && IsDigit(t[int_end])) ++int_end;
  std::string_view ip = t.substr(i, int_end - i);
  while (ip.size() > 1 && ip[0] == '0') ip.remove_prefix(1);
  if (ip.empty()) ip = "0";
  out += ip;
  i = int_end;
  if (i < t.size() && t[i] == '.') {
    ++i;
    size_t frac_end = i;
    while (frac_end < t.size() && IsDigit(t[frac_end])) ++frac_end;
    if (frac_end > i) {
      out.push_back('.');
      out.append(t.substr(i, frac_end - i));
    }
    i = frac_end;
  }
  out.append(t.substr(i));  // exponent, valid JSON as written
}

void PrintValue(const Value& v, std::string& out);

__attribute__((noinline)) void PrintKey(const Value& k, std::string& out) {
  switch (k.type()) {
    case Type::kKeyword:
    case Type::kSymbol:
      AppendQuoted(k.as_named()->full, out);
      return;
    case Type::kString:
      AppendQuoted(k.as_string(), out);
      return;
    default:
      AppendQuoted(edn::ToString(k), out);
      return;
  }
}

// Everything but collections; out of line so that the recursive PrintValue keeps a small stack
// frame (values nest as deep as the reader allows).
__attribute__((noinline)) void PrintScalar(const Value& v, std::string& out) {
  switch (v.type()) {
    case Type::kNil:
      out += "null";
      return;
    case Type::kBool:
      out += v.as_bool() ? "true" : "false";
      return;
    case Type::kLong: {
      char buf[24];
      const auto r = std::to_chars(buf, buf + sizeof buf, v.as_long());
      out.append(buf, r.ptr);
      return;
    }
    case Type::kBigInt:
      out += v.as_string();
      return;
    case Type::kFloat:
    case Type::kDouble:
      AppendDouble(v.as_double(), out);
      return;
    case Type::kBigDec:
      AppendBigDec(v.as_string(), out);
      return;
    case Type::kInstant: {
      // The EDN text is #inst "yyyy-mm-ddThh:mm:ss.SSS-00:00"; JSON uses the same timestamp with Z.
      std::string e;
      edn::Print(v, e);
      const size_t open = e.find('"');
      out.push_back('"');
      out.append(e, open + 1, e.size() - open - 1 - 7);
      out += "Z\"";
      return;
    }
    case Type::kUuid:
    case Type::kBytes: {
      // The EDN text is #uuid "..." or #bytes "base64"; JSON uses the quoted part.
      std::string e;
      edn::Print(v, e);
      out.append(e, e.find('"'));
      return;
    }
    case Type::kChar: {
      const uint32_t cp = v.as_char();
      if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        out += "\"\\ufffd\"";
        return;
      }
      std::string s;
      AppendUtf8(cp, s);
      AppendStringValue(s, out);
      return;
    }
    case Type::kString:
      AppendStringValue(v.as_string(), out);
      return;
    case Type::kKeyword:
      out += "\":";
      AppendEscaped(v.as_named()->full, out);
      out.push_back('"');
      return;
    case Type::kSymbol:
      AppendQuoted(v.as_named()->full, out);
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
      out.push_back('[');
      bool first = true;
      for (const Value& item : v.items()) {
        if (!first) out.push_back(',');
        first = false;
        PrintValue(item, out);
      }
      out.push_back(']');
      return;
    }
    case Type::kMap: {
      out.push_back('{');
      bool first = true;
      for (const auto& [k, val] : v.entries()) {
        if (!first) out.push_back(',');
        first = false;
        PrintKey(k, out);
        out.push_back(':');
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
  r.SkipWs();
  Value v = r.ReadValue();
  r.SkipWs();
  if (!r.AtEnd()) r.Fail(r.pos(), "unexpected trailing characters after the value");
  return v;
}

void Print(const Value& v, std::string& out) { PrintValue(v, out); }

std::string ToString(const Value& v) {
  std::string out;
  PrintValue(v, out);
  return out;
}

}  // namespace datahike::json
