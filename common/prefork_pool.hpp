#pragma once
// The manager of the prefork designs whose children accept for themselves (UNP's serv02,
// serv03, serv04 in paradigms/prefork.cpp, and the event-loop pools beyond ch. 30): fork N
// children that each run the worker body, then supervise them until a stop is asked for.
#include <cstddef>
#include <functional>

#include "server.hpp"

namespace tcplab {

// Each child runs `worker(slot)` (in the child, after fork) and exits when it returns.
int run_process_pool(Server& server, const std::function<void(std::size_t slot)>& worker);

}  // namespace tcplab
