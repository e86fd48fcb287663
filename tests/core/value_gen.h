// Helpers shared by the EDN and JSON reader tests (edn_test.cc, json_test.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

namespace datahike::testutil {

// A random text of fewer than `max_len` bytes, each with probability 1/`raw_one_in` a random byte and
// otherwise a character of `alphabet` (REQUIRES non-empty), drawn from rng.
inline std::string RandomText(std::mt19937_64& rng, std::string_view alphabet, size_t max_len,
                              uint64_t raw_one_in) {
  std::string s;
  const size_t n = rng() % max_len;
  for (size_t k = 0; k < n; ++k) {
    s.push_back(rng() % raw_one_in == 0 ? static_cast<char>(rng() % 256)
                                        : alphabet[rng() % alphabet.size()]);
  }
  return s;
}

// Fuzzes a reader with damaged forms of the valid `text`: calls read(std::string_view) on about 16
// prefixes of it, then on 8 single mutations (each a random byte, a deletion of 1 to 3 bytes, or an
// insertion of one character of `inserts`, REQUIRES non-empty), drawn from rng.
template <typename Read>
void ReadTruncationsAndMutations(const std::string& text, std::string_view inserts,
                                 std::mt19937_64& rng, Read read) {
  for (size_t cut = 0; cut < text.size(); cut += 1 + text.size() / 16) {
    read(std::string_view(text).substr(0, cut));
  }
  for (int m = 0; m < 8 && !text.empty(); ++m) {
    std::string t = text;
    const size_t at = rng() % t.size();
    switch (rng() % 3) {
      case 0: t[at] = static_cast<char>(rng() % 256); break;
      case 1: t.erase(at, 1 + rng() % 3); break;
      default: t.insert(at, 1, inserts[rng() % inserts.size()]); break;
    }
    read(t);
  }
}

}  // namespace datahike::testutil
