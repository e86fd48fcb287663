#include "core/tx/transact.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "core/value/edn.h"
#include "core/value/error.h"

namespace datahike {

int64_t NowMillis() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

Value DatomToValue(const Datom& d) {
  return Value::Vector({Value::Long(d.e), Value::Keyword(KeywordById(d.a)), d.v, Value::Long(d.tx),
                        Value::Bool(d.added)});
}

Value ReportToValue(const TxReport& r) {
  std::vector<Value> data;
  data.reserve(r.tx_data.size());
  for (const Datom& d : r.tx_data) data.push_back(DatomToValue(d));
  std::vector<std::pair<Value, Value>> tempids;
  for (const auto& [k, e] : r.tempids) tempids.emplace_back(k, Value::Long(e));
  auto basis = [](const DbPtr& db) {
    return Value::Map({{Kw("max-tx"), Value::Long(db->max_tx())},
                       {Kw("max-eid"), Value::Long(db->max_eid())}});
  };
  return Value::Map({{Kw("tx-data"), Value::Vector(std::move(data))},
                     {Kw("tempids"), Value::Map(std::move(tempids))},
                     {Kw("tx-meta"), r.tx_meta},
                     {Kw("db-before"), basis(r.db_before)},
                     {Kw("db-after"), basis(r.db_after)}});
}

namespace {

// Thrown inside a run when a tempid that was already given a new id turns out to upsert into an
// existing entity: the transaction restarts with that tempid fixed.
struct RetryWithTempid {
  Value tempid;
  int64_t eid;
};

bool IsTempid(const Value& v) {
  return v.is_string() || (v.type() == Type::kLong && v.as_long() < 0);
}

bool IsTxId(const Value& v) {
  if (v.is_keyword()) return v.as_named()->full == "db/current-tx";
  if (v.is_string()) {
    std::string_view s = v.as_string();
    return s == "datomic.tx" || s == "datahike.tx" || s == ":db/current-tx";
  }
  return false;
}

std::string Str(const Value& v) { return edn::ToString(v); }

[[noreturn]] void TxError(const std::string& msg, const char* code, const Value& context = Value()) {
  std::vector<std::pair<Value, Value>> data{{Kw("error"), Kw(code)}};
  if (!context.is_nil()) data.emplace_back(Kw("context"), context);
  throw Error(ErrorKind::kTransaction, msg, Value::Map(std::move(data)));
}

[[noreturn]] void SchemaError(const std::string& msg, const Value& context = Value()) {
  std::vector<std::pair<Value, Value>> data{{Kw("error"), Kw("transact/schema")}};
  if (!context.is_nil()) data.emplace_back(Kw("context"), context);
  throw Error(ErrorKind::kSchema, msg, Value::Map(std::move(data)));
}

std::string DatomText(const Datom& d) {
  return "#datahike/Datom [" + std::to_string(d.e) + " :" + KeywordById(d.a)->full + " " +
         Str(d.v) + " " + std::to_string(d.tx) + " " + (d.added ? "true" : "false") + "]";
}

// Probes for prefix seeks in the transient trees.
struct EaProbe {
  int64_t e;
  uint32_t a;  // 0: any attribute
  int operator()(const Datom& d) const {
    if (int c = CompareLong(d.e, e)) return c;
    return a == 0 ? 0 : CompareAttr(d.a, a);
  }
};
struct EavProbe {
  int64_t e;
  uint32_t a;
  const Value* v;
  int operator()(const Datom& d) const {
    if (int c = CompareLong(d.e, e)) return c;
    if (int c = CompareAttr(d.a, a)) return c;
    return Compare(d.v, *v);
  }
};
struct AProbe {
  uint32_t a;
  int operator()(const Datom& d) const { return CompareAttr(d.a, a); }
};
struct AvProbe {
  uint32_t a;
  const Value* v;
  int operator()(const Datom& d) const {
    if (int c = CompareAttr(d.a, a)) return c;
    return Compare(d.v, *v);
  }
};

uint32_t Id(const char* kw) { return InternKeyword(kw)->id; }

struct Builtins {
  uint32_t ident = Id("db/ident");
  uint32_t value_type = Id("db/valueType");
  uint32_t cardinality = Id("db/cardinality");
  uint32_t unique = Id("db/unique");
  uint32_t index = Id("db/index");
  uint32_t component = Id("db/isComponent");
  uint32_t no_history = Id("db/noHistory");
  uint32_t doc = Id("db/doc");
  uint32_t tx_instant = Id("db/txInstant");
  uint32_t tuple_attrs = Id("db/tupleAttrs");
  uint32_t tuple_types = Id("db/tupleTypes");
  uint32_t tuple_type = Id("db/tupleType");
  uint32_t max_length = Id("db/maxLength");
  uint32_t db_id = Id("db/id");
  const Named* add = InternKeyword("db/add");
  Value db_id_kw = Kw("db/id");
  Value tx_instant_kw = Kw("db/txInstant");
  Value current_tx_kw = Kw("db/current-tx");
  const Named* retract = InternKeyword("db/retract");
  bool IsSchemaAttr(uint32_t a) const {
    return a == ident || a == value_type || a == cardinality || a == unique || a == index ||
           a == component || a == no_history || a == doc || a == tuple_attrs ||
           a == tuple_types || a == tuple_type || a == max_length;
  }
  // Properties that make an ident an attribute (beyond :db/ident and :db/doc).
  bool IsDefiningAttr(uint32_t a) const { return IsSchemaAttr(a) && a != ident && a != doc; }
};
const Builtins& B() {
  static const Builtins b;
  return b;
}

struct ValueMapHash {
  size_t operator()(const Value& v) const { return Hash(v); }
};
struct ValueMapEq {
  bool operator()(const Value& a, const Value& b) const {
    return a.type() == b.type() && Equal(a, b);
  }
};
using TempidMap = std::unordered_map<Value, int64_t, ValueMapHash, ValueMapEq>;

// One work item: a tx-data element, a [:db/add e a v] exploded from an entity map (kept as parts,
// no vector is built), or a marker that flushes queued composite tuples.
struct WorkItem {
  enum Kind : uint8_t { kEntity, kAdd, kFlushTuples };
  Value entity;  // kEntity: the element; kAdd: e
  Value a, v;    // kAdd only
  Kind kind = kEntity;
};

WorkItem EntityItem(Value x) { return WorkItem{std::move(x), Value(), Value(), WorkItem::kEntity}; }
WorkItem AddItem(Value e, Value a, Value v) {
  return WorkItem{std::move(e), std::move(a), std::move(v), WorkItem::kAdd};
}
WorkItem FlushItem() { return WorkItem{Value(), Value(), Value(), WorkItem::kFlushTuples}; }

// An op for error messages, formed only when an error is reported.
inline auto Lazy(const Value& v) {
  return [&v] { return v; };
}

}  // namespace

// Builds one transaction. Friend of Db: reads its trees and assembles the new value.
class TxBuilder {
 public:
  TxBuilder(const DbPtr& before, int64_t now)
      : before_(before), now_(now), work_(VectorPool<WorkItem>::Take()) {}
  ~TxBuilder() { VectorPool<WorkItem>::Give(work_); }
  TxBuilder(const TxBuilder&) = delete;
  TxBuilder& operator=(const TxBuilder&) = delete;

