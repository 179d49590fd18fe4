#include "uring.hpp"

#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/utsname.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <utility>

#include "connection_parts.hpp"
#include "error.hpp"
#include "signals.hpp"

namespace tcplab {

namespace {

namespace proto = protocol;
using std::chrono::milliseconds;

constexpr unsigned kEntries = 256;      // submission queue; the completion queue is 16 times it
constexpr unsigned kBuffers = 256;      // provided buffers per loop
constexpr unsigned kBufferSize = 4096;  // bytes each
constexpr int kBufferGroup = 0;
// Accepts kept in flight, each with its own slot: how many connections one turn can take in.
constexpr std::size_t kAcceptDepth = 16;
// The most of an answer one sendmsg carries (send_some): head, then a slice of the pattern.
constexpr std::uint64_t kSendSlice = proto::kBodyChunk - 10;
// Lingering close, as EventLoop's: 500 ms per read, 2 s and 64 reads in all.
constexpr milliseconds kLingerQuiet{500}, kLingerMax{2000};
constexpr int kLingerReads = 64;

// A connection's operations, in the low bits of its completions' user_data.
constexpr std::uint64_t kRecvOp = 1, kSendOp = 2, kAcceptOp = 3, kOpMask = 7;

int read_sysctl(const char* path) {
  std::ifstream in(path);
  int value = -1;
  in >> value;
  return in ? value : -1;
}

// The kernel's "major.minor" as one number (6.1 -> 601).
int kernel_version() {
  utsname u{};
  int major = 0, minor = 0;
  if (::uname(&u) != 0 || std::sscanf(u.release, "%d.%d", &major, &minor) != 2) return 0;
  return major * 100 + minor;
}

struct QueueExit {
  io_uring* ring;
  ~QueueExit() { io_uring_queue_exit(ring); }
};

std::string probe() {
  const int disabled = read_sysctl("/proc/sys/kernel/io_uring_disabled");
  io_uring ring{};
  if (int rc = io_uring_queue_init(4, &ring, 0); rc < 0) {
    const int err = -rc;
    if (disabled == 2) return "io_uring is disabled (kernel.io_uring_disabled=2)";
    if (err == EPERM && disabled == 1)
      return "io_uring is restricted to the group kernel.io_uring_group, which this process is "
             "not in (kernel.io_uring_disabled=1)";
    if (err == EPERM)
      return "io_uring_setup is not permitted (EPERM: a seccomp filter, such as a container's "
             "default profile, blocks io_uring)";
    if (err == ENOSYS)
      return "io_uring_setup is not implemented (ENOSYS: a kernel without io_uring, or a "
             "seccomp filter that blocks it)";
    return fmt::format("io_uring_setup failed: {}", std::strerror(err));
  }
  QueueExit exit{&ring};
  if (!(ring.features & IORING_FEAT_EXT_ARG))
    return "the kernel's io_uring cannot wait with a timeout (IORING_FEAT_EXT_ARG, Linux 5.11)";
  io_uring_probe* p = io_uring_get_probe_ring(&ring);
  if (p == nullptr) return "the kernel's io_uring cannot be probed (IORING_REGISTER_PROBE)";
  struct Op {
    int op;
    const char* name;
  };
  const Op ops[] = {{IORING_OP_ACCEPT, "ACCEPT"},
                    {IORING_OP_RECV, "RECV"},
                    {IORING_OP_LINK_TIMEOUT, "LINK_TIMEOUT"},
                    {IORING_OP_SENDMSG, "SENDMSG"},
                    {IORING_OP_CLOSE, "CLOSE"},
                    {IORING_OP_SHUTDOWN, "SHUTDOWN"},
                    {IORING_OP_ASYNC_CANCEL, "ASYNC_CANCEL"},
                    {IORING_OP_MSG_RING, "MSG_RING"},
                    {IORING_OP_READ, "READ"}};
  std::string missing;
  for (const Op& op : ops)
    if (!io_uring_opcode_supported(p, op.op))
      missing += std::string(missing.empty() ? "" : ", ") + "IORING_OP_" + op.name;
  io_uring_free_probe(p);
  if (!missing.empty()) return "the kernel's io_uring lacks " + missing;
  // Multishot recv and MSG_RING's SEND_FD came in 6.0; an opcode probe cannot see them.
  if (int v = kernel_version(); v < 600)
    return fmt::format(
        "the kernel ({}.{}) is older than 6.0, which brought multishot recv and "
        "MSG_RING descriptor passing",
        v / 100, v % 100);
  if (int rc = io_uring_register_files_sparse(&ring, 1); rc < 0)
    return fmt::format("io_uring cannot register a descriptor table: {}", std::strerror(-rc));
  return "";
}

}  // namespace

const std::string& uring_unavailable_reason() {
  static const std::string reason = probe();
  return reason;
}

unsigned fixed_file_limit() {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) != 0) return 1024;
  return static_cast<unsigned>(std::clamp<rlim_t>(r.rlim_cur, 16, 65536));
}

