// PostWebhook: one HTTP/1.1 POST to a webhook, asynchronous, on an io_context the
// caller runs. It looks the host up (unless it is an IP address), connects, sends
// the body with the given headers, reads the status line and headers of the answer
// and closes; a body the receiver sends back is not read. Connecting, sending and
// reading together get `timeout`; the name lookup is bounded by the system
// resolver's own timeouts.
//
// The only declaration of the webhook client: webhook_client.cc is the events
// library's one translation unit that includes Beast.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace trashd {

struct WebhookPost {
  std::string host;  // a name, or an IP address (IPv6 without brackets)
  uint16_t port = 80;
  std::string target;  // "/trashd"
  std::string body;    // sent as application/json
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds timeout{10000};
};

struct WebhookAnswer {
  int status = 0;     // the HTTP status; 0 when no answer came
  std::string error;  // why none came: "connect: Connection refused", "timed out"
};

// Calls `done` exactly once, on a thread running `io`, unless `io` is stopped or
// destroyed before the exchange ends (then `done` is destroyed uncalled).
void PostWebhook(boost::asio::io_context& io, WebhookPost post,
                 std::function<void(WebhookAnswer)> done);

}  // namespace trashd
