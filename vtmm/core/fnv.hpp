#pragma once
// FNV-1a, 64-bit (Fowler, Noll, Vo; the offset basis and prime of the
// published parameters): one definition for every hash of bytes in the
// project (spec and image hashes, the key-value servers' tables, YCSB's key
// scrambling).
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace vtmm {

inline constexpr uint64_t kFnvOffsetBasis = 0xcbf29ce484222325ULL;
inline constexpr uint64_t kFnvPrime = 1099511628211ULL;
// A digit short of the offset basis above (1469598103934665603, not
// 14695981039346656037): the start that spec hashes, run keys and guest
// image hashes have always used. It stays, so that every run key already in
// a record, a results directory or a cache keeps meaning the same run.
inline constexpr uint64_t kRunKeyBasis = 1469598103934665603ULL;

// Hashes `bytes`, continuing from `h` (so several inputs chain).
inline uint64_t fnv1a64(std::string_view bytes, uint64_t h = kFnvOffsetBasis) {
  for (unsigned char c : bytes) h = (h ^ c) * kFnvPrime;
  return h;
}

// The eight bytes of v, low byte first (YCSB's Utils.fnvhash64 before its Math.abs).
inline uint64_t fnv1a64_le(uint64_t v) {
  uint64_t h = kFnvOffsetBasis;
  for (int i = 0; i < 8; ++i) {
    h = (h ^ (v & 0xff)) * kFnvPrime;
    v >>= 8;
  }
  return h;
}

// A hash as 16 lower-case hex digits.
inline std::string hex64(uint64_t h) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace vtmm
