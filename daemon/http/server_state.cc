#include "http/server_state.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

namespace trashd::http_internal {

void ServerState::Register(const std::shared_ptr<ConnectionBase>& connection) {
  std::lock_guard lock(mu);
  live.emplace(connection.get(), connection);
}

void ServerState::Unregister(ConnectionBase* connection) {
  std::lock_guard lock(mu);
  live.erase(connection);
}

std::vector<std::shared_ptr<ConnectionBase>> ServerState::LiveConnections() {
  std::vector<std::shared_ptr<ConnectionBase>> out;
  std::lock_guard lock(mu);
  for (auto& [raw, weak] : live) {
    if (auto strong = weak.lock()) out.push_back(std::move(strong));
  }
  return out;
}

bool ServerState::TryStartWork() {
  std::lock_guard lock(mu);
  if (works_closed) return false;
  ++works_running;
  return true;
}

void ServerState::WorkFinished() {
  std::lock_guard lock(mu);  // notified under the lock: Stop may free us right after
  --works_running;
  work_finished.notify_all();
}

void ServerState::CloseWorkAndWait() {
  std::unique_lock lock(mu);
  works_closed = true;
  work_finished.wait(lock, [&] { return works_running == 0; });
}

void ServerState::PostAnswer(boost::asio::any_io_executor strand,
                             std::function<void()> answer) {
  bool post;
  {
    std::lock_guard lock(answers_mu);
    answers.emplace_back(std::move(strand), std::move(answer));
    post = !answers_posted;
    answers_posted = true;
  }
  if (post) boost::asio::post(*ioc, [this] { DeliverAnswers(); });
}

void ServerState::DeliverAnswers() {
  std::vector<Answer> ready;
  {
    std::lock_guard lock(answers_mu);
    ready.swap(answers);
    answers_posted = false;
  }
  for (auto& [strand, answer] : ready) boost::asio::post(strand, std::move(answer));
}

void ServerState::DropAnswers() {
  std::vector<Answer> dropped;
  std::lock_guard lock(answers_mu);
  dropped.swap(answers);
}

void ServerState::ConnectionClosed() {
  --open_connections;
  { std::lock_guard lock(mu); }  // so a waiter cannot miss the notification
  connection_closed.notify_all();
}

bool ServerState::WaitForNoConnections(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu);
  return connection_closed.wait_until(lock, deadline,
                                      [&] { return open_connections.load() == 0; });
}

void ServerState::CountResponse(int status) {
  ++requests_total;
  int status_class = status / 100;
  if (status_class >= 1 && status_class <= 5) ++responses_by_class[status_class - 1];
}

ListenerConfig::SlotRefusal ListenerConfig::TakeSlot(const std::string& address) {
  ServerLimits l = Limits();
  std::lock_guard lock(slots_mu);
  if (slots_used.load() >= l.max_connections) return SlotRefusal::kListenerFull;
  if (!address.empty()) {
    size_t& held = slots_by_address[address];
    if (l.max_connections_per_address > 0 && held >= l.max_connections_per_address) {
      if (held == 0) slots_by_address.erase(address);
      return SlotRefusal::kAddressFull;
    }
    ++held;
  }
  ++slots_used;
  return SlotRefusal::kNone;
}

void ListenerConfig::ReleaseSlot(const std::string& address) {
  std::lock_guard lock(slots_mu);
  --slots_used;
  if (address.empty()) return;
  auto it = slots_by_address.find(address);
  if (it != slots_by_address.end() && --it->second == 0) slots_by_address.erase(it);
}

}  // namespace trashd::http_internal
