// One connection's read / handle / answer / write cycle: the only translation unit
// that includes Beast (it is heavy to compile).
//
// Shape: every connection has its own strand, so its state is only ever touched by one
// thread at a time and needs no lock. A connection is a small state machine (Phase)
// driven by completion handlers; one steady_timer per connection enforces whichever
// timeout the current phase has. A handler runs where its route's Placement says:
// inline on the connection's strand, on the blocking pool (an asio::thread_pool), or
// through the route's runner; the last two answer by posting back to the strand
// (through ServerState::PostAnswer).
#include "http/connection.h"

#include <algorithm>
#include <array>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <string_view>
#include <utility>

#include "http/request_head.h"

namespace trashd::http_internal {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;
using SteadyClock = std::chrono::steady_clock;
using Milliseconds = std::chrono::milliseconds;

// After the last response of a connection we stop sending and read (and drop) what
// the client still sends for a moment before closing: closing a socket with unread
// input makes the kernel send a reset, which can destroy the response in flight
// (a 413 answered before the body was read, say).
constexpr Milliseconds kMaxLinger{2000};
constexpr size_t kMaxLingerBytes = 1u << 20;

const char* const kInternalError = "Internal server error";
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

class BeastConnection final : public Connection,
                              public std::enable_shared_from_this<BeastConnection> {
 public:
  BeastConnection(Socket socket, std::shared_ptr<ListenerConfig> config,
                  PeerCredentials peer, std::string remote_address)
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

  ~BeastConnection() override {
    ReleaseSlot();
    if (counted_open_) state_.ConnectionClosed();
    state_.Unregister(this);
  }

  void Serve(std::string address) override {
    asio::post(executor_, [self = shared_from_this(), address = std::move(address)] {
      self->holds_slot_ = true;  // Linger or Close gives it back, at worst the destructor
      self->slot_address_ = address;
      self->ReadRequest();
    });
  }

  void Refuse(int status, std::string message) override {
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

  void ArmTimer(Milliseconds timeout) { ArmTimerAt(SteadyClock::now() + timeout); }

  void ArmTimerAt(SteadyClock::time_point deadline) {
    timed_out_ = false;
    too_slow_ = false;
    uint64_t generation = ++timer_generation_;
    timer_.expires_at(deadline);
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

  // The whole request, head and body, must arrive by request_deadline_.
  void ReadHead() {
    phase_ = Phase::kReadingHead;
    request_deadline_ = SteadyClock::now() + request_timeout();
    ArmTimerAt(request_deadline_);
    http::async_read_header(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](error_code ec, size_t) { self->OnReadHead(ec); });
  }

  void OnReadHead(error_code ec) {
    if (phase_ == Phase::kClosed) return;
    if (timed_out_) return OnRequestTimeout();
    if (ec) return OnReadError(ec);
    head_received_ = SteadyClock::now();
    body_bytes_ = 0;
    if (!BodyArrived() && RefusedFromHead()) return;
    auto& message = parser_->get();
    if (!parser_->is_done() && message.version() >= 11 &&
        beast::iequals(message[http::field::expect], "100-continue")) {
      continue_ = {};
      continue_.version(message.version());
      continue_.result(http::status::continue_);
      phase_ = Phase::kReadingBody;
      ArmTimerAt(request_deadline_);
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

  // The body must arrive by the request's deadline and, after the grace period from
  // the end of the head, at min_body_bytes_per_second on average: the timer is armed
  // for whichever comes first.
  void ReadBodyOrHandle() {
    if (parser_->is_done()) return Handle();
    phase_ = Phase::kReadingBody;
    SteadyClock::time_point deadline = request_deadline_;
    bool rate_first = false;
    if (limits().min_body_bytes_per_second > 0) {
      auto rate_deadline =
          head_received_ + Milliseconds(limits().body_rate_grace_ms) +
          Milliseconds(body_bytes_ * 1000 / limits().min_body_bytes_per_second);
      rate_first = rate_deadline < deadline;
      if (rate_first) deadline = rate_deadline;
    }
    ArmTimerAt(deadline);
    too_slow_ = rate_first;
    http::async_read_some(socket_, buffer_, *parser_,
                          [self = shared_from_this()](error_code ec, size_t n) {
                            self->OnReadBody(ec, n);
                          });
  }

  void OnReadBody(error_code ec, size_t n) {
    if (phase_ == Phase::kClosed) return;
    if (timed_out_) return OnRequestTimeout();
    if (ec) return OnReadError(ec);
    body_bytes_ += n;
    ReadBodyOrHandle();
  }

  // Whether the request's whole body is here already (known only for a Content-Length
  // body): such a request is answered as a whole, by its handler.
  bool BodyArrived() const {
    if (parser_->is_done()) return true;
    auto length = parser_->content_length();
    return length && buffer_.size() >= *length;
  }

  // The route's early check (Placement::early_check) for a request whose body has not
  // all arrived: true if it refused the request, which is then answered without
  // reading the body, and the connection closes.
  bool RefusedFromHead() {
    std::optional<HttpResponse> refusal;
    try {
      HttpRequest request;
      FillRequest(request);
      ResolvedRoute resolved = config_->router->Resolve(request);
      if (resolved.handler && resolved.placement->early_check) {
        refusal = resolved.placement->early_check(request);
      }
    } catch (const std::exception&) {  // out of memory: the handler decides later
      return false;
    }
    if (!refusal) return false;
    Respond(std::move(*refusal), parser_->get().version(), /*keep_alive=*/false,
            parser_->get().method() == http::verb::head);
    return true;
  }

  void OnRequestTimeout() {
    bool started = parser_ && (parser_->got_some() || buffer_.size() > 0);
    if (!started) return Close();
    if (too_slow_) {
      return SendError(408, "The request body arrived slower than " +
                                std::to_string(limits().min_body_bytes_per_second) +
                                " bytes per second");
    }
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
      FillRequest(*request);
      request->body = std::move(message.body());
      resolved = config_->router->Resolve(*request);
      if (resolved.handler) answering_ = {resolved.pattern, request};
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

  // The request as its head says, without its body.
  void FillRequest(HttpRequest& request) const {
    FillRequestHead(parser_->get(), request);
    request.peer = peer_;
    request.remote_address = remote_address_;
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
      if (answering_.first) entry.route = *answering_.first;
      entry.request = std::exchange(answering_, {}).second;
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
    config_->ReleaseSlot(slot_address_);
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
  bool too_slow_ = false;  // the armed timer is the body's minimum rate
  bool first_request_ = true;
  bool stop_requested_ = false;
  bool close_after_write_ = false;
  bool holds_slot_ = false;
  std::string slot_address_;  // whose share the slot counts against
  bool counted_open_ = true;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::empty_body> continue_;
  http::response<http::string_body> response_;
  SteadyClock::time_point head_received_;
  SteadyClock::time_point request_deadline_;
  size_t body_bytes_ = 0;  // of the request being read, since its head
  // The route and request being answered, for the access log.
  std::pair<const std::string*, std::shared_ptr<const HttpRequest>> answering_;
  std::array<char, 4096> drain_;
  size_t lingered_bytes_ = 0;
};

}  // namespace

std::shared_ptr<Connection> Connection::Open(Socket socket,
                                             std::shared_ptr<ListenerConfig> config,
                                             PeerCredentials peer,
                                             std::string remote_address) {
  return std::make_shared<BeastConnection>(std::move(socket), std::move(config), peer,
                                           std::move(remote_address));
}

}  // namespace trashd::http_internal
