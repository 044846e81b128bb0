#pragma once
// vTMM's multi-level queue (MLQ): how long a page is left alone.
//
// A page at level L (0..7) is not disturbed for 2^(L-1) windows after it is
// seen (level 0: not at all): its PTE A/D bits are not read or cleared, and
// its history carries what it last did. At the end of that period its bits
// are cleared; if it is seen in the very next window it moves up one level,
// if it is seen only later it moves down one. Pages that stay hot climb and
// cost fewer A/D resets, rescans and PML entries. With the MLQ off every page
// stays at level 0 (cleared every window).
#include <algorithm>
#include <cstdint>

namespace vtmm::policy {

enum class Seen : uint8_t { None = 0, Read = 1, Write = 2 };

struct MlqPage {
  enum State : uint8_t { Watch = 0, Probe = 1, Late = 2, Dnd = 3 };
  uint32_t until = 0;  // Dnd: last window of the period; Probe: the probe window
  uint8_t level = 0;
  uint8_t state = Watch;
  uint8_t last = 0;  // Seen of the last observation, carried through Dnd
};

struct MlqConfig {
  bool enabled = true;
  uint8_t levels = 8;
};

// What the tracker does with one PTE in window k.
struct MlqAction {
  bool read_bits;   // look at A/D this window (else carry `last`)
  bool clear_bits;  // clear A/D after looking
};

inline uint32_t dnd_windows(uint8_t level) { return level == 0 ? 0 : 1u << (level - 1); }

// Before the scan: does the tracker look at this PTE in window k?
inline MlqAction mlq_plan(const MlqPage& p, uint32_t k) {
  if (p.state == MlqPage::Dnd) {
    if (k < p.until) return {false, false};
    return {false, true};  // last window of the period: clear, then probe next window
  }
  return {true, true};
}

// After the scan (or when the page's table was not logged: seen = None).
// Returns the bits to clear (true: clear A/D now).
inline bool mlq_update(MlqPage& p, uint32_t k, Seen seen, const MlqConfig& cfg) {
  if (p.state == MlqPage::Dnd) {
    if (k < p.until) return false;
    p.state = MlqPage::Probe;
    p.until = k + 1;
    return true;
  }
  if (seen == Seen::None) {
    if (p.state == MlqPage::Probe && k >= p.until) p.state = MlqPage::Late;
    return false;  // bits are already clear
  }
  p.last = static_cast<uint8_t>(seen);
  if (!cfg.enabled) {
    p.level = 0;
    p.state = MlqPage::Watch;
    return true;
  }
  if (p.state == MlqPage::Probe && k == p.until) {
    p.level = static_cast<uint8_t>(std::min<int>(p.level + 1, cfg.levels - 1));
  } else if (p.state == MlqPage::Late || (p.state == MlqPage::Probe && k > p.until)) {
    p.level = static_cast<uint8_t>(std::max<int>(p.level - 1, 0));
  }
  const uint32_t len = dnd_windows(p.level);
  if (len == 0) {
    p.state = MlqPage::Probe;
    p.until = k + 1;
    return true;
  }
  p.state = MlqPage::Dnd;
  p.until = k + len;
  return false;  // left set through the period
}

}  // namespace vtmm::policy