  TxReport Run(const Value& tx_data, const Value& tx_meta) {
    if (before_->view() != ViewKind::kCurrent) {
      throw Error(ErrorKind::kMisuse, "Cannot transact on a historical (as-of/since/history) db value");
    }
    if (!tx_data.is_nil() && !tx_data.is_sequential()) {
      TxError("Bad transaction data " + Str(tx_data) + ", expected sequential collection",
              "transact/syntax", tx_data);
    }
    if (!tx_meta.is_nil() && !tx_meta.is_map()) {
      TxError("Bad transaction meta " + Str(tx_meta) + ", expected a map", "transact/syntax");
    }
    TempidMap seed;
    std::vector<Value> seed_order;
    for (int attempt = 0;; ++attempt) {
      try {
        return RunOnce(tx_data, tx_meta, seed, seed_order);
      } catch (const RetryWithTempid& r) {
        auto it = seed.find(r.tempid);
        if (it != seed.end() || attempt > 1000) {
          TxError("Conflicting upsert: " + Str(r.tempid) + " resolves both to " +
                      std::to_string(r.eid) + " and " +
                      (it != seed.end() ? std::to_string(it->second) : std::string("another entity")),
                  "transact/upsert");
        }
        seed = tempids_;
        seed_order = tempid_order_;
        if (seed.emplace(r.tempid, r.eid).second) seed_order.push_back(r.tempid);
        seed[r.tempid] = r.eid;
      }
    }
  }

 private:
  // ------------------------------------------------------------------------------------------------
  // State of one run

  void Reset(const TempidMap& seed, const std::vector<Value>& seed_order) {
    const Db& db = *before_;
    eavt_.Reset(&db.current_.eavt);
    aevt_.Reset(&db.current_.aevt);
    avet_.Reset(&db.current_.avet);
    teavt_.Reset(&db.temporal_.eavt);
    taevt_.Reset(&db.temporal_.aevt);
    tavet_.Reset(&db.temporal_.avet);
    history_ = db.config_.keep_history;
    schema_ = db.schema_;
    schema_owned_ = false;
    max_eid_ = db.max_eid_;
    tx_ = db.max_tx_ + 1;
    tempids_ = seed;
    tempid_order_ = seed_order;
    tx_data_.clear();
    purges_.clear();
    queued_tuples_.clear();
    dirty_schema_.clear();
    work_.clear();
  }

  const Schema& schema() {
    if (!dirty_schema_.empty()) RebuildSchema();
    return *schema_;
  }
  Schema& MutableSchema() {
    if (!schema_owned_) {
      schema_ = std::make_shared<Schema>(*schema_);
      schema_owned_ = true;
    }
    return const_cast<Schema&>(*schema_);
  }
  bool write_mode() const { return !before_->config_.schema_on_read; }

  // ------------------------------------------------------------------------------------------------
  // Reads of the in-progress state. EAVT reads of one entity pass it as the filter key (see
  // StagedIndex::Seek) and read only that entity's datoms.

  std::optional<Datom> FindEa(int64_t e, uint32_t a) {
    // An entity id past the Db's max-eid has no datoms there (every added datom advances it).
    const bool new_entity = e > before_->max_eid() && e < kTx0;
    const Datom* d = eavt_.First(EaProbe{e, a}, e, new_entity);
    if (d != nullptr && d->e == e && d->a == a) return *d;
    return std::nullopt;
  }
  std::optional<Datom> FindEav(int64_t e, uint32_t a, const Value& v) {
    EavProbe probe{e, a, &v};
    const Datom* d = eavt_.First(probe, e);
    if (d != nullptr && probe(*d) == 0) return *d;
    return std::nullopt;
  }
  std::vector<Datom> AllEa(int64_t e, uint32_t a) {
    std::vector<Datom> out;
    EaProbe probe{e, a};
    for (auto it = eavt_.Seek(probe, e); it.Valid() && probe(*it) == 0; it.Next()) {
      out.push_back(*it);
    }
    return out;
  }
  // First datom of attribute a with value v in AVET, or none.
  std::optional<Datom> FindAv(uint32_t a, const Value& v) {
    avet_.Undefer(a);
    AvProbe probe{a, &v};
    const Datom* d = avet_.First(probe);
    if (d != nullptr && probe(*d) == 0) return *d;
    return std::nullopt;
  }

  // Entity resolution against the in-progress state. Returns 0 when nothing is found.
  int64_t Entid(const Value& ref) {
    switch (ref.type()) {
      case Type::kLong:
        if (ref.as_long() <= 0) {
          TxError("Expected number or lookup ref for entity id, got " + Str(ref), "entity-id/syntax",
                  ref);
        }
        return ref.as_long();
      case Type::kKeyword: {
        auto d = FindAv(B().ident, ref);
        return d ? d->e : 0;
      }
      case Type::kList:
      case Type::kVector: {
        const auto& items = ref.items();
        if (items.size() != 2) {
          TxError("Lookup ref should contain 2 elements: " + Str(ref), "lookup-ref/syntax", ref);
        }
        const Attribute* attr = items[0].is_keyword() ? schema().Find(AttrOf(items[0])) : nullptr;
        if (attr == nullptr || attr->unique == Unique::kNone) {
          TxError("Lookup ref attribute should be marked as :db/unique: " + Str(ref),
                  "lookup-ref/unique", ref);
        }
        if (items[1].is_nil()) return 0;
        Value v = items[1];
        if (attr->is_ref() && (v.is_keyword() || v.is_sequential())) {
          v = Value::Long(EntidStrict(v));
        }
        auto d = FindAv(attr->ident, v);
        return d ? d->e : 0;
      }
      default:
        TxError("Expected number or lookup ref for entity id, got " + Str(ref), "entity-id/syntax",
                ref);
    }
  }
  int64_t EntidStrict(const Value& ref) {
    int64_t e = Entid(ref);
    if (e == 0) TxError("Nothing found for entity id " + Str(ref), "entity-id/missing", ref);
    return e;
  }

  // ------------------------------------------------------------------------------------------------
  // Index writes

  // AVET holds every datom, but a transaction reads it only for attributes in Datahike's AVET
  // (idents, unique values, refs): the changes of other attributes are deferred to the end of the
  // transaction (StagedIndex::Defer), and a read of such an attribute first calls Undefer.
  static bool AvetReadInTx(const Attribute* attr) { return attr != nullptr && attr->in_avet(); }
  static void AvetChange(StagedIndex<AvetLess>& index, const Datom& d, const Attribute* attr,
                         bool insert) {
    if (AvetReadInTx(attr)) {
      if (insert) {
        index.Insert(d);
      } else {
        index.Erase(d);
      }
    } else {
      index.Defer(d, insert, d.a);
    }
  }
  void InsertCurrent(const Datom& d, const Attribute* attr) {
    eavt_.Insert(d);
    aevt_.Insert(d);
    AvetChange(avet_, d, attr, true);
  }
  void EraseCurrent(const Datom& d, const Attribute* attr) {
    eavt_.Erase(d);
    aevt_.Erase(d);
    AvetChange(avet_, d, attr, false);
  }

  void InsertTemporal(const Datom& d, const Attribute* attr) {
    teavt_.Insert(d);
    taevt_.Insert(d);
    AvetChange(tavet_, d, attr, true);
  }

  void AdvanceMaxEid(int64_t e) {
    if (e > max_eid_ && e < kTx0) max_eid_ = e;
  }
  int64_t NextEid() { return max_eid_ + 1; }
  void Allocate(const Value& tempid, int64_t eid) {
    if (IsTempid(tempid) || IsTxId(tempid)) {
      auto [it, inserted] = tempids_.emplace(tempid, eid);
      if (inserted) {
        tempid_order_.push_back(tempid);
      } else {
        it->second = eid;
      }
    }
    AdvanceMaxEid(eid);
  }
  const int64_t* TempidOf(const Value& tempid) {
    auto it = tempids_.find(tempid);
    return it == tempids_.end() ? nullptr : &it->second;
  }

  // ------------------------------------------------------------------------------------------------
  // Validation

  // The attribute of an op, validated: a keyword defined in the schema under :write.
  // `at()` gives the op for error messages; it is only called on an error.
  template <class At>
  const Attribute* ValidateAttr(const Value& a, const At& at, uint32_t* id) {
    if (!a.is_keyword()) {
      TxError("Bad entity attribute " + Str(a) + " at " + Str(at()) + ", expected keyword",
              "transact/syntax", at());
    }
    *id = AttrOf(a);
    const Attribute* attr = schema().Find(*id);
    if (attr == nullptr && write_mode()) {
      SchemaError("Bad entity attribute " + Str(a) + " at " + Str(at()) +
                      ", not defined in current schema",
                  at());
    }
    return attr;
  }

