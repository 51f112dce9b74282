// The HTTP server and router, over real sockets: the server listens on 127.0.0.1
// port 0 or a Unix socket in a short temp directory, and the test writes raw HTTP with
// plain POSIX sockets and reads what comes back.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "http/router.h"
#include "http/server.h"
#include "support/eventually.h"
#include "support/raw_http.h"

namespace trashd {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

using testing::Client;
using testing::Eventually;
using testing::RawResponse;

// ---- a server with a few routes -------------------------------------------------------

HttpResponse Echo(const std::string& route, const HttpRequest& request) {
  json::object params, query;
  for (const auto& [k, v] : request.params) params[k] = v;
  for (const auto& [k, v] : request.query) query[k] = v;
  return JsonResponse(200, json::object{{"route", route},
                                        {"params", params},
                                        {"query", query},
                                        {"path", request.path},
                                        {"body", request.body}});
}

Handler EchoAs(std::string route) {
  return [route](HttpRequest& request) { return Echo(route, request); };
}

// Small size limits. The timeouts are long, so that a stall of a busy test machine
// between two requests of a test does not close its connection.
ServerLimits SmallLimits() {
  ServerLimits limits;
  limits.max_body_bytes = 1024;
  limits.max_header_bytes = 2048;
  limits.max_connections = 64;
  limits.request_timeout_ms = 10'000;
  limits.idle_timeout_ms = 10'000;
  return limits;
}

// SmallLimits with 200 ms timeouts, for the tests of the timeouts.
ServerLimits ShortTimeouts() {
  ServerLimits limits = SmallLimits();
  limits.request_timeout_ms = 200;
  limits.idle_timeout_ms = 200;
  return limits;
}

struct TestServer {
  explicit TestServer(ServerLimits limits = SmallLimits()) {
    router.Add("GET", "/", EchoAs("root"));
    router.Add("GET", "/:ws", EchoAs("workspace"));
    router.Add("GET", "/:ws/:project", EchoAs("project"));
    router.Add("DELETE", "/:ws/:project", EchoAs("delete-project"));
    router.Add("GET", "/:ws/trash", EchoAs("trash"));
    router.Add("POST", "/:ws/trash/restore", EchoAs("restore"));
    router.Add("POST", "/echo", EchoAs("echo"));
    router.Add("GET", "/boom", [](HttpRequest&) -> HttpResponse {
      throw std::runtime_error("the handler broke");
    });
    router.SetExceptionReporter([this](const HttpRequest&, std::string_view what) {
      std::lock_guard lock(mu);
      reported.emplace_back(what);
    });
    auto port_or = server.ListenTcp("127.0.0.1:0", &router, limits);
    REQUIRE(port_or.ok());
    port = *port_or;
    REQUIRE(server.Start(4).ok());
  }

  Client Connect() { return Client::Tcp(port); }

