// RawHttp: a small blocking HTTP/1.1 client over plain POSIX sockets (TCP on
// 127.0.0.1 or a Unix socket), for tests that talk to a real server. It writes exactly
// the bytes a test gives it and parses what comes back, so tests can also send
// malformed requests. Not thread-safe: one client per thread.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace trashd::testing {

struct RawResponse {
  int status = 0;  // 0: the connection closed (or stayed silent) before a response
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;

  const std::string& Header(const std::string& name) const;
  boost::json::value Json() const { return boost::json::parse(body); }
  // The value of an unlabelled metric in a Prometheus text body (GET /metrics).
  std::optional<double> Metric(const std::string& name) const;
};

class Client {
 public:
  static Client Tcp(uint16_t port);
  // From the local IPv4 address `from` (say "127.0.0.2", also loopback on Linux).
  static Client Tcp(uint16_t port, const std::string& from);
  static Client Unix(const std::string& path);

  Client(Client&& other) noexcept;
  ~Client();

  bool connected() const { return fd_ >= 0; }
  // How long a read waits in silence before giving up (5 s unless set).
  void SetReadTimeout(int seconds);

  void Send(std::string_view data);
  // Reads one response (a 1xx interim one included). Gives up after the read timeout of
  // silence.
  RawResponse Read();
  RawResponse Request(const std::string& method, const std::string& target,
                      const std::string& body = "", const std::string& headers = "");
  // True once the server has closed the connection (end of file or reset), within
  // the timeout; whatever arrives before is dropped.
  bool WaitClosed();

 private:
  explicit Client(int fd);
  bool Fill();

  int fd_;
  std::string buffered_;
};

}  // namespace trashd::testing
