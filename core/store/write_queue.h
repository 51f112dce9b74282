// The parts of group commit both stores share (lmdb_store.cc, pg_store.cc): a queued
// write call, running a write function, answering queued calls, and gathering the
// calls that queue while a batch runs. Private to core/store.
//
// Thread-safety: a WriteRequest is guarded by its store's queue mutex until answered;
// GatherCalls takes that mutex itself.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "store/store.h"
#include "util/thread_name.h"

namespace trashd {

// One queued call: a Write() waiting on its caller's stack (fn points at the
// caller's function), or a WriteAsync() call owned by the queue (owned: fn points at
// own_fn, and done answers it).
struct WriteRequest {
  explicit WriteRequest(const std::function<Status(WriteTxn&)>* f) : fn(f) {}
  const std::function<Status(WriteTxn&)>* fn;
  bool owned = false;
  std::function<Status(WriteTxn&)> own_fn;
  std::function<void(Status)> done_fn;
  // Written by the leader; read by the caller once it sees `done` under the queue's
  // mutex.
  Status status;
  std::vector<std::function<void()>> on_commit;
  bool done = false;
  // Runs in a nested transaction (LMDB) or a savepoint (PostgreSQL): it refused after
  // changing something the batch cannot take back alone.
  bool nested = false;
  // Answered already: a storage error, so later attempts leave it out.
  bool settled = false;
  std::condition_variable wake;
};

// A WriteAsync() call's request.
inline std::unique_ptr<WriteRequest> QueuedCall(std::function<Status(WriteTxn&)> fn,
                                                std::function<void(Status)> done) {
  auto request = std::make_unique<WriteRequest>(nullptr);
  request->own_fn = std::move(fn);
  request->fn = &request->own_fn;
  request->done_fn = std::move(done);
  request->owned = true;
  return request;
}

// Runs a write function: its own status, else the storage error its transaction hit.
// An exception is refused here, as the function's caller may be another thread.
inline Status RunWriteFn(const std::function<Status(WriteTxn&)>& fn, WriteTxn& txn) {
  Status s;
  try {
    s = fn(txn);
  } catch (const std::exception& e) {
    return Internal(std::string("the write failed: ") + e.what());
  } catch (...) {
    return Internal("the write failed with an unknown exception");
  }
  if (s.ok() && !txn.status().ok()) s = txn.status();
  return s;
}

// Readies the calls of `batch` not answered yet for an attempt; returns how many.
inline size_t ResetLiveCalls(const std::vector<WriteRequest*>& batch) {
  size_t live = 0;
  for (WriteRequest* r : batch) {
    if (r->settled) continue;
    r->status = Status::Ok();
    r->on_commit.clear();
    ++live;
  }
  return live;
}

// Answers every call of `batch` not answered yet with `status`.
inline void AnswerLiveCalls(const std::vector<WriteRequest*>& batch,
                            const Status& status) {
  for (WriteRequest* r : batch) {
    if (r->settled) continue;
    r->status = status;
    r->on_commit.clear();
  }
}

// Answers WriteAsync() calls whose outcome is final, deleting each: its OnCommit
// callbacks if it committed, then done.
inline void AnswerQueuedCalls(const std::vector<WriteRequest*>& owned) {
  for (WriteRequest* r : owned) {
    std::unique_ptr<WriteRequest> request(r);
    if (r->status.ok()) {
      for (auto& f : r->on_commit) {
        try {
          f();
        } catch (...) {  // the write is durable whatever a callback does
        }
      }
    }
    try {
      r->done_fn(r->status);
    } catch (...) {  // done must not throw; nothing sensible to do if it does
    }
  }
}

// Answers WriteAsync() calls on a thread of its own, batch after batch in the order
// handed over, so that a store can start its next batch while the calls of the last
// one hear of theirs (their completions build and send replies, and may take long).
// A call's OnCommit callbacks still run before its done.
//
// Thread-safety: Answer and Drained are called holding the store's queue mutex (in
// their `lock`), by whoever leads batches; Stop once, after the store's writer.
class CallAnswerer {
 public:
  ~CallAnswerer() { Stop(); }
  // Starts the thread. Without it (it could not start), Answer answers where called.
  void Start(const std::string& name) {
    try {
      thread_ = std::thread([this] { Loop(); });
      NameThread(thread_, name);
    } catch (const std::system_error&) {  // no thread: answered where called
    }
  }
  // Hands `owned` over, with the store's queue mutex held in `lock` (so that batches
  // go in the order they committed); when it cannot, answers them here, without the
  // lock, once those handed over before are.
  void Answer(std::vector<WriteRequest*>& owned, std::unique_lock<std::mutex>& lock) {
    if (owned.empty() || Post(owned)) return;
    lock.unlock();
    Idle();
    AnswerQueuedCalls(owned);
    lock.lock();
  }
  // For a writer that found `queue` empty while stopping: waits without `lock` until
  // every call handed over is answered, since their completions may queue more. True
  // when none did: the writer may stop.
  bool Drained(std::unique_lock<std::mutex>& lock,
               const std::deque<WriteRequest*>& queue) {
    lock.unlock();
    Idle();
    lock.lock();
    return queue.empty();
  }
  // Answers what was handed over, then ends the thread.
  void Stop() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }

