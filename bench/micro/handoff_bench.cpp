// Handing an accepted connection to another process or thread: prefork-fdpass passes the
// descriptor over a UNIX-domain socketpair (common/fdpass.hpp), prethread-dispatch through a
// BoundedQueue<Fd> (common/bounded_queue.hpp), uring-msgring from ring to ring with
// IORING_OP_MSG_RING (common/uring.hpp).
//
// StandInAccept (micro.hpp) gives the descriptors to hand over; BM_DupClose is its price, to
// subtract.
#include <sys/socket.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>

#include "bounded_queue.hpp"
#include "error.hpp"
#include "fdpass.hpp"
#include "micro.hpp"
#include "net.hpp"
#include "uring.hpp"

namespace tcplab::micro {

namespace {

// The records prefork-fdpass sends with each descriptor and gets back when it is served.
struct Handoff {
  std::uint64_t id;
};
struct Done {
  std::uint64_t id;
};

// A channel as prefork-fdpass makes one: SOCK_SEQPACKET keeps each record whole.
bool make_channel(Fd& a, Fd& b) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) return false;
  a.reset(sv[0]);
  b.reset(sv[1]);
  return true;
}

std::string recv_problem(RecvStatus status, const std::string& why) {
  switch (status) {
    case RecvStatus::ok:
      return "";
    case RecvStatus::eof:
      return "recv_fd: the other end closed the channel";
    case RecvStatus::malformed:
      return "recv_fd: " + why;
    case RecvStatus::error:
      break;
  }
  return sys_error(errno, "recvmsg").what();
}

// send_fd() as the fdpass parent calls it; then `conn`, the sender's copy, closes. False after
// fail().
bool pass(benchmark::State& state, int channel, Fd conn, std::uint64_t id) {
  if (int err = send_fd(channel, conn.get(), Handoff{id})) {
    fail(state, sys_error(err, "sendmsg SCM_RIGHTS").what());
    return false;
  }
  return true;
}

// dup + close: the stand-in for accept() in the benchmarks below.
void BM_DupClose(benchmark::State& state) {
  StandInAccept accept;
  if (!accept.ready(state)) return;
  for (auto _ : state) {
    Fd copy = accept.next(state);
    if (!copy) break;
  }
}
BENCHMARK(BM_DupClose)->UseRealTime();

// send_fd + recv_fd in one thread, each side closing its copy: the system calls alone, no
// context switch.
void BM_SendRecvFd(benchmark::State& state) {
  StandInAccept accept;
  if (!accept.ready(state)) return;
  Fd sender, receiver;
  if (!make_channel(sender, receiver)) return fail_errno(state, "socketpair");
  std::uint64_t id = 0;
  for (auto _ : state) {
    Fd conn = accept.next(state);
    if (!conn || !pass(state, sender.get(), std::move(conn), ++id)) break;
    Fd received;  // the receiver's copy, closed at the end of the iteration
    Handoff got{};
    std::string why;
    if (auto status = recv_fd(receiver.get(), received, got, &why); status != RecvStatus::ok) {
      fail(state, recv_problem(status, why));
      break;
    }
  }
}
BENCHMARK(BM_SendRecvFd)->UseRealTime();

