// The binary codec for what the engine stores: Values of every kind and blocks of datoms, in a
// versioned, checksummed blob that does not depend on the process (keywords and symbols travel as
// text, never as this process's intern ids).
//
// Blob v1:  'D' 'H' | version (1) | kind (1) | names | body | masked crc32c (4, over all before)
//   names:  varint count, then per name varint (length << 1 | is_keyword) and the full text
//           ("ns/name" or "name"); keywords and symbols in the body are indexes into this table
//   body:   what the writer put (PutValue, PutDatoms, PutVarint, ...), in order
// Value:    a tag byte, then: long/instant zigzag varint; float/double the IEEE bits (8 bytes LE);
//           bigint/bigdec/string/bytes varint length + bytes; uuid 16 bytes; char varint;
//           keyword/symbol varint name index; list/vector/set varint count + values;
//           map varint count + key, value pairs
// Datoms:   varint count, then per datom zigzag varint (e - previous e), varint (attribute name
//           index << 1 | added), the value, zigzag varint (tx - previous tx); sorted blocks make
//           the deltas one byte.
//
// Decoding never trusts its input: a bad header, checksum, truncation, unknown tag, count larger
// than the remaining bytes, nesting deeper than kMaxValueDepth or invalid number text throws
// :storage/corrupt (or :storage/unsupported-format for a newer version). Thread-safe (no state).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/index/datom.h"
#include "core/value/value.h"

namespace datahike::storage {

constexpr uint8_t kCodecVersion = 1;
// Deeper nesting than the EDN reader accepts (10,000 levels) is refused as corrupt.
constexpr int kMaxValueDepth = 10000;

// What a blob holds; checked on decode so one kind is never read as another. The index layer adds
// its node kinds here.
enum class BlobKind : uint8_t {
  kValue = 1,   // one Value
  kDatoms = 2,  // one datom block
  kRaw = 3,     // anything composed with BlobWriter
  // core/durable's records (docs/durability.md):
  kIndexNode = 4,  // one B+-tree node of a datom index
  kTxRecord = 5,   // one transaction's log record
  kRoot = 6,       // one branch's root record
};

// One-call forms.
std::string EncodeValue(const Value& v);
Value DecodeValue(std::string_view blob);
std::string EncodeDatoms(std::span<const Datom> datoms);
std::vector<Datom> DecodeDatoms(std::string_view blob);

// Composes a blob: Put* in order, then Finish. Not thread-safe (one writer per blob).
class BlobWriter {
 public:
  explicit BlobWriter(BlobKind kind) : kind_(kind) {}
  void PutVarint(uint64_t v);
  void PutSigned(int64_t v);
  void PutBytes(std::string_view bytes);
  void PutValue(const Value& v);
  void PutDatoms(std::span<const Datom> datoms);
  // The finished blob (header, name table, body, checksum). The writer is spent afterwards.
  std::string Finish();

 private:
  uint64_t NameIndex(const Named* n);
  // Writes v's tag and scalar payload, or a collection's tag and count (true: children follow).
  bool PutHead(const Value& v);

  BlobKind kind_;
  std::string body_;
  std::vector<const Named*> names_;
  std::unordered_map<const Named*, uint64_t> name_index_;
};

// Reads a blob back: the constructor verifies the header and checksum and interns the name table;
// Get* must mirror the writer's Put* calls. Every Get* throws :storage/corrupt on bad input.
class BlobReader {
 public:
  BlobReader(std::string_view blob, BlobKind expected);
  uint64_t GetVarint();
  int64_t GetSigned();
  std::string_view GetBytes();
  Value GetValue();
  std::vector<Datom> GetDatoms();
  // Whether the body is fully read (a decoder checks this at the end to catch trailing garbage).
  bool done() const { return in_.empty(); }
  // Throws :storage/corrupt unless done().
  void ExpectDone() const;

 private:
  Value GetScalar();  // REQUIRES: a scalar tag at the front
  static Value BuildCollection(uint8_t tag, std::vector<Value> items);
  const Named* GetName();
  [[noreturn]] void Fail(const std::string& what) const;

  std::string_view in_;
  std::vector<const Named*> names_;
};

}  // namespace datahike::storage
