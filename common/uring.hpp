#pragma once
// io_uring for the two designs built on it (paradigms/uring.cpp, paradigms/uring_msgring.cpp):
// the probe that says whether this machine lets us use it, an owning ring, the provided-buffer
// ring that recv reads into, and UringLoop, the completion-driven twin of EventLoop.
//
// UringLoop serves connections that are registered ("direct") descriptors: slots of its ring's
// fixed-file table, never process descriptors. They arrive by its own accepts (uring) or from
// another ring by IORING_OP_MSG_RING (uring-msgring). Each connection is the EventLoop's state
// machine driven by completions instead of readiness: a recv copies into the connection's input
// from a buffer the kernel picked; step() (connection_step.hpp) decides; the answer goes out as
// sendmsg operations; close, shutdown and cancel are operations too. Nothing is a system call of
// its own: the loop's one io_uring_enter per turn submits everything queued during the last turn
// and waits for the next completions, with the earliest deadline as its timeout (the
// --io-timeout-ms timer). A stop signal is a completion too: SIGINT/SIGTERM are blocked and a
// read of a signalfd for them stays in flight (signals::StopSignalFd), so no handler has to run
// to end the wait (none would under ThreadSanitizer, which runs handlers only at calls it
// intercepts, and io_uring_enter is not one).
//
// Fewer turns, not fewer operations: a turn ends as soon as one completion is there, so an
// operation whose completion comes back at once (a recv of a request already received, a send
// into an empty socket buffer) costs a turn of its own. Two links avoid that where the order is
// known. Each accept goes into a slot the loop chose, with the connection's first recv linked
// behind it (IOSQE_IO_LINK: it starts when the accept has succeeded), so the request comes back
// with its connection. And an answer that fits one sendmsg goes out with MSG_WAITALL (all of it,
// or a failure) and IOSQE_CQE_SKIP_SUCCESS (no completion unless it fails), with the recv of the
// next request linked behind it: that recv's completion is the proof that the answer is out.
// A connection of one request then needs two turns, its request and its client's EOF, and
// under load other connections' events share them.
//
// Threads: a UringLoop is built and run() by one thread (IORING_SETUP_SINGLE_ISSUER). Other
// threads reach it only through its ring: a MSG_RING with kPassedTag (SEND_FD: the result is the
// slot the descriptor landed in) or kStopTag (DATA: stop).
#include <liburing.h>

#include <chrono>
#include <cstdint>
#include <list>
#include <string>
#include <vector>

#include "connection.hpp"
#include "connection_step.hpp"
#include "scoreboard.hpp"
#include "signals.hpp"

namespace tcplab {

// "" if io_uring can run the designs here; else one sentence naming the cause, e.g. "io_uring
// is disabled (kernel.io_uring_disabled=2)". Sets up a tiny ring and checks every opcode and
// feature the designs use. Cached after the first call.
const std::string& uring_unavailable_reason();

// An io_uring, set up or thrown (sys_error naming io_uring_queue_init_params), closed once.
class Ring {
 public:
  // `fixed_files` > 0: a sparse table of that many registered descriptors. `defer_taskrun`:
  // IORING_SETUP_SINGLE_ISSUER | DEFER_TASKRUN where the kernel has them — completions are
  // processed only when the thread waits for them; then a linked operation also starts only
  // then, so a ring whose links must run without a wait (BM_MsgRingFd's sender) passes false.
  Ring(unsigned entries, unsigned fixed_files, bool defer_taskrun = true);
  ~Ring();
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  io_uring* get() { return &ring_; }
  int fd() const { return ring_.ring_fd; }
  unsigned fixed_files() const { return fixed_files_; }
  // The next free SQE; when the queue is full, what is in it is submitted first.
  io_uring_sqe* sqe();
  // Room for `n` more SQEs without a submission between them (a linked pair must go in
  // together: a link cut at the end of a submission is no link).
  void reserve(unsigned n);
  // Submits what is queued and waits for at least one completion, at most `timeout_ms` (-1: no
  // limit). EINTR and ETIME are not errors.
  void submit_and_wait(int timeout_ms);

 private:
  io_uring ring_{};
  unsigned fixed_files_ = 0;
};

// How many registered descriptors a ring may hold: RLIMIT_NOFILE's soft limit, at most 65536.
unsigned fixed_file_limit();

// Queues an accept of `listen_fd` into a free slot of `ring`'s table, tagged kAcceptTag, given
// `free` slots there. A direct accept takes the connection off the listener's queue before it
// looks for a slot, so with the table full the connection is lost (closed), not left in the
// backlog as EMFILE leaves it; and one multishot accept takes every connection queued. So:
// multishot while more slots are free than the backlog can hold, one accept at a time below
// that, none with `kSlotMargin` or fewer free. Returns whether it queued one, and `multishot`.
inline constexpr unsigned kSlotMargin = 8;
bool prep_accept(Ring& ring, int listen_fd, unsigned free, int backlog, bool& multishot);

// IORING_OP_MSG_RING with IORING_MSG_SEND_FD (liburing 2.4's io_uring_prep_msg_ring_fd, filled
// by hand for 2.3): moves the file in this ring's slot `source_slot` into a free slot of the
// ring `target_ring_fd`, whose completion carries `target_data` and the slot as its result.
void prep_msg_ring_fd(io_uring_sqe* sqe, int target_ring_fd, int source_slot,
                      std::uint64_t target_data);

// Queues a read of `stop`'s signalfd, tagged kSignalTag: it completes when SIGINT or SIGTERM
// comes (then call signals::request_stop()). `stop` must outlive the ring: it holds the buffer.
void prep_stop_signal_read(Ring& ring, signals::StopSignalFd& stop);
// Its completion with `res`: a signal came (then this calls signals::request_stop()), or the read
// was cut short, or it failed (logged once). Returns whether to queue the read again.
bool stop_signal_read_done(int res);

// user_data of the completions that are not a connection's (a connection's is its address, at
// least 4096, with the operation in its low bits).
enum UringTag : std::uint64_t {
  kIgnoreTag = 0,  // close, cancel, shutdown: posted only if they fail, and nothing to do then
  kAcceptTag = 8,
  kPassedTag = 16,  // MSG_RING SEND_FD into this ring: res is the slot
  kStopTag = 24,    // MSG_RING DATA into this ring: stop
  kSignalTag = 40,  // the read of a StopSignalFd: SIGINT or SIGTERM came (res > 0)
};

// Provided buffers for recv: `count` buffers of `size` bytes in group `group`, in a
// ring of buffer descriptors registered with the kernel (io_uring_register_buf_ring; liburing
// 2.3 has no io_uring_setup_buf_ring). The kernel picks one per completion; give_back() returns
// it once its bytes are copied out.
class BufferRing {
 public:
  BufferRing(Ring& ring, unsigned count, unsigned size, int group);
  ~BufferRing();
  BufferRing(const BufferRing&) = delete;
  BufferRing& operator=(const BufferRing&) = delete;

