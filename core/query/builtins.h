// Built-in functions and aggregates of the query language: the pure functions a query may call in a
// predicate `[(f ?a ?b)]` or a function clause `[(f ?a) ?out]`, and the aggregates of `:find`.
//
// Functions that need a database (get-else, get-some, missing?) or the query engine itself (ground,
// nested q) are not here: the executor implements them. Everything here is pure and thread-safe.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "core/value/value.h"

namespace datahike::query {

// A built-in function: takes `nargs` arguments, returns the result. A predicate is a function whose
// result is tested for truthiness. Wrong arity or argument types throw datahike::Error(kQuery)
// whose message names the function. The error's data tells two kinds of failure apart:
// - {:error :query/invalid-argument, :fn f}: wrong arity, type or value of an argument. Clojure
//   raises IllegalArgumentException or ClassCastException there, which Datahike's predicates catch
//   and treat as false.
// - {:error :query/fn-failed, :fn f}: a failure while computing (integer overflow, divide by zero,
//   an index out of range, a size limit).
// Aggregates report their errors the same way.
using BuiltinFn = Value (*)(const Value* args, size_t nargs);

// The built-in named `name` as written in a query (">", "str", "clojure.string/blank?", "re-find",
// ...); nullptr when there is none.
BuiltinFn FindBuiltin(std::string_view name);

// An aggregate over the values of one :find column within one group (a bag: duplicates are kept,
// per :with semantics). `params` are the leading constant arguments, e.g. n in (max n ?x). Wrong
// params throw datahike::Error(kQuery). The aggregate may reorder or consume `values` (its contents
// are unspecified afterwards).
using AggregateFn = Value (*)(const Value* params, size_t nparams, std::vector<Value>& values);

// The aggregate named `name` ("count", "count-distinct", "sum", "avg", "median", "variance",
// "stddev", "min", "max", "distinct", "rand", "sample"); nullptr when there is none.
AggregateFn FindAggregate(std::string_view name);

}  // namespace datahike::query
