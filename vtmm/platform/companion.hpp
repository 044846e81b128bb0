#pragma once
// The guest companion module's interface (guest/vtmm_gpt, /proc/vtmm_gpt),
// header-only so that the agent, vtmm-tierd and the host library share one
// reading of it: the record layout, x86-64 PTE bits, and one walk.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

namespace vtmm::platform {

inline constexpr const char* kCompanionPath = "/proc/vtmm_gpt";
inline constexpr uint32_t kCompanionMaxTables = 4096;  // the module's bound per walk
inline constexpr uint32_t kCompanionPtes = 512;
// The companion's record of one leaf table: the first virtual address it
// maps, its frame, its 512 PTEs as the CPU wrote them.
struct CompanionTable {
  uint64_t va, pfn, pte[kCompanionPtes];
};
// What "PID MASK" clears.
inline constexpr int kClearAccessed = 1, kClearDirty = 2;

// x86-64 PTE bits (Intel SDM vol. 3A, table 4-19).
inline constexpr uint64_t kPtePresent = 1, kPteAccessed = 1 << 5, kPteDirty = 1 << 6;
inline constexpr uint64_t kPteFrameBits = 0x000ffffffffff000ull;

// One walk of `pid` through the open companion `fd` (O_RDWR) into `out`
// (at most kCompanionMaxTables records). Returns 0, or the errno of the
// walk's request (ESRCH, EINVAL: no such process or no memory to walk).
inline int companion_walk(int fd, int pid, int mask, std::vector<CompanionTable>& out) {
  const std::string cmd = std::to_string(pid) + " " + std::to_string(mask);
  out.resize(kCompanionMaxTables);
  if (::pwrite(fd, cmd.data(), cmd.size(), 0) != static_cast<ssize_t>(cmd.size())) {
    const int err = errno;
    out.clear();
    return err;
  }
  auto* p = reinterpret_cast<char*>(out.data());
  const size_t cap = out.size() * sizeof(CompanionTable);
  size_t got = 0;
  while (got < cap) {
    const ssize_t n = ::pread(fd, p + got, cap - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  out.resize(got / sizeof(CompanionTable));
  return 0;
}

}  // namespace vtmm::platform