  Router router;  // outlives the server
  HttpServer server;
  uint16_t port = 0;
  std::mutex mu;
  std::vector<std::string> reported;
};

// A short directory under /tmp (Unix socket paths are limited to 107 bytes).
class ShortTempDir {
 public:
  ShortTempDir() {
    char pattern[] = "/tmp/tdXXXXXX";
    REQUIRE(::mkdtemp(pattern) != nullptr);
    path_ = pattern;
  }
  ~ShortTempDir() { std::filesystem::remove_all(path_); }
  std::string Path(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// ---- routing -------------------------------------------------------------------------

TEST_CASE("routes bind params and literal segments beat params", "[http][router]") {
  TestServer t;
  Client c = t.Connect();

  RawResponse trash = c.Request("GET", "/acme/trash");
  REQUIRE(trash.status == 200);
  CHECK(trash.Json().at("route") == "trash");
  CHECK(trash.Json().at("params") == json::object{{"ws", "acme"}});

  RawResponse project = c.Request("GET", "/acme/cats");
  CHECK(project.Json().at("route") == "project");
  CHECK(project.Json().at("params") == json::object{{"ws", "acme"}, {"project", "cats"}});

  // `/:ws/trash` has no DELETE, so the next pattern in line with one answers.
  RawResponse del = c.Request("DELETE", "/acme/trash");
  CHECK(del.Json().at("route") == "delete-project");
  CHECK(del.Json().at("params").at("project") == "trash");

  RawResponse restore = c.Request("POST", "/acme/trash/restore", R"({"id":"p1"})");
  CHECK(restore.Json().at("route") == "restore");
  CHECK(restore.Json().at("body") == R"({"id":"p1"})");

  CHECK(c.Request("GET", "/acme").Json().at("route") == "workspace");
  CHECK(c.Request("GET", "/").Json().at("route") == "root");
}

TEST_CASE("path segments and the query are percent-decoded", "[http][router]") {
  TestServer t;
  Client c = t.Connect();

  RawResponse r = c.Request("GET", "/ac%20me/my%2Fproj");
  REQUIRE(r.status == 200);
  CHECK(r.Json().at("params") == json::object{{"ws", "ac me"}, {"project", "my/proj"}});
  CHECK(r.Json().at("path") == "/ac%20me/my%2Fproj");

  // A percent-encoded literal still matches the literal.
  CHECK(c.Request("GET", "/acme/tr%61sh").Json().at("route") == "trash");

  RawResponse q =
      c.Request("GET", "/acme/trash?type=project&name=a%26b&q=x+y&flag&type=x");
  REQUIRE(q.status == 200);
  CHECK(q.Json().at("query") == json::object{{"type", "project"},  // the first one wins
                                             {"name", "a&b"},
                                             {"q", "x y"},
                                             {"flag", ""}});
}

TEST_CASE("unknown paths get 404 and known paths with a wrong method 405",
          "[http][router]") {
  TestServer t;
  Client c = t.Connect();

  RawResponse missing = c.Request("GET", "/acme/cats/v1/extra");
  CHECK(missing.status == 404);
  CHECK(missing.body == R"({"error":"No route for GET /acme/cats/v1/extra"})");
  CHECK(missing.Header("content-type") == "application/json");
  CHECK(missing.Header("server") == "trashd");

  RawResponse wrong = c.Request("PUT", "/acme/trash", "{}");
  CHECK(wrong.status == 405);
  CHECK(wrong.Header("allow") == "DELETE, GET");
  CHECK(wrong.body == R"({"error":"Method PUT is not allowed on /acme/trash"})");

  // Both errors left the connection usable.
  CHECK(c.Request("GET", "/acme").status == 200);
}

TEST_CASE("the router refuses malformed and duplicate patterns", "[http][router]") {
  Router router;
  router.Add("GET", "/:ws/trash", EchoAs("a"));
  CHECK_THROWS_AS(router.Add("GET", "/:workspace/trash", EchoAs("b")),
                  std::invalid_argument);
  CHECK_THROWS_AS(router.Add("GET", "no-slash", EchoAs("c")), std::invalid_argument);
  CHECK_THROWS_AS(router.Add("GET", "/a//b", EchoAs("c")), std::invalid_argument);
  CHECK_THROWS_AS(router.Add("GET", "/a/", EchoAs("c")), std::invalid_argument);
  CHECK_THROWS_AS(router.Add("GET", "/:x/:x", EchoAs("c")), std::invalid_argument);
  CHECK_THROWS_AS(router.Add("G T", "/a", EchoAs("c")), std::invalid_argument);
  router.Add("POST", "/:workspace/trash", EchoAs("d"));  // same shape, other method

  HttpRequest bad;
  bad.method = "GET";
  bad.target = "/acme/%zz";
  HttpResponse response = router.Dispatch(bad);
  CHECK(response.status == 400);
  CHECK(response.body == R"({"error":"The request target is not a valid path"})");

  HttpRequest post;
  post.method = "POST";
  post.target = "/acme/trash";
  CHECK(json::parse(router.Dispatch(post).body).at("params") ==
        json::object{{"workspace", "acme"}});
}

// ---- HTTP/1.1 behaviour
// ----------------------------------------------------------------

TEST_CASE("keep-alive serves several requests on one connection", "[http]") {
  TestServer t;
  Client c = t.Connect();
  RawResponse first = c.Request("GET", "/acme");
  RawResponse second = c.Request("GET", "/acme/trash");
  CHECK(first.status == 200);
  CHECK(second.status == 200);
  CHECK(first.Header("connection") != "close");

  // Pipelined: two requests in one write, two answers in order.
  c.Send("GET /one HTTP/1.1\r\nHost: t\r\n\r\nGET /two HTTP/1.1\r\nHost: t\r\n\r\n");
  CHECK(c.Read().Json().at("params").at("ws") == "one");
  CHECK(c.Read().Json().at("params").at("ws") == "two");

  // Connection: close is honoured.
  RawResponse last = c.Request("GET", "/acme", "", "Connection: close\r\n");
  CHECK(last.status == 200);
  CHECK(last.Header("connection") == "close");
  CHECK(c.WaitClosed());
}

TEST_CASE("many clients at once are each answered in order", "[http]") {
  TestServer t;
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 16; ++i) {
    clients.emplace_back([&, i] {
      Client c = t.Connect();
      for (int j = 0; j < 25; ++j) {
        std::string ws = "w" + std::to_string(i) + "-" + std::to_string(j);
        RawResponse r = c.Request("POST", "/" + ws + "/trash/restore", ws);
        if (r.status == 200 && r.Json().at("body") == json::value(ws) &&
            r.Json().at("params").at("ws") == json::value(ws)) {
          ++ok;
        }
      }
    });
  }
  for (auto& client : clients) client.join();
  CHECK(ok == 16 * 25);
}

TEST_CASE("Expect: 100-continue gets an interim answer before the body", "[http]") {
  TestServer t;
  Client c = t.Connect();
  c.Send(
      "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: "
      "100-continue\r\n\r\n");
  RawResponse interim = c.Read();
  CHECK(interim.status == 100);
  c.Send("hello");
  RawResponse final_response = c.Read();
  CHECK(final_response.status == 200);
  CHECK(final_response.Json().at("body") == "hello");
}

TEST_CASE("a body over the limit gets 413 and the server keeps serving",
          "[http][limits]") {
  TestServer t;
  {
    Client c = t.Connect();
    c.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n" +
           std::string(5000, 'x'));
    RawResponse r = c.Read();
    CHECK(r.status == 413);
    CHECK(r.body == R"({"error":"Request body is larger than 1024 bytes"})");
    CHECK(r.Header("connection") == "close");
    CHECK(c.WaitClosed());
  }
  {
    // A chunked body is cut off once it passes the limit.
    Client c = t.Connect();
    std::string chunk(800, 'y');
    c.Send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n320\r\n" +
           chunk + "\r\n320\r\n" + chunk + "\r\n0\r\n\r\n");
    CHECK(c.Read().status == 413);
  }
  Client other = t.Connect();
  RawResponse ok = other.Request("POST", "/echo", std::string(1024, 'z'));
  CHECK(ok.status == 200);
  CHECK(ok.Json().at("body").as_string().size() == 1024);
}

