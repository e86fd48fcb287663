// Helpers shared by the core test suites: build dbs from EDN text, transact, read datoms back.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/api/connection.h"
#include "core/db/db.h"
#include "core/tx/transact.h"
#include "core/value/edn.h"
#include "core/value/error.h"

namespace datahike::testing {

inline Value E(const std::string& text) { return edn::Read(text); }
inline std::string S(const Value& v) { return edn::ToString(v); }

// A storage-free db from a DataScript-style schema map and an optional config map.
inline DbPtr EmptyDb(const std::string& schema = "{}", const std::string& config = "nil") {
  return Db::Empty(Config::Storeless(E(config)), E(schema), true);
}

// A db as a stored database starts: no schema map, schema transacted as entities.
inline DbPtr StoredEmpty(const std::string& config = "{}") {
  return Db::Empty(Config::Parse(E(config)), Value(), false);
}

inline TxReport Tx(const DbPtr& db, const std::string& tx) {
  return Transact(db, E(tx), Value(), NowMillis());
}
inline DbPtr With(const DbPtr& db, const std::string& tx) { return Tx(db, tx).db_after; }

// The message of the error a transaction raises, or "" when it succeeds.
inline std::string TxError(const DbPtr& db, const std::string& tx) {
  try {
    Tx(db, tx);
  } catch (const Error& e) {
    return e.message();
  }
  return "";
}

inline ErrorKind TxErrorKind(const DbPtr& db, const std::string& tx) {
  try {
    Tx(db, tx);
  } catch (const Error& e) {
    return e.kind();
  }
  return ErrorKind::kInternal;
}

// Datoms as EDN rows [e a v] (with_tx adds tx and added).
inline std::string Rows(const std::vector<Datom>& ds, bool with_tx = false) {
  std::vector<Value> rows;
  for (const Datom& d : ds) {
    if (with_tx) {
      rows.push_back(DatomToValue(d));
    } else {
      rows.push_back(Value::Vector({Value::Long(d.e), Value::Keyword(KeywordById(d.a)), d.v}));
    }
  }
  return S(Value::Vector(std::move(rows)));
}

inline std::string Eavt(const DbPtr& db, const std::string& components = "[]",
                        bool with_tx = false) {
  return Rows(db->Datoms(IndexOrder::kEavt, E(components).items()), with_tx);
}
inline std::string Aevt(const DbPtr& db, const std::string& components = "[]") {
  return Rows(db->Datoms(IndexOrder::kAevt, E(components).items()));
}
inline std::string Avet(const DbPtr& db, const std::string& components = "[]") {
  return Rows(db->Datoms(IndexOrder::kAvet, E(components).items()));
}

// Rows of a report's tx-data without the :db/txInstant datom, as [e a v added].
inline std::string TxData(const TxReport& r) {
  std::vector<Value> rows;
  for (const Datom& d : r.tx_data) {
    if (KeywordById(d.a)->full == "db/txInstant") continue;
    rows.push_back(Value::Vector(
        {Value::Long(d.e), Value::Keyword(KeywordById(d.a)), d.v, Value::Bool(d.added)}));
  }
  return S(Value::Vector(std::move(rows)));
}

inline int64_t Tempid(const TxReport& r, const std::string& key) {
  Value k = E(key);
  for (const auto& [t, e] : r.tempids) {
    if (Equal(t, k) && t.type() == k.type()) return e;
  }
  return 0;
}

}  // namespace datahike::testing
