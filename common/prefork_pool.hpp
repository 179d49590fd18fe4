#pragma once
// The manager of the event-loop pools whose children accept for themselves (beyond UNP ch. 30:
// prefork-reuseport, prefork-epoll-exclusive): fork N children that each run the worker body,
// then supervise them until a stop is asked for (ProcessPool::start and manage). prefork.cpp
// writes the same two steps out itself, as serv02 does.
#include <cstddef>
#include <functional>

#include "server.hpp"

namespace tcplab {

// Each child runs `worker(slot)` (in the child, after fork) and exits when it returns.
int run_process_pool(Server& server, const std::function<void(std::size_t slot)>& worker);

}  // namespace tcplab
