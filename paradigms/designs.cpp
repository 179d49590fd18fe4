#include "designs.hpp"

#include <algorithm>
#include <array>

namespace tcplab {

namespace {
constexpr std::array kDesigns = {
    Design{"iterative", "30.4", false, false,
           "one connection at a time, in the one process (the baseline)", run_iterative},
    Design{"fork", "30.5", false, true,
           "a new process per connection; children reaped on SIGCHLD", run_fork},
    Design{"prefork", "30.6", true, true,
           "N children, each blocks in accept(), no lock", run_prefork},
    Design{"prefork-fcntl", "30.7", true, true,
           "N children, fcntl() record lock around accept()", run_prefork_fcntl},
    Design{"prefork-mutex", "30.8", true, true,
           "N children, robust process-shared pthread mutex around accept()", run_prefork_mutex},
    Design{"prefork-fdpass", "30.9", true, true,
           "the parent accepts and passes each descriptor to a child (SCM_RIGHTS)", run_prefork_fdpass},
    Design{"thread", "30.10", false, false,
           "a new thread per connection", run_thread},
    Design{"prethread-mutex", "30.11", true, false,
           "N threads, mutex around accept()", run_prethread_mutex},
    Design{"prethread-dispatch", "30.12", true, false,
           "the main thread accepts and hands descriptors to N threads through a bounded queue",
           run_prethread_dispatch},
    // Beyond chapter 30: event loops, the designs of today's servers.
    Design{"epoll", "beyond", false, false,
           "one thread, non-blocking sockets, one epoll loop (Redis's shape)", run_epoll},
    Design{"prefork-reuseport", "beyond", true, true,
           "N children, each with its own SO_REUSEPORT listener and an epoll loop",
           run_prefork_reuseport, /*reuseport=*/true},
    Design{"prefork-epoll-exclusive", "beyond", true, true,
           "N children share the listener, each in its own epoll with EPOLLEXCLUSIVE (nginx)",
           run_prefork_epoll_exclusive},
    Design{"loop-per-thread", "beyond", true, false,
           "the main thread accepts and hands connections round-robin to N event-loop threads (muduo)",
           run_loop_per_thread},
};
}  // namespace

std::span<const Design> designs() { return kDesigns; }

const Design* find_design(std::string_view name) {
  auto it = std::find_if(kDesigns.begin(), kDesigns.end(), [&](const Design& d) { return d.name == name; });
  return it == kDesigns.end() ? nullptr : &*it;
}

}  // namespace tcplab
