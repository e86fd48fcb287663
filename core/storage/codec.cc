#include "core/storage/codec.h"

#include <cstring>
#include <stdexcept>

#include "core/storage/coding.h"
#include "core/storage/crc32c.h"
#include "core/storage/error_codes.h"

namespace datahike::storage {
namespace {

// Wire tags: fixed forever for version 1, independent of the Type enum's numbering.
enum Tag : uint8_t {
  kTagNil = 0,
  kTagFalse = 1,
  kTagTrue = 2,
  kTagLong = 3,
  kTagBigInt = 4,
  kTagFloat = 5,
  kTagDouble = 6,
  kTagBigDec = 7,
  kTagInstant = 8,
  kTagUuid = 9,
  kTagChar = 10,
  kTagString = 11,
  kTagKeyword = 12,
  kTagSymbol = 13,
  kTagBytes = 14,
  kTagList = 15,
  kTagVector = 16,
  kTagSet = 17,
  kTagMap = 18,
};

constexpr size_t kHeaderSize = 4;
constexpr size_t kTrailerSize = 4;

uint64_t DoubleBits(double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, 8);
  return bits;
}
double BitsDouble(uint64_t bits) {
  double d;
  std::memcpy(&d, &bits, 8);
  return d;
}

}  // namespace

// ---- writer ------------------------------------------------------------------------------------

void BlobWriter::PutVarint(uint64_t v) { storage::PutVarint(&body_, v); }
void BlobWriter::PutSigned(int64_t v) { storage::PutVarint(&body_, ZigZag(v)); }
void BlobWriter::PutBytes(std::string_view bytes) {
  storage::PutVarint(&body_, bytes.size());
  body_.append(bytes);
}

uint64_t BlobWriter::NameIndex(const Named* n) {
  auto [it, inserted] = name_index_.emplace(n, names_.size());
  if (inserted) names_.push_back(n);
  return it->second;
}

// Iterative (an explicit stack, not recursion), so that the deepest value the EDN reader accepts
// is encoded in constant native stack, also under the sanitizers.
void BlobWriter::PutValue(const Value& root) {
  struct Frame {
    const Value* coll;
    size_t next;   // the next child to write
    size_t total;  // children: items, or 2 * entries for a map
  };
  std::vector<Frame> stack;
  const Value* v = &root;
  while (true) {
    if (stack.size() > static_cast<size_t>(kMaxValueDepth)) {
      throw Error(ErrorKind::kMisuse, "A value nested deeper than " +
                                          std::to_string(kMaxValueDepth) +
                                          " levels cannot be stored.");
    }
    if (PutHead(*v)) {
      const size_t total = v->is_map() ? 2 * v->entries().size() : v->items().size();
      if (total > 0) stack.push_back(Frame{v, 0, total});
    }
    while (!stack.empty() && stack.back().next == stack.back().total) stack.pop_back();
    if (stack.empty()) return;
    Frame& f = stack.back();
    const size_t i = f.next++;
    if (f.coll->is_map()) {
      const auto& e = f.coll->entries()[i / 2];
      v = i % 2 == 0 ? &e.first : &e.second;
    } else {
      v = &f.coll->items()[i];
    }
  }
}

