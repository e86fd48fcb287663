#include "core/query/engine.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <list>
#include <mutex>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "core/pull/pull.h"
#include "core/query/builtins.h"
#include "core/query/parser.h"
#include "core/query/relation.h"
#include "core/query/scan.h"
#include "core/value/edn.h"
#include "core/value/json.h"
#include "core/value/error.h"

namespace datahike::query {
namespace {

[[noreturn]] void Fail(const std::string& message) { throw Error(ErrorKind::kQuery, message); }

std::string FormText(const Value& form) { return edn::ToString(form); }

Sym Gensym(const std::string& prefix, size_t i) {
  return InternSymbol("?__" + prefix + std::to_string(i));
}

// ---- context ------------------------------------------------------------------------------------

struct Source {
  DbPtr db;    // a database, or
  Value coll;  // a collection of tuples
};

struct RuleSet {
  std::vector<Rule> rules;
  std::unordered_map<Sym, std::vector<const Rule*>> by_name;
};

// Tables of rules under bottom-up evaluation: columns are the positional variables ?__p0, ?__p1...
struct RuleTable {
  explicit RuleTable(const std::vector<Sym>& vars) : full(vars) { delta.vars = vars; }
  RowSet full;     // every row derived so far
  Relation delta;  // the rows new in the last round
};

struct Ctx {
  std::unordered_map<Sym, Source> sources;
  std::shared_ptr<RuleSet> rules;
  std::optional<std::chrono::steady_clock::time_point> deadline;
  int64_t timeout_ms = 0;
  std::unordered_map<Sym, RuleTable*> tables;  // rules being evaluated bottom-up
  const Clause* delta_call = nullptr;          // the call that reads its rule's delta table
  std::vector<std::string>* explain = nullptr;
  int depth = 0;

  void CheckDeadline() const {
    if (deadline && std::chrono::steady_clock::now() > *deadline) {
      throw Error(ErrorKind::kQuery, "Query took too long to run.",
                  Value::Map({{Kw("timeout"), Value::Long(timeout_ms)}}));
    }
  }
  void Note(int indent, const std::string& line) {
    if (explain != nullptr) explain->push_back(std::string(indent * 2, ' ') + line);
  }
};

Sym DefaultSource() {
  static const Sym s = InternSymbol("$");
  return s;
}

Sym PositionVar(size_t i) {
  static std::vector<Sym>* cache = [] {
    auto* v = new std::vector<Sym>();
    for (size_t k = 0; k < 64; ++k) v->push_back(Gensym("p", k));
    return v;
  }();
  return i < cache->size() ? (*cache)[i] : Gensym("p", i);
}

struct Depth {
  explicit Depth(Ctx& c) : ctx(c) {
    if (++ctx.depth > 200) {
      --ctx.depth;
      Fail("Query nesting too deep (rules or subqueries nested more than 200 levels)");
    }
  }
  ~Depth() { --ctx.depth; }
  Ctx& ctx;
};

// ---- rule analysis ------------------------------------------------------------------------------

void CollectCalls(const Clause& c, std::vector<const Clause*>* out, bool top, bool* nested) {
  switch (c.kind) {
    case Clause::Kind::kRuleCall:
      out->push_back(&c);
      if (!top) *nested = true;
      return;
    case Clause::Kind::kNot:
    case Clause::Kind::kNotJoin:
    case Clause::Kind::kOr:
    case Clause::Kind::kOrJoin:
    case Clause::Kind::kAnd:
      for (const Clause& s : c.clauses) CollectCalls(s, out, false, nested);
      return;
    default:
      return;
  }
}

std::vector<Sym> HeadVars(const Rule& r) {
  std::vector<Sym> v = r.required_vars;
  v.insert(v.end(), r.vars.begin(), r.vars.end());
  return v;
}

// Rule names reachable from `name` through calls (including name when it is recursive).
std::unordered_set<Sym> Reachable(const RuleSet& rs, Sym name) {
  std::unordered_set<Sym> seen;
  std::vector<Sym> work{name};
  bool first = true;
  while (!work.empty()) {
    Sym n = work.back();
    work.pop_back();
    if (!first && !seen.insert(n).second) continue;
    first = false;
    auto it = rs.by_name.find(n);
    if (it == rs.by_name.end()) continue;
    for (const Rule* r : it->second) {
      std::vector<const Clause*> calls;
      bool nested = false;
      for (const Clause& c : r->body) CollectCalls(c, &calls, true, &nested);
      for (const Clause* c : calls) work.push_back(c->fn);
    }
  }
  return seen;
}

// ---- the clause evaluator -----------------------------------------------------------------------

class Body;
Relation EvalRuleCall(Ctx& ctx, const Clause& call, const Relation& seed, Sym default_source,
                      int indent);

// Resolved constants of a data pattern on a database.
struct ResolvedPattern {
  Pattern p;              // the constants (e, a, v, tx)
  std::optional<bool> added;
  bool impossible = false;  // a constant names nothing: no datom can match
};

// Whether a built-in refused its arguments (wrong type or arity), which a predicate reads as
// false, as Datahike's filter does; other failures (overflow, division by zero) propagate.
bool IsInvalidArgument(const Error& e) {
  static const Value kKey = Kw("error");
  static const Value kInvalid = Kw("query/invalid-argument");
  const Value* v = e.data().is_map() ? e.data().get(kKey) : nullptr;
  return v != nullptr && Equal(*v, kInvalid);
}

bool CallPredicate(BuiltinFn fn, const Value* args, size_t n) {
  try {
    return fn(args, n).truthy();
  } catch (const Error& e) {
    if (IsInvalidArgument(e)) return false;
    throw;
  }
}

bool AllLongs(const Relation& r, int col) {
  for (size_t i = 0; i < r.rows; ++i) {
    if (r.row(i)[col].type() != Type::kLong) return false;
  }
  return true;
}

// Rows of a relation by the long in one column: an open-addressing table of chains.
class LongIndex {
 public:
  LongIndex(const Relation& r, int col) {
    size_t cap = std::bit_ceil(std::max<size_t>(16, r.rows * 2));
    mask_ = cap - 1;
    slots_.assign(cap, Slot{0, kNone});
    next_.assign(r.rows, kNone);
    for (size_t i = r.rows; i-- > 0;) {
      int64_t key = r.row(i)[col].as_long();
      Slot& s = slots_[Find(key)];
      s.key = key;
      next_[i] = s.head;
      s.head = static_cast<uint32_t>(i);
    }
  }
  template <class F>
  void ForEach(int64_t key, F f) const {
    const Slot& s = slots_[Find(key)];
    if (s.head == kNone) return;
    for (uint32_t i = s.head; i != kNone; i = next_[i]) f(i);
  }

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  struct Slot {
    int64_t key;
    uint32_t head;
  };
  size_t Find(int64_t key) const {
    size_t i = (static_cast<uint64_t>(key) * 0x9E3779B97F4A7C15ULL >> 17) & mask_;
    while (slots_[i].head != kNone && slots_[i].key != key) i = (i + 1) & mask_;
    return i;
  }
  std::vector<Slot> slots_;
  std::vector<uint32_t> next_;
  size_t mask_ = 0;
};

// Evaluates a conjunction of clauses, starting from seed relations, and returns the relation of
// `outputs`.
class Body {
 public:
  Body(Ctx& ctx, Sym default_source, int indent) : ctx_(ctx), default_source_(default_source),
                                                  indent_(indent) {}

  void AddRelation(Relation r) {
    if (r.rows == 0) empty_ = true;
    if (r.width() == 0) return;  // the unit (or an empty) relation carries no variables
    rels_.push_back(std::move(r));
  }

  // `distinct` false leaves duplicates that dropping columns makes, for callers that deduplicate
  // the rows themselves anyway (rule tables, demand sets).
  Relation Run(const std::vector<const Clause*>& clauses, const std::vector<Sym>& outputs,
               bool distinct = true) {
    pending_ = clauses;
    outputs_ = outputs;
    distinct_ = distinct;
    while (!pending_.empty() && !empty_) {
      ctx_.CheckDeadline();
      size_t next = Pick();
      const Clause* c = pending_[next];
      pending_.erase(pending_.begin() + static_cast<long>(next));
      Execute(*c);
      Prune();
    }
    Relation out;
    out.vars = outputs;
    if (empty_) return out;
    for (Sym v : outputs) {
      if (!Bound(v)) Fail("Insufficient bindings: " + v->full + " is not bound by the query");
    }
    std::vector<Relation*> needed;
    for (Relation& rel : rels_) {
      bool hit = std::any_of(rel.vars.begin(), rel.vars.end(), [&](Sym v) {
        return std::find(outputs.begin(), outputs.end(), v) != outputs.end();
      });
      if (hit) needed.push_back(&rel);
    }
    if (needed.empty()) {
      Relation unit = Relation::Unit();
      return Project(unit, outputs);
    }
    Relation r = std::move(*needed[0]);
    for (size_t i = 1; i < needed.size(); ++i) r = Join(r, *needed[i]);
    if (r.vars == outputs) return r;
    return distinct ? Project(r, outputs) : ProjectRows(r, outputs);
  }

 private:
  Ctx& ctx_;
  Sym default_source_;
  int indent_;
  std::vector<Relation> rels_;
  std::vector<const Clause*> pending_;
  std::vector<Sym> outputs_;
  bool distinct_ = true;
  bool empty_ = false;

  // ---- variables ----
  int RelOf(Sym v) const {
    for (size_t i = 0; i < rels_.size(); ++i) {
      if (rels_[i].Has(v)) return static_cast<int>(i);
    }
    return -1;
  }
  bool Bound(Sym v) const { return RelOf(v) >= 0; }
  // The value of v when it is bound in a relation of exactly one row.
  const Value* ScalarOf(Sym v) const {
    int i = RelOf(v);
    if (i < 0 || rels_[i].rows != 1) return nullptr;
    return &rels_[i].data[rels_[i].Col(v)];
  }
  // Whether v is used outside `except`: by another pending clause or as an output.
  bool UsedElsewhere(Sym v, const Clause* except) const {
    if (std::find(outputs_.begin(), outputs_.end(), v) != outputs_.end()) return true;
    for (const Clause* c : pending_) {
      if (c == except) continue;
      auto vars = ClauseVars(*c);
      if (std::find(vars.begin(), vars.end(), v) != vars.end()) return true;
    }
    return false;
  }

  // Joins the relations holding any of `vars` into one, removes them from rels_, and returns it
  // (the unit relation when none holds any).
  Relation TakeRelations(const std::vector<Sym>& vars) {
    Relation r = Relation::Unit();
    bool first = true;
    for (size_t i = 0; i < rels_.size();) {
      bool hit = std::any_of(vars.begin(), vars.end(), [&](Sym v) { return rels_[i].Has(v); });
      if (hit) {
        if (first) {
          r = std::move(rels_[i]);
          first = false;
        } else {
          r = Join(r, rels_[i]);
        }
        rels_.erase(rels_.begin() + static_cast<long>(i));
      } else {
        ++i;
      }
    }
    return r;
  }

  void Put(Relation r) {
    if (r.rows == 0) {
      empty_ = true;
      return;
    }
    if (r.width() > 0) rels_.push_back(std::move(r));
  }

  // Drops the columns no pending clause and no output needs.
  void Prune() {
    if (empty_) return;
    std::unordered_set<Sym> live(outputs_.begin(), outputs_.end());
    for (const Clause* c : pending_) {
      for (Sym v : ClauseVars(*c)) live.insert(v);
    }
    for (size_t i = 0; i < rels_.size();) {
      Relation& r = rels_[i];
      std::vector<Sym> keep;
      for (Sym v : r.vars) {
        if (live.count(v)) keep.push_back(v);
      }
      if (keep.size() == r.vars.size()) {
        ++i;
        continue;
      }
      if (keep.empty()) {  // non-empty, no longer needed
        rels_.erase(rels_.begin() + static_cast<long>(i));
        continue;
      }
      // After the last clause, a caller that deduplicates itself needs no pass here.
      r = pending_.empty() && !distinct_ ? ProjectRows(r, keep) : Project(r, keep);
      ++i;
    }
  }

  // ---- sources ----
  const Source& SourceOf(Sym s) const {
    Sym name = s == nullptr ? default_source_ : s;
    auto it = ctx_.sources.find(name);
    if (it == ctx_.sources.end()) Fail("Unknown source " + name->full + " (no such :in binding)");
    return it->second;
  }

  // ---- planning ----
  static constexpr double kNotReady = 1e300;

  bool AllBound(const std::vector<Sym>& vars) const {
    return std::all_of(vars.begin(), vars.end(), [&](Sym v) { return Bound(v); });
  }

  std::vector<Sym> TermVars(const std::vector<Term>& terms) const {
    std::vector<Sym> out;
    for (const Term& t : terms) {
      if (t.kind == Term::Kind::kVariable) out.push_back(t.sym);
    }
    return out;
  }

  double Cost(const Clause& c) {
    switch (c.kind) {
      case Clause::Kind::kPattern:
        return PatternCost(c);
      case Clause::Kind::kPredicate:
        return AllBound(TermVars(c.terms)) ? -3 : kNotReady;
      case Clause::Kind::kFunction:
        return AllBound(TermVars(c.terms)) ? -2 : kNotReady;
      case Clause::Kind::kNotJoin:
        return AllBound(c.join_vars) ? -1 : kNotReady;
      case Clause::Kind::kNot: {
        for (Sym v : c.join_vars) {
          if (!Bound(v) && UsedElsewhere(v, &c)) return kNotReady;
        }
        return -1;
      }
      case Clause::Kind::kOr:
      case Clause::Kind::kOrJoin: {
        if (!AllBound(c.required_vars)) return kNotReady;
        double rows = kNotReady / 4;
        for (Sym v : c.join_vars) {
          int r = RelOf(v);
          if (r >= 0) rows = std::min(rows, static_cast<double>(rels_[r].rows) * 4);
        }
        double branches = 0;
        for (const Clause& b : c.clauses) branches += BranchCost(b);
        return std::min(rows, branches);
      }
      case Clause::Kind::kRuleCall: {
        auto it = ctx_.rules ? ctx_.rules->by_name.find(c.fn) : decltype(ctx_.rules->by_name.end()){};
        if (!ctx_.rules || it == ctx_.rules->by_name.end()) return 0;  // fails when run
        const Rule* r = it->second.front();
        for (size_t i = 0; i < r->required_vars.size() && i < c.terms.size(); ++i) {
          const Term& t = c.terms[i];
          if (t.kind == Term::Kind::kVariable && !Bound(t.sym)) return kNotReady;
        }
        double best = 1e12;
        for (const Term& t : c.terms) {
          if (t.kind == Term::Kind::kConstant) best = std::min(best, 1e3);
          if (t.kind == Term::Kind::kVariable) {
            int r2 = RelOf(t.sym);
            if (r2 >= 0) best = std::min(best, static_cast<double>(rels_[r2].rows) * 16);
          }
        }
        return best;
      }
      case Clause::Kind::kAnd:
        return 0;
    }
    return 0;
  }