  template <class At>
  void ValidateValue(const Value& v, const Attribute* attr, const At& at) {
    if (v.is_nil()) {
      TxError("Cannot store nil as a value at " + Str(at()), "transact/syntax", at());
    }
    if (attr == nullptr || attr->type == ValueType::kAny) return;
    bool ok;
    if (attr->is_ref()) {
      ok = v.type() == Type::kLong || v.is_keyword() || v.is_sequential() || v.is_string();
    } else {
      ok = ValueConforms(attr->type, v);
    }
    if (!ok && (write_mode() || schema().IsBuiltin(attr->ident))) {
      SchemaError("Bad entity value " + Str(v) + " at " + Str(at()) +
                      ", value does not match schema definition. Must be conform to: " +
                      ValueTypePredicate(attr->type),
                  at());
    }
  }

  template <class At>
  void CheckTuple(const Attribute* attr, const Value& v, const At& op_fn, bool internal) {
    if (attr == nullptr || attr->type != ValueType::kTuple) return;
    Value op = op_fn();
    if (!attr->tuple_attrs.empty()) {
      if (!internal) {
        TxError("Can't modify tuple attrs directly: " + Str(op), "transact/syntax", op);
      }
      return;
    }
    if (!v.is_sequential()) return;  // ValidateValue reports a non-vector
    const auto& items = v.items();
    if (attr->has_tuple_type) {
      if (items.size() > 8) {
        TxError("Cannot store more than 8 values for homogeneous tuple: " + Str(op),
                "transact/syntax", op);
      }
      for (const Value& x : items) {
        if (!x.is_nil() && !items[0].is_nil() && x.type() != items[0].type()) {
          TxError("Cannot store homogeneous tuple with values of different type: " + Str(op),
                  "transact/syntax", op);
        }
      }
      for (const Value& x : items) {
        if (!x.is_nil() && !ValueConforms(attr->tuple_type, x)) {
          TxError("Cannot store homogeneous tuple. Values are of wrong type: " + Str(op),
                  "transact/syntax", op);
        }
      }
    } else if (!attr->tuple_types.empty()) {
      if (items.size() != attr->tuple_types.size()) {
        TxError("Cannot store heterogeneous tuple: expecting " +
                    std::to_string(attr->tuple_types.size()) + " values, got " +
                    std::to_string(items.size()),
                "transact/syntax", op);
      }
      for (size_t i = 0; i < items.size(); ++i) {
        if (!items[i].is_nil() && !ValueConforms(attr->tuple_types[i], items[i])) {
          std::vector<Value> types;
          for (ValueType t : attr->tuple_types) types.push_back(Kw(ValueTypeKeyword(t)));
          TxError("Cannot store heterogeneous tuple: there is a mismatch between values " +
                      Str(v) + " and their types " + Str(Value::Vector(std::move(types))),
                  "transact/syntax", op);
        }
      }
    }
  }

  // Value-size caps on assertions: an attribute's :db/maxLength, else (under :write, for user
  // attributes) the database's :max-string-length / :max-bytes-length; tuple string slots by
  // :max-tuple-string-length.
  template <class At>
  void CheckValueCaps(uint32_t a, const Attribute* attr, const Value& v, const At& op) {
    const Config& cfg = before_->config_;
    bool user = write_mode() && !schema().IsBuiltin(a);
    auto utf8_length = [](std::string_view s) {
      size_t n = 0;
      for (unsigned char c : s) n += (c & 0xC0) != 0x80;
      return static_cast<int64_t>(n);
    };
    if (v.is_string() || v.type() == Type::kBytes) {
      int64_t limit = attr != nullptr && attr->max_length >= 0
                          ? attr->max_length
                          : (user ? (v.is_string() ? cfg.max_string_length : cfg.max_bytes_length)
                                  : 0);
      int64_t len = limit <= 0 ? 0
                    : v.is_string() ? utf8_length(v.as_string())
                                    : static_cast<int64_t>(v.as_string().size());
      if (limit > 0 && len > limit) {
        TxError(std::string(v.is_string() ? "String" : "Byte") + " value for :" +
                    KeywordById(a)->full + " exceeds max length " + std::to_string(limit) +
                    (v.is_string() ? "" : " bytes") + " (was " + std::to_string(len) + ")",
                "transact/max-length", op());
      }
    }
    if (user && cfg.max_tuple_string_length > 0 && attr != nullptr &&
        attr->type == ValueType::kTuple && v.is_sequential()) {
      const auto& items = v.items();
      for (size_t i = 0; i < items.size(); ++i) {
        bool string_slot = attr->has_tuple_type ? attr->tuple_type == ValueType::kString
                                                : (i < attr->tuple_types.size() &&
                                                   attr->tuple_types[i] == ValueType::kString);
        if (string_slot && items[i].is_string() &&
            utf8_length(items[i].as_string()) > cfg.max_tuple_string_length) {
          TxError("Tuple string slot for :" + KeywordById(a)->full + " exceeds max length " +
                      std::to_string(cfg.max_tuple_string_length) + " (was " +
                      std::to_string(utf8_length(items[i].as_string())) + ")",
                  "transact/max-length", op());
        }
      }
    }
  }

  // ------------------------------------------------------------------------------------------------
  // Adds and retractions

  void AddDatom(int64_t e, uint32_t a, const Attribute* attr, const Value& v) {
    bool many = attr != nullptr && attr->many;
    std::optional<Datom> old = many ? FindEav(e, a, v) : FindEa(e, a);
    if (old && (many || Compare(old->v, v) == 0)) return;  // re-asserted: no datom
    if (old) RetractDatom(*old, attr);
    if (attr != nullptr && attr->unique != Unique::kNone) {
      auto found = FindAv(a, v);
      if (found && found->e != e) {
        Datom d{v, e, tx_, a, true};
        TxError("Cannot add " + DatomText(d) + " because of unique constraint: (" +
                    DatomText(*found) + ")",
                "transact/unique", DatomToValue(d));
      }
    }
    Datom d{v, e, tx_, a, true};
    InsertCurrent(d, attr);
    tx_data_.push_back(d);
    AdvanceMaxEid(e);
    Touched(e, a, &v);
  }

  // REQUIRES: d is in the current indices.
  void RetractDatom(const Datom& d, const Attribute* attr) {
    EraseCurrent(d, attr);
    bool keep = history_ && d.tx != tx_ && d.a != B().tx_instant &&
                !(attr != nullptr && attr->no_history);
    if (keep) {
      InsertTemporal(d, attr);
      Datom r = d;
      r.tx = tx_;
      r.added = false;
      InsertTemporal(r, attr);
    }
    Datom r{d.v, d.e, tx_, d.a, false};
    tx_data_.push_back(r);
    Touched(d.e, d.a, nullptr);
  }

  void Touched(int64_t e, uint32_t a, const Value* v) {
    if (B().IsSchemaAttr(a)) dirty_schema_.insert(e);
    if (const auto* composites = schema_->CompositesOf(a)) {
      for (uint32_t t : *composites) QueueTuple(e, t, a, v);
    }
  }

  void QueueTuple(int64_t e, uint32_t tuple, uint32_t a, const Value* v) {
    const Attribute* tattr = schema_->Find(tuple);
    if (tattr == nullptr) return;
    auto& slot = queued_tuples_[e];
    auto it = slot.find(tuple);
    if (it == slot.end()) {
      std::vector<Value> init(tattr->tuple_attrs.size());
      if (auto cur = FindEa(e, tuple); cur && cur->v.is_sequential() &&
                                       cur->v.size() == init.size()) {
        init = cur->v.items();
      }
      it = slot.emplace(tuple, std::move(init)).first;
    }
    for (size_t i = 0; i < tattr->tuple_attrs.size(); ++i) {
      if (tattr->tuple_attrs[i] == a) it->second[i] = v ? *v : Value();
    }
  }

