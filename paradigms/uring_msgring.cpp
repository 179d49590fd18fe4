// uring-msgring: one accepting ring in the main thread passes each connection to one of N
// worker threads' rings with IORING_OP_MSG_RING (beyond UNP ch. 30: io_uring's answer to 30.9's
// descriptor passing).
//
// prefork-fdpass's shape with threads and rings: the main thread accepts (a multishot accept, or
// one at a time when the tables run low: prep_accept() in common/uring.cpp, straight into its
// ring's table of registered descriptors), chooses a worker (--dispatch
// least-loaded or round-robin, common/dispatch.hpp), and sends the connection to that worker's
// ring; each worker is a UringLoop (common/uring.cpp) serving all it has been given.
//
// How this differs from SCM_RIGHTS (common/fdpass.cpp):
//  - What is passed: a file reference moved from a slot of the main ring's fixed-file table into
//    a free slot of the worker ring's table (IORING_MSG_SEND_FD). No process descriptor exists at
//    any point, no socketpair, no sendmsg/recvmsg: one operation in the main ring's next
//    io_uring_enter, and the worker learns of it as a completion whose result is its new slot.
//  - Who owns it: the main ring's slot until the pass, closed right after it (a hard-linked
//    close, which runs whether the pass worked or not); then the worker ring's slot alone, which
//    the worker closes with the connection. Here every ring is in one process (a target ring's
//    descriptor could be passed to another process, but nothing here does), so a worker that
//    crashes takes the whole server with it, where prefork-fdpass loses one child.
//  - When the target cannot take it: the worker's completion queue is 4096 entries, and a full
//    one overflows into the kernel's list rather than drop (IORING_FEAT_NODROP); a worker whose
//    table is nearly full is not chosen, and with every worker full the accept is cancelled
//    and new connections wait in the backlog. If a pass still fails (-ENFILE, -EOVERFLOW, or
//    -EOWNERDEAD when the worker's thread is gone), its completion in the main ring says so and
//    the connection is counted as dropped and logged once; our slot is closed either way. (On
//    -EOVERFLOW the file may already sit in the worker's table, unknown to it, until its ring
//    exits.) A worker whose loop ended is never chosen again; what was already in its ring is
//    closed by the kernel when the ring goes, uncounted. SCM_RIGHTS instead fails with EAGAIN
//    on a full socketpair, and a descriptor in flight to a dead child is closed with the socket.
#include <fcntl.h>

#include <atomic>
#include <latch>
#include <memory>
#include <optional>
#include <vector>

#include "designs.hpp"
#include "error.hpp"
#include "signals.hpp"
#include "thread_group.hpp"
#include "uring.hpp"

namespace tcplab {

namespace {

// What the main thread knows of one worker.
struct Worker {
  Fd ring;                        // a duplicate of its ring's descriptor: the MSG_RING target
  std::atomic<bool> gone{false};  // its loop ended: choose it no more
  unsigned capacity = 0;          // slots in its ring's table of registered descriptors
  std::uint64_t passed = 0;       // connections sent to it (the main thread's count)
};

// A worker whose table is within kSlotMargin (common/uring.hpp) of full is passed nothing more: a
// pass into a full table fails (ENFILE) and loses the connection, and its closes of finished
// ones trail by a turn.
//
// While no worker can take a connection, the accept is cancelled and looked at again this often.
constexpr int kFullRetryMs = 10;

// user_data of the close of a slot passed on.
constexpr std::uint64_t kClosedTag = 32;
// user_data of a pass in the main ring: the worker + 1 in the high half, the slot in the low.
std::uint64_t pass_data(std::size_t worker, int slot) {
  return (std::uint64_t{worker} + 1) << 32 | static_cast<std::uint32_t>(slot);
}

class RingAcceptor {
 public:
  RingAcceptor(Server& server, DispatchPolicy policy, std::vector<std::shared_ptr<Worker>>& workers,
               signals::StopSignalFd& stop)
      : server_(server),
        policy_(policy),
        workers_(workers),
        stop_(stop),
        loads_(workers.size()),
        ring_(256, fixed_file_limit()) {}

