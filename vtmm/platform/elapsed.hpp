#pragma once
// Wall-clock seconds since a steady_clock point: the one helper the vm
// platform's timings (boot, workload, ticks, moves) use.
#include <chrono>

namespace vtmm::platform {

inline double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace vtmm::platform