  double BranchCost(const Clause& b) {
    if (b.kind == Clause::Kind::kAnd) {
      double best = 1e12;
      for (const Clause& c : b.clauses) {
        if (c.kind == Clause::Kind::kPattern) best = std::min(best, PatternCost(c));
      }
      return best;
    }
    if (b.kind == Clause::Kind::kPattern) return PatternCost(b);
    return 1e12;
  }

  size_t Pick() {
    size_t best = 0;
    double best_cost = kNotReady;
    for (size_t i = 0; i < pending_.size(); ++i) {
      double c = Cost(*pending_[i]);
      if (c < best_cost) {
        best_cost = c;
        best = i;
      }
    }
    if (best_cost >= kNotReady) {
      const Clause* c = pending_.front();
      std::vector<Sym> unbound;
      for (Sym v : ClauseVars(*c)) {
        if (!Bound(v)) unbound.push_back(v);
      }
      std::string names;
      for (Sym v : unbound) names += (names.empty() ? "" : " ") + v->full;
      Fail("Insufficient bindings: none of #{" + names + "} is bound in " + FormText(c->form));
    }
    return best;
  }

  // ---- data patterns ----

  // Constants of a pattern resolved against the db: entity refs, attribute, ref values.
  ResolvedPattern Resolve(const Db& db, const Clause& c) const {
    ResolvedPattern r;
    const auto& t = c.terms;
    auto konst = [&](size_t i) -> const Value* {
      if (i >= t.size() || t[i].kind != Term::Kind::kConstant) return nullptr;
      return &t[i].value;
    };
    if (const Value* a = konst(1)) {
      uint32_t id = a->is_keyword() || a->type() == Type::kLong ? db.AttrId(*a) : 0;
      if (id == 0) {
        r.impossible = true;
        return r;
      }
      r.p.a = id;
    }
    if (const Value* e = konst(0)) {
      int64_t id = ResolveEntity(db, *e);
      if (id <= 0 && e->is_sequential()) {
        throw Error(ErrorKind::kQuery, "Nothing found for entity id " + FormText(*e),
                    Value::Map({{Kw("entity-id"), *e}}));
      }
      if (id <= 0) r.impossible = true;
      r.p.e = id;
    }
    if (const Value* v = konst(2)) {
      CheckValueFormat(db, r.p.a, *v);
      if (r.p.a != 0 && db.schema().IsRef(r.p.a) && (v->is_keyword() || v->is_sequential())) {
        int64_t id = ResolveEntity(db, *v);
        if (id <= 0) r.impossible = true;
        r.p.v = Value::Long(id);
      } else {
        r.p.v = *v;
      }
    }
    if (const Value* tx = konst(3)) {
      int64_t id = ResolveEntity(db, *tx);
      if (id <= 0) r.impossible = true;
      r.p.tx = id;
    }
    if (const Value* added = konst(4)) {
      if (added->type() != Type::kBool) r.impossible = true;
      else r.added = added->as_bool();
    }
    return r;
  }

  // As Datahike: a vector in value position is a lookup ref (two elements) unless the attribute
  // holds tuples.
  static void CheckValueFormat(const Db& db, uint32_t a, const Value& v) {
    if (!v.is_sequential() || v.size() == 2) return;
    const Attribute* attr = a != 0 ? db.schema().Find(a) : nullptr;
    if (attr != nullptr && (attr->type == ValueType::kTuple || !attr->tuple_attrs.empty())) return;
    throw Error(ErrorKind::kQuery,
                "Bad format for value in pattern, must be a scalar, nil or a vector of two elements: " +
                    FormText(v),
                Value::Map({{Kw("value"), v}}));
  }

  static int64_t ResolveEntity(const Db& db, const Value& ref) {
    if (ref.type() == Type::kLong) return ref.as_long();
    if (ref.is_keyword() || ref.is_sequential()) {
      try {
        return db.Entid(ref);
      } catch (const Error&) {
        return 0;
      }
    }
    return 0;
  }

  static IndexOrder ChooseIndex(const Db&, const Pattern& p) {
    if (p.e) return IndexOrder::kEavt;
    if (p.a != 0 && p.v) return IndexOrder::kAvet;  // AVET holds every attribute (core/db/db.h)
    if (p.a != 0) return IndexOrder::kAevt;
    return IndexOrder::kEavt;
  }

  double PatternCost(const Clause& c) {
    const Source& src = SourceOf(c.source);
    if (!src.db) return static_cast<double>(src.coll.size());
    const Db& db = *src.db;
    ResolvedPattern r = Resolve(db, c);
    if (r.impossible) return -4;  // empties the query at once
    double base = static_cast<double>(db.EstimateCount(ChooseIndex(db, r.p), r.p));
    if (r.p.v && ChooseIndex(db, r.p) != IndexOrder::kAvet) base = base / 8 + 1;
    // Joined with a bound relation: rows x fanout, where a constant value keeps the share of the
    // attribute's datoms that hold it (AVET counts every attribute's values).
    double best = base;
    double selectivity = 1;
    if (r.p.a != 0 && r.p.v) {
      Pattern a_only;
      a_only.a = r.p.a;
      double all = static_cast<double>(db.EstimateCount(IndexOrder::kAevt, a_only));
      selectivity = all > 0 ? static_cast<double>(db.EstimateCount(IndexOrder::kAvet, r.p)) / all : 0;
    }
    for (size_t i = 0; i < c.terms.size() && i < 3; ++i) {
      const Term& t = c.terms[i];
      if (t.kind != Term::Kind::kVariable) continue;
      int rel = RelOf(t.sym);
      if (rel < 0) continue;
      double rows = static_cast<double>(rels_[rel].rows);
      double fanout = 8;
      if (i == 0 && r.p.a != 0) fanout = db.schema().IsMany(r.p.a) ? 4 : 1;
      if (i == 2 && r.p.a != 0) {
        const Attribute* attr = db.schema().Find(r.p.a);
        fanout = attr != nullptr && attr->unique != Unique::kNone ? 1 : 4;
      }
      best = std::min(best, rows * fanout * (i == 2 ? 1 : selectivity));
    }
    return best;
  }

  // A predicate fused into a scan: evaluated on each candidate row before it is kept.
  struct Fused {
    const Clause* clause;
    BuiltinFn fn;
    // A comparison of one column with a long constant, decided without calling fn when the
    // column's value is a long too: op is '<', '>', 'l' (<=) or 'g' (>=) read as column op k.
    char op = 0;
    int col = -1;
    int64_t k = 0;
  };

  // Fills the fast comparison of a fused predicate (see Fused) when it has that shape.
  void PrepareComparison(Fused* f, const std::vector<Sym>& vars) const {
    const Clause& c = *f->clause;
    const std::string& name = c.fn->full;
    if (c.terms.size() != 2) return;
    char op = name == "<" ? '<' : name == ">" ? '>' : name == "<=" ? 'l' : name == ">=" ? 'g' : 0;
    if (op == 0) return;
    auto col_of = [&](const Term& t) {
      if (t.kind != Term::Kind::kVariable) return -1;
      auto it = std::find(vars.begin(), vars.end(), t.sym);
      return it == vars.end() ? -1 : static_cast<int>(it - vars.begin());
    };
    auto long_of = [&](const Term& t) -> const Value* {
      const Value* v = t.kind == Term::Kind::kConstant ? &t.value
                       : t.kind == Term::Kind::kVariable && col_of(t) < 0 ? ScalarOf(t.sym)
                                                                          : nullptr;
      return v != nullptr && v->type() == Type::kLong ? v : nullptr;
    };
    auto flip = [](char o) { return o == '<' ? '>' : o == '>' ? '<' : o == 'l' ? 'g' : 'l'; };
    if (int col = col_of(c.terms[0]); col >= 0) {
      if (const Value* k = long_of(c.terms[1])) {
        f->op = op;
        f->col = col;
        f->k = k->as_long();
      }
    } else if (int col2 = col_of(c.terms[1]); col2 >= 0) {
      if (const Value* k = long_of(c.terms[0])) {  // k op col  is  col flip(op) k
        f->op = flip(op);
        f->col = col2;
        f->k = k->as_long();
      }
    }
  }

  // Pending predicates whose variables are all among `vars` or scalar-bound; taken off pending_.
  std::vector<Fused> TakeFusable(const std::vector<Sym>& vars) {
    std::vector<Fused> out;
    for (size_t i = 0; i < pending_.size();) {
      const Clause* c = pending_[i];
      bool ok = c->kind == Clause::Kind::kPredicate;
      BuiltinFn fn = ok ? FindBuiltin(c->fn->full) : nullptr;
      ok = ok && fn != nullptr;
      for (const Term& t : c->terms) {
        if (!ok) break;
        if (t.kind == Term::Kind::kSource) ok = false;
        if (t.kind == Term::Kind::kVariable) {
          ok = std::find(vars.begin(), vars.end(), t.sym) != vars.end() || ScalarOf(t.sym);
        }
      }
      if (ok) {
        Fused f{c, fn};
        PrepareComparison(&f, vars);
        out.push_back(f);
        pending_.erase(pending_.begin() + static_cast<long>(i));
      } else {
        ++i;
      }
    }
    return out;
  }

  // Narrows an AVET scan of the value variable by comparison predicates against constants.
  void RangeFromPredicates(const std::vector<Fused>& fused, Sym var, std::optional<Value>* lo,
                           std::optional<Value>* hi) {
    for (const Fused& f : fused) {
      const std::string& name = f.clause->fn->full;
      if (f.clause->terms.size() != 2) continue;
      bool lt = name == "<" || name == "<=";
      bool gt = name == ">" || name == ">=";
      if (!lt && !gt) continue;
      const Term& x = f.clause->terms[0];
      const Term& y = f.clause->terms[1];
      auto constant = [&](const Term& t) -> const Value* {
        if (t.kind == Term::Kind::kConstant) return &t.value;
        if (t.kind == Term::Kind::kVariable && t.sym != var) return ScalarOf(t.sym);
        return nullptr;
      };
      const Value* k = nullptr;
      bool var_first = false;
      if (x.kind == Term::Kind::kVariable && x.sym == var) {
        k = constant(y);
        var_first = true;
      } else if (y.kind == Term::Kind::kVariable && y.sym == var) {
        k = constant(x);
      }
      if (k == nullptr || !k->is_number()) continue;
      bool upper = var_first ? lt : gt;  // ?v < k  or  k > ?v  bound ?v from above
      if (upper) {
        if (!*hi || Compare(*k, **hi) < 0) *hi = *k;
      } else {
        if (!*lo || Compare(*k, **lo) > 0) *lo = *k;
      }
    }
  }

  bool PassFused(const std::vector<Fused>& fused, const std::vector<Sym>& vars,
                 const Value* row) const {
    for (const Fused& f : fused) {
      if (f.op != 0 && row[f.col].type() == Type::kLong) {
        int64_t x = row[f.col].as_long();
        bool pass = f.op == '<' ? x < f.k : f.op == '>' ? x > f.k : f.op == 'l' ? x <= f.k : x >= f.k;
        if (!pass) return false;
        continue;
      }
      size_t n = f.clause->terms.size();
      Value args[8];
      std::vector<Value> heap;
      Value* a = args;
      if (n > 8) {
        heap.resize(n);
        a = heap.data();
      }
      for (size_t i = 0; i < n; ++i) {
        const Term& t = f.clause->terms[i];
        if (t.kind == Term::Kind::kConstant) {
          a[i] = t.value;
        } else if (t.kind == Term::Kind::kVariable) {
          auto it = std::find(vars.begin(), vars.end(), t.sym);
          a[i] = it != vars.end() ? row[it - vars.begin()] : *ScalarOf(t.sym);
        } else {
          a[i] = Value();
        }
      }
      if (!CallPredicate(f.fn, a, n)) return false;
    }
    return true;
  }

  // The value a pattern position takes from a datom.
  static Value FieldValue(const Datom& d, size_t pos) {
    switch (pos) {
      case 0: return Value::Long(d.e);
      case 1: return Value::Keyword(KeywordById(d.a));
      case 2: return d.v;
      case 3: return Value::Long(d.tx);
      default: return Value::Bool(d.added);
    }
  }