  void run() {
    using Clock = std::chrono::steady_clock;
    Clock::time_point resume{};
    bool signal_armed = false;
    while (!signals::stop_requested() && listening_) {
      if (!signal_armed) prep_stop_signal_read(ring_, stop_);  // SIGINT/SIGTERM's completion
      signal_armed = true;
      refresh_loads();
      const bool room = free_slots() > kSlotMargin;
      if (!armed_ && room && Clock::now() >= resume)
        armed_ =
            prep_accept(ring_, server_.listen_fd, free_slots(), server_.config.backlog, multishot_);
      ring_.submit_and_wait(armed_ ? -1 : room ? std::max(backoff_ms_, 1) : kFullRetryMs);
      unsigned head, seen = 0;
      io_uring_cqe* cqe;
      io_uring_for_each_cqe(ring_.get(), head, cqe) {
        if (cqe->user_data == kAcceptTag)
          on_accept(cqe->res, cqe->flags);
        else if (cqe->user_data == kSignalTag)
          signal_armed = !stop_signal_read_done(cqe->res);
        else if (cqe->user_data == kClosedTag)
          --slots_used_;  // the slot of a connection passed on (or dropped) is free again
        else if (cqe->user_data >> 32 != 0 && cqe->res < 0)
          lost(cqe->user_data >> 32, -cqe->res);
        ++seen;
      }
      io_uring_cq_advance(ring_.get(), seen);
      // Workers (nearly) full: leave new connections in the backlog (as prefork-fdpass stops
      // polling the listener) rather than accept and drop them; one accept at a time when
      // there is room again (prep_accept).
      if (armed_ && multishot_ && !cancelling_ &&
          (refresh_loads(), free_slots()) <=
              static_cast<unsigned>(server_.config.backlog) + kSlotMargin) {
        io_uring_sqe* s = ring_.sqe();
        io_uring_prep_cancel64(s, kAcceptTag, 0);
        io_uring_sqe_set_data64(s, kIgnoreTag);
        cancelling_ = true;
      }
      if (!armed_ && backoff_ms_ > 0)
        resume = Clock::now() + std::chrono::milliseconds(backoff_ms_);
    }
    // Tell each worker to stop, after every connection passed to it (the messages land in its
    // completion queue in order).
    for (auto& w : workers_) {
      if (!w->ring.valid()) continue;
      io_uring_sqe* s = ring_.sqe();
      io_uring_prep_msg_ring(s, w->ring.get(), 0, kStopTag, 0);
      io_uring_sqe_set_data64(s, kIgnoreTag);
    }
    io_uring_submit(ring_.get());
  }

 private:
  void on_accept(int res, unsigned flags) {
    if (!(flags & IORING_CQE_F_MORE)) armed_ = cancelling_ = false;
    if (res >= 0) {
      ++slots_used_;
      backoff_ms_ = 0;
      return pass(res);
    }
    switch (-res) {
      case EMFILE:
      case ENFILE:  // our table is full: the connection waits in the backlog
      case ENOBUFS:
      case ENOMEM:
        log_once(std::string("accept-") + strerrorname_np(-res),
                 fmt::format("accept: {}: backing off", std::strerror(-res)));
        backoff_ms_ = std::clamp(backoff_ms_ * 2, 1, 100);
        return;
      case EINVAL:  // shutdown_listener(): the server is stopping
        listening_ = false;
        return;
      default:  // ECANCELED (ours, above), ECONNABORTED…: that one connection
        return;
    }
  }

  // Chooses a worker and moves the connection in `slot` to its ring. The close of our slot is
  // hard-linked after the pass, so both go in together and the slot is freed either way.
  // Each worker's load: passed to it and not finished yet. true: some worker can take one more.
  bool refresh_loads() {
    bool any = false;
    for (std::size_t i = 0; i < workers_.size(); ++i) {
      const Worker& w = *workers_[i];
      std::uint64_t done = server_.board.slot(i).connections.load(std::memory_order_relaxed);
      loads_[i].in_hand = static_cast<std::uint32_t>(w.passed - std::min(w.passed, done));
      loads_[i].available =
          w.ring.valid() && !w.gone.load() && loads_[i].in_hand + kSlotMargin < w.capacity;
      any = any || loads_[i].available;
    }
    return any;
  }

  // Where connections can go now: the free slots of our table or of the workers' tables
  // together, whichever is fewer.
  unsigned free_slots() const {
    std::uint64_t workers = 0;
    for (std::size_t i = 0; i < workers_.size(); ++i)
      if (loads_[i].available) workers += workers_[i]->capacity - kSlotMargin - loads_[i].in_hand;
    return static_cast<unsigned>(
        std::min<std::uint64_t>(ring_.fixed_files() - slots_used_, workers));
  }