TEST_CASE("headers over the limit get 431", "[http][limits]") {
  TestServer t;
  Client c = t.Connect();
  RawResponse r =
      c.Request("GET", "/acme", "", "X-Big: " + std::string(4000, 'h') + "\r\n");
  CHECK(r.status == 431);
  CHECK(r.body == R"({"error":"Request headers are larger than 2048 bytes"})");
  CHECK(c.WaitClosed());
  CHECK(t.Connect().Request("GET", "/acme").status == 200);
}

TEST_CASE("malformed HTTP gets 400 and the connection closes", "[http]") {
  TestServer t;
  for (std::string garbage : {"GARBAGE\r\n\r\n", "GET /acme HTTP/9.9\r\n\r\n",
                              "GET /acme HTTP/1.1\r\nBad Header\r\n\r\n",
                              "GET /acme HTTP/1.1\r\nContent-Length: -4\r\n\r\n"}) {
    INFO(garbage);
    Client c = t.Connect();
    c.Send(garbage);
    RawResponse r = c.Read();
    CHECK(r.status == 400);
    CHECK(r.Json().at("error").as_string().starts_with("Malformed HTTP request"));
    CHECK(c.WaitClosed());
  }
  // A well-formed request whose target is not a valid path: 400 from the router,
  // and the connection stays usable.
  Client c = t.Connect();
  CHECK(c.Request("GET", "/acme/%zz").status == 400);
  CHECK(c.Request("GET", "/acme").status == 200);
}

TEST_CASE("random bytes never bring the server down", "[http]") {
  TestServer t;
  std::mt19937 random(42);
  for (int i = 0; i < 100; ++i) {
    std::string bytes(random() % 600, '\0');
    for (char& b : bytes) b = static_cast<char>(random());
    // Half the time start like a real request, so the parser gets further in.
    if (i % 2 == 0) bytes = "POST /echo HTTP/1.1\r\n" + bytes;
    Client c = t.Connect();
    c.Send(bytes);
  }
  Client c = t.Connect();
  CHECK(c.Request("GET", "/acme").status == 200);
}

