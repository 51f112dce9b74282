#include "http_wrk.h"

#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "bench_util.h"

extern char** environ;

namespace trashd::bench {

std::string FindProgram(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = std::string(path ? path : "") + ":/usr/sbin:/usr/bin:/sbin";
  std::istringstream in(dirs);
  std::string dir;
  while (std::getline(in, dir, ':')) {
    if (dir.empty()) continue;
    std::string candidate = dir + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

namespace {

pid_t Spawn(const std::vector<std::string>& args, int out_fd) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (out_fd >= 0) {
    posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out_fd, STDERR_FILENO);
  }
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (std::string& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  Check(rc == 0, "starting " + args[0] + ": " + std::strerror(rc));
  return pid;
}

// "1.23ms", "850.00us", "1.02s" in ms.
double DurationMs(const std::string& text) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  std::string unit(end);
  if (unit == "us") return v / 1000;
  if (unit == "ms") return v;
  if (unit == "s") return v * 1000;
  if (unit == "m") return v * 60000;
  return v;
}

// A "1.23k"-style count as wrk prints them.
double Count(const std::string& text) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (*end == 'k') v *= 1e3;
  if (*end == 'M') v *= 1e6;
  return v;
}

// A port the kernel has just handed out and nobody holds (nginx needs a number in
// its config; another process taking it in between is unlikely on 127.0.0.1).
uint16_t FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  Check(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0,
        "finding a free port");
  ::close(fd);
  return ntohs(address.sin_port);
}

bool Accepts(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return ok;
}

// utime + stime and the parent pid from /proc/<pid>/stat.
bool ReadStat(pid_t pid, double* ticks, pid_t* parent) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), {});
  size_t close_paren = stat.rfind(')');
  if (close_paren == std::string::npos) return false;
  std::istringstream fields(stat.substr(close_paren + 2));
  std::string field;
  *ticks = 0;
  // After "pid (comm) ": state is field 3, ppid 4, utime 14, stime 15.
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 4) *parent = static_cast<pid_t>(std::atoi(field.c_str()));
    if (i >= 14) *ticks += std::strtod(field.c_str(), nullptr);
  }
  return true;
}

}  // namespace

double ProcessCpuMs(pid_t pid, bool children) {
  double ticks = 0, total = 0;
  pid_t parent = 0;
  if (ReadStat(pid, &ticks, &parent)) total += ticks;
  if (children) {
    if (DIR* proc = opendir("/proc")) {
      while (dirent* e = readdir(proc)) {
        pid_t child = static_cast<pid_t>(std::atoi(e->d_name));
        if (child > 0 && child != pid && ReadStat(child, &ticks, &parent) &&
            parent == pid) {
          total += ticks;
        }
      }
      closedir(proc);
    }
  }
  return total * 1000.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
}

ProgramOutput RunProgram(const std::vector<std::string>& argv) {
  int fds[2];
  Check(pipe2(fds, O_CLOEXEC) == 0, "pipe2");
  pid_t pid = Spawn(argv, fds[1]);
  close(fds[1]);
  ProgramOutput out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0)
    out.text.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return out;
}

WrkFigures ParseWrk(const std::string& text) {
  WrkFigures f;
  std::istringstream lines(text);
  std::string line;
  bool distribution = false;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string first, second, third, fourth;
    words >> first >> second >> third >> fourth;
    if (first == "Latency" && second == "Distribution") {
      distribution = true;
    } else if (distribution && !first.empty() && first.back() == '%') {
      double at = DurationMs(second);
      if (first == "50%") f.p50_ms = at;
      if (first == "75%") f.p75_ms = at;
      if (first == "90%") f.p90_ms = at;
      if (first == "99%") f.p99_ms = at;
    } else if (first == "Latency") {  // Thread Stats: Avg Stdev Max +/- Stdev
      f.max_ms = DurationMs(fourth);
    } else if (second == "requests" && third == "in") {
      distribution = false;
      f.requests = static_cast<uint64_t>(Count(first));
    } else if (first == "Requests/sec:") {
      f.requests_per_s = std::strtod(second.c_str(), nullptr);
      f.parsed = true;
    } else if (first == "Non-2xx") {  // "Non-2xx or 3xx responses: N"
      std::string n;
      words >> n;
      f.non_2xx = std::strtoull(n.c_str(), nullptr, 10);
    } else if (first == "Socket" && second == "errors:") {
      // "Socket errors: connect 0, read 0, write 0, timeout 0"
      std::string rest = line.substr(line.find("errors:") + 7);
      for (char& c : rest) {
        if (c == ',') c = ' ';
      }
      std::istringstream counts(rest);
      std::string name, value;
      while (counts >> name >> value)
        f.socket_errors += std::strtoull(value.c_str(), nullptr, 10);
    }
  }
  return f;
}

