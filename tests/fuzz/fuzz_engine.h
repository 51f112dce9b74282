// FuzzEngine: what the fuzz targets run against: a real engine on a real LMDB store in
// a fresh temp directory (removed at destruction), the built-in types registered from
// code, a fake clock, and a little of everything for inputs to find:
//   workspace "acme" (members alice and bob, both owners) holding project "cars" with
//   version 1 and model "detector" (with a job), dataset "detector", workflow
//   "nightly", and in the Trash project "old" and dataset "gone";
//   workspace "beta" (member carol) holding project "cars".
// Keys: alice's with every scope of the built-in types, bob's with only the read
// scopes, carol's (beta) with every scope. An input names them with the placeholders
// of SubstituteKeys, since the secrets are random.
//
// Ownership: a target keeps one FuzzEngine for many inputs (starting one takes tens of
// milliseconds) and makes a new one now and then, so what the inputs wrote does not
// grow without bound. Thread-safety: as Engine.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "engine/engine.h"
#include "plugin/registry.h"
#include "trashd/clock.h"

namespace trashd::fuzz {

class FuzzEngine {
 public:
  FuzzEngine();  // aborts, saying why, if the engine cannot be set up
  ~FuzzEngine();
  FuzzEngine(const FuzzEngine&) = delete;
  FuzzEngine& operator=(const FuzzEngine&) = delete;

  Engine& engine() { return *engine_; }
  FakeClock& clock() { return clock_; }
  const std::string& data_dir() const { return dir_; }

  // `bytes` with each placeholder replaced by its key's secret: @KEY@ (alice, acme,
  // every scope), @READ@ (bob, acme, read scopes), @BETA@ (carol, beta).
  std::string SubstituteKeys(std::string_view bytes) const;

  // The internal id of acme's active resource of `type` ("project": cars, ...), or of
  // its job for "job"; "" for anything else.
  std::string IdOf(const std::string& type) const;

 private:
  void Seed();

  std::string dir_;
  FakeClock clock_;
  TypeRegistry types_;
  std::unique_ptr<Engine> engine_;
  std::string alice_key_, bob_key_, carol_key_;
  std::map<std::string, std::string> ids_;  // IdOf
};

// A new directory under $TMPDIR (or /tmp), left for the caller to remove.
std::string MakeTempDir();

// Prints `what` and aborts: libFuzzer then saves the input that got here.
[[noreturn]] void Fail(std::string_view what);

}  // namespace trashd::fuzz
