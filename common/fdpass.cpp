#include "fdpass.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "error.hpp"

namespace tcplab {

namespace {

// Room for one descriptor, aligned as cmsghdr needs.
union ControlBuffer {
  char bytes[CMSG_SPACE(sizeof(int))];
  cmsghdr align;
};

// The message both ends build: one record in `iov`, room for one descriptor in `control`.
msghdr one_record(iovec& iov, ControlBuffer& control) {
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.bytes;
  msg.msg_controllen = sizeof control.bytes;
  return msg;
}

// Closes every descriptor any SCM_RIGHTS message in `msg` carried, however many and however
// badly formed the rest is: the kernel installed them in our table whether we want them or not.
void close_passed(msghdr& msg) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    std::size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < n; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      ::close(fd);
    }
  }
}

RecvStatus malformed(msghdr& msg, std::string* why, const std::string& reason) {
  close_passed(msg);
  if (why) *why = reason;
  return RecvStatus::malformed;
}

}  // namespace

int send_fd(int channel, int fd, const void* record, std::size_t len, int flags) {
  // An empty record would read as EOF on the other side of a SOCK_SEQPACKET channel.
  if (len == 0) return EINVAL;
  iovec iov{const_cast<void*>(record), len};
  ControlBuffer control{};
  msghdr msg = one_record(iov, control);
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  ssize_t n = retry_eintr([&] { return ::sendmsg(channel, &msg, flags | MSG_NOSIGNAL); });
  if (n < 0) return errno;
  // A SOCK_SEQPACKET or SOCK_STREAM socket sends a record this small whole or not at all.
  return static_cast<std::size_t>(n) == len ? 0 : EMSGSIZE;
}

RecvStatus recv_fd(int channel, Fd& fd, void* record, std::size_t len, std::string* why) {
  iovec iov{record, len};
  ControlBuffer control{};
  msghdr msg = one_record(iov, control);

  // MSG_CMSG_CLOEXEC: a descriptor received here must not leak into a program we exec.
  ssize_t n = ::recvmsg(channel, &msg, MSG_CMSG_CLOEXEC);
  if (n < 0) return RecvStatus::error;
  if (n == 0 && msg.msg_controllen == 0) return RecvStatus::eof;
  if (msg.msg_flags & MSG_CTRUNC) return malformed(msg, why, "control data truncated (MSG_CTRUNC)");
  if (msg.msg_flags & MSG_TRUNC) return malformed(msg, why, "record truncated (MSG_TRUNC)");
  if (static_cast<std::size_t>(n) != len)
    return malformed(msg, why,
                     "record of " + std::to_string(n) + " bytes, expected " + std::to_string(len));

  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  if (c == nullptr) return malformed(msg, why, "no control message");
  if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
    return malformed(msg, why, "control message is not SOL_SOCKET/SCM_RIGHTS");
  if (c->cmsg_len != CMSG_LEN(sizeof(int)))
    return malformed(msg, why, "control message does not hold exactly one descriptor");
  if (CMSG_NXTHDR(&msg, c) != nullptr) return malformed(msg, why, "more than one control message");

  int received;
  std::memcpy(&received, CMSG_DATA(c), sizeof received);
  if (received < 0) return malformed(msg, why, "negative descriptor");
  fd.reset(received);
  return RecvStatus::ok;
}

}  // namespace tcplab
