// Pieces shared by the EDN and JSON readers and printers (edn.cc, json.cc): hex digits, UTF-8,
// \u escapes, interning of keywords and symbols through a per-thread cache, out-of-range doubles and
// error positions. Internal to core/value; not part of any public API.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "core/value/value.h"

namespace datahike::text_internal {

// Value of a hexadecimal digit, or -1.
inline int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Appends the UTF-8 encoding of cp (REQUIRES: cp <= 0x10FFFF).
void AppendUtf8(uint32_t cp, std::string& out);

// Decodes one well-formed UTF-8 code point at [p, end) (REQUIRES: p < end); returns its length in
// bytes and sets *cp, or returns 0 if the sequence is malformed (overlong, surrogate, beyond U+10FFFF
// or truncated).
int DecodeUtf8(const char* p, const char* end, uint32_t* cp);

// Decodes the \uXXXX escape whose backslash is at `esc`, with *p just after the 'u'; a high surrogate
// must be followed by a \uXXXX low surrogate, which is consumed too. On success sets *cp, advances *p
// past the escape(s) and returns nullptr. Otherwise returns the error message and sets *err_at to the
// escape the error is reported at (*p is then unspecified).
const char* DecodeUnicodeEscape(const char* esc, const char** p, const char* end, uint32_t* cp,
                                const char** err_at);

// "line L, column C" (1-based; columns count code points) of `at` in the text starting at `begin`.
std::string LineColumn(const char* begin, const char* at);

// ±infinity or ±0 for a decimal floating literal (optional '-', no '+' sign, no suffix) that
// std::from_chars reported out of the double range.
double OutOfRangeDouble(std::string_view t);

// A decimal integer's text (an optional '-', then digits) as a long if it fits, else as a bigint.
Value DecimalInteger(std::string_view text);

// Appends a finite double in its shortest round-trip form, with ".0" added when that form has neither
// '.' nor an exponent, so that it reads back as a double.
void AppendFiniteDouble(double d, std::string& out);

// ---------------------------------------------------------------------------------------------------
// Keyword and symbol interning through a per-thread direct-mapped cache: the global intern table is
// shared and locked, while a transaction file repeats the same few attribute names many times.
// Interned entries are never freed, so cached pointers stay valid for the life of the process.

constexpr size_t kNamedCacheSize = 2048;  // power of two; 32 KB per thread for both kinds
struct NamedCache {
  const Named* slots[2][kNamedCacheSize];  // [0] symbols, [1] keywords
};

// This thread's cache. Look it up once per read: thread_local access is not free in shared libraries.
NamedCache* ThisThreadNamedCache();

inline uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint64_t Load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// A fast hash of a short name (8 bytes at a time), good enough for a direct-mapped cache.
inline uint64_t NameHash(std::string_view t) {
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ull;
  const char* p = t.data();
  const size_t n = t.size();
  uint64_t h = n * kMul;
  if (n >= 8) {
    for (size_t i = 0; i + 8 < n; i += 8) h = (h ^ Load64(p + i)) * kMul;
    h = (h ^ Load64(p + n - 8)) * 0xC4CEB9FE1A85EC53ull;
  } else if (n >= 4) {
    h = (h ^ (Load32(p) << 32 | Load32(p + n - 4))) * 0xC4CEB9FE1A85EC53ull;
  } else if (n > 0) {
    h = (h ^ (uint64_t{static_cast<uint8_t>(p[0])} << 16 |
              uint64_t{static_cast<uint8_t>(p[n >> 1])} << 8 | static_cast<uint8_t>(p[n - 1]))) *
        0xC4CEB9FE1A85EC53ull;
  }
  return h ^ (h >> 29);
}

// The interned keyword (or symbol, if !keyword) of `text`; `cache` is ThisThreadNamedCache().
inline const Named* InternCached(NamedCache* cache, std::string_view text, bool keyword) {
  const uint64_t h = NameHash(text);
  const Named*& slot = cache->slots[keyword ? 1 : 0][(h ^ (h >> 17)) & (kNamedCacheSize - 1)];
  const Named* n = slot;
  if (n != nullptr && n->full.size() == text.size() &&
      std::memcmp(n->full.data(), text.data(), text.size()) == 0) {
    return n;
  }
  n = keyword ? InternKeyword(text) : InternSymbol(text);
  slot = n;
  return n;
}

}  // namespace datahike::text_internal
