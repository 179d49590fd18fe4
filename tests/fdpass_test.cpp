// send_fd / recv_fd over UNIX-domain stream and seqpacket sockets: the descriptor that arrives
// is the same open file, and every malformed message is refused without leaving a descriptor
// behind (each receive is bracketed by two listings of /proc/self/fd).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "fdpass.hpp"
#include "support/child.hpp"
#include "support/fds.hpp"

namespace tcplab {
namespace {

using namespace std::chrono_literals;
using test::fd_list;
using test::open_fds;

struct Record {
  std::uint32_t slot;
  std::uint32_t tag;
  std::uint64_t serial;
  bool operator==(const Record&) const = default;
};

struct Channel {
  Fd a, b;
};

Channel channel(int type) {
  int sv[2];
  if (::socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) != 0)
    ADD_FAILURE() << "socketpair: " << std::strerror(errno);
  return {Fd(sv[0]), Fd(sv[1])};
}

struct Pipe {
  Fd read, write;
};

Pipe make_pipe() {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) ADD_FAILURE() << "pipe2: " << std::strerror(errno);
  return {Fd(p[0]), Fd(p[1])};
}

// sendmsg by hand: any number of descriptors (none: no control message at all) with `len` bytes.
ssize_t send_raw(int channel, const std::vector<int>& fds, const void* data, std::size_t len) {
  constexpr std::size_t kMaxFds = 16;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)] = {};
  iovec iov{const_cast<void*>(data), len};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (!fds.empty() && fds.size() <= kMaxFds) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  return ::sendmsg(channel, &msg, MSG_NOSIGNAL);
}

// One recv_fd with the descriptor table listed just before and just after it.
struct Received {
  RecvStatus status = RecvStatus::error;
  int err = 0;
  std::string why;
  Fd fd;
  std::vector<char> record;
  std::vector<int> before, after;
};

Received receive(int channel, std::size_t len = sizeof(Record)) {
  Received r;
  r.record.resize(len);
  r.before = open_fds();
  r.status = recv_fd(channel, r.fd, r.record.data(), len, &r.why);
  r.err = errno;
  r.after = open_fds();
  return r;
}

// The only descriptor a receive may add is the one it handed over.
void expect_no_leak(const Received& r) {
  std::vector<int> expected = r.before;
  if (r.fd) expected.push_back(r.fd.get());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(fd_list(r.after), fd_list(expected)) << "recv_fd left descriptors open";
}

// recv_fd refused the message, saying `reason`, and left no descriptor behind.
void expect_refused(const Received& r, std::string_view reason) {
  EXPECT_EQ(r.status, RecvStatus::malformed);
  EXPECT_NE(r.why.find(reason), std::string::npos) << r.why;
  EXPECT_FALSE(r.fd);
  expect_no_leak(r);
}

bool same_file(int x, int y) {
  struct stat sx {
  }, sy{};
  return ::fstat(x, &sx) == 0 && ::fstat(y, &sy) == 0 && sx.st_dev == sy.st_dev &&
         sx.st_ino == sy.st_ino;
}

std::string read_some(int fd, int timeout_ms = 2000) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) != 1) return "<timeout>";
  char buf[256];
  ssize_t n = ::read(fd, buf, sizeof buf);
  return n < 0 ? "<error>" : std::string(buf, static_cast<std::size_t>(n));
}

// Closing our write end ends the pipe only if no passed copy of it is open anywhere.
void expect_no_other_copy(Pipe& p) {
  p.write.reset();
  EXPECT_EQ(read_some(p.read.get()), "") << "a passed copy of the write end is still open";
}

void write_all(int fd, std::string_view s) {
  ASSERT_EQ(::write(fd, s.data(), s.size()), ssize_t(s.size()));
}

class FdPass : public testing::TestWithParam<int> {
 protected:
  Channel ch = channel(GetParam());
  const Record rec{3, 0xC0FFEE, 1234567890123ull};
};

std::string type_name(const testing::TestParamInfo<int>& info) {
  return info.param == SOCK_STREAM ? "stream" : "seqpacket";
}

INSTANTIATE_TEST_SUITE_P(Unix, FdPass, testing::Values(SOCK_STREAM, SOCK_SEQPACKET), type_name);

// --- what arrives is the same open file ----------------------------------------------------

