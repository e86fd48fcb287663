// Result comparison for the conformance runner, by the rules of ../shared/conformance/README.md.
#pragma once

#include <string>

#include "core/value/value.h"

namespace datahike::conformance {

// Numbers: integers exactly, doubles within a relative 1e-9; collections elementwise.
bool ValuesMatch(const Value& expected, const Value& actual);

// A vector compared as a multiset (order ignored) or in order; a set as a set.
bool CollectionMatches(const Value& expected, const Value& actual, bool ordered);

// Datom rows: expected rows may leave off tx and added; only the given positions are compared.
bool DatomRowsMatch(const Value& expected, const Value& actual, bool ordered);

// Transact reports: {:tx-data #{[e a v added]} :tempids {...}} (the :db/txInstant datom and the
// :db/current-tx tempid are left out of the actual report before comparing).
bool TxDataMatches(const Value& expected_set, const Value& actual_tx_data);
bool TempidsMatch(const Value& expected, const Value& actual);

}  // namespace datahike::conformance