  void ExecPattern(const Clause& c) {
    const Source& src = SourceOf(c.source);
    if (!src.db) {
      ExecCollectionPattern(c, src.coll);
      return;
    }
    const Db& db = *src.db;
    ResolvedPattern rp = Resolve(db, c);
    if (rp.impossible) {
      ctx_.Note(indent_, FormText(c.form) + "  names nothing: empty");
      empty_ = true;
      return;
    }
    // Variables of the pattern: first position of each, and repeated positions (equalities).
    std::vector<Sym> pvars;
    std::vector<size_t> ppos;
    std::vector<std::pair<size_t, size_t>> same;  // (position, earlier position of the same var)
    for (size_t i = 0; i < c.terms.size(); ++i) {
      if (c.terms[i].kind != Term::Kind::kVariable) continue;
      auto it = std::find(pvars.begin(), pvars.end(), c.terms[i].sym);
      if (it != pvars.end()) {
        same.emplace_back(i, ppos[it - pvars.begin()]);
      } else {
        pvars.push_back(c.terms[i].sym);
        ppos.push_back(i);
      }
    }
    std::vector<Sym> bound_vars;
    for (Sym v : pvars) {
      if (Bound(v)) bound_vars.push_back(v);
    }
    Relation in = TakeRelations(bound_vars);
    // Output columns: the input's, then the pattern's new variables.
    Relation out;
    out.vars = in.vars;
    std::vector<size_t> new_pos;  // pattern position of each new column
    for (size_t k = 0; k < pvars.size(); ++k) {
      if (in.Has(pvars[k])) continue;
      out.vars.push_back(pvars[k]);
      new_pos.push_back(ppos[k]);
    }
    std::vector<Fused> fused = TakeFusable(out.vars);
    out.data.reserve(std::max<size_t>(in.rows, 16) * out.width());
    auto matches_rest = [&](const Datom& d) {
      if (rp.added && d.added != *rp.added) return false;
      for (auto [i, j] : same) {
        if (!Equal(FieldValue(d, i), FieldValue(d, j))) return false;
      }
      return true;
    };
    std::vector<Value> scratch(out.width());
    const size_t in_width = in.width();
    auto emit = [&](const Value* in_row, const Datom& d) {
      if (!fused.empty()) {
        std::copy(in_row, in_row + in_width, scratch.begin());
        for (size_t k = 0; k < new_pos.size(); ++k) scratch[in_width + k] = FieldValue(d, new_pos[k]);
        if (!PassFused(fused, out.vars, scratch.data())) return;
        for (Value& v : scratch) out.data.push_back(std::move(v));
      } else {
        for (size_t k = 0; k < in_width; ++k) out.data.push_back(in_row[k]);
        for (size_t pos : new_pos) out.data.push_back(FieldValue(d, pos));
      }
      ++out.rows;
    };
    // Columns of the input that the pattern binds, and their positions.
    std::vector<int> key_cols;
    std::vector<size_t> key_pos;
    for (size_t k = 0; k < pvars.size(); ++k) {
      int col = in.Col(pvars[k]);
      if (col >= 0) {
        key_cols.push_back(col);
        key_pos.push_back(ppos[k]);
      }
    }
    size_t scan_count = db.EstimateCount(ChooseIndex(db, rp.p), rp.p);
    // A lookup pays only when an index has the bound positions as its prefix: the entity (EAVT),
    // the attribute (AEVT), or attribute and value (AVET).
    bool indexed = false;
    for (size_t pos : key_pos) {
      if (pos == 0 || pos == 1 || (pos == 2 && rp.p.a != 0)) indexed = true;
    }
    bool lookup = indexed && !key_cols.empty() && in.rows * 16 < scan_count;
    // Bound entity references that are not entity ids (lookup refs, idents from the inputs) are
    // resolved per binding, which only the lookup join does.
    for (size_t k = 0; k < key_cols.size() && !lookup; ++k) {
      bool entity_pos = key_pos[k] == 0 || key_pos[k] == 3 ||
                        (key_pos[k] == 2 && rp.p.a != 0 && db.schema().IsRef(rp.p.a));
      if (!entity_pos) continue;
      for (size_t i = 0; i < in.rows && !lookup; ++i) {
        lookup = in.row(i)[key_cols[k]].type() != Type::kLong;
      }
    }
    // Joined on the entity alone with entity ids: a merge join along AEVT, which seeks across
    // long gaps, is never worse than a lookup per binding.
    const bool merge = key_cols.size() == 1 && key_pos[0] == 0 && rp.p.a != 0 && !rp.p.e &&
                       db.view() == ViewKind::kCurrent && AllLongs(in, key_cols[0]);
    if (merge) lookup = false;
    std::string how;
    if (key_cols.empty()) {
      // A fresh scan (joined with nothing).
      std::optional<Value> lo, hi;
      Pattern p = rp.p;
      IndexOrder order = ChooseIndex(db, p);
      int vcol = -1;
      for (size_t k = 0; k < new_pos.size(); ++k) {
        if (new_pos[k] == 2) vcol = static_cast<int>(k);
      }
      if (vcol >= 0 && !p.v && p.a != 0 && !p.e && !fused.empty()) {
        RangeFromPredicates(fused, c.terms[2].sym, &lo, &hi);
      }
      Value unit_row[1];
      if (lo || hi) {
        how = "avet range";
        ScanValueRange(db, p.a, lo, hi, [&](const Datom& d) {
          if ((!p.tx || d.tx == *p.tx) && matches_rest(d)) emit(unit_row, d);
          return true;
        });
      } else {
        how = order == IndexOrder::kEavt ? "scan eavt" : order == IndexOrder::kAevt ? "scan aevt"
                                                                                   : "scan avet";
        ScanPattern(db, order, p, [&](const Datom& d) {
          if (matches_rest(d)) emit(unit_row, d);
          return true;
        });
      }
      (void)in;
    } else if (lookup) {
      how = "lookup per binding";
      // One index lookup per distinct binding of the key columns.
      RowIndex groups(in, key_cols);
      std::vector<char> done(in.rows, 0);
      for (size_t i = 0; i < in.rows; ++i) {
        if (done[i]) continue;
        const Value* row = in.row(i);
        std::vector<uint32_t> members;
        groups.ForEachMatch(row, key_cols, [&](uint32_t j) {
          members.push_back(j);
          done[j] = 1;
        });
        Pattern p = rp.p;
        bool possible = true;
        for (size_t k = 0; k < key_cols.size() && possible; ++k) {
          const Value& v = row[key_cols[k]];
          switch (key_pos[k]) {
            case 0: {
              int64_t e = ResolveEntity(db, v);
              possible = e > 0;
              p.e = e;
              break;
            }
            case 1: {
              uint32_t a = v.is_keyword() || v.type() == Type::kLong ? db.AttrId(v) : 0;
              possible = a != 0;
              p.a = a;
              break;
            }
            case 2:
              CheckValueFormat(db, p.a, v);
              if (p.a != 0 && db.schema().IsRef(p.a) && (v.is_keyword() || v.is_sequential())) {
                int64_t e = ResolveEntity(db, v);
                possible = e > 0;
                p.v = Value::Long(e);
              } else {
                p.v = v;
              }
              break;
            case 3:
              possible = v.type() == Type::kLong;
              if (possible) p.tx = v.as_long();
              break;
            default:
              break;
          }
        }
        if (!possible) continue;
        ScanPattern(db, ChooseIndex(db, p), p, [&](const Datom& d) {
          if (!matches_rest(d)) return true;
          for (size_t k = 0; k < key_pos.size(); ++k) {
            if (key_pos[k] == 4 && !Equal(row[key_cols[k]], Value::Bool(d.added))) return true;
          }
          for (uint32_t j : members) emit(in.row(j), d);
          return true;
        });
      }
    } else if (merge) {
      how = "merge join on e";
      // Rows by entity id, then one forward walk over the attribute's AEVT run.
      const int col = key_cols[0];
      std::vector<int64_t> ids(in.rows);
      bool strictly_increasing = true;
      for (size_t i = 0; i < in.rows; ++i) {
        ids[i] = in.row(i)[col].as_long();
        if (i > 0 && ids[i] <= ids[i - 1]) strictly_increasing = false;
      }
      if (strictly_increasing) {
        // One row per id, already in order (a relation fresh from an entity-ordered scan).
        MergeByEntity(db, rp.p, ids, [&](size_t i, const Datom& d) {
          if (matches_rest(d)) emit(in.row(i), d);
        });
      } else {
        std::vector<uint32_t> order(in.rows);
        for (uint32_t i = 0; i < in.rows; ++i) order[i] = i;
        std::sort(order.begin(), order.end(),
                  [&](uint32_t x, uint32_t y) { return ids[x] < ids[y]; });
        std::vector<int64_t> distinct;
        std::vector<uint32_t> group_start;  // into `order`, one per distinct id, plus the end
        distinct.reserve(in.rows);
        group_start.reserve(in.rows + 1);
        for (uint32_t k = 0; k < order.size(); ++k) {
          int64_t e = ids[order[k]];
          if (distinct.empty() || distinct.back() != e) {
            distinct.push_back(e);
            group_start.push_back(k);
          }
        }
        group_start.push_back(static_cast<uint32_t>(order.size()));
        MergeByEntity(db, rp.p, distinct, [&](size_t g, const Datom& d) {
          if (!matches_rest(d)) return;
          for (uint32_t k = group_start[g]; k < group_start[g + 1]; ++k) emit(in.row(order[k]), d);
        });
      }
    } else if (key_cols.size() == 1 && key_pos[0] != 1 && AllLongs(in, key_cols[0])) {
      how = "scan + hash join";
      // One bound entity id (or long value): probe by the number, building no key values.
      LongIndex index(in, key_cols[0]);
      const size_t pos = key_pos[0];
      ScanPattern(db, ChooseIndex(db, rp.p), rp.p, [&](const Datom& d) {
        int64_t key;
        if (pos == 0) {
          key = d.e;
        } else if (pos == 3) {
          key = d.tx;
        } else if (pos == 2 && d.v.type() == Type::kLong) {
          key = d.v.as_long();
        } else {
          return true;
        }
        index.ForEach(key, [&](uint32_t j) {
          if (matches_rest(d)) emit(in.row(j), d);
        });
        return true;
      });
    } else {
      how = "scan + hash join";
      // One scan of the constants, probing the input by the bound positions.
      RowIndex index(in, key_cols);
      std::vector<int> probe_cols(key_cols.size());
      for (size_t k = 0; k < probe_cols.size(); ++k) probe_cols[k] = static_cast<int>(k);
      std::vector<Value> key(key_cols.size());
      ScanPattern(db, ChooseIndex(db, rp.p), rp.p, [&](const Datom& d) {
        if (!matches_rest(d)) return true;
        for (size_t k = 0; k < key_pos.size(); ++k) key[k] = FieldValue(d, key_pos[k]);
        index.ForEachMatch(key.data(), probe_cols, [&](uint32_t j) { emit(in.row(j), d); });
        return true;
      });
    }
    // A datom is one (e a v) in every view but history; rows stay distinct when the pattern
    // keeps what tells its datoms apart.
    auto kept = [&](size_t pos) {
      return pos < c.terms.size() && c.terms[pos].kind != Term::Kind::kBlank;
    };
    bool distinct = kept(0) && kept(1) && kept(2) &&
                    (db.view() != ViewKind::kHistory || (kept(3) && kept(4)));
    if (!distinct) Dedupe(out);
    std::string fused_text;
    for (const Fused& f : fused) fused_text += " " + FormText(f.clause->form);
    ctx_.Note(indent_, FormText(c.form) + "  " + how + (fused_text.empty() ? "" : " filter" + fused_text) +
                           "  est " + std::to_string(scan_count) + " -> " + std::to_string(out.rows) +
                           " rows");
    Put(std::move(out));
  }

  // A pattern over a plain collection of tuples.
  void ExecCollectionPattern(const Clause& c, const Value& coll) {
    std::vector<Sym> pvars;
    for (const Term& t : c.terms) {
      if (t.kind == Term::Kind::kVariable &&
          std::find(pvars.begin(), pvars.end(), t.sym) == pvars.end()) {
        pvars.push_back(t.sym);
      }
    }
    Relation rel;
    rel.vars = pvars;
    std::vector<Value> row(pvars.size());
    for (const Value& tuple : coll.items()) {
      if (!tuple.is_sequential() && !tuple.is_set()) continue;
      const auto& items = tuple.items();
      if (items.size() < c.terms.size()) continue;
      bool ok = true;
      std::vector<bool> set(pvars.size(), false);
      for (size_t i = 0; i < c.terms.size() && ok; ++i) {
        const Term& t = c.terms[i];
        if (t.kind == Term::Kind::kConstant) {
          ok = Equal(items[i], t.value);
        } else if (t.kind == Term::Kind::kVariable) {
          size_t k = std::find(pvars.begin(), pvars.end(), t.sym) - pvars.begin();
          if (set[k]) {
            ok = Equal(row[k], items[i]);
          } else {
            row[k] = items[i];
            set[k] = true;
          }
        }
      }
      if (ok) rel.Push(row.data());
    }
    Dedupe(rel);
    ctx_.Note(indent_, FormText(c.form) + "  collection scan -> " + std::to_string(rel.rows) + " rows");
    JoinIn(std::move(rel));
  }

  // Joins r with the relations it shares variables with and keeps the result.
  void JoinIn(Relation r) {
    Relation in = TakeRelations(r.vars);
    Put(in.width() == 0 ? std::move(r) : Join(in, r));
  }

  // ---- predicates and functions ----

  Value ArgValue(const Term& t, const Relation& rel, const Value* row) const {
    switch (t.kind) {
      case Term::Kind::kConstant: return t.value;
      case Term::Kind::kVariable: return row[rel.Col(t.sym)];
      case Term::Kind::kSource:
      case Term::Kind::kBlank: return Value();
    }
    return Value();
  }

  const Db& ArgDb(const Clause& c, size_t i) const {
    if (i >= c.terms.size() || c.terms[i].kind != Term::Kind::kSource) {
      Fail(c.fn->full + " expects a database source as its first argument in " + FormText(c.form));
    }
    const Source& s = SourceOf(c.terms[i].sym);
    if (!s.db) Fail(c.fn->full + " needs a database, got a collection, in " + FormText(c.form));
    return *s.db;
  }

