// The Server object and its listeners; one connection's cycle is in connection.cc
// (the only file with Beast) and the state they share in server_state.cc.
//
// Shape: one io_context run by a few event-loop threads; every acceptor has its own
// strand, and so does every connection it accepts. A listener checks a new connection
// against max_connections and the `allow` function, then hands it over to serve or
// refuse.
#include "http/server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "http/connection.h"
#include "http/server_state.h"
#include "util/listen_address.h"
#include "util/thread_name.h"

namespace trashd {

namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using SteadyClock = std::chrono::steady_clock;
using Milliseconds = std::chrono::milliseconds;
using Tcp = asio::ip::tcp;
using Local = asio::local::stream_protocol;
using http_internal::Connection;
using http_internal::ListenerConfig;
using http_internal::ServerState;

// Accepting fails for a while when the process is out of file descriptors.
constexpr Milliseconds kAcceptRetry{100};
// How long Stop waits for force-closed connections to wind down before it stops
// the event loop anyway.
constexpr Milliseconds kForceCloseGrace{500};

// ---- a listener --------------------------------------------------------------------

class ListenerBase {
 public:
  virtual ~ListenerBase() = default;
  virtual void Start() = 0;
  virtual void Close() = 0;  // thread-safe: posts to the listener's strand
};

template <class Protocol>
class Listener final : public ListenerBase,
                       public std::enable_shared_from_this<Listener<Protocol>> {
 public:
  using Acceptor = typename Protocol::acceptor;

  Listener(asio::io_context& ioc, Acceptor acceptor,
           std::shared_ptr<ListenerConfig> config)
      : ioc_(ioc),
        executor_(acceptor.get_executor()),
        acceptor_(std::move(acceptor)),
        retry_timer_(executor_),
        config_(std::move(config)) {}

  void Start() override {
    asio::post(executor_, [self = this->shared_from_this()] { self->Accept(); });
  }

  void Close() override {
    asio::post(executor_, [self = this->shared_from_this()] {
      error_code ignored;
      self->acceptor_.close(ignored);
      self->retry_timer_.cancel();
    });
  }

 private:
  void Accept() {
    if (!acceptor_.is_open() || config_->state->stopping.load()) return;
    acceptor_.async_accept(asio::make_strand(ioc_),
                           [self = this->shared_from_this()](
                               error_code ec, typename Protocol::socket socket) {
                             self->OnAccept(ec, std::move(socket));
                           });
  }

  void OnAccept(error_code ec, typename Protocol::socket socket) {
    ServerState& state = *config_->state;
    if (ec == asio::error::operation_aborted || !acceptor_.is_open() ||
        state.stopping.load()) {
      return;
    }
    if (ec) {
      // Out of descriptors or memory, or the client gave up already: try again, after
      // a pause unless it was only the client.
      if (ec == asio::error::connection_aborted) return Accept();
      retry_timer_.expires_after(kAcceptRetry);
      retry_timer_.async_wait([self = this->shared_from_this()](error_code ec) {
        if (!ec) self->Accept();
      });
      return;
    }
    ++state.connections_accepted;
    try {
      Admit(std::move(socket));
    } catch (const std::exception&) {  // out of memory: the socket closes as it unwinds
    }
    Accept();
  }

  void Admit(typename Protocol::socket socket) {
    ServerState& state = *config_->state;
    PeerCredentials peer;
    std::string remote;
    std::string address;  // whose share of the connections this one takes
    error_code ignored;
    if constexpr (std::is_same_v<Protocol, Tcp>) {
      socket.set_option(Tcp::no_delay(true), ignored);
      auto endpoint = socket.remote_endpoint(ignored);
      address = endpoint.address().to_string();
      remote = address + ":" + std::to_string(endpoint.port());
    } else {
      struct ucred cred {};
      socklen_t len = sizeof(cred);
      if (getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
        peer.has_creds = true;
        peer.uid = cred.uid;
        peer.gid = cred.gid;
        peer.pid = cred.pid;
      }
      remote = "unix";
    }
    auto connection = Connection::Open(Connection::Socket(std::move(socket)), config_,
                                       peer, std::move(remote));
    state.Register(connection);

    switch (config_->TakeSlot(address)) {
      case ListenerConfig::SlotRefusal::kNone:
        break;
      case ListenerConfig::SlotRefusal::kListenerFull:
        ++state.connections_refused;
        return connection->Refuse(
            503, "The server has too many open connections; try again later");
      case ListenerConfig::SlotRefusal::kAddressFull:
        ++state.connections_refused;
        return connection->Refuse(
            503, "Too many open connections from your address; try again later");
    }
    bool allowed = true;
    if (config_->allow) {
      try {
        allowed = config_->allow(peer);
      } catch (...) {
        allowed = false;
      }
    }
    if (!allowed) {
      ++state.connections_refused;
      std::string who = peer.has_creds ? "uid " + std::to_string(peer.uid) + " (gid " +
                                             std::to_string(peer.gid) + ")"
                                       : "a peer without credentials";
      config_->ReleaseSlot(address);
      connection->Refuse(403, "This socket does not accept " + who);
      return;
    }
    connection->Serve(std::move(address));
  }

  asio::io_context& ioc_;
  const asio::any_io_executor executor_;  // a strand
  Acceptor acceptor_;
  asio::steady_timer retry_timer_;
  std::shared_ptr<ListenerConfig> config_;
};

Status CheckLimits(const ServerLimits& limits) {
  if (limits.max_header_bytes == 0 || limits.max_connections == 0 ||
      limits.request_timeout_ms <= 0 || limits.idle_timeout_ms <= 0 ||
      limits.body_rate_grace_ms < 0) {
    return InvalidArgument(
        "HTTP limits need a positive header size, connection count and timeouts");
  }
  return Status::Ok();
}

// The endpoint of a listen address, read by the parser the settings use.
Result<Tcp::endpoint> EndpointOf(const std::string& text) {
  TRASHD_ASSIGN_OR_RETURN(ListenAddress parsed, ParseListenAddress(text));
  error_code ec;
  auto address =
      asio::ip::make_address(parsed.host == "localhost" ? "127.0.0.1" : parsed.host, ec);
  if (ec) return InvalidArgument("\"" + text + "\": " + ec.message());
  return Tcp::endpoint(address, parsed.port);
}

// True if a process accepts connections on the Unix socket at `path`.
bool SomeoneListensOn(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.data(), path.size());
  bool live = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return live;
}

}  // namespace

