// The framing of log records in the :file backend's segment files (internal to core/storage).
//
// A segment is a sequence of frames, each
//   crc32c (4, masked, over the 16 bytes after it and the payload) | length (4) | seq (8) |
//   lead (4: the record's position in the group written with it) | payload (length bytes)
// all little-endian. The frames of one segment have consecutive sequence numbers from the number in
// the segment's name.
//
// A bad frame (short header, length past the end, checksum mismatch, wrong seq) is a torn tail
// when no later valid frame belongs to a later write group: an interrupted write of one group may
// persist any subset of its pages, but groups are written one after the other, so a valid frame of
// a later group after a bad one means the bad one was damaged after it was written: corruption.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace datahike::storage {

constexpr size_t kLogFrameHeader = 20;

void AppendLogFrame(std::string* out, uint64_t seq, uint32_t lead, std::string_view payload);

struct LogScan {
  uint64_t records = 0;    // whole records found
  uint64_t valid_end = 0;  // offset just past the last whole record
  bool torn_tail = false;  // bytes after valid_end are an interrupted write
  bool stopped = false;    // fn returned false
};

// Scans a segment whose first record has sequence number first_seq, calling fn(seq, payload) for
// each whole record until it returns false. A torn tail is reported in the result when
// `tolerate_tail`, else it throws :storage/corrupt like any damage before the tail. `name` labels
// errors.
LogScan ScanLogSegment(std::string_view data, uint64_t first_seq, bool tolerate_tail,
                       const std::string& name,
                       const std::function<bool(uint64_t, std::string_view)>& fn);

}  // namespace datahike::storage