  // Calls the clause's function on one row; nullopt means "no result" (the row is dropped).
  std::optional<Value> Call(const Clause& c, const Relation& rel, const Value* row) {
    const std::string& name = c.fn->full;
    const auto& t = c.terms;
    if (name == "get-else") {
      if (t.size() != 4) Fail("get-else takes 4 arguments: " + FormText(c.form));
      const Db& db = ArgDb(c, 0);
      Value e = ArgValue(t[1], rel, row), a = ArgValue(t[2], rel, row);
      Value dflt = ArgValue(t[3], rel, row);
      if (dflt.is_nil()) Fail("get-else: nil default value is not supported in " + FormText(c.form));
      if (auto v = FirstValue(db, e, a, c)) return *v;
      return dflt;
    }
    if (name == "get-some") {
      if (t.size() < 3) Fail("get-some takes a source, an entity and attributes: " + FormText(c.form));
      const Db& db = ArgDb(c, 0);
      Value e = ArgValue(t[1], rel, row);
      for (size_t i = 2; i < t.size(); ++i) {
        Value a = ArgValue(t[i], rel, row);
        if (auto v = FirstValue(db, e, a, c)) return Value::Vector({a, *v});
      }
      return std::nullopt;
    }
    if (name == "missing?") {
      if (t.size() != 3) Fail("missing? takes 3 arguments: " + FormText(c.form));
      const Db& db = ArgDb(c, 0);
      return Value::Bool(!FirstValue(db, ArgValue(t[1], rel, row), ArgValue(t[2], rel, row), c));
    }
    if (name == "ground") {
      if (t.size() != 1) Fail("ground takes 1 argument: " + FormText(c.form));
      return ArgValue(t[0], rel, row);
    }
    if (name == "q" || name == "datahike.api/q" || name == "datomic.api/q") {
      if (t.empty()) Fail("q needs a query: " + FormText(c.form));
      std::vector<Input> inputs;
      for (size_t i = 1; i < t.size(); ++i) {
        if (t[i].kind == Term::Kind::kSource) {
          const Source& s = SourceOf(t[i].sym);
          inputs.push_back(s.db ? Input::Database(s.db) : Input::Plain(s.coll));
        } else {
          inputs.push_back(Input::Plain(ArgValue(t[i], rel, row)));
        }
      }
      Value q = ArgValue(t[0], rel, row);
      if (q.is_string()) q = edn::Read(q.as_string());
      return Q(q, inputs);
    }
    BuiltinFn fn = FindBuiltin(name);
    if (fn == nullptr) Fail("Unknown function '" + name + " in " + FormText(c.form));
    Value args[8];
    std::vector<Value> heap;
    Value* a = args;
    if (t.size() > 8) {
      heap.resize(t.size());
      a = heap.data();
    }
    for (size_t i = 0; i < t.size(); ++i) {
      if (t[i].kind == Term::Kind::kSource) {
        Fail(name + " does not take a database argument: " + FormText(c.form));
      }
      a[i] = ArgValue(t[i], rel, row);
    }
    return fn(a, t.size());
  }

  // The first value of attribute a on entity e, or nullopt.
  static std::optional<Value> FirstValue(const Db& db, const Value& e, const Value& a,
                                         const Clause& c) {
    if (a.is_keyword() && a.as_named()->name.starts_with("_")) {
      // A reverse attribute: the first entity referring to e through the forward attribute.
      const Named* k = a.as_named();
      uint32_t fwd = db.AttrId(Value::Keyword(InternKeyword(k->ns, k->name.substr(1))));
      int64_t id = ResolveEntity(db, e);
      if (fwd == 0 || id <= 0) return std::nullopt;
      std::optional<Value> out;
      Pattern p;
      p.a = fwd;
      p.v = Value::Long(id);
      db.Search(IndexOrder::kAvet, p, [&](const Datom& d) {
        out = Value::Long(d.e);
        return false;
      });
      return out;
    }
    uint32_t attr = a.is_keyword() ? db.AttrId(a) : 0;
    if (attr == 0) Fail("Attribute must be a keyword naming an attribute, got " + FormText(a) +
                        " in " + FormText(c.form));
    int64_t id = ResolveEntity(db, e);
    if (id <= 0) return std::nullopt;
    std::optional<Value> out;
    Pattern p;
    p.e = id;
    p.a = attr;
    db.Search(IndexOrder::kEavt, p, [&](const Datom& d) {
      out = d.v;
      return false;
    });
    return out;
  }

  void ExecPredicate(const Clause& c) {
    Relation in = TakeRelations(TermVars(c.terms));
    Relation out;
    out.vars = in.vars;
    for (size_t i = 0; i < in.rows; ++i) {
      std::optional<Value> r;
      try {
        r = Call(c, in, in.row(i));
      } catch (const Error& e) {
        if (!IsInvalidArgument(e)) throw;  // as Datahike: a wrong-typed predicate is false
      }
      if (r && r->truthy()) out.Push(in.row(i));
    }
    ctx_.Note(indent_, FormText(c.form) + "  filter " + std::to_string(in.rows) + " -> " +
                           std::to_string(out.rows) + " rows");
    Put(std::move(out));
  }


 public:
  // Binds `value` to a binding form; returns the relation of its variables (possibly 0 rows).
  static Relation BindValue(const Binding& b, const Value& value) {
    Relation r;
    switch (b.kind) {
      case Binding::Kind::kScalar:
        r.vars = {b.sym};
        r.Push(&value);
        return r;
      case Binding::Kind::kIgnore:
        return Relation::Unit();
      case Binding::Kind::kTuple: {
        if (!value.is_sequential()) {
          Fail("Cannot bind value " + FormText(value) + " to tuple " + BindingText(b));
        }
        const auto& items = value.items();
        if (items.size() < b.elements.size()) {
          Fail("Not enough elements in " + FormText(value) + " for tuple " + BindingText(b));
        }
        r = Relation::Unit();
        for (size_t i = 0; i < b.elements.size(); ++i) r = Join(r, BindValue(b.elements[i], items[i]));
        return r;
      }
      case Binding::Kind::kCollection:
      case Binding::Kind::kRelation: {
        if (value.is_nil()) return EmptyOf(b);
        if (value.is_map()) {
          std::vector<Value> entries;
          for (const auto& [k, v] : value.entries()) entries.push_back(Value::Vector({k, v}));
          return BindValue(b, Value::Vector(std::move(entries)));
        }
        if (!value.is_collection()) {
          Fail("Cannot bind value " + FormText(value) + " to collection " + BindingText(b));
        }
        Binding elem;
        if (b.kind == Binding::Kind::kCollection) {
          elem = b.elements[0];
        } else {
          elem.kind = Binding::Kind::kTuple;
          elem.elements = b.elements;
        }
        r = EmptyOf(b);
        bool first = true;
        for (const Value& item : value.items()) {
          Relation one = BindValue(elem, item);
          if (first) {
            r = std::move(one);
            first = false;
          } else {
            r = Union(r, one);
          }
        }
        return r;
      }
      case Binding::Kind::kSource:
      case Binding::Kind::kRules:
        break;
    }
    Fail("Unexpected binding form");
  }

  static void VarsOf(const Binding& b, std::vector<Sym>* out) {
    if (b.kind == Binding::Kind::kScalar) out->push_back(b.sym);
    for (const Binding& e : b.elements) VarsOf(e, out);
  }
  static Relation EmptyOf(const Binding& b) {
    Relation r;
    VarsOf(b, &r.vars);
    return r;
  }
  static std::string BindingText(const Binding& b) {
    switch (b.kind) {
      case Binding::Kind::kScalar: return b.sym->full;
      case Binding::Kind::kIgnore: return "_";
      case Binding::Kind::kTuple: {
        std::string s = "[";
        for (size_t i = 0; i < b.elements.size(); ++i) s += (i ? " " : "") + BindingText(b.elements[i]);
        return s + "]";
      }
      case Binding::Kind::kCollection: return "[" + BindingText(b.elements[0]) + " ...]";
      case Binding::Kind::kRelation: {
        Binding t = b;
        t.kind = Binding::Kind::kTuple;
        return "[" + BindingText(t) + "]";
      }
      case Binding::Kind::kSource: return b.sym->full;
      case Binding::Kind::kRules: return "%";
    }
    return "?";
  }


 private:
  void ExecFunction(const Clause& c) {
    Relation in = TakeRelations(TermVars(c.terms));
    Relation bound_out = EmptyOf(c.binding);
    // Output variables already bound elsewhere are joined afterwards.
    Relation out;
    out.vars = in.vars;
    std::vector<Sym> outvars = bound_out.vars;
    for (Sym v : outvars) {
      if (!in.Has(v) && std::find(out.vars.begin(), out.vars.end(), v) == out.vars.end()) {
        out.vars.push_back(v);
      }
    }
    std::vector<Value> scratch(out.width());
    for (size_t i = 0; i < in.rows; ++i) {
      auto result = Call(c, in, in.row(i));
      if (!result || result->is_nil()) continue;
      Relation bound = BindValue(c.binding, *result);
      std::vector<int> cols;
      for (Sym v : out.vars) cols.push_back(bound.Col(v));
      for (size_t j = 0; j < bound.rows; ++j) {
        const Value* b = bound.row(j);
        bool ok = true;
        for (size_t k = 0; k < out.vars.size() && ok; ++k) {
          if (k < in.width()) {
            scratch[k] = in.row(i)[k];
            if (cols[k] >= 0) ok = Equal(scratch[k], b[cols[k]]);
          } else {
            scratch[k] = b[cols[k]];
          }
        }
        if (ok) out.Push(scratch.data());
      }
    }
    Dedupe(out);
    ctx_.Note(indent_, FormText(c.form) + "  function " + std::to_string(in.rows) + " -> " +
                           std::to_string(out.rows) + " rows");
    JoinIn(std::move(out));
  }

  // ---- not / or ----

  Relation Sub(const std::vector<const Clause*>& clauses, Sym source, Relation seed,
               const std::vector<Sym>& outputs) {
    Depth guard(ctx_);
    Body body(ctx_, source == nullptr ? default_source_ : source, indent_ + 1);
    body.AddRelation(std::move(seed));
    return body.Run(clauses, outputs);
  }

  static std::vector<const Clause*> Ptrs(const std::vector<Clause>& cs) {
    std::vector<const Clause*> out;
    for (const Clause& c : cs) out.push_back(&c);
    return out;
  }

  void ExecNot(const Clause& c) {
    std::vector<Sym> join;
    for (Sym v : c.join_vars) {
      if (Bound(v)) join.push_back(v);
    }
    if (join.empty()) {
      Fail("Insufficient bindings: none of the variables of " + FormText(c.form) + " is bound");
    }
    Relation in = TakeRelations(join);
    Relation matched = Sub(Ptrs(c.clauses), c.source, Project(in, join), join);
    Relation out = SemiJoin(in, matched, false);
    ctx_.Note(indent_, FormText(c.form) + "  anti-join " + std::to_string(in.rows) + " -> " +
                           std::to_string(out.rows) + " rows");
    Put(std::move(out));
  }

  void ExecOr(const Clause& c) {
    std::vector<Sym> bound;
    for (Sym v : c.join_vars) {
      if (Bound(v)) bound.push_back(v);
    }
    Relation in = TakeRelations(bound);
    Relation seed = Project(in, bound);
    Relation all;
    all.vars = c.join_vars;
    for (const Clause& branch : c.clauses) {
      std::vector<const Clause*> body;
      if (branch.kind == Clause::Kind::kAnd) {
        body = Ptrs(branch.clauses);
      } else {
        body = {&branch};
      }
      Relation r = Sub(body, c.source, seed, c.join_vars);
      all = Union(all, r);
    }
    ctx_.Note(indent_, FormText(c.form) + "  union of " + std::to_string(c.clauses.size()) +
                           " branches -> " + std::to_string(all.rows) + " rows");
    Put(in.width() == 0 && in.rows == 1 ? std::move(all) : Join(in, all));
  }

  // ---- rule calls ----

  void ExecRuleCall(const Clause& c) {
    if (!ctx_.rules || ctx_.rules->by_name.count(c.fn) == 0) {
      Fail("Unknown rule '" + c.fn->full + " in " + FormText(c.form));
    }
    const Rule* rule = ctx_.rules->by_name.at(c.fn).front();
    size_t arity = rule->required_vars.size() + rule->vars.size();
    if (c.terms.size() != arity) {
      Fail("Rule " + c.fn->full + " takes " + std::to_string(arity) + " arguments, got " +
           std::to_string(c.terms.size()) + " in " + FormText(c.form));
    }
    // The bound arguments form the seed, with positional columns.
    std::vector<Sym> bound_vars;
    for (const Term& t : c.terms) {
      if (t.kind == Term::Kind::kVariable && Bound(t.sym)) bound_vars.push_back(t.sym);
    }
    Relation in = TakeRelations(bound_vars);
    Relation seed = Relation::Unit();
    {
      std::vector<Sym> cols;
      std::vector<int> src_cols;
      std::vector<const Value*> consts;
      for (size_t i = 0; i < c.terms.size(); ++i) {
        const Term& t = c.terms[i];
        if (t.kind == Term::Kind::kConstant) {
          cols.push_back(PositionVar(i));
          src_cols.push_back(-1);
          consts.push_back(&t.value);
        } else if (t.kind == Term::Kind::kVariable && in.Has(t.sym)) {
          cols.push_back(PositionVar(i));
          src_cols.push_back(in.Col(t.sym));
          consts.push_back(nullptr);
        }
      }
      if (!cols.empty()) {
        seed = Relation();
        seed.vars = cols;
        std::vector<Value> row(cols.size());
        for (size_t r = 0; r < in.rows; ++r) {
          for (size_t k = 0; k < cols.size(); ++k) {
            row[k] = src_cols[k] >= 0 ? in.row(r)[src_cols[k]] : *consts[k];
          }
          seed.Push(row.data());
        }
        Dedupe(seed);
      }
    }
    Relation result;
    {
      Depth guard(ctx_);
      result = EvalRuleCall(ctx_, c, seed, c.source == nullptr ? default_source_ : c.source,
                            indent_ + 1);
    }
    // Back from positions to the call's variables: constants were seeded (already equal),
    // repeated variables must agree, blanks are dropped.
    Relation named;
    std::vector<int> from;
    std::vector<std::pair<int, int>> equal;  // (result col, result col)
    for (size_t i = 0; i < c.terms.size(); ++i) {
      const Term& t = c.terms[i];
      int col = result.Col(PositionVar(i));
      if (t.kind != Term::Kind::kVariable) continue;
      auto it = std::find(named.vars.begin(), named.vars.end(), t.sym);
      if (it != named.vars.end()) {
        equal.emplace_back(from[it - named.vars.begin()], col);
        continue;
      }
      named.vars.push_back(t.sym);
      from.push_back(col);
    }
    std::vector<Value> row(named.width());
    for (size_t r = 0; r < result.rows; ++r) {
      const Value* src = result.row(r);
      bool ok = std::all_of(equal.begin(), equal.end(),
                            [&](auto pr) { return Equal(src[pr.first], src[pr.second]); });
      if (!ok) continue;
      for (size_t k = 0; k < from.size(); ++k) row[k] = src[from[k]];
      named.Push(row.data());
    }
    if (named.width() < result.width()) Dedupe(named);  // blanks or constants dropped columns
    ctx_.Note(indent_, FormText(c.form) + "  rule -> " + std::to_string(named.rows) + " rows");
    Put(in.width() == 0 && in.rows == 1 ? std::move(named) : Join(in, named));
  }