TEST_CASE("connections over the cap get 503", "[http][limits]") {
  ServerLimits limits = SmallLimits();
  limits.max_connections = 2;
  limits.idle_timeout_ms = 10'000;
  limits.request_timeout_ms = 10'000;
  TestServer t(limits);
  Client first = t.Connect();
  Client second = t.Connect();
  REQUIRE(first.Request("GET", "/acme").status == 200);
  REQUIRE(second.Request("GET", "/acme").status == 200);

  Client third = t.Connect();
  RawResponse refused = third.Read();  // answered without asking
  CHECK(refused.status == 503);
  CHECK(refused.Json().at("error").is_string());
  CHECK(third.WaitClosed());

  // The two admitted connections are unaffected; once one closes, a slot frees up.
  CHECK(second.Request("GET", "/acme").status == 200);
  CHECK(first.Request("GET", "/acme", "", "Connection: close\r\n").status == 200);
  CHECK(first.WaitClosed());
  CHECK(t.Connect().Request("GET", "/acme").status == 200);
  CHECK(t.server.Stats().connections_refused == 1);
}

TEST_CASE("slow and silent clients are closed after the timeout", "[http][limits]") {
  TestServer t(ShortTimeouts());  // 200 ms to send a request, 200 ms idle
  {
    Client silent = t.Connect();
    CHECK(silent.WaitClosed());  // closed without a word
  }
  {
    Client slow_head = t.Connect();
    slow_head.Send("GET /acme HTTP/1.1\r\nHost: t\r\n");  // never ends the head
    RawResponse r = slow_head.Read();
    CHECK(r.status == 408);
    CHECK(r.Json().at("error") == "The request did not arrive within 200 ms");
    CHECK(slow_head.WaitClosed());
  }
  {
    Client slow_body = t.Connect();
    slow_body.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc");
    CHECK(slow_body.Read().status == 408);
    CHECK(slow_body.WaitClosed());
  }
  {
    Client idle = t.Connect();
    CHECK(idle.Request("GET", "/acme").status == 200);
    CHECK(idle.WaitClosed());  // kept alive, then closed for idling
  }
  CHECK(t.Connect().Request("GET", "/acme").status == 200);
}

TEST_CASE("a handler that throws gets 500 and the next request works", "[http]") {
  TestServer t;
  Client c = t.Connect();
  RawResponse r = c.Request("GET", "/boom");
  CHECK(r.status == 500);
  CHECK(r.body == R"({"error":"Internal server error"})");
  CHECK(c.Request("GET", "/acme").status == 200);
  std::lock_guard lock(t.mu);
  CHECK(t.reported == std::vector<std::string>{"the handler broke"});
}

TEST_CASE("handler headers are passed on, except the ones the server owns", "[http]") {
  Router router;
  router.Add("GET", "/h", [](HttpRequest& request) {
    HttpResponse response;
    response.content_type = "text/plain";
    response.body = "hi " + request.Header("x-name");
    response.headers = {{"X-Trace", "abc"},
                        {"Content-Length", "999"},
                        {"X-Evil", "a\r\nSet-Cookie: x=1"},
                        {"Location", "/elsewhere"}};
    return response;
  });
  router.Add("GET", "/empty", [](HttpRequest&) {
    HttpResponse response;
    response.status = 204;
    response.body = "dropped";
    return response;
  });
  HttpServer server;
  auto port = server.ListenTcp("127.0.0.1:0", &router, SmallLimits());
  REQUIRE(port.ok());
  REQUIRE(server.Start(1).ok());
  Client c = Client::Tcp(*port);
  RawResponse r = c.Request("GET", "/h", "", "X-Name: Ann\r\n");
  CHECK(r.body == "hi Ann");
  CHECK(r.Header("content-type") == "text/plain");
  CHECK(r.Header("content-length") == "6");
  CHECK(r.Header("x-trace") == "abc");
  CHECK(r.Header("location") == "/elsewhere");
  CHECK(r.headers.count("x-evil") == 0);
  CHECK(r.headers.count("set-cookie") == 0);
  RawResponse empty = c.Request("GET", "/empty");
  CHECK(empty.status == 204);
  CHECK(empty.body.empty());
  CHECK(c.Request("GET", "/h").status == 200);  // the 204 left the stream in step
}

// ---- Unix socket ---------------------------------------------------------------------

