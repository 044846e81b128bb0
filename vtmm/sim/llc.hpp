#pragma once
// The shared last-level cache: set-associative, true LRU, write-back,
// write-allocate. Lines are tagged by (VM, guest-physical line): a migration
// keeps the GPA, and the copy itself goes through the cache on real hosts, so
// cached lines stay valid across it; a dirty line is written back to whichever
// tier backs its page when it is evicted. Sets are chosen by a hash of the
// line address, as real LLC slice/set hashing spreads addresses.
#include <cstdint>
#include <vector>

#include "vtmm/core/huge_alloc.hpp"
#include "vtmm/core/types.hpp"

namespace vtmm::sim {

class Llc {
 public:
  static constexpr uint64_t kDirty = uint64_t{1} << 63;
  static constexpr uint64_t kEmpty = ~uint64_t{0} >> 1;

  void init(uint64_t bytes, uint32_t ways) {
    ways_ = ways == 0 ? 1 : ways;
    uint64_t lines = bytes / 64;
    sets_ = lines / ways_ == 0 ? 1 : lines / ways_;
    tags_.assign(sets_ * ways_, kEmpty);
  }

  struct Result {
    bool hit;
    uint64_t evicted_dirty;  // line address written back, or kEmpty
  };

  // line: (vm << 40) | guest-physical line number.
  // One pass finds the line and shifts the ways in front of it down by one,
  // so the move to the front needs no second pass (or memmove call).
  Result access(uint64_t line, bool write) {
    uint64_t* set = &tags_[set_of(line) * ways_];
    const uint64_t dirty = write ? kDirty : 0;
    uint64_t carry = set[0];
    if ((carry & ~kDirty) == line) {
      set[0] = carry | dirty;
      return {true, kEmpty};
    }
    for (uint32_t w = 1; w < ways_; ++w) {
      const uint64_t t = set[w];
      set[w] = carry;
      carry = t;
      if ((t & ~kDirty) == line) {
        set[0] = t | dirty;
        return {true, kEmpty};
      }
    }
    set[0] = line | dirty;  // carry is the old LRU way: the victim
    return {false, (carry & kDirty) ? (carry & ~kDirty) : kEmpty};
  }

  uint64_t lines() const { return tags_.size(); }

  // Brings the set `line` maps to into the host's caches ahead of access():
  // the tag array is megabytes, so a set is rarely cached when its turn comes.
  void prefetch(uint64_t line) const {
    const uint64_t* set = &tags_[set_of(line) * ways_];
    __builtin_prefetch(set);
    __builtin_prefetch(set + ways_ - 1);
  }

 private:
  uint64_t set_of(uint64_t line) const {
    const uint64_t h = line * 0x9e3779b97f4a7c15ULL;
    return static_cast<uint64_t>((static_cast<u128>(h) * sets_) >> 64);
  }
  uint64_t sets_ = 1;
  uint32_t ways_ = 1;
  // Megabytes read at random sets: on 2 MiB host pages (huge_alloc.hpp).
  std::vector<uint64_t, HugePageAllocator<uint64_t>> tags_;
};

}  // namespace vtmm::sim
