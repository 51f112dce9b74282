// The admin socket's client side: one HTTP/1.1 request over trashd's Unix socket and
// its answer. The only part of trashctl that knows Boost.Beast (admin_client.cc), so
// the commands stay plain strings and JSON.
#pragma once

#include <chrono>
#include <string>

namespace trashctl {

struct AdminRequest {
  std::string method;  // "GET", "POST", "PUT"
  std::string target;  // "/v1/workspaces/acme", already percent-encoded
  std::string body;    // JSON text; empty: no body
};

struct AdminAnswer {
  int status = 0;     // the HTTP status; 0 when there was no answer
  std::string body;   // as the server sent it
  std::string error;  // when status is 0: a sentence naming the socket and the reason
};

// Connects to `socket_path`, sends `request` and reads the answer, all within
// `timeout` (zero: no limit). Never throws.
AdminAnswer CallAdminSocket(const std::string& socket_path, const AdminRequest& request,
                            std::chrono::seconds timeout);

}  // namespace trashctl