TEST_P(FdPass, PassedPipeIsTheSameOpenFile) {
  Pipe p = make_pipe();
  ASSERT_EQ(send_fd(ch.a.get(), p.write.get(), rec), 0);
  Received r = receive(ch.b.get());
  ASSERT_EQ(r.status, RecvStatus::ok) << r.why;
  expect_no_leak(r);
  Record got;
  std::memcpy(&got, r.record.data(), sizeof got);
  EXPECT_EQ(got, rec);
  ASSERT_TRUE(r.fd);
  EXPECT_NE(r.fd.get(), p.write.get());
  EXPECT_TRUE(same_file(r.fd.get(), p.write.get()));
  EXPECT_TRUE(::fcntl(r.fd.get(), F_GETFD) & FD_CLOEXEC) << "MSG_CMSG_CLOEXEC not applied";

  // One open file description, not a second open of the same pipe: status flags are shared.
  ASSERT_EQ(::fcntl(r.fd.get(), F_SETFL, O_NONBLOCK), 0);
  EXPECT_TRUE(::fcntl(p.write.get(), F_GETFL) & O_NONBLOCK);

  p.write.reset();
  write_all(r.fd.get(), "through the passed end");
  EXPECT_EQ(read_some(p.read.get()), "through the passed end");
  // The passed copy was the last write end: nothing else (no in-flight copy) keeps the pipe open.
  r.fd.reset();
  EXPECT_EQ(read_some(p.read.get()), "");
}

TEST_P(FdPass, PassedSocketIsTheSameSocket) {
  Fd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(::listen(listener.get(), 1), 0);
  ASSERT_EQ(::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);
  Fd client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(::connect(client.get(), reinterpret_cast<sockaddr*>(&addr), len), 0);
  Fd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(conn);

  ASSERT_EQ(send_fd(ch.a.get(), conn.get(), rec), 0);
  Received r = receive(ch.b.get());
  ASSERT_EQ(r.status, RecvStatus::ok) << r.why;
  expect_no_leak(r);

  auto name = [](int fd, bool peer) {
    sockaddr_storage ss{};
    socklen_t n = sizeof ss;
    int rc = peer ? ::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &n)
                  : ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &n);
    return rc == 0 ? std::string(reinterpret_cast<char*>(&ss), n) : std::string("<error>");
  };
  EXPECT_EQ(name(r.fd.get(), false), name(conn.get(), false));
  EXPECT_EQ(name(r.fd.get(), true), name(conn.get(), true));
  EXPECT_TRUE(same_file(r.fd.get(), conn.get()));

  conn.reset();  // the manager closes its copy once the worker has it
  write_all(r.fd.get(), "from the worker");
  EXPECT_EQ(read_some(client.get()), "from the worker");
  write_all(client.get(), "from the client");
  EXPECT_EQ(read_some(r.fd.get()), "from the client");
  r.fd.reset();
  EXPECT_EQ(read_some(client.get()), "") << "the connection outlived its last descriptor";
}

TEST_P(FdPass, WorksAcrossProcesses) {
  Pipe p = make_pipe();
  test::Child worker([&] {
    ch.a.reset();
    p.write.reset();
    Fd fd;
    Record got{};
    if (recv_fd(ch.b.get(), fd, got) != RecvStatus::ok || !(got == rec)) return 2;
    std::string_view msg = "from the worker process";
    return ::write(fd.get(), msg.data(), msg.size()) == ssize_t(msg.size()) ? 0 : 3;
  });
  ch.b.reset();
  ASSERT_EQ(send_fd(ch.a.get(), p.write.get(), rec), 0);
  p.write.reset();
  EXPECT_EQ(read_some(p.read.get()), "from the worker process");
  EXPECT_TRUE(worker.succeeds(5s));
  EXPECT_EQ(read_some(p.read.get()), "");  // the worker's copy died with it
}

TEST_P(FdPass, MessagesStayInOrderAndApart) {
  std::vector<Pipe> pipes;
  for (int i = 0; i < 5; ++i)
    pipes.push_back(make_pipe());
  for (std::uint32_t i = 0; i < 5; ++i)
    ASSERT_EQ(send_fd(ch.a.get(), pipes[i].write.get(), Record{i, 0, i * 10ull}), 0);
  for (std::uint32_t i = 0; i < 5; ++i) {
    Received r = receive(ch.b.get());
    ASSERT_EQ(r.status, RecvStatus::ok) << r.why;
    expect_no_leak(r);
    Record got;
    std::memcpy(&got, r.record.data(), sizeof got);
    EXPECT_EQ(got, (Record{i, 0, i * 10ull}));
    EXPECT_TRUE(same_file(r.fd.get(), pipes[i].write.get())) << "message " << i;
  }
}