// ---- the server --------------------------------------------------------------------

struct HttpServer::Impl {
  // Declared first so it is destroyed last: connections still queued in the
  // io_context when it is destroyed report their closing here.
  ServerState state;
  asio::io_context ioc;
  Impl() { state.ioc = &ioc; }
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;

  std::mutex mu;  // guards what follows
  bool started = false;
  bool stopped = false;
  std::vector<std::shared_ptr<ListenerBase>> listeners;
  struct UnixSocketFile {
    std::string path;
    dev_t dev;
    ino_t ino;
  };
  std::vector<UnixSocketFile> socket_files;
  std::vector<std::thread> threads;
  std::optional<asio::thread_pool> pool;

  void Run() {
    for (;;) {
      try {
        ioc.run();
        return;
      } catch (const std::exception& e) {  // a bug: log it and keep serving
        std::fprintf(stderr, "trashd: HTTP event loop: %s\n", e.what());
      }
    }
  }

  template <class Protocol>
  void AddListener(typename Protocol::acceptor acceptor, Router* router,
                   ServerLimits limits,
                   std::function<bool(const PeerCredentials&)> allow) {
    auto config = std::make_shared<ListenerConfig>();
    config->router = router;
    config->limits = limits;
    config->allow = std::move(allow);
    config->state = &state;
    auto listener =
        std::make_shared<Listener<Protocol>>(ioc, std::move(acceptor), config);
    listener->Start();
    listeners.push_back(std::move(listener));
    std::lock_guard<std::mutex> lock(configs_mu);
    configs.push_back(config);
  }

  std::mutex configs_mu;
  std::vector<std::shared_ptr<ListenerConfig>> configs;
};

HttpServer::HttpServer() : impl_(std::make_unique<Impl>()) {}

Status HttpServer::UpdateLimits(const Router* router, ServerLimits limits) {
  TRASHD_RETURN_IF_ERROR(CheckLimits(limits));
  std::lock_guard<std::mutex> lock(impl_->configs_mu);
  for (auto& config : impl_->configs) {
    if (config->router == router) config->SetLimits(limits);
  }
  return Status::Ok();
}

HttpServer::~HttpServer() { Stop(Milliseconds(0)); }

Result<uint16_t> HttpServer::ListenTcp(const std::string& address_port, Router* router,
                                       ServerLimits limits) {
  TRASHD_RETURN_IF_ERROR(CheckLimits(limits));
  if (router == nullptr) return InvalidArgument("a listener needs a router");
  TRASHD_ASSIGN_OR_RETURN(Tcp::endpoint endpoint, EndpointOf(address_port));

  std::lock_guard lock(impl_->mu);
  if (impl_->stopped) return Unavailable("the HTTP server is stopped");
  Tcp::acceptor acceptor(asio::make_strand(impl_->ioc));
  error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  Tcp::endpoint bound;
  if (!ec) bound = acceptor.local_endpoint(ec);
  if (ec == asio::error::address_in_use) {
    return Unavailable("cannot listen on " + address_port +
                       ": the address is already in use (another process listens on "
                       "port " +
                       std::to_string(endpoint.port()) + ")");
  }
  if (ec) return Unavailable("cannot listen on " + address_port + ": " + ec.message());
  impl_->AddListener<Tcp>(std::move(acceptor), router, limits, nullptr);
  return bound.port();
}

