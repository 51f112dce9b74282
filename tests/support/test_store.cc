#include "support/test_store.h"

#include <cstdlib>
#include <functional>
#include <pqxx/pqxx>
#include <stdexcept>

namespace trashd::testing {
namespace {

const char* PgSocketDir() {
  const char* dir = std::getenv("TRASHD_TEST_PG");
  return dir && *dir ? dir : nullptr;
}

}  // namespace

bool TestsOnPostgres() { return PgSocketDir() != nullptr; }

void UseTestBackend(StoreOptions* options, const std::string& dir) {
  const char* socket_dir = PgSocketDir();
  if (!socket_dir) return;
  char name[32];
  std::snprintf(name, sizeof name, "s_%016zx", std::hash<std::string>{}(dir));
  const std::string server =
      std::string("host=") + socket_dir + " user=trashd dbname=postgres";
  pqxx::connection conn(server);
  pqxx::nontransaction tx(conn);
  tx.exec(std::string("CREATE SCHEMA IF NOT EXISTS ") + name);
  tx.commit();
  options->backend = StoreBackend::kPostgres;
  options->postgres_conninfo = server + " options='-c search_path=" + name + "'";
  options->postgres_pool_size = 2;
}

}  // namespace trashd::testing