ProgramOutput RunWrk(const std::string& wrk, const std::string& url, int threads,
                     int connections, int seconds) {
  return RunProgram({wrk, "-t" + std::to_string(threads),
                     "-c" + std::to_string(connections),
                     "-d" + std::to_string(seconds) + "s", "--latency", url});
}

NginxProcess::NginxProcess(std::string nginx, const std::string& dir,
                           const std::string& body, const std::string& workers)
    : nginx_(std::move(nginx)), dir_(dir) {
  std::string docroot = dir_ + "/docroot";
  std::string temp = dir_ + "/temp";
  Check(RunProgram({"/bin/mkdir", "-p", docroot, temp}).exit_code == 0, "mkdir " + dir_);
  {
    std::ofstream file(docroot + "/trash.json", std::ios::binary);
    file << body;
    Check(static_cast<bool>(file), "writing nginx's file");
  }
  port_ = FreePort();
  std::ostringstream conf;
  // As root the master would hand the workers to "nobody", who may not read our
  // scratch directory: keep them as the current user.
  if (geteuid() == 0) conf << "user root;\n";
  conf << "worker_processes " << workers << ";\n"
       << "daemon off;\n"
       << "pid " << dir_ << "/nginx.pid;\n"
       << "error_log " << dir_ << "/error.log warn;\n"
       << "events { worker_connections 1024; }\n"
       << "http {\n"
       << "  access_log off;\n"
       // Keep-alive connections as long-lived as trashd's, which has no request cap.
       << "  keepalive_requests 1000000;\n"
       << "  keepalive_timeout 60s;\n"
       << "  sendfile on;\n"
       << "  tcp_nodelay on;\n"
       << "  client_body_temp_path " << temp << "/body;\n"
       << "  proxy_temp_path " << temp << "/proxy;\n"
       << "  fastcgi_temp_path " << temp << "/fastcgi;\n"
       << "  uwsgi_temp_path " << temp << "/uwsgi;\n"
       << "  scgi_temp_path " << temp << "/scgi;\n"
       << "  default_type application/json;\n"
       << "  server {\n"
       << "    listen 127.0.0.1:" << port_ << ";\n"
       << "    root " << docroot << ";\n"
       << "    location / { try_files /trash.json =404; }\n"
       << "  }\n"
       << "}\n";
  config_ = conf.str();
  std::ofstream file(dir_ + "/nginx.conf");
  file << config_;
  Check(static_cast<bool>(file), "writing nginx.conf");
}

NginxProcess::~NginxProcess() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
}

void NginxProcess::Start() {
  int log = ::open((dir_ + "/nginx.out").c_str(),
                   O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  pid_ = Spawn(
      {nginx_, "-e", dir_ + "/error.log", "-p", dir_ + "/", "-c", dir_ + "/nginx.conf"},
      log);
  ::close(log);
  for (int i = 0; i < 500 && !Accepts(port_); ++i) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      std::ifstream err(dir_ + "/error.log");
      std::string text((std::istreambuf_iterator<char>(err)), {});
      Check(false, "nginx exited at start:\n" + text);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Check(Accepts(port_),
        "nginx does not accept connections on port " + std::to_string(port_));
}

double NginxProcess::CpuMs() const { return ProcessCpuMs(pid_, /*children=*/true); }

}  // namespace trashd::bench