  void FlushTuples() {
    if (queued_tuples_.empty()) return;
    auto queued = std::move(queued_tuples_);
    queued_tuples_.clear();
    for (auto& [e, tuples] : queued) {
      for (auto& [t, values] : tuples) {
        bool all_nil = std::all_of(values.begin(), values.end(),
                                   [](const Value& x) { return x.is_nil(); });
        const Attribute* tattr = schema_->Find(t);
        auto cur = FindEa(e, t);
        if (all_nil) {
          if (cur) RetractDatom(*cur, tattr);
          continue;
        }
        Value tv = Value::Vector(std::move(values));
        if (cur && Compare(cur->v, tv) == 0) continue;
        AddDatom(e, t, tattr, tv);
      }
    }
  }

  // ------------------------------------------------------------------------------------------------
  // Schema maintenance

  void RebuildSchema() {
    // An attribute may move into Datahike's AVET here: its deferred AVET changes become
    // searchable first, so every deferred change is newer than any searchable one on its datom.
    avet_.Undefer();
    tavet_.Undefer();
    std::set<int64_t> dirty;
    dirty.swap(dirty_schema_);
    Schema& s = MutableSchema();
    for (int64_t e : dirty) {
      // Forget whatever attribute this entity defined before.
      for (const auto& [id, attr] : s.attributes()) {
        if (attr.eid == e) {
          s.Remove(id);
          break;
        }
      }
      std::vector<std::pair<Value, Value>> props;
      Value ident;
      bool defining = false;
      for (const Datom& d : AllEa(e, 0)) {
        if (!B().IsSchemaAttr(d.a)) continue;
        if (d.a == B().ident) {
          ident = d.v;
          continue;
        }
        if (B().IsDefiningAttr(d.a)) defining = true;
        props.emplace_back(Value::Keyword(KeywordById(d.a)), d.v);
      }
      if (!ident.is_keyword() || !defining) continue;
      Value pm = Value::Map(std::move(props));
      Attribute a = AttributeFromProperties(AttrOf(ident), pm, false);
      a.eid = e;
      s.Put(std::move(a));
    }
  }

  // Datahike's early check for entity maps that change an existing attribute.
  void CheckSchemaUpdate(const Value& entity, int64_t eid) {
    bool schema_entity = false;
    for (const auto& [k, v] : entity.entries()) {
      schema_entity = schema_entity || (k.is_keyword() && B().IsSchemaAttr(k.as_named()->id));
    }
    if (!schema_entity) return;
    const Value* ident = entity.get("db/ident");
    const Attribute* existing = nullptr;
    for (const auto& [id, a] : schema().attributes()) {
      if (a.eid == eid && eid != 0) existing = &a;
    }
    if (existing == nullptr && ident != nullptr && ident->is_keyword()) {
      existing = schema().Find(AttrOf(*ident));
      if (existing != nullptr && existing->eid != eid) existing = nullptr;
    }
    if (existing == nullptr) {
      if (write_mode() && (entity.get("db/cardinality") || entity.get("db/valueType"))) {
        if (ident == nullptr || entity.get("db/cardinality") == nullptr ||
            entity.get("db/valueType") == nullptr) {
          SchemaError(
              "Incomplete schema transaction attributes, expected :db/ident, :db/valueType, "
              ":db/cardinality",
              entity);
        }
      }
      return;
    }
    std::vector<Value> invalid;
    if (const Value* c = entity.get("db/cardinality")) {
      bool many = c->is_keyword() && c->as_named()->full == "db.cardinality/many";
      if (many && !existing->many && existing->unique != Unique::kNone) {
        invalid.push_back(Kw("db/cardinality"));
      }
    }
    if (const Value* u = entity.get("db/unique")) {
      Unique nu = Unique::kNone;
      if (u->is_keyword() && u->as_named()->full == "db.unique/identity") nu = Unique::kIdentity;
      if (u->is_keyword() && u->as_named()->full == "db.unique/value") nu = Unique::kValue;
      // Unique may switch between identity and value; it cannot be added to a many attribute.
      if (existing->unique == Unique::kNone && nu != Unique::kNone && existing->many) {
        invalid.push_back(Kw("db/unique"));
      }
    }
    if (const Value* i = entity.get("db/index")) {
      if (existing->index && !(i->type() == Type::kBool && i->as_bool())) {
        invalid.push_back(Kw("db/index"));
      }
    }
    if (!invalid.empty()) {
      throw Error(ErrorKind::kSchema, "Update not supported for these schema attributes",
                  Value::Map({{Kw("error"), Kw("transact/schema")},
                              {Kw("entity"), entity},
                              {Kw("invalid-updates"), Value::Vector(std::move(invalid))}}));
    }
  }

  bool AttrHasData(uint32_t a, bool include_history) {
    AProbe probe{a};
    auto it = aevt_.Seek(probe);
    if (it.Valid() && probe(*it) == 0) return true;
    if (include_history && history_) {
      auto ht = taevt_.Seek(probe);
      if (ht.Valid() && probe(*ht) == 0) return true;
    }
    return false;
  }

  // The end-of-transaction check of schema changes, on the resulting state.
  void ValidateSchemaChanges() {
    if (schema_.get() == before_->schema_.get()) return;
    const Schema& old_schema = *before_->schema_;
    const Schema& new_schema = schema();
    std::set<uint32_t> idents;
    for (const auto& [id, a] : old_schema.attributes()) idents.insert(id);
    for (const auto& [id, a] : new_schema.attributes()) idents.insert(id);
    for (uint32_t id : idents) {
      const Attribute* o = old_schema.Find(id);
      const Attribute* n = new_schema.Find(id);
      if (n == nullptr || old_schema.IsBuiltin(id)) continue;
      Value name = Value::Keyword(KeywordById(id));
      if (write_mode() && n->eid != 0 && (!HasProp(n->eid, B().value_type) ||
                                          !HasProp(n->eid, B().cardinality))) {
        SchemaError(
            "Incomplete schema transaction attributes, expected :db/ident, :db/valueType, "
            ":db/cardinality",
            name);
      }
      if (o == nullptr) continue;
      // :db/index can be switched on, not off.
      if (o->index && !n->index) UpdateNotSupported(name, "db/index");
      // one -> many is refused on a unique attribute.
      if (!o->many && n->many && (n->unique != Unique::kNone || o->unique != Unique::kNone)) {
        UpdateNotSupported(name, "db/cardinality");
      }
      if (o->many && !n->many && HasMultiValuedEntity(id)) {
        SchemaError("Cannot change the cardinality of " + Str(name) +
                        " to one: an entity holds more than one value",
                    name);
      }
      bool type_changed = o->type != n->type || o->tuple_attrs != n->tuple_attrs ||
                          o->tuple_types != n->tuple_types || o->tuple_type != n->tuple_type;
      if (type_changed && AttrHasData(id, true)) {
        SchemaError("Schema change on " + Str(name) +
                        " requires the attribute to be unused, but it has existing (or history) "
                        "datoms. Migrate the data to a new attribute instead.",
                    name);
      }
      if (o->unique == Unique::kNone && n->unique != Unique::kNone) {
        if (n->many) UpdateNotSupported(name, "db/unique");
      }
      if (o->unique == Unique::kNone && n->unique != Unique::kNone) CheckNowUnique(id);
    }
  }

  bool HasProp(int64_t e, uint32_t a) { return FindEa(e, a).has_value(); }

  [[noreturn]] void UpdateNotSupported(const Value& name, const char* prop) {
    throw Error(ErrorKind::kSchema, "Update not supported for these schema attributes",
                Value::Map({{Kw("error"), Kw("transact/schema")},
                            {Kw("attribute"), name},
                            {Kw("invalid-updates"), Value::Vector({Kw(prop)})}}));
  }

  bool HasMultiValuedEntity(uint32_t a) {
    AProbe probe{a};
    int64_t last = 0;
    for (auto it = aevt_.Seek(probe); it.Valid() && probe(*it) == 0; it.Next()) {
      if (it->e == last) return true;
      last = it->e;
    }
    return false;
  }

