// The only translation unit that includes Beast (it is heavy to compile).
//
// Shape: one io_context run by a few event-loop threads; every connection and every
// acceptor has its own strand, so a connection's state is only ever touched by one
// thread at a time and needs no lock. A connection is a small state machine (Phase)
// driven by completion handlers; one steady_timer per connection enforces whichever
// timeout the current phase has. A handler runs where its route's Placement says:
// inline on the connection's strand, on the blocking pool (an asio::thread_pool), or
// through the route's runner; the last two answer by posting back to the strand.
#include "http/server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <cctype>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace trashd {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;
using SteadyClock = std::chrono::steady_clock;
using Milliseconds = std::chrono::milliseconds;
using Tcp = asio::ip::tcp;
using Local = asio::local::stream_protocol;

// After the last response of a connection we stop sending and read (and drop) what
// the client still sends for a moment before closing: closing a socket with unread
// input makes the kernel send a reset, which can destroy the response in flight
// (a 413 answered before the body was read, say).
constexpr Milliseconds kMaxLinger{2000};
constexpr size_t kMaxLingerBytes = 1u << 20;
// Accepting fails for a while when the process is out of file descriptors.
constexpr Milliseconds kAcceptRetry{100};
// How long Stop waits for force-closed connections to wind down before it stops
// the event loop anyway.
constexpr Milliseconds kForceCloseGrace{500};

const char* const kInternalError = "Internal server error";

// ---- state shared by the server, its listeners and connections ---------------------

class ConnectionBase {
 public:
  virtual ~ConnectionBase() = default;
  // Both may be called from any thread; they post to the connection's strand.
  // RequestStop closes the connection if no request has begun; otherwise it closes
  // after answering the request under way. ForceClose closes it now.
  virtual void RequestStop() = 0;
  virtual void ForceClose() = 0;
};

struct ServerState {
  std::atomic<uint64_t> requests_total{0};
  std::array<std::atomic<uint64_t>, 5> responses_by_class{};  // 1xx .. 5xx
  std::atomic<uint64_t> connections_accepted{0};
  std::atomic<uint64_t> connections_refused{0};
  std::atomic<uint64_t> open_connections{0};
  std::atomic<bool> stopping{false};
  std::function<void(const AccessLogEntry&)> access_log;  // set before Start
  asio::thread_pool* pool = nullptr;  // for handlers that may block; set by Start
  asio::io_context* ioc = nullptr;    // the event loop

  std::mutex mu;
  std::condition_variable connection_closed;
  std::unordered_map<ConnectionBase*, std::weak_ptr<ConnectionBase>> live;  // by mu

  void Register(const std::shared_ptr<ConnectionBase>& connection) {
    std::lock_guard lock(mu);
    live.emplace(connection.get(), connection);
  }
  void Unregister(ConnectionBase* connection) {
    std::lock_guard lock(mu);
    live.erase(connection);
  }
  std::vector<std::shared_ptr<ConnectionBase>> LiveConnections() {
    std::vector<std::shared_ptr<ConnectionBase>> out;
    std::lock_guard lock(mu);
    for (auto& [raw, weak] : live) {
      if (auto strong = weak.lock()) out.push_back(std::move(strong));
    }
    return out;
  }
  // Handlers running off the event loop (on the pool or a runner), by mu. Once Stop
  // has closed the count, no new one starts.
  int works_running = 0;
  bool works_closed = false;
  std::condition_variable work_finished;
  bool TryStartWork() {
    std::lock_guard lock(mu);
    if (works_closed) return false;
    ++works_running;
    return true;
  }
  void WorkFinished() {
    std::lock_guard lock(mu);  // notified under the lock: Stop may free us right after
    --works_running;
    work_finished.notify_all();
  }
  void CloseWorkAndWait() {
    std::unique_lock lock(mu);
    works_closed = true;
    work_finished.wait(lock, [&] { return works_running == 0; });
  }

