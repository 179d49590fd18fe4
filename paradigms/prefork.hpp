#pragma once
// prefork and the two designs that are prefork plus a lock around accept() (UNP 30.6-30.8):
// the same pool and the same child; only the lock differs, as Stevens swaps my_lock_init and
// my_lock_wait between serv03's builds.
#include "accept_lock.hpp"
#include "server.hpp"

namespace tcplab {

// Forks the pool; each child takes `lock`, accepts, lets it go, serves, and again.
int run_prefork_with(Server& server, AcceptLock& lock);

}  // namespace tcplab