  // An attribute switched to unique: its existing values must already be distinct (AVET holds every
  // datom, so the first datom with a value names the entity that keeps it).
  void CheckNowUnique(uint32_t a) {
    AProbe probe{a};
    std::vector<Datom> cur;
    for (auto it = aevt_.Seek(probe); it.Valid() && probe(*it) == 0; it.Next()) {
      cur.push_back(*it);
    }
    for (const Datom& d : cur) {
      auto found = FindAv(a, d.v);
      if (found && found->e != d.e) {
        TxError("Cannot add " + DatomText(d) + " because of unique constraint: (" +
                    DatomText(*found) + ")",
                "transact/unique", DatomToValue(d));
      }
    }
  }

  // ------------------------------------------------------------------------------------------------
  // Upsert

  // The existing entity an entity map resolves to through its unique identity attributes, or 0.
  int64_t UpsertEid(const Value& entity, const Value& id) {
    int64_t found_e = 0;
    Value found_a, found_v;
    for (const auto& [k, v0] : entity.entries()) {
      if (!k.is_keyword()) continue;
      const Attribute* attr = schema().Find(AttrOf(k));
      if (attr == nullptr || attr->unique != Unique::kIdentity) continue;
      Value v = v0;
      if (attr->is_ref() && IsTempid(v0)) {
        const int64_t* t = TempidOf(v0);
        if (t == nullptr) continue;
        v = Value::Long(*t);
      } else if (attr->is_ref() && (v0.is_keyword() || v0.is_sequential())) {
        int64_t e = Entid(v0);
        if (e == 0) continue;
        v = Value::Long(e);
      }
      if (v.is_nil()) continue;
      ValidateValue(v, attr, [&] { return Value::Vector({Value(), Value(), k, v}); });
      auto d = FindAv(attr->ident, v);
      if (!d) continue;
      if (found_e == 0) {
        found_e = d->e;
        found_a = k;
        found_v = v;
      } else if (found_e != d->e) {
        TxError("Conflicting upserts: " + Str(Value::Vector({found_a, found_v})) + " resolves to " +
                    std::to_string(found_e) + ", but " + Str(Value::Vector({k, v})) +
                    " resolves to " + std::to_string(d->e),
                "transact/upsert", entity);
      }
    }
    // Unique composite tuples whose parts all appear in the map.
    for (const auto& [tid, tattr] : schema().attributes()) {
      if (!schema().has_unique_composites()) break;
      if (tattr.tuple_attrs.empty() || tattr.unique != Unique::kIdentity) continue;
      std::vector<Value> parts;
      bool complete = true;
      for (uint32_t part : tattr.tuple_attrs) {
        const Value* pv = entity.get(Value::Keyword(KeywordById(part)));
        const Attribute* pattr = schema().Find(part);
        bool part_ref = pattr != nullptr && pattr->is_ref();
        if (pv == nullptr || (part_ref && IsTempid(*pv))) {
          complete = false;
          break;
        }
        Value x = *pv;
        if (part_ref) x = Value::Long(EntidStrict(x));
        parts.push_back(x);
      }
      if (!complete) continue;
      Value tv = Value::Vector(std::move(parts));
      auto d = FindAv(tid, tv);
      if (!d) continue;
      Value tk = Value::Keyword(KeywordById(tid));
      if (found_e == 0) {
        found_e = d->e;
        found_a = tk;
        found_v = tv;
      } else if (found_e != d->e) {
        TxError("Conflicting upserts: " + Str(Value::Vector({found_a, found_v})) + " resolves to " +
                    std::to_string(found_e) + ", but " + Str(Value::Vector({tk, tv})) +
                    " resolves to " + std::to_string(d->e),
                "transact/upsert", entity);
      }
    }
    if (found_e != 0 && id.type() == Type::kLong && id.as_long() > 0 && id.as_long() != found_e) {
      TxError("Conflicting upsert: " + Str(Value::Vector({found_a, found_v})) + " resolves to " +
                  std::to_string(found_e) + ", but entity already has :db/id " +
                  std::to_string(id.as_long()),
              "transact/upsert", entity);
    }
    return found_e;
  }

  // ------------------------------------------------------------------------------------------------
  // Entity maps

  static bool IsReverse(const Named* k) { return !k->name.empty() && k->name[0] == '_'; }
  static const Named* FlipReverse(const Named* k) {
    if (IsReverse(k)) return InternKeyword(k->ns, k->name.substr(1));
    return InternKeyword(k->ns, "_" + k->name);
  }

  void ProcessMap(const Value& entity) {
    const Value* idp = entity.get(B().db_id_kw);
    Value old_id = idp ? *idp : Value();
    Value resolved = old_id;
    if (IsTxId(old_id)) {
      resolved = Value::Long(tx_);
      Allocate(old_id, tx_);
    } else if (old_id.is_sequential()) {
      resolved = Value::Long(EntidStrict(old_id));
    } else if (old_id.is_keyword()) {
      resolved = Value::Long(EntidStrict(Value::Vector({Kw("db/ident"), old_id})));
    }
    int64_t upserted = UpsertEid(entity, resolved);
    const int64_t* resolved_tempid = IsTempid(resolved) ? TempidOf(resolved) : nullptr;
    if (upserted != 0 && resolved_tempid != nullptr && upserted != *resolved_tempid) {
      throw RetryWithTempid{resolved, upserted};
    }
    int64_t eid;
    if (upserted != 0) {
      eid = upserted;
    } else if (resolved.is_nil()) {
      eid = NextEid();
    } else if (IsTempid(resolved)) {
      eid = resolved_tempid ? *resolved_tempid : NextEid();
    } else if (resolved.type() == Type::kLong) {
      eid = resolved.as_long();
    } else {
      TxError("Expected number, string, keyword or lookup ref for :db/id, got " + Str(old_id),
              "entity-id/syntax", entity);
    }
    CheckSchemaUpdate(entity, eid);
    Allocate(resolved, eid);
    Explode(entity, eid);
  }

  static std::string AtText(int64_t eid, const Value& a, const Value& v) {
    return "{:db/id " + std::to_string(eid) + ", " + Str(a) + " " + Str(v) + "}";
  }

  void Explode(const Value& entity, int64_t eid) {
    std::vector<WorkItem> out;
    Value e = Value::Long(eid);
    for (const auto& [k, vs] : entity.entries()) {
      if (k.is_keyword() && (k.as_named()->full == "db/id" || k.as_named()->full == "db/ensure")) {
        continue;
      }
      if (!k.is_keyword()) {
        TxError("Bad entity attribute " + Str(k) + " at " + AtText(eid, k, vs) +
                    ", expected keyword",
                "transact/syntax", entity);
      }
      const Named* kn = k.as_named();
      bool reverse = IsReverse(kn);
      const Named* straight = reverse ? FlipReverse(kn) : kn;
      const Attribute* attr = schema().Find(straight->id);
      if (attr == nullptr && write_mode()) {
        SchemaError("Bad entity attribute " + Str(k) + " at " + AtText(eid, k, vs) +
                        ", not defined in current schema",
                    entity);
      }
      bool is_ref = attr != nullptr && attr->is_ref();
      if (reverse && !is_ref) {
        TxError("Bad attribute " + Str(k) +
                    ": reverse attribute name requires {:db/valueType :db.type/ref} in schema",
                "transact/syntax", entity);
      }
      // A multi-valued context takes a collection of values, except a lookup ref.
      bool multi = reverse || (attr != nullptr && attr->many);
      bool wrap = !multi || !(vs.is_collection());
      if (!wrap && vs.size() == 2 && vs.items()[0].is_keyword()) {
        const Attribute* la = schema().Find(AttrOf(vs.items()[0]));
        if (la != nullptr && la->unique == Unique::kIdentity) wrap = true;
      }
      auto emit = [&](const Value& v) {
        if (is_ref && v.is_map()) {
          std::vector<std::pair<Value, Value>> nested(v.entries().begin(), v.entries().end());
          nested.emplace_back(Value::Keyword(FlipReverse(kn)), e);
          out.push_back(EntityItem(Value::Map(std::move(nested))));
        } else if (reverse) {
          out.push_back(AddItem(v, Value::Keyword(straight), e));
        } else {
          out.push_back(AddItem(e, k, v));
        }
      };
      if (wrap) {
        emit(vs);
      } else {
        for (const Value& v : vs.items()) emit(v);
      }
    }
    PushFront(std::move(out));
  }

