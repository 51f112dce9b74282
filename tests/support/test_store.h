// Which store backend the tests run on. By default the suite runs on LMDB; with
// TRASHD_TEST_PG set to the socket directory of a throwaway PostgreSQL cluster
// (tests/support/pg_cluster.sh, started by ctest's pg_cluster fixture) the same tests
// run on the PostgreSQL store, each store in a schema of its own named after its
// directory, so reopening a directory reopens its store and a new directory is empty.
#pragma once

#include <string>

#include "store/store.h"

namespace trashd::testing {

// Whether the tests of this process run on PostgreSQL.
bool TestsOnPostgres();
// Points `options` at the backend under test for the store of directory `dir`.
void UseTestBackend(StoreOptions* options, const std::string& dir);

}  // namespace trashd::testing
