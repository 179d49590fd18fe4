#pragma once
// What every design is handed, and what every server prints when it stops.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "connection.hpp"
#include "dispatch.hpp"
#include "scoreboard.hpp"

namespace tcplab {

struct Config {
  std::string design;
  std::string host = "127.0.0.1";
  std::uint16_t port = 9877;  // UNP's SERV_PORT
  std::size_t workers = 15;   // Stevens' pool size
  DispatchPolicy dispatch = DispatchPolicy::least_loaded;
  std::size_t queue_size = 0;  // prethread-dispatch; 0: twice the workers
  int backlog = 1024;
  int grace_ms = 3000;  // on SIGTERM: how long in-flight connections may take to finish
  ServeConfig serve;
  std::string stats_json;
};

// A running server as a design sees it. main() owns the listener and the scoreboard; the design
// runs until signals::stop_requested() and the listener is shut, stops its workers, and records
// how many processes and threads it made.
struct Server {
  const Config& config;
  int listen_fd;
  Scoreboard& board;
  std::size_t processes_created = 0;
  std::size_t threads_created = 0;
};

// The summary printed on stop: counts from the scoreboard, CPU from getrusage() of the server
// and of all its reaped children (so every worker process and thread is in it).
struct Summary {
  std::string design;
  double wall_s = 0;
  double cpu_user_s = 0;
  double cpu_sys_s = 0;
  std::uint64_t connections = 0, requests = 0, bytes_sent = 0;
  std::size_t processes_created = 0, threads_created = 0;
  bool pooled = false;
  std::vector<std::uint64_t> workers;  // connections per worker (pooled designs and iterative)
};

Summary summarize(const Server& server, bool pooled, std::chrono::steady_clock::duration wall);
std::string format_summary(const Summary& s, const Scoreboard& board);
std::string summary_json(const Summary& s, const Scoreboard& board, const Config& config);

}  // namespace tcplab
