#include "core/pull/pull.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/value/edn.h"
#include "core/value/error.h"

namespace datahike {

namespace {

constexpr uint64_t kDefaultLimit = 1000;  // Datahike's +default-limit+
constexpr uint64_t kNoLimit = std::numeric_limits<uint64_t>::max();
// A pattern naming several attributes reads the entity in one scan of at most this many datoms; a
// larger entity (a big cardinality-many attribute) is read with a seek per attribute instead.
constexpr size_t kScanCap = 256;

const Value& DbIdKey() {
  static const Value key = Kw("db/id");
  return key;
}

Value IdMap(int64_t e) { return Value::Map({{DbIdKey(), Value::Long(e)}}); }

}  // namespace

// One attribute spec of a pattern: Datahike's parsed `[key opts]` pair.
struct PullAttrSpec {
  enum class Nested : uint8_t { kNone, kSubpattern, kRecursion };

  Value key;          // the attribute as written (:name, :_parent, "name"); unique within a pattern
  Value out_key;      // the result key: the :as option when it is truthy, else key
  uint32_t attr = 0;  // keyword id of the attribute read (the forward one for :_parent); 0 when
                      // the spec names nothing this engine can hold (string names)
  bool reverse = false;
  bool db_id = false;  // :db/id, which reads no attribute
  uint64_t limit = kDefaultLimit;
  bool has_default = false;
  Value default_value;
  Nested nested = Nested::kNone;
  std::shared_ptr<const PullSpec> subpattern;  // with Nested::kSubpattern
  bool recursion_bounded = false;              // with Nested::kRecursion: false for `...`
  int64_t recursion_limit = 0;
};

struct PullSpec {
  bool wildcard = false;
  // In Datahike's processing order (non-map specs as written, then map entries); a later spec with
  // the same key replaces an earlier one in place.
  std::vector<PullAttrSpec> attrs;
  // Derived once so that applying the spec costs no lookups:
  size_t forward_count = 0;                              // specs that read a forward attribute
  std::unordered_map<uint32_t, size_t> forward_by_attr;  // keyword key's id -> index in attrs
  // Under the wildcard, the reverse specs alone: Datahike pulls them as a separate non-wildcard
  // pattern after the entity's own attributes.
  std::shared_ptr<const PullSpec> reverse_only;

