// The Store on PostgreSQL (pg_store.cc): Store::Open answers with one when
// StoreOptions::backend is kPostgres. Private to core/store.
#pragma once

#include <memory>

#include "store/store.h"

namespace trashd {

// Connects to options.postgres_conninfo, creates the tables if they are missing and
// checks the schema version. An unreachable or unusable database is an error that
// says so (the daemon refuses to start).
Result<std::unique_ptr<Store>> OpenPgStore(const StoreOptions& options);

}  // namespace trashd
