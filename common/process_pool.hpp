#pragma once
// ProcessPool: the manager's side of a pool of worker processes (the prefork designs).
// It forks the workers, reaps the ones that die, logs why, and forks replacements: a framework
// cannot trust the code it runs, so it runs it in processes it can replace. A worker that dies
// soon after it started is replaced after a delay that doubles each time (100 ms up to 5 s),
// so a worker that crashes at once cannot turn the manager into a fork storm.
//
// Called only from the manager process, in its one thread, which must have called
// signals::block_for_manager().
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <vector>

#include "server.hpp"

namespace tcplab {

// Sends SIGTERM to every process in `pids`, waits up to `grace_ms` for them to exit, SIGKILLs the
// rest, and returns once every one has been reaped. `on_reaped` is told of each as it goes.
void stop_processes(std::vector<pid_t> pids, int grace_ms,
                    const std::function<void(pid_t)>& on_reaped = {});

// In a process just forked from the manager: what every child does first. It takes the signal
// handling of a worker (signals::become_worker) and closes its copies of the control socket's
// client connections (control.hpp), which are the manager's.
void become_child(const Server& server);

class ProcessPool {
 public:
  // Runs in the new worker process after become_child(); its return value is the worker's
  // exit status. It must not return into the manager's code: the pool _exit()s.
  using WorkerMain = std::function<int(std::size_t slot)>;

  // Optional hooks, run in the manager: before a worker's fork (e.g. make its channel), after a
  // successful fork (close the worker's end), and after a worker was reaped.
  struct Hooks {
    std::function<void(std::size_t slot)> before_fork;
    std::function<void(std::size_t slot)> after_fork;
    std::function<void(std::size_t slot)> after_exit;
  };

  // A pool of server.config.workers workers, counted in server.board.
  ProcessPool(const Server& server, WorkerMain main, Hooks hooks = {});

  // fork()s the worker for `slot`: the child runs main(slot) and _exit()s with its status.
  // False if fork() failed; supervise() tries again later.
  bool spawn(std::size_t slot);

  // spawn()s every worker. Throws if not one could be started.
  void start();

  // Reaps every worker that has exited and forks the replacements that are due. Returns the
  // milliseconds until the next replacement is due, or -1 if none is waiting.
  int supervise();

  // The loop of a manager that only supervises: waits for a worker to die (SIGCHLD), a
  // replacement to fall due, a --control client, or a stop (SIGINT, SIGTERM); then stop().
  void manage();

  // Asks every worker to stop (SIGTERM), waits up to `grace_ms` for them, then SIGKILLs the
  // rest; returns when every worker has been reaped.
  void stop(int grace_ms);

 private:
  using Clock = std::chrono::steady_clock;
  struct Worker {
    pid_t pid = 0;
    Clock::time_point started{};
    Clock::time_point respawn_at{};  // when pid == 0: the earliest time to fork again
    int delay_ms = 0;                // the current respawn delay for this slot
  };

  void reaped(pid_t pid, int status, bool stopping);

  const Server& server_;
  WorkerMain main_;
  Hooks hooks_;
  std::vector<Worker> workers_;
};

}  // namespace tcplab
