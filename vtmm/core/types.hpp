#pragma once
// Sizes, ids and tiers shared by every layer. Page numbers are 32-bit: a VM of
// up to 16 TiB at 4 KiB pages, and half the metadata of 64-bit ids.
#include <cstdint>

namespace vtmm {

inline constexpr uint32_t kPageShift = 12;
inline constexpr uint64_t kPageSize = uint64_t{1} << kPageShift;
inline constexpr uint32_t kLineShift = 6;
inline constexpr uint64_t kLineSize = uint64_t{1} << kLineShift;
inline constexpr uint32_t kLinesPerPage = 1u << (kPageShift - kLineShift);
inline constexpr uint32_t kPtesPerPage = 512;  // x86-64: 8-byte entries in a 4 KiB table
inline constexpr uint32_t kHugeShift = 21;     // 2 MiB
inline constexpr uint64_t kHugeSize = uint64_t{1} << kHugeShift;
inline constexpr uint32_t kPagesPerHuge = 1u << (kHugeShift - kPageShift);

// 128-bit products for multiply-shift range reduction (GCC/Clang extension).
__extension__ typedef unsigned __int128 u128;

using Gpa = uint32_t;  // guest-physical page number (4 KiB)
using Vpn = uint32_t;  // guest-virtual page number (4 KiB)
inline constexpr uint32_t kNone = UINT32_MAX;

enum class Tier : uint8_t { Fast = 0, Slow = 1 };
inline constexpr int kTiers = 2;
inline constexpr const char* tier_name(Tier t) { return t == Tier::Fast ? "fast" : "slow"; }

// What one data access does to its cache line. A read-modify-write is both.
enum AccessKind : uint8_t { kRead = 1, kWrite = 2, kReadWrite = 3 };

inline constexpr uint64_t pages_for(uint64_t bytes) {
  return (bytes + kPageSize - 1) >> kPageShift;
}

}  // namespace vtmm
