// What every design pays on the network side per connection (a loopback connection's life, a
// 4000-byte answer, the two setsockopt calls of serve_connection), plus the system calls of the
// managers' loops (poll, getrusage).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <exception>
#include <string>

#include "error.hpp"
#include "micro.hpp"
#include "net.hpp"
#include "protocol.hpp"

namespace tcplab::micro {

namespace {

// accept_connection() said "retry" where a connection was waiting: out of descriptors or memory
// (it logs which), or a signal.
constexpr const char* kNoConnection = "accept_connection: no connection (see its log line)";

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

int connect_to(const Fd& client, const sockaddr_in& addr) {
  return ::connect(client.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
}

// One whole connection on 127.0.0.1: socket, connect, accept, and both closes.
//
// The server's side closes first. Whoever closes first keeps the connection in TIME_WAIT for
// 60 s; on the client's side that would tie up its ephemeral port (some 28 000 of them), and a
// long run at tens of thousands of connections a second would run out of ports within a second
// or two (tcp_tw_reuse only reuses a port after 1 s). On the server's side the TIME_WAIT
// entry is keyed by the client's port: connect() is free to reuse the port, and the kernel lets
// a new SYN with a later timestamp replace the old entry (RFC 6191). This is Stevens' "TIME_WAIT
// on the client, not the server" turned round, on purpose: the benchmark is the client too.
// SO_LINGER {on, 0} would avoid TIME_WAIT altogether but ends with a RST, a path no design takes.
void BM_ConnectAcceptClose(benchmark::State& state) {
  Fd listener;
  sockaddr_in addr{};
  try {
    listener = listen_tcp("127.0.0.1", 0, 128);
    addr = loopback(local_port(listener.get()));
  } catch (const std::exception& e) {
    return fail(state, e.what());
  }
  for (auto _ : state) {
    Fd client = tcp_socket();
    if (!client) {
      fail_errno(state, "socket");
      break;
    }
    if (connect_to(client, addr) == -1) {
      fail_errno(state, "connect 127.0.0.1:" + std::to_string(ntohs(addr.sin_port)));
      break;
    }
    try {
      Accepted a = accept_connection(listener.get());
      if (a.status != AcceptStatus::ok) {
        fail(state, kNoConnection);
        break;
      }
      a.conn.reset();  // the server's side first: see above
    } catch (const std::exception& e) {
      fail(state, e.what());
      break;
    }
  }  // the client's side closes here
}
BENCHMARK(BM_ConnectAcceptClose)->UseRealTime();

bool send_all(int fd, const char* data, std::size_t len) {
  while (len > 0) {
    ssize_t n = retry_eintr([&] { return ::send(fd, data, len, MSG_NOSIGNAL); });
    if (n < 0) return false;
    data += n;
    len -= static_cast<std::size_t>(n);
  }
  return true;
}

// The answer of UNP's benchmark request (4000 bytes, the body every design sends) written on
// one side of a persistent loopback connection and read whole on the other: the copies and
// the system calls, no request parsing.
void BM_Response4000(benchmark::State& state) {
  constexpr std::size_t kBytes = 4000;
  Fd client = tcp_socket(), server;
  if (!client) return fail_errno(state, "socket");
  try {
    Fd listener = listen_tcp("127.0.0.1", 0, 1);
    if (connect_to(client, loopback(local_port(listener.get()))) == -1)
      return fail_errno(state, "connect 127.0.0.1");
    Accepted a = accept_connection(listener.get());
    if (a.status != AcceptStatus::ok) return fail(state, kNoConnection);
    server = std::move(a.conn);
  } catch (const std::exception& e) {
    return fail(state, e.what());
  }
  set_io_timeouts(client.get(), 5000);  // a lost answer fails the benchmark instead of hanging
  char buf[kBytes];
  for (auto _ : state) {
    if (!send_all(server.get(), protocol::body_chunk(), kBytes)) {
      fail_errno(state, "send");
      break;
    }
    std::size_t got = 0;
    while (got < kBytes) {
      ssize_t n = retry_eintr([&] { return ::read(client.get(), buf + got, kBytes - got); });
      if (n <= 0) break;
      got += static_cast<std::size_t>(n);
    }
    if (got < kBytes) {
      fail(state, "read: the answer came short");
      break;
    }
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(kBytes));
}
BENCHMARK(BM_Response4000)->UseRealTime();

// serve_connection's set_io_timeouts(): SO_RCVTIMEO and SO_SNDTIMEO on every connection.
void BM_SetSockoptTimeouts(benchmark::State& state) {
  Fd fd = tcp_socket();
  if (!fd) return fail_errno(state, "socket");
  for (auto _ : state)
    set_io_timeouts(fd.get(), 10'000);
  // set_io_timeouts() ignores errors (a per-connection call); check that it did its work.
  timeval tv{};
  socklen_t len = sizeof tv;
  if (::getsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, &len) == -1 || tv.tv_sec != 10)
    fail(state, "set_io_timeouts did not set SO_SNDTIMEO");
}
BENCHMARK(BM_SetSockoptTimeouts)->UseRealTime();

enum class PollCall { poll, ppoll_sigmask };

// One readable descriptor, answered at once: the system call a manager's loop makes per wake-up
// (the fork design's parent and prefork-fdpass's use ppoll() with a signal mask, through
// signals::wait_for_events()), less any waiting.
void BM_Poll(benchmark::State& state, PollCall call) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
    return fail_errno(state, "socketpair");
  Fd writer(sv[0]), reader(sv[1]);
  if (::write(writer.get(), "x", 1) != 1) return fail_errno(state, "write");
  pollfd p{reader.get(), POLLIN, 0};
  sigset_t mask;
  ::sigemptyset(&mask);
  const timespec zero{0, 0};
  for (auto _ : state) {
    int n = call == PollCall::poll ? ::poll(&p, 1, 0) : ::ppoll(&p, 1, &zero, &mask);
    if (n != 1) {
      if (n == -1)
        fail_errno(state, "poll");
      else
        fail(state, "poll: the descriptor is not readable");
      break;
    }
  }
}
BENCHMARK_CAPTURE(BM_Poll, poll, PollCall::poll)->UseRealTime();
BENCHMARK_CAPTURE(BM_Poll, ppoll_sigmask, PollCall::ppoll_sigmask)->UseRealTime();

// getrusage(RUSAGE_SELF), as common/accounting.cpp reads the server's CPU time.
void BM_Getrusage(benchmark::State& state) {
  rusage ru{};
  for (auto _ : state) {
    if (::getrusage(RUSAGE_SELF, &ru) == -1) {
      fail_errno(state, "getrusage");
      break;
    }
    benchmark::DoNotOptimize(ru);
  }
}
BENCHMARK(BM_Getrusage)->UseRealTime();

}  // namespace

}  // namespace tcplab::micro
