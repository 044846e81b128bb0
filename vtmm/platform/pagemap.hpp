#pragma once
// /proc/PID/pagemap: one 64-bit entry per virtual page
// (Documentation/admin-guide/mm/pagemap.rst): bit 63 present, bit 55
// soft-dirty, bits 0-54 the frame number (reads as zero without
// CAP_SYS_ADMIN). Read by the host daemon's mechanisms (ProcessMemory),
// `vtmm doctor`, and vtmm-tierd's check of the guest companion's frames.
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <string>

namespace vtmm::platform {

inline constexpr uint64_t kPagemapPresent = uint64_t{1} << 63;
inline constexpr uint64_t kPagemapSoftDirty = uint64_t{1} << 55;
inline constexpr uint64_t kPagemapPfnMask = (uint64_t{1} << 55) - 1;
inline constexpr uint64_t kPagemapPageBytes = 4096;

// The entry of the page holding `va`, from an open pagemap (0 when unreadable).
inline uint64_t pagemap_entry(int fd, uint64_t va) {
  uint64_t e = 0;
  const auto at = static_cast<off_t>(va / kPagemapPageBytes * 8);
  return ::pread(fd, &e, 8, at) == 8 ? e : 0;
}

// The same for process `pid` ("self" for this one), opening its pagemap.
inline uint64_t pagemap_entry(const std::string& pid, uint64_t va) {
  const int fd = ::open(("/proc/" + pid + "/pagemap").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  const uint64_t e = pagemap_entry(fd, va);
  ::close(fd);
  return e;
}

// The frame behind an entry: 0 when the page is absent or frames are hidden.
inline uint64_t pagemap_pfn(uint64_t e) { return (e & kPagemapPresent) ? e & kPagemapPfnMask : 0; }

}  // namespace vtmm::platform
