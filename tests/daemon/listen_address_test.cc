// One parser for listen addresses: what the settings accept, the HTTP server listens
// on, and what they refuse, it refuses with the same sentence.
#include "util/listen_address.h"

#include <catch2/catch.hpp>
#include <string>

#include "http/server.h"

namespace trashd {
namespace {

std::string Refusal(const std::string& text) {
  auto parsed = ParseListenAddress(text);
  REQUIRE_FALSE(parsed.ok());
  return parsed.status().message();
}

TEST_CASE("listen addresses: IP addresses and localhost, with a port", "[config]") {
  CHECK(ParseListenAddress("127.0.0.1:8080").value() == ListenAddress{"127.0.0.1", 8080});
  CHECK(ParseListenAddress("0.0.0.0:0").value() == ListenAddress{"0.0.0.0", 0});
  CHECK(ParseListenAddress("[::1]:9464").value() == ListenAddress{"::1", 9464});
  CHECK(ParseListenAddress("[::]:80").value().ToString() == "[::]:80");
  CHECK(ParseListenAddress("localhost:65535").value() ==
        ListenAddress{"localhost", 65535});

  CHECK(Refusal("vm:0") ==
        "\"vm:0\": \"vm\" is not an IP address (write an IPv4 address such as 127.0.0.1 "
        "or 0.0.0.0, an IPv6 address in brackets such as [::1], or localhost)");
  CHECK(Refusal("999.1.1.1:8081")
            .starts_with("\"999.1.1.1:8081\": \"999.1.1.1\" is not an IP address"));
  CHECK(Refusal("1.2.3:80").starts_with("\"1.2.3:80\": \"1.2.3\" is not an IP address"));
  CHECK(
      Refusal("[127.0.0.1]:80").starts_with("\"[127.0.0.1]:80\": \"127.0.0.1\" is not"));
  CHECK(Refusal("::1:8080") ==
        "\"::1:8080\": an IPv6 address goes in brackets ([::1]:8080)");
  CHECK(Refusal("127.0.0.1") ==
        "\"127.0.0.1\" has no port (write host:port, e.g. 127.0.0.1:8080)");
  CHECK(Refusal("[::1]") ==
        "\"[::1]\" has no port (write host:port, e.g. 127.0.0.1:8080)");
  CHECK(Refusal(":8080") ==
        "\":8080\" has no host (write 0.0.0.0:PORT to listen on every interface)");
  CHECK(Refusal("localhost:99999") ==
        "\"localhost:99999\": port 99999 is out of range (0 to 65535)");
  CHECK(Refusal("localhost:-1") ==
        "\"localhost:-1\" is not host:port (e.g. 127.0.0.1:8080)");
  CHECK(Refusal("http://127.0.0.1:8080/") ==
        "\"http://127.0.0.1:8080/\" is not host:port (e.g. 127.0.0.1:8080)");
  CHECK(Refusal("[::1:80") == "\"[::1:80\" is not host:port (e.g. 127.0.0.1:8080)");
}

TEST_CASE("the HTTP server refuses a listen address with the parser's sentence",
          "[http][config]") {
  Router router;
  HttpServer server;
  for (const std::string text : {"vm:0", "999.1.1.1:8081", "::1:80", "127.0.0.1"}) {
    auto listened = server.ListenTcp(text, &router, {});
    REQUIRE_FALSE(listened.ok());
    CHECK(listened.status().message() == Refusal(text));
  }
  CHECK(server.ListenTcp("localhost:0", &router, {}).ok());
}

}  // namespace
}  // namespace trashd