// --- Ring ---------------------------------------------------------------------------------

Ring::Ring(unsigned entries, unsigned fixed_files, bool defer_taskrun) {
  io_uring_params p{};
  // One thread submits, and completions are processed only when it waits for them, not by
  // interrupting it (6.1); older kernels refuse the flags with EINVAL: then without them.
  p.flags = IORING_SETUP_CQSIZE |
            (defer_taskrun ? IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN : 0);
  p.cq_entries = entries * 16;
  int rc = io_uring_queue_init_params(entries, &ring_, &p);
  if (rc == -EINVAL) {
    p = {};
    p.flags = IORING_SETUP_CQSIZE;
    p.cq_entries = entries * 16;
    rc = io_uring_queue_init_params(entries, &ring_, &p);
  }
  if (rc < 0) throw sys_error(-rc, fmt::format("io_uring_queue_init_params({})", entries));
  if (fixed_files > 0) {
    if (rc = io_uring_register_files_sparse(&ring_, fixed_files); rc < 0) {
      io_uring_queue_exit(&ring_);
      throw sys_error(-rc, fmt::format("io_uring_register_files_sparse({})", fixed_files));
    }
    fixed_files_ = fixed_files;
  }
}

Ring::~Ring() {
  io_uring_queue_exit(&ring_);  // cancels what is in flight, closes every registered descriptor
}

io_uring_sqe* Ring::sqe() {
  io_uring_sqe* s = io_uring_get_sqe(&ring_);
  if (s == nullptr) {
    io_uring_submit(&ring_);
    s = io_uring_get_sqe(&ring_);
  }
  if (s == nullptr) throw sys_error(EBUSY, "io_uring_get_sqe");
  return s;
}

void Ring::reserve(unsigned n) {
  if (io_uring_sq_space_left(&ring_) < n) io_uring_submit(&ring_);
}

void Ring::submit_and_wait(int timeout_ms) {
  __kernel_timespec ts{timeout_ms / 1000, (timeout_ms % 1000) * 1'000'000LL};
  io_uring_cqe* cqe = nullptr;
  int rc =
      io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, timeout_ms >= 0 ? &ts : nullptr, nullptr);
  if (rc < 0 && rc != -EINTR && rc != -ETIME && rc != -EAGAIN && rc != -EBUSY)
    throw sys_error(-rc, "io_uring_submit_and_wait_timeout");
}

bool prep_accept(Ring& ring, int listen_fd, unsigned free, int backlog, bool& multishot) {
  if (free <= kSlotMargin) return false;
  io_uring_sqe* s = ring.sqe();
  multishot = free > static_cast<unsigned>(backlog) + kSlotMargin;
  if (multishot)
    io_uring_prep_multishot_accept_direct(s, listen_fd, nullptr, nullptr, 0);
  else {
    // liburing 2.3's io_uring_prep_accept_direct adds 1 to any index, ALLOC too: set it here.
    io_uring_prep_accept(s, listen_fd, nullptr, nullptr, 0);
    s->file_index = IORING_FILE_INDEX_ALLOC;
  }
  io_uring_sqe_set_data64(s, kAcceptTag);
  return true;
}

