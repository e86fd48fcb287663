#include "core/query/parser.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "core/value/edn.h"
#include "core/value/error.h"

namespace datahike::query {
namespace {

[[noreturn]] void Fail(const std::string& message, const Value& form) {
  throw Error(ErrorKind::kQuery, message + ": " + edn::ToString(form));
}

bool IsSymbol(const Value& v) { return v.type() == Type::kSymbol; }

bool IsVariable(const Value& v) { return IsSymbol(v) && v.as_named()->full.starts_with("?"); }

bool IsSource(const Value& v) { return IsSymbol(v) && v.as_named()->full.starts_with("$"); }

bool IsBlank(const Value& v) { return IsSymbol(v) && v.as_named()->full == "_"; }

bool IsSymbolNamed(const Value& v, std::string_view name) {
  return IsSymbol(v) && v.as_named()->full == name;
}

// A plain symbol usable as a function or rule name.
bool IsPlainSymbol(const Value& v) {
  return IsSymbol(v) && !IsVariable(v) && !IsSource(v) && !IsBlank(v);
}

void AddUnique(std::vector<Sym>& out, Sym s) {
  if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
}

bool Contains(const std::vector<Sym>& v, Sym s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string SymsText(const std::vector<Sym>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0) out += ' ';
    out += v[i]->full;
  }
  return out + "]";
}

// ---- bindings -----------------------------------------------------------------------------------

Binding ParseBinding(const Value& form, bool top_level_in) {
  Binding b;
  if (IsVariable(form)) {
    b.kind = Binding::Kind::kScalar;
    b.sym = form.as_named();
    return b;
  }
  if (IsBlank(form)) {
    b.kind = Binding::Kind::kIgnore;
    return b;
  }
  if (top_level_in && IsSource(form)) {
    b.kind = Binding::Kind::kSource;
    b.sym = form.as_named();
    return b;
  }
  if (top_level_in && IsSymbolNamed(form, "%")) {
    b.kind = Binding::Kind::kRules;
    return b;
  }
  if (top_level_in && IsPlainSymbol(form) && !IsSymbolNamed(form, "...")) {
    // A plain symbol names an input used as a pull pattern: (pull ?e pattern).
    b.kind = Binding::Kind::kScalar;
    b.sym = form.as_named();
    return b;
  }
  if (form.type() == Type::kVector && !form.items().empty()) {
    const auto& items = form.items();
    if (items.size() == 2 && IsSymbolNamed(items[1], "...")) {
      b.kind = Binding::Kind::kCollection;
      b.elements.push_back(ParseBinding(items[0], false));
      return b;
    }
    if (items.size() == 1 && items[0].type() == Type::kVector && !items[0].items().empty()) {
      b.kind = Binding::Kind::kRelation;
      for (const Value& e : items[0].items()) {
        if (!IsVariable(e) && !IsBlank(e))
          Fail("Cannot parse binding, relation columns must be variables or _", form);
        b.elements.push_back(ParseBinding(e, false));
      }
      return b;
    }
    b.kind = Binding::Kind::kTuple;
    for (const Value& e : items) {
      if (IsSymbolNamed(e, "...")) Fail("Cannot parse binding", form);
      b.elements.push_back(ParseBinding(e, false));
    }
    return b;
  }
  Fail("Cannot parse binding, expected (bind-scalar | bind-tuple | bind-coll | bind-rel)", form);
}

void BindingVars(const Binding& b, std::vector<Sym>& out) {
  if (b.kind == Binding::Kind::kScalar) AddUnique(out, b.sym);
  for (const Binding& e : b.elements) BindingVars(e, out);
}

// ---- terms --------------------------------------------------------------------------------------

// An argument of a predicate, function or rule call.
Term ParseArg(const Value& form, bool allow_source) {
  Term t;
  if (IsVariable(form)) {
    t.kind = Term::Kind::kVariable;
    t.sym = form.as_named();
  } else if (IsBlank(form)) {
    t.kind = Term::Kind::kBlank;
  } else if (allow_source && IsSource(form)) {
    t.kind = Term::Kind::kSource;
    t.sym = form.as_named();
  } else if (IsSymbol(form) || form.type() == Type::kList) {
    Fail("Cannot parse argument, expected a variable, _ or a constant", form);
  } else {
    t.kind = Term::Kind::kConstant;
    t.value = form;
  }
  return t;
}

// Position 0 = e, 1 = a, 2 = v, 3 = tx, 4 = added.
Term ParsePatternTerm(const Value& form, size_t position, const Value& clause) {
  if (IsVariable(form) || IsBlank(form)) return ParseArg(form, false);
  if (IsSymbol(form) || form.type() == Type::kList || form.is_map() || form.is_set()) {
    Fail("Cannot parse pattern element " + edn::ToString(form), clause);
  }
  if (position == 1 && !form.is_keyword() && !form.is_integer()) {
    Fail("Bad attribute in pattern, must be a keyword, an entity id, a variable or _", clause);
  }
  if (form.type() == Type::kVector && form.items().size() != 2) {
    Fail("Bad format for value in pattern, must be a scalar, nil or a vector of two elements",
         clause);
  }
  Term t;
  t.kind = Term::Kind::kConstant;
  t.value = form;
  return t;
}

// ---- clauses ------------------------------------------------------------------------------------

Clause ParseClause(const Value& form, bool in_or_branch);

std::vector<Clause> ParseClauses(const std::vector<Value>& forms, size_t from,
                                 const Value& parent) {
  if (from >= forms.size()) Fail("Clause must contain at least one nested clause", parent);
  std::vector<Clause> out;
  for (size_t i = from; i < forms.size(); ++i) out.push_back(ParseClause(forms[i], false));
  return out;
}

std::vector<Sym> VarsOf(const std::vector<Clause>& clauses) {
  std::vector<Sym> out;
  for (const Clause& c : clauses) {
    for (Sym s : ClauseVars(c)) AddUnique(out, s);
  }
  return out;
}

void CheckJoinVarsInside(const std::vector<Sym>& join_vars, const std::vector<Sym>& inside,
                         const Value& form) {
  std::vector<Sym> missing;
  for (Sym s : join_vars) {
    if (!Contains(inside, s)) missing.push_back(s);
  }
  if (!missing.empty())
    Fail("Join variable not declared inside clauses: " + SymsText(missing), form);
}

std::vector<Sym> ParseVarVector(const Value& form, const Value& clause) {
  if (form.type() != Type::kVector) Fail("Expected a vector of variables", clause);
  std::vector<Sym> out;
  for (const Value& v : form.items()) {
    if (!IsVariable(v)) Fail("Expected a vector of variables", clause);
    AddUnique(out, v.as_named());
  }
  return out;
}

std::vector<Clause> ParseOrBranches(const std::vector<Value>& items, size_t from,
                                    const Value& form) {
  if (from >= items.size()) Fail("Clause must contain at least one nested clause", form);
  std::vector<Clause> out;
  for (size_t i = from; i < items.size(); ++i) out.push_back(ParseClause(items[i], true));
  return out;
}

Clause ParseListClause(const Value& form, bool in_or_branch) {
  const auto& items = form.items();
  Clause c;
  c.form = form;
  size_t i = 0;
  if (!items.empty() && IsSource(items[0])) {
    c.source = items[0].as_named();
    i = 1;
  }
  if (i >= items.size() || !IsPlainSymbol(items[i])) Fail("Cannot parse clause", form);
  const std::string& head = items[i].as_named()->full;
  if (head == "not") {
    c.kind = Clause::Kind::kNot;
    c.clauses = ParseClauses(items, i + 1, form);
    c.join_vars = VarsOf(c.clauses);
  } else if (head == "not-join") {
    c.kind = Clause::Kind::kNotJoin;
    if (i + 1 >= items.size())
      Fail("Cannot parse not-join, expected a vector of join variables", form);
    c.join_vars = ParseVarVector(items[i + 1], form);
    c.clauses = ParseClauses(items, i + 2, form);
    CheckJoinVarsInside(c.join_vars, VarsOf(c.clauses), form);
  } else if (head == "or") {
    c.kind = Clause::Kind::kOr;
    c.clauses = ParseOrBranches(items, i + 1, form);
    // As in Datahike: the first branch's variables are the join variables, and every branch must
    // use them all (a branch may have more, local to it).
    c.join_vars = ClauseVars(c.clauses[0]);
    for (size_t b = 1; b < c.clauses.size(); ++b) {
      CheckJoinVarsInside(c.join_vars, ClauseVars(c.clauses[b]), form);
    }
  } else if (head == "or-join") {
    c.kind = Clause::Kind::kOrJoin;
    if (i + 1 >= items.size() || items[i + 1].type() != Type::kVector) {
      Fail("Cannot parse or-join, expected a vector of join variables", form);
    }
    for (const Value& v : items[i + 1].items()) {
      if (v.type() == Type::kVector) {
        for (Sym s : ParseVarVector(v, form)) {
          AddUnique(c.required_vars, s);
          AddUnique(c.join_vars, s);
        }
      } else if (IsVariable(v)) {
        AddUnique(c.join_vars, v.as_named());
      } else {
        Fail("Cannot parse or-join, expected a vector of join variables", form);
      }
    }
    c.clauses = ParseOrBranches(items, i + 2, form);
    // A join variable may be missing from a branch when it is bound outside (DataScript issue 348).
    CheckJoinVarsInside(c.join_vars, VarsOf(c.clauses), form);
  } else if (head == "and") {
    if (!in_or_branch || c.source != nullptr)
      Fail("'and' is only allowed as a branch of or/or-join", form);
    c.kind = Clause::Kind::kAnd;
    c.clauses = ParseClauses(items, i + 1, form);
  } else {
    c.kind = Clause::Kind::kRuleCall;
    c.fn = items[i].as_named();
    if (i + 1 >= items.size()) Fail("Rule call must have at least one argument", form);
    for (size_t k = i + 1; k < items.size(); ++k) c.terms.push_back(ParseArg(items[k], false));
  }
  return c;
}

Clause ParseVectorClause(const Value& form) {
  const auto& items = form.items();
  Clause c;
  c.form = form;
  if (!items.empty() && items[0].type() == Type::kList) {
    const auto& call = items[0].items();
    if (call.empty() || !IsSymbol(call[0]) || IsSource(call[0]) || IsBlank(call[0])) {
      Fail("Cannot parse function call, expected (fn args...)", form);
    }
    c.fn = call[0].as_named();
    for (size_t k = 1; k < call.size(); ++k) c.terms.push_back(ParseArg(call[k], true));
    if (items.size() == 1) {
      c.kind = Clause::Kind::kPredicate;
    } else if (items.size() == 2) {
      c.kind = Clause::Kind::kFunction;
      c.binding = ParseBinding(items[1], false);
    } else {
      Fail("Cannot parse function clause, expected [(fn args...)] or [(fn args...) binding]", form);
    }
    return c;
  }
  c.kind = Clause::Kind::kPattern;
  size_t i = 0;
  if (!items.empty() && IsSource(items[0])) {
    c.source = items[0].as_named();
    i = 1;
  }
  size_t n = items.size() - i;
  if (n == 0 || n > 5) Fail("Pattern must have between 1 and 5 elements (e a v tx added)", form);
  for (size_t k = i; k < items.size(); ++k)
    c.terms.push_back(ParsePatternTerm(items[k], k - i, form));
  return c;
}

Clause ParseClause(const Value& form, bool in_or_branch) {
  if (form.type() == Type::kList) return ParseListClause(form, in_or_branch);
  if (form.type() == Type::kVector) return ParseVectorClause(form);
  Fail(
      "Cannot parse clause, expected (data-pattern | pred-expr | fn-expr | rule-expr | not-clause "
      "| "
      "not-join-clause | or-clause | or-join-clause)",
      form);
}

// ---- find ---------------------------------------------------------------------------------------

FindElement ParseFindElement(const Value& form) {
  FindElement e;
  if (IsVariable(form)) {
    e.var = form.as_named();
    return e;
  }
  if (form.type() == Type::kList && !form.items().empty() && IsSymbol(form.items()[0])) {
    const auto& items = form.items();
    if (IsSymbolNamed(items[0], "pull")) {
      e.kind = FindElement::Kind::kPull;
      size_t i = 1;
      if (items.size() == 4 && IsSource(items[1])) {
        e.source = items[1].as_named();
        i = 2;
      }
      if (items.size() != i + 2 || !IsVariable(items[i])) {
        Fail("Cannot parse pull expression, expected (pull ?e pattern) or (pull $src ?e pattern)",
             form);
      }
      e.var = items[i].as_named();
      const Value& p = items[i + 1];
      // A pattern: a vector (or set) literal, or a variable naming a pattern input (a plain symbol
      // bound in :in works too).
      if (p.is_set()) {
        e.pattern = Value::Vector(p.items());
      } else if (IsVariable(p) || IsPlainSymbol(p) || p.type() == Type::kVector) {
        e.pattern = p;
      } else {
        Fail("Cannot parse pull pattern", form);
      }
      return e;
    }
    if (!IsBlank(items[0]) && !IsSource(items[0]) && items.size() >= 2 &&
        IsVariable(items.back())) {
      e.kind = FindElement::Kind::kAggregate;
      e.fn = items[0].as_named();
      e.var = items.back().as_named();
      for (size_t k = 1; k + 1 < items.size(); ++k) {
        if (items[k].type() == Type::kList || IsBlank(items[k]) || IsSource(items[k])) {
          Fail("Cannot parse aggregate, arguments must be constants or variables", form);
        }
        e.args.push_back(items[k]);
      }
      return e;
    }
  }
  Fail("Cannot parse find element, expected (variable | pull-expr | aggregate)", form);
}

void ParseFind(const Value& find_form, const std::vector<Value>& elems, Query& q) {
  if (elems.empty()) Fail(":find must have at least one element", find_form);
  if (elems.size() == 2 && IsSymbolNamed(elems[1], ".")) {
    q.find_kind = FindKind::kScalar;
    q.find.push_back(ParseFindElement(elems[0]));
    return;
  }
  if (elems.size() == 1 && elems[0].type() == Type::kVector) {
    const auto& inner = elems[0].items();
    if (inner.size() == 2 && IsSymbolNamed(inner[1], "...")) {
      q.find_kind = FindKind::kCollection;
      q.find.push_back(ParseFindElement(inner[0]));
      return;
    }
    if (inner.empty())
      Fail("Cannot parse :find, expected (find-rel | find-coll | find-tuple | find-scalar)",
           find_form);
    q.find_kind = FindKind::kTuple;
    for (const Value& v : inner) {
      if (IsSymbolNamed(v, "...") || IsSymbolNamed(v, ".")) {
        Fail("Cannot parse :find, expected (find-rel | find-coll | find-tuple | find-scalar)",
             find_form);
      }
      q.find.push_back(ParseFindElement(v));
    }
    return;
  }
  q.find_kind = FindKind::kRelation;
  for (const Value& v : elems) {
    if (IsSymbol(v) && (v.as_named()->full == "." || v.as_named()->full == "...")) {
      Fail("Cannot parse :find, expected (find-rel | find-coll | find-tuple | find-scalar)",
           find_form);
    }
    q.find.push_back(ParseFindElement(v));
  }
}

// ---- top level ----------------------------------------------------------------------------------

int64_t ParseCount(const Value& v, const char* key, const Value& form) {
  if (!v.is_long() || v.as_long() < 0)
    Fail(std::string(key) + " must be a non-negative integer", form);
  return v.as_long();
}

// The query as key -> list of values, from either form.
std::vector<std::pair<std::string, std::vector<Value>>> Sections(const Value& form) {
  std::vector<std::pair<std::string, std::vector<Value>>> out;
  if (form.is_map()) {
    for (const auto& [k, v] : form.entries()) {
      if (!k.is_keyword()) Fail("Query map keys must be keywords", form);
      const std::string& key = k.as_named()->full;
      static const char* const kKnown[] = {"find", "keys",  "strs",  "syms",   "in",
                                           "with", "where", "limit", "offset", "timeout"};
      if (std::find(std::begin(kKnown), std::end(kKnown), key) == std::end(kKnown)) {
        Fail("Unknown query section :" + key, form);
      }
      if (key == "limit" || key == "offset" || key == "timeout") {
        out.push_back({key, {v}});
      } else if (v.is_sequential()) {
        out.push_back({key, v.items()});
      } else {
        Fail("Query section :" + key + " must be a vector", form);
      }
    }
    return out;
  }
  const auto& items = form.items();
  if (items.empty() || !items[0].is_keyword()) Fail("Query must start with a keyword", form);
  for (const Value& v : items) {
    if (v.is_keyword()) {
      out.push_back({v.as_named()->full, {}});
    } else {
      out.back().second.push_back(v);
    }
  }
  return out;
}

void CollectFindVars(const FindElement& e, std::vector<Sym>& out) {
  AddUnique(out, e.var);
  for (const Value& a : e.args) {
    if (IsVariable(a)) AddUnique(out, a.as_named());
  }
  if (IsVariable(e.pattern)) AddUnique(out, e.pattern.as_named());
}

Query ParseQueryForm(const Value& form) {
  if (!form.is_map() && form.type() != Type::kVector) {
    Fail("Query must be a vector or a map", form);
  }
  Query q;
  bool have_find = false, have_in = false;
  std::vector<std::string> seen;
  for (const auto& [key, vals] : Sections(form)) {
    if (std::find(seen.begin(), seen.end(), key) != seen.end())
      Fail("Duplicate query section :" + key, form);
    seen.push_back(key);
    if (key == "find") {
      have_find = true;
      ParseFind(form, vals, q);
    } else if (key == "keys" || key == "strs" || key == "syms") {
      if (q.keys_kind != KeysKind::kNone) Fail("Only one of :keys, :strs, :syms is allowed", form);
      q.keys_kind = key == "keys"   ? KeysKind::kKeys
                    : key == "strs" ? KeysKind::kStrs
                                    : KeysKind::kSyms;
      for (const Value& v : vals) {
        if (!IsSymbol(v)) Fail(":" + key + " must list symbols", form);
        q.keys.push_back(v.as_named());
      }
    } else if (key == "in") {
      have_in = true;
      for (const Value& v : vals) q.in.push_back(ParseBinding(v, true));
    } else if (key == "with") {
      for (const Value& v : vals) {
        if (!IsVariable(v)) Fail(":with must list variables", form);
        AddUnique(q.with, v.as_named());
      }
    } else if (key == "where") {
      for (const Value& v : vals) q.where.push_back(ParseClause(v, false));
    } else if ((key == "limit" || key == "offset" || key == "timeout") && form.is_map()) {
      int64_t n = ParseCount(vals[0],
                             key == "limit"    ? ":limit"
                             : key == "offset" ? ":offset"
                                               : ":timeout",
                             form);
      (key == "limit" ? q.limit : key == "offset" ? q.offset : q.timeout) = n;
    } else {
      Fail("Unknown query section :" + key, form);
    }
  }
  if (!have_find) Fail(":find must have at least one element", form);
  if (!have_in) {
    Binding src;
    src.kind = Binding::Kind::kSource;
    src.sym = InternSymbol("$");
    q.in.push_back(src);
  }
  if (q.keys_kind != KeysKind::kNone && q.keys.size() != q.find.size()) {
    Fail("Count of :keys/:strs/:syms must match count of :find", form);
  }
  std::vector<Sym> bound;
  for (const Binding& b : q.in) {
    std::vector<Sym> mine;
    BindingVars(b, mine);
    for (Sym s : mine) {
      if (Contains(bound, s))
        Fail("Vars used in :in should be distinct, " + s->full + " is repeated", form);
      bound.push_back(s);
    }
  }
  std::vector<Sym> find_vars;
  for (const FindElement& e : q.find) AddUnique(find_vars, e.var);
  std::vector<Sym> overlap;
  for (Sym s : q.with) {
    if (Contains(find_vars, s)) overlap.push_back(s);
  }
  if (!overlap.empty())
    Fail(":find and :with should not use same variables: " + SymsText(overlap), form);
  for (Sym s : VarsOf(q.where)) AddUnique(bound, s);
  std::vector<Sym> wanted;
  for (const FindElement& e : q.find) CollectFindVars(e, wanted);
  for (Sym s : q.with) AddUnique(wanted, s);
  std::vector<Sym> unknown;
  for (Sym s : wanted) {
    if (!Contains(bound, s)) unknown.push_back(s);
  }
  if (!unknown.empty()) Fail("Query for unknown vars: " + SymsText(unknown), form);
  return q;
}

// ---- printing -----------------------------------------------------------------------------------

Value SymV(Sym s) { return Value::Symbol(s->full); }

Value VarsV(const std::vector<Sym>& v) {
  std::vector<Value> out;
  for (Sym s : v) out.push_back(SymV(s));
  return Value::Vector(std::move(out));
}

Value TermV(const Term& t) {
  switch (t.kind) {
    case Term::Kind::kVariable:
    case Term::Kind::kSource:
      return SymV(t.sym);
    case Term::Kind::kBlank:
      return Value::Symbol("_");
    case Term::Kind::kConstant:
      return t.value;
  }
  return Value();
}

Value BindingV(const Binding& b) {
  std::vector<Value> elems;
  for (const Binding& e : b.elements) elems.push_back(BindingV(e));
  switch (b.kind) {
    case Binding::Kind::kSource:
    case Binding::Kind::kScalar:
      return SymV(b.sym);
    case Binding::Kind::kRules:
      return Value::Symbol("%");
    case Binding::Kind::kIgnore:
      return Value::Symbol("_");
    case Binding::Kind::kTuple:
      return Value::Vector(std::move(elems));
    case Binding::Kind::kCollection:
      elems.push_back(Value::Symbol("..."));
      return Value::Vector(std::move(elems));
    case Binding::Kind::kRelation:
      return Value::Vector({Value::Vector(std::move(elems))});
  }
  return Value();
}

Value ClauseV(const Clause& c) {
  std::vector<Value> out;
  if (c.source != nullptr) out.push_back(SymV(c.source));
  auto nested = [&] {
    for (const Clause& n : c.clauses) out.push_back(ClauseV(n));
  };
  switch (c.kind) {
    case Clause::Kind::kPattern:
      for (const Term& t : c.terms) out.push_back(TermV(t));
      return Value::Vector(std::move(out));
    case Clause::Kind::kPredicate:
    case Clause::Kind::kFunction: {
      std::vector<Value> call{SymV(c.fn)};
      for (const Term& t : c.terms) call.push_back(TermV(t));
      out.push_back(Value::List(std::move(call)));
      if (c.kind == Clause::Kind::kFunction) out.push_back(BindingV(c.binding));
      return Value::Vector(std::move(out));
    }
    case Clause::Kind::kNot:
      out.push_back(Value::Symbol("not"));
      break;
    case Clause::Kind::kNotJoin:
      out.push_back(Value::Symbol("not-join"));
      out.push_back(VarsV(c.join_vars));
      break;
    case Clause::Kind::kOr:
      out.push_back(Value::Symbol("or"));
      break;
    case Clause::Kind::kOrJoin: {
      out.push_back(Value::Symbol("or-join"));
      std::vector<Value> vars;
      if (!c.required_vars.empty()) vars.push_back(VarsV(c.required_vars));
      for (Sym s : c.join_vars) {
        if (!Contains(c.required_vars, s)) vars.push_back(SymV(s));
      }
      out.push_back(Value::Vector(std::move(vars)));
      break;
    }
    case Clause::Kind::kAnd:
      out.push_back(Value::Symbol("and"));
      break;
    case Clause::Kind::kRuleCall:
      out.push_back(SymV(c.fn));
      for (const Term& t : c.terms) out.push_back(TermV(t));
      return Value::List(std::move(out));
  }
  nested();
  return Value::List(std::move(out));
}

Value FindElementV(const FindElement& e) {
  switch (e.kind) {
    case FindElement::Kind::kVariable:
      return SymV(e.var);
    case FindElement::Kind::kAggregate: {
      std::vector<Value> out{SymV(e.fn)};
      for (const Value& a : e.args) out.push_back(a);
      out.push_back(SymV(e.var));
      return Value::List(std::move(out));
    }
    case FindElement::Kind::kPull: {
      std::vector<Value> out{Value::Symbol("pull")};
      if (e.source != nullptr) out.push_back(SymV(e.source));
      out.push_back(SymV(e.var));
      out.push_back(e.pattern);
      return Value::List(std::move(out));
    }
  }
  return Value();
}

}  // namespace

