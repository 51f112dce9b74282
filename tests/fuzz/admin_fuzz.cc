// Fuzz target: bytes as they arrive on the admin socket (up to 8 pipelined
// requests), through the server's parser, the router and the admin routes, on a real
// engine, from a peer the socket trusts. POST /v1/backup is left out: it writes a
// copy of the store wherever its body says. Every answer must be well formed
// (CheckAnswer), GET /v1/fsck alone may answer 500 (with the differences it found).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "admin/admin_routes.h"
#include "fuzz/fuzz_engine.h"
#include "fuzz/http_input.h"

namespace trashd::fuzz {
namespace {

class AdminHarness {
 public:
  AdminHarness() {
    AdminHooks hooks;
    hooks.engine = &env_.engine();
    AddAdminRoutes(router_, std::move(hooks));
    router_.SetExceptionReporter([](const HttpRequest& request, std::string_view what) {
      Fail("a handler threw (" + std::string(what) + ") for " + request.target);
    });
  }

  void Answer(HttpRequest request) {
    request.peer = {.has_creds = true, .uid = 0, .gid = 0, .pid = 1};
    request.remote_address = "unix";
    HttpRequest resolved = request;
    ResolvedRoute route = router_.Resolve(resolved);
    std::string pattern = route.pattern ? *route.pattern : "";
    if (pattern == "/v1/backup") return;
    HttpResponse answer = ServeInProcess(router_, request);
    CheckAnswer(request, answer, {.allow_500 = pattern == "/v1/fsck"});
    env_.clock().Advance(60'000);  // a minute a request: sweeps find things expired
  }

  FuzzEngine& env() { return env_; }

 private:
  FuzzEngine env_;
  Router router_;
};

}  // namespace
}  // namespace trashd::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace trashd::fuzz;
  static std::unique_ptr<AdminHarness> admin;
  static size_t inputs = 0;
  if (!admin || ++inputs % 20000 == 0) {
    admin.reset();
    admin = std::make_unique<AdminHarness>();
  }
  std::string bytes =
      admin->env().SubstituteKeys({reinterpret_cast<const char*>(data), size});
  for (trashd::HttpRequest& request : ParseRequests(bytes, 8)) {
    admin->Answer(std::move(request));
  }
  return 0;
}