  // ------------------------------------------------------------------------------------------------
  // Op vectors

  void ProcessOp(const Value& opv) {
    const auto& items = opv.items();
    if (items.empty() || !items[0].is_keyword()) {
      TxError("Unknown operation at " + Str(opv) + ", expected :db/add, :db/retract, ...",
              "transact/syntax", opv);
    }
    const Named* op_name = items[0].as_named();
    if (op_name == B().add && items.size() == 4) {
      ProcessAdd(items[1], items[2], items[3], &opv);
      return;
    }
    const std::string& op = op_name->full;
    Value e = items.size() > 1 ? items[1] : Value();
    Value a = items.size() > 2 ? items[2] : Value();
    Value v = items.size() > 3 ? items[3] : Value();
    const Attribute* attr = a.is_keyword() ? schema().Find(AttrOf(a)) : nullptr;
    if (op == "db/retract") CheckTuple(attr, v, Lazy(opv), false);
    if (IsTxId(e)) {
      Allocate(e, tx_);
      std::vector<Value> fixed = items;
      fixed[1] = Value::Long(tx_);
      PushFront({EntityItem(Value::Vector(std::move(fixed)))});
      return;
    }
    if (IsTempid(e)) {
      TxError("Can't use tempid in '" + Str(opv) + "'. Tempids are allowed in :db/add only",
              "transact/syntax", opv);
    }
    ApplyOp(op, opv, e, a, v, items);
  }

  // [:db/add e a v]: tx ids and tempids in e and v resolved, then the datom added. `original` is
  // the op as given (for error messages), or null when it came from an entity map.
  void ProcessAdd(const Value& e, const Value& a, const Value& v, const Value* original) {
    auto at = [&] {
      return original ? *original : Value::Vector({Value::Keyword(B().add), e, a, v});
    };
    const Attribute* attr = a.is_keyword() ? schema().Find(AttrOf(a)) : nullptr;
    bool is_ref = attr != nullptr && attr->is_ref();
    CheckTuple(attr, v, at, false);
    if (IsTxId(e)) {
      Allocate(e, tx_);
      ProcessAdd(Value::Long(tx_), a, v, original);
      return;
    }
    if (is_ref && IsTxId(v)) {
      Allocate(v, tx_);
      ProcessAdd(e, a, Value::Long(tx_), original);
      return;
    }
    if (IsTempid(e)) {
      int64_t upserted = 0;
      if (attr != nullptr && attr->unique == Unique::kIdentity && !v.is_nil() &&
          !(is_ref && IsTempid(v))) {
        Value lv = v;
        if (is_ref && (v.is_keyword() || v.is_sequential())) lv = Value::Long(Entid(v));
        if (auto d = FindAv(attr->ident, lv)) upserted = d->e;
      }
      const int64_t* allocated = TempidOf(e);
      if (upserted != 0 && allocated != nullptr && upserted != *allocated) {
        throw RetryWithTempid{e, upserted};
      }
      int64_t eid = upserted != 0 ? upserted : (allocated ? *allocated : NextEid());
      Allocate(e, eid);
      ProcessAdd(Value::Long(eid), a, v, original);
      return;
    }
    if (is_ref && IsTempid(v)) {
      const int64_t* t = TempidOf(v);
      int64_t vid = t ? *t : NextEid();
      if (!t) Allocate(v, vid);
      ProcessAdd(e, a, Value::Long(vid), original);
      return;
    }
    uint32_t aid;
    attr = ValidateAttr(a, at, &aid);
    ValidateValue(v, attr, at);
    CheckValueCaps(aid, attr, v, at);
    int64_t eid = EntidStrict(e);
    Value val = (attr != nullptr && attr->is_ref()) ? Value::Long(EntidStrict(v)) : v;
    AddDatom(eid, aid, attr, val);
  }

  void ApplyOp(const std::string& op, const Value& opv, const Value& e, const Value& a,
               const Value& v, const std::vector<Value>& items) {
    if (op == "db/add") {
      TxError("Bad transaction data " + Str(opv) + ", expected [:db/add e a v]", "transact/syntax",
              opv);
    } else if (op == "db/retract") {
      if (items.size() < 3 || items.size() > 4) {
        TxError("Bad transaction data " + Str(opv) + ", expected [:db/retract e a v?]",
                "transact/syntax", opv);
      }
      int64_t eid = Entid(e);
      if (eid == 0) return;
      uint32_t aid;
      const Attribute* attr = ValidateAttr(a, Lazy(opv), &aid);
      if (items.size() == 3 || v.is_nil()) {
        for (const Datom& d : AllEa(eid, aid)) RetractDatom(d, attr);
        return;
      }
      Value val = v;
      if (attr != nullptr && attr->is_ref()) val = Value::Long(EntidStrict(v));
      ValidateValue(val, attr, Lazy(opv));
      if (auto d = FindEav(eid, aid, val)) RetractDatom(*d, attr);
    } else if (op == "db.fn/retractAttribute" || op == "db/retractAttribute") {
      int64_t eid = Entid(e);
      if (eid == 0) return;
      uint32_t aid;
      const Attribute* attr = ValidateAttr(a, Lazy(opv), &aid);
      std::vector<Datom> ds = AllEa(eid, aid);
      for (const Datom& d : ds) RetractDatom(d, attr);
      RetractComponents(ds);
    } else if (op == "db.fn/retractEntity" || op == "db/retractEntity") {
      RetractEntity(e);
    } else if (op == "db.fn/cas" || op == "db/cas") {
      CompareAndSwap(opv, items);
    } else if (op == "db/purge" || op == "db.purge/attribute" || op == "db.purge/entity" ||
               op == "db.history.purge/before") {
      if (!history_) {
        TxError(op == "db/purge" ? "Purge is only available in temporal databases."
                                 : (op == "db.purge/attribute"
                                        ? "Purge attribute is only available in temporal databases."
                                        : "Purge entity is only available in temporal databases."),
                "transact/purge", opv);
      }
      Purge(op, opv, items);
    } else if (op == "db.fn/call") {
      TxError("Transaction functions (:db.fn/call) are not supported: functions cannot be passed "
              "as data",
              "transact/unsupported", opv);
    } else {
      TxError("Unknown operation at " + Str(opv) +
                  ", expected :db/add, :db/retract, :db.fn/call, :db.fn/retractAttribute, "
                  ":db.fn/retractEntity or an ident corresponding to an installed transaction "
                  "function",
              "transact/syntax", opv);
    }
  }

  // ------------------------------------------------------------------------------------------------
  // Purge: removes datoms from the current and the temporal indices, as if never transacted.

  // Entity resolution against current and history (a purged or retracted entity's lookup ref
  // still resolves while any of its datoms remain in history).
  int64_t EntidInHistory(const Value& ref) {
    int64_t e = Entid(ref);
    if (e != 0 || !ref.is_sequential() || ref.size() != 2) return e;
    const Attribute* attr = schema().Find(AttrOf(ref.items()[0]));
    AvProbe probe{attr->ident, &ref.items()[1]};
    tavet_.Undefer(attr->ident);
    auto it = tavet_.Seek(probe);
    return it.Valid() && probe(*it) == 0 ? it->e : 0;
  }

