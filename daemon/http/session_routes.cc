// The web page's log-in (SPEC §8): POST /ui/api/login sets an HttpOnly, SameSite=Strict
// cookie (Secure behind TLS) holding the session's token; GET /ui/api/session tells
// the page who it is, what it may do and its CSRF token; POST /ui/api/logout ends the
// session. Failed log-ins are slowed per member and per client address.
#include <boost/json.hpp>
#include <string>
#include <utility>

#include "http/api_table.h"
#include "http/login_throttle.h"
#include "http/wire.h"

namespace trashd {

namespace json = boost::json;

namespace {

constexpr std::string_view kCookie = "trashd_session";

// A request's address without its port: "127.0.0.1", "[::1]".
std::string AddressOf(const HttpRequest& request) {
  const std::string& addr = request.remote_address;
  size_t colon = addr.rfind(':');
  return colon == std::string::npos ? addr : addr.substr(0, colon);
}

// The cookie's attributes: the page's paths only, never sent by another site, never
// read by a script, and over TLS only when the client came over TLS (a proxy in front
// says so with X-Forwarded-Proto).
std::string CookieHeader(const HttpRequest& request, const std::string& token,
                         TimeMs max_age_ms) {
  std::string cookie = std::string(kCookie) + "=" + token +
                       "; Path=/ui; Max-Age=" + std::to_string(max_age_ms / 1000) +
                       "; HttpOnly; SameSite=Strict";
  if (request.Header("x-forwarded-proto") == "https") cookie += "; Secure";
  return cookie;
}

json::object SessionJson(const ApiContext& api, const WebSession& s) {
  json::array permissions;
  for (const std::string& p : api.engine->MemberPermissions(s.workspace, s.member_id))
    permissions.emplace_back(p);
  json::array types;
  for (const ResourceType* t : api.engine->types().All()) {
    types.push_back(
        json::object{{"type", t->Info().name}, {"section", t->Info().section}});
  }
  return json::object{{"workspace", s.workspace},
                      {"member", s.member_id},
                      {"name", s.member_name},
                      {"role", s.role},
                      {"csrfToken", s.csrf_token},
                      {"expires", IsoTime(s.expires)},
                      {"permissions", std::move(permissions)},
                      {"types", std::move(types)}};
}

HttpResponse Refused(const Status& status, int64_t retry_after = 0) {
  HttpResponse r = StatusResponse(status);
  if (retry_after > 0) r.headers.emplace_back("Retry-After", std::to_string(retry_after));
  return r;
}

}  // namespace

std::string SessionTokenOf(const HttpRequest& request) {
  const std::string& header = request.Header("cookie");
  size_t at = 0;
  while (at < header.size()) {
    size_t end = header.find(';', at);
    if (end == std::string::npos) end = header.size();
    std::string_view part = std::string_view(header).substr(at, end - at);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    if (part.starts_with(kCookie) && part.size() > kCookie.size() &&
        part[kCookie.size()] == '=') {
      return std::string(part.substr(kCookie.size() + 1));
    }
    at = end + 1;
  }
  return "";
}

Result<Principal> AuthorizeWeb(const ApiContext& api, const HttpRequest& request,
                               std::string_view permission, bool change) {
  std::string csrf = request.Header("x-csrf-token");
  return api.engine->AuthorizeSession(SessionTokenOf(request), request.params.at("ws"),
                                      permission, change ? &csrf : nullptr, api.writes);
}

Actor WebActorOf(const Principal& p) {
  return Actor::Member(p.member_id, Interface::kWeb);
}

HttpResponse LoginRoute(const ApiContext& api, HttpRequest& request) {
  auto body = JsonObjectBody(request);
  if (!body.ok()) return StatusResponse(body.status());
  auto ws = RequiredString(*body, "workspace", ".");
  auto member = RequiredString(*body, "member", ".");
  auto password = RequiredString(*body, "password", ".");
  for (const auto* field : {&ws, &member, &password}) {
    if (!field->ok()) return StatusResponse(field->status());
  }
  const std::string who = *ws + "/" + *member;
  const std::string address = AddressOf(request);
  if (int64_t wait = api.login_throttle->WaitSeconds(who, address); wait > 0) {
    Status slow(Code::kRateLimited,
                "Too many failed log-ins; try again in " + std::to_string(wait) + " s.");
    return Refused(api.engine->RecordRefusal(Actor::Member(*member, Interface::kWeb), *ws,
                                             "login", "member", *member, slow),
                   wait);
  }
  auto session = api.engine->LogIn(*ws, *member, *password, api.session_lifetime_ms);
  if (!session.ok()) {
    if (session.status().code() == Code::kUnauthenticated)
      api.login_throttle->Failed(who, address);
    return StatusResponse(session.status());
  }
  api.login_throttle->Succeeded(who);
  HttpResponse r = JsonResponse(200, SessionJson(api, session->session));
  r.headers.emplace_back("Set-Cookie",
                         CookieHeader(request, session->token, api.session_lifetime_ms));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

HttpResponse SessionRoute(const ApiContext& api, HttpRequest& request) {
  auto session = api.engine->CheckSession(SessionTokenOf(request));
  if (!session.ok()) return StatusResponse(session.status());
  HttpResponse r = JsonResponse(200, SessionJson(api, *session));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

HttpResponse LogoutRoute(const ApiContext& api, HttpRequest& request) {
  const std::string token = SessionTokenOf(request);
  auto session = api.engine->CheckSession(token);
  if (!session.ok()) return StatusResponse(session.status());
  request.params["ws"] = session->workspace;
  auto p = AuthorizeWeb(api, request, "", true);
  if (!p.ok()) return StatusResponse(p.status());
  Status s = api.engine->LogOut(token);
  if (!s.ok()) return StatusResponse(s);
  HttpResponse r = JsonResponse(200, json::object{{"loggedOut", true}});
  r.headers.emplace_back("Set-Cookie", CookieHeader(request, "", 0));
  return r;
}

}  // namespace trashd
