// HttpServer: the HTTP/1.1 listeners of trashd, TCP for the API and a Unix socket for
// the admin routes. It owns its event loop, run by a few threads, and a pool of
// threads for handlers that may block; each listener hands its requests to its own
// Router. A handler runs where its route's Placement says (router.h): on an
// event-loop thread (quick reads), through the route's runner (a write handed to the
// store's batch, which holds no thread while it commits), or by default on the pool,
// where a blocked handler holds one pool thread, nothing else.
//
// What it does so a handler never has to:
//   - keep-alive and pipelining, one request at a time per connection;
//   - limits: a body over max_body_bytes is answered 413 and headers over
//     max_header_bytes 431, both before any more is read, then the connection closes;
//     more than max_connections open connections on a listener, or more than
//     max_connections_per_address from one client IP address, get 503 at once and
//     are closed (they do not wait to be accepted);
//   - timeouts: the whole request, head and body, must arrive within
//     request_timeout_ms (from accept, or from the first byte after a keep-alive
//     pause), and a body must keep min_body_bytes_per_second on average once
//     body_rate_grace_ms have passed since its head; a late or slow request that has
//     started is answered 408, an idle one is just closed. A keep-alive connection
//     idle for idle_timeout_ms is closed. Writing a response gets request_timeout_ms;
//   - a route's early check (Placement::early_check) sees a request once its head is
//     read; a request it refuses is answered without reading its body, and closed;
//   - malformed HTTP is answered 400 and the connection closed; `Expect:
//     100-continue` is honoured; every response carries `Server: trashd`;
//   - on a Unix socket, the peer's credentials (SO_PEERCRED) go to the listener's
//     `allow` check at accept; a refused peer gets 403 and is closed.
// Every error body is `{"error": "..."}` (see ErrorResponse).
//
// Lifecycle: construct, Listen*() (before or after Start), Start(threads), and at the
// end Stop(drain) — which the destructor also does. A server starts once.
//
// Thread-safety: all public methods may be called from any thread, except Stop (and
// the destructor) from a handler, which would wait for itself. Routers, allow functions
// and the access log must outlive Stop() and be safe to call from many threads at once.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "http/router.h"
#include "trashd/status.h"

namespace trashd {

struct ServerLimits {
  size_t max_body_bytes = 16u << 20;
  size_t max_header_bytes = 16u << 10;  // request line and headers together
  size_t max_connections = 16384;       // open at once on one listener
  // Of those, open at once from one client IP address (TCP); 0: no limit of its own.
  size_t max_connections_per_address = 256;
  int request_timeout_ms = 30'000;  // the whole request, head and body
  int idle_timeout_ms = 60'000;
  // After body_rate_grace_ms from the end of the head, a body must have arrived at
  // this average rate so far; 0 turns the check off.
  size_t min_body_bytes_per_second = 1024;
  int body_rate_grace_ms = 10'000;
};

// A snapshot of the server's counters, for /metrics.
struct ServerStats {
  uint64_t requests_total = 0;  // final responses sent, error answers included
  uint64_t responses_2xx = 0;
  uint64_t responses_3xx = 0;
  uint64_t responses_4xx = 0;
  uint64_t responses_5xx = 0;
  uint64_t connections_accepted = 0;
  // over max_connections or max_connections_per_address, or refused by `allow`
  uint64_t connections_refused = 0;
  uint64_t open_connections = 0;  // now, refused ones still closing included
};

// One line of an access log, given after each response is handed to the socket.
struct AccessLogEntry {
  std::string method;  // "" when the request was too malformed to have one
  std::string target;
  std::string route;  // the matched route's pattern ("/:ws/trash"); "" when none matched
  int status = 0;
  size_t response_bytes = 0;              // body only
  std::chrono::microseconds duration{0};  // from the complete request head
  std::string remote_address;
  // The request as the router resolved it (query, path parameters, headers), when a
  // route matched; null otherwise.
  std::shared_ptr<const HttpRequest> request;
};

class HttpServer {
 public:
  HttpServer();
  ~HttpServer();  // Stop(0 ms) if still running
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Listens on "ADDRESS:PORT" (an IP address, "[::1]:8080", or "localhost:8080");
  // port 0 picks a free port. Returns the bound port. `router` must outlive Stop().
  Result<uint16_t> ListenTcp(const std::string& address_port, Router* router,
                             ServerLimits limits);

  // Listens on a Unix socket at `path`, chmod'ed to `mode` before it accepts anyone.
  // A stale socket file at `path` is replaced; a live one (someone accepts on it) or
  // a file that is not a socket is an error. Each connection's peer credentials go to
  // `allow` (null allows everyone); a refused peer gets 403 and is closed. The
  // socket file is removed at Stop().
  Status ListenUnix(const std::string& path, mode_t mode, Router* router,
                    ServerLimits limits,
                    std::function<bool(const PeerCredentials&)> allow = nullptr);

  // New limits for the listeners serving `router`, for a reload: connections accepted
  // from now on get them; open ones keep theirs. Invalid limits change nothing.
  Status UpdateLimits(const Router* router, ServerLimits limits);

  // Optional; set before Start. Called on pool threads, concurrently.
  void SetAccessLog(std::function<void(const AccessLogEntry&)> log);

  // Runs the event loop on `threads` (>= 1) new threads, starts `pool_threads` (>= 1)
  // for handlers that may block, and returns.
  Status Start(int threads, int pool_threads = 16);

  // Stops accepting, closes idle connections, lets requests already started finish
  // and be answered (with `Connection: close`) until `drain` has passed, then closes
  // every connection and joins the threads. A handler still running (or queued with
  // a runner) at the deadline cannot be interrupted: Stop returns once it has
  // answered. Idempotent.
  void Stop(std::chrono::milliseconds drain);

  ServerStats Stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace trashd
