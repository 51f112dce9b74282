// NodeLeases (daemon/app/node_leases.h): two nodes on one store, as two NodeLeases with
// their own ids over one engine. The first to ask holds each lease; the other holds
// none until the first gives them up or stops renewing. Alone (LMDB), a node holds
// every lease with nothing to check.
#include "app/node_leases.h"

#include <catch2/catch.hpp>
#include <mutex>

#include "support/eventually.h"
#include "support/test_env.h"

namespace trashd::testing {
namespace {

using std::chrono::milliseconds;

NodeLeasesOptions Node(const std::string& id, bool alone = false) {
  NodeLeasesOptions options;
  options.node_id = id;
  options.ttl = milliseconds(600);
  options.renew = milliseconds(100);
  options.alone = alone;
  return options;
}

// The log lines of a node, for what it says when it takes or loses a lease.
struct Lines {
  std::mutex mu;
  std::vector<std::string> lines;
  NodeLeases::Log Log() {
    return [this](LogLevel, const std::string& line) {
      std::lock_guard<std::mutex> lock(mu);
      lines.push_back(line);
    };
  }
  bool Has(const std::string& text) {
    std::lock_guard<std::mutex> lock(mu);
    for (const std::string& line : lines) {
      if (line.find(text) != std::string::npos) return true;
    }
    return false;
  }
};

TEST_CASE("one node holds each lease and another takes it over when it is given up",
          "[lease][daemon]") {
  TestEnv env;
  SystemClock wall;
  Lines a_said, b_said;
  NodeLeases a(&env.engine(), &wall, Node("node-a"), a_said.Log());
  NodeLeases b(&env.engine(), &wall, Node("node-b"), b_said.Log());
  std::vector<std::string> b_took;
  b.OnChange([&](const std::string& name, bool held) {
    if (held) b_took.push_back(name);
  });
  a.Start();
  b.Start();
  for (const char* name : {kSweepLease, kWebhooksLease}) {
    INFO(name);
    REQUIRE(a.Hold(name).held);
    REQUIRE(a.Hold(name).fence);
    CHECK(a.Hold(name).fence->epoch == 1);
    CHECK_FALSE(b.Hold(name).held);
  }
  CHECK(a_said.Has("lease sweep taken by this node (node-a, epoch 1)"));
  for (const LeaseView& v : b.Views()) CHECK(v.holder == "node-a");

  a.Stop();  // gives them up: b takes them at its next renewal
  CHECK(a_said.Has("lease sweep given up (stopping)"));
  REQUIRE(Eventually(
      [&] { return b.Hold(kSweepLease).held && b.Hold(kWebhooksLease).held; }));
  CHECK(b.Hold(kSweepLease).fence->epoch == 2);
  CHECK_FALSE(a.Hold(kSweepLease).held);
  CHECK(b_said.Has("lease webhooks taken by this node (node-b, epoch 2)"));
  b.Stop();
  CHECK(b_took.size() == 2);
}

TEST_CASE("a node alone holds every lease and stores none", "[lease][daemon]") {
  TestEnv env;
  SystemClock wall;
  NodeLeases alone(&env.engine(), &wall, Node("solo", true), nullptr);
  alone.Start();
  LeaseHold hold = alone.Hold(kSweepLease);
  CHECK(hold.held);
  CHECK_FALSE(hold.fence);  // nothing to check in a sweep's transactions
  for (const LeaseView& v : alone.Views()) {
    CHECK(v.held);
    CHECK(v.holder == "solo");
  }
  // Nothing was written: another node asking would get the lease at once.
  auto other = env->ClaimLease(kSweepLease, "other", wall.Now(), 1000);
  REQUIRE(other.ok());
  CHECK(other->holder == "other");
  CHECK(other->epoch == 1);
}

}  // namespace
}  // namespace trashd::testing
