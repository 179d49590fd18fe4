#pragma once
// step(): the decision both engines make each time a connection's buffer changes, as a pure
// function — serve_connection() (blocking) and the EventLoop (non-blocking) differ only in how
// they wait, read and write, not in what they answer. Given the bytes read so far and where the
// connection stands, it says what to send and what comes after; the caller does the I/O, the
// counting and the --work-us.
#include <cstdint>
#include <string>
#include <string_view>

#include "connection.hpp"
#include "protocol.hpp"

namespace tcplab {

enum class Action {
  read,    // no whole request yet: read more, then step again
  close,   // close now: idle between requests while the server stops
  crash,   // --fault-inject and "crash": abort the process (crash_on_request())
  refuse,  // count_refused(), send `head` (the whole error answer), then linger
  answer,  // busy_work(), send `head` and `body` bytes of the pattern, then `after`
};

// Once an answer is written: read the next request, close, or linger (read and discard what
// the client still sends, so that closing with unread input does not RST the answer away).
enum class After { next, close, linger };

struct Step {
  Action action = Action::read;
  std::string head;           // refuse, answer: the bytes to send first
  std::uint64_t body = 0;     // answer: bytes of body after `head`
  std::size_t consumed = 0;   // answer: bytes of input the request used; drop them from the buffer
  After after = After::next;  // refuse, answer
  protocol::Error error = protocol::Error::none;  // refuse: what to count
};

// `input`: the unanswered bytes in the connection's buffer. `answered`: it has answered a
// request already (one accepted before a stop still gets its first answer). `stopping`: the
// server is stopping, so the connection is not kept alive.
Step step(std::string_view input, bool answered, bool stopping, const ServeConfig& config);

}  // namespace tcplab