  const char* data(unsigned id) const { return buffers_.data() + std::size_t{id} * size_; }
  void give_back(unsigned id);
  int group() const { return group_; }

 private:
  Ring& ring_;
  unsigned count_, size_;
  int group_;
  io_uring_buf_ring* br_ = nullptr;
  std::size_t br_bytes_ = 0;
  std::vector<char> buffers_;
};

class UringLoop {
 public:
  UringLoop(WorkerSlot& slot, const ServeConfig& config, int grace_ms);
  UringLoop(const UringLoop&) = delete;
  UringLoop& operator=(const UringLoop&) = delete;
  ~UringLoop();

  // Accept from `listen_fd` (owned elsewhere) into the fixed table, whose slots are then the
  // loop's to choose.
  void accept_from(int listen_fd);
  // nullptr (the default): only a kStopTag message stops the loop (uring-msgring's workers);
  // else SIGINT/SIGTERM in this process does too, read from `stop` (which outlives the loop).
  void stop_on_signal(signals::StopSignalFd* stop) { stop_signal_ = stop; }
  // --stall-worker: serve nothing until stopped (the connections passed meanwhile are held).
  void stall(bool on) { stall_ = on; }
  int ring_fd() const { return ring_.fd(); }

  void run();

 private:
  using Clock = std::chrono::steady_clock;
  enum class State { reading_first, reading, answering, refusing, lingering };
  struct Connection {
    int slot = -1;  // its registered descriptor: owned here until the close operation
    // Its node in accepting_, active_, lingering_ or closing_.
    std::list<Connection>::iterator self;
    Clock::time_point last;  // last progress: its deadline is last + timeout
    State state = State::reading_first;
    std::string input;  // received, not answered yet
    bool eof = false;
    bool closed = false;      // finished: in closing_ until its operations have ended
    bool accepting = false;   // its accept (with its first recv linked) is in flight
    bool recv_armed = false;  // a recv is in flight (or linked, waiting to start)
    bool sending = false;     // a sendmsg is in flight
    bool quiet = false;       // ...posting no completion on success: the linked recv's proves it
    std::size_t quiet_bytes = 0;  // that answer's bytes, counted once it is proved
    After after = After::next;    // once the answer is written
    std::string head;             // the answer: head bytes, then body bytes of the pattern
    std::size_t head_off = 0;
    std::uint64_t body_off = 0, body_left = 0;
    iovec iov[2]{};
    msghdr msg{};
    int linger_reads = 0;
    Clock::time_point linger_start;
  };
  using List = std::list<Connection>;

  bool stopping() const;
  void begin_stop();
  void arm_accepts();
  void accepted(Connection& c);
  void on_accept(Connection& c, int res);
  void adopt(int slot);
  void handle(const io_uring_cqe& cqe);
  io_uring_sqe* arm_recv(Connection& c);
  void on_recv(Connection& c, int res, unsigned flags);
  void on_send(Connection& c, int res);
  void drive(Connection& c);
  io_uring_sqe* prep_send(Connection& c, int flags);
  void send_some(Connection& c);
  void send_quietly(Connection& c);
  void answered_quietly(Connection& c);
  void start_linger(Connection& c);
  void cancel(Connection& c, unsigned op);
  void touch(Connection& c);
  void finish(Connection& c);
  void release_if_done(Connection& c);
  void expire();
  int next_timeout_ms() const;
  std::size_t connections() const { return active_.size() + lingering_.size(); }

  WorkerSlot& slot_;
  const ServeConfig& config_;
  const int grace_ms_;
  __kernel_timespec io_timeout_;  // the first request's limit, after the accept
  Ring ring_;
  BufferRing buffers_;
  int listen_fd_ = -1;
  bool owns_slots_ = false;      // accept_from(): the loop chooses the slots, not the kernel
  std::vector<int> free_slots_;  // ...and these are the ones no connection holds
  signals::StopSignalFd* stop_signal_ = nullptr;
  bool signal_armed_ = false, stall_ = false, stopping_ = false, stop_message_ = false;
  int backoff_ms_ = 0;
  Clock::time_point now_, resume_accept_at_, stop_deadline_;
  List accepting_, active_, lingering_, closing_;
  std::vector<int> held_;  // --stall-worker: slots passed while stalled
};

}  // namespace tcplab