  void Execute(const Clause& c) {
    switch (c.kind) {
      case Clause::Kind::kPattern: return ExecPattern(c);
      case Clause::Kind::kPredicate: return ExecPredicate(c);
      case Clause::Kind::kFunction: return ExecFunction(c);
      case Clause::Kind::kNot:
      case Clause::Kind::kNotJoin: return ExecNot(c);
      case Clause::Kind::kOr:
      case Clause::Kind::kOrJoin: return ExecOr(c);
      case Clause::Kind::kRuleCall: return ExecRuleCall(c);
      case Clause::Kind::kAnd: {
        for (const Clause& s : c.clauses) pending_.push_back(&s);
        return;
      }
    }
  }
};

// ---- rules --------------------------------------------------------------------------------------
//
// A call arrives with a seed: the distinct bindings of its bound positions (columns ?__p<i>).
// - A rule being evaluated bottom-up (ctx.tables) reads its table (the delta for the one call
//   that the current semi-naive variant designates), restricted to the seed.
// - A non-recursive rule runs each body with the seed bound to the head variables.
// - A recursive rule whose recursive calls pass the bound head variables through unchanged runs
//   semi-naive with the seed bound in every body: only the seeded part of the relation is built.
// - A recursive rule whose recursive calls pass the free head variables through unchanged (right-
//   linear, e.g. reachability) with some positions bound runs as a search: the set of bound tuples
//   reachable from each seed tuple, then the non-recursive bodies once over all of them.
// - Otherwise the whole relation of the recursive component is built semi-naive, then filtered.

// Runs one rule body with the seed (positional) and returns the relation over all head positions.
Relation RunRuleBody(Ctx& ctx, const Rule& rule, const Relation& seed, Sym source, int indent) {
  std::vector<Sym> head = HeadVars(rule);
  Relation s = seed;
  for (Sym& v : s.vars) {
    for (size_t i = 0; i < head.size(); ++i) {
      if (v == PositionVar(i)) v = head[i];
    }
  }
  std::vector<Sym> outputs;
  for (Sym v : head) {
    if (std::find(outputs.begin(), outputs.end(), v) == outputs.end()) outputs.push_back(v);
  }
  std::vector<const Clause*> clauses;
  for (const Clause& c : rule.body) clauses.push_back(&c);
  Body body(ctx, source, indent);
  body.AddRelation(std::move(s));
  Relation r = body.Run(clauses, outputs, false);  // every caller deduplicates
  Relation out;
  for (size_t i = 0; i < head.size(); ++i) out.vars.push_back(PositionVar(i));
  std::vector<int> cols;
  for (Sym v : head) cols.push_back(r.Col(v));
  out.data.reserve(r.rows * cols.size());
  for (size_t i = 0; i < r.rows; ++i) {
    for (int c : cols) out.data.push_back(r.row(i)[c]);
    ++out.rows;
  }
  return out;
}

// Rows of `rel` that agree with the seed on the seed's columns.
Relation Restrict(const Relation& rel, const Relation& seed) {
  if (seed.width() == 0) return seed.rows == 0 ? Relation{rel.vars, {}, 0} : rel;
  return SemiJoin(rel, seed, true);
}

bool SelfOnly(const std::unordered_set<Sym>& scc, Sym name) {
  return scc.size() == 1 && scc.count(name) == 1;
}

// Semi-naive evaluation of the rules in `scc`; `seed` (for a single self-recursive rule whose
// recursive calls keep the seeded positions) restricts every body. Returns name's relation.
Relation SemiNaive(Ctx& ctx, Sym name, const std::unordered_set<Sym>& scc, const Relation& seed,
                   Sym source, int indent) {
  const RuleSet& rs = *ctx.rules;
  std::unordered_map<Sym, RuleTable> tables;
  for (Sym p : scc) {
    size_t arity = HeadVars(*rs.by_name.at(p).front()).size();
    std::vector<Sym> vars;
    for (size_t i = 0; i < arity; ++i) vars.push_back(PositionVar(i));
    tables.emplace(p, RuleTable(vars));
  }
  // Install the tables; restore the outer ones afterwards.
  std::unordered_map<Sym, RuleTable*> saved = ctx.tables;
  const Clause* saved_delta = ctx.delta_call;
  for (auto& [p, t] : tables) ctx.tables[p] = &t;
  struct Restore {
    Ctx& ctx;
    std::unordered_map<Sym, RuleTable*>& saved;
    const Clause* delta;
    ~Restore() {
      ctx.tables = saved;
      ctx.delta_call = delta;
    }
  } restore{ctx, saved, saved_delta};

  auto seed_for = [&](Sym p) {
    return p == name ? seed : Relation::Unit();
  };
  // Calls inside not/or bodies cannot be told to read a delta: evaluate those rules naively.
  bool naive = false;
  std::unordered_map<const Rule*, std::vector<const Clause*>> calls;
  for (Sym p : scc) {
    for (const Rule* r : rs.by_name.at(p)) {
      std::vector<const Clause*> all;
      bool nested = false;
      for (const Clause& c : r->body) CollectCalls(c, &all, true, &nested);
      std::vector<const Clause*> in_scc;
      for (const Clause* c : all) {
        if (scc.count(c->fn)) in_scc.push_back(c);
      }
      if (nested && !in_scc.empty()) naive = true;
      calls[r] = in_scc;
    }
  }
  // Rows of `derived` not in p's table yet go to `fresh` (deduplicated by `seen`).
  auto collect = [&](Sym p, const Relation& derived, RowSet& seen, Relation& fresh) {
    std::vector<int> cols;
    for (Sym v : fresh.vars) cols.push_back(derived.Col(v));
    std::vector<Value> row(cols.size());
    const RuleTable& t = tables.at(p);
    for (size_t i = 0; i < derived.rows; ++i) {
      for (size_t k = 0; k < cols.size(); ++k) row[k] = derived.row(i)[cols[k]];
      if (!t.full.Contains(row.data()) && seen.Insert(row.data())) fresh.Push(row.data());
    }
  };
  // Round 0: the exit bodies (the tables are empty, so bodies with calls in the SCC add nothing).
  for (Sym p : scc) {
    RuleTable& t = tables.at(p);
    RowSet seen(t.delta.vars);
    Relation fresh;
    fresh.vars = t.delta.vars;
    for (const Rule* r : rs.by_name.at(p)) {
      if (!calls[r].empty()) continue;
      collect(p, RunRuleBody(ctx, *r, seed_for(p), source, indent), seen, fresh);
    }
    for (size_t i = 0; i < fresh.rows; ++i) t.full.Insert(fresh.row(i));
    t.delta = std::move(fresh);
  }
  size_t rounds = 0;
  while (true) {
    ctx.CheckDeadline();
    bool any = std::any_of(tables.begin(), tables.end(), [](auto& t) { return t.second.delta.rows > 0; });
    if (!any) break;
    ++rounds;
    std::unordered_map<Sym, Relation> fresh;
    for (Sym p : scc) {
      RuleTable& t = tables.at(p);
      RowSet seen(t.delta.vars);
      Relation& out = fresh[p];
      out.vars = t.delta.vars;
      for (const Rule* r : rs.by_name.at(p)) {
        const auto& cs = calls[r];
        if (cs.empty()) continue;
        if (naive) {
          ctx.delta_call = nullptr;
          collect(p, RunRuleBody(ctx, *r, seed_for(p), source, indent), seen, out);
          continue;
        }
        for (const Clause* c : cs) {
          if (tables.at(c->fn).delta.rows == 0) continue;
          ctx.delta_call = c;
          collect(p, RunRuleBody(ctx, *r, seed_for(p), source, indent), seen, out);
        }
      }
    }
    for (Sym p : scc) {
      RuleTable& t = tables.at(p);
      Relation& f = fresh[p];
      for (size_t i = 0; i < f.rows; ++i) t.full.Insert(f.row(i));
      t.delta = std::move(f);
    }
  }
  ctx.Note(indent, "rule " + name->full + ": semi-naive, " + std::to_string(rounds) + " rounds, " +
                       std::to_string(tables.at(name).full.relation().rows) + " rows" +
                       (seed.width() > 0 ? " (seeded)" : ""));
  return tables.at(name).full.Take();
}

// Whether every recursive call of `name`'s bodies passes the head variables at `positions`
// through unchanged (at the same positions).
bool PassesThrough(const RuleSet& rs, Sym name, const std::vector<size_t>& positions) {
  for (const Rule* r : rs.by_name.at(name)) {
    std::vector<Sym> head = HeadVars(*r);
    std::vector<const Clause*> calls;
    bool nested = false;
    for (const Clause& c : r->body) CollectCalls(c, &calls, true, &nested);
    for (const Clause* c : calls) {
      if (c->fn != name) continue;
      if (nested) return false;
      for (size_t i : positions) {
        if (c->terms[i].kind != Term::Kind::kVariable || c->terms[i].sym != head[i]) return false;
      }
    }
  }
  return true;
}

// Right-linear check: each body has at most one top-level recursive call, which passes the free
// head variables through at the same positions, and those variables occur nowhere else in the
// body or in the bound head positions.
bool RightLinear(const RuleSet& rs, Sym name, const std::vector<size_t>& bound,
                 const std::vector<size_t>& free) {
  for (const Rule* r : rs.by_name.at(name)) {
    std::vector<Sym> head = HeadVars(*r);
    std::vector<const Clause*> calls;
    bool nested = false;
    for (const Clause& c : r->body) CollectCalls(c, &calls, true, &nested);
    const Clause* rec = nullptr;
    for (const Clause* c : calls) {
      if (c->fn != name) continue;
      if (nested || rec != nullptr) return false;
      rec = c;
    }
    if (rec == nullptr) continue;
    for (size_t i : free) {
      Sym v = head[i];
      if (rec->terms[i].kind != Term::Kind::kVariable || rec->terms[i].sym != v) return false;
      for (size_t j : bound) {
        if (head[j] == v) return false;
      }
      for (size_t j = 0; j < rec->terms.size(); ++j) {
        if (j != i && rec->terms[j].kind == Term::Kind::kVariable && rec->terms[j].sym == v) {
          return false;
        }
      }
      for (const Clause& c : r->body) {
        if (&c == rec) continue;
        auto vars = ClauseVars(c);
        if (std::find(vars.begin(), vars.end(), v) != vars.end()) return false;
      }
    }
  }
  return true;
}

// The right-linear search (see above). seed columns: the bound positions.
Relation RightLinearSearch(Ctx& ctx, Sym name, const Relation& seed,
                           const std::vector<size_t>& bound, const std::vector<size_t>& free,
                           Sym source, int indent) {
  const RuleSet& rs = *ctx.rules;
  size_t nb = bound.size();
  // Pair relation: origin columns ?__o<i>, then the current bound tuple ?__p<i>.
  std::vector<Sym> origin, current;
  for (size_t i : bound) {
    origin.push_back(Gensym("o", i));
    current.push_back(PositionVar(i));
  }
  std::vector<Sym> pair_vars = origin;
  pair_vars.insert(pair_vars.end(), current.begin(), current.end());
  RowSet visited(pair_vars);
  Relation frontier;
  frontier.vars = pair_vars;
  {
    std::vector<int> cols;
    for (size_t i : bound) cols.push_back(seed.Col(PositionVar(i)));
    std::vector<Value> row(2 * nb);
    for (size_t r = 0; r < seed.rows; ++r) {
      for (size_t k = 0; k < nb; ++k) row[k] = row[nb + k] = seed.row(r)[cols[k]];
      if (visited.Insert(row.data())) frontier.Push(row.data());
    }
  }
  std::vector<const Rule*> exits, recursive;
  std::unordered_map<const Rule*, const Clause*> rec_call;
  for (const Rule* r : rs.by_name.at(name)) {
    const Clause* rec = nullptr;
    for (const Clause& c : r->body) {
      if (c.kind == Clause::Kind::kRuleCall && c.fn == name) rec = &c;
    }
    if (rec) {
      recursive.push_back(r);
      rec_call[r] = rec;
    } else {
      exits.push_back(r);
    }
  }
  // Runs a body (without its recursive call) over pairs: the head's bound variables take the
  // current tuple; outputs are the origin columns plus `outs`.
  auto run = [&](const Rule& r, const std::vector<const Clause*>& clauses, const Relation& pairs,
                 const std::vector<Sym>& outs) {
    std::vector<Sym> head = HeadVars(r);
    Relation s = pairs;
    for (size_t k = 0; k < nb; ++k) s.vars[nb + k] = head[bound[k]];
    std::vector<Sym> outputs = origin;
    for (Sym v : outs) {
      if (std::find(outputs.begin(), outputs.end(), v) == outputs.end()) outputs.push_back(v);
    }
    Body body(ctx, source, indent);
    body.AddRelation(std::move(s));
    return body.Run(clauses, outputs, false);  // the pairs go into a RowSet
  };
  size_t rounds = 0;
  while (frontier.rows > 0) {
    ctx.CheckDeadline();
    ++rounds;
    Relation next;
    next.vars = pair_vars;
    for (const Rule* r : recursive) {
      const Clause* rec = rec_call[r];
      std::vector<const Clause*> clauses;
      for (const Clause& c : r->body) {
        if (&c != rec) clauses.push_back(&c);
      }
      std::vector<Sym> outs;
      for (size_t i : bound) {
        if (rec->terms[i].kind == Term::Kind::kVariable) outs.push_back(rec->terms[i].sym);
      }
      Relation res = run(*r, clauses, frontier, outs);
      std::vector<Value> row(2 * nb);
      for (size_t j = 0; j < res.rows; ++j) {
        const Value* src = res.row(j);
        for (size_t k = 0; k < nb; ++k) row[k] = src[res.Col(origin[k])];
        for (size_t k = 0; k < nb; ++k) {
          const Term& t = rec->terms[bound[k]];
          row[nb + k] = t.kind == Term::Kind::kVariable ? src[res.Col(t.sym)] : t.value;
        }
        if (visited.Insert(row.data())) next.Push(row.data());
      }
    }
    frontier = std::move(next);
  }
  // The answers: every exit body over every visited pair, keyed by the origin.
  Relation out;
  for (size_t i = 0; i < bound.size() + free.size(); ++i) out.vars.push_back(PositionVar(i));
  for (const Rule* r : exits) {
    std::vector<Sym> head = HeadVars(*r);
    std::vector<const Clause*> clauses;
    for (const Clause& c : r->body) clauses.push_back(&c);
    std::vector<Sym> outs;
    for (size_t i : free) outs.push_back(head[i]);
    Relation res = run(*r, clauses, visited.relation(), outs);
    Relation part;
    part.vars = out.vars;
    std::vector<Value> row(out.width());
    for (size_t j = 0; j < res.rows; ++j) {
      const Value* src = res.row(j);
      for (size_t k = 0; k < nb; ++k) row[bound[k]] = src[res.Col(origin[k])];
      for (size_t i : free) row[i] = src[res.Col(head[i])];
      part.Push(row.data());
    }
    out = Union(out, part);
  }
  ctx.Note(indent, "rule " + name->full + ": right-linear search from " +
                       std::to_string(seed.rows) + " bindings, " + std::to_string(rounds) +
                       " rounds, " + std::to_string(visited.relation().rows) + " reached, " +
                       std::to_string(out.rows) + " rows");
  return out;
}

// Whether the clauses can run in some order when `bound` variables are bound at the start:
// patterns and rule calls bind their variables, function clauses their outputs once the inputs
// are bound; predicates, not and not-join need their variables bound. Optionally reports the
// variables bound in the end.
bool ClausesBindable(const std::vector<const Clause*>& clauses, std::unordered_set<Sym> bound,
                     std::unordered_set<Sym>* out = nullptr) {
  std::vector<const Clause*> todo = clauses;
  bool progress = true;
  auto all_bound = [&](const std::vector<Sym>& vars) {
    return std::all_of(vars.begin(), vars.end(), [&](Sym v) { return bound.count(v) > 0; });
  };
  auto term_vars = [](const std::vector<Term>& terms) {
    std::vector<Sym> out;
    for (const Term& t : terms) {
      if (t.kind == Term::Kind::kVariable) out.push_back(t.sym);
    }
    return out;
  };
  while (progress && !todo.empty()) {
    progress = false;
    for (size_t i = 0; i < todo.size();) {
      const Clause& c = *todo[i];
      bool runs = false;
      switch (c.kind) {
        case Clause::Kind::kPattern:
        case Clause::Kind::kRuleCall:
        case Clause::Kind::kOr:
        case Clause::Kind::kOrJoin:
        case Clause::Kind::kAnd:
          runs = all_bound(c.required_vars);
          break;
        case Clause::Kind::kFunction:
        case Clause::Kind::kPredicate:
          runs = all_bound(term_vars(c.terms));
          break;
        case Clause::Kind::kNot:
        case Clause::Kind::kNotJoin:
          runs = std::any_of(c.join_vars.begin(), c.join_vars.end(),
                             [&](Sym v) { return bound.count(v) > 0; });
          break;
      }
      if (runs) {
        for (Sym v : ClauseVars(c)) bound.insert(v);
        todo.erase(todo.begin() + static_cast<long>(i));
        progress = true;
      } else {
        ++i;
      }
    }
  }
  if (out != nullptr) *out = bound;
  return todo.empty();
}

// Whether every body of `name` runs with the head variables at `positions` bound and binds all
// its head variables.
bool AllBodiesBindable(const RuleSet& rs, Sym name, const std::vector<size_t>& positions) {
  for (const Rule* r : rs.by_name.at(name)) {
    std::vector<Sym> head = HeadVars(*r);
    std::unordered_set<Sym> bound;
    for (size_t i : positions) bound.insert(head[i]);
    std::vector<const Clause*> clauses;
    for (const Clause& c : r->body) clauses.push_back(&c);
    std::unordered_set<Sym> after;
    if (!ClausesBindable(clauses, bound, &after)) return false;
    for (Sym v : head) {
      if (!after.count(v)) return false;
    }
  }
  return true;
}

// Whether the bound arguments of every recursive call follow from the clauses written before it
// (and the head's bound variables): then the demanded bindings can be computed.
bool DemandComputable(const RuleSet& rs, Sym name, const std::vector<size_t>& positions) {
  for (const Rule* r : rs.by_name.at(name)) {
    std::vector<Sym> head = HeadVars(*r);
    std::unordered_set<Sym> bound;
    for (size_t i : positions) bound.insert(head[i]);
    std::vector<const Clause*> before;
    for (const Clause& c : r->body) {
      if (c.kind == Clause::Kind::kRuleCall && c.fn == name) {
        std::unordered_set<Sym> after;
        if (!ClausesBindable(before, bound, &after)) return false;
        for (size_t i : positions) {
          if (c.terms[i].kind == Term::Kind::kVariable && !after.count(c.terms[i].sym)) return false;
          if (c.terms[i].kind == Term::Kind::kBlank) return false;
        }
      } else {
        std::vector<const Clause*> calls;
        bool nested = false;
        CollectCalls(c, &calls, true, &nested);
        for (const Clause* n : calls) {
          if (n->fn == name && nested) return false;  // a recursive call inside not/or
        }
      }
      before.push_back(&c);
    }
  }
  return true;
}

// Demand-driven evaluation (magic sets for one self-recursive rule): the demanded bindings of
// the bound positions start as the seed and grow by what each recursive call asks for (computed
// from the clauses written before the call); each round evaluates the rule semi-naive over all
// demanded bindings. It stops when the demand stops growing, or, for demand that grows without
// end (an argument transformed at every step, e.g. a counter with no bound), once the answers
// for the seed have stayed the same for as many rounds as it took them to last change.
Relation DemandSearch(Ctx& ctx, Sym name, const Relation& seed, const std::vector<size_t>& bound,
                      Sym source, int indent) {
  const RuleSet& rs = *ctx.rules;
  std::vector<Sym> cols;
  for (size_t i : bound) cols.push_back(PositionVar(i));
  RowSet demand(cols);
  {
    Relation s = Project(seed, cols);
    for (size_t i = 0; i < s.rows; ++i) demand.Insert(s.row(i));
  }
  std::unordered_set<Sym> scc{name};
  size_t rounds = 0, last_change = 0, previous = SIZE_MAX;
  Relation answers;
  while (true) {
    ctx.CheckDeadline();
    ++rounds;
    Relation table = SemiNaive(ctx, name, scc, demand.relation(), source, indent);
    answers = Restrict(table, seed);
    if (answers.rows != previous) {
      previous = answers.rows;
      last_change = rounds;
    }
    // New demand from every recursive call, reading the table just built.
    RuleTable installed(table.vars);
    for (size_t i = 0; i < table.rows; ++i) installed.full.Insert(table.row(i));
    auto saved = ctx.tables;
    ctx.tables[name] = &installed;
    bool grew = false;
    for (const Rule* r : rs.by_name.at(name)) {
      std::vector<Sym> head = HeadVars(*r);
      std::vector<const Clause*> before;
      for (const Clause& c : r->body) {
        if (c.kind == Clause::Kind::kRuleCall && c.fn == name) {
          Relation s = demand.relation();
          for (size_t k = 0; k < bound.size(); ++k) s.vars[k] = head[bound[k]];
          std::vector<Sym> outs;
          for (size_t i : bound) {
            if (c.terms[i].kind == Term::Kind::kVariable &&
                std::find(outs.begin(), outs.end(), c.terms[i].sym) == outs.end()) {
              outs.push_back(c.terms[i].sym);
            }
          }
          Body body(ctx, source, indent + 1);
          body.AddRelation(std::move(s));
          Relation res = body.Run(before, outs, false);  // into the demand RowSet
          std::vector<Value> row(bound.size());
          for (size_t j = 0; j < res.rows; ++j) {
            for (size_t k = 0; k < bound.size(); ++k) {
              const Term& t = c.terms[bound[k]];
              row[k] = t.kind == Term::Kind::kVariable ? res.row(j)[res.Col(t.sym)] : t.value;
            }
            grew = demand.Insert(row.data()) || grew;
          }
        }
        before.push_back(&c);
      }
    }
    ctx.tables = saved;
    if (!grew || rounds - last_change >= std::max<size_t>(2, last_change)) break;
  }
  ctx.Note(indent, "rule " + name->full + ": demand-driven, " + std::to_string(rounds) +
                       " rounds, " + std::to_string(demand.relation().rows) + " demanded, " +
                       std::to_string(answers.rows) + " rows");
  return answers;
}

// ---- transitive closure -------------------------------------------------------------------------
//
// A rule whose two bodies are exactly
//   (r ?x ?y) [?x :a ?y]        and    (r ?x ?y) [?x :a ?t] (r ?t ?y)   (or (r ?x ?t) [?t :a ?y])
// is the transitive closure of one attribute's edges. It is computed as a graph search over the
// edges read once into integer arrays: from each bound start (or every entity, when none is
// bound), or backwards from bound ends, instead of joining relations round by round. Any other
// shape, or edges whose values are not entity ids, goes to the general evaluation.

struct ClosureShape {
  Value attr;  // the edge attribute keyword
};

bool IsVar(const Term& t, Sym v) { return t.kind == Term::Kind::kVariable && t.sym == v; }

// [a :attr b] over the default source, with a constant keyword attribute.
bool EdgePattern(const Clause& c, Sym a, Sym b, Value* attr) {
  if (c.kind != Clause::Kind::kPattern || c.source != nullptr || c.terms.size() != 3) return false;
  if (!IsVar(c.terms[0], a) || !IsVar(c.terms[2], b)) return false;
  if (c.terms[1].kind != Term::Kind::kConstant || !c.terms[1].value.is_keyword()) return false;
  *attr = c.terms[1].value;
  return true;
}

bool SelfCall(const Clause& c, Sym name, Sym a, Sym b) {
  return c.kind == Clause::Kind::kRuleCall && c.fn == name && c.source == nullptr &&
         c.terms.size() == 2 && IsVar(c.terms[0], a) && IsVar(c.terms[1], b);
}

std::optional<ClosureShape> TransitiveClosureShape(const RuleSet& rs, Sym name) {
  const auto& bodies = rs.by_name.at(name);
  if (bodies.size() != 2) return std::nullopt;
  Value base_attr, rec_attr;
  bool have_base = false, have_rec = false;
  for (const Rule* r : bodies) {
    std::vector<Sym> head = HeadVars(*r);
    if (head.size() != 2 || head[0] == head[1]) return std::nullopt;
    Sym x = head[0], y = head[1];
    if (r->body.size() == 1 && !have_base && EdgePattern(r->body[0], x, y, &base_attr)) {
      have_base = true;
      continue;
    }
    if (r->body.size() != 2 || have_rec) return std::nullopt;
    for (int first = 0; first < 2 && !have_rec; ++first) {
      const Clause& pat = r->body[first];
      const Clause& call = r->body[1 - first];
      if (pat.kind != Clause::Kind::kPattern || pat.terms.size() != 3) continue;
      const Term& mid = pat.terms[0].kind == Term::Kind::kVariable && pat.terms[0].sym == x
                            ? pat.terms[2]
                            : pat.terms[0];
      if (mid.kind != Term::Kind::kVariable || mid.sym == x || mid.sym == y) continue;
      Sym t = mid.sym;
      // Right-linear: [x :a t] (r t y). Left-linear: (r x t) [t :a y].
      if ((EdgePattern(pat, x, t, &rec_attr) && SelfCall(call, name, t, y)) ||
          (EdgePattern(pat, t, y, &rec_attr) && SelfCall(call, name, x, t))) {
        have_rec = true;
      }
    }
    if (!have_rec) return std::nullopt;
  }
  if (!have_base || !have_rec || !Equal(base_attr, rec_attr)) return std::nullopt;
  return ClosureShape{base_attr};
}

std::optional<Relation> TransitiveClosure(Ctx& ctx, const ClosureShape& shape, const Relation& seed,
                                          Sym source, int indent) {
  auto src = ctx.sources.find(source);
  if (src == ctx.sources.end() || !src->second.db) return std::nullopt;
  if (seed.width() == 0 && seed.rows == 0) {
    return Relation{{PositionVar(0), PositionVar(1)}, {}, 0};
  }
  const Db& db = *src->second.db;
  const int xcol = seed.Col(PositionVar(0)), ycol = seed.Col(PositionVar(1));
  for (size_t i = 0; i < seed.rows; ++i) {  // bound arguments that are not entity ids: general path
    if ((xcol >= 0 && seed.row(i)[xcol].type() != Type::kLong) ||
        (ycol >= 0 && seed.row(i)[ycol].type() != Type::kLong)) {
      return std::nullopt;
    }
  }
  // The edges, as dense node numbers in compressed rows (by source, and by target when searching
  // backwards).
  Pattern p;
  p.a = AttrOf(shape.attr);
  std::vector<std::pair<int64_t, int64_t>> edges;
  bool longs = true;
  ScanPattern(db, IndexOrder::kAevt, p, [&](const Datom& d) {
    if (d.v.type() != Type::kLong) {
      longs = false;
      return false;
    }
    edges.emplace_back(d.e, d.v.as_long());
    return true;
  });
  if (!longs) return std::nullopt;
  // Dense node numbers: a direct table over the id range when ids are compact (entity ids
  // usually are), else sorted ids and binary search.
  constexpr uint32_t kNoNode = UINT32_MAX;
  std::vector<int64_t> nodes;
  std::vector<uint32_t> table;
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (auto [e, v] : edges) {
    lo = std::min({lo, e, v});
    hi = std::max({hi, e, v});
  }
  const bool direct = !edges.empty() && static_cast<uint64_t>(hi - lo) < 8 * edges.size() + 4096;
  if (direct) {
    table.assign(static_cast<size_t>(hi - lo) + 1, kNoNode);
    for (auto [e, v] : edges) {
      for (int64_t x : {e, v}) {
        uint32_t& slot = table[static_cast<size_t>(x - lo)];
        if (slot == kNoNode) {
          slot = static_cast<uint32_t>(nodes.size());
          nodes.push_back(x);
        }
      }
    }
  } else {
    nodes.reserve(edges.size() * 2);
    for (auto [e, v] : edges) {
      nodes.push_back(e);
      nodes.push_back(v);
    }
    std::sort(nodes.begin(), nodes.end());
    nodes.erase(std::unique(nodes.begin(), nodes.end()), nodes.end());
  }
  auto id = [&](int64_t x) -> int64_t {
    if (direct) {
      if (x < lo || x > hi) return -1;
      uint32_t slot = table[static_cast<size_t>(x - lo)];
      return slot == kNoNode ? -1 : slot;
    }
    auto it = std::lower_bound(nodes.begin(), nodes.end(), x);
    return it != nodes.end() && *it == x ? it - nodes.begin() : -1;
  };
  const bool backwards = xcol < 0 && ycol >= 0;
  const size_t n = nodes.size();
  std::vector<uint32_t> start(n + 1, 0), adj(edges.size());
  {
    std::vector<std::pair<uint32_t, uint32_t>> dense(edges.size());
    for (size_t k = 0; k < edges.size(); ++k) {
      uint32_t a = static_cast<uint32_t>(id(edges[k].first));
      uint32_t b = static_cast<uint32_t>(id(edges[k].second));
      dense[k] = backwards ? std::make_pair(b, a) : std::make_pair(a, b);
      ++start[dense[k].first + 1];
    }
    for (size_t k = 0; k < n; ++k) start[k + 1] += start[k];
    std::vector<uint32_t> fill(start.begin(), start.end() - 1);
    for (auto [a, b] : dense) adj[fill[a]++] = b;
  }
  // Searches from one node, calling f(reached node) once per node reachable by a path of one edge
  // or more.
  std::vector<uint32_t> stamp(n, 0), stack;
  uint32_t round = 0;
  auto search = [&](uint32_t from, auto&& f) {
    ++round;
    stack.assign(adj.begin() + start[from], adj.begin() + start[from + 1]);
    while (!stack.empty()) {
      uint32_t v = stack.back();
      stack.pop_back();
      if (stamp[v] == round) continue;
      stamp[v] = round;
      f(v);
      for (uint32_t k = start[v]; k < start[v + 1]; ++k) {
        if (stamp[adj[k]] != round) stack.push_back(adj[k]);
      }
    }
  };
  Relation out;
  out.vars = {PositionVar(0), PositionVar(1)};
  Value row[2];
  auto emit = [&](int64_t x, int64_t y) {
    row[0] = Value::Long(x);
    row[1] = Value::Long(y);
    out.Push(row);
  };
  if (xcol < 0 && ycol < 0) {  // nothing bound: every start with an edge
    for (uint32_t from = 0; from < n; ++from) {
      if (start[from] == start[from + 1]) continue;
      if ((from & 255) == 0) ctx.CheckDeadline();
      search(from, [&](uint32_t v) { emit(nodes[from], nodes[v]); });
    }
  } else {
    // One search per distinct bound start (the end, searching backwards), keeping the pairs the
    // seed allows.
    const int key = backwards ? ycol : xcol, other = backwards ? xcol : ycol;
    std::vector<std::pair<int64_t, int64_t>> wanted;  // (start, other end or any)
    for (size_t i = 0; i < seed.rows; ++i) {
      wanted.emplace_back(seed.row(i)[key].as_long(),
                          other >= 0 ? seed.row(i)[other].as_long() : 0);
    }
    std::sort(wanted.begin(), wanted.end());
    wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
    for (size_t i = 0; i < wanted.size();) {
      size_t j = i;
      while (j < wanted.size() && wanted[j].first == wanted[i].first) ++j;
      int64_t from = id(wanted[i].first);
      if (from >= 0) {
        ctx.CheckDeadline();
        search(static_cast<uint32_t>(from), [&](uint32_t v) {
          int64_t end = nodes[v];
          if (other >= 0 && !std::binary_search(wanted.begin() + i, wanted.begin() + j,
                                                std::make_pair(wanted[i].first, end))) {
            return;
          }
          if (backwards) {
            emit(end, wanted[i].first);
          } else {
            emit(wanted[i].first, end);
          }
        });
      }
      i = j;
    }
  }
  ctx.Note(indent, "transitive closure of " + edn::ToString(shape.attr) + " over " +
                       std::to_string(edges.size()) + " edges" +
                       (xcol < 0 && ycol < 0 ? "" : backwards ? " from bound ends" : " from bound starts") +
                       " -> " + std::to_string(out.rows) + " rows");
  return out;
}

Relation EvalRuleCall(Ctx& ctx, const Clause& call, const Relation& seed, Sym source,
                      int indent) {
  Sym name = call.fn;
  auto table = ctx.tables.find(name);
  if (table != ctx.tables.end()) {
    // Only the call the semi-naive variant designates reads the delta; the others the table.
    const RuleTable& t = *table->second;
    return Restrict(ctx.delta_call == &call ? t.delta : t.full.relation(), seed);
  }
  const RuleSet& rs = *ctx.rules;
  const auto& bodies = rs.by_name.at(name);
  if (auto shape = TransitiveClosureShape(rs, name)) {
    if (auto closure = TransitiveClosure(ctx, *shape, seed, source, indent)) return *closure;
  }
  std::unordered_set<Sym> scc;
  {
    std::unordered_set<Sym> reach = Reachable(rs, name);
    if (reach.count(name)) {
      for (Sym other : reach) {
        if (other == name || Reachable(rs, other).count(name)) scc.insert(other);
      }
    }
  }
  if (scc.empty()) {  // not recursive
    Relation acc;
    for (size_t i = 0; i < HeadVars(*bodies.front()).size(); ++i) acc.vars.push_back(PositionVar(i));
    for (const Rule* r : bodies) acc = Union(acc, RunRuleBody(ctx, *r, seed, source, indent));
    return acc;
  }
  std::vector<size_t> bound, free;
  size_t arity = HeadVars(*bodies.front()).size();
  for (size_t i = 0; i < arity; ++i) {
    (seed.Has(PositionVar(i)) ? bound : free).push_back(i);
  }
  if (!bound.empty() && SelfOnly(scc, name)) {
    if (PassesThrough(rs, name, bound)) return SemiNaive(ctx, name, scc, seed, source, indent);
    if (!free.empty() && RightLinear(rs, name, bound, free)) {
      return RightLinearSearch(ctx, name, seed, bound, free, source, indent);
    }
    // The bound positions every recursive call passes through unchanged can seed the evaluation
    // when the bodies run without the others.
    std::vector<size_t> kept;
    for (size_t i : bound) {
      if (PassesThrough(rs, name, {i})) kept.push_back(i);
    }
    if (!kept.empty() && AllBodiesBindable(rs, name, kept)) {
      std::vector<Sym> cols;
      for (size_t i : kept) cols.push_back(PositionVar(i));
      Relation narrowed = SemiNaive(ctx, name, scc, Project(seed, cols), source, indent);
      return Restrict(narrowed, seed);
    }
    if (DemandComputable(rs, name, bound) && AllBodiesBindable(rs, name, bound)) {
      return DemandSearch(ctx, name, seed, bound, source, indent);
    }
  }
  for (Sym p : scc) {
    if (!AllBodiesBindable(rs, p, {})) {
      Fail("Insufficient bindings: rule " + name->full +
           " cannot run with the arguments bound in " + FormText(call.form));
    }
  }
  Relation all = SemiNaive(ctx, name, scc, Relation::Unit(), source, indent);
  return Restrict(all, seed);
}

// ---- the find spec ------------------------------------------------------------------------------

std::vector<Sym> NeededVars(const Query& q) {
  std::vector<Sym> out;
  auto add = [&](Sym v) {
    if (v != nullptr && std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
  };
  for (const FindElement& f : q.find) {
    add(f.var);
    for (const Value& a : f.args) {
      if (a.type() == Type::kSymbol && a.as_named()->full.starts_with("?")) add(a.as_named());
    }
    if (f.kind == FindElement::Kind::kPull && f.pattern.type() == Type::kSymbol) {
      add(f.pattern.as_named());
    }
  }
  for (Sym v : q.with) add(v);
  return out;
}

// Appends result text to a string through a raw cursor: longs (most result cells) are written with
// a two-digit table, everything else through the EDN/JSON printers.
class TextWriter {
 public:
  TextWriter(std::string& out, bool json) : out_(out), json_(json) { Open(); }
  ~TextWriter() { Close(); }
  void Char(char c) {
    Reserve(1);
    *p_++ = c;
  }
  void Text(std::string_view t) {
    Reserve(t.size());
    std::memcpy(p_, t.data(), t.size());
    p_ += t.size();
  }
  // Room for n more characters, for the unchecked CharRaw (a row's punctuation).
  void Reserve(size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) Grow(n);
  }
  void CharRaw(char c) { *p_++ = c; }
  void Cell(const Value& v) {
    if (v.type() == Type::kLong) {
      Reserve(20);
      p_ = WriteLong(p_, v.as_long());
      return;
    }
    if (v.type() == Type::kString) {
      // Printable ASCII without quotes or backslashes prints as is, in EDN and JSON alike.
      std::string_view t = v.as_string();
      bool plain = true;
      for (unsigned char c : t) plain &= c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
      if (plain) {
        Reserve(t.size() + 2);
        *p_++ = '"';
        std::memcpy(p_, t.data(), t.size());
        p_ += t.size();
        *p_++ = '"';
        return;
      }
    }
    scratch_.clear();
    if (json_) {
      json::Print(v, scratch_);
    } else {
      edn::Print(v, scratch_);
    }
    Text(scratch_);
  }

 private:
  static char* WriteLong(char* p, int64_t x) {
    static constexpr char kPairs[] =
        "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
        "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
        "8081828384858687888990919293949596979899";
    uint64_t u = static_cast<uint64_t>(x);
    if (x < 0) {
      *p++ = '-';
      u = ~u + 1;
    }
    int digits = 1;
    for (uint64_t t = u; t >= 10000; t /= 10000) digits += 4;
    uint64_t top = u;
    while (top >= 10000) top /= 10000;
    digits += top >= 1000 ? 3 : top >= 100 ? 2 : top >= 10 ? 1 : 0;
    char* end = p + digits;
    char* q = end;
    while (u >= 100) {
      unsigned r = static_cast<unsigned>(u % 100);
      u /= 100;
      q -= 2;
      std::memcpy(q, kPairs + 2 * r, 2);
    }
    if (u >= 10) {
      std::memcpy(q - 2, kPairs + 2 * u, 2);
    } else {
      q[-1] = static_cast<char>('0' + u);
    }
    return end;
  }
  void Grow(size_t n) {
    size_t used = static_cast<size_t>(p_ - out_.data());
    out_.resize(std::max(out_.size() * 2, used + n + 4096));
    p_ = out_.data() + used;
    end_ = out_.data() + out_.size();
  }
  void Open() {
    size_t used = out_.size();
    out_.resize(used + 4096);
    p_ = out_.data() + used;
    end_ = out_.data() + out_.size();
  }
  void Close() { out_.resize(static_cast<size_t>(p_ - out_.data())); }

  std::string& out_;
  bool json_;
  std::string scratch_;  // a cell printed by the EDN/JSON printers
  char* p_ = nullptr;
  char* end_ = nullptr;
};

// Computes find-element values of the result rows.
class Shaper {
 public:
  Shaper(const Query& q, Ctx& ctx, const Relation& r) : q_(q), ctx_(ctx), r_(r) {}