TEST_CASE("the Unix socket is mode 0660 and checks the peer's credentials",
          "[http][unix]") {
  ShortTempDir dir;
  std::string open_path = dir.Path("a.sock");
  std::string closed_path = dir.Path("b.sock");
  Router router;
  router.Add("GET", "/whoami", [](HttpRequest& request) {
    return JsonResponse(200, json::object{{"has_creds", request.peer.has_creds},
                                          {"uid", request.peer.uid},
                                          {"pid", request.peer.pid},
                                          {"remote", request.remote_address}});
  });
  std::atomic<int> checked{0};
  HttpServer server;
  REQUIRE(server
              .ListenUnix(open_path, 0660, &router, ShortTimeouts(),
                          [&](const PeerCredentials& peer) {
                            ++checked;
                            return peer.has_creds && peer.uid == ::getuid();
                          })
              .ok());
  REQUIRE(server
              .ListenUnix(closed_path, 0660, &router, SmallLimits(),
                          [](const PeerCredentials&) { return false; })
              .ok());
  REQUIRE(server.Start(2).ok());

  struct stat st {};
  REQUIRE(::stat(open_path.c_str(), &st) == 0);
  CHECK(S_ISSOCK(st.st_mode));
  CHECK((st.st_mode & 07777) == 0660);

  Client allowed = Client::Unix(open_path);
  RawResponse me = allowed.Request("GET", "/whoami");
  REQUIRE(me.status == 200);
  CHECK(me.Json().at("has_creds") == true);
  CHECK(me.Json().at("uid") == ::getuid());
  CHECK(me.Json().at("pid") == ::getpid());
  CHECK(me.Json().at("remote") == "unix");
  CHECK(allowed.Request("GET", "/nothing").status == 404);
  CHECK(checked == 1);  // once per connection

  // The timeouts hold on a Unix socket too.
  Client silent = Client::Unix(open_path);
  CHECK(silent.WaitClosed());
  Client slow = Client::Unix(open_path);
  slow.Send("GET /whoami HTTP/1.1\r\n");
  CHECK(slow.Read().status == 408);
  CHECK(slow.WaitClosed());

  Client refused = Client::Unix(closed_path);
  RawResponse r = refused.Request("GET", "/whoami");
  CHECK(r.status == 403);
  std::string expected = "This socket does not accept uid " + std::to_string(::getuid()) +
                         " (gid " + std::to_string(::getgid()) + ")";
  CHECK(std::string(r.Json().at("error").as_string()) == expected);
  CHECK(refused.WaitClosed());

  // A second server cannot take over a socket that is in use.
  HttpServer rival;
  Status taken = rival.ListenUnix(open_path, 0660, &router, SmallLimits());
  CHECK(taken.code() == Code::kUnavailable);

  server.Stop(1s);
  CHECK(!std::filesystem::exists(open_path));  // removed at Stop
}

TEST_CASE("a stale socket file is replaced, any other file is not", "[http][unix]") {
  ShortTempDir dir;
  std::string stale = dir.Path("s.sock");
  {
    // A socket bound and closed leaves its file behind, as a killed daemon does.
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, stale.c_str(), sizeof(address.sun_path) - 1);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
    ::close(fd);
  }
  std::string regular = dir.Path("f");
  {
    std::FILE* f = std::fopen(regular.c_str(), "w");
    std::fclose(f);
  }

  Router router;
  router.Add("GET", "/", EchoAs("root"));
  HttpServer server;
  CHECK(server.ListenUnix(stale, 0600, &router, SmallLimits()).ok());
  CHECK(server.ListenUnix(regular, 0600, &router, SmallLimits()).code() ==
        Code::kInvalidArgument);
  CHECK(std::filesystem::exists(regular));
  CHECK(server.ListenUnix("/tmp/" + std::string(200, 'x'), 0600, &router, SmallLimits())
            .code() == Code::kInvalidArgument);
  REQUIRE(server.Start(1).ok());
  CHECK(Client::Unix(stale).Request("GET", "/").status == 200);
}

// ---- stopping and counting
// --------------------------------------------------------------

TEST_CASE("Stop lets an in-flight request finish", "[http][stop]") {
  Router router;
  std::promise<void> handler_started;
  std::promise<void> stop_begun;
  std::shared_future<void> stopping = stop_begun.get_future().share();
  router.Add("GET", "/slow", [&, stopping](HttpRequest&) {
    handler_started.set_value();
    stopping.wait();  // still running when Stop begins
    return JsonResponse(200, json::object{{"slow", true}});
  });
  router.Add("GET", "/fast", EchoAs("fast"));
  auto server = std::make_unique<HttpServer>();
  auto port = server->ListenTcp("127.0.0.1:0", &router, SmallLimits());
  REQUIRE(port.ok());
  REQUIRE(server->Start(2).ok());

  Client idle = Client::Tcp(*port);  // keep-alive, between requests when Stop comes
  REQUIRE(idle.Request("GET", "/fast").status == 200);
  Client busy = Client::Tcp(*port);
  busy.Send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n");
  handler_started.get_future().wait();

  std::thread stopper([&] { server->Stop(2s); });
  // Stop has begun once the listener no longer accepts; only then may /slow answer.
  CHECK(Eventually([&] { return !Client::Tcp(*port).connected(); }));
  stop_begun.set_value();
  RawResponse r = busy.Read();
  stopper.join();
  CHECK(r.status == 200);
  CHECK(r.Header("connection") == "close");
  CHECK(r.Json().at("slow") == true);
  CHECK(busy.WaitClosed());
  CHECK(idle.WaitClosed());
  CHECK(!Client::Tcp(*port).connected());  // no longer accepting
  CHECK(server->Stats().open_connections == 0);
}

