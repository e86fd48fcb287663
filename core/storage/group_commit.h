// Group commit for log appends (internal to core/storage): appending threads queue up; the thread
// at the front becomes the leader, takes every queued record, assigns their sequence numbers in
// queue order, writes them with one call of the backend's write function (one write, at most one
// fsync) and wakes the followers it carried. While a leader writes, new arrivals queue behind it
// and form the next group, so under load one fsync serves many commits.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <string_view>
#include <vector>

namespace datahike::storage {

class GroupCommitLog {
 public:
  // write(records, first_seq, sync): appends records[i] as sequence number first_seq + i, all or
  // none, making them durable when `sync`. Called by one leader at a time, without the queue lock.
  // Throwing fails the whole group, and every later append (the log's tail is then unknown).
  using WriteFn = std::function<void(const std::vector<std::string_view>& records,
                                     uint64_t first_seq, bool sync)>;

  GroupCommitLog(uint64_t next_seq, WriteFn write)
      : next_seq_(next_seq), write_(std::move(write)) {}

  uint64_t Append(std::string_view record, bool sync) {
    Waiter w(record, sync);
    std::unique_lock<std::mutex> lock(mu_);
    queue_.push_back(&w);
    while (!w.done && queue_.front() != &w) w.cv.wait(lock);
    if (w.done) {
      if (w.error) std::rethrow_exception(w.error);
      return w.seq;
    }
    // The leader: carry everything queued so far (bounded, so one leader cannot starve).
    if (failed_) {
      std::exception_ptr err = failed_;
      queue_.pop_front();
      if (!queue_.empty()) queue_.front()->cv.notify_one();
      std::rethrow_exception(err);
    }
    std::vector<Waiter*> group;
    std::vector<std::string_view> records;
    bool any_sync = false;
    size_t bytes = 0;
    for (Waiter* q : queue_) {
      if (!group.empty() && bytes + q->record.size() > kMaxGroupBytes) break;
      group.push_back(q);
      records.push_back(q->record);
      any_sync = any_sync || q->sync;
      bytes += q->record.size();
    }
    const uint64_t first = next_seq_;
    std::exception_ptr error;
    lock.unlock();
    try {
      write_(records, first, any_sync);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    if (error) {
      failed_ = error;
    } else {
      next_seq_ = first + group.size();
    }
    for (size_t i = 0; i < group.size(); ++i) {
      Waiter* q = queue_.front();
      queue_.pop_front();
      q->seq = first + i;
      q->error = error;
      q->done = true;
      if (q != &w) q->cv.notify_one();
    }
    if (!queue_.empty()) queue_.front()->cv.notify_one();
    if (error) std::rethrow_exception(error);
    return w.seq;
  }

  // The sequence number the next append will get (once the group being written, if any, is done).
  uint64_t next_seq() {
    std::lock_guard<std::mutex> lock(mu_);
    return next_seq_;
  }

 private:
  static constexpr size_t kMaxGroupBytes = size_t{4} << 20;
  struct Waiter {
    Waiter(std::string_view r, bool s) : record(r), sync(s) {}
    std::string_view record;
    bool sync;
    uint64_t seq = 0;
    bool done = false;
    std::exception_ptr error;
    std::condition_variable cv;
  };

  std::mutex mu_;
  std::deque<Waiter*> queue_;
  uint64_t next_seq_;
  std::exception_ptr failed_;
  WriteFn write_;
};

}  // namespace datahike::storage
