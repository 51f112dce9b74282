#include "fuzz/api_harness.h"

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "http/api_routes.h"

namespace trashd::fuzz {

ApiHarness::ApiHarness() {
  ApiHooks hooks;
  hooks.engine = &env_.engine();
  AddApiRoutes(router_, std::move(hooks));
  router_.SetExceptionReporter([](const HttpRequest& request, std::string_view what) {
    Fail("a handler threw (" + std::string(what) + ") for " + request.method + " " +
         request.target);
  });
}

HttpResponse ApiHarness::Answer(const HttpRequest& request) {
  HttpResponse answer = ServeInProcess(router_, request);
  static const bool verbose = std::getenv("TRASHD_FUZZ_VERBOSE") != nullptr;
  if (verbose) {
    std::fprintf(stderr, "%s %s -> %d %.200s\n", request.method.c_str(),
                 request.target.c_str(), answer.status, answer.body.c_str());
  }
  CheckAnswer(request, answer, {.secret_text = env_.data_dir()});
  env_.clock().Advance(1);  // each request at a time of its own
  return answer;
}

ApiHarness& ApiHarness::Fresh(size_t every) {
  static std::unique_ptr<ApiHarness> harness;
  static size_t calls = 0;
  if (!harness || ++calls % every == 0) {
    harness.reset();
    harness = std::make_unique<ApiHarness>();
  }
  return *harness;
}

}  // namespace trashd::fuzz