  // Every datom, current or temporal, of entity e (and attribute a, when given).
  std::vector<Datom> HistoryEa(int64_t e, uint32_t a) {
    std::vector<Datom> out = AllEa(e, a);
    EaProbe probe{e, a};
    for (auto it = teavt_.Seek(probe, probe.e); it.Valid() && probe(*it) == 0; it.Next()) {
      out.push_back(*it);
    }
    return out;
  }

  void PurgeDatom(const Datom& d) {
    purges_.push_back(PurgeOp{tx_data_.size(), d, false});
    const Attribute* attr = schema().Find(d.a);
    if (auto cur = FindEav(d.e, d.a, d.v)) EraseCurrent(*cur, attr);
    std::vector<Datom> hist;
    EavProbe probe{d.e, d.a, &d.v};
    for (auto it = teavt_.Seek(probe, probe.e); it.Valid() && probe(*it) == 0; it.Next()) {
      hist.push_back(*it);
    }
    for (const Datom& h : hist) {
      teavt_.Erase(h);
      taevt_.Erase(h);
      AvetChange(tavet_, h, attr, false);
    }
    if (B().IsSchemaAttr(d.a)) dirty_schema_.insert(d.e);
  }

  void PurgeComponents(const std::vector<Datom>& ds) {
    std::vector<WorkItem> out;
    std::set<int64_t> seen;
    for (const Datom& d : ds) {
      const Attribute* attr = schema().Find(d.a);
      if (attr != nullptr && attr->component && d.added && d.v.type() == Type::kLong &&
          seen.insert(d.v.as_long()).second) {
        out.push_back(EntityItem(Value::Vector({Kw("db.purge/entity"), d.v})));
      }
    }
    PushFront(std::move(out));
  }

  void Purge(const std::string& op, const Value& opv, const std::vector<Value>& items) {
    auto not_found = [&](const Value& e) {
      TxError("Can't find entity with ID " + Str(e) + " to be purged", "transact/purge", opv);
    };
    if (op == "db.history.purge/before") {
      if (items.size() != 2 || items[1].type() != Type::kInstant) {
        TxError("Bad transaction data " + Str(opv) + ", expected [:db.history.purge/before #inst]",
                "transact/syntax", opv);
      }
      int64_t before = items[1].as_instant();
      std::vector<Datom> old;
      std::unordered_map<int64_t, bool> tx_before;
      for (auto it = teavt_.Begin(); it.Valid(); it.Next()) {
        auto [pos, fresh] = tx_before.emplace(it->tx, false);
        if (fresh) {
          auto inst = FindEa(it->tx, B().tx_instant);
          pos->second = inst && inst->v.as_instant() < before;
        }
        if (pos->second) old.push_back(*it);
      }
      for (const Datom& h : old) {
        purges_.push_back(PurgeOp{tx_data_.size(), h, true});
        teavt_.Erase(h);
        taevt_.Erase(h);
        AvetChange(tavet_, h, schema().Find(h.a), false);
      }
      return;
    }
    if (items.size() < 2) TxError("Bad transaction data " + Str(opv), "transact/syntax", opv);
    int64_t e = EntidInHistory(items[1]);
    if (e == 0) not_found(items[1]);
    std::vector<Datom> ds;
    if (op == "db/purge") {
      if (items.size() != 4) {
        TxError("Bad transaction data " + Str(opv) + ", expected [:db/purge e a v]",
                "transact/syntax", opv);
      }
      uint32_t aid;
      const Attribute* attr = ValidateAttr(items[2], Lazy(opv), &aid);
      Value v = items[3];
      if (attr != nullptr && attr->is_ref()) v = Value::Long(EntidStrict(v));
      for (const Datom& d : HistoryEa(e, aid)) {
        if (Compare(d.v, v) == 0) ds.push_back(d);
      }
      for (const Datom& d : ds) PurgeDatom(d);
      return;
    }
    if (op == "db.purge/attribute") {
      if (items.size() != 3) {
        TxError("Bad transaction data " + Str(opv) + ", expected [:db.purge/attribute e a]",
                "transact/syntax", opv);
      }
      uint32_t aid;
      ValidateAttr(items[2], Lazy(opv), &aid);
      ds = HistoryEa(e, aid);
    } else {  // :db.purge/entity
      ds = HistoryEa(e, 0);
      Value ev = Value::Long(e);
      for (const auto& [id, attr] : schema().attributes()) {
        if (!attr.is_ref()) continue;
        AvProbe probe{id, &ev};
        avet_.Undefer(id);
        tavet_.Undefer(id);
        for (auto it = avet_.Seek(probe); it.Valid() && probe(*it) == 0; it.Next()) ds.push_back(*it);
        for (auto it = tavet_.Seek(probe); it.Valid() && probe(*it) == 0; it.Next()) ds.push_back(*it);
      }
    }
    for (const Datom& d : ds) PurgeDatom(d);
    PurgeComponents(ds);
  }

  void RetractComponents(const std::vector<Datom>& ds) {
    std::vector<WorkItem> out;
    std::set<int64_t> seen;
    for (const Datom& d : ds) {
      const Attribute* attr = schema().Find(d.a);
      if (attr != nullptr && attr->component && d.v.type() == Type::kLong &&
          seen.insert(d.v.as_long()).second) {
        out.push_back(EntityItem(Value::Vector({Kw("db.fn/retractEntity"), d.v})));
      }
    }
    PushFront(std::move(out));
  }

  void RetractEntity(const Value& ref) {
    int64_t eid = Entid(ref);
    if (eid == 0) return;
    std::vector<Datom> e_datoms = AllEa(eid, 0);
    std::vector<Datom> v_datoms;
    Value ev = Value::Long(eid);
    for (const auto& [id, attr] : schema().attributes()) {
      if (!attr.is_ref()) continue;
      AvProbe probe{id, &ev};
      avet_.Undefer(id);
      for (auto it = avet_.Seek(probe); it.Valid() && probe(*it) == 0; it.Next()) {
        if (it->e != eid) v_datoms.push_back(*it);
      }
    }
    for (const Datom& d : e_datoms) RetractDatom(d, schema().Find(d.a));
    for (const Datom& d : v_datoms) RetractDatom(d, schema().Find(d.a));
    RetractComponents(e_datoms);
  }

  void CompareAndSwap(const Value& opv, const std::vector<Value>& items) {
    if (items.size() != 5) {
      TxError("Bad transaction data " + Str(opv) + ", expected [:db/cas e a old new]",
              "transact/syntax", opv);
    }
    int64_t eid = EntidStrict(items[1]);
    uint32_t aid;
    const Attribute* attr = ValidateAttr(items[2], Lazy(opv), &aid);
    bool is_ref = attr != nullptr && attr->is_ref();
    Value nv = is_ref ? Value::Long(EntidStrict(items[4])) : items[4];
    std::vector<Datom> ds = AllEa(eid, aid);
    bool many = attr != nullptr && attr->many;
    auto current_text = [&]() {
      if (many) {
        std::vector<Value> vs;
        for (const Datom& d : ds) vs.push_back(d.v);
        return Str(Value::List(std::move(vs)));
      }
      return ds.empty() ? std::string("nil") : Str(ds[0].v);
    };
    auto fail = [&](const std::string& expected) {
      TxError(":db.fn/cas failed on datom [" + std::to_string(eid) + " " + Str(items[2]) + " " +
                  current_text() + "], expected " + expected,
              "transact/cas", opv);
    };
    if (items[3].is_nil()) {
      if (!ds.empty()) fail("nil");
    } else {
      Value ov = is_ref ? Value::Long(EntidStrict(items[3])) : items[3];
      ValidateValue(nv, attr, Lazy(opv));
      bool match = false;
      if (many) {
        for (const Datom& d : ds) match = match || Equal(d.v, ov);
      } else {
        match = !ds.empty() && Equal(ds[0].v, ov);
      }
      if (!match) fail(Str(items[3]));
    }
    ValidateValue(nv, attr, Lazy(opv));
    AddDatom(eid, aid, attr, nv);
  }

  // ------------------------------------------------------------------------------------------------
  // Driver

