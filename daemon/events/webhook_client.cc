// The events library's only translation unit that includes Beast (it is heavy to
// compile). One Exchange per POST: resolve -> connect -> write -> read header ->
// close, each step a completion handler holding the Exchange alive. beast::tcp_stream
// enforces the timeout on connect, write and read.
#include "events/webhook_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <memory>
#include <string>
#include <utility>

namespace trashd {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;
using Tcp = asio::ip::tcp;

// What a receiver's answer may spend on its status line and headers.
constexpr uint32_t kMaxAnswerHeaderBytes = 16u << 10;

class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(asio::io_context& io, WebhookPost post,
           std::function<void(WebhookAnswer)> done)
      : resolver_(io), stream_(io), post_(std::move(post)), done_(std::move(done)) {
    parser_.header_limit(kMaxAnswerHeaderBytes);
  }

  void Start() {
    request_.method(http::verb::post);
    request_.target(post_.target);
    request_.version(11);
    bool v6 = post_.host.find(':') != std::string::npos;
    request_.set(http::field::host, (v6 ? "[" + post_.host + "]" : post_.host) + ":" +
                                        std::to_string(post_.port));
    request_.set(http::field::content_type, "application/json");
    request_.set(http::field::connection, "close");
    for (const auto& [name, value] : post_.headers) request_.set(name, value);
    request_.body() = std::move(post_.body);
    request_.prepare_payload();

    error_code ec;
    asio::ip::address address = asio::ip::make_address(post_.host, ec);
    if (!ec) {
      Connect(std::vector<Tcp::endpoint>{Tcp::endpoint(address, post_.port)});
      return;
    }
    resolver_.async_resolve(
        post_.host, std::to_string(post_.port),
        [self = shared_from_this()](error_code ec, Tcp::resolver::results_type found) {
          if (ec) return self->Fail("resolve", ec);
          self->Connect(std::vector<Tcp::endpoint>(found.begin(), found.end()));
        });
  }

 private:
  void Connect(const std::vector<Tcp::endpoint>& endpoints) {
    stream_.expires_after(post_.timeout);  // from here to the answer's headers
    stream_.async_connect(endpoints, [self = shared_from_this()](error_code ec, auto) {
      if (ec) return self->Fail("connect", ec);
      http::async_write(self->stream_, self->request_, [self](error_code ec, size_t) {
        if (ec) return self->Fail("send", ec);
        self->ReadAnswer();
      });
    });
  }

  void ReadAnswer() {
    http::async_read_header(
        stream_, buffer_, parser_, [self = shared_from_this()](error_code ec, size_t) {
          if (ec) return self->Fail("read the answer", ec);
          self->Finish({static_cast<int>(self->parser_.get().result_int()), ""});
        });
  }

  void Fail(const char* step, const error_code& ec) {
    Finish({0, ec == beast::error::timeout ? std::string("timed out")
                                           : std::string(step) + ": " + ec.message()});
  }

  void Finish(WebhookAnswer answer) {
    error_code ignored;
    stream_.socket().shutdown(Tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
    auto done = std::move(done_);
    done(std::move(answer));
  }

  Tcp::resolver resolver_;
  beast::tcp_stream stream_;
  WebhookPost post_;
  std::function<void(WebhookAnswer)> done_;
  http::request<http::string_body> request_;
  beast::flat_buffer buffer_;
  http::response_parser<http::empty_body> parser_;
};

}  // namespace

void PostWebhook(asio::io_context& io, WebhookPost post,
                 std::function<void(WebhookAnswer)> done) {
  std::make_shared<Exchange>(io, std::move(post), std::move(done))->Start();
}

}  // namespace trashd