  // The result rows: `width` cells per row, in find order.
  struct Rows {
    size_t width = 0;
    std::vector<Value> cells;
    bool bag = false;  // keep duplicates and order (aggregates, :with, :limit/:offset)
    size_t count() const { return width == 0 ? 0 : cells.size() / width; }
  };

  Rows Compute() {
    bool has_agg = std::any_of(q_.find.begin(), q_.find.end(), [](const FindElement& f) {
      return f.kind == FindElement::Kind::kAggregate;
    });
    Rows rows;
    rows.width = q_.find.size();
    rows.cells = has_agg ? Aggregated() : Plain();
    rows.bag = has_agg || !q_.with.empty();
    size_t w = rows.width;
    if (q_.offset || q_.limit) {
      size_t n = rows.count();
      std::vector<size_t> order(n);
      for (size_t i = 0; i < n; ++i) order[i] = i;
      if (!rows.bag) {  // a set has no order: sort, so that pages are stable
        std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
          for (size_t k = 0; k < w; ++k) {
            if (int c = Compare(rows.cells[a * w + k], rows.cells[b * w + k])) return c < 0;
          }
          return false;
        });
      }
      size_t off = q_.offset && *q_.offset > 0 ? static_cast<size_t>(*q_.offset) : 0;
      off = std::min(off, n);
      size_t end = n;
      if (q_.limit && *q_.limit >= 0) end = std::min(n, off + static_cast<size_t>(*q_.limit));
      std::vector<Value> page;
      page.reserve((end - off) * w);
      for (size_t i = off; i < end; ++i) {
        for (size_t k = 0; k < w; ++k) page.push_back(std::move(rows.cells[order[i] * w + k]));
      }
      rows.cells = std::move(page);
      rows.bag = true;
    }
    return rows;
  }