void prep_stop_signal_read(Ring& ring, signals::StopSignalFd& stop) {
  io_uring_sqe* s = ring.sqe();
  io_uring_prep_read(s, stop.fd(), &stop.buffer(), sizeof(signalfd_siginfo), 0);
  io_uring_sqe_set_data64(s, kSignalTag);
}

bool stop_signal_read_done(int res) {
  if (res > 0) signals::request_stop();
  if (res > 0 || res == -EINTR || res == -EAGAIN) return true;
  // Not again: it would fail at once, every turn. The flag still stops a signal's handler ran.
  log_once("signalfd-read",
           fmt::format("read of the stop signals' signalfd: {}", std::strerror(-res)));
  return false;
}

void prep_msg_ring_fd(io_uring_sqe* sqe, int target_ring_fd, int source_slot,
                      std::uint64_t target_data) {
  io_uring_prep_rw(IORING_OP_MSG_RING, sqe, target_ring_fd,
                   reinterpret_cast<void*>(std::uintptr_t{IORING_MSG_SEND_FD}), 0, target_data);
  sqe->addr3 = static_cast<std::uint64_t>(source_slot);
  sqe->file_index = IORING_FILE_INDEX_ALLOC;  // any free slot of the target's table
}

// --- BufferRing ---------------------------------------------------------------------------