  const PullAttrSpec* FindForward(uint32_t a) const {
    auto it = forward_by_attr.find(a);
    return it == forward_by_attr.end() ? nullptr : &attrs[it->second];
  }
  const PullAttrSpec* FindKey(const Value& key) const {
    for (const PullAttrSpec& s : attrs) {
      if (Equal(s.key, key)) return &s;
    }
    return nullptr;
  }
};

namespace {

// ---------------------------------------------------------------------------------------------------
// Parsing (the grammar of datalog.parser.pull, which Datahike uses)

[[noreturn]] void PatternError(const std::string& what, const Value& fragment) {
  throw Error(ErrorKind::kQuery, what + ", got " + edn::ToString(fragment),
              Value::Map({{Kw("error"), Kw("parser/pull")}, {Kw("fragment"), fragment}}));
}

bool IsWord(const Value& v, std::string_view word) {
  if (v.type() == Type::kSymbol || v.is_keyword()) return v.as_named()->full == word;
  return v.is_string() && v.as_string() == word;
}
bool IsWildcard(const Value& v) { return IsWord(v, "*"); }
bool IsUnboundedRecursion(const Value& v) {
  return (v.type() == Type::kSymbol || v.is_string()) && IsWord(v, "...");
}
bool IsPositiveNumber(const Value& v) { return v.is_number() && v.number_as_double() > 0; }

// A bigint's value when it fits in 64 bits.
std::optional<int64_t> BigIntValue(const Value& v) {
  std::string_view s = v.as_string();
  int64_t n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return n;
}

// How many values `(take n)` keeps: none for n <= 0; a fractional n rounds up.
uint64_t TakeCount(const Value& n) {
  switch (n.type()) {
    case Type::kLong:
      return n.as_long() <= 0 ? 0 : static_cast<uint64_t>(n.as_long());
    case Type::kBigInt: {
      std::optional<int64_t> x = BigIntValue(n);
      if (x) return *x <= 0 ? 0 : static_cast<uint64_t>(*x);
      return n.as_string().starts_with("-") ? 0 : kNoLimit;
    }
    default: {
      double d = n.number_as_double();
      if (!(d > 0)) return 0;
      if (d >= 1.8e19) return kNoLimit;
      return static_cast<uint64_t>(std::ceil(d));
    }
  }
}

// attr-name: a keyword or string; a name starting with '_' is a reverse attribute.
std::optional<PullAttrSpec> ParseAttrName(const Value& v) {
  if (!v.is_keyword() && !v.is_string()) return std::nullopt;
  PullAttrSpec s;
  s.key = v;
  s.out_key = v;
  if (v.is_keyword()) {
    const Named* k = v.as_named();
    if (k->full == "db/id") {
      s.db_id = true;
    } else if (!k->name.empty() && k->name[0] == '_') {
      s.reverse = true;
      if (k->name.size() > 1) s.attr = InternKeyword(k->ns, k->name.substr(1))->id;
    } else {
      s.attr = k->id;
    }
  } else {
    // A string names an attribute in Datahike; this engine's attributes are keywords, so it reads
    // nothing (its :default still shows). Its name part (after the first '/') decides reverse.
    std::string_view text = v.as_string();
    size_t slash = text == "/" ? std::string_view::npos : text.find('/');
    std::string_view name = slash == std::string_view::npos ? text : text.substr(slash + 1);
    s.reverse = !name.empty() && name[0] == '_';
  }
  return s;
}

// legacy-attr-expr: (limit attr n) or (default attr value), as a list or vector of three.
std::optional<PullAttrSpec> ParseLegacyAttrExpr(const Value& v) {
  if (!v.is_sequential() || v.size() != 3) return std::nullopt;
  const auto& items = v.items();
  if (IsWord(items[0], "limit")) {
    const Value& n = items[2];
    std::optional<PullAttrSpec> s = ParseAttrName(items[1]);
    if (!s || !(n.is_nil() || IsPositiveNumber(n))) {
      PatternError("Expected [\"limit\" attr-name (positive-number | nil)]", v);
    }
    s->limit = n.is_nil() ? kNoLimit : TakeCount(n);
    return s;
  }
  if (IsWord(items[0], "default")) {
    std::optional<PullAttrSpec> s = ParseAttrName(items[1]);
    if (!s) PatternError("Expected [\"default\" attr-name any-value]", v);
    s->has_default = true;
    s->default_value = items[2];
    return s;
  }
  return std::nullopt;
}

// attr-with-opts: [attr-name (:as any | :limit (number | nil) | :default any)*].
std::optional<PullAttrSpec> ParseAttrWithOpts(const Value& v) {
  if (!v.is_sequential()) return std::nullopt;
  const auto& items = v.items();
  std::optional<PullAttrSpec> s;
  if (!items.empty()) s = ParseAttrName(items[0]);
  if (!s) PatternError("Expected [attr-name attr-option+]", v);
  if (items.size() % 2 == 0) PatternError("Option list must contain even number of elements", v);
  Value as;
  for (size_t i = 1; i < items.size(); i += 2) {
    const Value& opt = items[i];
    const Value& val = items[i + 1];
    std::string_view name = opt.is_keyword() ? std::string_view(opt.as_named()->full) : "";
    if (name == "as") {
      as = val;
    } else if (name == "limit") {
      if (!val.is_nil() && !val.is_number()) PatternError(":limit expects a number or nil", v);
      s->limit = val.is_nil() ? kNoLimit : TakeCount(val);
    } else if (name == "default") {
      s->has_default = true;
      s->default_value = val;
    } else {
      PatternError("Invalid attribute option: " + edn::ToString(opt), v);
    }
  }
  if (as.truthy()) s->out_key = as;
  return s;
}

std::optional<PullAttrSpec> ParseAttrExpr(const Value& v) {
  if (std::optional<PullAttrSpec> s = ParseLegacyAttrExpr(v)) return s;
  return ParseAttrWithOpts(v);
}

std::shared_ptr<PullSpec> ParsePattern(const Value& pattern);

// map-spec entry: (attr-name | attr-expr) -> (pattern | recursion-limit).
PullAttrSpec ParseMapEntry(const Value& k, const Value& v) {
  std::optional<PullAttrSpec> s = ParseAttrName(k);
  if (!s) s = ParseAttrExpr(k);
  if (!s) PatternError("Expected (attr-name | attr-expr)", Value::Vector({k, v}));
  if (IsUnboundedRecursion(v)) {
    s->nested = PullAttrSpec::Nested::kRecursion;
  } else if (IsPositiveNumber(v)) {
    s->nested = PullAttrSpec::Nested::kRecursion;
    // Datahike stops where the depth equals the limit (Clojure's =): a limit that is not an
    // integer never equals one, so it bounds nothing.
    std::optional<int64_t> n;
    if (v.type() == Type::kLong) n = v.as_long();
    if (v.type() == Type::kBigInt) n = BigIntValue(v);
    s->recursion_bounded = n.has_value();
    s->recursion_limit = n.value_or(0);
  } else if (std::shared_ptr<PullSpec> sub = ParsePattern(v)) {
    s->nested = PullAttrSpec::Nested::kSubpattern;
    s->subpattern = std::move(sub);
  } else {
    PatternError("Expected (pattern | recursion-limit)", Value::Vector({k, v}));
  }
  return std::move(*s);
}

void AddSpec(PullSpec& spec, PullAttrSpec s) {
  for (PullAttrSpec& existing : spec.attrs) {
    if (Equal(existing.key, s.key)) {
      existing = std::move(s);
      return;
    }
  }
  spec.attrs.push_back(std::move(s));
}

void Derive(PullSpec& spec) {
  std::vector<PullAttrSpec> reverse;
  for (size_t i = 0; i < spec.attrs.size(); ++i) {
    const PullAttrSpec& s = spec.attrs[i];
    if (s.reverse) {
      reverse.push_back(s);
    } else if (!s.db_id && s.attr != 0) {
      ++spec.forward_count;
      spec.forward_by_attr[s.attr] = i;
    }
  }
  if (spec.wildcard && !reverse.empty()) {
    auto r = std::make_shared<PullSpec>();
    r->attrs = std::move(reverse);
    Derive(*r);
    spec.reverse_only = std::move(r);
  }
}

// pattern: a vector, list or set of attr-specs; nullptr when `pattern` is not a collection.
std::shared_ptr<PullSpec> ParsePattern(const Value& pattern) {
  if (!pattern.is_collection()) return nullptr;
  auto spec = std::make_shared<PullSpec>();
  std::vector<const Value*> maps;  // map specs come after the others, as Datahike orders them
  for (const Value& item : pattern.items()) {
    if (item.is_map()) {
      maps.push_back(&item);
    } else if (IsWildcard(item)) {
      spec->wildcard = true;
    } else if (std::optional<PullAttrSpec> s = ParseAttrName(item)) {
      AddSpec(*spec, std::move(*s));
    } else if (std::optional<PullAttrSpec> e = ParseAttrExpr(item)) {
      AddSpec(*spec, std::move(*e));
    } else {
      PatternError(
          "Cannot parse attr-spec, expected: (attr-name | wildcard | map-spec | attr-expr)", item);
    }
  }
  for (const Value* m : maps) {
    for (const auto& [k, v] : m->entries()) AddSpec(*spec, ParseMapEntry(k, v));
  }
  Derive(*spec);
  return spec;
}

// The pattern components are expanded with: every attribute, nothing else.
const PullSpec& ExpandAll() {
  static const PullSpec all = [] {
    PullSpec s;
    s.wildcard = true;
    return s;
  }();
  return all;
}

// ---------------------------------------------------------------------------------------------------
// Applying a pattern
//
// Nested pulls (sub-patterns, recursion, components) run on an explicit stack of frames, never on
// the C++ stack, so an unbounded recursion over a long chain of entities cannot overflow it.
// An entity frame applies a pattern to one entity; a list frame applies one to the values of one
// attribute, each value in a child entity frame, and hands the collected result back to the entity
// frame below it.
//
// The recursion state is Datahike's: a path of (key, eid) pairs from the frame that started the
// recursion. An eid on the path is "seen" (pulled again only as {:db/id eid}); the depth of a key
// is how often it occurs on the path. Sub-patterns start a fresh path. Both walk the path, O(depth)
// per entity: quadratic only in the nesting depth, which the result value itself has to hold.

class Puller {
 public:
  explicit Puller(const Db& db) : db_(db), schema_(db.schema()) {}

