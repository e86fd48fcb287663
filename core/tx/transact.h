// Transactions: tx-data in, a new Db value and a report out.
//
// Accepts Datahike's tx-data: entity maps (nested maps, collections of refs, reverse attributes like
// :_parent), [:db/add e a v], [:db/retract e a] / [:db/retract e a v], [:db/retractEntity e] /
// [:db.fn/retractEntity e] (cascading to components), [:db.fn/retractAttribute e a], [:db/cas e a
// old new] / [:db.fn/cas ...]; tempids (strings, negative numbers), lookup refs and idents wherever
// an entity id may stand, upserts through unique identity, tx metadata on the tx entity
// (:db/current-tx, "datomic.tx"). A transaction is all or nothing: on any error it throws
// datahike::Error and nothing changes.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "core/db/db.h"
#include "core/value/value.h"

namespace datahike {

struct TxReport {
  DbPtr db_before;
  DbPtr db_after;
  std::vector<Datom> tx_data;
  // Tempid -> eid, in the order they were allocated; includes :db/current-tx -> the tx id.
  std::vector<std::pair<Value, int64_t>> tempids;
  Value tx_meta;
};

// Applies tx_data to db (which must be a current view). `tx_meta` is nil or a map of attributes
// for the transaction entity. `now_millis` is the :db/txInstant (it never goes below the previous
// transaction's). Throws datahike::Error.
TxReport Transact(const DbPtr& db, const Value& tx_data, const Value& tx_meta, int64_t now_millis);

// Milliseconds since the epoch, from the system clock.
int64_t NowMillis();

// The report as the C ABI returns it: {:tx-data [[e a v tx added] ...] :tempids {...} :tx-meta ..
// :db-before {:max-tx .. :max-eid ..} :db-after {...}}.
Value ReportToValue(const TxReport& report);
// [e a v tx added] with the attribute as its keyword.
Value DatomToValue(const Datom& d);

}  // namespace datahike
