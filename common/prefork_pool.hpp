#pragma once
// The manager of the three prefork designs whose children accept for themselves (UNP's serv02,
// serv03, serv04): fork N children that each run accept_loop() with `lock`, then supervise them
// until a stop is asked for. Only the lock differs between the three.
#include "accept_lock.hpp"
#include "server.hpp"

namespace tcplab {

int run_prefork_pool(Server& server, AcceptLock& lock);

}  // namespace tcplab
