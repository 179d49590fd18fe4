#pragma once
// The descriptors this process has open, from /proc/self/fd: take one list before and one after
// the code under test, and any difference is a descriptor it leaked or closed that it should not.
#include <dirent.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

namespace tcplab::test {

inline std::vector<int> open_fds() {
  std::vector<int> fds;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return fds;
  const int own = ::dirfd(dir);  // the listing's own descriptor is not one of ours
  while (dirent* e = ::readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    int fd = std::atoi(e->d_name);
    if (fd != own) fds.push_back(fd);
  }
  ::closedir(dir);
  std::sort(fds.begin(), fds.end());
  return fds;
}

inline std::string fd_list(const std::vector<int>& fds) {
  std::string s;
  for (int fd : fds)
    s += (s.empty() ? "" : " ") + std::to_string(fd);
  return "[" + s + "]";
}

}  // namespace tcplab::test
