// Admin wire: how the admin socket shows the engine's values (workspaces, members,
// keys, purges, sweeps, fsck) and reads its request bodies, which refuse a field the
// route does not know. What both listeners share (trash items, usage, audit entries,
// typed fields, RequiredString) is in http/wire.h. Private to the admin routes.
//
// Pure functions: safe from any thread.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/domain.h"
#include "http/router.h"
#include "trashd/status.h"

namespace trashd {

// ---- engine values as JSON ----------------------------------------------------------

boost::json::value TimeOrNull(TimeMs t);  // null for 0, else the ISO-8601 time
boost::json::array StringsJson(const std::vector<std::string>& strings);

// `{"<name>": [to_json(value), ...]}`: the shape of every listing.
template <typename T, typename ToJson>
boost::json::object Listing(const char* name, const std::vector<T>& values,
                            ToJson to_json) {
  boost::json::array out;
  for (const T& value : values) out.push_back(to_json(value));
  return boost::json::object{{name, std::move(out)}};
}

boost::json::object WorkspaceJson(const Workspace& w);
boost::json::object MemberJson(const Member& m);
boost::json::object RoleJson(const Role& r);
boost::json::object KeyJson(const ApiKeyInfo& k);
boost::json::array TrashItemsJson(const std::vector<TrashItem>& items);
boost::json::object PurgeJson(const PurgeOutcome& p);
boost::json::object SweepJson(const SweepReport& r);
boost::json::object SweepRunJson(const SweepRun& r);
boost::json::object FsckJson(const FsckReport& f);

// ---- reading requests ---------------------------------------------------------------

// The request's body as a JSON object (an empty body is one when `empty_ok`); a
// field not in `known` is InvalidArgument.
Result<boost::json::object> BodyOf(const HttpRequest& request,
                                   std::initializer_list<std::string_view> known,
                                   bool empty_ok = false);

Result<bool> RequiredBool(const boost::json::object& body, std::string_view name);

// An integer field that must lie in [min, max] when present.
Result<std::optional<int64_t>> IntInRange(const boost::json::object& body,
                                          std::string_view name, int64_t min,
                                          int64_t max);
Result<int64_t> RequiredInt(const boost::json::object& body, std::string_view name,
                            int64_t min, int64_t max);

// An optional array of strings; absent: empty.
Result<std::vector<std::string>> StringList(const boost::json::object& body,
                                            std::string_view name);

// A body's `dryRun` flag; absent: false.
Result<bool> DryRun(const boost::json::object& body);

}  // namespace trashd