// ---- where handlers run
// ----------------------------------------------------------------

TEST_CASE("a handler on the pool does not hold up the event loop", "[http][placement]") {
  Router router;
  std::promise<void> slow_started;
  std::promise<void> release_slow;
  std::shared_future<void> released = release_slow.get_future().share();
  std::thread::id slow_thread, inline_thread;
  router.Add("GET", "/slow", [&](HttpRequest&) {  // the default placement: the pool
    slow_thread = std::this_thread::get_id();
    slow_started.set_value();
    released.wait();
    return JsonResponse(200, json::object{{"slow", true}});
  });
  Placement on_loop;
  on_loop.run_inline = true;
  router.Add(
      "GET", "/quick",
      [&](HttpRequest&) {
        inline_thread = std::this_thread::get_id();
        return JsonResponse(200, json::object{{"quick", true}});
      },
      on_loop);
  HttpServer server;
  auto port = server.ListenTcp("127.0.0.1:0", &router, SmallLimits());
  REQUIRE(port.ok());
  REQUIRE(server.Start(1, 2).ok());  // one event-loop thread

  Client a = Client::Tcp(*port);
  a.Send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n");
  slow_started.get_future().wait();
  // The only event-loop thread still reads, routes and answers other connections
  // while the slow handler is blocked.
  Client b = Client::Tcp(*port);
  for (int i = 0; i < 3; ++i) CHECK(b.Request("GET", "/quick").status == 200);
  release_slow.set_value();
  RawResponse slow = a.Read();
  CHECK(slow.status == 200);
  CHECK(slow.Json().at("slow") == true);
  CHECK(slow_thread != inline_thread);
}

TEST_CASE("a runner runs the handler where it likes, or declines it to the pool",
          "[http][placement]") {
  Router router;
  std::mutex mu;
  std::vector<std::pair<std::function<HttpResponse()>, std::function<void(HttpResponse)>>>
      taken;
  std::condition_variable took;
  std::thread::id ran_on;
  Placement runner;
  runner.runner = [&](const HttpRequest& request, std::function<HttpResponse()> work,
                      std::function<void(HttpResponse)> answer) {
    if (request.query.count("decline")) return false;
    std::lock_guard lock(mu);
    taken.emplace_back(std::move(work), std::move(answer));
    took.notify_all();
    return true;
  };
  router.Add(
      "POST", "/:ws/items",
      [&](HttpRequest& request) {
        ran_on = std::this_thread::get_id();
        return JsonResponse(
            201, json::object{{"ws", request.params.at("ws")}, {"body", request.body}});
      },
      runner);
  HttpServer server;
  auto port = server.ListenTcp("127.0.0.1:0", &router, SmallLimits());
  REQUIRE(port.ok());
  REQUIRE(server.Start(1, 1).ok());

  SECTION("accepted: it runs on the runner's thread and answers through it") {
    Client c = Client::Tcp(*port);
    c.Send("POST /acme/items HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi");
    std::unique_lock lock(mu);
    took.wait(lock, [&] { return !taken.empty(); });
    auto [work, answer] = std::move(taken.front());
    lock.unlock();
    answer(work());  // here, on the test's thread
    RawResponse r = c.Read();
    CHECK(r.status == 201);
    CHECK(r.Json().at("ws") == "acme");
    CHECK(r.Json().at("body") == "hi");
    CHECK(ran_on == std::this_thread::get_id());
    // The connection is ready for its next request.
    c.Send("POST /acme/items?decline=1 HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
    CHECK(c.Read().status == 201);
  }
  SECTION("declined: the pool runs it") {
    Client c = Client::Tcp(*port);
    RawResponse r = c.Request("POST", "/acme/items?decline=1");
    CHECK(r.status == 201);
    CHECK(ran_on != std::this_thread::get_id());
    std::lock_guard lock(mu);
    CHECK(taken.empty());
  }
}

TEST_CASE("Stop waits for a handler a runner holds, and its answer is not lost",
          "[http][placement][stop]") {
  Router router;
  std::promise<
      std::pair<std::function<HttpResponse()>, std::function<void(HttpResponse)>>>
      handed;
  Placement runner;
  runner.runner = [&](const HttpRequest&, std::function<HttpResponse()> work,
                      std::function<void(HttpResponse)> answer) {
    handed.set_value({std::move(work), std::move(answer)});
    return true;
  };
  std::atomic<bool> handler_ran{false};
  router.Add(
      "DELETE", "/:ws/:project",
      [&](HttpRequest&) {
        handler_ran = true;
        return JsonResponse(200, json::object{{"trash", true}});
      },
      runner);
  auto server = std::make_unique<HttpServer>();
  auto port = server->ListenTcp("127.0.0.1:0", &router, SmallLimits());
  REQUIRE(port.ok());
  REQUIRE(server->Start(1).ok());
  Client c = Client::Tcp(*port);
  c.Send("DELETE /acme/vision HTTP/1.1\r\nHost: t\r\n\r\n");
  auto [work, answer] = handed.get_future().get();

  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    server->Stop(50ms);
    stopped = true;
  });
  // Past the drain (the connection is force-closed) and the force-close grace (no
  // connection is left): Stop still waits, because the runner has not answered. (It
  // would be a use-after-free for the runner to call back into a server that had
  // returned from Stop.)
  CHECK(c.WaitClosed());
  CHECK(Eventually([&] { return server->Stats().open_connections == 0; }));
  CHECK_FALSE(Eventually([&] { return stopped.load(); }, 500ms));
  answer(work());
  stopper.join();
  CHECK(stopped);
  CHECK(handler_ran);
}

