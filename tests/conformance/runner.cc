// Runs the shared conformance cases (../shared/conformance/*.edn, format in its README) against the
// engine and prints, per file, how many passed, failed and are not runnable yet. A case is "not
// runnable" when it needs a part of the engine that does not exist yet (the query engine, pull);
// such cases are never counted as passed. Failures listed in docs/conformance.md (a line
// "- `case-id`: reason") are expected; any other failure makes the run exit 1.
//
// Usage: conformance_runner --dir DIR [--expected-failures FILE] [--verbose] [--only ID]

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/api/connection.h"
#include "core/db/db.h"
#include "core/pull/entity.h"
#include "core/tx/transact.h"
#include "core/value/edn.h"
#include "core/value/error.h"
#include "tests/conformance/compare.h"

namespace fs = std::filesystem;
using namespace datahike;  // a test driver: brevity over qualification

namespace {

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

// The database a case describes, with its view applied. Form 1: a storage-free db built with
// db_with; form 2 (:config): a fresh :memory database transacted through a connection.
DbPtr BuildDb(const Value& c, const Value* schema_override, const Value* tx_override) {
  Value tx = tx_override ? *tx_override : GetOr(c, "tx");
  if (const Value* cfg = Get(c, "config")) {
    std::vector<std::pair<Value, Value>> entries = cfg->entries();
    std::string id = "conformance-" + std::to_string(g_store_counter.fetch_add(1));
    entries.emplace_back(Kw("store"), Value::Map({{Kw("backend"), Kw("memory")},
                                                  {Kw("id"), Value::String(id)}}));
    Value config = Value::Map(std::move(entries));
    api::CreateDatabase(config);
    auto conn = api::Connection::Connect(config);
    if (tx.is_collection()) {
      for (const Value& t : tx.items()) conn->Transact(t);
    }
    DbPtr db = conn->Db();
    conn->Release();
    api::DeleteDatabase(config);
    return db;
  }
  Value schema = schema_override ? *schema_override : GetOr(c, "schema");
  DbPtr db = Db::Empty(Config::Storeless(GetOr(c, "db-config")), schema, true);
  if (tx.is_collection()) {
    for (const Value& t : tx.items()) db = Transact(db, t, Value(), NowMillis()).db_after;
  }
  return db;
}

DbPtr ApplyView(const DbPtr& db, const Value& c) {
  const Value* view = Get(c, "view");
  if (view == nullptr || view->is_nil()) return db;
  const auto& items = view->items();
  const std::string& kind = items.at(0).as_named()->full;
  if (kind == "as-of") return db->AsOf(items.at(1));
  if (kind == "since") return db->Since(items.at(1));
  if (kind == "history") return db->History();
  throw std::runtime_error("unknown view " + Str(*view));
}

IndexOrder ParseIndex(const Value& v) {
  std::string s = v.is_keyword() ? v.as_named()->full : "";
  if (s == "eavt") return IndexOrder::kEavt;
  if (s == "aevt") return IndexOrder::kAevt;
  if (s == "avet") return IndexOrder::kAvet;
  throw Error(ErrorKind::kMisuse, "unknown index " + Str(v));
}

Value DatomsToValue(const std::vector<Datom>& ds) {
  std::vector<Value> out;
  out.reserve(ds.size());
  for (const Datom& d : ds) out.push_back(DatomToValue(d));
  return Value::Vector(std::move(out));
}

bool Runnable(const Value& c, std::string* why) {
  std::string op = c.get("op") ? c.get("op")->as_named()->full : "";
  static const std::set<std::string> kOps = {"datoms", "seek-datoms", "rseek-datoms",
                                             "index-range", "transact", "entity"};
  if (kOps.count(op) == 0) {
    *why = ":op :" + op + " needs the query engine or pull";
    return false;
  }
  if (Get(c, "dbs") != nullptr) {
    *why = "several databases need the query engine";
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

// Runs a read op (everything but :transact) on db and returns its result.
Value RunRead(const DbPtr& db, const Value& c) {
  std::string op = c.get("op")->as_named()->full;
  if (op == "datoms" || op == "seek-datoms" || op == "rseek-datoms") {
    IndexOrder order = ParseIndex(GetOr(c, "index"));
    Value comps = GetOr(c, "components");
    std::vector<Value> cs = comps.is_collection() ? comps.items() : std::vector<Value>{};
    if (op == "datoms") return DatomsToValue(db->Datoms(order, cs));
    if (op == "seek-datoms") return DatomsToValue(db->SeekDatoms(order, cs));
    return DatomsToValue(db->RSeekDatoms(order, cs));
  }
  if (op == "index-range") {
    return DatomsToValue(db->IndexRange(GetOr(c, "attrid"), GetOr(c, "start"), GetOr(c, "end")));
  }
  if (op == "entity") return EntityMap(*db, GetOr(c, "eid"));
  throw NotRunnable{"op " + op};
}

bool ReadMatches(const Value& c, const Value& expected, const Value& actual) {
  std::string op = c.get("op")->as_named()->full;
  bool ordered = Flag(c, "ordered");
  if (op == "entity") return conformance::ValuesMatch(expected, actual);
  return conformance::DatomRowsMatch(expected, actual, ordered);
}

Result RunCase(const Value& c) {
  std::string why;
  if (!Runnable(c, &why)) return {Outcome::kNotRunnable, why};
  const Value* expect_error = Get(c, "expect-error");
  std::string op = c.get("op")->as_named()->full;
  try {
    DbPtr db;
    if (op == "transact") {
      // The db before the transaction, then the transaction itself.
      db = BuildDb(c, nullptr, nullptr);
      db = ApplyView(db, c);
      Value tx_data = GetOr(c, "tx-data");
      try {
        TxReport r = Transact(db, tx_data, Value(), NowMillis());
        if (expect_error) return {Outcome::kFailed, "expected an error, the transaction succeeded"};
        Value report = ReportToValue(r);
        const Value& expect = *Get(c, "expect");
        if (const Value* td = expect.get("tx-data")) {
          if (!conformance::TxDataMatches(*td, *report.get("tx-data"))) {
            return {Outcome::kFailed, "tx-data " + Str(*report.get("tx-data"))};
          }
        }
        if (const Value* tids = expect.get("tempids")) {
          if (!conformance::TempidsMatch(*tids, *report.get("tempids"))) {
            return {Outcome::kFailed, "tempids " + Str(*report.get("tempids"))};
          }
        }
        if (const Value* nested = expect.get("db-after")) {
          Value got = RunRead(r.db_after, *nested);
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
    db = BuildDb(c, nullptr, nullptr);
    db = ApplyView(db, c);
    Value got = RunRead(db, c);
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

int main(int argc, char** argv) {
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
      std::fprintf(stderr, "usage: conformance_runner --dir DIR [--expected-failures FILE] "
                           "[--verbose] [--only ID]\n");
      return 2;
    }
  }
  if (dir.empty() || !fs::is_directory(dir)) {
    std::fprintf(stderr, "conformance_runner: no conformance directory '%s'\n", dir.c_str());
    return 2;
  }
  std::set<std::string> expected = expected_path.empty() ? std::set<std::string>{}
                                                         : ReadExpectedFailures(expected_path);
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
      Result r = RunCase(c);
      switch (r.outcome) {
        case Outcome::kPassed:
          ++pass;
          if (expected.count(id)) std::printf("  note: %s passes but is listed as expected to fail\n", id.c_str());
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
  std::printf("conformance: %d runnable cases, %d not runnable yet, %d expected failures "
              "(docs/conformance.md)\n",
              total_pass + total_fail + total_expected, total_nr, total_expected);
  std::printf("conformance: %d passed, %d failed\n", total_pass, total_fail);
  return unexpected.empty() ? 0 : 1;
}