bool BlobWriter::PutHead(const Value& v) {
  auto tag = [this](Tag t) { body_.push_back(static_cast<char>(t)); };
  switch (v.type()) {
    case Type::kNil:
      tag(kTagNil);
      return false;
    case Type::kBool:
      tag(v.as_bool() ? kTagTrue : kTagFalse);
      return false;
    case Type::kLong:
      tag(kTagLong);
      PutSigned(v.as_long());
      return false;
    case Type::kInstant:
      tag(kTagInstant);
      PutSigned(v.as_instant());
      return false;
    case Type::kFloat:
    case Type::kDouble:
      tag(v.type() == Type::kFloat ? kTagFloat : kTagDouble);
      PutFixed64(&body_, DoubleBits(v.as_double()));
      return false;
    case Type::kBigInt:
      tag(kTagBigInt);
      PutBytes(v.as_string());
      return false;
    case Type::kBigDec:
      tag(kTagBigDec);
      PutBytes(v.as_string());
      return false;
    case Type::kString:
      tag(kTagString);
      PutBytes(v.as_string());
      return false;
    case Type::kBytes:
      tag(kTagBytes);
      PutBytes(v.as_string());
      return false;
    case Type::kUuid:
      tag(kTagUuid);
      body_.append(reinterpret_cast<const char*>(v.as_uuid().bytes), 16);
      return false;
    case Type::kChar:
      tag(kTagChar);
      PutVarint(v.as_char());
      return false;
    case Type::kKeyword:
    case Type::kSymbol:
      tag(v.type() == Type::kKeyword ? kTagKeyword : kTagSymbol);
      PutVarint(NameIndex(v.as_named()));
      return false;
    case Type::kList:
    case Type::kVector:
    case Type::kSet:
      tag(v.type() == Type::kList ? kTagList : v.type() == Type::kVector ? kTagVector : kTagSet);
      PutVarint(v.items().size());
      return true;
    case Type::kMap:
      tag(kTagMap);
      PutVarint(v.entries().size());
      return true;
  }
  throw Error(ErrorKind::kInternal, "codec: unknown value type");
}

void BlobWriter::PutDatoms(std::span<const Datom> datoms) {
  PutVarint(datoms.size());
  uint64_t prev_e = 0, prev_tx = 0;
  for (const Datom& d : datoms) {
    const Named* attr = KeywordById(d.a);
    if (attr == nullptr) {
      throw Error(ErrorKind::kInternal,
                  "codec: datom with unknown attribute id " + std::to_string(d.a));
    }
    // Deltas in wrapping unsigned arithmetic: any int64 pair round-trips.
    PutSigned(static_cast<int64_t>(static_cast<uint64_t>(d.e) - prev_e));
    PutVarint(NameIndex(attr) << 1 | (d.added ? 1 : 0));
    PutValue(d.v);
    PutSigned(static_cast<int64_t>(static_cast<uint64_t>(d.tx) - prev_tx));
    prev_e = static_cast<uint64_t>(d.e);
    prev_tx = static_cast<uint64_t>(d.tx);
  }
}

std::string BlobWriter::Finish() {
  std::string out;
  size_t names_size = 0;
  for (const Named* n : names_) names_size += n->full.size() + 5;
  out.reserve(kHeaderSize + 10 + names_size + body_.size() + kTrailerSize);
  out.push_back('D');
  out.push_back('H');
  out.push_back(static_cast<char>(kCodecVersion));
  out.push_back(static_cast<char>(kind_));
  storage::PutVarint(&out, names_.size());
  for (const Named* n : names_) {
    storage::PutVarint(&out, static_cast<uint64_t>(n->full.size()) << 1 | (n->is_keyword ? 1 : 0));
    out.append(n->full);
  }
  out.append(body_);
  PutFixed32(&out, MaskCrc(Crc32c(out)));
  body_.clear();
  return out;
}

// ---- reader ------------------------------------------------------------------------------------

void BlobReader::Fail(const std::string& what) const {
  ThrowCorrupt("Stored blob is corrupt: " + what + ".");
}

