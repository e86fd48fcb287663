// Datalog query parser: turns a Datahike/Datomic query (a Value read from EDN) into an AST without
// executing anything.
//
// Accepted inputs (ParseQuery):
//   vector form   [:find ... :keys ... :in ... :with ... :where ...]
//   map form      {:find [...] :keys [...] :in [...] :with [...] :where [...]
//                  :limit n :offset n :timeout n}   (:strs / :syms may replace :keys)
//   argument map  {:query Q :args [...] :limit n :offset n :timeout n}: Q is either form above
//                 (or a string holding one); :args is ignored here; the outer
//                 :limit/:offset/:timeout win.
//
// Names: every variable, source, rule name and function name is the interned symbol
// (`const Named*`) from the query text. A variable is a symbol starting with '?', a source a symbol
// starting with '$' ("$" alone is the default source), a placeholder the symbol `_`.
//
// Every malformed query throws datahike::Error of kind kQuery whose message contains the EDN text
// of the offending form. The checks are purely syntactic plus the variable checks that need no
// data: find/with variables must be bound by :in or :where, :find and :with must not share
// variables, :in variables must be distinct, every or-branch must use the first branch's variables,
// not-join/or-join join variables must occur inside their clauses, :keys arity must match :find.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/value/value.h"

namespace datahike::query {

// A symbol: a variable (?x), a source ($ / $name), a rule name or a function name.
using Sym = const Named*;

// An argument of a data pattern, predicate, function call or rule call.
struct Term {
  enum class Kind {
    kVariable,  // sym is the ?variable
    kConstant,  // value holds the constant (keyword, string, number, lookup ref [:a v], ...)
    kBlank,     // `_`
    kSource,    // sym is a $source (only in predicate/function arguments)
  };
  Kind kind = Kind::kBlank;
  Sym sym = nullptr;
  Value value;
};

// A binding form: an :in input or the output of a function clause.
//   kSource     $ or $name (sym); :in only
//   kRules      %; :in only
//   kScalar     ?x (sym)
//   kIgnore     _
//   kTuple      [?a ?b]      elements: one binding per position (scalars or _)
//   kCollection [?a ...]     elements: exactly one binding (the element form)
//   kRelation   [[?a ?b]]    elements: one binding per column (scalars or _)
struct Binding {
  enum class Kind { kSource, kRules, kScalar, kIgnore, kTuple, kCollection, kRelation };
  Kind kind = Kind::kIgnore;
  Sym sym = nullptr;
  std::vector<Binding> elements;
};

// One :where clause (or a clause inside not/or/and/a rule body).
//   kPattern   [$src? e a v tx added]        terms: 1..5 pattern terms (e a v tx added)
//   kPredicate [(fn args...)]                fn, terms = args
//   kFunction  [(fn args...) binding]        fn, terms = args, binding = output binding
//   kNot       ($src? not clause...)         clauses = body; join_vars = all body variables
//   kNotJoin   ($src? not-join [?v...] clause...)         join_vars, clauses
//   kOr        ($src? or branch...)          clauses = branches; join_vars = shared free vars
//   kOrJoin    ($src? or-join [[?req...] ?v...] branch...)
//                                            join_vars (all), required_vars (the [[?req]] part,
//                                            also in join_vars), clauses = branches
//   kAnd       (and clause...)               only as an or/or-join branch; clauses = body
//   kRuleCall  ($src? name args...)          fn = rule name, terms = args
// `source` is the explicit $source symbol or nullptr (the default source $). `form` is the clause
// as written, for error messages.
struct Clause {
  enum class Kind {
    kPattern,
    kPredicate,
    kFunction,
    kNot,
    kNotJoin,
    kOr,
    kOrJoin,
    kAnd,
    kRuleCall
  };
  Kind kind = Kind::kPattern;
  Sym source = nullptr;
  Sym fn = nullptr;
  std::vector<Term> terms;
  Binding binding;
  std::vector<Sym> join_vars;
  std::vector<Sym> required_vars;
  std::vector<Clause> clauses;
  Value form;
};

// A :find element.
//   kVariable  ?x                        var
//   kAggregate (fn args... ?x)           fn, args (leading constants or variables), var
//   kPull      (pull $src? ?e pattern)   source (nullptr = $), var, pattern (a pattern vector or
//                                        a ?variable naming a pattern input)
struct FindElement {
  enum class Kind { kVariable, kAggregate, kPull };
  Kind kind = Kind::kVariable;
  Sym var = nullptr;
  Sym fn = nullptr;
  std::vector<Value> args;
  Sym source = nullptr;
  Value pattern;
};

// Shape of the result: ?a ?b (relation), ?a . (scalar), [?a ...] (collection), [?a ?b] (tuple).
enum class FindKind { kRelation, kScalar, kCollection, kTuple };

// Which return-map keys were requested, if any.
enum class KeysKind { kNone, kKeys, kStrs, kSyms };

struct Query {
  FindKind find_kind = FindKind::kRelation;
  std::vector<FindElement> find;  // never empty
  KeysKind keys_kind = KeysKind::kNone;
  std::vector<Sym> keys;    // same length as find when keys_kind != kNone
  std::vector<Binding> in;  // defaults to [$]
  std::vector<Sym> with;
  std::vector<Clause> where;
  std::optional<int64_t> limit;
  std::optional<int64_t> offset;
  std::optional<int64_t> timeout;
};

// One body of a rule: [(name [?req...] ?arg...) clause...].
struct Rule {
  Sym name = nullptr;
  std::vector<Sym> required_vars;  // the leading [?a ...] vector of the head, if any
  std::vector<Sym> vars;           // the other head arguments
  std::vector<Clause> body;        // never empty
};

// Parses a query in any of the accepted forms. Throws Error(kQuery) on a malformed query.
Query ParseQuery(const Value& form);

// Parses the % input: a vector of rule bodies; several bodies may share a name (they must then have
// the same arity). Throws Error(kQuery).
std::vector<Rule> ParseRules(const Value& form);

// Variables occurring anywhere in the clause (including nested clauses and function outputs), in
// first-occurrence order, without duplicates.
std::vector<Sym> ClauseVars(const Clause& clause);

// The query back as a map-form query value / its EDN text; parsing the value again gives an equal
// value. Defaults are written out (:in [$]), :limit/:offset/:timeout only when set.
Value ToValue(const Query& query);
std::string ToString(const Query& query);

}  // namespace datahike::query