  void pass(int slot) {
    refresh_loads();
    std::optional<std::size_t> i = choose_worker(policy_, loads_, cursor_);
    if (io_uring_sq_space_left(ring_.get()) < 2) io_uring_submit(ring_.get());  // keep the pair
    if (i) {
      io_uring_sqe* s = ring_.sqe();
      prep_msg_ring_fd(s, workers_[*i]->ring.get(), slot, kPassedTag);
      s->flags |= IOSQE_IO_HARDLINK;
      io_uring_sqe_set_data64(s, pass_data(*i, slot));
      ++workers_[*i]->passed;
    }
    // Its completion, not its submission, frees the slot: a pass to a worker's ring completes
    // only once that worker has taken it, and the close runs after.
    io_uring_sqe* s = ring_.sqe();
    io_uring_prep_close_direct(s, static_cast<unsigned>(slot));
    io_uring_sqe_set_data64(s, kClosedTag);
    if (!i) drop(ENOENT);
  }

  // The pass to worker `worker_plus_one - 1` failed: the connection closed with our slot.
  void lost(std::uint64_t worker_plus_one, int err) {
    Worker& w = *workers_[worker_plus_one - 1];
    if (w.passed > 0) --w.passed;
    drop(err);
  }

  void drop(int err) {
    server_.board.count(Event::dropped);
    log_once("dropped", err == ENOENT ? std::string("no worker could take a connection; closed")
                                      : fmt::format("passing a connection to a worker's ring "
                                                    "failed: {}; closed",
                                                    std::strerror(err)));
  }

  Server& server_;
  DispatchPolicy policy_;
  std::vector<std::shared_ptr<Worker>>& workers_;
  signals::StopSignalFd& stop_;
  std::vector<WorkerLoad> loads_;  // scratch for choose_worker()
  Ring ring_;
  unsigned slots_used_ = 0;  // of our table: accepted, not closed yet
  bool armed_ = false, multishot_ = false, cancelling_ = false, listening_ = true;
  int backoff_ms_ = 0;
  std::size_t cursor_ = 0;
};

}  // namespace

// stall_worker: --stall-worker (testing), the worker that serves nothing; -1: none.
int run_uring_msgring(Server& server, DispatchPolicy policy, int stall_worker) {
  const Config& config = server.config;
  // Made before the workers, so that they start with SIGINT/SIGTERM blocked too: the signal
  // stays pending for the accepting ring's read (common/uring.hpp), not for a worker's handler.
  signals::StopSignalFd stop;
  std::vector<std::shared_ptr<Worker>> workers;
  ThreadGroup threads(server.board);
  // Each worker sets its ring up in its own thread (IORING_SETUP_SINGLE_ISSUER: the thread that
  // submits is the one that made it) and hands back a duplicate of the ring's descriptor.
  auto ready = std::make_shared<std::latch>(static_cast<std::ptrdiff_t>(config.workers));
  for (std::size_t i = 0; i < config.workers; ++i) {
    auto w = workers.emplace_back(std::make_shared<Worker>());
    WorkerSlot& slot = server.board.slot(i);
    const bool stall = static_cast<int>(i) == stall_worker;
    bool started = threads.spawn([w, ready, &slot, &config, stall] {
      std::optional<UringLoop> loop;
      try {
        loop.emplace(slot, config.serve, config.grace_ms);
        // No stop_on_signal: it stops when the main thread says, after its last pass.
        loop->stall(stall);
        w->capacity = fixed_file_limit();
        w->ring.reset(static_cast<int>(
            check(::fcntl(loop->ring_fd(), F_DUPFD_CLOEXEC, 0), "fcntl F_DUPFD_CLOEXEC")));
      } catch (const std::exception& e) {
        log("worker ring: {}", e.what());
        w->gone = true;
        ready->count_down();
        return;
      }
      ready->count_down();
      try {
        loop->run();
      } catch (const std::exception& e) {
        log("worker ring: {}", e.what());
      }
      w->gone = true;
    });
    if (!started) ready->count_down();
  }
  ready->wait();
  if (std::none_of(workers.begin(), workers.end(), [](auto& w) { return w->ring.valid(); }))
    throw sys_error(EAGAIN, "no io_uring worker started");

  RingAcceptor(server, policy, workers, stop).run();
  threads.wait(config.grace_ms);
  return 0;
}

}  // namespace tcplab
