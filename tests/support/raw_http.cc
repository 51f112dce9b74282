#include "support/raw_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace trashd::testing {

const std::string& RawResponse::Header(const std::string& name) const {
  static const std::string kEmpty;
  auto it = headers.find(name);
  return it == headers.end() ? kEmpty : it->second;
}

std::optional<double> RawResponse::Metric(const std::string& name) const {
  size_t at = ("\n" + body).find("\n" + name + " ");
  if (at == std::string::npos) return std::nullopt;
  return std::strtod(body.c_str() + at + name.size() + 1, nullptr);
}

Client Client::Tcp(uint16_t port) { return Tcp(port, "127.0.0.1"); }

Client Client::Tcp(uint16_t port, const std::string& from) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  if (::inet_pton(AF_INET, from.c_str(), &local.sin_addr) != 1 ||
      ::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0) {
    ::close(fd);
    return Client(-1);
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    fd = -1;
  }
  return Client(fd);
}

Client Client::Unix(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    fd = -1;
  }
  return Client(fd);
}

Client::Client(Client&& other) noexcept
    : fd_(other.fd_), buffered_(std::move(other.buffered_)) {
  other.fd_ = -1;
}

Client::~Client() {
  if (fd_ >= 0) ::close(fd_);
}

Client::Client(int fd) : fd_(fd) { SetReadTimeout(5); }

void Client::SetReadTimeout(int seconds) {
  if (fd_ < 0) return;
  timeval timeout{seconds, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
}

void Client::Send(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return;  // the server closed; the read that follows tells
    data.remove_prefix(static_cast<size_t>(n));
  }
}

RawResponse Client::Read() {
  RawResponse response;
  size_t head_end;
  while ((head_end = buffered_.find("\r\n\r\n")) == std::string::npos) {
    if (!Fill()) return response;
  }
  std::string head = buffered_.substr(0, head_end);
  buffered_.erase(0, head_end + 4);
  size_t line_end = head.find("\r\n");
  std::string status_line = head.substr(0, line_end);
  if (status_line.size() < 12 || status_line.compare(0, 5, "HTTP/") != 0) return response;
  int status = std::atoi(status_line.c_str() + 9);
  size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    size_t end = head.find("\r\n", pos);
    if (end == std::string::npos) end = head.size();
    std::string line = head.substr(pos, end - pos);
    size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(c));
      size_t value_start = line.find_first_not_of(' ', colon + 1);
      response.headers[name] =
          value_start == std::string::npos ? "" : line.substr(value_start);
    }
    pos = end + 2;
  }
  size_t length = std::strtoul(response.Header("content-length").c_str(), nullptr, 10);
  while (buffered_.size() < length) {
    if (!Fill()) return response;
  }
  response.body = buffered_.substr(0, length);
  buffered_.erase(0, length);
  response.status = status;
  return response;
}

RawResponse Client::Request(const std::string& method, const std::string& target,
                            const std::string& body, const std::string& headers) {
  std::string request = method + " " + target + " HTTP/1.1\r\nHost: test\r\n" + headers;
  if (!body.empty() || method == "POST" || method == "PUT") {
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  request += "\r\n" + body;
  Send(request);
  return Read();
}

bool Client::WaitClosed() {
  buffered_.clear();
  for (;;) {
    char chunk[4096];
    ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n == 0) return true;
    if (n < 0) return errno == ECONNRESET || errno == EPIPE;
  }
}

bool Client::Fill() {
  char chunk[4096];
  ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
  if (n <= 0) return false;
  buffered_.append(chunk, static_cast<size_t>(n));
  return true;
}

}  // namespace trashd::testing
