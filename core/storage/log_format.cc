#include "core/storage/log_format.h"

#include "core/storage/coding.h"
#include "core/storage/crc32c.h"
#include "core/storage/error_codes.h"

namespace datahike::storage {
namespace {

struct Frame {
  uint64_t seq;
  uint32_t lead;
  std::string_view payload;
  size_t size;  // header + payload
};

// The frame at `off` if it is whole and its checksum verifies.
bool ParseFrame(std::string_view data, size_t off, Frame* f) {
  if (data.size() - off < kLogFrameHeader) return false;
  const char* p = data.data() + off;
  const uint32_t len = GetFixed32(p + 4);
  if (len > data.size() - off - kLogFrameHeader) return false;
  const uint32_t crc = Crc32cExtend(0, p + 4, kLogFrameHeader - 4 + len);
  if (UnmaskCrc(GetFixed32(p)) != crc) return false;
  f->seq = GetFixed64(p + 8);
  f->lead = GetFixed32(p + 16);
  f->payload = std::string_view(p + kLogFrameHeader, len);
  f->size = kLogFrameHeader + len;
  return f->lead <= f->seq;
}

// Whether some valid frame after `off` was written by a group that started after `expected`.
bool LaterGroupFollows(std::string_view data, size_t off, uint64_t expected) {
  for (size_t o = off + 1; o + kLogFrameHeader <= data.size(); ++o) {
    const uint64_t seq = GetFixed64(data.data() + o + 8);
    // Cheap filter before the checksum: a plausible sequence number.
    if (seq <= expected || seq - expected > data.size()) continue;
    Frame f;
    if (ParseFrame(data, o, &f) && f.seq - f.lead > expected) return true;
  }
  return false;
}

}  // namespace

void AppendLogFrame(std::string* out, uint64_t seq, uint32_t lead, std::string_view payload) {
  const size_t start = out->size();
  PutFixed32(out, 0);  // checksum, filled below
  PutFixed32(out, static_cast<uint32_t>(payload.size()));
  PutFixed64(out, seq);
  PutFixed32(out, lead);
  out->append(payload);
  const uint32_t crc = Crc32cExtend(0, out->data() + start + 4, out->size() - start - 4);
  const uint32_t masked = MaskCrc(crc);
  for (int i = 0; i < 4; ++i) (*out)[start + i] = static_cast<char>(masked >> (8 * i));
}

LogScan ScanLogSegment(std::string_view data, uint64_t first_seq, bool tolerate_tail,
                       const std::string& name,
                       const std::function<bool(uint64_t, std::string_view)>& fn) {
  LogScan scan;
  size_t off = 0;
  uint64_t expected = first_seq;
  while (off < data.size()) {
    Frame f;
    const bool ok = ParseFrame(data, off, &f);
    if (!ok || f.seq != expected) {
      if (ok || LaterGroupFollows(data, off, expected)) {
        ThrowCorrupt("Log segment " + name + " is damaged at offset " + std::to_string(off) +
                     " (record " + std::to_string(expected) + "); later records follow it.");
      }
      if (!tolerate_tail) {
        ThrowCorrupt("Log segment " + name + " ends in an incomplete record at offset " +
                     std::to_string(off) + ".");
      }
      scan.torn_tail = true;
      break;
    }
    off += f.size;
    ++expected;
    ++scan.records;
    scan.valid_end = off;
    if (fn && !fn(f.seq, f.payload)) {
      scan.stopped = true;
      break;
    }
  }
  return scan;
}

}  // namespace datahike::storage