  // Applies spec to eid. May be called again for another entity.
  Value Run(const PullSpec& spec, int64_t eid) {
    frames_.clear();
    path_.clear();
    PushEntity(&spec, eid, kNoPath, Value());
    while (true) {
      size_t top = frames_.size() - 1;
      bool done = frames_[top].kind == Kind::kEntity ? StepEntity(top) : StepList(top);
      if (!done) continue;  // a child frame was pushed
      if (top == 0) {
        Value result = frames_[0].has_result ? std::move(frames_[0].result) : Value();
        frames_.clear();
        return result;
      }
      Deliver(frames_[top - 1], frames_[top]);
      frames_.pop_back();
    }
  }

 private:
  static constexpr int32_t kNoPath = -1;

  enum class Kind : uint8_t { kEntity, kList };
  enum class ListKind : uint8_t { kSubpattern, kRecursion, kComponent };
  enum class Phase : uint8_t { kStart, kAttrs, kReverse, kReverseWait, kDone };

  struct Group {
    uint32_t a;
    size_t begin;
    size_t end;
  };

  struct Frame {
    Kind kind = Kind::kEntity;
    const PullSpec* spec = nullptr;
    int32_t path = kNoPath;
    // An entity frame.
    int64_t eid = 0;
    Value push_key;  // under the wildcard: pushed onto the path with eid (nil: nothing pushed)
    Phase phase = Phase::kStart;
    size_t next = 0;  // the next spec (or attribute group, under the wildcard)
    bool scanned = false;
    std::vector<Datom> datoms;  // the entity's datoms, when read in one scan
    std::vector<Group> groups;
    std::vector<std::pair<Value, Value>> kvps;
    // A list frame.
    ListKind list_kind = ListKind::kSubpattern;
    std::vector<int64_t> eids;
    Value out_key;
    bool multi = false;
    std::vector<Value> results;
    // Set when the frame is done: the map (entity) or attribute value (list); none for nothing.
    bool has_result = false;
    Value result;
  };

