// Leases (issue 15): one node at a time leads the sweep and webhook delivery when
// several share a store. A lease changes hands only once it has expired or was given
// up, each change bumps its epoch, and a sweep whose lease was taken over purges
// nothing. Runs on LMDB and, as lease_test@pg, on PostgreSQL.
#include <catch2/catch.hpp>

#include "engine/engine.h"
#include "support/assertions.h"
#include "support/test_env.h"

namespace trashd::testing {
namespace {

constexpr TimeMs kTtl = 15'000;

LeaseRecord Claim(TestEnv& env, const std::string& node, TimeMs now) {
  auto got = env->ClaimLease("sweep", node, now, kTtl);
  REQUIRE_OK(got);
  return *got;
}

TEST_CASE("A lease is held by one node until it expires and a takeover bumps the epoch",
          "[lease]") {
  TestEnv env;
  const TimeMs t = kStart;
  LeaseRecord a = Claim(env, "node-a", t);
  CHECK(a == LeaseRecord{"node-a", 1, t + kTtl});

  // Another node gets the record as it is, and nothing changes.
  CHECK(Claim(env, "node-b", t + 1000) == a);
  // The holder renews: same epoch, later expiry.
  LeaseRecord renewed = Claim(env, "node-a", t + 5000);
  CHECK(renewed == LeaseRecord{"node-a", 1, t + 5000 + kTtl});
  CHECK(Claim(env, "node-b", t + 5000 + kTtl - 1).holder == "node-a");

  // Expired: the next node to ask takes it, with the next epoch.
  LeaseRecord b = Claim(env, "node-b", t + 5000 + kTtl);
  CHECK(b == LeaseRecord{"node-b", 2, t + 5000 + 2 * kTtl});
  CHECK(Claim(env, "node-a", t + 5000 + kTtl + 1).holder == "node-b");

  // Given up, it is free at once; a lease of another name is not affected.
  REQUIRE_OK(env->ReleaseLease(LeaseClaim{"sweep", "node-a", 1}));  // not a's: no-op
  CHECK(Claim(env, "node-a", t + 5000 + kTtl + 2).holder == "node-b");
  REQUIRE_OK(env->ReleaseLease(LeaseClaim{"sweep", "node-b", 2}));
  CHECK(Claim(env, "node-a", t + 5000 + kTtl + 3) ==
        LeaseRecord{"node-a", 3, t + 5000 + 2 * kTtl + 3});
  auto other = env->ClaimLease("webhooks", "node-b", t + 5000 + kTtl + 3, kTtl);
  REQUIRE_OK(other);
  CHECK(*other == LeaseRecord{"node-b", 1, t + 5000 + 2 * kTtl + 3});

  // Leases live in the store: they are there after a reopen.
  env.Reopen();
  CHECK(Claim(env, "node-b", t + 5000 + kTtl + 4).holder == "node-a");
}

TEST_CASE("A sweep under a lease another node took over purges nothing",
          "[lease][sweep]") {
  TestEnv env;
  env.MakeWorkspace("acme", 1);
  Resource project = env.Create("acme", "project", "", "cars");
  REQUIRE_OK(env->Trash(Alice(), "acme", project.id));
  const TimeMs due = kStart + 2 * kMsPerDay;
  env.clock().Set(due);

  LeaseRecord a = Claim(env, "node-a", due);
  Claim(env, "node-b", due + kTtl);  // a's lease expired: b has it now
  SweepOptions options;
  options.batch = 10;
  options.lease = LeaseClaim{"sweep", "node-a", a.epoch};
  auto fenced = env->SweepOnce(due + kTtl, options);
  REQUIRE_FALSE(fenced.ok());
  CHECK(fenced.status().code() == Code::kConflict);
  CHECK_THAT(fenced.status().message(), Catch::Contains("node-b holds it"));
  CHECK(env->ListTrash("acme", TrashQuery{})->items.size() == 1);
  CHECK(env->LastSweep() == 0);  // no completed sweep recorded

  // The holder's sweep goes through.
  options.lease = LeaseClaim{"sweep", "node-b", a.epoch + 1};
  auto swept = env->SweepOnce(due + kTtl, options);
  REQUIRE_OK(swept);
  CHECK(swept->items == 1);
  CHECK(env->ListTrash("acme", TrashQuery{})->items.empty());
  CHECK(env->LastSweep() == due);
  RequireFsckClean(env);
}

}  // namespace
}  // namespace trashd::testing
