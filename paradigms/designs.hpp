#pragma once
// The designs tcplab-server can run, in one table: --list, README.md and REPORT.md draw their
// one-line descriptions from it (tests/docs_test.cpp keeps README in step).
#include <span>
#include <string_view>

#include "server.hpp"

namespace tcplab {

struct Design {
  std::string_view name;     // the command-line name
  std::string_view unp;      // where it is in UNP vol. 1 ch. 30 ("beyond": not in the book)
  bool pooled;               // a fixed pool of workers (--workers applies)
  bool processes;            // workers are processes (else threads, or none)
  std::string_view summary;  // one line
  int (*run)(Server&);
  bool reuseport = false;  // main() sets SO_REUSEPORT on the listener: the design binds more
};

std::span<const Design> designs();
const Design* find_design(std::string_view name);

int run_iterative(Server&);
int run_fork(Server&);
int run_prefork(Server&);
int run_prefork_fcntl(Server&);
int run_prefork_mutex(Server&);
int run_prefork_fdpass(Server&);
int run_thread(Server&);
int run_prethread_mutex(Server&);
int run_prethread_dispatch(Server&);
int run_epoll(Server&);
int run_prefork_reuseport(Server&);
int run_prefork_epoll_exclusive(Server&);
int run_loop_per_thread(Server&);

}  // namespace tcplab
