// Fuzz target: JSON bodies. The input is the body of one of the API's routes that
// take JSON (the first byte picks the route, the second the type for `:type`), sent
// with alice's key to a path naming resources that exist, so each handler reads the
// body for real. Every answer must be well formed (CheckAnswer).
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "fuzz/api_harness.h"
#include "http/api_table.h"

namespace trashd::fuzz {
namespace {

const char* const kTypes[] = {"project", "version", "model", "dataset", "workflow"};

std::vector<const ApiRoute*> JsonRoutes() {
  std::vector<const ApiRoute*> routes;
  for (const ApiRoute& route : ApiRouteTable()) {
    if (route.body == Body::kJson) routes.push_back(&route);
  }
  return routes;
}

// The route's pattern with each `:param` replaced by a value that exists.
std::string TargetOf(const ApiRoute& route, const FuzzEngine& env,
                     const std::string& type) {
  const std::map<std::string, std::string> values = {
      {"ws", "acme"},           {"project", "cars"},
      {"version", "1"},         {"slug", "detector"},
      {"type", type},           {"id", env.IdOf(type)},
      {"job", env.IdOf("job")}, {"workflowUrl", "nightly"}};
  std::string pattern = route.pattern, target;
  for (size_t at = 1; at <= pattern.size();) {
    size_t end = pattern.find('/', at);
    if (end == std::string::npos) end = pattern.size();
    std::string segment = pattern.substr(at, end - at);
    if (segment.starts_with(':')) {
      auto it = values.find(segment.substr(1));
      segment = it == values.end() ? "x" : it->second;
    }
    target += "/" + boost::urls::encode(segment, boost::urls::unreserved_chars);
    at = end + 1;
  }
  return target;
}

}  // namespace
}  // namespace trashd::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace trashd;
  using namespace trashd::fuzz;
  static const std::vector<const ApiRoute*> routes = JsonRoutes();
  if (size < 2 || routes.empty()) return 0;
  ApiHarness& api = ApiHarness::Fresh(20000);
  const ApiRoute& route = *routes[data[0] % routes.size()];
  HttpRequest request;
  request.method = route.method;
  request.target = TargetOf(route, api.env(), kTypes[data[1] % 5]) +
                   "?api_key=" + api.env().SubstituteKeys("@KEY@");
  request.headers["content-type"] = "application/json";
  request.body.assign(reinterpret_cast<const char*>(data) + 2, size - 2);
  request.remote_address = "127.0.0.1:40000";
  api.Answer(request);
  return 0;
}