  std::vector<Value> KeyValues() const {
    std::vector<Value> keys;
    for (Sym k : q_.keys) {
      switch (q_.keys_kind) {
        case KeysKind::kKeys: keys.push_back(Value::Keyword(k->full)); break;
        case KeysKind::kStrs: keys.push_back(Value::String(k->full)); break;
        default: keys.push_back(Value::Symbol(k->full)); break;
      }
    }
    return keys;
  }

  Value ToValue(Rows rows) const {
    size_t w = rows.width, n = rows.count();
    auto tuple = [&](size_t i) {
      return std::vector<Value>(std::make_move_iterator(rows.cells.begin() + i * w),
                                std::make_move_iterator(rows.cells.begin() + (i + 1) * w));
    };
    switch (q_.find_kind) {
      case FindKind::kScalar: return n == 0 ? Value() : rows.cells[0];
      case FindKind::kTuple: return n == 0 ? Value() : Value::Vector(tuple(0));
      case FindKind::kCollection: {
        std::vector<Value> out;
        out.reserve(n);
        for (size_t i = 0; i < n; ++i) out.push_back(std::move(rows.cells[i * w]));
        return Value::Vector(std::move(out));
      }
      case FindKind::kRelation: break;
    }
    std::vector<Value> out;
    out.reserve(n);
    std::vector<Value> keys = KeyValues();
    for (size_t i = 0; i < n; ++i) {
      if (q_.keys_kind == KeysKind::kNone) {
        out.push_back(Value::Vector(tuple(i)));
      } else {
        std::vector<std::pair<Value, Value>> entries;
        for (size_t k = 0; k < w; ++k) entries.emplace_back(keys[k], std::move(rows.cells[i * w + k]));
        out.push_back(Value::Map(std::move(entries)));
      }
    }
    return rows.bag ? Value::Vector(std::move(out)) : Value::Set(std::move(out));
  }