// --- malformed messages: refused, and nothing left open ------------------------------------

TEST_P(FdPass, TwoDescriptorsWhenOneIsExpected) {
  Pipe p = make_pipe(), q = make_pipe();
  ASSERT_EQ(send_raw(ch.a.get(), {p.write.get(), q.write.get()}, &rec, sizeof rec),
            ssize_t(sizeof rec));
  expect_refused(receive(ch.b.get()), "exactly one descriptor");
  expect_no_other_copy(p);
  expect_no_other_copy(q);
}

TEST_P(FdPass, TooManyDescriptorsTruncateTheControlData) {
  std::vector<Pipe> pipes;
  std::vector<int> ends;
  for (int i = 0; i < 8; ++i) {
    pipes.push_back(make_pipe());
    ends.push_back(pipes.back().write.get());
  }
  ASSERT_EQ(send_raw(ch.a.get(), ends, &rec, sizeof rec), ssize_t(sizeof rec));
  expect_refused(receive(ch.b.get()), "MSG_CTRUNC");
  for (Pipe& p : pipes)
    expect_no_other_copy(p);
}

TEST_P(FdPass, CredentialsTakeTheRoomOfTheDescriptor) {
  // With SO_PASSCRED every message also carries SCM_CREDENTIALS, which does not fit the
  // receiver's one-descriptor buffer: truncated, refused, and the descriptor is closed.
  int on = 1;
  ASSERT_EQ(::setsockopt(ch.b.get(), SOL_SOCKET, SO_PASSCRED, &on, sizeof on), 0);
  Pipe p = make_pipe();
  ASSERT_EQ(send_fd(ch.a.get(), p.write.get(), rec), 0);
  expect_refused(receive(ch.b.get()), "MSG_CTRUNC");
  expect_no_other_copy(p);
}

TEST_P(FdPass, ShorterRecord) {
  Pipe p = make_pipe();
  std::uint32_t half = 7;
  ASSERT_EQ(send_fd(ch.a.get(), p.write.get(), half), 0);
  expect_refused(receive(ch.b.get()), "record of 4 bytes, expected 16");
  expect_no_other_copy(p);
}

TEST_P(FdPass, DescriptorWithoutARecord) {
  // send_fd insists on data; by hand a message can be all control. On a stream socket that is
  // no message at all; on seqpacket it arrives as an empty record.
  Pipe p = make_pipe();
  ASSERT_EQ(send_raw(ch.a.get(), {p.write.get()}, nullptr, 0), 0);
  if (GetParam() == SOCK_STREAM) {
    ASSERT_EQ(send_fd(ch.a.get(), p.write.get(), rec), 0);  // the next real one still arrives
    Received r = receive(ch.b.get());
    EXPECT_EQ(r.status, RecvStatus::ok) << r.why;
    expect_no_leak(r);
    return;
  }
  expect_refused(receive(ch.b.get()), "record of 0 bytes, expected 16");
  expect_no_other_copy(p);
}

TEST(FdPassSeqpacket, LongerRecordIsTruncatedAndRefused) {
  Channel ch = channel(SOCK_SEQPACKET);
  Pipe p = make_pipe();
  char big[32] = "a record twice as long";
  ASSERT_EQ(send_fd(ch.a.get(), p.write.get(), static_cast<const void*>(big), sizeof big), 0);
  expect_refused(receive(ch.b.get()), "record truncated (MSG_TRUNC)");
  expect_no_other_copy(p);
}

TEST(FdPassStream, LongerRecordLeavesItsTailWithoutADescriptor) {
  // A stream has no record boundaries: the first receive takes the descriptor and the first
  // bytes; the next finds the rest of the record and no descriptor.
  Channel ch = channel(SOCK_STREAM);
  Pipe p = make_pipe();
  char big[2 * sizeof(Record)] = "a record twice as long";
  ASSERT_EQ(send_fd(ch.a.get(), p.write.get(), static_cast<const void*>(big), sizeof big), 0);
  Received first = receive(ch.b.get());
  EXPECT_EQ(first.status, RecvStatus::ok) << first.why;
  expect_no_leak(first);
  expect_refused(receive(ch.b.get()), "no control message");
}