Status HttpServer::ListenUnix(const std::string& path, mode_t mode, Router* router,
                              ServerLimits limits,
                              std::function<bool(const PeerCredentials&)> allow) {
  TRASHD_RETURN_IF_ERROR(CheckLimits(limits));
  if (router == nullptr) return InvalidArgument("a listener needs a router");
  if (path.empty() || path.size() >= sizeof(sockaddr_un{}.sun_path) ||
      path.find('\0') != std::string::npos) {
    return InvalidArgument("socket path '" + path + "' must be 1 to " +
                           std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) +
                           " bytes long");
  }

  std::lock_guard lock(impl_->mu);
  if (impl_->stopped) return Unavailable("the HTTP server is stopped");
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return InvalidArgument("cannot listen on " + path +
                             ": it exists and is not a socket");
    }
    if (SomeoneListensOn(path)) {
      return Unavailable("cannot listen on " + path + ": another process is listening");
    }
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return Unavailable("cannot remove the stale socket " + path + ": " +
                         std::strerror(errno));
    }
  } else if (errno != ENOENT) {
    return Unavailable("cannot listen on " + path + ": " + std::strerror(errno));
  }

  Local::acceptor acceptor(asio::make_strand(impl_->ioc));
  error_code ec;
  acceptor.open(Local(), ec);
  if (!ec) acceptor.bind(Local::endpoint(path), ec);
  if (ec) return Unavailable("cannot listen on " + path + ": " + ec.message());
  // Before listen(): until then nobody can connect, whatever the umask allowed.
  if (::chmod(path.c_str(), mode) != 0 || ::lstat(path.c_str(), &st) != 0) {
    Status status =
        Unavailable("cannot set the mode of " + path + ": " + std::strerror(errno));
    ::unlink(path.c_str());
    return status;
  }
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    ::unlink(path.c_str());
    return Unavailable("cannot listen on " + path + ": " + ec.message());
  }
  impl_->socket_files.push_back({path, st.st_dev, st.st_ino});
  impl_->AddListener<Local>(std::move(acceptor), router, limits, std::move(allow));
  return Status::Ok();
}

void HttpServer::SetAccessLog(std::function<void(const AccessLogEntry&)> log) {
  std::lock_guard lock(impl_->mu);
  impl_->state.access_log = std::move(log);
}

Status HttpServer::Start(int threads, int pool_threads) {
  if (threads < 1 || pool_threads < 1) {
    return InvalidArgument("the HTTP server needs at least one thread of each kind");
  }
  std::lock_guard lock(impl_->mu);
  if (impl_->started || impl_->stopped) {
    return InvalidArgument("the HTTP server can be started only once");
  }
  impl_->work.emplace(impl_->ioc.get_executor());
  try {
    impl_->pool.emplace(static_cast<size_t>(pool_threads));
    impl_->state.pool = &*impl_->pool;
    for (int i = 0; i < threads; ++i) {
      impl_->threads.emplace_back([impl = impl_.get()] { impl->Run(); });
      NameThread(impl_->threads.back(), "trashd-http");
    }
  } catch (const std::system_error& e) {
    impl_->started = true;  // so Stop joins the threads that did start
    return Unavailable(std::string("cannot start HTTP threads: ") + e.what());
  }
  impl_->started = true;
  return Status::Ok();
}

void HttpServer::Stop(std::chrono::milliseconds drain) {
  Impl& impl = *impl_;
  std::lock_guard lock(impl.mu);
  if (impl.stopped) return;
  impl.stopped = true;
  impl.state.stopping = true;

  for (auto& listener : impl.listeners) listener->Close();
  for (const auto& file : impl.socket_files) {
    struct stat st {};
    if (::lstat(file.path.c_str(), &st) == 0 && st.st_dev == file.dev &&
        st.st_ino == file.ino) {
      ::unlink(file.path.c_str());
    }
  }
  if (!impl.started) return;  // nothing ever ran; the destructor frees it all

  for (auto& connection : impl.state.LiveConnections()) connection->RequestStop();
  if (!impl.state.WaitForNoConnections(SteadyClock::now() + drain)) {
    for (auto& connection : impl.state.LiveConnections()) connection->ForceClose();
    impl.state.WaitForNoConnections(SteadyClock::now() + kForceCloseGrace);
  }
  // A handler off the event loop cannot be interrupted: wait until each has answered,
  // and start no other.
  impl.state.CloseWorkAndWait();
  if (impl.pool) impl.pool->join();
  impl.work.reset();
  impl.ioc.stop();
  for (auto& thread : impl.threads) thread.join();
  impl.threads.clear();
  impl.state.DropAnswers();
}

ServerStats HttpServer::Stats() const {
  const ServerState& state = impl_->state;
  ServerStats stats;
  stats.requests_total = state.requests_total.load();
  stats.responses_2xx = state.responses_by_class[1].load();
  stats.responses_3xx = state.responses_by_class[2].load();
  stats.responses_4xx = state.responses_by_class[3].load();
  stats.responses_5xx = state.responses_by_class[4].load();
  stats.connections_accepted = state.connections_accepted.load();
  stats.connections_refused = state.connections_refused.load();
  stats.open_connections = state.open_connections.load();
  return stats;
}

}  // namespace trashd
