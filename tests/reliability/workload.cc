#include "reliability/workload.h"

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <thread>

#include "util/crypto.h"

namespace trashd::reliability {

namespace json = boost::json;

namespace {

constexpr size_t kMaxProjects = 30;  // per workspace, active or trashed
constexpr size_t kMaxImages = 6;     // per project

Answer Call(testing::Client client, const std::string& method, const std::string& target,
            const std::string& body) {
  Answer a;
  if (!client.connected()) return a;
  a.sent = true;
  client.SetReadTimeout(30);
  a.response = client.Request(method, target, body,
                              body.empty() ? "" : "Content-Type: application/json\r\n");
  return a;
}

// One client's run: picks an operation its model allows, sends it and folds the
// answer into the model.
class ClientRun {
 public:
  ClientRun(WorkspaceModel& m, const Endpoint& e, const DriverClock& clock, uint64_t seed)
      : m_(m), e_(e), clock_(clock), rng_(seed), api_(e.port) {}

  // One random operation; false once the daemon is gone.
  bool Step() {
    std::vector<size_t> active = InState(State::kActive);
    std::vector<size_t> trashed = InState(State::kTrashed);
    size_t live = active.size() + trashed.size();
    uint64_t roll = rng_.Below(100);
    if (roll < 20 && live < kMaxProjects) return Create();
    if (roll < 50 && !active.empty()) {
      size_t i = active[rng_.Below(active.size())];
      return m_.projects[i].images.size() < kMaxImages ? Upload(i) : Trash(i);
    }
    if (roll < 70 && !active.empty()) return Trash(active[rng_.Below(active.size())]);
    if (roll < 84 && !trashed.empty()) {
      return Restore(trashed[rng_.Below(trashed.size())]);
    }
    if (roll < 97 && !trashed.empty()) return Purge(trashed[rng_.Below(trashed.size())]);
    if (roll < 100 && !trashed.empty()) return Empty();
    return live < kMaxProjects ? Create() : true;
  }

 private:
  std::vector<size_t> InState(State s) const {
    std::vector<size_t> out;
    for (size_t i = 0; i < m_.projects.size(); ++i) {
      if (m_.projects[i].state == s) out.push_back(i);
    }
    return out;
  }

  void Fail(const std::string& what, const Answer& a) {
    m_.failures.push_back(m_.ws + ": " + what + " answered " +
                          std::to_string(a.response.status) + " " + a.response.body);
  }

  // The answer's status; 0 when the daemon is gone (the operation is then pending,
  // unless it was never sent).
  int Fold(const Answer& a, PendingOp op) {
    if (!a.sent) return 0;
    if (a.unknown()) {
      m_.pending = std::move(op);
      return 0;
    }
    if (a.response.status / 100 == 2) ++m_.acknowledged;
    return a.response.status;
  }

  bool Create() {
    Project p;
    p.name = "p" + std::to_string(m_.next_name++);
    p.slug = p.name;
    m_.projects.push_back(p);
    size_t i = m_.projects.size() - 1;
    Answer a = CallApi(api_, "POST", "/" + m_.ws + "/projects", m_.key,
                       json::serialize(json::object{{"name", p.name}}));
    int status = Fold(a, PendingOp{OpKind::kCreate, i, {}, 0});
    if (status == 0) {
      if (!a.sent) m_.projects.pop_back();
      return false;
    }
    if (status != 200) {
      Fail("create " + p.name, a);
      m_.projects.pop_back();
      return true;
    }
    json::value v = a.response.Json();
    m_.projects[i].id = std::string(v.at("projectId").as_string());
    m_.projects[i].slug = std::string(v.at("url").as_string());
    m_.projects[i].state = State::kActive;
    return true;
  }

  bool Upload(size_t i) {
    Project& p = m_.projects[i];
    Image image;
    image.name = "img" + std::to_string(m_.next_name++);
    std::string content = rng_.Bytes(static_cast<size_t>(rng_.Between(64, 4096)));
    image.hash = crypto::Sha256Hex(content);
    image.bytes = content.size();
    Answer a = CallApi(api_, "PUT", "/" + m_.ws + "/" + p.slug + "/images/" + image.name,
                       m_.key, content, "application/octet-stream");
    int status = Fold(a, PendingOp{OpKind::kUpload, i, image, 0});
    if (status == 0) return false;
    if (status != 200) {
      Fail("upload to " + p.slug, a);
      return true;
    }
    p.images.push_back(image);
    return true;
  }

  bool Trash(size_t i) {
    Project& p = m_.projects[i];
    TimeMs due_min = clock_.NowAtLeast() + kRetentionDays * kMsPerDay;
    Answer a = CallApi(api_, "DELETE",
                       "/" + m_.ws + "/" + p.slug + "?cleanupDeleteImages=true", m_.key);
    int status = Fold(a, PendingOp{OpKind::kTrash, i, {}, due_min});
    if (status == 0) return false;
    if (status != 200) {
      Fail("trash " + p.slug, a);
      return true;
    }
    p.state = State::kTrashed;
    p.due_min = due_min;
    ++p.trash_events;
    return true;
  }

