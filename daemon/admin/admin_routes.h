// Admin routes: the route table of the admin socket (SPEC §4, A2). The socket is
// trusted by peer credentials, checked by the server before a request reaches these
// routes; every change is made as Actor::Admin() through one Engine call, so the
// engine's rules (holds, P4, R2, …) hold here as everywhere. trashctl is the client.
//
// The daemon owns what is not the engine's (the sweep scheduler, the reload, the
// process status) and lends it through AdminHooks.
//
// Thread-safety: the routes call the engine and the hooks concurrently from the
// server's pool; both must be safe for that.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "engine/engine.h"
#include "http/router.h"
#include "plugin/loader.h"

namespace trashd {

struct AdminHooks {
  Engine* engine = nullptr;  // required
  // Runs a sweep now (dry or real) through the daemon's scheduler, so it never overlaps
  // the daily one. Null: the route runs Engine::SweepOnce itself with `sweep_batch`.
  std::function<Result<SweepReport>(bool dry_run)> sweep;
  size_t sweep_batch = 1000;
  // Re-reads the config (like SIGHUP); returns the changes as log lines. Null: 501-ish
  // refusal ("reload is not available").
  std::function<Result<std::vector<std::string>>()> reload;
  // Extra facts for `trashctl status` (version, uptime, listen address, last sweep…);
  // merged into the answer of GET /status. Null: only what the engine knows.
  std::function<boost::json::object()> status;
  // The plugins the daemon loaded, for `trashctl plugins`.
  std::vector<LoadedPlugin> plugins;
};

// Adds every admin route to `router`. `hooks` is copied; hooks.engine must outlive
// the router.
void AddAdminRoutes(Router& router, AdminHooks hooks);

}  // namespace trashd