TEST_P(FdPass, PlainSendHasNoControlMessage) {
  ASSERT_EQ(::send(ch.a.get(), &rec, sizeof rec, MSG_NOSIGNAL), ssize_t(sizeof rec));
  expect_refused(receive(ch.b.get()), "no control message");
}

TEST_P(FdPass, ReceiveKeepsThePreviousDescriptorOnFailure) {
  Pipe p = make_pipe();
  Fd held(::dup(p.write.get()));
  ASSERT_EQ(::send(ch.a.get(), &rec, sizeof rec, MSG_NOSIGNAL), ssize_t(sizeof rec));
  Record got{};
  const int before = held.get();
  EXPECT_EQ(recv_fd(ch.b.get(), held, got), RecvStatus::malformed);
  EXPECT_EQ(held.get(), before);
  EXPECT_NE(::fcntl(before, F_GETFD), -1);
}

// --- the channel itself ----------------------------------------------------------------------

TEST_P(FdPass, PeerClosedIsEof) {
  Pipe p = make_pipe();
  ASSERT_EQ(send_fd(ch.a.get(), p.write.get(), rec), 0);
  ch.a.reset();
  Received first = receive(ch.b.get());
  EXPECT_EQ(first.status, RecvStatus::ok) << "a message sent before the close still arrives";
  expect_no_leak(first);
  Received r = receive(ch.b.get());
  EXPECT_EQ(r.status, RecvStatus::eof);
  expect_no_leak(r);
}

TEST_P(FdPass, SendToAClosedPeerIsEpipeNotSigpipe) {
  Pipe p = make_pipe();
  ch.b.reset();
  std::vector<int> before = open_fds();
  EXPECT_EQ(send_fd(ch.a.get(), p.write.get(), rec), EPIPE);
  EXPECT_EQ(fd_list(open_fds()), fd_list(before));
}

TEST_P(FdPass, FullChannelWithDontwaitIsEagain) {
  int small = 1;  // the kernel rounds it up to its minimum
  ASSERT_EQ(::setsockopt(ch.a.get(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
  Pipe p = make_pipe();
  int rc = 0, sent = 0;
  while (sent < 100000 && (rc = send_fd(ch.a.get(), p.write.get(), rec, MSG_DONTWAIT)) == 0)
    ++sent;
  EXPECT_EQ(rc, EAGAIN) << std::strerror(rc) << " after " << sent << " messages";
  EXPECT_GT(sent, 0);
  // What was queued is all there, in order, and nothing leaks while draining it.
  std::vector<int> before = open_fds();
  for (int i = 0; i < sent; ++i) {
    Fd fd;
    Record got{};
    ASSERT_EQ(recv_fd(ch.b.get(), fd, got), RecvStatus::ok) << "message " << i;
    ASSERT_TRUE(same_file(fd.get(), p.write.get()));
  }
  EXPECT_EQ(fd_list(open_fds()), fd_list(before));
}

TEST(FdPassErrors, NotASocketIsAnError) {
  Pipe p = make_pipe();
  ASSERT_EQ(::write(p.write.get(), "x", 1), 1);
  Fd fd;
  Record got{};
  errno = 0;
  EXPECT_EQ(recv_fd(p.read.get(), fd, got), RecvStatus::error);
  EXPECT_EQ(errno, ENOTSOCK);
  EXPECT_EQ(send_fd(p.write.get(), p.read.get(), got), ENOTSOCK);
}

TEST(FdPassErrors, RoundTripLeavesTheTableAsItWas) {
  // A good message and a bad one, then everything closed: the table is as before the channel.
  std::vector<int> before = open_fds();
  {
    Channel ch = channel(SOCK_SEQPACKET);
    Pipe p = make_pipe();
    ASSERT_EQ(send_fd(ch.a.get(), p.write.get(), Record{}), 0);
    ASSERT_EQ(send_raw(ch.a.get(), {p.write.get(), p.read.get()}, "xxxxxxxxxxxxxxxx", 16), 16);
    Fd fd;
    Record got{};
    ASSERT_EQ(recv_fd(ch.b.get(), fd, got), RecvStatus::ok);
    ASSERT_EQ(recv_fd(ch.b.get(), fd, got), RecvStatus::malformed);
    EXPECT_TRUE(fd) << "the descriptor from the good message is kept";
  }
  EXPECT_EQ(fd_list(open_fds()), fd_list(before));
}

}  // namespace
}  // namespace tcplab
