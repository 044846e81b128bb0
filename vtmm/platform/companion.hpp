#pragma once
// The guest companion module's interface (guest/vtmm_gpt: /proc/vtmm_gpt and
// /proc/vtmm_hint), header-only so that the agent, vtmm-tierd and the host
// library share one reading of it: the record layouts, x86-64 PTE bits, one
// walk, and the hint faults' two calls.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <span>
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

// Reads the module's answer from offset 0 into `out` (as many bytes as it
// holds): the bytes read, or -errno.
template <class Record>
inline ssize_t read_records(int fd, std::vector<Record>& out) {
  auto* p = reinterpret_cast<char*>(out.data());
  const size_t cap = out.size() * sizeof(Record);
  size_t got = 0;
  while (got < cap) {
    const ssize_t n = ::pread(fd, p + got, cap - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -errno;
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  return static_cast<ssize_t>(got);
}

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
  const ssize_t got = read_records(fd, out);
  out.resize(got < 0 ? 0 : static_cast<size_t>(got) / sizeof(CompanionTable));
  return 0;
}

// NUMA hint faults (guest/vtmm_gpt/hint_faults.c).
inline constexpr const char* kHintPath = "/proc/vtmm_hint";
inline constexpr uint32_t kHintMaxProtect = 16384;  // addresses per request
inline constexpr uint32_t kHintMaxFaults = 65536;   // faults held between drains
// One fault: the page's virtual address and when (CLOCK_MONOTONIC ns). A
// record whose va is kHintLost counts, in ns, the faults the module lost.
struct HintFaultRecord {
  uint64_t va, ns;
};
inline constexpr uint64_t kHintLost = ~uint64_t{0};

// What a hint request does to pid's pages at `vas`.
enum class HintOp : uint32_t {
  Protect = 0,  // fault on the next access (none: stop recording pid's faults)
  Restore = 1   // accessible again, as the fault would make them
};
// One request (at most kHintMaxProtect addresses). 0, or the errno.
inline int hint_request(int fd, int pid, HintOp op, std::span<const uint64_t> vas) {
  if (vas.size() > kHintMaxProtect) return EINVAL;
  std::vector<uint64_t> buf(2 + vas.size());
  const uint32_t head[4] = {static_cast<uint32_t>(pid), static_cast<uint32_t>(vas.size()),
                            static_cast<uint32_t>(op), 0};
  std::memcpy(buf.data(), head, sizeof head);
  std::copy(vas.begin(), vas.end(), buf.begin() + 2);
  const size_t bytes = buf.size() * sizeof(uint64_t);
  return ::pwrite(fd, buf.data(), bytes, 0) == static_cast<ssize_t>(bytes) ? 0 : errno;
}

// The faults since the last drain into `out`. 0, or the errno.
inline int hint_drain(int fd, std::vector<HintFaultRecord>& out) {
  out.resize(kHintMaxFaults + 1);
  const ssize_t got = read_records(fd, out);
  if (got < 0) {
    out.clear();
    return static_cast<int>(-got);
  }
  out.resize(static_cast<size_t>(got) / sizeof(HintFaultRecord));
  return 0;
}

}  // namespace vtmm::platform
