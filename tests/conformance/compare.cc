#include "tests/conformance/compare.h"

#include <cmath>
#include <vector>

namespace datahike::conformance {

namespace {
bool IsFloating(const Value& v) { return v.type() == Type::kDouble || v.type() == Type::kFloat; }

// Finds a one-to-one matching between expected and actual elements (multiset equality under
// ValuesMatch, which is not a total order because of the double tolerance).
bool MultisetMatches(const std::vector<Value>& expected, const std::vector<Value>& actual,
                     bool (*match)(const Value&, const Value&)) {
  if (expected.size() != actual.size()) return false;
  std::vector<bool> used(actual.size(), false);
  for (const Value& e : expected) {
    bool found = false;
    for (size_t i = 0; i < actual.size(); ++i) {
      if (!used[i] && match(e, actual[i])) {
        used[i] = true;
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}
}  // namespace

bool ValuesMatch(const Value& expected, const Value& actual) {
  if (expected.is_number() && actual.is_number()) {
    if (IsFloating(expected) || IsFloating(actual)) {
      double x = expected.number_as_double(), y = actual.number_as_double();
      if (std::isnan(x) || std::isnan(y)) return std::isnan(x) && std::isnan(y);
      double scale = std::max(std::fabs(x), std::fabs(y));
      return std::fabs(x - y) <= 1e-9 * std::max(scale, 1e-300) || x == y;
    }
    return Compare(expected, actual) == 0;
  }
  if (expected.is_sequential() && actual.is_sequential()) {
    const auto& a = expected.items();
    const auto& b = actual.items();
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (!ValuesMatch(a[i], b[i])) return false;
    }
    return true;
  }
  if (expected.is_set() && actual.is_set()) {
    return MultisetMatches(expected.items(), actual.items(), ValuesMatch);
  }
  if (expected.is_map() && actual.is_map()) {
    if (expected.size() != actual.size()) return false;
    for (const auto& [k, v] : expected.entries()) {
      const Value* w = actual.get(k);
      if (w == nullptr || !ValuesMatch(v, *w)) return false;
    }
    return true;
  }
  return Equal(expected, actual);
}

bool CollectionMatches(const Value& expected, const Value& actual, bool ordered) {
  if (!expected.is_collection() || !actual.is_collection()) return ValuesMatch(expected, actual);
  if (ordered && expected.is_sequential() && actual.is_sequential()) {
    return ValuesMatch(expected, actual);  // elementwise, in order
  }
  return MultisetMatches(expected.items(), actual.items(), ValuesMatch);
}

namespace {
bool RowPrefixMatches(const Value& expected, const Value& actual) {
  if (!expected.is_sequential() || !actual.is_sequential()) return false;
  const auto& e = expected.items();
  const auto& a = actual.items();
  if (e.size() > a.size()) return false;
  for (size_t i = 0; i < e.size(); ++i) {
    if (!ValuesMatch(e[i], a[i])) return false;
  }
  return true;
}
}  // namespace

bool DatomRowsMatch(const Value& expected, const Value& actual, bool ordered) {
  if (!expected.is_collection() || !actual.is_collection()) return false;
  const auto& e = expected.items();
  const auto& a = actual.items();
  if (e.size() != a.size()) return false;
  if (ordered) {
    for (size_t i = 0; i < e.size(); ++i) {
      if (!RowPrefixMatches(e[i], a[i])) return false;
    }
    return true;
  }
  return MultisetMatches(e, a, RowPrefixMatches);
}

bool TxDataMatches(const Value& expected_set, const Value& actual_tx_data) {
  // Actual rows are [e a v tx added]; expected rows [e a v added].
  std::vector<Value> actual;
  for (const Value& row : actual_tx_data.items()) {
    const auto& r = row.items();
    if (r[1].is_keyword() && r[1].as_named()->full == "db/txInstant") continue;
    actual.push_back(Value::Vector({r[0], r[1], r[2], r[4]}));
  }
  if (!expected_set.is_collection()) return false;
  return MultisetMatches(expected_set.items(), actual, ValuesMatch);
}

bool TempidsMatch(const Value& expected, const Value& actual) {
  if (!expected.is_map() || !actual.is_map()) return false;
  std::vector<std::pair<Value, Value>> rest;
  for (const auto& [k, v] : actual.entries()) {
    if (k.is_keyword() && k.as_named()->full == "db/current-tx") continue;
    rest.emplace_back(k, v);
  }
  return ValuesMatch(expected, Value::Map(std::move(rest)));
}

}  // namespace datahike::conformance
