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

// A purge's effect on the indices, for redoing a transaction from its datoms (tx_data does not
// show purges). `at` is the number of tx_data datoms made before it.
struct PurgeOp {
  size_t at = 0;
  Datom d;
  // false: [:db/purge]-style removal of d's (e, a, v) from the current and history indices;
  // true: the removal of the one history datom d ([:db.history.purge/before]).
  bool history_only = false;
};

struct TxReport {
  DbPtr db_before;
  DbPtr db_after;
  std::vector<Datom> tx_data;
  // Tempid -> eid, in the order they were allocated; includes :db/current-tx -> the tx id.
  std::vector<std::pair<Value, int64_t>> tempids;
  Value tx_meta;
  std::vector<PurgeOp> purges;  // in order; empty unless the transaction purged
};

// What a logged transaction did, enough to redo it exactly (durable log replay): its tx id, the
// max-eid after it, its datoms in the order made and its purges.
struct TxEffects {
  int64_t tx = 0;
  int64_t max_eid = 0;
  std::vector<Datom> tx_data;
  std::vector<PurgeOp> purges;
};

// Redoes a transaction on db (its db-before, a current view) from its effects, without running
// tx functions or validation again: the same datoms, schema and basis result. Throws datahike::Error
// (:storage/corrupt data) when the effects do not fit db.
DbPtr Replay(const DbPtr& db, const TxEffects& effects);

// A database value over stored indices: the current and temporal index sets and the basis; the
// schema is rebuilt from the schema datoms (every entity with a :db/ident).
DbPtr Restore(const Config& config, IndexSet current, IndexSet temporal, int64_t max_eid,
              int64_t max_tx);

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
