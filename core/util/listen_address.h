// ListenAddress: where a TCP listener accepts connections ("127.0.0.1:8080",
// "[::1]:0", "localhost:8080"), and the one parser of that text. The settings check a
// `listen` value with it (so `trashd --check-config` refuses what the server would)
// and the HTTP server reads its address with it. Text only: nothing here opens a
// socket or resolves a name.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "trashd/status.h"

namespace trashd {

// Port 0 asks the kernel for any free port (the integration tests read back the one
// it chose).
struct ListenAddress {
  std::string host = "127.0.0.1";  // an IPv4 or IPv6 address (no brackets), localhost
  uint16_t port = 8080;

  std::string ToString() const;  // "127.0.0.1:8080", "[::1]:8080"
  bool operator==(const ListenAddress&) const = default;
};

// "HOST:PORT": HOST is an IPv4 address, an IPv6 address in brackets or `localhost`
// (no other name: the server resolves none); PORT is 0 to 65535. Anything else is
// InvalidArgument with a sentence naming the text and what to write instead.
Result<ListenAddress> ParseListenAddress(std::string_view text);

// A port as text ("8080") to a number; nullopt unless 1 to 5 digits up to 65535.
std::optional<uint16_t> PortNumber(std::string_view digits);

}  // namespace trashd