  struct PathNode {
    Value key;
    int64_t eid;
    int32_t parent;
  };

  int32_t Push(int32_t parent, const Value& key, int64_t eid) {
    path_.push_back({key, eid, parent});
    return static_cast<int32_t>(path_.size() - 1);
  }
  bool Seen(int32_t n, int64_t eid) const {
    for (; n != kNoPath; n = path_[n].parent) {
      if (path_[n].eid == eid) return true;
    }
    return false;
  }
  int64_t Depth(int32_t n, const Value& key) const {
    int64_t depth = 0;
    for (; n != kNoPath; n = path_[n].parent) {
      if (Equal(path_[n].key, key)) ++depth;
    }
    return depth;
  }

  // Both take their arguments by value before growing frames_, so they may refer into a frame.
  void PushEntity(const PullSpec* spec, int64_t eid, int32_t path, Value push_key) {
    Frame& f = frames_.emplace_back();
    f.kind = Kind::kEntity;
    f.spec = spec;
    f.eid = eid;
    f.path = path;
    f.push_key = std::move(push_key);
  }
  void PushList(ListKind kind, const PullSpec* spec, int32_t path, Value out_key, bool multi,
                std::vector<int64_t> eids) {
    Frame& f = frames_.emplace_back();
    f.kind = Kind::kList;
    f.list_kind = kind;
    f.spec = spec;
    f.path = path;
    f.out_key = std::move(out_key);
    f.multi = multi;
    f.eids = std::move(eids);
  }

  static bool Finish(Frame& f, Value result) {
    f.result = std::move(result);
    f.has_result = true;
    return true;
  }