  // Prints the result as EDN (json = false) or JSON without building it as a Value: sets print
  // in the engine's row order.
  // Whether the result can be printed straight from the relation (PrintDirect): plain variables
  // of a relation find, nothing to aggregate, page or pull.
  bool CanPrintDirect() const {
    if (q_.find_kind != FindKind::kRelation || q_.keys_kind != KeysKind::kNone) return false;
    if (q_.offset || q_.limit || !q_.with.empty()) return false;
    for (const FindElement& f : q_.find) {
      if (f.kind != FindElement::Kind::kVariable) return false;
    }
    // The find's variables must be the relation's distinct rows (a set): no dropped columns.
    return r_.width() == q_.find.size();
  }
  void PrintDirect(bool json, std::string& out) const {
    std::vector<int> cols;
    for (const FindElement& f : q_.find) cols.push_back(r_.Col(f.var));
    TextWriter w(out, json);
    w.Text(json ? "[" : "#{");
    const char sep = json ? ',' : ' ';
    const size_t punctuation = cols.size() + 2;
    for (size_t i = 0; i < r_.rows; ++i) {
      const Value* row = r_.row(i);
      w.Reserve(punctuation);
      if (i > 0) w.CharRaw(sep);
      w.CharRaw('[');
      for (size_t k = 0; k < cols.size(); ++k) {
        if (k > 0) w.Char(sep);
        w.Cell(row[cols[k]]);
      }
      w.Char(']');
    }
    w.Char(json ? ']' : '}');
  }

  void Print(const Rows& rows, bool json, std::string& out) const {
    size_t w = rows.width, n = rows.count();
    {
      TextWriter tw(out, json);
      auto tuple = [&](size_t i) {
        tw.Char('[');
        for (size_t k = 0; k < w; ++k) {
          if (k > 0) tw.Char(json ? ',' : ' ');
          tw.Cell(rows.cells[i * w + k]);
        }
        tw.Char(']');
      };
      switch (q_.find_kind) {
        case FindKind::kScalar:
          if (n == 0) {
            tw.Text(json ? "null" : "nil");
          } else {
            tw.Cell(rows.cells[0]);
          }
          return;
        case FindKind::kTuple:
          if (n == 0) {
            tw.Text(json ? "null" : "nil");
          } else {
            tuple(0);
          }
          return;
        case FindKind::kCollection:
          tw.Char('[');
          for (size_t i = 0; i < n; ++i) {
            if (i > 0) tw.Char(json ? ',' : ' ');
            tw.Cell(rows.cells[i * w]);
          }
          tw.Char(']');
          return;
        case FindKind::kRelation:
          if (q_.keys_kind != KeysKind::kNone) break;
          tw.Text(json || rows.bag ? "[" : "#{");
          for (size_t i = 0; i < n; ++i) {
            if (i > 0) tw.Char(json ? ',' : ' ');
            tuple(i);
          }
          tw.Text(json || rows.bag ? "]" : "}");
          return;
      }
    }
    auto cell = [&](const Value& v) {
      if (json) {
        json::Print(v, out);
      } else {
        edn::Print(v, out);
      }
    };
    std::vector<Value> keys = KeyValues();
    out += json || rows.bag ? "[" : "#{";
    for (size_t i = 0; i < n; ++i) {
      if (i > 0) out.push_back(json ? ',' : ' ');
      std::vector<std::pair<Value, Value>> entries;
      for (size_t k = 0; k < w; ++k) entries.emplace_back(keys[k], rows.cells[i * w + k]);
      cell(Value::Map(std::move(entries)));
    }
    out += json || rows.bag ? "]" : "}";
  }

 private:
  const Query& q_;
  Ctx& ctx_;
  const Relation& r_;
  struct PullCache {
    Value pattern;
    std::shared_ptr<const PullSpec> spec;
  };
  std::vector<PullCache> pulls_;

  const Value& Col(size_t row, Sym v) const { return r_.row(row)[r_.Col(v)]; }

  Value PullValue(const FindElement& f, size_t row) {
    Sym src = f.source == nullptr ? DefaultSource() : f.source;
    auto it = ctx_.sources.find(src);
    if (it == ctx_.sources.end() || !it->second.db) {
      Fail("pull needs a database source " + src->full);
    }
    Value pattern = f.pattern.type() == Type::kSymbol ? Col(row, f.pattern.as_named()) : f.pattern;
    if (pattern.is_string()) pattern = edn::Read(pattern.as_string());
    const PullSpec* spec = nullptr;
    for (const PullCache& p : pulls_) {
      if (Equal(p.pattern, pattern)) spec = p.spec.get();
    }
    if (spec == nullptr) {
      pulls_.push_back({pattern, ParsePullPattern(pattern)});
      spec = pulls_.back().spec.get();
    }
    const Db& db = *it->second.db;
    const Value& e = Col(row, f.var);
    return e.type() == Type::kLong ? PullEntity(db, *spec, e.as_long()) : Pull(db, *spec, e);
  }

  Value ElementValue(const FindElement& f, size_t row) {
    if (f.kind == FindElement::Kind::kPull) return PullValue(f, row);
    return Col(row, f.var);
  }

  std::vector<Value> Plain() {
    std::vector<Value> out;
    out.reserve(r_.rows * q_.find.size());
    std::vector<int> cols;
    for (const FindElement& f : q_.find) {
      cols.push_back(f.kind == FindElement::Kind::kPull ? -1 : r_.Col(f.var));
    }
    for (size_t i = 0; i < r_.rows; ++i) {
      const Value* row = r_.row(i);
      for (size_t k = 0; k < cols.size(); ++k) {
        out.push_back(cols[k] >= 0 ? row[cols[k]] : PullValue(q_.find[k], i));
      }
    }
    return out;
  }

  std::vector<Value> Aggregated() {
    // Group by the non-aggregate elements' variables.
    std::vector<Sym> key_vars;
    for (const FindElement& f : q_.find) {
      if (f.kind != FindElement::Kind::kAggregate) key_vars.push_back(f.var);
    }
    Relation keys;
    keys.vars = key_vars;
    std::vector<int> kcols;
    for (Sym v : key_vars) kcols.push_back(r_.Col(v));
    std::vector<std::vector<size_t>> groups;
    {
      std::vector<int> own(key_vars.size());
      for (size_t i = 0; i < own.size(); ++i) own[i] = static_cast<int>(i);
      std::unordered_map<size_t, std::vector<size_t>> by_hash;  // hash -> group ids
      std::vector<Value> key(key_vars.size());
      for (size_t i = 0; i < r_.rows; ++i) {
        for (size_t k = 0; k < kcols.size(); ++k) key[k] = r_.row(i)[kcols[k]];
        size_t h = HashCols(key.data(), own);
        size_t g = SIZE_MAX;
        for (size_t cand : by_hash[h]) {
          if (EqualCols(keys.row(cand), own, key.data(), own)) g = cand;
        }
        if (g == SIZE_MAX) {
          g = keys.rows;
          keys.Push(key.data());
          by_hash[h].push_back(g);
          groups.emplace_back();
        }
        groups[g].push_back(i);
      }
    }
    std::vector<Value> t;
    for (size_t g = 0; g < groups.size(); ++g) {
      size_t first = groups[g].front();
      for (const FindElement& f : q_.find) {
        if (f.kind != FindElement::Kind::kAggregate) {
          t.push_back(ElementValue(f, first));
          continue;
        }
        AggregateFn fn = FindAggregate(f.fn->full);
        if (fn == nullptr) Fail("Unknown aggregate function '" + f.fn->full);
        std::vector<Value> params;
        for (const Value& a : f.args) {
          params.push_back(a.type() == Type::kSymbol && a.as_named()->full.starts_with("?")
                               ? Col(first, a.as_named())
                               : a);
        }
        std::vector<Value> values;
        values.reserve(groups[g].size());
        for (size_t i : groups[g]) values.push_back(Col(i, f.var));
        t.push_back(fn(params.data(), params.size(), values));
      }
    }
    return t;
  }
};

struct Output {
  Value value;          // when !text
  std::string* text = nullptr;
  bool json = false;
};

// Parsed queries by their form: applications run the same few queries again and again.
class QueryCache {
 public:
  std::shared_ptr<const Query> Get(const Value& form) {
    size_t h = Hash(form);
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto it = entries_.begin(); it != entries_.end(); ++it) {
        if (it->hash == h && Equal(it->form, form)) {
          entries_.splice(entries_.begin(), entries_, it);  // most recent first
          return it->query;
        }
      }
    }
    auto q = std::make_shared<const Query>(ParseQuery(form));
    std::lock_guard<std::mutex> lock(mu_);
    entries_.push_front(Entry{h, form, q});
    if (entries_.size() > kCapacity) entries_.pop_back();
    return q;
  }

 private:
  static constexpr size_t kCapacity = 64;
  struct Entry {
    size_t hash;
    Value form;
    std::shared_ptr<const Query> query;
  };
  std::mutex mu_;
  std::list<Entry> entries_;
};

void Run(const Value& form, const std::vector<Input>& inputs, std::vector<std::string>* explain,
         Output* output) {
  static QueryCache* cache = new QueryCache();
  std::shared_ptr<const Query> parsed = cache->Get(form);
  const Query& q = *parsed;
  Ctx ctx;
  ctx.explain = explain;
  if (q.timeout && *q.timeout > 0) {
    ctx.timeout_ms = *q.timeout;
    ctx.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(*q.timeout);
  }
  if (inputs.size() != q.in.size()) {
    Fail("Wrong number of inputs: the query's :in has " + std::to_string(q.in.size()) +
         " bindings, got " + std::to_string(inputs.size()) + " inputs");
  }
  Body body(ctx, DefaultSource(), 0);
  for (size_t i = 0; i < q.in.size(); ++i) {
    const Binding& b = q.in[i];
    const Input& in = inputs[i];
    switch (b.kind) {
      case Binding::Kind::kSource:
        if (in.db) {
          ctx.sources[b.sym] = Source{in.db, Value()};
        } else if (in.value.is_collection()) {
          ctx.sources[b.sym] = Source{nullptr, in.value};
        } else {
          Fail("Source " + b.sym->full + " must be a database or a collection of tuples, got " +
               FormText(in.value));
        }
        break;
      case Binding::Kind::kRules: {
        if (in.db) Fail("The rules input % got a database");
        Value rules = in.value.is_string() ? edn::Read(in.value.as_string()) : in.value;
        auto rs = std::make_shared<RuleSet>();
        rs->rules = ParseRules(rules);
        for (const Rule& r : rs->rules) rs->by_name[r.name].push_back(&r);
        ctx.rules = std::move(rs);
        break;
      }
      default:
        if (in.db) Fail("A database can only be bound to a $ source, not " + FormText(in.value));
        body.AddRelation(Body::BindValue(b, in.value));
        break;
    }
  }
  std::vector<const Clause*> clauses;
  for (const Clause& c : q.where) clauses.push_back(&c);
  Relation r = body.Run(clauses, NeededVars(q));
  Shaper shaper(q, ctx, r);
  if (output->text != nullptr && shaper.CanPrintDirect()) {
    shaper.PrintDirect(output->json, *output->text);
    return;
  }
  Shaper::Rows rows = shaper.Compute();
  if (output->text != nullptr) {
    shaper.Print(rows, output->json, *output->text);
  } else {
    output->value = shaper.ToValue(std::move(rows));
  }
}

}  // namespace

Value Q(const Value& query, const std::vector<Input>& inputs) {
  Output out;
  Run(query, inputs, nullptr, &out);
  return out.value;
}

std::string QText(const Value& query, const std::vector<Input>& inputs, bool json) {
  std::string text;
  Output out;
  out.text = &text;
  out.json = json;
  Run(query, inputs, nullptr, &out);
  return text;
}

std::string Explain(const Value& query, const std::vector<Input>& inputs) {
  std::vector<std::string> lines;
  Output result;
  Run(query, inputs, &lines, &result);
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

}  // namespace datahike::query
