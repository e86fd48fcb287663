// CRC-32C (Castagnoli), the checksum of every stored record, blob and log frame.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace datahike::storage {

// The CRC-32C of `data` continued from `crc` (0 to start). Uses the SSE4.2 instruction when the
// CPU has it, else a table. Thread-safe.
uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t n);
inline uint32_t Crc32c(std::string_view data) { return Crc32cExtend(0, data.data(), data.size()); }

// A stored checksum is masked, so that a CRC computed over bytes that themselves contain a CRC
// (a frame inside a frame) does not degenerate.
inline uint32_t MaskCrc(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }
inline uint32_t UnmaskCrc(uint32_t masked) {
  const uint32_t rot = masked - 0xa282ead8u;
  return (rot >> 17) | (rot << 15);
}

}  // namespace datahike::storage
