// Moving an install to PostgreSQL (issue 15): a daemon's LMDB store copied with
// `trashd migrate --to CONNINFO` while it is stopped, and a daemon started on the
// copy (the blob files where they were) serves the same Trash and the same keys.
// Runs on PostgreSQL only (<name>@pg).
#include <signal.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "integration/daemon_process.h"
#include "support/test_store.h"

namespace trashd::testing {
namespace {

std::string OkBody(const DaemonProcess& d, const std::string& method,
                   const std::string& target, const std::string& key,
                   const std::string& body = "") {
  RawResponse r = ApiCall(d, method, target, key, body);
  INFO(method << " " << target << " -> " << r.status << " " << r.body);
  REQUIRE(r.status == 200);
  return r.body;
}

}  // namespace

TEST_CASE(
    "trashd migrate copies a stopped daemon's store into PostgreSQL, and a daemon "
    "started on the copy lists the same Trash",
    "[integration][postgres][migrate]") {
  REQUIRE(TestsOnPostgres());
  TempDir dir;
  StoreOptions target;
  UseTestBackend(&target, dir.path() + "/pg");
  std::string trash_before;
  std::string workspace_before;
  std::string key;
  std::string data_dir;
  {
    // On LMDB, whatever backend the other tests of this run use.
    DaemonProcess lmdb(dir.path(), WithYaml("store:\n  backend: lmdb\n"));
    REQUIRE(lmdb.Start());
    data_dir = lmdb.data_dir();
    key = SetUpWorkspace(lmdb, "acme").secret;
    OkBody(lmdb, "POST", "/acme/projects", key, R"({"name":"Cars"})");
    OkBody(lmdb, "POST", "/acme/cars/generate", key, "{}");
    OkBody(lmdb, "POST", "/acme/datasets", key, R"({"name":"street"})");
    OkBody(lmdb, "POST", "/acme/datasets", key, R"({"name":"kept"})");
    OkBody(lmdb, "PUT", "/acme/datasets/street/images/a.jpg", key,
           std::string(3000, 's'));
    OkBody(lmdb, "PUT", "/acme/datasets/kept/images/b.jpg", key, std::string(2000, 'k'));
    OkBody(lmdb, "DELETE", "/acme/cars", key);
    OkBody(lmdb, "DELETE", "/acme/datasets/street", key);
    trash_before = OkBody(lmdb, "GET", "/acme/trash", key);
    workspace_before = OkBody(lmdb, "GET", "/acme", key);

    // Not while the daemon runs: it holds the data directory.
    std::string log;
    CHECK(RunTrashd({"migrate", "--to", target.postgres_conninfo, "--data-dir", data_dir},
                    dir.path(), &log) == 1);
    CHECK(log.find("Stop it first") != std::string::npos);
    lmdb.Signal(SIGTERM);
    REQUIRE(lmdb.Wait() == 0);
  }

  std::string log;
  REQUIRE(RunTrashd({"migrate", "--to", target.postgres_conninfo, "--data-dir", data_dir},
                    dir.path(), &log) == 0);
  INFO(log);
  CHECK(log.find("fsck of the copy:") != std::string::npos);
  CHECK(log.find("2 blob files: clean") != std::string::npos);
  // The database is no longer empty: a second copy is refused.
  CHECK(RunTrashd({"migrate", "--to", target.postgres_conninfo, "--data-dir", data_dir},
                  dir.path(), &log) == 1);
  CHECK(log.find("not empty") != std::string::npos);

  DaemonProcess pg(dir.path(), WithYaml("store:\n  backend: postgres\n  postgres:\n"
                                        "    conninfo: \"" +
                                        target.postgres_conninfo + "\"\n"));
  REQUIRE(pg.Start());
  CHECK(OkBody(pg, "GET", "/acme/trash", key) == trash_before);
  CHECK(OkBody(pg, "GET", "/acme", key) == workspace_before);
}

}  // namespace trashd::testing
