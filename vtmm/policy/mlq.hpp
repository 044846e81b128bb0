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

// One page's MLQ state in 4 bytes (the tracker keeps one per PTE; at 10 M
// pages every byte is 10 MB): the window a period or probe ends, modulo
// 2^24, in bits 0-23; the level (0..15) in 24-27; the state in 28-29; the
// last Seen in 30-31. The window is compared to the current one as a
// signed 24-bit distance: a Dnd period is at most 2^14 windows (16 levels)
// and the tracker visits a page no later than the window its period or probe
// ends, so every distance it compares is far inside +-2^23.
class MlqPage {
 public:
  enum State : uint8_t { Watch = 0, Probe = 1, Late = 2, Dnd = 3 };
  uint8_t level() const { return static_cast<uint8_t>((w_ >> 24) & 0xf); }
  State state() const { return static_cast<State>((w_ >> 28) & 3); }
  uint8_t last() const { return static_cast<uint8_t>(w_ >> 30); }
  // In a do-not-disturb period or a probe (Dnd and Probe share bit 28):
  // the states in which a page changes without being seen.
  bool active() const { return (w_ >> 28) & 1; }
  // How many windows after k the period or probe ends (negative: before k).
  int32_t until_after(uint32_t k) const {
    return static_cast<int32_t>(static_cast<uint32_t>((w_ - k) << 8)) >> 8;
  }
  uint32_t until_near(uint32_t k) const { return k + static_cast<uint32_t>(until_after(k)); }
  void set_level(uint8_t l) { w_ = (w_ & ~(0xfu << 24)) | (uint32_t{l} & 0xfu) << 24; }
  void set_state(State s) { w_ = (w_ & ~(3u << 28)) | uint32_t{s} << 28; }
  void set_last(uint8_t seen) { w_ = (w_ & ~(3u << 30)) | (uint32_t{seen} & 3u) << 30; }
  void set_until(uint32_t k) { w_ = (w_ & ~kUntil) | (k & kUntil); }

 private:
  static constexpr uint32_t kUntil = (1u << 24) - 1;
  uint32_t w_ = 0;  // Watch, level 0, nothing seen
};
static_assert(sizeof(MlqPage) == 4);

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
  if (p.state() == MlqPage::Dnd) {
    if (p.until_after(k) > 0) return {false, false};
    return {false, true};  // last window of the period: clear, then probe next window
  }
  return {true, true};
}

// After the scan (or when the page's table was not logged: seen = None).
// Returns the bits to clear (true: clear A/D now).
inline bool mlq_update(MlqPage& p, uint32_t k, Seen seen, const MlqConfig& cfg) {
  const MlqPage::State st = p.state();
  if (st == MlqPage::Dnd) {
    if (p.until_after(k) > 0) return false;
    p.set_state(MlqPage::Probe);
    p.set_until(k + 1);
    return true;
  }
  if (seen == Seen::None) {
    if (st == MlqPage::Probe && p.until_after(k) <= 0) p.set_state(MlqPage::Late);
    return false;  // bits are already clear
  }
  p.set_last(static_cast<uint8_t>(seen));
  if (!cfg.enabled) {
    p.set_level(0);
    p.set_state(MlqPage::Watch);
    return true;
  }
  const int32_t since = -p.until_after(k);  // windows since the probe window
  if (st == MlqPage::Probe && since == 0) {
    p.set_level(static_cast<uint8_t>(std::min<int>(p.level() + 1, cfg.levels - 1)));
  } else if (st == MlqPage::Late || (st == MlqPage::Probe && since > 0)) {
    p.set_level(static_cast<uint8_t>(std::max<int>(p.level() - 1, 0)));
  }
  const uint32_t len = dnd_windows(p.level());
  if (len == 0) {
    p.set_state(MlqPage::Probe);
    p.set_until(k + 1);
    return true;
  }
  p.set_state(MlqPage::Dnd);
  p.set_until(k + len);
  return false;  // left set through the period
}

}  // namespace vtmm::policy