// uring-msgring's pass beside BM_SendRecvFd, also in one thread: the descriptor goes into slot 0
// of ring A's table (IORING_OP_FILES_UPDATE, the stand-in for a direct accept) and the sender's
// copy closes; IORING_OP_MSG_RING moves the file into a free slot of ring B's table, and A's slot
// is closed (the three linked, one io_uring_enter on A); B's completion names the new slot,
// which is closed with B's next enter (as a worker closes a connection). Two enters and a close
// per descriptor, against sendmsg, recvmsg and two closes.
void BM_MsgRingFd(benchmark::State& state) {
  StandInAccept accept;
  if (!accept.ready(state)) return;
  std::optional<Ring> a, b;
  try {
    a.emplace(8, 4, /*defer_taskrun=*/false);  // its links run at once, with no wait on A
    b.emplace(8, 4);
  } catch (const std::system_error& e) {
    return fail(state, e.what());
  }
  for (auto _ : state) {
    Fd conn = accept.next(state);
    if (!conn) break;
    int fd = conn.get();
    io_uring_sqe* s = a->sqe();
    io_uring_prep_files_update(s, &fd, 1, 0);
    s->flags |= IOSQE_IO_LINK | IOSQE_CQE_SKIP_SUCCESS;
    io_uring_sqe_set_data64(s, kIgnoreTag);
    s = a->sqe();
    prep_msg_ring_fd(s, b->fd(), 0, kPassedTag);
    s->flags |= IOSQE_IO_HARDLINK | IOSQE_CQE_SKIP_SUCCESS;
    io_uring_sqe_set_data64(s, kIgnoreTag);
    s = a->sqe();
    io_uring_prep_close_direct(s, 0);
    s->flags |= IOSQE_CQE_SKIP_SUCCESS;
    io_uring_sqe_set_data64(s, kIgnoreTag);
    if (int rc = io_uring_submit(a->get()); rc < 0) {
      fail(state, sys_error(-rc, "io_uring_submit (MSG_RING)").what());
      break;
    }
    conn.reset();  // the sender's copy: the table holds the file now
    // B's one enter: the last close goes in, the passed descriptor's completion comes out.
    b->submit_and_wait(1000);
    io_uring_cqe* cqe = nullptr;
    if (io_uring_peek_cqe(b->get(), &cqe) != 0) {  // the pass failed: A's completion says why
      io_uring_cqe* err = nullptr;
      int why = io_uring_peek_cqe(a->get(), &err) == 0 ? -err->res : ETIMEDOUT;
      fail(state, sys_error(why, "MSG_RING SEND_FD: nothing arrived in ring B").what());
      break;
    }
    const int slot = cqe->res;
    const std::uint64_t data = cqe->user_data;
    io_uring_cqe_seen(b->get(), cqe);
    if (data != kPassedTag || slot < 0) {
      fail(state, sys_error(slot < 0 ? -slot : EPROTO, "MSG_RING SEND_FD").what());
      break;
    }
    s = b->sqe();
    io_uring_prep_close_direct(s, static_cast<unsigned>(slot));
    s->flags |= IOSQE_CQE_SKIP_SUCCESS;
    io_uring_sqe_set_data64(s, kIgnoreTag);
  }
  io_uring_submit(b->get());  // B's last close
}
// Only where io_uring runs (--list says why not); tests/micro_json_test.cpp expects it there.
const bool kMsgRingRegistered = [] {
  if (!uring_unavailable_reason().empty()) return false;
  benchmark::RegisterBenchmark("BM_MsgRingFd", BM_MsgRingFd)->UseRealTime();
  return true;
}();

// prefork-fdpass's round trip per connection, less the poll: the parent sends the descriptor
// and closes its copy; a forked child receives it, closes it (its "serving") and sends the
// "done" record back; the parent reads that. Round trip: the next descriptor goes only after
// the last one came back.
void BM_SendRecvFdToChild(benchmark::State& state) {
  StandInAccept accept;
  if (!accept.ready(state)) return;
  Fd parent_end, child_end;
  if (!make_channel(parent_end, child_end)) return fail_errno(state, "socketpair");
  set_io_timeouts(parent_end.get(), 5000);  // a child that stops answering fails the benchmark
  const int channel = child_end.get();
  std::optional<Peer> child;  // declared after parent_end: stopped while the channel is open
  try {
    child.emplace(
        Peer::Kind::process,
        [channel] {  // in the child
          Fd conn;
          Handoff handoff{};
          std::string why;
          switch (auto status = recv_fd(channel, conn, handoff, &why)) {
            case RecvStatus::ok:
              break;
            case RecvStatus::eof:
              return false;  // the parent is done
            default:
              throw std::runtime_error(recv_problem(status, why));
          }
          conn.reset();
          Done done{handoff.id};
          if (::send(channel, &done, sizeof done, MSG_NOSIGNAL) != sizeof done)
            throw std::runtime_error("send done");
          return true;
        },
        // The child waits in recvmsg(): shutting the channel down gives it EOF.
        [&parent_end] { ::shutdown(parent_end.get(), SHUT_RDWR); });
  } catch (const std::system_error& e) {
    return fail(state, e.what());
  }
  child_end.reset();  // the child's end is the child's alone now: if it dies, we read EOF

  std::uint64_t id = 0;
  for (auto _ : state) {
    Fd conn = accept.next(state);
    if (!conn || !pass(state, parent_end.get(), std::move(conn), ++id)) break;
    Done done{};
    // EINTR with no signal: a recv with SO_RCVTIMEO returns it when task work interrupts the
    // wait, as io_uring's may in this process since the probe (uring_unavailable_reason()).
    ssize_t n = retry_eintr([&] { return ::recv(parent_end.get(), &done, sizeof done, 0); });
    if (n == -1) {
      fail_errno(state, "recv done");
      break;
    }
    if (n == 0) {
      fail(state, "the child closed the channel: " + child->stop());
      break;
    }
    if (n != sizeof done || done.id != id) {
      fail(state, "the child's done record is not the one expected");
      break;
    }
  }
  state.SetLabel("round trip");
  if (std::string problem = child->stop(); !problem.empty() && !state.error_occurred())
    fail(state, problem);
}
BENCHMARK(BM_SendRecvFdToChild)->UseRealTime();

