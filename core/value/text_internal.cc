// Shared pieces of the EDN and JSON readers and printers; the contracts are in text_internal.h.
#include "core/value/text_internal.h"

#include <algorithm>
#include <charconv>
#include <limits>

namespace datahike::text_internal {
namespace {

thread_local NamedCache tl_named_cache;

// Reads the 4 hex digits at *p (advancing it past them) into *v; false if there are fewer or one is
// not a hex digit.
bool ReadHex4(const char** p, const char* end, uint32_t* v) {
  if (end - *p < 4) return false;
  uint32_t x = 0;
  for (int k = 0; k < 4; ++k) {
    const int h = HexValue((*p)[k]);
    if (h < 0) return false;
    x = x << 4 | static_cast<uint32_t>(h);
  }
  *p += 4;
  *v = x;
  return true;
}

}  // namespace

NamedCache* ThisThreadNamedCache() { return &tl_named_cache; }

void AppendUtf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

int DecodeUtf8(const char* p, const char* end, uint32_t* cp) {
  const auto b0 = static_cast<uint8_t>(p[0]);
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  int len;
  uint32_t c;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    c = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    c = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    c = b0 & 0x07;
  } else {
    return 0;
  }
  if (end - p < len) return 0;
  for (int i = 1; i < len; ++i) {
    const auto b = static_cast<uint8_t>(p[i]);
    if ((b & 0xC0) != 0x80) return 0;
    c = (c << 6) | (b & 0x3F);
  }
  static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (c < kMin[len] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
  *cp = c;
  return len;
}

const char* DecodeUnicodeEscape(const char* esc, const char** p, const char* end, uint32_t* cp,
                                const char** err_at) {
  static constexpr char kBadHex[] = "invalid \\u escape (expected 4 hex digits)";
  static constexpr char kUnpaired[] = "unpaired UTF-16 surrogate in \\u escape";
  *err_at = esc;
  uint32_t v;
  if (!ReadHex4(p, end, &v)) return kBadHex;
  if (v >= 0xD800 && v <= 0xDBFF) {
    if (end - *p < 2 || (*p)[0] != '\\' || (*p)[1] != 'u') return kUnpaired;
    const char* esc2 = *p;
    *p += 2;
    uint32_t lo;
    if (!ReadHex4(p, end, &lo)) {
      *err_at = esc2;
      return kBadHex;
    }
    if (lo < 0xDC00 || lo > 0xDFFF) return kUnpaired;
    v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
  } else if (v >= 0xDC00 && v <= 0xDFFF) {
    return kUnpaired;
  }
  *cp = v;
  return nullptr;
}

std::string LineColumn(const char* begin, const char* at) {
  size_t line = 1, column = 1;
  for (const char* q = begin; q < at; ++q) {
    if (*q == '\n') {
      ++line;
      column = 1;
    } else if ((static_cast<uint8_t>(*q) & 0xC0) != 0x80) {
      ++column;  // count code points, not UTF-8 continuation bytes
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

double OutOfRangeDouble(std::string_view t) {
  const bool neg = !t.empty() && t[0] == '-';
  if (neg) t.remove_prefix(1);
  int64_t exp10 = 0;
  const size_t e = t.find_first_of("eE");
  if (e != std::string_view::npos) {
    std::string_view x = t.substr(e + 1);
    bool eneg = false;
    if (!x.empty() && (x[0] == '+' || x[0] == '-')) {
      eneg = x[0] == '-';
      x.remove_prefix(1);
    }
    for (char c : x) exp10 = std::min<int64_t>(exp10 * 10 + (c - '0'), int64_t{1} << 40);
    if (eneg) exp10 = -exp10;
    t = t.substr(0, e);
  }
  // Magnitude: position of the first non-zero digit relative to the decimal point.
  const size_t dot = t.find('.');
  const std::string_view ip = t.substr(0, dot);
  const size_t nz = ip.find_first_not_of('0');
  if (nz != std::string_view::npos) {
    exp10 += static_cast<int64_t>(ip.size() - nz);
  } else if (dot != std::string_view::npos) {
    const std::string_view fp = t.substr(dot + 1);
    const size_t fnz = fp.find_first_not_of('0');
    if (fnz == std::string_view::npos) return neg ? -0.0 : 0.0;
    exp10 -= static_cast<int64_t>(fnz);
  }
  const double mag = exp10 > 0 ? std::numeric_limits<double>::infinity() : 0.0;
  return neg ? -mag : mag;
}

Value DecimalInteger(std::string_view text) {
  int64_t n;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), n);
  if (r.ec == std::errc() && r.ptr == text.data() + text.size()) return Value::Long(n);
  return Value::BigInt(text);
}

void AppendFiniteDouble(double d, std::string& out) {
  char buf[40];
  const auto r = std::to_chars(buf, buf + sizeof buf, d);  // shortest round-trip representation
  out.append(buf, r.ptr);
  for (const char* q = buf; q < r.ptr; ++q) {
    if (*q == '.' || *q == 'e') return;
  }
  out += ".0";
}

}  // namespace datahike::text_internal
