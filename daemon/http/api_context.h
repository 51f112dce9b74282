// ApiContext: what every API handler sees (the hooks and the state the routes keep),
// the handler signatures, and what the handlers share: reading the request's key,
// authorizing it for the path's workspace (A1), and finding the resource a path names.
// Private to the API routes (api_*.cc, *_routes.cc, openapi.cc) and their test.
//
// A handler returns its answer as a value: a JSON object, or text already serialized
// (TextAnswer), or the Status that refused it. The route table (api_table.h) turns
// either into the response through the one Status -> HTTP mapping of wire.h, so no
// handler writes an HTTP status.
//
// Thread-safety: an ApiContext is shared by every request; handlers only read it,
// except the Trash page cache, which locks.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "engine/engine.h"
#include "http/api_routes.h"
#include "http/router.h"

namespace trashd {

// The first pages of each workspace's Trash as last answered, with the store
// generation they were read at. Clients poll the Trash far more often than it changes;
// an answer is reused only while no write at all has committed since it was read.
class TrashPageCache {
 public:
  bool Find(const std::string& key, uint64_t generation, std::string* body) const;
  void Put(std::string key, uint64_t generation, std::string body);

 private:
  static constexpr size_t kMaxPages = 1024;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::pair<uint64_t, std::string>> pages_;
};

class LoginThrottle;
// The web page's files, read once (ui_routes.cc).
struct UiFiles;
std::shared_ptr<const UiFiles> LoadUiFiles(const std::string& dir);

struct ApiContext : ApiHooks {
  explicit ApiContext(ApiHooks hooks);
  // The same hooks, cache and document as `shared`, with other write options.
  ApiContext(const ApiContext& shared, WriteOptions options);
  std::shared_ptr<TrashPageCache> trash_pages;  // shared by every context of a listener
  // The document never changes while the process runs.
  std::shared_ptr<const std::string> openapi;
  // How the handlers given this context may write: may_wait is false for those that
  // run on the event loop, so a refusal's audit entry is queued, not waited for.
  WriteOptions writes;
  std::shared_ptr<const UiFiles> ui;              // never changes while running
  std::shared_ptr<LoginThrottle> login_throttle;  // shared by every context
};

// A success whose body is already text: a cached Trash page, the OpenAPI document.
struct TextAnswer {
  std::string body;
  std::string content_type = "application/json";
};

using JsonHandler = Result<boost::json::object> (*)(const ApiContext&, HttpRequest&);
using TextHandler = Result<TextAnswer> (*)(const ApiContext&, HttpRequest&);
// A handler that owns its whole response: the web page's (cookies, redirects, cache
// headers). Errors still go through StatusResponse.
using WebHandler = HttpResponse (*)(const ApiContext&, HttpRequest&);

// The answer of a write: called exactly once, from any thread (often the store's
// writer thread, once the write is durable), so it must not wait.
using Reply = std::function<void(Result<boost::json::object>)>;
// A handler that writes. It checks the request and looks up what it names (reads of a
// snapshot, on the thread that calls it, which may be the event loop), then starts
// its one engine write in the engine's asynchronous form with `reply` as the write's
// completion, and returns OK; or it returns the Status that refused the request
// before anything was written, and never calls `reply`. A handler whose write checks
// the key itself (Engine::TrashWithKey) leaves those refusals to `reply` too, which
// may then be called before the handler returns. No thread waits for the commit.
using WriteHandler = Status (*)(const ApiContext&, const HttpRequest&, Reply);

// Replies what `build()` answers; if building throws (out of memory), Internal: the
// write it answers for stands either way.
template <typename Build>
void ReplyBuilt(const Reply& reply, Build&& build) {
  Result<boost::json::object> answer = Internal("the answer could not be built");
  try {
    answer = build();
  } catch (const std::exception&) {
  }
  reply(std::move(answer));
}

// The completion of an engine call that replies `make(value)` once the value is
// durable, or the call's refusal. `make` runs on the thread that committed.
template <typename T, typename Make>
Completion<T> ReplyWith(Reply reply, Make make) {
  return [reply = std::move(reply), make = std::move(make)](Result<T> r) mutable {
    if (!r.ok()) return reply(r.status());
    ReplyBuilt(reply, [&] { return make(std::move(r).value()); });
  };
}
// The same for an engine call that answers only a Status.
template <typename Make>
StatusCompletion ReplyWithStatus(Reply reply, Make make) {
  return [reply = std::move(reply), make = std::move(make)](Status s) mutable {
    if (!s.ok()) return reply(std::move(s));
    ReplyBuilt(reply, make);
  };
}

// The key's member as the actor of an engine call made through the API.
Actor ActorOf(const Principal& p);

// Authorizes the request's key for `ws` (the path's workspace).
Result<Principal> Authorize(const ApiContext& api, const HttpRequest& request,
                            std::string_view scope, std::string_view permission);
// A write the request's key asks for, of `resource_id` of the path's workspace
// (Engine::TrashWithKey); its check_target is the caller's to set.
KeyedWrite KeyedFor(const HttpRequest& request, std::string_view scope,
                    std::string_view permission, std::string resource_id);

// ---- the web page (session_routes.cc) ----
// The request's web session token: its `trashd_session` cookie, or "".
std::string SessionTokenOf(const HttpRequest& request);
// A1 for a request of the web page, for the path's workspace: its session cookie,
// the member's role holding `permission` (empty: none needed) and, for a `change`,
// the session's CSRF token repeated in the X-CSRF-Token header.
Result<Principal> AuthorizeWeb(const ApiContext& api, const HttpRequest& request,
                               std::string_view permission, bool change);
// The web page's member as the actor of an engine call.
Actor WebActorOf(const Principal& p);

// "<type>:<access>", the scope a key needs for a type ("model:update").
std::string Scope(std::string_view type, const char* access);

// A string field the API requires ("Field 'name' is required.").
Result<std::string> RequiredField(const boost::json::object& body, std::string_view name);

// The resources the path names, or NotFound with the sentence the API answers.
Result<Resource> FindProject(Engine& engine, const HttpRequest& request);  // :project
Result<Resource> FindVersion(Engine& engine, const HttpRequest& request,
                             const Resource& project);                   // :version
Result<Resource> FindModel(Engine& engine, const HttpRequest& request);  // :slug
Result<Resource> FindTyped(Engine& engine, const HttpRequest& request);  // :type/:id
// FindTyped's answer from what a lookup of :id found: NotFound for
// an unknown :type, none, another type or a trashed one (T2).
Result<Resource> TypedFrom(const Engine& engine, const HttpRequest& request,
                           std::optional<Resource> found);
// The same check for a :type and :id as values (a KeyedWrite's check_target).
Status CheckTyped(const Engine& engine, const std::string& type, const std::string& id,
                  const std::optional<Resource>& found);

// A resource's attributes as an object; {} when they are not one.
boost::json::object Attributes(const Resource& r);

// The answer of every compatible delete: deleted, type, workspace, then `fields`
// (the route's own: "project", "projectId", …), then trash.
boost::json::object DeletedJson(const Principal& p, const Resource& r,
                                boost::json::object fields);

// Moves `r` to the Trash as the key's member (the one write of a delete) and
// replies DeletedJson(p, r, fields) once that is durable.
void TrashAndReply(const ApiContext& api, const Principal& p, const Resource& r,
                   const TrashOptions& options, boost::json::object fields, Reply reply);

// DELETE of a top-level resource found by its url (the path parameter `param`): a
// workflow, a dataset. Authorizes <type>:update + trash_<type>, finds it, moves it to
// the Trash (the one write) and answers DeletedJson with "<type>" and "<type>Id".
Status DeleteTopLevel(const ApiContext& api, const HttpRequest& request,
                      const std::string& type, const std::string& param, Reply reply);

}  // namespace trashd
