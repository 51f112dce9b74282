// bench_abuse SCALE [max_connections]: what well-behaved clients see of the real trashd
// binary while abusive clients run against it (issue 13). Reported, never asserted;
// the target is p99 < 50 ms for both kinds of well-behaved client.
//
// Well-behaved clients, each GET /:ws/trash (20 items) every 20 ms from 127.0.0.1:
//   keep-alive  4 clients, each on its one keep-alive connection
//   new         4 clients, each request on a new connection (connect included)
// Abusive clients, each kind from its own loopback addresses (127.0.N.x), so the
// per-address cap (limits.max_connections_per_address) is not what stops them:
//   idle        10,000 connections (x SCALE) that never send a byte, 200 per address,
//               reopened when the server closes them
//   slowloris   500 connections sending a request's headers one byte a second
//   headers     2 clients sending 1 MiB header lines back to back
//   body-fast   1 client sending a chunked upload body as fast as it can, forever
//   body-slow   200 connections sending a chunked body without a key, a byte a second
// First a baseline without abuse, then the abuse; each window lasts 20 s x SCALE.
//
// The daemon runs its defaults except rate_limit_per_key: 0 (one key drives all the
// reads) and, when argv[2] gives one, max_connections (the default, 16384, holds the
// 10,000 idle connections and serves everyone else; the old 1024 answered every
// well-behaved client 503). The program raises its open file limit to the hard limit
// (the daemon inherits it); `ulimit -Hn` must allow about 11,000 descriptors.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "http_trashd.h"

namespace trashd::bench {
namespace {

using Clock = std::chrono::steady_clock;
using testing::Client;
using testing::RawResponse;

std::atomic<bool> g_stop{false};

// A non-blocking TCP connection to 127.0.0.1:port from `from`; -1 on failure.
int Connect(uint16_t port, const std::string& from) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in local{};
  local.sin_family = AF_INET;
  inet_pton(AF_INET, from.c_str(), &local.sin_addr);
  sockaddr_in server{};
  server.sin_family = AF_INET;
  server.sin_port = htons(port);
  server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&server), sizeof(server)) != 0) {
    ::close(fd);
    return -1;
  }
  ::fcntl(fd, F_SETFL, O_NONBLOCK);
  return fd;
}

std::string Address(int net, size_t index, size_t per_address) {
  return "127.0." + std::to_string(net) + "." + std::to_string(1 + index / per_address);
}

// Whether the server has closed `fd` (or sent something: an error answer ends it too).
bool ServerSpoke(int fd) {
  char buf[4096];
  ssize_t n = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) || n > 0;
}

// A set of connections that each send `opening` at once, then `trickle` one byte every
// `every`; one the server closes is reopened. Counts the reopenings.
struct Trickle {
  std::string name;
  int net;
  size_t count;
  size_t per_address;
  std::string opening;
  std::string trickle;  // empty: send nothing after the opening
  std::chrono::milliseconds every{1000};
  std::atomic<uint64_t> opened{0};
  std::atomic<uint64_t> closed_by_server{0};
  std::atomic<uint64_t> open_now{0};

  void Run(uint16_t port) {
    std::vector<int> fds(count, -1);
    std::vector<size_t> sent(count, 0);
    while (!g_stop) {
      const auto pass = Clock::now();
      uint64_t open = 0;
      for (size_t i = 0; i < count && !g_stop; ++i) {
        if (fds[i] >= 0 && ServerSpoke(fds[i])) {
          ::close(fds[i]);
          fds[i] = -1;
          closed_by_server++;
        }
        if (fds[i] < 0) {
          fds[i] = Connect(port, Address(net, i, per_address));
          if (fds[i] < 0) continue;
          opened++;
          sent[i] = 0;
          if (!opening.empty())
            (void)::send(fds[i], opening.data(), opening.size(), MSG_NOSIGNAL);
        } else if (!trickle.empty()) {
          char c = trickle[sent[i]++ % trickle.size()];
          (void)::send(fds[i], &c, 1, MSG_NOSIGNAL);
        }
        ++open;
      }
      open_now = open;
      std::this_thread::sleep_until(pass + every);
    }
    for (int fd : fds) {
      if (fd >= 0) ::close(fd);
    }
  }
};

// Connections that send `request_head` and then `body_chunk` over and over until the
// server answers or closes; counts the answers by status. Run may run on several
// threads at once.
struct Flood {
  std::string name;
  int net;
  int clients = 1;  // threads running Run at once
  std::string request_head;
  std::string body_chunk;
  std::atomic<uint64_t> rounds{0};
  std::atomic<uint64_t> bytes_sent{0};
  std::mutex mu{};
  std::map<std::string, uint64_t> answers{};

