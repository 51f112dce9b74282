// Router: the route table of one listener. It maps a method and a path pattern such
// as `/:ws/trash/restore` to a Handler, and turns a request into exactly one response:
// the handler's, or a JSON error (`{"error": "..."}`) when the target is malformed or a
// decoded query parameter or path parameter is not valid UTF-8 (400), no pattern matches
// the path (404), patterns match but none for this method (405, with an Allow header) or
// the handler throws (500).
//
// HttpRequest and HttpResponse are plain values with no Beast in sight, so handlers and
// their tests need neither sockets nor Beast. The server (server.h) fills a request
// from the wire and writes the response back.
//
// Patterns: `/` or `/seg/seg/...`; a segment `:name` binds one non-empty path segment
// to params["name"]. A pattern ending in `/` (`/ui/`, a page's index) is registered
// with AddIndex only, and matches that path alone. Literal segments are compared with the
// percent-decoded segment. When several patterns match, a literal segment beats a
// parameter at the first place where they differ (`/:ws/trash` beats `/:ws/:project` for
// `/acme/trash`), and the first matching pattern, in that order, that has a handler for
// the method wins. So `DELETE /acme/trash` still reaches `DELETE /:ws/:project` if
// `/:ws/trash` has no DELETE.
//
// Thread-safety: Add() is for start-up, before any Dispatch(). After that a Router is
// immutable and Dispatch() may run concurrently from any number of threads; handlers
// must therefore be safe to call concurrently.
#pragma once

#include <sys/types.h>

#include <boost/json/fwd.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trashd {

// Who is on the other end of a Unix socket (SO_PEERCRED). On TCP has_creds is false.
struct PeerCredentials {
  bool has_creds = false;
  uid_t uid = 0;
  gid_t gid = 0;
  pid_t pid = 0;
};

struct HttpRequest {
  std::string method;  // as sent: "GET", "POST", ...
  std::string target;  // as sent: "/acme/trash?type=project"
  // Filled by Router::Dispatch from `target`:
  std::string path;                           // still percent-encoded: "/acme/trash"
  std::map<std::string, std::string> query;   // decoded ('+' is a space); first wins
  std::map<std::string, std::string> params;  // decoded, from the route pattern
  // Header names in lower case; repeated headers are joined with ", ".
  std::map<std::string, std::string> headers;
  std::string body;
  PeerCredentials peer;
  std::string remote_address;  // "127.0.0.1:51234", or "unix" on a Unix socket

  // The header's value, or "" when absent. `name` must be lower case.
  const std::string& Header(const std::string& name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // Extra headers. The server owns Content-Type (from content_type), Content-Length,
  // Transfer-Encoding, Connection and Server and drops those; so it does a header
  // whose name is not a token or whose value has CR, LF or NUL.
  std::vector<std::pair<std::string, std::string>> headers;
};

// `value` serialized as the body, content type application/json. The body is always
// valid UTF-8: an ill-formed sequence in a string (text an older version stored)
// becomes U+FFFD.
HttpResponse JsonResponse(int status, const boost::json::value& value);
// `{"error":"<message>"}`: the one shape of every error trashd answers.
HttpResponse ErrorResponse(int status, std::string message);

// Whether `s` is an HTTP token (RFC 9110 tchar+): a method or a header name.
bool IsHttpToken(std::string_view s);

using Handler = std::function<HttpResponse(HttpRequest&)>;

// Runs a handler's `work` for `request` where it chooses (another thread, a store's
// batch), then calls `answer` exactly once, from any thread, with what `work`
// returned, and returns true. `work` never throws. A runner may instead decline a
// request by returning false without calling either: the server's pool runs it then.
// A runner must run every work it accepts, even while the server stops.
using Runner =
    std::function<bool(const HttpRequest& request, std::function<HttpResponse()> work,
                       std::function<void(HttpResponse)> answer)>;

// Where the server runs a route's handler.
struct Placement {
  // true: on the event-loop thread that read the request. Only for a handler that
  // never waits and is done in well under a millisecond (a read of a snapshot),
  // since the thread's other connections wait meanwhile.
  bool run_inline = false;
  // Otherwise: given to this runner when set, else run on the server's pool of
  // threads for handlers that may block (the default).
  Runner runner;
  // Optional: called on the event loop once the head of a request whose body has not
  // all arrived (a chunked one, or a Content-Length body still on its way) is read, with
  // the request resolved but no body. A response refuses the request: the server answers
  // it without reading the body and closes the connection. Must not wait, nor throw.
  std::function<std::optional<HttpResponse>(const HttpRequest&)> early_check;
};

// A request matched to its route (Router::Resolve).
struct ResolvedRoute {
  const Handler* handler = nullptr;  // null: `response` is the answer (400, 404, 405)
  const Placement* placement = nullptr;
  const std::string* pattern = nullptr;  // the matched route's, as registered
  HttpResponse response;
};

class Router {
 public:
  Router();
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Registers `handler` for `method` (upper case, e.g. "GET") on `pattern`. A malformed
  // pattern, or one that repeats a (method, shape) already registered (`/:a` and `/:b`
  // have the same shape), is a programming error found at start-up: this throws
  // std::invalid_argument, and nothing else in the router throws.
  void Add(std::string method, std::string pattern, Handler handler,
           Placement placement = {});

  // Add for a pattern that ends in '/' (`/ui/`), which Add refuses: a directory's
  // index, said on purpose. Throws std::invalid_argument as Add does.
  void AddIndex(std::string method, std::string pattern, Handler handler,
                Placement placement = {});

  // Parses request.target (Boost.URL origin form) into path, query and params and
  // answers it. Never throws: a throwing handler becomes a 500 and is reported to the
  // exception reporter. Runs the handler on the calling thread, whatever its
  // Placement says.
  HttpResponse Dispatch(HttpRequest& request) const;

  // Dispatch in two steps, for the server to run the handler where its Placement
  // says: Resolve parses the target and finds the route (or the error answer);
  // Invoke runs a handler Resolve returned, as Dispatch would. Neither throws.
  ResolvedRoute Resolve(HttpRequest& request) const;
  HttpResponse Invoke(const Handler& handler, HttpRequest& request) const;

  // Where a handler's exception is reported (what() and the request) before the 500
  // goes out. Default: one line on stderr. Set it at start-up; it may be called from
  // many threads at once.
  using ExceptionReporter =
      std::function<void(const HttpRequest& request, std::string_view what)>;
  void SetExceptionReporter(ExceptionReporter reporter);

 private:
  struct Node;
  struct Route;
  void Insert(std::string method, std::string pattern, Handler handler,
              Placement placement, bool index);
  std::unique_ptr<Node> root_;
  ExceptionReporter report_exception_;
};

}  // namespace trashd
