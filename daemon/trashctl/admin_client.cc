#include "trashctl/admin_client.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <exception>

namespace trashctl {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Local = asio::local::stream_protocol;

constexpr uint64_t kMaxAnswerBytes = 256ull << 20;

// Why the socket could not be reached, in words an operator can act on.
std::string ConnectError(const std::string& path, const beast::error_code& ec) {
  std::string hint;
  using boost::system::errc::errc_t;
  if (ec == errc_t::no_such_file_or_directory || ec == errc_t::connection_refused) {
    hint = " (is trashd running? --socket or TRASHD_ADMIN_SOCKET name another socket)";
  } else if (ec == errc_t::permission_denied) {
    hint = " (run trashctl as root or as a member of trashd's admin group)";
  }
  return "cannot connect to the admin socket " + path + ": " + ec.message() + hint;
}

}  // namespace

AdminAnswer CallAdminSocket(const std::string& socket_path, const AdminRequest& request,
                            std::chrono::seconds timeout) {
  AdminAnswer answer;
  try {
    asio::io_context io;
    beast::basic_stream<Local> stream(io);
    http::request<http::string_body> message(http::string_to_verb(request.method),
                                             request.target, 11);
    message.set(http::field::host, "localhost");
    message.set(http::field::user_agent, "trashctl");
    message.set(http::field::accept, "application/json");
    if (!request.body.empty()) {
      message.set(http::field::content_type, "application/json");
      message.body() = request.body;
    }
    message.prepare_payload();
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxAnswerBytes);

    auto arm = [&] {
      if (timeout.count() > 0) stream.expires_after(timeout);
    };
    auto fail = [&](const char* doing, const beast::error_code& ec) {
      if (ec == beast::error::timeout) {
        answer.error = "no answer from trashd on " + socket_path + " within " +
                       std::to_string(timeout.count()) + " s";
      } else {
        answer.error = std::string(doing) + " " + socket_path + ": " + ec.message();
      }
    };
    arm();
    stream.async_connect(Local::endpoint(socket_path), [&](beast::error_code ec) {
      if (ec == beast::error::timeout) return fail("cannot connect to", ec);
      if (ec) {
        answer.error = ConnectError(socket_path, ec);
        return;
      }
      http::async_write(stream, message, [&](beast::error_code ec, size_t) {
        if (ec) return fail("cannot send the request to", ec);
        http::async_read(stream, buffer, parser, [&](beast::error_code ec, size_t) {
          if (ec) return fail("no complete answer from", ec);
          answer.status = static_cast<int>(parser.get().result_int());
          answer.body = std::move(parser.get().body());
        });
      });
    });
    io.run();
  } catch (const std::exception& e) {  // a socket path too long for sun_path, say
    answer.status = 0;
    answer.error = "cannot use the admin socket " + socket_path + ": " + e.what();
  }
  return answer;
}

}  // namespace trashctl