TEST_CASE("Stats count requests by status class and open connections", "[http]") {
  TestServer t;
  Client c = t.Connect();
  CHECK(c.Request("GET", "/acme").status == 200);
  CHECK(c.Request("GET", "/a/b/c/d").status == 404);
  CHECK(c.Request("GET", "/boom").status == 500);
  ServerStats stats = t.server.Stats();
  CHECK(stats.requests_total == 3);
  CHECK(stats.responses_2xx == 1);
  CHECK(stats.responses_4xx == 1);
  CHECK(stats.responses_5xx == 1);
  CHECK(stats.connections_accepted == 1);
  CHECK(stats.open_connections == 1);
}

TEST_CASE("the access log gets one entry per response", "[http]") {
  Router router;
  router.Add("GET", "/:ws", EchoAs("workspace"));
  HttpServer server;
  std::mutex mu;
  std::vector<AccessLogEntry> entries;
  server.SetAccessLog([&](const AccessLogEntry& entry) {
    std::lock_guard lock(mu);
    entries.push_back(entry);
  });
  auto port = server.ListenTcp("127.0.0.1:0", &router, SmallLimits());
  REQUIRE(port.ok());
  REQUIRE(server.Start(1).ok());
  Client c = Client::Tcp(*port);
  CHECK(c.Request("GET", "/acme?x=1").status == 200);
  CHECK(c.Request("POST", "/acme").status == 405);
  server.Stop(1s);
  std::lock_guard lock(mu);
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].method == "GET");
  CHECK(entries[0].target == "/acme?x=1");
  CHECK(entries[0].status == 200);
  CHECK(entries[0].remote_address.starts_with("127.0.0.1:"));
  CHECK(entries[1].status == 405);
}

TEST_CASE("bad listen addresses and limits are refused", "[http]") {
  Router router;
  HttpServer server;
  CHECK(server.ListenTcp("nonsense", &router, {}).status().code() ==
        Code::kInvalidArgument);
  CHECK(server.ListenTcp("127.0.0.1:99999", &router, {}).status().code() ==
        Code::kInvalidArgument);
  ServerLimits no_timeout;
  no_timeout.request_timeout_ms = 0;
  CHECK(server.ListenTcp("127.0.0.1:0", &router, no_timeout).status().code() ==
        Code::kInvalidArgument);
  auto first = server.ListenTcp("[::1]:0", &router, {});
  auto v4 = server.ListenTcp("localhost:0", &router, {});
  CHECK(v4.ok());
  if (v4.ok()) {
    CHECK(server.ListenTcp("127.0.0.1:" + std::to_string(*v4), &router, {})
              .status()
              .code() == Code::kUnavailable);
  }
  (void)first;  // IPv6 may be off on this machine
}

// ---- slow clients: the whole request's deadline, early refusals, shares, body rate ---

