#include "thread_group.hpp"

#include "error.hpp"

namespace tcplab {

void ThreadGroup::State::enter() {
  std::lock_guard lock(mutex);
  ++running;
}

void ThreadGroup::State::leave() {
  std::lock_guard lock(mutex);
  if (--running == 0) idle.notify_all();
}

bool ThreadGroup::State::wait(int grace_ms) {
  std::unique_lock lock(mutex);
  return idle.wait_for(lock, std::chrono::milliseconds(grace_ms), [&] { return running == 0; });
}

void ThreadGroup::failed(const std::system_error& e) {
  board_.count(Event::thread_failed);
  log_once("pthread_create", fmt::format("pthread_create: {}", e.what()));
}

}  // namespace tcplab
