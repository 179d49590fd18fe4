#pragma once
// ControlSocket: a UNIX-domain socket on which the server answers the line "snapshot" with one
// line of JSON (accounting.hpp), without stopping or slowing its workers. The suite takes one
// snapshot after warm-up and one at the end of the measurement. By hand:
//   echo snapshot | nc -U /tmp/tcplab.ctl
// It runs its own thread in the server's main process, with every signal blocked, so that
// SIGINT, SIGTERM and SIGCHLD still reach the design's own threads as they would without it.
// It keeps one spare descriptor so that it can still answer when the server has run out of
// descriptors (EMFILE): that is when a snapshot is most wanted.
#include <functional>
#include <string>
#include <thread>

#include "fd.hpp"

namespace tcplab {

class ControlSocket {
 public:
  // Binds `path` (replacing a stale socket file) and starts answering. Throws on set-up failure.
  ControlSocket(std::string path, std::function<std::string()> answer);
  ~ControlSocket();  // stops the thread and removes the socket file
  ControlSocket(const ControlSocket&) = delete;
  ControlSocket& operator=(const ControlSocket&) = delete;

 private:
  void serve();

  std::string path_;
  std::function<std::string()> answer_;
  Fd listener_;
  Fd spare_;  // /dev/null, closed for a moment to make room for one accept() under EMFILE
  std::thread thread_;
};

}  // namespace tcplab