BlobReader::BlobReader(std::string_view blob, BlobKind expected) {
  if (blob.size() < kHeaderSize + kTrailerSize)
    Fail("too short (" + std::to_string(blob.size()) + " bytes)");
  if (blob[0] != 'D' || blob[1] != 'H') Fail("bad magic");
  const std::string_view covered = blob.substr(0, blob.size() - kTrailerSize);
  if (UnmaskCrc(GetFixed32(blob.data() + covered.size())) != Crc32c(covered)) {
    Fail("checksum mismatch");
  }
  const uint8_t version = static_cast<uint8_t>(blob[2]);
  if (version != kCodecVersion) {
    ThrowStorageError(ErrorKind::kStorage, "storage/unsupported-format",
                      "Stored blob has format version " + std::to_string(version) +
                          "; this build reads version " + std::to_string(kCodecVersion) + ".");
  }
  if (static_cast<uint8_t>(blob[3]) != static_cast<uint8_t>(expected)) {
    Fail("kind " + std::to_string(static_cast<uint8_t>(blob[3])) + " where kind " +
         std::to_string(static_cast<uint8_t>(expected)) + " was expected");
  }
  in_ = covered.substr(kHeaderSize);
  const uint64_t count = GetVarint();
  if (count > in_.size()) Fail("name count past the end");
  names_.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t head = GetVarint();
    const uint64_t len = head >> 1;
    if (len > in_.size()) Fail("name past the end");
    const std::string_view text = in_.substr(0, len);
    in_.remove_prefix(len);
    names_.push_back((head & 1) ? InternKeyword(text) : InternSymbol(text));
  }
}

uint64_t BlobReader::GetVarint() {
  uint64_t v;
  if (!storage::GetVarint(&in_, &v)) Fail("truncated or overlong varint");
  return v;
}

int64_t BlobReader::GetSigned() { return UnZigZag(GetVarint()); }

std::string_view BlobReader::GetBytes() {
  const uint64_t len = GetVarint();
  if (len > in_.size()) Fail("byte string past the end");
  std::string_view out = in_.substr(0, len);
  in_.remove_prefix(len);
  return out;
}

const Named* BlobReader::GetName() {
  const uint64_t i = GetVarint();
  if (i >= names_.size()) Fail("name index out of range");
  return names_[i];
}

// Iterative like the writer: open collections are frames on an explicit stack.
Value BlobReader::GetValue() {
  struct Frame {
    uint8_t tag;
    uint64_t remaining;        // children still to read
    std::vector<Value> items;  // a map's keys and values alternate
  };
  std::vector<Frame> stack;
  while (true) {
    if (stack.size() > static_cast<size_t>(kMaxValueDepth)) Fail("values nested too deep");
    if (in_.empty()) Fail("truncated value");
    const uint8_t tag = static_cast<uint8_t>(in_[0]);
    Value v;
    if (tag == kTagList || tag == kTagVector || tag == kTagSet || tag == kTagMap) {
      in_.remove_prefix(1);
      uint64_t n = GetVarint();
      if (n > in_.size() || (tag == kTagMap && n > in_.size() / 2)) Fail("count past the end");
      if (tag == kTagMap) n *= 2;
      if (n > 0) {
        stack.push_back(Frame{tag, n, {}});
        stack.back().items.reserve(n);
        continue;
      }
      v = BuildCollection(tag, {});
    } else {
      v = GetScalar();
    }
    // Hand the value to its parent, closing every collection it completes.
    while (true) {
      if (stack.empty()) return v;
      Frame& f = stack.back();
      f.items.push_back(std::move(v));
      if (--f.remaining > 0) break;
      v = BuildCollection(f.tag, std::move(f.items));
      stack.pop_back();
    }
  }
}

Value BlobReader::BuildCollection(uint8_t tag, std::vector<Value> items) {
  switch (tag) {
    case kTagList:
      return Value::List(std::move(items));
    case kTagVector:
      return Value::Vector(std::move(items));
    case kTagSet:
      return Value::Set(std::move(items));
    default: {
      std::vector<std::pair<Value, Value>> entries;
      entries.reserve(items.size() / 2);
      for (size_t i = 0; i + 1 < items.size(); i += 2) {
        entries.emplace_back(std::move(items[i]), std::move(items[i + 1]));
      }
      return Value::Map(std::move(entries));
    }
  }
}

