// SPEC §7: events reach webhooks from the outbox, at least once, in order per
// workspace, with retries, signatures and filters. The receiver is a real HTTP
// server in the test on 127.0.0.1 (port 0) that records what arrives and can be told
// to fail; backoffs are milliseconds, and every wait is a bounded poll for a state,
// never a timing.
#include <algorithm>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "events/webhook_delivery.h"
#include "http/router.h"
#include "http/server.h"
#include "support/assertions.h"
#include "support/eventually.h"
#include "support/test_env.h"
#include "util/crypto.h"

namespace trashd::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

// One request the receiver got, and what it answered.
struct Received {
  std::string path;
  std::string event_id;   // X-Trashd-Event-Id
  std::string signature;  // X-Trashd-Signature
  std::string raw;        // the body as sent
  json::object body;
  int answered = 0;

  std::string Workspace() const { return std::string(body.at("workspace").as_string()); }
  std::string Type() const { return std::string(body.at("type").as_string()); }
  bool ok() const { return answered == 200; }
};

// The webhook receiver: POST /a and POST /b record each request and answer 200,
// unless told to fail.
class Receiver {
 public:
  Receiver() {
    for (const char* path : {"/a", "/b"}) {
      router_.Add("POST", path,
                  [this, path](HttpRequest& request) { return Answer(path, request); });
    }
    auto port = server_.ListenTcp("127.0.0.1:0", &router_, ServerLimits{});
    REQUIRE_OK(port);
    port_ = port.value();
    REQUIRE_OK(server_.Start(2));
  }
  ~Receiver() { server_.Stop(0ms); }

  // A webhook to `path`, with retries that take milliseconds.
  Webhook Hook(const std::string& path = "/a", int max_attempts = 10) const {
    Webhook hook;
    hook.url = "http://127.0.0.1:" + std::to_string(port_) + path;
    hook.host = "127.0.0.1";
    hook.port = port_;
    hook.target = path;
    hook.max_attempts = max_attempts;
    hook.backoff_initial_ms = 2;
    hook.backoff_max_ms = 10;
    return hook;
  }

  // The next `n` requests are answered 500.
  void FailNext(int n) {
    std::lock_guard lock(mu_);
    fail_next_ = n;
  }
  // Every request for the workspace is answered 503 (empty: none).
  void FailWorkspace(const std::string& ws) {
    std::lock_guard lock(mu_);
    failing_workspace_ = ws;
  }

  std::vector<Received> All() const {
    std::lock_guard lock(mu_);
    return received_;
  }
  // The requests answered 200, in the order they came, optionally of one path and
  // one workspace.
  std::vector<Received> Delivered(const std::string& path = "",
                                  const std::string& ws = "") const {
    std::vector<Received> out;
    for (Received& r : All()) {
      if (r.ok() && (path.empty() || r.path == path) &&
          (ws.empty() || r.Workspace() == ws)) {
        out.push_back(std::move(r));
      }
    }
    return out;
  }

 private:
  HttpResponse Answer(const std::string& path, const HttpRequest& request) {
    Received r;
    r.path = path;
    r.event_id = request.Header("x-trashd-event-id");
    r.signature = request.Header("x-trashd-signature");
    r.raw = request.body;
    r.body = json::parse(request.body).as_object();
    std::lock_guard lock(mu_);
    r.answered = 200;
    if (fail_next_ > 0) {
      --fail_next_;
      r.answered = 500;
    } else if (!failing_workspace_.empty() && r.Workspace() == failing_workspace_) {
      r.answered = 503;
    }
    received_.push_back(r);
    return JsonResponse(r.answered, json::object{{"received", r.event_id}});
  }

  Router router_;
  HttpServer server_;
  uint16_t port_ = 0;
  mutable std::mutex mu_;
  std::vector<Received> received_;
  int fail_next_ = 0;
  std::string failing_workspace_;
};

