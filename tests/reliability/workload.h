// The crash loop's workload: client threads that each write to their own workspace
// through the API and the admin socket (create, upload, trash, restore, purge, empty
// the Trash), and an operator thread that sweeps and moves the daemon's clock. Each
// runs until told to stop or until the daemon stops answering (it was killed).
//
// Thread-safety: each client uses only its own WorkspaceModel; the operator only the
// clock, which is thread-safe.
#pragma once

#include <atomic>
#include <optional>
#include <string>

#include "reliability/crash_model.h"
#include "support/raw_http.h"

namespace trashd::reliability {

// Where the daemon of this cycle listens.
struct Endpoint {
  uint16_t port = 0;
  std::string admin_socket;
};

// One request's fate: not sent (the daemon was gone before it connected), sent with
// no answer (unknown: the daemon died with it in flight), or answered.
struct Answer {
  bool sent = false;
  testing::RawResponse response;
  bool unknown() const { return sent && response.status == 0; }
};

// A keep-alive connection to the API, opened again after it breaks: a connection per
// request would leave thousands of sockets in TIME_WAIT and run out of local ports.
// One thread at a time.
class ApiConnection {
 public:
  explicit ApiConnection(uint16_t port) : port_(port) {}
  Answer Request(const std::string& method, const std::string& target,
                 const std::string& body, const std::string& content_type);

 private:
  uint16_t port_;
  std::optional<testing::Client> client_;
};

// An API request with `key`; a body goes as JSON unless `content_type` says otherwise.
Answer CallApi(ApiConnection& api, const std::string& method, const std::string& target,
               const std::string& key, const std::string& body = "",
               const std::string& content_type = "application/json");
Answer CallAdmin(const Endpoint& e, const std::string& method, const std::string& target,
                 const std::string& body = "");

// Runs random operations on `model` until `stop` or the daemon dies; the operation
// in flight then is left in model.pending.
void RunClient(WorkspaceModel& model, const Endpoint& e, const DriverClock& clock,
               uint64_t seed, const std::atomic<bool>& stop);

// What the operator did: sweeps answered, and failures (unexpected answers).
struct OperatorLog {
  uint64_t sweeps = 0;
  uint64_t clock_moves = 0;
  std::vector<std::string> failures;
};

// Sweeps and moves the clock forward at random moments until `stop` or the daemon
// dies.
void RunOperator(const Endpoint& e, DriverClock& clock, uint64_t seed,
                 const std::atomic<bool>& stop, OperatorLog* log);

}  // namespace trashd::reliability