std::vector<Sym> ClauseVars(const Clause& clause) {
  std::vector<Sym> out;
  switch (clause.kind) {
    case Clause::Kind::kNotJoin:
    case Clause::Kind::kOrJoin:
      return clause.join_vars;
    default:
      break;
  }
  for (const Term& t : clause.terms) {
    if (t.kind == Term::Kind::kVariable) AddUnique(out, t.sym);
  }
  if (clause.kind == Clause::Kind::kFunction) BindingVars(clause.binding, out);
  for (const Clause& c : clause.clauses) {
    for (Sym s : ClauseVars(c)) AddUnique(out, s);
  }
  return out;
}

Query ParseQuery(const Value& form) {
  if (form.is_map() && form.get("query") != nullptr) {
    Value inner = *form.get("query");
    if (inner.is_string()) inner = edn::Read(inner.as_string());
    Query q = ParseQueryForm(inner);
    for (const auto& [k, v] : form.entries()) {
      const std::string key = k.is_keyword() ? k.as_named()->full : "";
      if (key == "query" || key == "args") continue;
      if (key == "limit") {
        if (!v.is_nil()) q.limit = ParseCount(v, ":limit", form);
      } else if (key == "offset") {
        if (!v.is_nil()) q.offset = ParseCount(v, ":offset", form);
      } else if (key == "timeout") {
        if (!v.is_nil()) q.timeout = ParseCount(v, ":timeout", form);
      } else {
        Fail("Unknown key in query argument map " + edn::ToString(k), form);
      }
    }
    return q;
  }
  return ParseQueryForm(form);
}

