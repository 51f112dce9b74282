// Admin routes: the route table of the admin socket (SPEC §4, A2). The socket is
// trusted by peer credentials, checked by the server before a request reaches these
// routes; every change is made as Actor::Admin() through one Engine call, so the
// engine's rules (holds, P4, R2, …) hold here as everywhere. trashctl is the client.
//
// The daemon owns what is not the engine's (the sweep scheduler, the reload, the
// process status) and lends it through AdminHooks.
//
// The table (JSON in and out; every error is `{"error": "..."}` through
// StatusResponse; times are ISO-8601 UTC; `:type/:id` is the public trash id, and a
// numbered type such as a version also takes `parentId`, in the body or, for GET, the
// query):
//   GET  /v1/status                                  engine facts + hooks.status
//   GET  /v1/workspaces        POST /v1/workspaces   {url, name?, retentionDays?,
//                                                     quotaBytes?, hold?}
//   GET  /v1/workspaces/:ws                          the workspace and its usage
//   PUT  /v1/workspaces/:ws/retention {days}  /quota {bytes}  /hold {hold}
//   GET|POST /v1/workspaces/:ws/members {id, role, name?}
//   PUT  /v1/workspaces/:ws/members/:member/role {role}
//   GET|POST /v1/workspaces/:ws/roles {name, permissions}
//   GET|POST /v1/workspaces/:ws/keys {member, scopes}     (answers the secret once)
//   POST /v1/workspaces/:ws/keys/:key/revoke
//   GET  /v1/workspaces/:ws/trash?type=&limit=&cursor=
//   GET  /v1/workspaces/:ws/trash/:type/:id
//   PUT  /v1/workspaces/:ws/trash/:type/:id/hold {hold, parentId?}
//   POST /v1/workspaces/:ws/trash/:type/:id/restore {parentId?}
//   POST /v1/workspaces/:ws/trash/restore {all: true}
//   POST /v1/workspaces/:ws/trash/:type/:id/purge {confirm: <id>, parentId?, dryRun?}
//   POST /v1/workspaces/:ws/trash/empty {confirm: <ws>, dryRun?}
//   GET  /v1/workspaces/:ws/audit?since=&limit=
//   POST /v1/sweep {dryRun?, acceptClockJump?}    GET /v1/sweep/runs?limit=
//   GET  /v1/fsck (500 with the differences when there are any)
//   POST /v1/backup {path (absolute), overwrite?}: the store at path, its blob files
//        in path.blobs/ (engine/backup.h)
//   GET  /v1/plugins            POST /v1/reload
// Purge and empty refuse (400, nothing purged) unless `confirm` is exactly the item's
// id or the workspace: the confirmation is checked here, not only by trashctl (P3).
//
// Thread-safety: the routes call the engine and the hooks concurrently from the
// server's pool; both must be safe for that.
#pragma once

#include <boost/json/object.hpp>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "engine/engine.h"
#include "http/router.h"
#include "plugin/loader.h"

namespace trashd {

struct AdminHooks {
  Engine* engine = nullptr;  // required
  // Runs a sweep now (dry or real) through the daemon's scheduler, so it never overlaps
  // the daily one; `accept_clock_jump` lifts the clock-jump guard for this run. Null:
  // the route runs Engine::SweepOnce itself with `sweep_batch` and no guard.
  std::function<Result<SweepReport>(bool dry_run, bool accept_clock_jump)> sweep;
  size_t sweep_batch = 250;
  // Retention of a workspace created without one: the config's
  // retention_days_default, read at each creation (a reload may change it). Null: 30.
  std::function<int()> default_retention_days;
  // Re-reads the config (like SIGHUP); returns the changes as log lines. Null: the
  // route answers 503 ("reload is not available in this process").
  std::function<Result<std::vector<std::string>>()> reload;
  // Extra facts for `trashctl status` (version, uptime, listen address, last sweep…);
  // merged into the answer of GET /v1/status. Null: only what the engine knows.
  std::function<boost::json::object()> status;
  // The plugins the daemon loaded, for `trashctl plugins`.
  std::vector<LoadedPlugin> plugins;
  // Told of each change an operator follows in the log once it is done (restore,
  // purge, empty-trash, key create and revoke, hold and release): a sentence and its
  // fields (name, value), the key id but never a secret. Null: nobody is told.
  using Fields = std::vector<std::pair<std::string, std::string>>;
  std::function<void(const std::string& what, const Fields& fields)> changed;
};

// Adds every admin route to `router`. `hooks` is copied; hooks.engine must outlive
// the router.
void AddAdminRoutes(Router& router, AdminHooks hooks);

}  // namespace trashd
