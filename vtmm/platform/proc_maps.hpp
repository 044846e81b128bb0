#pragma once
// A process's private anonymous writable mappings, from /proc/PID/maps: where
// QEMU keeps guest RAM (GuestRam) and a guest workload its data (vtmm-tierd
// --guest). Header-only: vtmm-tierd and the library share it.
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace vtmm::platform {

struct AnonMapping {
  uint64_t lo = 0, hi = 0;
  bool heap = false;  // the [heap] mapping (brk); the others have no name
};

// In address order; empty when the file cannot be read (no such process).
inline std::vector<AnonMapping> anonymous_mappings(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/maps");
  std::vector<AnonMapping> out;
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string range, perms, off, dev, ino, path;
    f >> range >> perms >> off >> dev >> ino >> path;
    if (perms != "rw-p" || ino != "0" || !(path.empty() || path == "[heap]")) continue;
    const auto dash = range.find('-');
    out.push_back({std::stoull(range.substr(0, dash), nullptr, 16),
                   std::stoull(range.substr(dash + 1), nullptr, 16), path == "[heap]"});
  }
  return out;
}

}  // namespace vtmm::platform
