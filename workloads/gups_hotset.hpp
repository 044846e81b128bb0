#pragma once
// Where GUPS's hot set sits in its table: one rule for the simulator's gups
// (workloads/gups.cpp) and the guest agent's native one (agent/gups_task.cpp),
// so a spec that names gups draws the same hot set on both platforms.
#include <algorithm>
#include <cstdint>
#include <string>

#include "vtmm/core/rng.hpp"

namespace vtmm::workloads {

struct GupsHotSet {
  uint64_t base = 0, elems = 1;  // in 8-byte table elements
};

// Whether `at` names a placement gups_hot_set knows.
inline bool gups_hot_offset_ok(const std::string& at) {
  return at == "random" || at == "start" || at == "end";
}

// `elems` table elements, the hot set hot_fraction of them (at least one):
// "random" puts it anywhere in the table, page aligned, drawn from the seed
// (a first-touch policy gets no free help from a hot set where the table
// starts); "start" and "end" at either end.
inline GupsHotSet gups_hot_set(uint64_t elems, double hot_fraction, const std::string& at,
                               uint64_t seed) {
  GupsHotSet h;
  h.elems = std::max<uint64_t>(1, static_cast<uint64_t>(static_cast<double>(elems) * hot_fraction));
  if (at == "random") {
    Rng placement(seed ^ 0x6f75707321ULL);
    const uint64_t slots = (elems - h.elems) / 512 + 1;
    h.base = placement.below(slots) * 512;
  } else if (at == "end") {
    h.base = elems - h.elems;
  }
  return h;
}

// One native GUPS update of `table` (`elems` elements): an element of the
// hot set with probability hot_probability, else any element, XORed with a
// random value atomically (threads sharing the table never lose one).
// Returns the value applied.
inline uint64_t gups_update(uint64_t* table, uint64_t elems, const GupsHotSet& hot,
                            double hot_probability, Rng& rng) {
  const uint64_t r = rng.next();
  const bool is_hot = rng.uniform() < hot_probability;
  const uint64_t at = is_hot ? hot.base + r % hot.elems : r % elems;
  __atomic_fetch_xor(&table[at], r, __ATOMIC_RELAXED);
  return r;
}

}  // namespace vtmm::workloads