  // A trashed project the daemon no longer has: a sweep took it, which it may do only
  // once the project is due.
  bool Swept(Project& p, const std::string& what, const Answer& a) {
    if (!MaybeDue(p.due_min, clock_)) {
      Fail(what + " of " + p.slug + " (not due yet, so no sweep may have purged it)", a);
      return true;
    }
    p.state = State::kPurged;
    ++p.purge_events;
    return true;
  }

  bool Restore(size_t i) {
    Project& p = m_.projects[i];
    Answer a = CallApi(api_, "POST", "/" + m_.ws + "/trash/restore", m_.key,
                       json::serialize(json::object{{"type", "project"}, {"id", p.id}}));
    int status = Fold(a, PendingOp{OpKind::kRestore, i, {}, 0});
    if (status == 0) return false;
    if (status == 404) return Swept(p, "restore", a);
    if (status != 200) {
      Fail("restore " + p.slug, a);
      return true;
    }
    p.state = State::kActive;
    p.due_min = 0;
    ++p.restore_events;
    return true;
  }

  bool Purge(size_t i) {
    Project& p = m_.projects[i];
    Answer a = CallAdmin(e_, "POST",
                         "/v1/workspaces/" + m_.ws + "/trash/project/" + p.id + "/purge",
                         json::serialize(json::object{{"confirm", p.id}}));
    int status = Fold(a, PendingOp{OpKind::kPurge, i, {}, 0});
    if (status == 0) return false;
    if (status == 404) return Swept(p, "purge", a);
    if (status != 200) {
      Fail("purge " + p.slug, a);
      return true;
    }
    p.state = State::kPurged;
    ++p.purge_events;
    return true;
  }

  bool Empty() {
    Answer a = CallAdmin(e_, "POST", "/v1/workspaces/" + m_.ws + "/trash/empty",
                         json::serialize(json::object{{"confirm", m_.ws}}));
    int status = Fold(a, PendingOp{OpKind::kEmpty, 0, {}, 0});
    if (status == 0) return false;
    if (status != 200) {
      Fail("empty-trash", a);
      return true;
    }
    for (Project& p : m_.projects) {
      if (p.state != State::kTrashed) continue;
      p.state = State::kPurged;  // by this call, or by a sweep just before it
      ++p.purge_events;
    }
    return true;
  }

  WorkspaceModel& m_;
  const Endpoint& e_;
  const DriverClock& clock_;
  Rng rng_;
  ApiConnection api_;
};

// Waits `ms`, in slices, returning early once `stop` is set; false then.
bool Pause(int64_t ms, const std::atomic<bool>& stop) {
  for (int64_t waited = 0; waited < ms; waited += 10) {
    if (stop) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(10, ms)));
  }
  return !stop;
}

}  // namespace

Answer ApiConnection::Request(const std::string& method, const std::string& target,
                              const std::string& body, const std::string& content_type) {
  if (!client_) {
    client_.emplace(testing::Client::Tcp(port_));
    if (!client_->connected()) {
      client_.reset();
      return Answer{};  // not sent
    }
    client_->SetReadTimeout(30);
  }
  Answer a;
  a.sent = true;
  a.response = client_->Request(
      method, target, body, body.empty() ? "" : "Content-Type: " + content_type + "\r\n");
  if (a.response.status == 0 || a.response.Header("connection") == "close")
    client_.reset();
  return a;
}

Answer CallApi(ApiConnection& api, const std::string& method, const std::string& target,
               const std::string& key, const std::string& body,
               const std::string& content_type) {
  const char* join = target.find('?') == std::string::npos ? "?" : "&";
  return api.Request(method, target + join + "api_key=" + key, body, content_type);
}

Answer CallAdmin(const Endpoint& e, const std::string& method, const std::string& target,
                 const std::string& body) {
  return Call(testing::Client::Unix(e.admin_socket), method, target, body);
}

void RunClient(WorkspaceModel& model, const Endpoint& e, const DriverClock& clock,
               uint64_t seed, const std::atomic<bool>& stop) {
  ClientRun run(model, e, clock, seed);
  try {
    while (!stop && run.Step()) {
    }
  } catch (const std::exception& ex) {  // an answer not shaped as documented
    model.failures.push_back(model.ws + ": an answer could not be read: " + ex.what());
  }
}

void RunOperator(const Endpoint& e, DriverClock& clock, uint64_t seed,
                 const std::atomic<bool>& stop, OperatorLog* log) {
  Rng rng(seed);
  while (Pause(rng.Between(20, 200), stop)) {
    if (rng.Below(100) < 40) {
      clock.Advance(rng.Between(60'000, 8 * 3'600'000));
      ++log->clock_moves;
      continue;
    }
    // Now and then the operator accepts a clock jump, as after checking the clock;
    // sweeps the clock-jump guard holds back purge nothing, which the model allows.
    bool accept = rng.Below(100) < 10;
    Answer a =
        CallAdmin(e, "POST", "/v1/sweep", accept ? R"({"acceptClockJump":true})" : "{}");
    if (!a.sent || a.unknown()) return;
    if (a.response.status != 200) {
      log->failures.push_back("sweep answered " + std::to_string(a.response.status) +
                              " " + a.response.body);
      continue;
    }
    ++log->sweeps;
  }
}

}  // namespace trashd::reliability