  void Deliver(Frame& parent, Frame& child) {
    if (parent.kind == Kind::kList) {
      if (child.has_result) parent.results.push_back(std::move(child.result));
      return;
    }
    if (parent.phase == Phase::kReverseWait) {  // the reverse attributes under the wildcard
      if (child.has_result) {
        for (const auto& kv : child.result.entries()) parent.kvps.push_back(kv);
      }
      parent.phase = Phase::kDone;
      return;
    }
    if (child.has_result)
      parent.kvps.emplace_back(std::move(child.out_key), std::move(child.result));
  }

  // Advances entity frame i; true when it is done, false when it pushed a child frame.
  bool StepEntity(size_t i) {
    Frame& f = frames_[i];
    const PullSpec& spec = *f.spec;
    if (f.phase == Phase::kStart) {
      if (spec.wildcard) {
        if (Seen(f.path, f.eid)) return Finish(f, IdMap(f.eid));
        if (!f.push_key.is_nil()) f.path = Push(f.path, f.push_key, f.eid);
        Scan(f, std::numeric_limits<size_t>::max());
        f.kvps.emplace_back(DbIdKey(), Value::Long(f.eid));
      } else if (spec.forward_count > 1) {
        Scan(f, kScanCap);  // several attributes: one scan of the entity beats a seek for each
      }
      f.kvps.reserve(spec.attrs.size() + 1);
      f.phase = Phase::kAttrs;
    }
    while (f.phase == Phase::kAttrs) {
      if (spec.wildcard) {
        if (f.next == f.groups.size()) {
          f.phase = Phase::kReverse;
          break;
        }
        const Group g = f.groups[f.next++];
        const PullAttrSpec* opts = spec.FindForward(g.a);
        uint64_t limit = opts != nullptr ? opts->limit : kDefaultLimit;
        vals_.clear();
        for (size_t k = g.begin; k < g.end && vals_.size() < limit; ++k) {
          vals_.push_back(f.datoms[k].v);
        }
        Value key = Value::Keyword(KeywordById(g.a));
        if (AddAttr(i, opts, key, g.a, true)) return false;
      } else {
        if (f.next == spec.attrs.size()) {
          f.phase = Phase::kDone;
          break;
        }
        const PullAttrSpec& s = spec.attrs[f.next++];
        if (s.db_id) {
          if (Exists(f)) f.kvps.emplace_back(DbIdKey(), Value::Long(f.eid));
          continue;
        }
        if (s.reverse) {
          Referrers(s.attr, f.eid, s.limit);
        } else {
          Values(f, s.attr, s.limit);
        }
        if (AddAttr(i, &s, s.key, s.attr, !s.reverse)) return false;
      }
    }
    if (f.phase == Phase::kReverse) {
      if (spec.reverse_only != nullptr) {
        f.phase = Phase::kReverseWait;
        PushEntity(spec.reverse_only.get(), f.eid, kNoPath, Value());
        return false;
      }
      f.phase = Phase::kDone;
    }
    if (f.kvps.empty()) return true;
    return Finish(f, Value::Map(std::move(f.kvps)));
  }

  // Advances list frame i; true when it is done, false when it pushed a child frame.
  bool StepList(size_t i) {
    Frame& f = frames_[i];
    // A single value takes the first result; later values cannot change it.
    while (f.next < f.eids.size() && (f.multi || f.results.empty())) {
      int64_t child = f.eids[f.next++];
      switch (f.list_kind) {
        case ListKind::kSubpattern:
          PushEntity(f.spec, child, kNoPath, f.out_key);
          return false;
        case ListKind::kRecursion:
          if (Seen(f.path, child)) {
            f.results.push_back(IdMap(child));
            continue;
          }
          PushEntity(f.spec, child, Push(f.path, f.out_key, child), Value());
          return false;
        case ListKind::kComponent:
          PushEntity(&ExpandAll(), child, f.path, f.out_key);
          return false;
      }
    }
    if (f.multi) return Finish(f, Value::Vector(std::move(f.results)));
    if (f.results.empty()) return true;
    return Finish(f, std::move(f.results[0]));
  }