BufferRing::BufferRing(Ring& ring, unsigned count, unsigned size, int group)
    : ring_(ring), count_(count), size_(size), group_(group), buffers_(std::size_t{count} * size) {
  br_bytes_ = count * sizeof(io_uring_buf);
  void* p = ::mmap(nullptr, br_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw sys_error(errno, "mmap (provided-buffer ring)");
  br_ = static_cast<io_uring_buf_ring*>(p);
  io_uring_buf_ring_init(br_);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<std::uint64_t>(br_);
  reg.ring_entries = count;
  reg.bgid = static_cast<std::uint16_t>(group);
  if (int rc = io_uring_register_buf_ring(ring_.get(), &reg, 0); rc < 0) {
    ::munmap(br_, br_bytes_);
    throw sys_error(-rc, "io_uring_register_buf_ring");
  }
  const int mask = io_uring_buf_ring_mask(count);
  for (unsigned id = 0; id < count; ++id)
    io_uring_buf_ring_add(br_, buffers_.data() + std::size_t{id} * size, size,
                          static_cast<unsigned short>(id), mask, static_cast<int>(id));
  io_uring_buf_ring_advance(br_, static_cast<int>(count));
}

BufferRing::~BufferRing() {
  io_uring_unregister_buf_ring(ring_.get(), group_);
  ::munmap(br_, br_bytes_);
}

void BufferRing::give_back(unsigned id) {
  io_uring_buf_ring_add(br_, buffers_.data() + std::size_t{id} * size_, size_,
                        static_cast<unsigned short>(id), io_uring_buf_ring_mask(count_), 0);
  io_uring_buf_ring_advance(br_, 1);
}

// --- UringLoop ----------------------------------------------------------------------------

namespace {

template <class C>
std::uint64_t op_data(C& c, std::uint64_t op) {
  return reinterpret_cast<std::uint64_t>(&c) | op;
}

}  // namespace

UringLoop::UringLoop(WorkerSlot& slot, const ServeConfig& config, int grace_ms)
    : slot_(slot),
      config_(config),
      grace_ms_(grace_ms),
      io_timeout_{config.io_timeout_ms / 1000, (config.io_timeout_ms % 1000) * 1'000'000LL},
      ring_(kEntries, fixed_file_limit()),
      buffers_(ring_, kBuffers, kBufferSize, kBufferGroup) {}

UringLoop::~UringLoop() = default;  // the ring's exit closes every slot still registered

void UringLoop::accept_from(int listen_fd) {
  listen_fd_ = listen_fd;
  owns_slots_ = true;
  const unsigned n = ring_.fixed_files();
  free_slots_.resize(n);
  for (unsigned i = 0; i < n; ++i)
    free_slots_[i] = static_cast<int>(n - 1 - i);  // slot 0 on top
}

bool UringLoop::stopping() const {
  // The flag: a signal handled before the StopSignalFd blocked it.
  return stop_message_ || (stop_signal_ != nullptr && signals::stop_requested());
}

void UringLoop::run() {
  for (;;) {
    now_ = Clock::now();
    if (!stopping_ && stopping()) begin_stop();
    // closing_: the last answers' proofs (send_quietly) are counted before the summary.
    if (stopping_ &&
        ((connections() == 0 && accepting_.empty() && closing_.empty()) || now_ >= stop_deadline_))
      break;
    if (listen_fd_ >= 0 && !stopping_ && now_ >= resume_accept_at_) arm_accepts();
    if (stop_signal_ != nullptr && !signal_armed_ && !stopping_) {
      prep_stop_signal_read(ring_, *stop_signal_);
      signal_armed_ = true;
    }
    ring_.submit_and_wait(stall_ && !stopping_ ? 50 : next_timeout_ms());
    now_ = Clock::now();
    // Every completion that is there, in one pass, then one move of the queue's head.
    unsigned head, seen = 0;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(ring_.get(), head, cqe) {
      handle(*cqe);
      ++seen;
    }
    io_uring_cq_advance(ring_.get(), seen);
    expire();
  }
  // What is left after the grace period is cut, as a process worker would be by SIGKILL.
  while (!active_.empty())
    finish(active_.front());
  while (!lingering_.empty())
    finish(lingering_.front());
  io_uring_submit(ring_.get());
}

void UringLoop::begin_stop() {
  stopping_ = true;
  stop_deadline_ = now_ + milliseconds(grace_ms_);
  for (Connection& c : accepting_) {
    cancel(c, kAcceptOp);  // not accepted yet: the accept ends, and the recv behind it
    cancel(c, kRecvOp);    // accepted, no request yet: the recv ends (-ECANCELED)
  }
  // Held by a stalled worker: accepted before the stop, so each still gets its first answer.
  for (int slot : std::exchange(held_, {}))
    adopt(slot);
  // Idle between requests: close now (serve_connection does the same at its next read). One
  // whose answer went out quietly may still be sending it, with its recv linked behind: shut
  // its reading side instead, so that the recv, now or once the answer is out, ends at once
  // with an end of file and the connection closes as any other does.
  for (auto it = active_.begin(); it != active_.end();) {
    Connection& c = *it++;
    if (c.state != State::reading || !c.input.empty()) continue;
    if (!c.sending) {
      finish(c);
    } else if (c.quiet) {
      io_uring_sqe* s = ring_.sqe();
      io_uring_prep_shutdown(s, c.slot, SHUT_RD);
      s->flags |= IOSQE_FIXED_FILE | IOSQE_CQE_SKIP_SUCCESS;
      io_uring_sqe_set_data64(s, kIgnoreTag);
    }
  }
}

// Keeps kAcceptDepth accepts in flight, each into a free slot of the table with the
// connection's first recv linked behind it: the request comes back with the connection, in the
// same turn. With no slot free nothing is armed, and new connections wait in the backlog, as
// EMFILE leaves them (a multishot accept, which picks its slot itself, takes a connection off
// the queue first and closes it when the table is full).
void UringLoop::arm_accepts() {
  while (accepting_.size() < kAcceptDepth && !free_slots_.empty()) {
    Connection& c = accepting_.emplace_back();
    c.self = std::prev(accepting_.end());
    c.slot = free_slots_.back();
    free_slots_.pop_back();
    c.accepting = true;
    ring_.reserve(3);
    io_uring_sqe* s = ring_.sqe();
    io_uring_prep_accept(s, listen_fd_, nullptr, nullptr, 0);
    s->file_index = static_cast<unsigned>(c.slot) + 1;  // into this slot (0: a process fd)
    s->flags |= IOSQE_IO_LINK | IOSQE_CQE_SKIP_SUCCESS;
    io_uring_sqe_set_data64(s, op_data(c, kAcceptOp));
    arm_recv(c)->flags |= IOSQE_IO_LINK;
    // A client that connects and says nothing: its recv is cancelled after --io-timeout-ms.
    io_uring_sqe* t = ring_.sqe();
    io_uring_prep_link_timeout(t, &io_timeout_, 0);
    // Its own end posts nothing (the recv's completion says what happened), also when the recv
    // comes first and cancels it: a completion then would cost a turn of its own.
    t->flags |= IOSQE_CQE_SKIP_SUCCESS;
    io_uring_sqe_set_data64(t, kIgnoreTag);
  }
}

// The accept's success posts nothing: the first recv's completion says the connection came.
void UringLoop::accepted(Connection& c) {
  c.accepting = false;
  backoff_ms_ = 0;
  active_.splice(active_.end(), accepting_, c.self);
  c.last = now_;
  slot_.active.fetch_add(1, std::memory_order_relaxed);
}

// The accept failed (its only completion): nothing came into the slot, which is free again.
// The recv and the timeout linked behind it end without a completion: when a request that
// posts none on success fails, the kernel skips the CQEs of the rest of its chain too
// (REQ_F_SKIP_LINK_CQES).
void UringLoop::on_accept(Connection& c, int res) {
  c.accepting = c.recv_armed = false;
  c.closed = true;
  closing_.splice(closing_.end(), accepting_, c.self);
  release_if_done(c);
  switch (-res) {
    case EMFILE:
    case ENFILE:
    case ENOBUFS:
    case ENOMEM:
      // Re-arming at once would spin: wait 1 ms, doubling to 100 ms, as EventLoop does.
      log_once(std::string("accept-") + strerrorname_np(-res),
               fmt::format("accept: {}: backing off", std::strerror(-res)));
      backoff_ms_ = std::clamp(backoff_ms_ * 2, 1, 100);
      resume_accept_at_ = now_ + milliseconds(backoff_ms_);
      return;
    case EINVAL:  // shutdown_listener(): the server is stopping
      listen_fd_ = -1;
      return;
    default:  // ECANCELED (ours), ECONNABORTED, EPERM…: the next turn arms another
      return;
  }
}

// A connection passed in by MSG_RING (uring-msgring): the kernel chose its slot.
void UringLoop::adopt(int slot) {
  if (stall_ && !stopping_) {
    held_.push_back(slot);
    return;
  }
  Connection& c = active_.emplace_back();
  c.self = std::prev(active_.end());
  c.slot = slot;
  c.last = now_;
  slot_.active.fetch_add(1, std::memory_order_relaxed);
  arm_recv(c);
}

void UringLoop::handle(const io_uring_cqe& cqe) {
  const std::uint64_t data = cqe.user_data;
  if (data >= 4096) {
    auto* c = reinterpret_cast<Connection*>(data & ~kOpMask);
    switch (data & kOpMask) {
      case kRecvOp:
        return on_recv(*c, cqe.res, cqe.flags);
      case kSendOp:
        return on_send(*c, cqe.res);
      default:
        return on_accept(*c, cqe.res);
    }
  }
  switch (data) {
    case kPassedTag:  // a connection from another ring: res is its slot in ours
      if (cqe.res >= 0) adopt(cqe.res);
      break;
    case kStopTag:
      stop_message_ = true;
      break;
    case kSignalTag:  // re-armed at the next turn unless stopping
      signal_armed_ = !stop_signal_read_done(cqe.res);
      break;
    default:  // kIgnoreTag: a close, cancel or shutdown that failed (the connection was gone)
      break;
  }
}

// One recv into a buffer the kernel picks from the provided-buffer ring. A single-shot recv,
// not a multishot one: every recv here either rides in a link or goes in with a turn's wait
// anyway, and one recv at a time is the back-pressure (no input is read while an answer is
// going out).
io_uring_sqe* UringLoop::arm_recv(Connection& c) {
  io_uring_sqe* s = ring_.sqe();
  io_uring_prep_recv(s, c.slot, nullptr, kBufferSize, 0);
  s->flags |= IOSQE_FIXED_FILE | IOSQE_BUFFER_SELECT;
  s->buf_group = static_cast<std::uint16_t>(buffers_.group());
  io_uring_sqe_set_data64(s, op_data(c, kRecvOp));
  c.recv_armed = true;
  return s;
}

void UringLoop::on_recv(Connection& c, int res, unsigned flags) {
  c.recv_armed = false;
  if (c.accepting) {
    accepted(c);
    if (res == -ECANCELED) {  // no request within --io-timeout-ms, or the server is stopping
      if (!stopping_) count_failure(slot_, Failure::timeout);
      return finish(c);
    }
  }
  // Linked behind a quiet send, this recv started (or was cancelled) only after that send had
  // succeeded: had it failed, its completion would say so and this one would not come.
  if (c.quiet) answered_quietly(c);
  std::string_view got;
  unsigned buffer = 0;
  const bool has_buffer = (flags & IORING_CQE_F_BUFFER) != 0;
  if (has_buffer) {
    buffer = flags >> IORING_CQE_BUFFER_SHIFT;
    got = {buffers_.data(buffer), static_cast<std::size_t>(std::max(res, 0))};
  }
  if (c.closed) {
    if (has_buffer) buffers_.give_back(buffer);
    return release_if_done(c);
  }
  if (c.state == State::lingering) {  // read and discard until the close
    if (has_buffer) buffers_.give_back(buffer);
    if (res > 0 && ++c.linger_reads < kLingerReads && now_ - c.linger_start < kLingerMax) {
      touch(c);
      arm_recv(c);
    } else if (res == -ENOBUFS) {
      arm_recv(c);
    } else {
      finish(c);
    }
    return;
  }
  if (res > 0) {
    // Only a request's first bytes count as progress (as EventLoop: a trickle times out).
    if (c.input.empty()) touch(c);
    c.input.append(got);
    buffers_.give_back(buffer);
  } else if (res == 0) {
    c.eof = true;
  } else if (res != -ENOBUFS) {  // no buffer free for a moment: drive() asks again
    if (has_buffer) buffers_.give_back(buffer);
    count_failure(slot_, classify(-res), -res);
    return finish(c);
  }
  if (!c.sending) drive(c);
}

// Runs the connection as far as what it has received goes, like EventLoop::drive: step, answer
// (a send in flight; its completion, or the recv linked behind it, comes back here), step again.
void UringLoop::drive(Connection& c) {
  if (c.closed || c.sending || c.state == State::lingering) return;
  Step s = step(c.input, c.state == State::reading, stopping_, config_);
  switch (s.action) {
    case Action::read:
      if (c.eof) {
        if (!c.input.empty()) count_failure(slot_, Failure::closed_mid_request);
        return finish(c);
      }
      if (!c.recv_armed) arm_recv(c);
      return;
    case Action::close:
      return finish(c);
    case Action::crash:
      crash_on_request();
    case Action::refuse:
      count_refused(slot_, s.error, config_.max_bytes);
      c.state = State::refusing;
      break;
    case Action::answer:
      c.input.erase(0, s.consumed);
      busy_work(config_.work_us);
      c.state = State::answering;
      break;
  }
  c.head = std::move(s.head);
  c.head_off = c.body_off = 0;
  c.body_left = s.body;
  c.after = s.after;
  // The next thing is to wait for the next request, and the whole answer fits one sendmsg.
  if (c.state == State::answering && c.after == After::next && c.input.empty() && !c.eof &&
      !c.recv_armed && c.body_left <= kSendSlice)
    return send_quietly(c);
  send_some(c);
}

// A sendmsg of what is left of the answer: the head's rest, then a slice of the pattern.
io_uring_sqe* UringLoop::prep_send(Connection& c, int flags) {
  int n = 0;
  if (c.head_off < c.head.size())
    c.iov[n++] = {c.head.data() + c.head_off, c.head.size() - c.head_off};
  if (c.body_left > 0) {
    // Any slice of the pattern that starts at the right digit continues it (kBodyChunk % 10 == 0).
    std::size_t len = static_cast<std::size_t>(std::min(c.body_left, kSendSlice));
    c.iov[n++] = {const_cast<char*>(proto::body_chunk()) + c.body_off % 10, len};
  }
  c.msg = {};
  c.msg.msg_iov = c.iov;
  c.msg.msg_iovlen = static_cast<std::size_t>(n);
  io_uring_sqe* s = ring_.sqe();
  io_uring_prep_sendmsg(s, c.slot, &c.msg, MSG_NOSIGNAL | flags);
  s->flags |= IOSQE_FIXED_FILE;
  io_uring_sqe_set_data64(s, op_data(c, kSendOp));
  c.sending = true;
  return s;
}

void UringLoop::send_some(Connection& c) {
  prep_send(c, 0);
}

// The whole answer in one sendmsg that posts no completion if it succeeds (MSG_WAITALL: all of
// it or a failure, which posts one), with the recv of the next request linked behind it. The
// connection reads on at once; the answer is counted when that recv's completion proves it out
// (answered_quietly), and c.head and c.msg stay untouched until then.
void UringLoop::send_quietly(Connection& c) {
  ring_.reserve(2);
  io_uring_sqe* s = prep_send(c, MSG_WAITALL);
  s->flags |= IOSQE_IO_LINK | IOSQE_CQE_SKIP_SUCCESS;
  c.quiet = true;
  c.quiet_bytes = c.head.size() + c.body_left;
  c.state = State::reading;
  touch(c);
  arm_recv(c);
}

void UringLoop::answered_quietly(Connection& c) {
  c.quiet = c.sending = false;
  slot_.add(slot_.bytes_sent, c.quiet_bytes);
  slot_.add(slot_.requests);
}

void UringLoop::on_send(Connection& c, int res) {
  c.sending = false;
  if (std::exchange(c.quiet, false)) {
    // A quiet send posts a completion only when it failed, or sent part (res >= 0) and then
    // could not go on; the recv linked behind it then ends without one (see on_accept).
    c.recv_armed = false;
    if (c.closed) return release_if_done(c);
    const int err = res < 0 ? -res : ECONNRESET;
    count_failure(slot_, classify(err), err);
    return finish(c);
  }
  if (c.closed) return release_if_done(c);
  if (res < 0) {
    if (c.state == State::answering) count_failure(slot_, classify(-res), -res);
    return finish(c);
  }
  auto done = static_cast<std::size_t>(res);
  if (c.state == State::answering) slot_.add(slot_.bytes_sent, done);  // as serve_connection
  touch(c);
  std::size_t from_head = std::min(done, c.head.size() - c.head_off);
  c.head_off += from_head;
  c.body_off += done - from_head;
  c.body_left -= done - from_head;
  if (c.head_off < c.head.size() || c.body_left > 0) return send_some(c);
  if (c.state == State::answering) slot_.add(slot_.requests);
  switch (c.after) {
    case After::close:
      return finish(c);
    case After::linger:
      return start_linger(c);
    case After::next:
      c.state = State::reading;
      return drive(c);
  }
}

// After refusing a request: stop sending, read and discard what the client still sends for a
// bounded time, then close (serve_connection's linger_close()).
void UringLoop::start_linger(Connection& c) {
  io_uring_sqe* s = ring_.sqe();
  io_uring_prep_shutdown(s, c.slot, SHUT_WR);
  s->flags |= IOSQE_FIXED_FILE | IOSQE_CQE_SKIP_SUCCESS;
  io_uring_sqe_set_data64(s, kIgnoreTag);
  c.state = State::lingering;
  c.linger_start = c.last = now_;
  c.input.clear();
  lingering_.splice(lingering_.end(), active_, c.self);
  if (c.eof) return finish(c);
  if (!c.recv_armed) arm_recv(c);
}

void UringLoop::cancel(Connection& c, unsigned op) {
  io_uring_sqe* s = ring_.sqe();
  io_uring_prep_cancel64(s, op_data(c, op), 0);
  s->flags |= IOSQE_CQE_SKIP_SUCCESS;
  io_uring_sqe_set_data64(s, kIgnoreTag);
}

// Progress: the connection goes to the back of its list, whose front is always the oldest.
void UringLoop::touch(Connection& c) {
  c.last = now_;
  List& list = c.state == State::lingering ? lingering_ : active_;
  list.splice(list.end(), list, c.self);
}

// Counts the connection, cancels what it has in flight and closes its slot. The Connection
// itself lives on in closing_ until the completions of those operations have come back, and
// only then is its slot another connection's: an operation linked behind a send takes its file
// from the slot when it starts. (A quiet send cancelled takes its linked recv with it.)
void UringLoop::finish(Connection& c) {
  slot_.add(slot_.connections);  // counted before it stops being active (see connection.cpp)
  slot_.active.fetch_sub(1, std::memory_order_release);
  closing_.splice(closing_.end(), c.state == State::lingering ? lingering_ : active_, c.self);
  c.closed = true;
  if (c.recv_armed) cancel(c, kRecvOp);
  if (c.sending) cancel(c, kSendOp);
  io_uring_sqe* s = ring_.sqe();
  io_uring_prep_close_direct(s, static_cast<unsigned>(c.slot));
  s->flags |= IOSQE_CQE_SKIP_SUCCESS;
  io_uring_sqe_set_data64(s, kIgnoreTag);
  release_if_done(c);
}

void UringLoop::release_if_done(Connection& c) {
  if (!c.closed || c.accepting || c.recv_armed || c.sending) return;
  if (owns_slots_) free_slots_.push_back(c.slot);  // its close went in before any accept into it
  closing_.erase(c.self);
}

void UringLoop::expire() {
  const auto timeout = milliseconds(config_.io_timeout_ms);
  while (!active_.empty() && now_ - active_.front().last >= timeout) {
    count_failure(slot_, Failure::timeout);
    finish(active_.front());
  }
  while (!lingering_.empty() && now_ - lingering_.front().last >= kLingerQuiet)
    finish(lingering_.front());
}

// Until the earliest of: the oldest connection's deadline, the accepts' return after a
// back-off, the end of the grace period; -1: none.
int UringLoop::next_timeout_ms() const {
  Clock::time_point next = Clock::time_point::max();
  if (!active_.empty()) next = active_.front().last + milliseconds(config_.io_timeout_ms);
  if (!lingering_.empty()) next = std::min(next, lingering_.front().last + kLingerQuiet);
  if (listen_fd_ >= 0 && !stopping_ && now_ < resume_accept_at_)
    next = std::min(next, resume_accept_at_);
  if (stopping_) next = std::min(next, stop_deadline_);
  if (next == Clock::time_point::max()) return -1;
  auto ms = std::chrono::ceil<milliseconds>(next - now_).count();
  return static_cast<int>(std::clamp<long>(ms, 0, 60'000));
}

}  // namespace tcplab