 private:
  // Hands `owned` over to be answered (AnswerQueuedCalls), after what was handed over
  // before. False when it could not (no thread, out of memory).
  bool Post(std::vector<WriteRequest*>& owned) {
    if (!thread_.joinable()) return false;
    try {
      std::lock_guard lock(mu_);
      todo_.push_back(std::move(owned));
      wake_.notify_one();
      return true;
    } catch (...) {  // nothing was handed over
      return false;
    }
  }
  // Waits until every call handed over is answered.
  void Idle() {
    std::unique_lock lock(mu_);
    idle_.wait(lock, [&] { return todo_.empty() && !answering_; });
  }
  void Loop() {
    std::unique_lock lock(mu_);
    for (;;) {
      wake_.wait(lock, [&] { return stopping_ || !todo_.empty(); });
      if (todo_.empty()) return;
      std::vector<WriteRequest*> owned = std::move(todo_.front());
      todo_.pop_front();
      answering_ = true;
      lock.unlock();
      AnswerQueuedCalls(owned);
      lock.lock();
      answering_ = false;
      if (todo_.empty()) idle_.notify_all();
    }
  }

  std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::deque<std::vector<WriteRequest*>> todo_;  // (mu_)
  bool answering_ = false;                       // (mu_)
  bool stopping_ = false;                        // (mu_)
  std::thread thread_;
};

// What a store's queue is, for GatherCalls (every field guarded by `mu`).
struct WriteQueueView {
  std::mutex& mu;
  std::deque<WriteRequest*>& queue;  // the batch is its front
  const bool& stopping;
  bool& gathering;  // set while waiting, so that a call that queues wakes `wake`
  std::condition_variable& wake;
};

// Adds to `batch` the calls queued behind it, waiting up to `gap` (but not past
// `until`) for one to queue. False when none came or the batch holds `max_batch`.
inline bool GatherCalls(WriteQueueView q, std::vector<WriteRequest*>& batch,
                        size_t max_batch, std::chrono::microseconds gap,
                        std::chrono::steady_clock::time_point until) {
  const auto now = std::chrono::steady_clock::now();
  if (now >= until) return false;  // open long enough: what queued waits for the next
  std::unique_lock lock(q.mu);
  auto queued_behind = [&] { return q.queue.size() > batch.size(); };
  if (!queued_behind() && !q.stopping && batch.size() < max_batch) {
    q.gathering = true;
    q.wake.wait_until(lock, std::min(until, now + gap),
                      [&] { return queued_behind() || q.stopping; });
    q.gathering = false;
    if (std::chrono::steady_clock::now() >= until) return false;
  }
  const size_t from = batch.size();
  const size_t to = std::min(q.queue.size(), max_batch);
  for (size_t i = from; i < to; ++i) {
    q.queue[i]->settled = false;
    batch.push_back(q.queue[i]);
  }
  return to > from;
}

// Stops a store's writer thread, once it has run every call still queued.
inline void StopWriter(std::mutex& mu, bool& stopping,
                       std::condition_variable& writer_wake,
                       std::condition_variable& gather_wake, std::thread& writer) {
  if (!writer.joinable()) return;
  {
    std::lock_guard lock(mu);
    stopping = true;
  }
  writer_wake.notify_one();
  gather_wake.notify_one();
  writer.join();
}

}  // namespace trashd
