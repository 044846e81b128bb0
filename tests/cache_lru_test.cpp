// The caches' true LRU against the plainest one there is: a list per set,
// most recent first, moved to the front on use. Random traces over a few
// more lines than ways, for every way count up to 16; the LLC and the TLB
// arrays must hit, miss and evict exactly as the list does. A faster
// replacement of either cache's internals must keep these passing.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "vtmm/core/rng.hpp"
#include "vtmm/sim/llc.hpp"
#include "vtmm/sim/tlb.hpp"

namespace vtmm {
namespace {

// One set of true LRU as a list: returns whether `key` hit and, on a miss,
// the key evicted (or `none` while the set has room).
struct ListLru {
  uint32_t ways;
  std::vector<uint64_t> keys;  // most recent first
  bool access(uint64_t key, uint64_t none, uint64_t& evicted) {
    evicted = none;
    auto it = std::find(keys.begin(), keys.end(), key);
    const bool hit = it != keys.end();
    if (hit)
      keys.erase(it);
    else if (keys.size() == ways) {
      evicted = keys.back();
      keys.pop_back();
    }
    keys.insert(keys.begin(), key);
    return hit;
  }
};

TEST(CacheLru, LlcMatchesAListLruAtEveryWayCount) {
  for (uint32_t ways = 1; ways <= 16; ++ways) {
    SCOPED_TRACE(ways);
    sim::Llc llc;
    llc.init(uint64_t{ways} * 64, ways);  // one set
    ListLru ref{ways, {}};
    Rng rng(ways);
    for (int i = 0; i < 20000; ++i) {
      const uint64_t line = rng.below(ways + 3);
      const bool write = rng.below(4) == 0;
      uint64_t evicted;
      const bool hit = ref.access(line, sim::Llc::kEmpty, evicted);
      const sim::Llc::Result r = llc.access(line, write);
      ASSERT_EQ(r.hit, hit) << "access " << i;
      if (r.evicted_dirty != sim::Llc::kEmpty) {
        ASSERT_EQ(r.evicted_dirty, evicted) << "access " << i;
      }
    }
  }
}

TEST(CacheLru, TlbArrayMatchesAListLruAcrossFlushes) {
  for (uint32_t ways : {1u, 4u, 12u, 16u}) {
    SCOPED_TRACE(ways);
    sim::TlbArray tlb;
    tlb.init(ways, ways);  // one set
    ListLru ref{ways, {}};
    Rng rng(ways + 100);
    for (int i = 0; i < 20000; ++i) {
      if (rng.below(500) == 0) {
        tlb.flush();
        // A flushed entry keeps its place in the order but matches nothing:
        // in the list it becomes a key no lookup uses.
        for (uint64_t& k : ref.keys) k += 1000000;
      }
      const uint64_t key = rng.below(ways + 3);
      uint64_t evicted;
      const bool hit = ref.access(key, ~0ull, evicted);
      if (tlb.lookup(key) != nullptr) {
        ASSERT_TRUE(hit) << "access " << i;
      } else {
        ASSERT_FALSE(hit) << "access " << i;
        ASSERT_EQ(tlb.insert(key, false)->key, key);
      }
    }
  }
}

}  // namespace
}  // namespace vtmm