Value BlobReader::GetScalar() {
  const uint8_t tag = static_cast<uint8_t>(in_[0]);
  in_.remove_prefix(1);
  switch (tag) {
    case kTagNil:
      return Value();
    case kTagFalse:
      return Value::Bool(false);
    case kTagTrue:
      return Value::Bool(true);
    case kTagLong:
      return Value::Long(GetSigned());
    case kTagInstant:
      return Value::Instant(GetSigned());
    case kTagFloat:
    case kTagDouble: {
      if (in_.size() < 8) Fail("truncated number");
      const double d = BitsDouble(GetFixed64(in_.data()));
      in_.remove_prefix(8);
      return tag == kTagFloat ? Value::Float(d) : Value::Double(d);
    }
    case kTagBigInt:
    case kTagBigDec: {
      const std::string_view text = GetBytes();
      try {
        return tag == kTagBigInt ? Value::BigInt(text) : Value::BigDec(text);
      } catch (const std::invalid_argument&) {
        Fail("invalid number text");
      }
    }
    case kTagString:
      return Value::String(GetBytes());
    case kTagBytes:
      return Value::Bytes(GetBytes());
    case kTagUuid: {
      if (in_.size() < 16) Fail("truncated uuid");
      Uuid u;
      std::memcpy(u.bytes, in_.data(), 16);
      in_.remove_prefix(16);
      return Value::MakeUuid(u);
    }
    case kTagChar: {
      const uint64_t c = GetVarint();
      if (c > 0x10FFFF) Fail("character out of range");
      return Value::Char(static_cast<uint32_t>(c));
    }
    case kTagKeyword:
    case kTagSymbol: {
      const Named* n = GetName();
      if (n->is_keyword != (tag == kTagKeyword)) Fail("keyword/symbol name mismatch");
      return Value::Keyword(n);  // Keyword(const Named*) makes a symbol for a symbol entry
    }
    default:
      Fail("unknown value tag " + std::to_string(tag));
  }
}

std::vector<Datom> BlobReader::GetDatoms() {
  const uint64_t n = GetVarint();
  if (n > in_.size() / 4) Fail("datom count past the end");  // a datom takes at least 4 bytes
  std::vector<Datom> out;
  out.reserve(n);
  uint64_t e = 0, tx = 0;
  for (uint64_t i = 0; i < n; ++i) {
    Datom d;
    e += static_cast<uint64_t>(GetSigned());
    const uint64_t attr = GetVarint();
    if ((attr >> 1) >= names_.size()) Fail("attribute index out of range");
    const Named* a = names_[attr >> 1];
    if (!a->is_keyword) Fail("attribute is not a keyword");
    d.v = GetValue();
    tx += static_cast<uint64_t>(GetSigned());
    d.e = static_cast<int64_t>(e);
    d.tx = static_cast<int64_t>(tx);
    d.a = a->id;
    d.added = (attr & 1) != 0;
    out.push_back(std::move(d));
  }
  return out;
}

void BlobReader::ExpectDone() const {
  if (!done()) Fail(std::to_string(in_.size()) + " unread bytes at the end");
}

// ---- one-call forms ----------------------------------------------------------------------------

std::string EncodeValue(const Value& v) {
  BlobWriter w(BlobKind::kValue);
  w.PutValue(v);
  return w.Finish();
}

Value DecodeValue(std::string_view blob) {
  BlobReader r(blob, BlobKind::kValue);
  Value v = r.GetValue();
  r.ExpectDone();
  return v;
}

std::string EncodeDatoms(std::span<const Datom> datoms) {
  BlobWriter w(BlobKind::kDatoms);
  w.PutDatoms(datoms);
  return w.Finish();
}

std::vector<Datom> DecodeDatoms(std::string_view blob) {
  BlobReader r(blob, BlobKind::kDatoms);
  std::vector<Datom> out = r.GetDatoms();
  r.ExpectDone();
  return out;
}

}  // namespace datahike::storage
