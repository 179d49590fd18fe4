// TestServer: a small server for the load generator's tests, on 127.0.0.1 and a port the
// kernel picks. One thread accepts; each connection gets a thread running the handler with
// blocking I/O. The destructor shuts every socket down and joins every thread.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace tcplab::load::test {

class TestServer {
 public:
  // Runs on the connection's thread; owns nothing: the server closes fd after it returns.
  using Handler = std::function<void(int fd, TestServer& server)>;

  explicit TestServer(Handler handler) : handler_(std::move(handler)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) < 0 ||
        ::listen(listen_fd_, 1024) < 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) < 0)
      throw std::system_error(errno, std::generic_category(), "TestServer listen");
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~TestServer() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);  // wakes the blocked accept()
    acceptor_.join();
    {
      std::lock_guard lock(mutex_);
      for (int fd : open_)
        ::shutdown(fd, SHUT_RDWR);  // wakes blocked reads
    }
    for (auto& t : workers_)
      t.join();
    ::close(listen_fd_);
  }
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  std::uint16_t port() const { return port_; }

  std::atomic<std::uint64_t> connections{0}, requests{0}, bytes{0}, closes_asked{0};

  // Waits until every handler has returned: a handler counts a request after its last write,
  // so the client may finish before the server has counted. True if idle within `limit`.
  bool wait_idle(std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      {
        std::lock_guard lock(mutex_);
        if (open_.empty()) return true;
      }
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  std::mutex gate;  // handlers may serialise on it (the stall test holds it while sleeping)

 private:
  void accept_loop() {
    for (;;) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        if (stopping_) return;
        continue;
      }
      ++connections;
      std::lock_guard lock(mutex_);
      open_.insert(fd);
      workers_.emplace_back([this, fd] {
        handler_(fd, *this);
        {
          std::lock_guard inner(mutex_);
          open_.erase(fd);
        }
        ::close(fd);
      });
    }
  }

  Handler handler_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mutex_;
  std::set<int> open_;
  std::vector<std::thread> workers_;
};

// Reads one line (without "\n" or "\r\n") a byte at a time. False at EOF or error.
inline bool read_line(int fd, std::string& line) {
  line.clear();
  char c;
  while (::read(fd, &c, 1) == 1) {
    if (c == '\n') {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return true;
    }
    line += c;
  }
  return false;
}

inline std::string body(std::uint64_t n) {
  std::string out(n, '0');
  for (std::uint64_t k = 0; k < n; ++k)
    out[k] = char('0' + k % 10);
  return out;
}

inline bool write_all(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += std::size_t(n);
  }
  return true;
}

// Reads one request, line protocol or HTTP; returns the byte count asked for, or -1 at EOF.
// Counts "Connection: close" in server.closes_asked and sets close_after.
inline long long read_request(int fd, TestServer& server, bool& http, bool& close_after) {
  std::string line;
  if (!read_line(fd, line)) return -1;
  http = line.rfind("GET /", 0) == 0;
  close_after = false;
  if (!http) return std::stoll(line);
  const long long n = std::stoll(line.substr(5));
  std::string header;
  while (read_line(fd, header) && !header.empty())
    if (header == "Connection: close") close_after = true;
  if (close_after) ++server.closes_asked;
  return n;
}

// A loopback port that is bound but not listening: every connect to it is refused, and no other
// program can take the port while this object holds it.
class RefusingPort {
 public:
  RefusingPort() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      const int err = errno;
      if (fd_ >= 0) ::close(fd_);
      throw std::system_error(err, std::generic_category(), "RefusingPort");
    }
    port_ = ntohs(addr.sin_port);
  }
  ~RefusingPort() { ::close(fd_); }
  RefusingPort(const RefusingPort&) = delete;
  RefusingPort& operator=(const RefusingPort&) = delete;
  std::uint16_t port() const { return port_; }

 private:
  int fd_;
  std::uint16_t port_ = 0;
};

// True if a socket can bind to this IPv4 address, i.e. it is one of this host's (tests that need
// an address that is not skip when it is).
inline bool can_bind(const char* address) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  if (::inet_pton(AF_INET, address, &addr.sin_addr) != 1) return false;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const bool bound = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  if (fd >= 0) ::close(fd);
  return bound;
}

// The well-behaved server: what every tcplab server does, counting what it serves.
inline void serve_well(int fd, TestServer& server) {
  bool http = false, close_after = false;
  for (long long n; (n = read_request(fd, server, http, close_after)) >= 0;) {
    std::string out = http ? "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(n) +
                                 "\r\nServer: test\r\n\r\n"
                           : "";
    out += body(std::uint64_t(n));
    if (!write_all(fd, out)) return;
    ++server.requests;
    server.bytes += out.size();
    if (close_after) return;
  }
}

}  // namespace tcplab::load::test
