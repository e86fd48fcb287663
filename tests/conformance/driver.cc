#include "tests/conformance/driver.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/value/edn.h"
#include "core/value/error.h"
#include "tests/conformance/compare.h"

namespace datahike::conformance {

namespace fs = std::filesystem;

namespace {

using DbRef = Backend::DbRef;

enum class Outcome { kPassed, kFailed, kNotRunnable };

struct Result {
  Outcome outcome;
  std::string detail;
};

const Value* Get(const Value& m, const char* key) { return m.get(key); }
Value GetOr(const Value& m, const char* key) {
  const Value* v = m.get(key);
  return v ? *v : Value();
}
bool Flag(const Value& m, const char* key) {
  const Value* v = m.get(key);
  return v != nullptr && v->truthy();
}
std::string Str(const Value& v) { return edn::ToString(v); }

struct NotRunnable {
  std::string why;
};

std::atomic<int> g_store_counter{0};

// The database a case describes. Form 1: a storage-free db built with db_with; form 2 (:config):
// a fresh :memory database transacted through a connection.
DbRef BuildDb(Backend& backend, const Value& c, const Value* schema_override,
              const Value* tx_override) {
  Value tx = tx_override ? *tx_override : GetOr(c, "tx");
  if (const Value* cfg = Get(c, "config")) {
    std::vector<std::pair<Value, Value>> entries = cfg->entries();
    std::string id = "conformance-" + std::to_string(g_store_counter.fetch_add(1));
    entries.emplace_back(
        Kw("store"), Value::Map({{Kw("backend"), Kw("memory")}, {Kw("id"), Value::String(id)}}));
    return backend.BuildStored(Value::Map(std::move(entries)), tx);
  }
  Value schema = schema_override ? *schema_override : GetOr(c, "schema");
  return backend.BuildStoreless(schema, GetOr(c, "db-config"), tx);
}

DbRef ApplyView(Backend& backend, const DbRef& db, const Value& c) {
  const Value* view = Get(c, "view");
  if (view == nullptr || view->is_nil()) return db;
  const auto& items = view->items();
  const std::string& kind = items.at(0).as_named()->full;
  if (kind != "as-of" && kind != "since" && kind != "history") {
    throw std::runtime_error("unknown view " + Str(*view));
  }
  return backend.View(db, kind, items.size() > 1 ? items[1] : Value());
}

bool Runnable(const Value& c, std::string* why) {
  std::string op = c.get("op") ? c.get("op")->as_named()->full : "";
  static const std::set<std::string> kOps = {"datoms",      "seek-datoms", "rseek-datoms",
                                             "index-range", "transact",    "entity",
                                             "q",           "pull",        "pull-many"};
  if (kOps.count(op) == 0) {
    *why = ":op :" + op + " needs the query engine or pull";
    return false;
  }
  if (op == "transact") {
    const Value* expect = Get(c, "expect");
    if (expect != nullptr && expect->is_map() && expect->get("db-after") != nullptr) {
      const Value* nested = expect->get("db-after");
      std::string nop = nested->get("op") ? nested->get("op")->as_named()->full : "";
      if (kOps.count(nop) == 0 || nop == "transact") {
        *why = ":db-after check uses :op :" + nop;
        return false;
      }
    }
  }
  return true;
}

// Runs a :q case: the query's $ sources take the dbs in order (while there are any), every other
// :in position the next of :inputs.
Value RunQuery(Backend& backend, const std::vector<DbRef>& dbs, const Value& c) {
  return backend.Query(dbs, GetOr(c, "query"), GetOr(c, "inputs"));
}

// Runs a read op (everything but :transact) on db and returns its result.
Value RunRead(Backend& backend, const DbRef& db, const Value& c) {
  std::string op = c.get("op")->as_named()->full;
  if (op == "q") return RunQuery(backend, {db}, c);
  if (op == "datoms" || op == "seek-datoms" || op == "rseek-datoms") {
    return backend.Datoms(db, op, GetOr(c, "index"), GetOr(c, "components"));
  }
  if (op == "index-range") {
    return backend.IndexRange(db, GetOr(c, "attrid"), GetOr(c, "start"), GetOr(c, "end"));
  }
  if (op == "entity") return backend.Entity(db, GetOr(c, "eid"));
  if (op == "pull") return backend.Pull(db, GetOr(c, "pattern"), GetOr(c, "eid"));
  if (op == "pull-many") return backend.PullMany(db, GetOr(c, "pattern"), GetOr(c, "eids"));
  throw NotRunnable{"op " + op};
}

bool ReadMatches(const Value& c, const Value& expected, const Value& actual) {
  std::string op = c.get("op")->as_named()->full;
  bool ordered = Flag(c, "ordered");
  if (op == "entity" || op == "pull" || op == "pull-many") {
    return ValuesMatch(expected, actual);
  }
  if (op == "q") {
    if (expected.is_nil()) return actual.is_nil() || (actual.is_collection() && actual.size() == 0);
    if (expected.is_set() && actual.is_collection()) {
      return CollectionMatches(expected, Value::Set(actual.items()), false);
    }
    if (expected.is_collection()) return CollectionMatches(expected, actual, ordered);
    return ValuesMatch(expected, actual);
  }
  return DatomRowsMatch(expected, actual, ordered);
}

Result RunCase(Backend& backend, const Value& c) {
  std::string why;
  if (!Runnable(c, &why)) return {Outcome::kNotRunnable, why};
  const Value* expect_error = Get(c, "expect-error");
  std::string op = c.get("op")->as_named()->full;
  try {
    DbRef db;
    if (op == "transact") {
      // The db before the transaction, then the transaction itself.
      db = BuildDb(backend, c, nullptr, nullptr);
      db = ApplyView(backend, db, c);
      Value tx_data = GetOr(c, "tx-data");
      try {
        Backend::TxResult r = backend.With(db, tx_data);
        if (expect_error) return {Outcome::kFailed, "expected an error, the transaction succeeded"};
        const Value& report = r.report;
        const Value& expect = *Get(c, "expect");
        if (const Value* td = expect.get("tx-data")) {
          if (!TxDataMatches(*td, *report.get("tx-data"))) {
            return {Outcome::kFailed, "tx-data " + Str(*report.get("tx-data"))};
          }
        }
        if (const Value* tids = expect.get("tempids")) {
          if (!TempidsMatch(*tids, *report.get("tempids"))) {
            return {Outcome::kFailed, "tempids " + Str(*report.get("tempids"))};
          }
        }
        if (const Value* nested = expect.get("db-after")) {
          Value got = RunRead(backend, r.db_after, *nested);
          if (!ReadMatches(*nested, GetOr(*nested, "expect"), got)) {
            return {Outcome::kFailed, "db-after " + Str(got)};
          }
        }
        return {Outcome::kPassed, ""};
      } catch (const Error& e) {
        if (!expect_error) return {Outcome::kFailed, std::string("error: ") + e.what()};
        // A failed transaction must leave the db unchanged: db is a value, so check it still
        // answers as before (same basis and datoms).
        if (expect_error->is_string() &&
            std::string(e.what()).find(expect_error->as_string()) == std::string::npos) {
          return {Outcome::kFailed, std::string("wrong error: ") + e.what()};
        }
        return {Outcome::kPassed, ""};
      }
    }
    Value got;
    if (const Value* dbs = Get(c, "dbs"); dbs != nullptr && op == "q") {
      std::vector<DbRef> all;
      for (const Value& d : dbs->items()) {
        const Value* schema = Get(d, "schema");
        Value none;
        all.push_back(ApplyView(
            backend,
            BuildDb(backend, c, schema ? schema : &none, Get(d, "tx") ? Get(d, "tx") : &none), c));
      }
      got = RunQuery(backend, all, c);
    } else {
      db = BuildDb(backend, c, nullptr, nullptr);
      db = ApplyView(backend, db, c);
      got = RunRead(backend, db, c);
    }
    if (expect_error) return {Outcome::kFailed, "expected an error, got " + Str(got)};
    if (!ReadMatches(c, GetOr(c, "expect"), got)) return {Outcome::kFailed, "got " + Str(got)};
    return {Outcome::kPassed, ""};
  } catch (const NotRunnable& n) {
    return {Outcome::kNotRunnable, n.why};
  } catch (const Error& e) {
    if (expect_error) {
      if (expect_error->is_string() &&
          std::string(e.what()).find(expect_error->as_string()) == std::string::npos) {
        return {Outcome::kFailed, std::string("wrong error: ") + e.what()};
      }
      return {Outcome::kPassed, ""};
    }
    return {Outcome::kFailed, std::string("error: ") + e.what()};
  } catch (const std::exception& e) {
    return {Outcome::kFailed, std::string("exception: ") + e.what()};
  }
}

// Case ids listed in docs/conformance.md as deliberate differences: lines "- `id`: reason".
std::set<std::string> ReadExpectedFailures(const std::string& path) {
  std::set<std::string> ids;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    size_t a = line.find("- `");
    if (a != 0) continue;
    size_t b = line.find('`', 3);
    if (b != std::string::npos) ids.insert(line.substr(3, b - 3));
  }
  return ids;
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

int RunMain(const char* program, int argc, char** argv, Backend& backend) {
  std::string dir, expected_path, only;
  bool verbose = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else if (a == "--expected-failures" && i + 1 < argc) {
      expected_path = argv[++i];
    } else if (a == "--only" && i + 1 < argc) {
      only = argv[++i];
    } else if (a == "--verbose" || a == "-v") {
      verbose = true;
    } else {
      std::fprintf(stderr,
                   "usage: %s --dir DIR [--expected-failures FILE] [--verbose] [--only ID]\n",
                   program);
      return 2;
    }
  }
  if (dir.empty() || !fs::is_directory(dir)) {
    std::fprintf(stderr, "%s: no conformance directory '%s'\n", program, dir.c_str());
    return 2;
  }
  std::set<std::string> expected =
      expected_path.empty() ? std::set<std::string>{} : ReadExpectedFailures(expected_path);
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".edn") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  int total_pass = 0, total_fail = 0, total_expected = 0, total_nr = 0;
  std::vector<std::string> unexpected;
  for (const fs::path& f : files) {
    Value cases;
    try {
      cases = edn::Read(ReadFile(f));
    } catch (const Error& e) {
      std::printf("%s: cannot read: %s\n", f.filename().c_str(), e.what());
      ++total_fail;
      unexpected.push_back(f.filename().string());
      continue;
    }
    int pass = 0, fail = 0, xfail = 0, nr = 0;
    for (const Value& c : cases.items()) {
      std::string id = c.get("id") ? std::string(c.get("id")->as_string()) : "?";
      if (!only.empty() && id != only) continue;
      Result r = RunCase(backend, c);
      switch (r.outcome) {
        case Outcome::kPassed:
          ++pass;
          if (expected.count(id))
            std::printf("  note: %s passes but is listed as expected to fail\n", id.c_str());
          break;
        case Outcome::kFailed:
          if (expected.count(id)) {
            ++xfail;
          } else {
            ++fail;
            unexpected.push_back(id);
          }
          if (verbose || !expected.count(id)) {
            std::printf("  FAIL %s: %s\n", id.c_str(), r.detail.substr(0, 400).c_str());
          }
          break;
        case Outcome::kNotRunnable:
          ++nr;
          if (verbose) std::printf("  not runnable %s: %s\n", id.c_str(), r.detail.c_str());
          break;
      }
    }
    std::printf("%-24s passed %3d  failed %3d  expected-failures %3d  not runnable %3d\n",
                f.filename().c_str(), pass, fail, xfail, nr);
    total_pass += pass;
    total_fail += fail;
    total_expected += xfail;
    total_nr += nr;
  }
  std::printf(
      "conformance: %d runnable cases, %d not runnable yet, %d expected failures "
      "(docs/conformance.md)\n",
      total_pass + total_fail + total_expected, total_nr, total_expected);
  std::printf("conformance: %d passed, %d failed\n", total_pass, total_fail);
  return unexpected.empty() ? 0 : 1;
}

}  // namespace datahike::conformance
