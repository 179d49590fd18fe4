#pragma once
// The worker loop of every design whose workers accept for themselves (prefork,
// prefork-fcntl, prefork-mutex, prethread-mutex): lock, accept, unlock, serve, again. The
// designs differ only in the lock they pass (UNP's serv02, serv03, serv04 and serv07).
// Returns when the listener is shut down or a stop is requested.
#include "accept_lock.hpp"
#include "connection.hpp"

namespace tcplab {

void accept_loop(int listen_fd, AcceptLock& lock, WorkerSlot& slot, const ServeConfig& config);

}  // namespace tcplab
