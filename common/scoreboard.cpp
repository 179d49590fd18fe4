#include "scoreboard.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <memory>
#include <new>

#include "error.hpp"

namespace tcplab {

static_assert(std::atomic<std::uint64_t>::is_always_lock_free,
              "shared-memory counters must not hide a process-local lock");

Scoreboard::Scoreboard(std::size_t workers) : size_(std::max<std::size_t>(workers, 1)) {
  map_bytes_ = size_ * sizeof(WorkerSlot) + kEventKinds * sizeof(std::atomic<std::uint64_t>);
  void* p = ::mmap(nullptr, map_bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw sys_error(errno, "mmap scoreboard");
  slots_ = static_cast<WorkerSlot*>(p);
  for (std::size_t i = 0; i < size_; ++i)
    new (&slots_[i]) WorkerSlot();
  events_ = reinterpret_cast<std::atomic<std::uint64_t>*>(slots_ + size_);
  for (std::size_t i = 0; i < kEventKinds; ++i)
    new (&events_[i]) std::atomic<std::uint64_t>(0);
}

Scoreboard::~Scoreboard() {
  ::munmap(slots_, map_bytes_);
}

namespace {
template <class F>
std::uint64_t sum(const Scoreboard& s, F f) {
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < s.size(); ++i)
    n += f(s.slot(i));
  return n;
}
}  // namespace

std::uint64_t Scoreboard::total_connections() const {
  return sum(*this, [](const WorkerSlot& w) { return w.connections.load(); });
}
std::uint64_t Scoreboard::total_requests() const {
  return sum(*this, [](const WorkerSlot& w) { return w.requests.load(); });
}
std::uint64_t Scoreboard::total_bytes() const {
  return sum(*this, [](const WorkerSlot& w) { return w.bytes_sent.load(); });
}
std::uint64_t Scoreboard::total_failures(Failure f) const {
  return sum(*this,
             [f](const WorkerSlot& w) { return w.failures[static_cast<std::size_t>(f)].load(); });
}

}  // namespace tcplab