// Sends `piece` every `every` from another thread until stopped (or `limit` passes),
// on its own descriptor-sharing client, so the test thread can wait for the answer.
class Trickle {
 public:
  Trickle(Client& client, std::string piece, std::chrono::milliseconds every)
      : thread_([this, &client, piece, every] {
          auto limit = std::chrono::steady_clock::now() + 8s;
          std::unique_lock lock(mu_);
          while (!stop_ && std::chrono::steady_clock::now() < limit) {
            client.Send(piece);
            stopped_.wait_for(lock, every, [this] { return stop_; });
          }
        }) {}
  ~Trickle() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    stopped_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable stopped_;
  bool stop_ = false;
  std::thread thread_;
};

TEST_CASE("a chunked body that never ends is answered 408 once the request time is up",
          "[http][limits]") {
  ServerLimits limits = SmallLimits();
  limits.request_timeout_ms = 300;
  limits.min_body_bytes_per_second = 0;  // only the request's deadline
  TestServer t(limits);
  Client c = t.Connect();
  c.Send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
  // A 1-byte chunk every 50 ms: never a pause as long as the timeout.
  RawResponse r;
  {
    Trickle trickle(c, "1\r\nx\r\n", 50ms);
    r = c.Read();
  }
  CHECK(r.status == 408);
  CHECK(c.WaitClosed());
}

TEST_CASE("a body slower than the minimum rate is cut off", "[http][limits]") {
  ServerLimits limits = SmallLimits();  // 10 s for the whole request
  limits.min_body_bytes_per_second = 1000;
  limits.body_rate_grace_ms = 100;
  TestServer t(limits);
  Client c = t.Connect();
  c.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n");
  RawResponse r;
  {
    Trickle trickle(c, "x", 50ms);  // 20 bytes a second
    r = c.Read();
  }
  CHECK(r.status == 408);
  CHECK(r.Json().at("error").as_string().find("slower than 1000 bytes per second") !=
        std::string::npos);
  CHECK(c.WaitClosed());

  // A body at a good rate is served.
  Client fast = t.Connect();
  CHECK(fast.Request("POST", "/echo", std::string(1000, 'y')).status == 200);
}

TEST_CASE("an early check refuses a request from its head, without its body",
          "[http][limits]") {
  Router router;
  Placement checked;
  checked.early_check = [](const HttpRequest& request) -> std::optional<HttpResponse> {
    if (request.Header("authorization") == "Bearer good") return std::nullopt;
    return ErrorResponse(401, "Invalid or missing API key.");
  };
  router.Add("PUT", "/:ws/images/:name", EchoAs("upload"), checked);
  HttpServer server;
  auto port = server.ListenTcp("127.0.0.1:0", &router, SmallLimits());
  REQUIRE(port.ok());
  REQUIRE(server.Start(2).ok());

  // No key: answered while the body has not been sent at all.
  Client keyless = Client::Tcp(*port);
  keyless.Send(
      "PUT /acme/images/a.png HTTP/1.1\r\nHost: t\r\nContent-Length: 500\r\n\r\n");
  RawResponse refused = keyless.Read();
  CHECK(refused.status == 401);
  CHECK(refused.Json().at("error") == "Invalid or missing API key.");
  CHECK(refused.Header("connection") == "close");
  CHECK(keyless.WaitClosed());

  // With the key, the body is read and the handler answers.
  Client keyed = Client::Tcp(*port);
  RawResponse served = keyed.Request("PUT", "/acme/images/a.png", std::string(500, 'z'),
                                     "Authorization: Bearer good\r\n");
  CHECK(served.status == 200);
  CHECK(served.Json().at("body").as_string().size() == 500);
}

TEST_CASE("one client address cannot take more than its share of the connections",
          "[http][limits]") {
  ServerLimits limits = SmallLimits();
  limits.max_connections = 4;
  limits.max_connections_per_address = 2;
  TestServer t(limits);
  Client first = Client::Tcp(t.port, "127.0.0.1");
  Client second = Client::Tcp(t.port, "127.0.0.1");
  REQUIRE(first.Request("GET", "/acme").status == 200);
  REQUIRE(second.Request("GET", "/acme").status == 200);

  Client third = Client::Tcp(t.port, "127.0.0.1");
  RawResponse refused = third.Read();
  CHECK(refused.status == 503);
  CHECK(third.WaitClosed());

  // Another address is still served, and the first address is once one of its own
  // connections closes.
  Client other = Client::Tcp(t.port, "127.0.0.2");
  REQUIRE(other.connected());
  CHECK(other.Request("GET", "/acme").status == 200);
  CHECK(first.Request("GET", "/acme", "", "Connection: close\r\n").status == 200);
  CHECK(first.WaitClosed());
  CHECK(Client::Tcp(t.port, "127.0.0.1").Request("GET", "/acme").status == 200);
}

}  // namespace
}  // namespace trashd