  // Takes the values found for one attribute spec from vals_ (`opts` may be null: an attribute the
  // wildcard found that the pattern does not name). Either adds the attribute to frame i (or leaves
  // it out) and returns false, or pushes a list frame that will, and returns true.
  bool AddAttr(size_t i, const PullAttrSpec* opts, const Value& key, uint32_t a, bool forward) {
    std::vector<Value>& vals = vals_;
    Frame& f = frames_[i];
    const Value& out = opts != nullptr ? opts->out_key : key;
    if (vals.empty()) {
      if (opts != nullptr && opts->has_default) f.kvps.emplace_back(out, opts->default_value);
      return false;
    }
    const Attribute* attr = a != 0 ? schema_.Find(a) : nullptr;
    bool ref = attr != nullptr && attr->is_ref();
    bool component = ref && attr->component;
    bool multi = forward ? attr != nullptr && attr->many : !component;
    PullAttrSpec::Nested nested = opts != nullptr ? opts->nested : PullAttrSpec::Nested::kNone;
    if (nested == PullAttrSpec::Nested::kSubpattern) {
      PushList(ListKind::kSubpattern, opts->subpattern.get(), kNoPath, out, multi, Eids(vals, key));
      return true;
    }
    if (nested == PullAttrSpec::Nested::kRecursion) {
      // Datahike looks the limit up under the result key: with an :as alias it finds no limit.
      const PullAttrSpec* rec = Equal(out, opts->key) ? opts : f.spec->FindKey(out);
      if (rec != nullptr && rec->nested == PullAttrSpec::Nested::kRecursion &&
          rec->recursion_bounded && rec->recursion_limit == Depth(f.path, out)) {
        return false;
      }
      PushList(ListKind::kRecursion, f.spec, f.path, out, multi, Eids(vals, key));
      return true;
    }
    if (component && forward) {
      int32_t path = Push(f.path, out, f.eid);
      PushList(ListKind::kComponent, &ExpandAll(), path, out, multi, Eids(vals, key));
      return true;
    }
    if (ref) {
      for (Value& v : vals) v = Value::Map({{DbIdKey(), std::move(v)}});
    }
    if (multi) {
      f.kvps.emplace_back(out, Value::Vector(std::vector<Value>(vals.begin(), vals.end())));
    } else {
      f.kvps.emplace_back(out, std::move(vals[0]));
    }
    return false;
  }

  static std::vector<int64_t> Eids(const std::vector<Value>& vals, const Value& key) {
    std::vector<int64_t> eids;
    eids.reserve(vals.size());
    for (const Value& v : vals) {
      if (v.type() != Type::kLong || v.as_long() <= 0) {
        throw Error(ErrorKind::kQuery,
                    "Cannot pull a nested pattern of " + edn::ToString(key) + " from " +
                        edn::ToString(v) + ", which is not an entity id",
                    Value::Map({{Kw("error"), Kw("pull/not-an-entity")},
                                {Kw("attribute"), key},
                                {Kw("value"), v}}));
      }
      eids.push_back(v.as_long());
    }
    return eids;
  }

  // Reads the whole entity in one EAVT range and groups it by attribute; reads nothing (and
  // leaves f unscanned) when the entity has more than `cap` datoms.
  void Scan(Frame& f, size_t cap) {
    f.datoms.reserve(16);
    Pattern p;
    p.e = f.eid;
    bool whole = true;
    db_.Search(IndexOrder::kEavt, p, [&](const Datom& d) {
      if (f.datoms.size() == cap) {
        whole = false;
        return false;
      }
      f.datoms.push_back(d);
      return true;
    });
    if (!whole) {
      f.datoms.clear();
      return;
    }
    for (size_t k = 0; k < f.datoms.size();) {
      size_t end = k + 1;
      while (end < f.datoms.size() && f.datoms[end].a == f.datoms[k].a) ++end;
      f.groups.push_back({f.datoms[k].a, k, end});
      k = end;
    }
    f.scanned = true;
  }

