#pragma once
// A vCPU's TLB: an L1 for 4 KiB pages, an L1 for 2 MiB pages and a shared L2,
// each set-associative with true LRU (move-to-front within a set).
//
// An entry caches the whole guest-virtual -> host translation and whether
// the translation was already used for a write. As on hardware, the page
// walker sets guest-PTE and EPT A/D bits only when it fills an entry (or when a
// write first goes through a clean entry), so bits cleared behind a live entry
// stay clear until the entry is flushed or evicted.
#include <cstdint>
#include <cstring>
#include <vector>

#include "vtmm/core/types.hpp"

namespace vtmm::sim {

struct TlbEntry {
  uint64_t key = ~uint64_t{0};  // vpn for 4 KiB, (vpn >> 9) | kHugeBit for 2 MiB
  uint32_t gen = 0;             // valid only in the array's current generation
  uint8_t dirty = 0;
};

class TlbArray {
 public:
  void init(uint32_t entries, uint32_t ways) {
    ways_ = ways == 0 ? 1 : ways;
    sets_ = entries / ways_ == 0 ? 1 : entries / ways_;
    mask_ = (sets_ & (sets_ - 1)) == 0 ? sets_ - 1 : 0;  // real TLBs have 2^k sets: index by mask
    e_.assign(static_cast<size_t>(sets_) * ways_, TlbEntry{});
  }
  TlbEntry* lookup(uint64_t key) {
    TlbEntry* set = &e_[set_of(key) * ways_];
    for (uint32_t w = 0; w < ways_; ++w) {
      if (set[w].key == key && set[w].gen == gen_) {
        if (w != 0) {
          TlbEntry hit = set[w];
          std::memmove(set + 1, set, w * sizeof(TlbEntry));
          set[0] = hit;
        }
        return set;
      }
    }
    return nullptr;
  }
  // The live entry for key, if any, without touching the LRU order.
  TlbEntry* peek(uint64_t key) {
    TlbEntry* set = &e_[set_of(key) * ways_];
    for (uint32_t w = 0; w < ways_; ++w)
      if (set[w].key == key && set[w].gen == gen_) return set + w;
    return nullptr;
  }
  TlbEntry* insert(uint64_t key, uint8_t dirty) {
    TlbEntry* set = &e_[set_of(key) * ways_];
    std::memmove(set + 1, set, (ways_ - 1) * sizeof(TlbEntry));
    set[0] = TlbEntry{key, gen_, dirty};
    return set;
  }
  // O(1): entries of older generations no longer match. (A flushed entry keeps
  // its LRU slot until replaced, which only delays its eviction.)
  void flush() {
    if (++gen_ == 0) {  // wrapped: really clear once every 2^32 flushes
      std::fill(e_.begin(), e_.end(), TlbEntry{});
      gen_ = 1;
    }
  }

 private:
  uint64_t set_of(uint64_t key) const { return mask_ ? (key & mask_) : key % sets_; }
  uint32_t sets_ = 1, ways_ = 1, gen_ = 1, mask_ = 0;
  std::vector<TlbEntry> e_;
};

inline constexpr uint64_t kHugeKeyBit = uint64_t{1} << 63;

struct Tlb {
  TlbArray l1, l1_huge, l2;
  // A write went through the L1 entry e after an assist set the D bits: the
  // translation is dirty now wherever it is cached (the assist re-walked; the
  // L2 copy must not refill a clean L1 entry and make the next write assist
  // again).
  void mark_dirty(TlbEntry* e) {
    e->dirty = 1;
    if (TlbEntry* in_l2 = l2.peek(e->key)) in_l2->dirty = 1;
  }
  void flush() {
    l1.flush();
    l1_huge.flush();
    l2.flush();
  }
};

}  // namespace vtmm::sim
