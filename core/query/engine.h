// The query executor: runs a Datalog query (any form core/query/parser.h accepts) over database
// values and plain collections, and shapes the result as the find spec asks.
//
// Planning: the :where clauses are not run in the written order. At every step the executor picks,
// among the clauses that can run, the one with the smallest estimated result (index counts of the
// pattern's bound prefix, scaled by the rows of the relation it joins), runs predicates and
// function clauses as soon as their inputs are bound, fuses comparison predicates into the scan of
// the pattern that binds their variable (an AVET range when the attribute is indexed), and drops
// columns no later clause needs. Patterns join the current relation either by one index lookup per
// distinct binding (few rows) or by one scan joined by hash (many rows). Rules run bottom-up by
// semi-naive evaluation; a call with bound arguments seeds the evaluation with them (see rules in
// engine.cc), so a bound call never builds the whole closure.
#pragma once

#include <string>
#include <vector>

#include "core/db/db.h"
#include "core/value/value.h"

namespace datahike::query {

// A value for one :in position: a database (for $ sources), or a plain value (a scalar, tuple,
// collection or relation; a collection of tuples for a $ source; a rule set for %).
struct Input {
  DbPtr db;
  Value value;
  static Input Database(DbPtr db) { return Input{std::move(db), Value()}; }
  static Input Plain(Value v) { return Input{nullptr, std::move(v)}; }
};

// Runs `query` with `inputs` bound to its :in positions in order (:in defaults to [$]). Results:
// a set of tuples for a relation find (a vector when the find has aggregates, :with or
// :limit/:offset), maps instead of tuples with :keys/:strs/:syms (in the same set or vector), a
// scalar (nil when nothing matched) for `?x .`, a vector for `[?x ...]` and `[?a ?b]`. Throws datahike::Error(kQuery) for malformed
// queries and inputs, and the engine's errors otherwise.
Value Q(const Value& query, const std::vector<Input>& inputs);

// Q with the result printed as EDN (json = false) or JSON text, without building it as a Value
// first (what the C ABI returns). Sets print in the engine's row order; JSON prints sets as arrays.
std::string QText(const Value& query, const std::vector<Input>& inputs, bool json);

// The plan the executor chose for `query` with these inputs: one line per step, in execution order
// (it runs the query to get the sizes).
std::string Explain(const Value& query, const std::vector<Input>& inputs);

}  // namespace datahike::query
