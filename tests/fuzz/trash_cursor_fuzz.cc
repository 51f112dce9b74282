// Fuzz target: Trash cursors. The first byte picks the type (0: every type), the
// second the page size (0: the default), the rest is the cursor a client sends back.
// Engine::ListTrash must answer a page or InvalidArgument; a page's next cursor must
// lead on to items not yet listed (checked for the next three pages). The same query then
// goes through GET /:ws/trash, whose answer must be well formed (CheckAnswer).
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include "fuzz/api_harness.h"

namespace trashd::fuzz {
namespace {

const char* const kTypes[] = {"", "project", "version", "model", "dataset", "workflow"};

// A Trash of a few pages: projects with versions, datasets and models, each deleted
// at a time of its own, on top of what FuzzEngine puts there.
void FillTrash(FuzzEngine& env) {
  Engine& e = env.engine();
  const Actor alice = Actor::Member("alice", Interface::kApi);
  for (int i = 0; i < 12; ++i) {
    NewResource spec;
    spec.type = i % 3 == 0 ? "dataset" : "project";
    spec.name = spec.slug = "t" + std::to_string(i);
    auto made = e.CreateResource(alice, "acme", spec);
    if (!made.ok()) Fail("create: " + made.status().ToString());
    if (spec.type == "project") {
      NewResource model{.type = "model", .parent_id = made->id, .slug = "m", .name = "m"};
      auto m = e.CreateResource(alice, "acme", model);
      if (!m.ok() || !e.Trash(alice, "acme", m->id).ok()) Fail("trash a model");
      env.clock().Advance(1);
    }
    if (!e.Trash(alice, "acme", made->id).ok()) Fail("trash");
    env.clock().Advance(i % 4 == 0 ? 0 : 1000);  // some share a millisecond
  }
}

ApiHarness& Harness() {
  static ApiHarness* harness = [] {
    auto* h = new ApiHarness();  // one for the whole run: listing writes nothing
    FillTrash(h->env());
    return h;
  }();
  return *harness;
}

void CheckPages(Engine& engine, const TrashQuery& query) {
  auto page = engine.ListTrash("acme", query);
  if (!page.ok()) {
    if (page.status().code() != Code::kInvalidArgument) {
      Fail("a cursor answered " + page.status().ToString());
    }
    return;
  }
  size_t limit = query.limit == 0 ? 1000 : query.limit;
  if (page->items.size() > limit) Fail("a page longer than its limit");
  std::set<std::string> seen;
  for (int pages = 0; !page->next_cursor.empty() && pages < 3; ++pages) {
    for (const TrashItem& item : page->items) {
      if (!seen.insert(item.internal_id).second) Fail("an item listed twice: " + item.id);
    }
    TrashQuery next = query;
    next.cursor = page->next_cursor;
    page = engine.ListTrash("acme", next);
    if (!page.ok()) Fail("a next cursor refused: " + page.status().ToString());
  }
}

}  // namespace
}  // namespace trashd::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace trashd;
  using namespace trashd::fuzz;
  if (size < 2) return 0;
  ApiHarness& api = Harness();
  TrashQuery query;
  query.type = kTypes[data[0] % 6];
  query.limit = data[1];
  query.cursor.assign(reinterpret_cast<const char*>(data) + 2, size - 2);
  CheckPages(api.env().engine(), query);

  HttpRequest request;
  request.method = "GET";
  request.target = "/acme/trash?cursor=" +
                   boost::urls::encode(query.cursor, boost::urls::unreserved_chars) +
                   "&api_key=" + api.env().SubstituteKeys("@KEY@");
  if (!query.type.empty()) request.target += "&type=" + query.type;
  if (query.limit != 0) request.target += "&limit=" + std::to_string(query.limit);
  api.Answer(request);
  return 0;
}
