#include "core/durable/durable_db.h"

#include <algorithm>
#include <utility>

#include "core/storage/error_codes.h"
#include "core/value/error.h"

namespace datahike::durable {

namespace {

constexpr uint64_t kRecordVersion = 1;
constexpr uint64_t kRootVersion = 1;
constexpr const char* kBranch = "db";
// Node ids reserved from the store at a time (unused ones are simply never used).
constexpr uint64_t kIdBatch = 1024;

storage::StoreConfig StoreConfigOf(const Config& c) {
  return storage::StoreConfig::FromValue(c.store);
}

void PutKey(storage::BlobWriter& w, const CommitKey& k) { w.PutBytes(k); }
CommitKey GetKey(storage::BlobReader& r) {
  std::string_view b = r.GetBytes();
  if (b.size() != 16) storage::ThrowCorrupt("A stored commit id is not 16 bytes.");
  return CommitKey(b);
}

// ---- root record ---------------------------------------------------------------------------------
struct RootRecord {
  std::string branch;
  CommitKey commit;
  std::vector<CommitKey> parents;
  uint64_t roots[6] = {0, 0, 0, 0, 0, 0};  // current EAVT AEVT AVET, temporal EAVT AEVT AVET
  int64_t max_eid = 0;
  int64_t max_tx = kTx0;
  uint64_t covered_seq = 0;
  bool keep_history = true;
  bool schema_on_read = false;
};

std::string EncodeRoot(const RootRecord& r) {
  storage::BlobWriter w(storage::BlobKind::kRoot);
  w.PutVarint(kRootVersion);
  w.PutBytes(r.branch);
  PutKey(w, r.commit);
  w.PutVarint(r.parents.size());
  for (const CommitKey& p : r.parents) PutKey(w, p);
  for (uint64_t id : r.roots) w.PutVarint(id);
  w.PutSigned(r.max_eid);
  w.PutSigned(r.max_tx);
  w.PutVarint(r.covered_seq);
  w.PutVarint(r.keep_history ? 1 : 0);
  w.PutVarint(r.schema_on_read ? 1 : 0);
  return w.Finish();
}

RootRecord DecodeRoot(std::string_view blob) {
  storage::BlobReader r(blob, storage::BlobKind::kRoot);
  if (uint64_t v = r.GetVarint(); v != kRootVersion) {
    storage::ThrowStorageError(ErrorKind::kStorage, "storage/unsupported-format",
                               "The database's root record has version " + std::to_string(v) +
                                   "; this build reads version 1.");
  }
  RootRecord out;
  out.branch = std::string(r.GetBytes());
  out.commit = GetKey(r);
  const uint64_t n = r.GetVarint();
  if (n > 1024) storage::ThrowCorrupt("The root record has an implausible parent count.");
  for (uint64_t i = 0; i < n; ++i) out.parents.push_back(GetKey(r));
  for (uint64_t& id : out.roots) id = r.GetVarint();
  out.max_eid = r.GetSigned();
  out.max_tx = r.GetSigned();
  out.covered_seq = r.GetVarint();
  out.keep_history = r.GetVarint() != 0;
  out.schema_on_read = r.GetVarint() != 0;
  r.ExpectDone();
  return out;
}

// ---- log record ----------------------------------------------------------------------------------
std::string EncodeTx(const TxReport& report, const CommitKey& commit,
                     const std::vector<CommitKey>& parents) {
  storage::BlobWriter w(storage::BlobKind::kTxRecord);
  w.PutVarint(kRecordVersion);
  w.PutSigned(report.db_after->max_tx());
  w.PutSigned(report.db_after->max_eid());
  PutKey(w, commit);
  w.PutVarint(parents.size());
  for (const CommitKey& p : parents) PutKey(w, p);
  w.PutDatoms(report.tx_data);
  w.PutVarint(report.purges.size());
  if (!report.purges.empty()) {
    std::vector<Datom> ds;
    for (const PurgeOp& p : report.purges) {
      w.PutVarint(p.at);
      w.PutVarint(p.history_only ? 1 : 0);
      ds.push_back(p.d);
    }
    w.PutDatoms(ds);
  }
  return w.Finish();
}

struct TxRecord {
  TxEffects effects;
  CommitKey commit;
  std::vector<CommitKey> parents;
};

TxRecord DecodeTx(std::string_view blob) {
  storage::BlobReader r(blob, storage::BlobKind::kTxRecord);
  if (uint64_t v = r.GetVarint(); v != kRecordVersion) {
    storage::ThrowStorageError(ErrorKind::kStorage, "storage/unsupported-format",
                               "A log record has version " + std::to_string(v) +
                                   "; this build reads version 1.");
  }
  TxRecord out;
  out.effects.tx = r.GetSigned();
  out.effects.max_eid = r.GetSigned();
  out.commit = GetKey(r);
  const uint64_t n = r.GetVarint();
  if (n > 1024) storage::ThrowCorrupt("A log record has an implausible parent count.");
  for (uint64_t i = 0; i < n; ++i) out.parents.push_back(GetKey(r));
  out.effects.tx_data = r.GetDatoms();
  const uint64_t purges = r.GetVarint();
  if (purges > blob.size()) storage::ThrowCorrupt("A log record has an implausible purge count.");
  if (purges > 0) {
    std::vector<std::pair<uint64_t, bool>> heads;
    for (uint64_t i = 0; i < purges; ++i) {
      uint64_t at = r.GetVarint();
      heads.emplace_back(at, r.GetVarint() != 0);
    }
    std::vector<Datom> ds = r.GetDatoms();
    if (ds.size() != purges) storage::ThrowCorrupt("A log record's purges do not add up.");
    for (uint64_t i = 0; i < purges; ++i) {
      out.effects.purges.push_back(
          PurgeOp{static_cast<size_t>(heads[i].first), ds[i], heads[i].second});
    }
  }
  r.ExpectDone();
  return out;
}

template <class Less>
LazyIndex<Less> OpenIndex(uint64_t root, const std::shared_ptr<StoreHandle>& handle) {
  auto source = std::make_shared<StoreNodeSource<Less>>(handle);
  return LazyIndex<Less>(DatomTree<Less>::Open(root, std::move(source)));
}

}  // namespace

DurableDb::DurableDb(const Config& config, std::shared_ptr<storage::Store> store)
    : config_(config),
      store_(std::move(store)),
      handle_(std::make_shared<StoreHandle>(store_, StoreConfigOf(config))) {}

DurableDb::~DurableDb() { Abandon(); }

std::unique_ptr<DurableDb> DurableDb::Create(const Config& config, const DbPtr& first,
                                             const CommitKey& commit) {
  storage::StoreConfig sc = StoreConfigOf(config);
  std::shared_ptr<storage::Store> store = storage::Open(sc, storage::OpenMode::kWriter);
  if (store->GetRoot(kBranch).has_value()) {
    throw Error(ErrorKind::kConflict, "Database already exists.",
                Value::Map({{Kw("store"), config.store}}));
  }
  std::unique_ptr<DurableDb> d(new DurableDb(config, std::move(store)));
  d->last_seq_ = d->store_->NextLogSeq() - 1;
  d->Flush(Head{first, commit, {}});
  return d;
}

std::unique_ptr<DurableDb> DurableDb::Open(const Config& config, Head* head) {
  storage::StoreConfig sc = StoreConfigOf(config);
  if (!storage::Exists(sc)) {
    throw Error(ErrorKind::kNotFound, "Database does not exist.",
                Value::Map({{Kw("store"), config.store}}));
  }
  std::shared_ptr<storage::Store> store = storage::Open(sc, storage::OpenMode::kWriter);
  std::optional<std::string> root_blob = store->GetRoot(kBranch);
  if (!root_blob) {
    throw Error(ErrorKind::kNotFound, "Database does not exist (the store holds no :db root).",
                Value::Map({{Kw("store"), config.store}}));
  }
  RootRecord root = DecodeRoot(*root_blob);
  Config c = config;
  c.keep_history = root.keep_history;
  c.schema_on_read = root.schema_on_read;
  std::unique_ptr<DurableDb> d(new DurableDb(c, std::move(store)));
  const auto& h = d->handle_;
  IndexSet current{OpenIndex<EavtLess>(root.roots[0], h), OpenIndex<AevtLess>(root.roots[1], h),
                   OpenIndex<AvetLess>(root.roots[2], h)};
  IndexSet temporal{OpenIndex<EavtLess>(root.roots[3], h), OpenIndex<AevtLess>(root.roots[4], h),
                    OpenIndex<AvetLess>(root.roots[5], h)};
  head->db = Restore(c, std::move(current), std::move(temporal), root.max_eid, root.max_tx);
  head->commit = root.commit;
  head->parents = root.parents;
  d->covered_seq_ = d->last_seq_ = root.covered_seq;
  d->store_->ReadLog(root.covered_seq + 1, [&](uint64_t seq, std::string_view rec) {
    TxRecord tx = DecodeTx(rec);
    head->db = Replay(head->db, tx.effects);
    head->commit = std::move(tx.commit);
    head->parents = std::move(tx.parents);
    d->last_seq_ = seq;
    ++d->unflushed_;
    return true;
  });
  d->appended_ = d->synced_ = d->last_seq_;
  return d;
}

bool DurableDb::Exists(const Config& config) {
  storage::StoreConfig sc = StoreConfigOf(config);
  if (!storage::Exists(sc)) return false;
  try {
    std::unique_ptr<storage::Store> store = storage::Open(sc, storage::OpenMode::kWriter);
    return store->GetRoot(kBranch).has_value();
  } catch (const Error& e) {
    if (storage::StorageErrorCode(e) == "storage/locked") return true;
    throw;
  }
}

void DurableDb::Destroy(const Config& config) { storage::Destroy(StoreConfigOf(config)); }

void DurableDb::CheckUsable() const {
  if (store_ == nullptr) throw Error(ErrorKind::kMisuse, "The durable database is closed.");
  if (failed_) {
    throw Error(ErrorKind::kStorage,
                "An earlier index flush of this database failed; reconnect to recover from its "
                "log.",
                Value::Map({{Kw("error"), Kw("storage/io")}}));
  }
}

uint64_t DurableDb::Append(const TxReport& report, const CommitKey& commit,
                           const std::vector<CommitKey>& parents) {
  CheckUsable();
  const std::string record = EncodeTx(report, commit, parents);
  const uint64_t seq = store_->AppendLog(record, false);
  last_seq_ = seq;
  std::lock_guard<std::mutex> lock(sync_mu_);
  appended_ = seq;
  return seq;
}

void DurableDb::WaitDurable(uint64_t seq) {
  if (!config_.sync) return;
  std::unique_lock<std::mutex> lock(sync_mu_);
  while (synced_ < seq) {
    if (sync_error_) std::rethrow_exception(sync_error_);
    if (syncing_) {
      sync_cv_.wait(lock);
      continue;
    }
    // The leader: one fsync covers every record appended so far.
    syncing_ = true;
    const uint64_t target = appended_;
    std::shared_ptr<storage::Store> store = store_;  // Abandon waits for syncing_ to clear
    lock.unlock();
    std::exception_ptr error;
    try {
      if (store == nullptr) throw Error(ErrorKind::kMisuse, "The durable database is closed.");
      store->Sync();
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    syncing_ = false;
    if (error) {
      sync_error_ = error;  // the log's durable state is unknown: refuse to acknowledge more
    } else {
      synced_ = std::max(synced_, target);
    }
    sync_cv_.notify_all();
  }
}

uint64_t DurableDb::NextNodeId() {
  if (next_id_ == id_end_) {
    next_id_ = store_->AllocateNodeIds(kIdBatch);
    id_end_ = next_id_ + kIdBatch;
  }
  return next_id_++;
}

void DurableDb::AfterCommit(const Head& head) {
  if (++unflushed_ >= config_.flush_every) Flush(head);
}

void DurableDb::Flush(const Head& head) {
  CheckUsable();
  std::vector<std::string> blobs;
  std::vector<uint64_t> ids;
  auto flush = [&]<class Less>(const LazyIndex<Less>& lazy) -> uint64_t {
    const DatomTree<Less>& tree = lazy.tree();
    tree.AssignAddresses([&](const typename DatomTree<Less>::Node& n) {
      const uint64_t id = NextNodeId();
      blobs.push_back(EncodeNode<Less>(n));
      ids.push_back(id);
      return id;
    });
    return tree.root_address();
  };
  RootRecord root;
  try {
    const Db& db = *head.db;
    root.roots[0] = flush(db.current().eavt);
    root.roots[1] = flush(db.current().aevt);
    root.roots[2] = flush(db.current().avet);
    root.roots[3] = flush(db.temporal().eavt);
    root.roots[4] = flush(db.temporal().aevt);
    root.roots[5] = flush(db.temporal().avet);
    constexpr size_t kBatch = 512;
    for (size_t i = 0; i < blobs.size(); i += kBatch) {
      std::vector<storage::NodeWrite> writes;
      for (size_t j = i; j < std::min(blobs.size(), i + kBatch); ++j) {
        writes.push_back(storage::NodeWrite{ids[j], blobs[j]});
      }
      store_->PutNodes(writes);
    }
    root.branch = kBranch;
    root.commit = head.commit;
    root.parents = head.parents;
    root.max_eid = db.max_eid();
    root.max_tx = db.max_tx();
    root.covered_seq = last_seq_;
    root.keep_history = db.config().keep_history;
    root.schema_on_read = db.config().schema_on_read;
    // Always synced: the log is truncated next, so the root must be durable first whatever :sync?
    // says (a lost root over a truncated log would lose transactions).
    store_->SetRoot(kBranch, EncodeRoot(root), true);
  } catch (...) {
    // Nodes may carry ids that were never stored: no root may reference them from now on.
    failed_ = std::current_exception();
    throw;
  }
  covered_seq_ = last_seq_;
  unflushed_ = 0;
  {
    std::lock_guard<std::mutex> lock(sync_mu_);
    synced_ = std::max(synced_, covered_seq_);
  }
  sync_cv_.notify_all();
  store_->TruncateLogBefore(covered_seq_ + 1);
}

void DurableDb::Close(const Head& head) {
  if (store_ == nullptr) return;
  std::exception_ptr error;
  try {
    if (unflushed_ > 0 && !failed_) Flush(head);
  } catch (...) {
    error = std::current_exception();
  }
  Abandon();
  if (error) std::rethrow_exception(error);
}

void DurableDb::Abandon() {
  if (store_ == nullptr) return;
  std::shared_ptr<storage::Store> store;
  {
    std::unique_lock<std::mutex> lock(sync_mu_);
    sync_cv_.wait(lock, [this] { return !syncing_; });
    store = std::move(store_);
  }
  store.reset();
  handle_->Close();  // the last reference: the store closes and its lock is released
}

}  // namespace datahike::durable
