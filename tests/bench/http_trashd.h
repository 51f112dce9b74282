// TrashdProcess: the real trashd binary, started by a benchmark on a data directory it
// is given, port 0 and a short admin socket path, with its stderr captured (the sweep
// logs its own duration there). Unlike the integration tests' DaemonProcess it needs
// no test framework: a setup step that fails ends the program with a message (Check).
// Not thread-safe, except log(), WaitForLog() and LogSince(), which any thread may call.
// Check's std::exit skips the destructors of objects on the stack: the daemons still
// running then are stopped, and their socket directories removed, at exit.
#pragma once

#include <sys/types.h>

#include <boost/json.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "support/child_process.h"
#include "support/raw_http.h"

namespace trashd::bench {

class TrashdProcess {
 public:
  // `dir`: where the settings file goes; `data_dir`: the store (it may already hold
  // one); `extra_yaml`: appended to the settings file (limits, sweep...).
  TrashdProcess(std::string binary, const std::string& dir, std::string data_dir,
                std::string extra_yaml);
  ~TrashdProcess();  // SIGTERM, then SIGKILL if it has not stopped within 30 s
  TrashdProcess(const TrashdProcess&) = delete;
  TrashdProcess& operator=(const TrashdProcess&) = delete;

  // Starts the binary and waits until it serves; exits the program if it does not.
  void Start();
  // SIGTERM and wait; returns the exit code (128+N: killed by signal N).
  int Stop();

  uint16_t port() const { return port_; }
  pid_t pid() const { return process_.pid(); }
  std::string log() const { return process_.log(); }
  // Size of the log so far, and what was logged after `offset`.
  size_t LogSize() const { return process_.LogSize(); }
  std::string LogSince(size_t offset) const { return process_.LogSince(offset); }
  // Waits until the log after `offset` has a line containing `text`; false on timeout
  // or exit.
  bool WaitForLog(const std::string& text, size_t offset, int timeout_s);

  testing::Client Api() const { return testing::Client::Tcp(port_); }
  testing::Client Admin() const { return testing::Client::Unix(admin_socket_); }

  // An admin call that must answer 200; its JSON body.
  boost::json::value AdminCall(const std::string& method, const std::string& target,
                               const std::string& body = "");

 private:
  // Stop() and the socket directory removed: the destructor's work, also done at exit
  // for every daemon not destroyed by then.
  void Release();
  static void ReleaseAllAtExit();

  std::string binary_;
  std::string config_path_;
  std::string data_dir_;
  std::string extra_yaml_;
  std::string socket_dir_;
  std::string admin_socket_;
  uint16_t port_ = 0;
  testing::ChildProcess process_;
};

// Creates workspace `ws` with the owner member "alice" through the admin socket and
// returns the secret of a key of hers with every scope of the built-in types.
std::string SetUpWorkspace(TrashdProcess& daemon, const std::string& ws);

// Creates a top-level resource through the API (POST /:ws/r/:type) and returns its
// internal id; exits the program on any answer but 200.
std::string CreateOverApi(testing::Client& api, const std::string& ws,
                          const std::string& key, const std::string& type,
                          const std::string& name);

// A workspace of projects, one per client of a delete/restore load (http_load.h).
struct Workload {
  std::string ws;
  std::string key;
  std::vector<std::string> projects;
};

// Creates workspace `ws` and `count` projects in it over the API.
Workload MakeProjects(TrashdProcess& daemon, const std::string& ws, size_t count);
// Brings every project back from the Trash (a run may stop between its two calls).
void RestoreAll(TrashdProcess& daemon, const Workload& w);

}  // namespace trashd::bench