  // Answers coming from other threads (the pool, a runner) gather here and reach the
  // event loop with one post: a store batch answers many requests at once, and each
  // post from outside the loop may have to wake it.
  // Each answer runs on its connection's strand.
  using Answer = std::pair<asio::any_io_executor, std::function<void()>>;
  std::mutex answers_mu;
  std::vector<Answer> answers;  // by answers_mu
  bool answers_posted = false;  // by answers_mu
  void PostAnswer(asio::any_io_executor strand, std::function<void()> answer) {
    bool post;
    {
      std::lock_guard lock(answers_mu);
      answers.emplace_back(std::move(strand), std::move(answer));
      post = !answers_posted;
      answers_posted = true;
    }
    if (post) asio::post(*ioc, [this] { DeliverAnswers(); });
  }
  void DeliverAnswers() {
    std::vector<Answer> ready;
    {
      std::lock_guard lock(answers_mu);
      ready.swap(answers);
      answers_posted = false;
    }
    for (auto& [strand, answer] : ready) asio::post(strand, std::move(answer));
  }

  // At Stop, after the event loop has stopped: answers it never delivered let go of
  // their connections while the io_context still exists.
  void DropAnswers() {
    std::vector<Answer> dropped;
    std::lock_guard lock(answers_mu);
    dropped.swap(answers);
  }

  void ConnectionOpened() { ++open_connections; }
  void ConnectionClosed() {
    --open_connections;
    { std::lock_guard lock(mu); }  // so a waiter cannot miss the notification
    connection_closed.notify_all();
  }
  // Waits until no connection is open or `deadline` passes; true if none is open.
  bool WaitForNoConnections(SteadyClock::time_point deadline) {
    std::unique_lock lock(mu);
    return connection_closed.wait_until(lock, deadline,
                                        [&] { return open_connections.load() == 0; });
  }
  void CountResponse(int status) {
    ++requests_total;
    int status_class = status / 100;
    if (status_class >= 1 && status_class <= 5) ++responses_by_class[status_class - 1];
  }
};

// What a listener's connections share. Owned jointly by the listener and them.
struct ListenerConfig {
  Router* router = nullptr;
  // Read once per connection, at accept: a reload changes them for new connections.
  ServerLimits Limits() const {
    std::lock_guard<std::mutex> lock(limits_mu);
    return limits;
  }
  void SetLimits(const ServerLimits& l) {
    std::lock_guard<std::mutex> lock(limits_mu);
    limits = l;
  }
  mutable std::mutex limits_mu;
  ServerLimits limits;
  std::function<bool(const PeerCredentials&)> allow;
  ServerState* state = nullptr;
  std::atomic<size_t> slots_used{0};  // connections counted against max_connections
};

bool IsHeaderValue(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

bool IsServerOwnedHeader(std::string_view name) {
  for (std::string_view owned :
       {"content-length", "transfer-encoding", "connection", "server", "content-type"}) {
    if (beast::iequals(name, owned)) return true;
  }
  return false;
}

bool IsHttpParseError(const error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_method).category();
}

// ---- a connection ------------------------------------------------------------------