// Collects what the delivery logs.
class LogLines {
 public:
  EventDelivery::Log Sink() {
    return [this](LogLevel level, std::string_view line) {
      std::lock_guard lock(mu_);
      lines_.emplace_back(level, std::string(line));
    };
  }
  std::vector<std::string> At(LogLevel level) const {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& [l, line] : lines_)
      if (l == level) out.push_back(line);
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::pair<LogLevel, std::string>> lines_;
};

EventDeliveryOptions FastOptions() {
  EventDeliveryOptions options;
  options.poll_interval = 20ms;
  options.request_timeout = 5000ms;
  return options;
}

// Deletes a new workflow: one `trash` event.
std::string TrashWorkflow(TestEnv& env, const std::string& ws, const std::string& slug) {
  Resource r = env.Create(ws, "workflow", "", slug);
  REQUIRE_OK(env->Trash(Alice(), ws, r.id));
  return r.id;
}

std::vector<std::string> Ids(const std::vector<Received>& got) {
  std::vector<std::string> ids;
  for (const Received& r : got) ids.push_back(r.event_id);
  return ids;
}

std::vector<std::string> OutboxIds(TestEnv& env, const std::string& ws = "") {
  std::vector<std::string> ids;
  for (const Event& e : env->PendingEvents(0, 100000))
    if (ws.empty() || e.workspace == ws) ids.push_back(e.id);
  return ids;
}

bool OutboxEmpty(TestEnv& env) { return env->PendingEvents(0, 1).empty(); }

// Workspace "acme", a receiver, and an EventDelivery started on demand. Members go in
// reverse order: the delivery stops before the receiver and the engine.
class Delivering {
 protected:
  Delivering() { env.MakeWorkspace("acme"); }

  // Starts delivering to `hooks`, after stopping the delivery started before.
  EventDelivery& StartDelivery(std::vector<Webhook> hooks,
                               EventDeliveryOptions options = FastOptions()) {
    delivery.reset();
    delivery = std::make_unique<EventDelivery>(&env.engine(), std::move(hooks),
                                               log.Sink(), options);
    delivery->Start();
    return *delivery;
  }

  TestEnv env;
  Receiver receiver;
  LogLines log;
  std::unique_ptr<EventDelivery> delivery;
};

TEST_CASE_METHOD(Delivering,
                 "Webhooks: each event is POSTed as JSON with its id, then acknowledged",
                 "[webhooks]") {
  std::string id = TrashWorkflow(env, "acme", "flow");
  std::vector<std::string> queued = OutboxIds(env);
  REQUIRE(queued.size() == 1);

  StartDelivery({receiver.Hook()});
  REQUIRE(Eventually([&] { return receiver.Delivered().size() == 1; }));
  Received got = receiver.Delivered().front();
  CHECK(got.event_id == queued.front());
  CHECK(got.body.at("id") == json::value(queued.front()));
  CHECK(got.body.at("seq").to_number<uint64_t>() > 0);
  CHECK(got.body.at("type") == "trash");
  CHECK(got.body.at("workspace") == "acme");
  CHECK(got.body.at("time") == "2026-04-20T17:05:33.000Z");
  const json::object& data = got.body.at("data").as_object();  // an object, not text
  CHECK(data.at("internalId") == json::value(id));
  CHECK(data.at("type") == "workflow");
  CHECK(got.signature.empty());  // the hook has no secret

  // Acknowledged: gone from the outbox. Later events go too, on Notify.
  REQUIRE(Eventually([&] { return OutboxEmpty(env); }));
  TrashWorkflow(env, "acme", "second");
  delivery->Notify();
  REQUIRE(
      Eventually([&] { return receiver.Delivered().size() == 2 && OutboxEmpty(env); }));
  delivery->Stop();
  DeliveryStats stats = delivery->Stats();
  CHECK(stats.delivered == 2);
  CHECK(stats.failed_attempts == 0);
  CHECK(stats.pending == 0);
  CHECK(receiver.All().size() == 2);
}