  bool Exists(const Frame& f) const {
    if (f.scanned) return !f.datoms.empty();
    Pattern p;
    p.e = f.eid;
    bool found = false;
    db_.Search(IndexOrder::kEavt, p, [&](const Datom&) {
      found = true;
      return false;
    });
    return found;
  }

  // Sets vals_ to the first `limit` values of attribute a of the entity (EAVT order).
  void Values(const Frame& f, uint32_t a, uint64_t limit) {
    std::vector<Value>& vals = vals_;
    vals.clear();
    if (a == 0 || limit == 0) return;
    if (f.scanned) {
      for (const Group& g : f.groups) {
        if (g.a != a) continue;
        for (size_t k = g.begin; k < g.end && vals.size() < limit; ++k) {
          vals.push_back(f.datoms[k].v);
        }
        break;
      }
      return;
    }
    Pattern p;
    p.e = f.eid;
    p.a = a;
    db_.Search(IndexOrder::kEavt, p, [&](const Datom& d) {
      vals.push_back(d.v);
      return vals.size() < limit;
    });
  }

  // Sets vals_ to the first `limit` entities whose attribute a holds eid (AVET order), as Longs.
  void Referrers(uint32_t a, int64_t eid, uint64_t limit) {
    std::vector<Value>& vals = vals_;
    vals.clear();
    if (a == 0 || limit == 0) return;
    Pattern p;
    p.a = a;
    p.v = Value::Long(eid);
    db_.Search(IndexOrder::kAvet, p, [&](const Datom& d) {
      vals.push_back(Value::Long(d.e));
      return vals.size() < limit;
    });
  }

  const Db& db_;
  const Schema& schema_;
  std::vector<Frame> frames_;
  std::vector<PathNode> path_;
  std::vector<Value> vals_;  // the values of the attribute being added
};

// Datahike's entid-strict: the entity a pull starts from.
int64_t ResolveStrict(const Db& db, const Value& ref) {
  if (ref.type() == Type::kLong && ref.as_long() <= 0) {
    throw Error(ErrorKind::kTransaction,
                "Expected number or lookup ref for entity id, got " + edn::ToString(ref),
                Value::Map({{Kw("error"), Kw("entity-id/syntax")}, {Kw("entity-id"), ref}}));
  }
  int64_t e = db.Entid(ref);  // throws on a malformed reference
  if (e == 0) {
    throw Error(ErrorKind::kNotFound, "Nothing found for entity id " + edn::ToString(ref),
                Value::Map({{Kw("error"), Kw("entity-id/missing")}, {Kw("entity-id"), ref}}));
  }
  return e;
}

}  // namespace

std::shared_ptr<const PullSpec> ParsePullPattern(const Value& pattern) {
  std::shared_ptr<PullSpec> spec = ParsePattern(pattern);
  if (spec == nullptr) PatternError("Cannot parse pull pattern, expected: [attr-spec+]", pattern);
  return spec;
}

Value PullEntity(const Db& db, const PullSpec& spec, int64_t eid) {
  return Puller(db).Run(spec, eid);
}

Value Pull(const Db& db, const PullSpec& spec, const Value& eid) {
  return PullEntity(db, spec, ResolveStrict(db, eid));
}

Value Pull(const Db& db, const Value& pattern, const Value& eid) {
  std::shared_ptr<const PullSpec> spec = ParsePullPattern(pattern);
  return Pull(db, *spec, eid);
}

Value PullMany(const Db& db, const Value& pattern, const Value& eids) {
  std::shared_ptr<const PullSpec> spec = ParsePullPattern(pattern);
  if (!eids.is_collection()) {
    throw Error(ErrorKind::kQuery,
                "pull-many expects a collection of entity ids, got " + edn::ToString(eids));
  }
  std::vector<int64_t> resolved;
  resolved.reserve(eids.size());
  for (const Value& ref : eids.items()) resolved.push_back(ResolveStrict(db, ref));
  std::vector<Value> out;
  out.reserve(resolved.size());
  Puller puller(db);
  for (int64_t e : resolved) {
    Value m = puller.Run(*spec, e);
    if (!m.is_nil()) out.push_back(std::move(m));
  }
  return Value::Vector(std::move(out));
}

}  // namespace datahike