// prethread-dispatch's queue with one worker thread popping from it and closing each descriptor.
class DispatchWorker {
 public:
  // The queue's size is prethread-dispatch's default for Stevens' 15 workers (twice that).
  static constexpr std::size_t kQueueSize = 30;

  // reply: the worker answers each descriptor through a second queue (round trip); otherwise
  // it only counts them (throughput). Throws std::system_error if the thread cannot start.
  explicit DispatchWorker(bool reply) : reply_(reply), thread_([this] { run(); }) {}
  ~DispatchWorker() {
    queue_.close();
    replies_.close();
    thread_.join();
  }

  // As the accepting thread does: wait for room in slices (the queue is never closed here).
  void hand(Fd& conn) {
    while (!queue_.push(conn, std::chrono::milliseconds(100))) {
    }
  }
  bool reply() { return replies_.pop().has_value(); }
  void wait_closed(std::int64_t n) {
    for (auto c = closed_.load(); c < n; c = closed_.load())
      closed_.wait(c);
  }

 private:
  void run() {
    while (auto conn = queue_.pop()) {
      conn->reset();  // all the "serving" there is
      if (reply_) {
        std::uint64_t served = 1;
        replies_.push(served, std::chrono::hours(1));
      } else {
        closed_.fetch_add(1);
        closed_.notify_all();
      }
    }
  }

  const bool reply_;
  BoundedQueue<Fd> queue_{kQueueSize};
  BoundedQueue<std::uint64_t> replies_{1};
  std::atomic<std::int64_t> closed_{0};
  std::thread thread_;  // last: it starts once the queues exist
};

enum class Handing { round_trip, throughput };

// round_trip: hand one descriptor, wait for the worker's answer (two hand-offs through the same
// kind of queue, and on one core two context switches). throughput: hand descriptors as fast as
// the queue takes them (the accepting thread under load); the last iteration waits until the
// worker has closed them all.
void BM_ThreadHandoff(benchmark::State& state, Handing handing) {
  StandInAccept accept;
  if (!accept.ready(state)) return;
  std::optional<DispatchWorker> worker;
  try {
    worker.emplace(handing == Handing::round_trip);
  } catch (const std::system_error& e) {
    return fail(state, e.what());
  }
  std::int64_t handed = 0;
  for (auto _ : state) {
    Fd conn = accept.next(state);
    if (!conn) break;
    worker->hand(conn);
    ++handed;
    if (handing == Handing::round_trip) {
      if (!worker->reply()) {
        fail(state, "no reply from the worker");
        break;
      }
    } else if (handed == state.max_iterations) {
      worker->wait_closed(handed);
    }
  }
  state.SetLabel(handing == Handing::round_trip ? "round trip" : "throughput");
}
BENCHMARK_CAPTURE(BM_ThreadHandoff, round_trip, Handing::round_trip)->UseRealTime();
BENCHMARK_CAPTURE(BM_ThreadHandoff, throughput, Handing::throughput)->UseRealTime();

}  // namespace

}  // namespace tcplab::micro