TEST_CASE_METHOD(Delivering,
                 "Webhooks: failed attempts are retried, the event stays until delivered",
                 "[webhooks]") {
  receiver.FailNext(3);
  TrashWorkflow(env, "acme", "one");
  TrashWorkflow(env, "acme", "two");
  std::vector<std::string> queued = OutboxIds(env);

  StartDelivery({receiver.Hook()});
  REQUIRE(Eventually([&] { return receiver.Delivered().size() == 2; }));
  REQUIRE(Eventually([&] { return OutboxEmpty(env); }));

  // The first event failed three times, then went; only then the second (order).
  std::vector<Received> all = receiver.All();
  REQUIRE(all.size() == 5);
  CHECK(Ids(all) ==
        std::vector<std::string>{queued[0], queued[0], queued[0], queued[0], queued[1]});
  CHECK(all[2].answered == 500);
  CHECK(all[3].answered == 200);
  CHECK(all[0].raw == all[3].raw);  // the same body each time
  DeliveryStats stats = delivery->Stats();
  CHECK(stats.delivered == 2);
  CHECK(stats.failed_attempts == 3);
  CHECK(stats.given_up == 0);
  CHECK(log.At(LogLevel::kInfo).size() == 3);  // one line per failed attempt
}

TEST_CASE_METHOD(Delivering,
                 "Webhooks: in order per workspace, a failing one holds back no other",
                 "[webhooks]") {
  env.MakeWorkspace("beta");
  receiver.FailWorkspace("beta");
  for (int i = 0; i < 6; ++i) {
    TrashWorkflow(env, "acme", "a" + std::to_string(i));
    TrashWorkflow(env, "beta", "b" + std::to_string(i));
  }
  std::vector<std::string> acme = OutboxIds(env, "acme");
  std::vector<std::string> beta = OutboxIds(env, "beta");

  EventDeliveryOptions options = FastOptions();
  options.max_in_flight_per_hook = 4;
  StartDelivery({receiver.Hook("/a", /*max_attempts=*/1000)}, options);
  // acme's events all arrive, in order, while beta's first keeps failing...
  REQUIRE(Eventually([&] { return receiver.Delivered("/a", "acme").size() == 6; }));
  CHECK(Ids(receiver.Delivered("/a", "acme")) == acme);
  REQUIRE(Eventually([&] { return delivery->Stats().failed_attempts >= 3; }));
  // ...and no later beta event was tried before it: one failing event at a time.
  for (const Received& r : receiver.All()) {
    if (r.Workspace() == "beta") CHECK(r.event_id == beta.front());
  }
  // Nothing at or after beta's first event is acknowledged, acme's included: the
  // outbox is only acknowledged up to what every workspace has finished with.
  REQUIRE(Eventually([&] { return OutboxIds(env).front() == beta.front(); }));
  CHECK(OutboxIds(env, "acme").size() == 5);

  receiver.FailWorkspace("");
  REQUIRE(Eventually([&] { return receiver.Delivered("/a", "beta").size() == 6; }));
  CHECK(Ids(receiver.Delivered("/a", "beta")) == beta);
  REQUIRE(Eventually([&] { return OutboxEmpty(env); }));
  CHECK(receiver.Delivered().size() == 12);  // each once
}

TEST_CASE_METHOD(Delivering,
                 "Webhooks: an event is given up after max_attempts, with a warning",
                 "[webhooks]") {
  receiver.FailNext(3);
  TrashWorkflow(env, "acme", "doomed");
  TrashWorkflow(env, "acme", "fine");
  std::vector<std::string> queued = OutboxIds(env);

  StartDelivery({receiver.Hook("/a", /*max_attempts=*/3)});
  // The next event goes once the first is given up; both leave the outbox.
  REQUIRE(Eventually([&] { return receiver.Delivered().size() == 1; }));
  REQUIRE(Eventually([&] { return OutboxEmpty(env); }));
  CHECK(Ids(receiver.All()) ==
        std::vector<std::string>{queued[0], queued[0], queued[0], queued[1]});
  DeliveryStats stats = delivery->Stats();
  CHECK(stats.given_up == 1);
  CHECK(stats.failed_attempts == 3);
  CHECK(stats.delivered == 1);
  std::vector<std::string> warnings = log.At(LogLevel::kWarn);
  REQUIRE(warnings.size() == 1);
  CHECK(warnings.front().find(queued[0]) != std::string::npos);
  CHECK(warnings.front().find("3 attempts") != std::string::npos);
}