std::vector<Rule> ParseRules(const Value& form) {
  if (!form.is_sequential()) Fail("Rules must be a vector of rule bodies", form);
  std::vector<Rule> out;
  for (const Value& r : form.items()) {
    if (r.type() != Type::kVector || r.items().empty() || r.items()[0].type() != Type::kList) {
      Fail("Cannot parse rule, expected [(name vars...) clause...]", r);
    }
    const auto& head = r.items()[0].items();
    if (head.empty() || !IsPlainSymbol(head[0])) Fail("Cannot parse rule name", r);
    Rule rule;
    rule.name = head[0].as_named();
    for (size_t i = 1; i < head.size(); ++i) {
      if (i == 1 && head[i].type() == Type::kVector) {
        rule.required_vars = ParseVarVector(head[i], r);
      } else if (IsVariable(head[i])) {
        rule.vars.push_back(head[i].as_named());
      } else {
        Fail("Cannot parse rule head, arguments must be variables", r);
      }
    }
    if (rule.required_vars.empty() && rule.vars.empty())
      Fail("Rule must have at least one argument", r);
    if (r.items().size() < 2) Fail("Rule branch should have clauses", r);
    rule.body = ParseClauses(r.items(), 1, r);
    for (const Rule& prev : out) {
      if (prev.name == rule.name && (prev.required_vars.size() != rule.required_vars.size() ||
                                     prev.vars.size() != rule.vars.size())) {
        Fail("Arity mismatch for rule '" + rule.name->full + "'", r);
      }
    }
    out.push_back(std::move(rule));
  }
  return out;
}