  void Run(uint16_t port) {
    while (!g_stop) {
      int fd = Connect(port, Address(net, 0, 1));
      if (fd < 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        continue;
      }
      (void)::send(fd, request_head.data(), request_head.size(), MSG_NOSIGNAL);
      std::string answer;
      while (!g_stop) {
        pollfd p{fd, POLLIN | POLLOUT, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
          char buf[512];
          ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
          if (n > 0) answer.assign(buf, static_cast<size_t>(n));
          break;
        }
        ssize_t n = ::send(fd, body_chunk.data(), body_chunk.size(), MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN) break;
        if (n > 0) bytes_sent += static_cast<uint64_t>(n);
      }
      ::close(fd);
      rounds++;
      std::string status = answer.size() >= 12 ? answer.substr(9, 3) : "closed";
      std::lock_guard lock(mu);
      answers[status]++;
    }
  }

  std::string Answers() {
    std::lock_guard lock(mu);
    std::string out;
    for (const auto& [status, n] : answers) {
      out += (out.empty() ? "" : " ") + status + "x" + std::to_string(n);
    }
    return out.empty() ? "none" : out;
  }
};

struct Probe {
  std::vector<double> latencies_ms;
  std::map<int, uint64_t> other;  // status -> count (0: no answer)
};

// One well-behaved client: GET /:ws/trash every 20 ms until `until`.
Probe RunProbe(uint16_t port, const std::string& target, bool keep_alive,
               Clock::time_point until) {
  Probe probe;
  std::optional<Client> client;
  while (Clock::now() < until) {
    const auto began = Clock::now();
    if (!keep_alive || !client || !client->connected()) client.emplace(Client::Tcp(port));
    RawResponse r = client->connected() ? client->Request("GET", target) : RawResponse{};
    const double ms =
        std::chrono::duration<double, std::milli>(Clock::now() - began).count();
    if (r.status == 200) {
      probe.latencies_ms.push_back(ms);
    } else {
      probe.other[r.status]++;
      client.reset();
    }
    if (r.Header("connection") == "close") client.reset();
    std::this_thread::sleep_until(began + std::chrono::milliseconds(20));
  }
  return probe;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i =
      std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  return v[i];
}

// Four clients of each kind for `seconds`; prints one line per kind.
void Measure(const char* phase, uint16_t port, const std::string& target,
             double seconds) {
  const auto until =
      Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  std::vector<std::thread> threads;
  std::vector<Probe> probes(8);
  for (size_t i = 0; i < probes.size(); ++i) {
    threads.emplace_back([&, i] { probes[i] = RunProbe(port, target, i < 4, until); });
  }
  for (auto& t : threads) t.join();
  for (size_t kind = 0; kind < 2; ++kind) {
    Probe all;
    for (size_t i = kind * 4; i < kind * 4 + 4; ++i) {
      all.latencies_ms.insert(all.latencies_ms.end(), probes[i].latencies_ms.begin(),
                              probes[i].latencies_ms.end());
      for (const auto& [status, n] : probes[i].other) all.other[status] += n;
    }
    std::string other;
    for (const auto& [status, n] : all.other) {
      other += " " + std::to_string(status) + "x" + std::to_string(n);
    }
    const double p99 = Percentile(all.latencies_ms, 0.99);
    std::printf(
        "%-9s %-10s GET /:ws/trash  ok %6zu  p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms"
        "  failed:%s  %s\n",
        phase, kind == 0 ? "keep-alive" : "new", all.latencies_ms.size(),
        Percentile(all.latencies_ms, 0.5), p99, Percentile(all.latencies_ms, 1.0),
        other.empty() ? " none" : other.c_str(),
        p99 < 50 && all.other.empty() ? "(target p99 < 50 ms: met)"
                                      : "(target p99 < 50 ms: NOT met)");
    std::fflush(stdout);
  }
}

std::string RssOf(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return line.substr(6);
  }
  return "?";
}

void RaiseFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  getrlimit(RLIMIT_NOFILE, &limit);
  std::printf("open file limit: %llu\n", static_cast<unsigned long long>(limit.rlim_cur));
}