TEST_CASE_METHOD(Delivering,
                 "Webhooks: a hook with a secret signs each body with HMAC-SHA256",
                 "[webhooks]") {
  // RFC 4231, test case 2.
  CHECK(crypto::HmacSha256Hex("Jefe", "what do ya want for nothing?") ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");

  TrashWorkflow(env, "acme", "signed");
  Webhook signed_hook = receiver.Hook("/a");
  signed_hook.secret = "s3cret";
  StartDelivery({signed_hook, receiver.Hook("/b")});
  REQUIRE(Eventually([&] { return receiver.Delivered().size() == 2; }));
  Received got = receiver.Delivered("/a").front();
  CHECK(got.signature == "sha256=" + crypto::HmacSha256Hex("s3cret", got.raw));
  CHECK(got.signature != "sha256=" + crypto::HmacSha256Hex("other", got.raw));
  CHECK(receiver.Delivered("/b").front().signature.empty());
}

TEST_CASE_METHOD(Delivering, "Webhooks: a hook gets only the event types it asks for",
                 "[webhooks]") {
  Resource r = env.Create("acme", "workflow", "", "flow");
  REQUIRE_OK(env->Trash(Alice(), "acme", r.id));
  REQUIRE_OK(env->Purge(Actor::Admin(), "acme", r.id));
  Webhook purges_only = receiver.Hook("/a");
  purges_only.events = {"purge"};
  StartDelivery({purges_only, receiver.Hook("/b")});
  REQUIRE(Eventually([&] { return receiver.Delivered("/b").size() == 2; }));
  REQUIRE(Eventually([&] { return OutboxEmpty(env); }));
  std::vector<Received> to_a = receiver.Delivered("/a");
  REQUIRE(to_a.size() == 1);
  CHECK(to_a.front().Type() == "purge");
  std::vector<Received> to_b = receiver.Delivered("/b");
  CHECK(to_b[0].Type() == "trash");
  CHECK(to_b[1].Type() == "purge");
}

TEST_CASE_METHOD(Delivering,
                 "Webhooks: what was not acknowledged is delivered again after a restart",
                 "[webhooks]") {
  receiver.FailNext(1000000);
  TrashWorkflow(env, "acme", "one");
  TrashWorkflow(env, "acme", "two");
  std::vector<std::string> queued = OutboxIds(env);
  StartDelivery({receiver.Hook("/a", /*max_attempts=*/1000)});
  REQUIRE(Eventually([&] { return receiver.All().size() >= 2; }));
  delivery.reset();
  CHECK(OutboxIds(env) == queued);  // nothing lost

  // The daemon restarts, and the receiver is back.
  receiver.FailNext(0);
  env.Reopen();
  StartDelivery({receiver.Hook()});
  REQUIRE(Eventually([&] { return OutboxEmpty(env); }));
  CHECK(Ids(receiver.Delivered()) == queued);

  // Acknowledged events are not delivered again by the next one. This one stops
  // first: left running, it would read "three" within its poll interval, and a
  // POST of it still on the wire when the next one replaces it is, by design (at
  // least once), delivered again.
  delivery.reset();
  TrashWorkflow(env, "acme", "three");
  StartDelivery({receiver.Hook()});
  REQUIRE(Eventually([&] { return OutboxEmpty(env); }));
  delivery->Stop();
  std::vector<std::string> delivered = Ids(receiver.Delivered());
  REQUIRE(delivered.size() == 3);
  CHECK(std::count(queued.begin(), queued.end(), delivered.back()) == 0);
}

TEST_CASE("Webhooks: the outbox keeps only the event types some hook takes",
          "[webhooks][outbox]") {
  auto hook = [](std::vector<std::string> events) {
    Webhook h;
    h.url = "http://hooks.internal/x";
    h.events = std::move(events);
    return h;
  };
  using Types = std::set<std::string>;
  CHECK(EventTypesTaken({}) == Types{});
  CHECK(EventTypesTaken({hook({"purge"})}) == Types{"purge"});
  CHECK(EventTypesTaken({hook({"purge", "trash"}), hook({"trash", "restore"})}) ==
        Types{"purge", "restore", "trash"});
  CHECK(EventTypesTaken({hook({"purge"}), hook({})}) == std::nullopt);
}

TEST_CASE_METHOD(Delivering,
                 "Webhooks: with none configured the outbox is still acknowledged",
                 "[webhooks]") {
  TrashWorkflow(env, "acme", "one");
  StartDelivery({});
  REQUIRE(Eventually([&] { return OutboxEmpty(env); }));
  TrashWorkflow(env, "acme", "two");
  delivery->Notify();
  REQUIRE(Eventually([&] { return OutboxEmpty(env); }));
  CHECK(delivery->Stats().delivered == 0);
}

TEST_CASE_METHOD(Delivering,
                 "Webhooks: a reload with other hooks gives what is left to the new ones",
                 "[webhooks]") {
  receiver.FailWorkspace("acme");
  TrashWorkflow(env, "acme", "one");
  std::vector<std::string> queued = OutboxIds(env);
  StartDelivery({receiver.Hook("/a", /*max_attempts=*/1000)});
  REQUIRE(Eventually([&] { return receiver.All().size() >= 2; }));

  // Once the new hook is being tried, the receiver recovers: only the new hook gets
  // the event, and then the outbox is acknowledged.
  delivery->Reconfigure({receiver.Hook("/b")});
  REQUIRE(Eventually([&] {
    std::vector<Received> all = receiver.All();
    return std::any_of(all.begin(), all.end(),
                       [](const Received& r) { return r.path == "/b"; });
  }));
  receiver.FailWorkspace("");
  REQUIRE(Eventually([&] { return OutboxEmpty(env); }));
  std::vector<Received> to_b = receiver.Delivered("/b");
  REQUIRE(to_b.size() == 1);
  CHECK(to_b.front().event_id == queued.front());
  CHECK(receiver.Delivered("/a").empty());
}

TEST_CASE_METHOD(Delivering,
                 "Webhooks: an unreachable hook is retried like a failing one",
                 "[webhooks]") {
  TrashWorkflow(env, "acme", "one");
  Webhook nowhere;
  {
    Receiver gone;  // a port that was just free: nobody listens there any more
    nowhere = gone.Hook("/a", /*max_attempts=*/2);
  }
  StartDelivery({nowhere});
  REQUIRE(Eventually([&] { return delivery->Stats().given_up == 1; }));
  REQUIRE(Eventually([&] { return OutboxEmpty(env); }));
  CHECK(delivery->Stats().failed_attempts == 2);
  REQUIRE(log.At(LogLevel::kWarn).size() == 1);
  CHECK(log.At(LogLevel::kWarn).front().find("connect") != std::string::npos);
}

TEST_CASE_METHOD(
    Delivering,
    "Outbox: with no webhook, one poll acknowledges all that queued since the "
    "last, beyond the read buffer",
    "[webhooks][outbox]") {
  // Nothing wakes the loop between polls without a webhook (Notify does nothing), so
  // a poll must catch up with more than it can buffer at once.
  for (int i = 0; i < 25; ++i) TrashWorkflow(env, "acme", "flow-" + std::to_string(i));
  REQUIRE(OutboxIds(env).size() == 25);
  EventDeliveryOptions options = FastOptions();
  options.max_buffered_events = 10;
  options.poll_interval = std::chrono::hours(1);  // only the first read, at Start
  StartDelivery({}, options);
  delivery->Notify();  // with no webhook: no pump
  CHECK(Eventually([&] { return OutboxEmpty(env); }));
  delivery->Stop();
  CHECK(receiver.All().empty());
}

}  // namespace
}  // namespace trashd::testing
