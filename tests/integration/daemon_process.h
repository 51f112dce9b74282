// DaemonProcess: the real trashd binary, started for a test on a temp data directory,
// port 0 and a short admin socket path, with its stderr captured; its store is on the
// backend under test (with TRASHD_TEST_PG, a PostgreSQL schema of its own). It finds the
// port the daemon chose and its admin socket from the two lines the daemon logs when it
// is ready ("API listening on http://…", "admin socket at …").
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "support/child_process.h"
#include "support/raw_http.h"
#include "support/test_env.h"

namespace trashd::testing {

struct DaemonProcessOptions {
  std::string extra_yaml;         // appended to the generated settings file
  std::vector<std::string> args;  // more flags
  bool use_config_file = true;    // false: only --data-dir and --listen flags
  std::vector<std::string> env;   // more environment, "NAME=value"
  // A command the binary and its flags are appended to, to run it through (unshare,
  // sh -c ...). Empty: the binary itself.
  std::vector<std::string> wrapper;
  // Where Start reads the lines that say the daemon is ready (the journal a test
  // receives, say). Null: its stderr.
  std::function<std::string()> ready_log;
};

// Options with `yaml` appended to the settings file.
inline DaemonProcessOptions WithYaml(std::string yaml) {
  DaemonProcessOptions options;
  options.extra_yaml = std::move(yaml);
  return options;
}

// Options that run trashd with flags only, no settings file.
inline DaemonProcessOptions NoConfigFile() {
  DaemonProcessOptions options;
  options.use_config_file = false;
  return options;
}

class DaemonProcess {
 public:
  // Uses `dir` for the data, the settings file and the admin socket. The socket path
  // is kept short (sun_path has 108 bytes) by living in its own /tmp directory.
  explicit DaemonProcess(const std::string& dir, DaemonProcessOptions options = {});
  ~DaemonProcess();  // SIGKILL if still running

  // Starts the binary and waits (up to 60 s) until it is serving. False if it exited
  // or never said so; log() tells why.
  bool Start();
  // Sends `sig`; Wait() returns the exit code (128+N for a signal death, -1: timeout).
  void Signal(int sig);
  int Wait(int timeout_s = 60);
  // Waits until the log has a line containing `text` (up to `timeout_s`).
  bool WaitForLog(const std::string& text, int timeout_s = 30);

  uint16_t port() const { return port_; }
  const std::string& admin_socket() const { return admin_socket_; }
  const std::string& data_dir() const { return data_dir_; }
  const std::string& config_path() const { return config_path_; }
  std::string log() const { return process_.log(); }
  pid_t pid() const { return process_.pid(); }

  Client Api() const { return Client::Tcp(port_); }
  Client Admin() const { return Client::Unix(admin_socket_); }

 private:
  std::string dir_;
  DaemonProcessOptions options_;
  std::string data_dir_;
  std::string config_path_;
  std::string socket_dir_;
  std::string admin_socket_;
  uint16_t port_ = 0;
  ChildProcess process_;
};

// The settings that put the store of `data_dir` on the backend under test
// (support/test_store.h): with TRASHD_TEST_PG, a `store:` section for a PostgreSQL
// schema of its own, unless `extra_yaml` has a `store:` section already; else nothing.
std::string TestStoreYaml(const std::string& data_dir, const std::string& extra_yaml);

// What the tests do through the admin socket to set a workspace up.
struct ApiKey {
  std::string secret;
  std::string member;
};

// Creates workspace `ws` with owner member `alice`, and returns a key of hers with
// `scopes` (every scope of the built-in types when empty).
ApiKey SetUpWorkspace(const DaemonProcess& daemon, const std::string& ws,
                      std::vector<std::string> scopes = {});
// A key of a new member `member` with role `role` (created with `permissions` unless
// it is "owner").
ApiKey AddMemberKey(const DaemonProcess& daemon, const std::string& ws,
                    const std::string& member, const std::string& role,
                    const std::vector<std::string>& permissions,
                    const std::vector<std::string>& scopes);
// Every scope of the five built-in types.
std::vector<std::string> AllScopes();

// An API request with `key` in the query (as the reference SDK sends it); a body
// goes as JSON.
RawResponse ApiCall(const DaemonProcess& daemon, const std::string& method,
                    const std::string& target, const std::string& key,
                    const std::string& body = "");

// A request and its answer as tests/openapi/conform.mjs reads them: {method, target,
// status, contentType, body, headers}.
boost::json::object ExchangeJson(const std::string& method, const std::string& target,
                                 const RawResponse& answer);

// With TRASHD_API_ANSWERS_DIR set (ctest sets it for api_test), appends the API
// request and its answer to a file of that directory, one JSON line each, for
// tests/openapi/conform.mjs to check against the OpenAPI document afterwards.
void RecordApiAnswer(const std::string& method, const std::string& target,
                     const RawResponse& answer);

// Runs `trashd args…` (a one-shot command: --restore-backup, migrate) to its end, its
// stdout going to a file in `dir`; its exit code (-1: it did not start or end within
// two minutes), and its stdout and stderr in `*log`.
int RunTrashd(const std::vector<std::string>& args, const std::string& dir,
              std::string* log);

// An admin request, REQUIREd to answer 200; the JSON body.
boost::json::value AdminCall(const DaemonProcess& daemon, const std::string& method,
                             const std::string& target, const std::string& body = "");

}  // namespace trashd::testing
