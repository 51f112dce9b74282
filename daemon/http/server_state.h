// Private to the HTTP server (server.cc, connection.cc): the state the server, its
// listeners and their connections share — counters, the registry of live connections
// that Stop walks, the count of handlers running off the event loop, and the queue
// that carries their answers back to the event loop. No Beast here; of Asio only the
// executor type, so including this costs little.
//
// Ownership: HttpServer::Impl owns the one ServerState and outlives every listener and
// connection that points at it. A ListenerConfig is owned jointly by its listener and
// that listener's connections.
//
// Thread-safety: every ServerState method may be called from any thread (counters are
// atomic, the rest is under its mutexes), except that `access_log`, `pool` and `ioc`
// are set before Start and only read after.
#pragma once

#include <array>
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "http/server.h"

namespace boost::asio {
class io_context;
class thread_pool;
}  // namespace boost::asio

namespace trashd::http_internal {

// A connection as the server's Stop sees it.
class ConnectionBase {
 public:
  virtual ~ConnectionBase() = default;
  // Both may be called from any thread; they post to the connection's strand.
  // RequestStop closes the connection if no request has begun; otherwise it closes
  // after answering the request under way. ForceClose closes it now.
  virtual void RequestStop() = 0;
  virtual void ForceClose() = 0;
};

struct ServerState {
  std::atomic<uint64_t> requests_total{0};
  std::array<std::atomic<uint64_t>, 5> responses_by_class{};  // 1xx .. 5xx
  std::atomic<uint64_t> connections_accepted{0};
  std::atomic<uint64_t> connections_refused{0};
  std::atomic<uint64_t> open_connections{0};
  std::atomic<bool> stopping{false};
  std::function<void(const AccessLogEntry&)> access_log;  // set before Start
  boost::asio::thread_pool* pool = nullptr;  // for handlers that may block; set by Start
  boost::asio::io_context* ioc = nullptr;    // the event loop

  std::mutex mu;
  std::condition_variable connection_closed;
  std::unordered_map<ConnectionBase*, std::weak_ptr<ConnectionBase>> live;  // by mu

  void Register(const std::shared_ptr<ConnectionBase>& connection);
  void Unregister(ConnectionBase* connection);
  std::vector<std::shared_ptr<ConnectionBase>> LiveConnections();

  // Handlers running off the event loop (on the pool or a runner), by mu. Once Stop
  // has closed the count, no new one starts.
  int works_running = 0;
  bool works_closed = false;
  std::condition_variable work_finished;
  bool TryStartWork();
  void WorkFinished();
  void CloseWorkAndWait();

  // Answers coming from other threads (the pool, a runner) gather here and reach the
  // event loop with one post: a store batch answers many requests at once, and each
  // post from outside the loop may have to wake it.
  // Each answer runs on its connection's strand.
  using Answer = std::pair<boost::asio::any_io_executor, std::function<void()>>;
  std::mutex answers_mu;
  std::vector<Answer> answers;  // by answers_mu
  bool answers_posted = false;  // by answers_mu
  void PostAnswer(boost::asio::any_io_executor strand, std::function<void()> answer);
  void DeliverAnswers();
  // At Stop, after the event loop has stopped: answers it never delivered let go of
  // their connections while the io_context still exists.
  void DropAnswers();

  void ConnectionOpened() { ++open_connections; }
  void ConnectionClosed();
  // Waits until no connection is open or `deadline` passes; true if none is open.
  bool WaitForNoConnections(std::chrono::steady_clock::time_point deadline);
  void CountResponse(int status);
};

// What a listener's connections share. Owned jointly by the listener and them.
struct ListenerConfig {
  Router* router = nullptr;
  // Read once per connection, at accept: a reload changes them for new connections.
  ServerLimits Limits() const {
    std::lock_guard<std::mutex> lock(limits_mu);
    return limits;
  }
  void SetLimits(const ServerLimits& l) {
    std::lock_guard<std::mutex> lock(limits_mu);
    limits = l;
  }
  mutable std::mutex limits_mu;
  ServerLimits limits;
  std::function<bool(const PeerCredentials&)> allow;
  ServerState* state = nullptr;
  std::atomic<size_t> slots_used{0};  // connections counted against max_connections

  // Takes one of the listener's slots for a connection from `address` (a client's IP
  // address; "" is counted against no address): false, taking nothing, when all
  // max_connections are used or `address` holds max_connections_per_address already.
  // Answers kNone when it took the slot, else why not. ReleaseSlot gives back what
  // TakeSlot took. Both may be called from any thread.
  enum class SlotRefusal { kNone, kListenerFull, kAddressFull };
  SlotRefusal TakeSlot(const std::string& address);
  void ReleaseSlot(const std::string& address);
  std::mutex slots_mu;
  std::unordered_map<std::string, size_t> slots_by_address;  // by slots_mu
};

}  // namespace trashd::http_internal
