#pragma once
// Where another process's pages are, and moving them between NUMA nodes:
// move_pages(2) by system call (the static daemon has no libnuma), as
// vtmm run's soft-dirty round trip (GuestRam) and the daemon's mechanisms
// (ProcessMemory) both use it on QEMU's guest RAM.
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace vtmm::platform {

inline constexpr int kMoveAll = 1 << 2;  // MPOL_MF_MOVE_ALL: also pages another process maps

// The node each page of process `pid` is on (status[i] >= 0), or a negative
// errno for that page (-ENOENT: not backed). Returns false, with errno set,
// when the call itself fails.
inline bool query_nodes(int pid, std::vector<void*>& pages, std::vector<int>& status) {
  status.assign(pages.size(), -ENOENT);
  if (pages.empty()) return true;
  return ::syscall(SYS_move_pages, pid, pages.size(), pages.data(), nullptr, status.data(), 0) == 0;
}

// Moves `pages` of process `pid` to `node` (PM_Linux: the kernel unmaps,
// copies and remaps each). status[i]: the node the page is on afterwards, or
// a negative errno for it; when the call itself fails, every page gets
// -errno. Returns the call's result: pages left unmigrated (>= 0), or -1.
inline long move_to_node(int pid, std::vector<void*>& pages, int node, std::vector<int>& status) {
  status.assign(pages.size(), 0);
  if (pages.empty()) return 0;
  const std::vector<int> nodes(pages.size(), node);
  const long rc = ::syscall(SYS_move_pages, pid, pages.size(), pages.data(), nodes.data(),
                            status.data(), kMoveAll);
  if (rc < 0) status.assign(pages.size(), -errno);
  return rc;
}

}  // namespace vtmm::platform
