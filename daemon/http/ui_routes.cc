// The web Trash page's files (SPEC §8): index.html, app.js and app.css, read once from
// the folder installed with the daemon and served from memory with an ETag, so a
// browser revalidates for a 304 instead of fetching them again; and the redirects of
// /trash and /ui to the page.
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "http/api_table.h"
#include "http/wire.h"
#include "util/crypto.h"

namespace trashd {

struct UiFile {
  std::string body;
  std::string content_type;
  std::string etag;
};

struct UiFiles {
  std::string dir;
  std::map<std::string, UiFile, std::less<>> files;  // by name: "index.html"
};

namespace {

// The page's files and their types; nothing else in the folder is served.
constexpr std::pair<const char*, const char*> kPageFiles[] = {
    {"index.html", "text/html; charset=utf-8"},
    {"app.js", "text/javascript; charset=utf-8"},
    {"app.css", "text/css; charset=utf-8"},
    {"favicon.svg", "image/svg+xml"},
};

// What a browser may do with the page: no framing, no other origin's scripts or
// styles, no inline script.
constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

HttpResponse Redirect(std::string location) {
  HttpResponse r;
  r.status = 302;
  r.content_type = "text/plain; charset=utf-8";
  r.body = "See " + location + "\n";
  r.headers.emplace_back("Location", std::move(location));
  return r;
}

}  // namespace

std::shared_ptr<const UiFiles> LoadUiFiles(const std::string& dir) {
  auto ui = std::make_shared<UiFiles>();
  ui->dir = dir;
  if (dir.empty()) return ui;
  for (const auto& [name, type] : kPageFiles) {
    std::ifstream in(std::filesystem::path(dir) / name, std::ios::binary);
    if (!in) continue;
    std::ostringstream body;
    body << in.rdbuf();
    UiFile f{body.str(), type, ""};
    f.etag = "\"" + crypto::Sha256Hex(f.body).substr(0, 32) + "\"";
    ui->files.emplace(name, std::move(f));
  }
  return ui;
}

// Keeps the query (`/trash?workspace=acme` fills the log-in form's workspace).
HttpResponse TrashPageRedirect(const ApiContext&, HttpRequest& request) {
  size_t query = request.target.find('?');
  return Redirect("/ui/" +
                  (query == std::string::npos ? "" : request.target.substr(query)));
}

HttpResponse UiFileRoute(const ApiContext& api, HttpRequest& request) {
  auto param = request.params.find("file");
  const std::string name = param == request.params.end() ? "index.html" : param->second;
  auto it = api.ui->files.find(name);
  if (it == api.ui->files.end()) {
    if (api.ui->files.empty()) {
      return StatusResponse(NotFound("The Trash page is not installed (no files in '" +
                                     api.ui->dir + "')."));
    }
    return StatusResponse(NotFound("No file " + name + " in the Trash page."));
  }
  const UiFile& f = it->second;
  HttpResponse r;
  r.headers.emplace_back("ETag", f.etag);
  // The page itself is checked each time (a new version shows at once); its script
  // and style sheet are kept for an hour, then checked.
  r.headers.emplace_back("Cache-Control", name == "index.html"
                                              ? "no-cache"
                                              : "public, max-age=3600, must-revalidate");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  if (name == "index.html") {
    r.headers.emplace_back("Content-Security-Policy", kContentSecurityPolicy);
    r.headers.emplace_back("X-Frame-Options", "DENY");
    r.headers.emplace_back("Referrer-Policy", "no-referrer");
  }
  if (request.Header("if-none-match") == f.etag) {
    r.status = 304;
    r.content_type.clear();
    return r;
  }
  r.content_type = f.content_type;
  r.body = f.body;
  return r;
}

}  // namespace trashd
