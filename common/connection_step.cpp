#include "connection_step.hpp"

#include "connection_parts.hpp"

namespace tcplab {

namespace proto = protocol;

Step step(std::string_view input, bool answered, bool stopping, const ServeConfig& config) {
  proto::Parsed p = proto::parse(input, config.max_bytes);
  Step s;
  switch (p.status) {
    case proto::Status::need_more:
      s.action = input.empty() && answered && stopping ? Action::close : Action::read;
      return s;
    case proto::Status::error:
      if (config.fault_inject && is_crash_request(input)) {
        s.action = Action::crash;
        return s;
      }
      s.action = Action::refuse;
      s.head = proto::error_response(p.kind, p.error, config.max_bytes);
      s.after = After::linger;
      s.error = p.error;
      return s;
    case proto::Status::request:
      break;
  }
  proto::Request& r = p.request;
  if (stopping && r.kind == proto::Kind::http) r.keep_alive = false;
  s.action = Action::answer;
  s.head = proto::response_head(r);
  s.body = r.head ? 0 : r.bytes;
  s.consumed = p.consumed;
  // Pipelined requests after "Connection: close" are left unread: linger, or the RST they
  // cause could destroy the answer before the client reads it.
  s.after = r.keep_alive ? After::next : input.size() > p.consumed ? After::linger : After::close;
  return s;
}

}  // namespace tcplab