  void PushFront(std::vector<WorkItem> items) {
    for (auto it = items.rbegin(); it != items.rend(); ++it) work_.push_back(std::move(*it));
  }

  TxReport RunOnce(const Value& tx_data, const Value& tx_meta, const TempidMap& seed,
                   const std::vector<Value>& seed_order) {
    Reset(seed, seed_order);
    // The work stack, in order: the tx instant, the tx meta, then each tx-data element followed by
    // a tuple flush (pushed in reverse: the back is the next item).
    const size_t n = tx_data.is_sequential() ? tx_data.items().size() : 0;
    work_.reserve(2 * n + (tx_meta.is_map() ? tx_meta.entries().size() : 0) + 16);
    for (size_t i = n; i-- > 0;) {
      work_.push_back(FlushItem());
      work_.push_back(EntityItem(tx_data.items()[i]));
    }
    if (history_) {
      if (tx_meta.is_map()) {
        const auto& meta = tx_meta.entries();
        for (auto it = meta.rbegin(); it != meta.rend(); ++it) {
          work_.push_back(AddItem(Value::Long(tx_), it->first, it->second));
        }
      }
      work_.push_back(AddItem(Value::Long(tx_), B().tx_instant_kw, Value::Instant(now_)));
    }
    while (!work_.empty()) {
      WorkItem item = std::move(work_.back());
      work_.pop_back();
      if (item.kind == WorkItem::kFlushTuples) {
        FlushTuples();
        continue;
      }
      if (item.kind == WorkItem::kAdd) {
        ProcessAdd(item.entity, item.a, item.v, nullptr);
        continue;
      }
      const Value& x = item.entity;
      if (x.is_nil()) continue;
      if (x.is_map()) {
        ProcessMap(x);
      } else if (x.is_sequential()) {
        ProcessOp(x);
      } else {
        TxError("Bad entity type at " + Str(x) + ", expected map or vector", "transact/syntax", x);
      }
    }
    FlushTuples();
    if (!dirty_schema_.empty()) RebuildSchema();
    ValidateSchemaChanges();
    return Finish(tx_meta);
  }

  TxReport Finish(const Value& tx_meta) {
    auto after = std::make_shared<Db>(*before_);
    // The copy of before_ already holds the indices this transaction left unchanged.
    if (eavt_.changed()) after->current_.eavt = eavt_.Finish();
    if (aevt_.changed()) after->current_.aevt = aevt_.Finish();
    if (avet_.changed()) after->current_.avet = avet_.Finish();
    if (teavt_.changed()) after->temporal_.eavt = teavt_.Finish();
    if (taevt_.changed()) after->temporal_.aevt = taevt_.Finish();
    if (tavet_.changed()) after->temporal_.avet = tavet_.Finish();
    after->schema_ = schema_;
    after->max_eid_ = max_eid_;
    after->max_tx_ = tx_;
    TxReport r;
    r.db_before = before_;
    r.db_after = std::move(after);
    r.tx_data = std::move(tx_data_);
    for (const Value& t : tempid_order_) r.tempids.emplace_back(t, tempids_.at(t));
    r.tempids.emplace_back(B().current_tx_kw, tx_);
    r.tx_meta = tx_meta;
    r.purges = std::move(purges_);
    return r;
  }

 public:
  // See Replay in transact.h.
  DbPtr RunReplay(const TxEffects& fx) {
    if (before_->view() != ViewKind::kCurrent || fx.tx != before_->max_tx_ + 1) {
      ReplayMismatch("its tx id " + std::to_string(fx.tx) + " does not follow the db's " +
                     std::to_string(before_->max_tx_));
    }
    Reset({}, {});
    size_t next_purge = 0;
    auto purge_upto = [&](size_t at) {
      for (; next_purge < fx.purges.size() && fx.purges[next_purge].at <= at; ++next_purge) {
        const PurgeOp& p = fx.purges[next_purge];
        if (!p.history_only) {
          PurgeDatom(p.d);
          continue;
        }
        teavt_.Erase(p.d);
        taevt_.Erase(p.d);
        AvetChange(tavet_, p.d, schema().Find(p.d.a), false);
      }
    };
    for (size_t i = 0; i < fx.tx_data.size(); ++i) {
      purge_upto(i);
      const Datom& d = fx.tx_data[i];
      if (d.tx != tx_) ReplayMismatch("a datom's tx id differs from the transaction's");
      const Attribute* attr = schema().Find(d.a);
      if (d.added) {
        InsertCurrent(d, attr);
        AdvanceMaxEid(d.e);
      } else {
        std::optional<Datom> cur = FindEav(d.e, d.a, d.v);
        if (!cur) ReplayMismatch("it retracts a datom the db does not hold: " + DatomText(d));
        RetractDatom(*cur, attr);
      }
      if (B().IsSchemaAttr(d.a)) dirty_schema_.insert(d.e);
    }
    purge_upto(SIZE_MAX);
    queued_tuples_.clear();  // composite tuples are datoms of the record already
    if (!dirty_schema_.empty()) RebuildSchema();
    max_eid_ = std::max(max_eid_, fx.max_eid);
    return Finish(Value()).db_after;
  }

  // See Restore in transact.h.
  static DbPtr RunRestore(const Config& config, IndexSet current, IndexSet temporal,
                          int64_t max_eid, int64_t max_tx) {
    auto db = std::shared_ptr<Db>(new Db());
    db->config_ = config;
    db->schema_ = Schema::Builtin();
    db->current_ = std::move(current);
    db->temporal_ = std::move(temporal);
    db->max_eid_ = max_eid;
    db->max_tx_ = max_tx;
    Pattern p;
    p.a = B().ident;
    std::set<int64_t> entities;
    for (const Datom& d : db->SearchAll(IndexOrder::kAevt, p)) entities.insert(d.e);
    if (entities.empty()) return db;
    TxBuilder b(db, 0);
    b.Reset({}, {});
    b.dirty_schema_ = std::move(entities);
    db->schema_ = b.schema_ptr_rebuilt();
    return db;
  }

 private:
  std::shared_ptr<const Schema> schema_ptr_rebuilt() {
    schema();
    return schema_;
  }
  [[noreturn]] static void ReplayMismatch(const std::string& why) {
    throw Error(ErrorKind::kStorage,
                "Cannot replay a logged transaction: " + why + " (the log does not fit the stored "
                "indices)",
                Value::Map({{Kw("error"), Kw("storage/corrupt")}}));
  }

  DbPtr before_;
  int64_t now_;
  bool history_ = false;
  // The current and temporal indices with this transaction's changes.
  StagedIndex<EavtLess> eavt_, teavt_;
  StagedIndex<AevtLess> aevt_, taevt_;
  StagedIndex<AvetLess> avet_, tavet_;
  std::shared_ptr<const Schema> schema_;
  bool schema_owned_ = false;
  int64_t max_eid_ = 0;
  int64_t tx_ = 0;
  TempidMap tempids_;
  std::vector<Value> tempid_order_;
  std::vector<Datom> tx_data_;
  std::vector<PurgeOp> purges_;
  std::map<int64_t, std::map<uint32_t, std::vector<Value>>> queued_tuples_;
  std::set<int64_t> dirty_schema_;
  std::vector<WorkItem> work_;  // a stack: the back is the next item
};

DbPtr Replay(const DbPtr& db, const TxEffects& effects) {
  TxBuilder b(db, 0);
  return b.RunReplay(effects);
}

DbPtr Restore(const Config& config, IndexSet current, IndexSet temporal, int64_t max_eid,
              int64_t max_tx) {
  return TxBuilder::RunRestore(config, std::move(current), std::move(temporal), max_eid, max_tx);
}

TxReport Transact(const DbPtr& db, const Value& tx_data, const Value& tx_meta, int64_t now_millis) {
  if (db == nullptr) throw Error(ErrorKind::kMisuse, "Transact on a null db");
  TxBuilder b(db, now_millis);
  return b.Run(tx_data, tx_meta);
}

}  // namespace datahike
