#pragma once
// Passing an open descriptor to another process over a UNIX-domain socket (UNP 15.7):
// sendmsg() with an SCM_RIGHTS control message, plus a small fixed-size record of metadata.
// The receiver trusts nothing it did not check: the record's length, the control message's
// level, type and length, MSG_CTRUNC / MSG_TRUNC, and EOF. On every error path each descriptor
// the kernel installed is closed, so a malformed message can never leak one.
#include <cstddef>
#include <string>
#include <type_traits>

#include "fd.hpp"

namespace tcplab {

// Sends `fd` and `len` bytes of `record` (len == 0 is refused with EINVAL: on a SOCK_SEQPACKET
// channel an empty message could not be told from EOF). The caller keeps
// its copy of `fd` and closes it when it likes. Returns 0 or errno (EAGAIN with MSG_DONTWAIT,
// EPIPE when the peer is gone). EINTR is retried.
int send_fd(int channel, int fd, const void* record, std::size_t len, int flags = 0);

enum class RecvStatus {
  ok,         // `fd` holds the descriptor, `record` is filled
  eof,        // the peer closed the channel
  malformed,  // wrong length, no or bad control message, truncation; `why` says which
  error,      // recvmsg failed; errno is set (EINTR is returned, not retried: see the caller)
};

// Receives one descriptor and exactly `len` bytes of record.
RecvStatus recv_fd(int channel, Fd& fd, void* record, std::size_t len, std::string* why = nullptr);

// The typed forms: the record is a trivially copyable struct, the same type on both sides.
template <class T>
int send_fd(int channel, int fd, const T& record, int flags = 0) {
  static_assert(std::is_trivially_copyable_v<T>);
  return send_fd(channel, fd, &record, sizeof record, flags);
}
template <class T>
RecvStatus recv_fd(int channel, Fd& fd, T& record, std::string* why = nullptr) {
  static_assert(std::is_trivially_copyable_v<T>);
  return recv_fd(channel, fd, &record, sizeof record, why);
}

}  // namespace tcplab
