#include "util/listen_address.h"

#include <arpa/inet.h>

#include <charconv>

namespace trashd {
namespace {

std::string Quote(std::string_view text) { return "\"" + std::string(text) + "\""; }

bool IsIpv4(const std::string& host) {
  in_addr address{};
  return inet_pton(AF_INET, host.c_str(), &address) == 1;
}

bool IsIpv6(const std::string& host) {
  in6_addr address{};
  return inet_pton(AF_INET6, host.c_str(), &address) == 1;
}

}  // namespace

std::string ListenAddress::ToString() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<uint16_t> PortNumber(std::string_view digits) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || digits.size() > 5 || ec != std::errc() ||
      end != digits.data() + digits.size() || value > 65535) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(value);
}

Result<ListenAddress> ParseListenAddress(std::string_view text) {
  const Status not_host_port =
      InvalidArgument(Quote(text) + " is not host:port (e.g. 127.0.0.1:8080)");
  if (text.find_first_of("/@?# \t") != std::string_view::npos) return not_host_port;
  std::string_view host = text, port;
  bool bracketed = false;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return not_host_port;
    host = text.substr(1, close - 1);
    bracketed = true;
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return not_host_port;
      port = text.substr(close + 2);
    }
  } else if (const size_t colon = text.rfind(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (port.empty()) {
    return InvalidArgument(Quote(text) +
                           " has no port (write host:port, e.g. 127.0.0.1:8080)");
  }
  if (host.empty()) {
    return InvalidArgument(Quote(text) +
                           " has no host (write 0.0.0.0:PORT to listen on every "
                           "interface)");
  }
  if (port.find_first_not_of("0123456789") != std::string_view::npos) {
    return not_host_port;
  }
  const std::optional<uint16_t> number = PortNumber(port);
  if (!number) {
    return InvalidArgument(Quote(text) + ": port " + std::string(port) +
                           " is out of range (0 to 65535)");
  }
  ListenAddress address{std::string(host), *number};
  if (bracketed ? IsIpv6(address.host)
                : address.host == "localhost" || IsIpv4(address.host)) {
    return address;
  }
  if (!bracketed && host.find(':') != std::string_view::npos && IsIpv6(address.host)) {
    return InvalidArgument(Quote(text) + ": an IPv6 address goes in brackets ([" +
                           address.host + "]:" + std::string(port) + ")");
  }
  return InvalidArgument(Quote(text) + ": " + Quote(host) +
                         " is not an IP address (write an IPv4 address such as "
                         "127.0.0.1 or 0.0.0.0, an IPv6 address in brackets such as "
                         "[::1], or localhost)");
}

}  // namespace trashd
