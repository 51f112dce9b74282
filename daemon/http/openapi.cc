// The OpenAPI 3.1 document of the API listener. The document is a file of the tree,
// daemon/http/openapi.json, embedded at build time (openapi_embed.cmake): its
// schemas are data an editor, a reviewer and `redocly lint` read directly, and
// adding a route means adding one path item there. tests/daemon/openapi_test.cc
// walks the route table and fails for a route the document lacks (or the reverse).
#include <boost/json.hpp>
#include <string>

#include "http/api_routes.h"

namespace trashd {

extern const char kOpenApiText[];  // openapi_text.cc, generated from openapi.json

namespace json = boost::json;

std::string ApiOpenApiDocument(const std::string& version) {
  // The embedded text was parsed by the test suite; a parse error here would be a
  // build that skipped it, and answers the document as it is.
  boost::system::error_code ec;
  json::value doc = json::parse(kOpenApiText, ec);
  if (ec || !doc.is_object()) return kOpenApiText;
  doc.as_object()["info"].as_object()["version"] = version;
  return json::serialize(doc);
}

}  // namespace trashd
