// prefork-fcntl: prefork plus an fcntl() record lock around accept() (UNP 30.7, serv03).
//
// Only the child holding the lock waits in accept(); the others wait for the lock in the
// kernel's file-lock code. Stevens needed this where accept() could not be called by several
// processes at once (SVR4 streams) and to tame the herd. The lock is a temporary file that the
// parent creates and unlinks before forking; every child inherits the descriptor.
#include "designs.hpp"
#include "prefork.hpp"

namespace tcplab {

int run_prefork_fcntl(Server& server) {
  FcntlLock lock;
  return run_prefork_with(server, lock);
}

}  // namespace tcplab
