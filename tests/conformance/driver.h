// The conformance driver shared by the runners: reads the case files of ../shared/conformance/
// (format in its README), runs every case through a Backend, compares the results (compare.h) and
// prints, per file, how many cases passed, failed and are not runnable yet. A case is "not
// runnable" when it needs a part of the engine that does not exist yet; such cases are never
// counted as passed. Failures listed in docs/conformance.md (a line "- `case-id`: reason") are
// expected; any other failure makes the run exit 1.
//
// Two backends use it: runner.cc (the C++ engine directly, conformance_runner) and runner_capi.cc
// (only the C ABI, conformance_capi). Both must give the same counts.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/value/value.h"

namespace datahike::conformance {

// An engine under test. Every call throws datahike::Error when the engine reports an error (a
// backend that gets errors as data turns them back into datahike::Error with their kind and
// message); a case that expects an error passes on it.
class Backend {
 public:
  // A database value, opaque to the driver.
  using DbRef = std::shared_ptr<const void>;
  struct TxResult {
    DbRef db_after;
    Value report;  // {:tx-data [[e a v tx added] ...] :tempids {...} ...}
  };

  virtual ~Backend() = default;

  // Form 1: a storage-free db value (empty_db) from a schema map and config (either may be nil),
  // with each transaction of `txs` (nil or a vector of tx-data) applied in order (db_with).
  virtual DbRef BuildStoreless(const Value& schema, const Value& db_config, const Value& txs) = 0;
  // Form 2: a fresh stored database with `config` (the driver adds a unique :memory :store), every
  // transaction of `txs` transacted through a connection; returns its latest value and leaves no
  // database behind.
  virtual DbRef BuildStored(const Value& config, const Value& txs) = 0;
  // kind is "as-of" or "since" (with t) or "history".
  virtual DbRef View(const DbRef& db, const std::string& kind, const Value& t) = 0;
  // Datahike's with: tx_data applied to db, the db untouched.
  virtual TxResult With(const DbRef& db, const Value& tx_data) = 0;

  // The query's $-sources take the dbs in order (while there are any), every other :in position
  // the next of `inputs`.
  virtual Value Query(const std::vector<DbRef>& dbs, const Value& query, const Value& inputs) = 0;
  // op is "datoms", "seek-datoms" or "rseek-datoms"; index the case's :index (a keyword);
  // components a vector or nil. The result: a vector of [e a v tx added].
  virtual Value Datoms(const DbRef& db, const std::string& op, const Value& index,
                       const Value& components) = 0;
  virtual Value IndexRange(const DbRef& db, const Value& attr, const Value& start,
                           const Value& end) = 0;
  virtual Value Entity(const DbRef& db, const Value& eid) = 0;
  virtual Value Pull(const DbRef& db, const Value& pattern, const Value& eid) = 0;
  virtual Value PullMany(const DbRef& db, const Value& pattern, const Value& eids) = 0;
};

// The runner's main: parses the command line (--dir DIR [--expected-failures FILE] [--verbose]
// [--only ID]), runs every case through `backend`, prints the counts. Returns the exit code.
int RunMain(const char* program, int argc, char** argv, Backend& backend);

}  // namespace datahike::conformance