int Main(int argc, char** argv) {
  const double scale = ParseScale(argc, argv);
  const std::string max_connections = argc > 2 ? argv[2] : "";
  RaiseFileLimit();
  const double seconds = std::max(2.0, 20 * scale);
  ScratchDir dir("bench-abuse");
  TrashdProcess daemon(
      TRASHD_BENCH_TRASHD, dir.Sub("daemon"), dir.Sub("data"),
      "limits:\n  rate_limit_per_key: 0\n" +
          (max_connections.empty() ? std::string()
                                   : "  max_connections: " + max_connections + "\n"));
  daemon.Start();
  const std::string key = SetUpWorkspace(daemon, "acme");
  Client api = daemon.Api();
  CreateOverApi(api, "acme", key, "project", "cars");
  for (int i = 0; i < 20; ++i) {
    std::string id = CreateOverApi(api, "acme", key, "project", "p" + std::to_string(i));
    Check(
        api.Request("DELETE", "/acme/r/project/" + id + "?api_key=" + key).status == 200,
        "trashing a project");
  }
  const std::string target = "/acme/trash?api_key=" + key;
  const uint16_t port = daemon.port();
  std::printf("max_connections %s; each window %.0f s; daemon RSS %s\n",
              max_connections.empty() ? "default" : max_connections.c_str(), seconds,
              RssOf(daemon.pid()).c_str());
  Measure("baseline", port, target, seconds);

  Trickle idle{.name = "idle",
               .net = 1,
               .count = Scaled(10000, scale, 100),
               .per_address = 200,
               .opening = "",
               .trickle = ""};
  Trickle slowloris{.name = "slowloris",
                    .net = 2,
                    .count = 500,
                    .per_address = 100,
                    .opening = "GET /acme/trash HTTP/1.1\r\n",
                    .trickle = "X-Slow: aaaaaaaaaaaaaaaaaaaa\r\n"};
  Trickle body_slow{.name = "body-slow",
                    .net = 3,
                    .count = 200,
                    .per_address = 100,
                    .opening =
                        "PUT /acme/cars/images/slow.jpg HTTP/1.1\r\nHost: x\r\n"
                        "Transfer-Encoding: chunked\r\n\r\n",
                    .trickle = "1\r\nx\r\n"};
  Flood headers{.name = "headers",
                .net = 4,
                .clients = 2,
                .request_head = "GET /acme/trash HTTP/1.1\r\nHost: x\r\nX-Big: ",
                .body_chunk = std::string(64 << 10, 'h')};
  std::string chunk(64 << 10, 'b');
  Flood body_fast{
      .name = "body-fast",
      .net = 5,
      .request_head = "PUT /acme/cars/images/endless.jpg?api_key=" + key +
                      " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
      .body_chunk = "10000\r\n" + chunk + "\r\n"};
  std::vector<std::thread> abusers;
  for (Trickle* t : {&idle, &slowloris, &body_slow}) {
    abusers.emplace_back([t, port] { t->Run(port); });
  }
  for (Flood* f : {&headers, &body_fast}) {
    for (int c = 0; c < f->clients; ++c)
      abusers.emplace_back([f, port] { f->Run(port); });
  }
  // Until the idle connections are all open (or 60 s).
  Stopwatch opening;
  while (idle.open_now < idle.count && opening.Ms() < 60000) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  std::printf("abuse running: %llu idle connections open after %.1f s; daemon RSS %s\n",
              static_cast<unsigned long long>(idle.open_now.load()), opening.Ms() / 1000,
              RssOf(daemon.pid()).c_str());
  Measure("abused", port, target, seconds);
  std::printf("daemon RSS %s\n", RssOf(daemon.pid()).c_str());
  for (Trickle* t : {&idle, &slowloris, &body_slow}) {
    std::printf("  %-9s open %llu of %zu, opened %llu, closed by the server %llu\n",
                t->name.c_str(), static_cast<unsigned long long>(t->open_now.load()),
                t->count, static_cast<unsigned long long>(t->opened.load()),
                static_cast<unsigned long long>(t->closed_by_server.load()));
  }
  for (Flood* f : {&headers, &body_fast}) {
    std::printf("  %-9s rounds %llu, %.1f MiB sent, answers %s\n", f->name.c_str(),
                static_cast<unsigned long long>(f->rounds.load()),
                static_cast<double>(f->bytes_sent.load()) / (1 << 20),
                f->Answers().c_str());
  }
  g_stop = true;
  for (auto& t : abusers) t.join();
  return 0;
}

}  // namespace
}  // namespace trashd::bench

int main(int argc, char** argv) { return trashd::bench::Main(argc, argv); }
