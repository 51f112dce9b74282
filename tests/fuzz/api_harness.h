// ApiHarness: the API listener's routes (AddApiRoutes) on a FuzzEngine, as the daemon
// registers them, for the targets that send requests to the API. Answer() serves one
// request in-process and checks the answer (CheckAnswer, with the data directory as
// text no answer may carry). With TRASHD_FUZZ_VERBOSE set in the environment it prints
// each request and its answer (to see what an input does).
//
// A target keeps one for many inputs and replaces it now and then (Fresh), so what the
// inputs wrote does not grow without bound. Thread-safety: as the routes.
#pragma once

#include <cstddef>
#include <memory>

#include "fuzz/fuzz_engine.h"
#include "fuzz/http_input.h"
#include "http/router.h"

namespace trashd::fuzz {

class ApiHarness {
 public:
  ApiHarness();
  FuzzEngine& env() { return env_; }
  HttpResponse Answer(const HttpRequest& request);

  // The harness for the next input: a new one every `every` calls.
  static ApiHarness& Fresh(size_t every);

 private:
  FuzzEngine env_;
  Router router_;
};

}  // namespace trashd::fuzz