// Not a template over the protocol: TCP and Unix sockets both arrive as generic
// stream sockets, so Beast's reader and writer are compiled once.
class Connection final : public ConnectionBase,
                         public std::enable_shared_from_this<Connection> {
 public:
  using Socket = asio::generic::stream_protocol::socket;

  Connection(Socket socket, std::shared_ptr<ListenerConfig> config, PeerCredentials peer,
             std::string remote_address)
      : executor_(socket.get_executor()),
        socket_(std::move(socket)),
        timer_(executor_),
        config_(std::move(config)),
        limits_(config_->Limits()),
        state_(*config_->state),
        peer_(peer),
        remote_address_(std::move(remote_address)) {
    state_.ConnectionOpened();
  }

  ~Connection() override {
    ReleaseSlot();
    if (counted_open_) state_.ConnectionClosed();
    state_.Unregister(this);
  }

  // Serves requests; the connection holds one of its listener's slots until it
  // starts closing.
  void Serve() {
    asio::post(executor_, [self = shared_from_this()] {
      self->holds_slot_ = true;  // Linger or Close gives it back, at worst ~Connection
      self->ReadRequest();
    });
  }

  // Answers `status` with `message` at once, without reading a request, and closes.
  void Refuse(int status, std::string message) {
    asio::post(executor_, [self = shared_from_this(), status,
                           message = std::move(message)]() mutable {
      self->SendError(status, std::move(message));
    });
  }

  void RequestStop() override {
    asio::post(executor_, [self = shared_from_this()] { self->OnStopRequested(); });
  }

  void ForceClose() override {
    asio::post(executor_, [self = shared_from_this()] { self->Close(); });
  }

 private:
  enum class Phase {
    kStarting,
    kWaitingForRequest,  // keep-alive pause: nothing of the next request yet
    kReadingHead,
    kReadingBody,
    kHandling,
    kWriting,
    kLingering,
    kClosed,
  };

  const ServerLimits& limits() const { return limits_; }
  Milliseconds request_timeout() const {
    return Milliseconds(limits().request_timeout_ms);
  }

  // ---- timer

  void ArmTimer(Milliseconds timeout) {
    timed_out_ = false;
    uint64_t generation = ++timer_generation_;
    timer_.expires_after(timeout);
    timer_.async_wait([self = shared_from_this(), generation](error_code ec) {
      self->OnTimer(generation, ec);
    });
  }

  void CancelTimer() {
    ++timer_generation_;
    timer_.cancel();
  }

  void OnTimer(uint64_t generation, error_code ec) {
    if (ec == asio::error::operation_aborted || generation != timer_generation_ ||
        phase_ == Phase::kClosed) {
      return;
    }
    timed_out_ = true;
    switch (phase_) {
      case Phase::kWaitingForRequest:
      case Phase::kReadingHead:
      case Phase::kReadingBody: {
        // Shutting the receiving side wakes the pending read, and any read a composed
        // operation starts after this returns end-of-file at once, so the read
        // handler sees timed_out_ whatever point the operation had reached. Sending
        // still works, for the 408.
        error_code ignored;
        socket_.shutdown(Socket::shutdown_receive, ignored);
        socket_.cancel(ignored);
        break;
      }
      default:  // writing or lingering: nothing more to say
        Close();
        break;
    }
  }

  // ---- reading a request

  void ReadRequest() {
    if (phase_ == Phase::kClosed) return;
    if (stop_requested_ && buffer_.size() == 0) return Close();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(
        std::min<size_t>(limits().max_header_bytes, UINT32_MAX)));
    parser_->body_limit(static_cast<std::uint64_t>(limits().max_body_bytes));
    if (first_request_ || buffer_.size() > 0) {
      ReadHead();
      return;
    }
    buffer_.shrink_to_fit();  // an idle connection keeps no buffer
    phase_ = Phase::kWaitingForRequest;
    ArmTimer(Milliseconds(limits().idle_timeout_ms));
    socket_.async_wait(Socket::wait_read, [self = shared_from_this()](error_code ec) {
      self->OnReadable(ec);
    });
  }

  void OnReadable(error_code ec) {
    if (phase_ == Phase::kClosed) return;
    if (ec || timed_out_) {
      Close();
      return;
    }
    ReadHead();
  }

  void ReadHead() {
    phase_ = Phase::kReadingHead;
    ArmTimer(request_timeout());
    http::async_read_header(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](error_code ec, size_t) { self->OnReadHead(ec); });
  }

  void OnReadHead(error_code ec) {
    if (phase_ == Phase::kClosed) return;
    if (timed_out_) return OnRequestTimeout();
    if (ec) return OnReadError(ec);
    head_received_ = SteadyClock::now();
    auto& message = parser_->get();
    if (!parser_->is_done() && message.version() >= 11 &&
        beast::iequals(message[http::field::expect], "100-continue")) {
      continue_ = {};
      continue_.version(message.version());
      continue_.result(http::status::continue_);
      phase_ = Phase::kReadingBody;
      ArmTimer(request_timeout());
      http::async_write(socket_, continue_,
                        [self = shared_from_this()](error_code ec, size_t) {
                          self->OnContinueWritten(ec);
                        });
      return;
    }
    ReadBodyOrHandle();
  }

  void OnContinueWritten(error_code ec) {
    if (phase_ == Phase::kClosed) return;
    if (timed_out_) return OnRequestTimeout();
    if (ec) return Close();
    ReadBodyOrHandle();
  }

  // The body may pause up to request_timeout between reads, so a large upload on a
  // slow link is not cut off while it makes progress; its size is bounded by
  // max_body_bytes.
  void ReadBodyOrHandle() {
    if (parser_->is_done()) return Handle();
    phase_ = Phase::kReadingBody;
    ArmTimer(request_timeout());
    http::async_read_some(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](error_code ec, size_t) { self->OnReadBody(ec); });
  }

  void OnReadBody(error_code ec) {
    if (phase_ == Phase::kClosed) return;
    if (timed_out_) return OnRequestTimeout();
    if (ec) return OnReadError(ec);
    ReadBodyOrHandle();
  }

  void OnRequestTimeout() {
    bool started = parser_ && (parser_->got_some() || buffer_.size() > 0);
    if (!started) return Close();
    SendError(408, "The request did not arrive within " +
                       std::to_string(limits().request_timeout_ms) + " ms");
  }

  void OnReadError(const error_code& ec) {
    if (ec == http::error::header_limit) {
      return SendError(431, "Request headers are larger than " +
                                std::to_string(limits().max_header_bytes) + " bytes");
    }
    if (ec == http::error::body_limit) {
      return SendError(413, "Request body is larger than " +
                                std::to_string(limits().max_body_bytes) + " bytes");
    }
    // end_of_stream: closed between requests; partial_message: closed in the middle.
    if (ec == http::error::end_of_stream || ec == http::error::partial_message ||
        !IsHttpParseError(ec)) {
      return Close();
    }
    SendError(400, "Malformed HTTP request: " + ec.message());
  }

  // ---- answering

  void Handle() {
    CancelTimer();
    phase_ = Phase::kHandling;
    Reply reply;
    ResolvedRoute resolved;
    auto request = std::make_shared<HttpRequest>();
    try {
      auto& message = parser_->get();
      reply.version = message.version();
      reply.keep_alive = message.keep_alive();
      reply.head_request = message.method() == http::verb::head;
      request->method = std::string(message.method_string());
      request->target = std::string(message.target());
      for (const auto& field : message) {
        std::string name(field.name_string());
        for (char& c : name)
          c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        auto [it, inserted] = request->headers.emplace(std::move(name), field.value());
        if (!inserted) {
          it->second += ", ";
          it->second += field.value();
        }
      }
      request->body = std::move(message.body());
      request->peer = peer_;
      request->remote_address = remote_address_;
      resolved = config_->router->Resolve(*request);
    } catch (const std::exception&) {  // out of memory building the request
      resolved = {};
      resolved.response = ErrorResponse(500, kInternalError);
    }
    if (!resolved.handler) return Finish(reply, std::move(resolved.response));
    const Router* router = config_->router;
    const Handler* handler = resolved.handler;
    if (resolved.placement->run_inline) {
      return Finish(reply, router->Invoke(*handler, *request));
    }

    // Off the event loop: the answer comes back to this connection's strand.
    auto work = [router, handler, request] { return router->Invoke(*handler, *request); };
    // The runner may keep `answer` after calling it: the connection is moved out, so
    // nothing of the server is held once WorkFinished says so.
    auto answer = [self = shared_from_this(), reply](HttpResponse response) mutable {
      ServerState& state = self->state_;
      try {
        auto strand = self->executor_;
        state.PostAnswer(std::move(strand), [self = std::move(self), reply,
                                             response = std::move(response)]() mutable {
          self->Finish(reply, std::move(response));
        });
      } catch (...) {  // out of memory: the connection is closed at Stop
        self.reset();
      }
      state.WorkFinished();
    };
    if (!state_.TryStartWork()) {
      return Finish(reply, ErrorResponse(503, "The server is stopping"));
    }
    try {
      const Runner& runner = resolved.placement->runner;
      if (!runner || !runner(*request, work, answer)) {
        asio::post(state_.pool->get_executor(),
                   [work = std::move(work), answer = std::move(answer)]() mutable {
                     answer(work());
                   });
      }
    } catch (const std::exception&) {  // could not hand it over: nothing ran
      state_.WorkFinished();
      Finish(reply, ErrorResponse(500, kInternalError));
    }
  }

  // How to answer the request being handled.
  struct Reply {
    unsigned version = 11;
    bool keep_alive = false;
    bool head_request = false;
  };

  void Finish(Reply reply, HttpResponse response) {
    if (stop_requested_ || state_.stopping.load()) reply.keep_alive = false;
    Respond(std::move(response), reply.version, reply.keep_alive, reply.head_request);
  }

  void SendError(int status, std::string message) {
    unsigned version = 11;
    if (parser_ && parser_->is_header_done() && parser_->get().version() == 10)
      version = 10;
    Respond(ErrorResponse(status, std::move(message)), version, /*keep_alive=*/false,
            /*head_request=*/false);
  }

  void Respond(HttpResponse response, unsigned version, bool keep_alive,
               bool head_request) {
    if (phase_ == Phase::kClosed) return;
    try {
      if (response.status < 200 || response.status > 599) {
        response = ErrorResponse(500, kInternalError);
      }
      response_ = {};
      response_.version(version);
      response_.result(static_cast<unsigned>(response.status));
      response_.set(http::field::server, "trashd");
      for (const auto& [name, value] : response.headers) {
        if (!IsHttpToken(name) || !IsHeaderValue(value) || IsServerOwnedHeader(name)) {
          continue;
        }
        response_.insert(name, value);
      }
      bool bodyless = response.status == 204 || response.status == 304;
      if (bodyless) {
        response.body.clear();
      } else if (!response.content_type.empty() && IsHeaderValue(response.content_type)) {
        response_.set(http::field::content_type, response.content_type);
      }
      size_t body_bytes = response.body.size();
      response_.body() = std::move(response.body);
      response_.keep_alive(keep_alive);
      response_.prepare_payload();
      if (head_request) response_.body().clear();  // Content-Length stays
      state_.CountResponse(response.status);
      Log(response.status, body_bytes);
    } catch (const std::exception&) {  // out of memory: nothing sensible to say
      return Close();
    }
    close_after_write_ = !keep_alive;
    phase_ = Phase::kWriting;
    ArmTimer(request_timeout());
    http::async_write(
        socket_, response_,
        [self = shared_from_this()](error_code ec, size_t) { self->OnWritten(ec); });
  }

  void Log(int status, size_t body_bytes) {
    if (!state_.access_log) return;
    try {
      AccessLogEntry entry;
      if (parser_ && parser_->is_header_done()) {
        const auto& message = parser_->get();
        entry.method = std::string(message.method_string());
        entry.target = std::string(message.target());
        entry.duration = std::chrono::duration_cast<std::chrono::microseconds>(
            SteadyClock::now() - head_received_);
      }
      entry.status = status;
      entry.response_bytes = body_bytes;
      entry.remote_address = remote_address_;
      state_.access_log(entry);
    } catch (...) {  // a failing log line must not cost the response
    }
  }

  void OnWritten(error_code ec) {
    if (phase_ == Phase::kClosed) return;
    if (ec || timed_out_) return Close();
    if (close_after_write_) return Linger();
    first_request_ = false;
    ReadRequest();
  }

  // ---- closing

  void Linger() {
    ReleaseSlot();
    phase_ = Phase::kLingering;
    error_code ignored;
    socket_.shutdown(Socket::shutdown_send, ignored);
    ArmTimer(std::min(request_timeout(), kMaxLinger));
    DrainSome();
  }

  void DrainSome() {
    socket_.async_read_some(
        asio::buffer(drain_),
        [self = shared_from_this()](error_code ec, size_t n) { self->OnDrained(ec, n); });
  }

  void OnDrained(error_code ec, size_t n) {
    if (phase_ == Phase::kClosed) return;
    lingered_bytes_ += n;
    if (ec || timed_out_ || lingered_bytes_ > kMaxLingerBytes) return Close();
    DrainSome();
  }

  void OnStopRequested() {
    stop_requested_ = true;
    bool nothing_started =
        phase_ == Phase::kWaitingForRequest ||
        (phase_ == Phase::kReadingHead && !parser_->got_some() && buffer_.size() == 0);
    if (nothing_started) Close();
    // Otherwise the response to the request under way says Connection: close.
  }

  void Close() {
    if (phase_ == Phase::kClosed) return;
    phase_ = Phase::kClosed;
    CancelTimer();
    error_code ignored;
    socket_.close(ignored);
    ReleaseSlot();
    if (counted_open_) {
      counted_open_ = false;
      state_.ConnectionClosed();
    }
  }

  void ReleaseSlot() {
    if (!holds_slot_) return;
    holds_slot_ = false;
    --config_->slots_used;
  }

  const asio::any_io_executor executor_;  // a strand
  Socket socket_;
  asio::steady_timer timer_;
  std::shared_ptr<ListenerConfig> config_;
  const ServerLimits limits_;
  ServerState& state_;
  const PeerCredentials peer_;
  const std::string remote_address_;

  Phase phase_ = Phase::kStarting;
  uint64_t timer_generation_ = 0;
  bool timed_out_ = false;
  bool first_request_ = true;
  bool stop_requested_ = false;
  bool close_after_write_ = false;
  bool holds_slot_ = false;
  bool counted_open_ = true;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::empty_body> continue_;
  http::response<http::string_body> response_;
  SteadyClock::time_point head_received_;
  std::array<char, 4096> drain_;
  size_t lingered_bytes_ = 0;
};

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
    error_code ignored;
    if constexpr (std::is_same_v<Protocol, Tcp>) {
      socket.set_option(Tcp::no_delay(true), ignored);
      auto endpoint = socket.remote_endpoint(ignored);
      remote = endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
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
    auto connection = std::make_shared<Connection>(Connection::Socket(std::move(socket)),
                                                   config_, peer, std::move(remote));
    state.Register(connection);

    if (config_->slots_used.load() >= config_->Limits().max_connections) {
      ++state.connections_refused;
      connection->Refuse(503,
                         "The server has too many open connections; try again later");
      return;
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
      connection->Refuse(403, "This socket does not accept " + who);
      return;
    }
    ++config_->slots_used;
    connection->Serve();
  }

  asio::io_context& ioc_;
  const asio::any_io_executor executor_;  // a strand
  Acceptor acceptor_;
  asio::steady_timer retry_timer_;
  std::shared_ptr<ListenerConfig> config_;
};

Status CheckLimits(const ServerLimits& limits) {
  if (limits.max_header_bytes == 0 || limits.max_connections == 0 ||
      limits.request_timeout_ms <= 0 || limits.idle_timeout_ms <= 0) {
    return InvalidArgument(
        "HTTP limits need a positive header size, connection count and timeouts");
  }
  return Status::Ok();
}

// "127.0.0.1:8080", "[::1]:8080", "localhost:0".
Result<Tcp::endpoint> ParseListenAddress(const std::string& text) {
  auto bad = [&] {
    return InvalidArgument("listen address '" + text +
                           "' is not ADDRESS:PORT, as in 127.0.0.1:8080");
  };
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size()) return bad();
  std::string host = text.substr(0, colon);
  std::string port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost") host = "127.0.0.1";
  if (port_text.size() > 5 ||
      port_text.find_first_not_of("0123456789") != std::string::npos) {
    return bad();
  }
  unsigned long port = std::stoul(port_text);
  if (port > 65535) return bad();
  error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return bad();
  return Tcp::endpoint(address, static_cast<uint16_t>(port));
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
  TRASHD_ASSIGN_OR_RETURN(Tcp::endpoint endpoint, ParseListenAddress(address_port));

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
