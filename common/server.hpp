#pragma once
// What every design is handed, and what every server prints when it stops.
#include <chrono>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "connection.hpp"
#include "scoreboard.hpp"

namespace tcplab {

class ControlSocket;

// The options every design takes. Those of one design only are that design's (DesignOptions,
// paradigms/designs.hpp).
struct Config {
  std::string design;
  std::string host = "127.0.0.1";
  std::uint16_t port = 9877;  // UNP's SERV_PORT
  std::size_t workers = 15;   // Stevens' pool size
  int backlog = 1024;
  std::size_t ballast_mb = 0;  // --ballast-mb: MiB the main process touches before serving
  int grace_ms = 3000;         // on SIGTERM: how long in-flight connections may take to finish
  ServeConfig serve;
  std::string stats_json;
  std::string control_path;
};

// A running server as a design sees it. main() owns the listener and the scoreboard, and never
// destroys them (nor this): a thread still serving after the grace period may use them until
// the process ends. The design runs until the listener is shut (SIGINT/SIGTERM), then stops and
// reaps its workers.
struct Server {
  const Config& config;
  int listen_fd;
  Scoreboard& board;
  // --control, in the designs that fork: served by the manager's poll loop (control.hpp), and
  // closed in each child it forks. Null otherwise (no --control, or a design that never forks).
  ControlSocket* control = nullptr;
};

// What the summary must know of the design (its row of the table, paradigms/designs.hpp).
struct SummaryShape {
  bool pooled;                 // `workers` and `worker_pids` have a slot per worker of the pool
  bool worker_per_connection;  // fork, thread: `workers` is [] (each worker served one)
};

// The summary printed on stop: the accounting snapshot (accounting.hpp) taken after every
// worker has been reaped, so it covers the server's whole life, plus the wall time and the
// configuration. `workers` lists connections per worker: the pool's, or the one process's.
nlohmann::json final_summary(const Server& server, SummaryShape shape,
                             std::chrono::steady_clock::duration wall);
std::string format_summary(const nlohmann::json& summary);

}  // namespace tcplab
