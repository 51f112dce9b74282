// Fuzz target: bytes as they arrive on the API port (up to 8 pipelined requests),
// through the server's parser, the router and the API handlers, on a real engine.
// Request line, headers and body are all the input's; @KEY@, @READ@ and @BETA@ stand
// for real keys (FuzzEngine). Every answer must be well formed (CheckAnswer).
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/api_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace trashd::fuzz;
  ApiHarness& api = ApiHarness::Fresh(20000);
  std::string bytes =
      api.env().SubstituteKeys({reinterpret_cast<const char*>(data), size});
  for (const trashd::HttpRequest& request : ParseRequests(bytes, 8)) api.Answer(request);
  return 0;
}