Value ToValue(const Query& q) {
  std::vector<std::pair<Value, Value>> m;
  std::vector<Value> find;
  for (const FindElement& e : q.find) find.push_back(FindElementV(e));
  switch (q.find_kind) {
    case FindKind::kRelation:
      break;
    case FindKind::kScalar:
      find.push_back(Value::Symbol("."));
      break;
    case FindKind::kCollection:
      find.push_back(Value::Symbol("..."));
      find = {Value::Vector(std::move(find))};
      break;
    case FindKind::kTuple:
      find = {Value::Vector(std::move(find))};
      break;
  }
  m.push_back({Kw("find"), Value::Vector(std::move(find))});
  if (q.keys_kind != KeysKind::kNone) {
    const char* k = q.keys_kind == KeysKind::kKeys   ? "keys"
                    : q.keys_kind == KeysKind::kStrs ? "strs"
                                                     : "syms";
    m.push_back({Kw(k), VarsV(q.keys)});
  }
  std::vector<Value> in;
  for (const Binding& b : q.in) in.push_back(BindingV(b));
  m.push_back({Kw("in"), Value::Vector(std::move(in))});
  if (!q.with.empty()) m.push_back({Kw("with"), VarsV(q.with)});
  std::vector<Value> where;
  for (const Clause& c : q.where) where.push_back(ClauseV(c));
  m.push_back({Kw("where"), Value::Vector(std::move(where))});
  if (q.limit) m.push_back({Kw("limit"), Value::Long(*q.limit)});
  if (q.offset) m.push_back({Kw("offset"), Value::Long(*q.offset)});
  if (q.timeout) m.push_back({Kw("timeout"), Value::Long(*q.timeout)});
  return Value::Map(std::move(m));
}

std::string ToString(const Query& q) { return edn::ToString(ToValue(q)); }

}  // namespace datahike::query
