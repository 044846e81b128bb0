#include "vtmm/policy/tracker.hpp"

#include <algorithm>
#include <array>
#include <bit>

namespace vtmm::policy {

void PmlGptTracker::attach(Mechanisms& m) {
  const uint32_t n = m.guest_pages();
  mlq_.assign(n, MlqPage{});
  is_gpt_.assign(n, 0);
  refs_.assign(n, 0);
  logged_.assign(n, 0);
  scanned_.assign((uint64_t{n} + 63) / 64, 0);
  prev_.clear();
  due_at_.clear();
  slot_.assign(n, kNone);
  m.set_pml(true);
}

uint32_t PmlGptTracker::slot_of(Gpa gpt) {
  if (slot_[gpt] == kNone) {
    slot_[gpt] = static_cast<uint32_t>(prev_.size() / kPtesPerPage);
    prev_.resize(prev_.size() + kPtesPerPage, kNone);
    due_at_.push_back(0);
  }
  return slot_[gpt];
}

void PmlGptTracker::window(Mechanisms& m, uint32_t k, std::vector<uint8_t>& seen, TrackStats& st) {
  ++st.windows;
  std::fill(seen.begin(), seen.end(), static_cast<uint8_t>(Seen::None));
  std::fill(scanned_.begin(), scanned_.end(), uint64_t{0});
  rearm_.clear();
  // The companion hands over page-table pages as the guest's tables grow.
  const auto gpts = m.gpt_pages();
  for (size_t i = watched_.size(); i < gpts.size(); ++i) {
    const Gpa g = gpts[i];
    if (g >= is_gpt_.size()) continue;  // never trust a guest-supplied GPA
    watched_.push_back(g);
    is_gpt_[g] = 1;
    rearm_.push_back(g);
  }
  // Logged page-table pages were walked this window (the walker's access
  // counts as a write for EPT dirty purposes): scan them.
  log_.clear();
  m.drain_pml(log_);
  st.pml_drained += log_.size();
  scan_.clear();
  for (Gpa g : log_) {
    if (g >= is_gpt_.size() || !is_gpt_[g] || logged_[g]) continue;
    logged_[g] = 1;
    seen[g] = static_cast<uint8_t>(Seen::Write);
    scan_.push_back(g);
  }
  // Tables left alone because all their PTEs were in DND come due when a period ends.
  for (Gpa g : watched_)
    if (!logged_[g] && slot_[g] != kNone && due_at_[slot_[g]] != 0 && due_at_[slot_[g]] <= k) scan_.push_back(g);
  std::sort(scan_.begin(), scan_.end());  // deterministic order, friendlier to caches

  std::array<PteBits, kPtesPerPage> ptes;
  std::array<uint8_t, kPtesPerPage> clear;
  for (Gpa gpt : scan_) {
    logged_[gpt] = 0;
    m.scan_gpt_page(gpt, 0, ptes);
    ++st.gpt_scanned;
    st.ptes_scanned += kPtesPerPage;
    const uint32_t slot = slot_of(gpt);
    uint32_t next_due = UINT32_MAX;  // earliest end of a do-not-disturb period among its PTEs
    bool watch = false;              // some PTE must be watched next window
    for (uint32_t i = 0; i < kPtesPerPage; ++i) {
      clear[i] = 0;
      Gpa& prev = prev_[static_cast<size_t>(slot) * kPtesPerPage + i];
      const Gpa g = (ptes[i].bits & PteBits::kPresent) ? ptes[i].gpa : kNone;
      if (g != prev) {  // the guest re-pointed this PTE: keep the reverse references right
        if (prev != kNone && refs_[prev] > 0) --refs_[prev];
        if (g != kNone && g < refs_.size() && refs_[g] < 255) ++refs_[g];
        prev = g;
      }
      if (g == kNone || g >= mlq_.size()) continue;
      MlqPage& p = mlq_[g];
      const MlqAction a = mlq_plan(p, k);
      Seen s = Seen::None;
      if (a.read_bits) {
        if (ptes[i].bits & PteBits::kDirty) s = Seen::Write;
        else if (ptes[i].bits & PteBits::kAccessed) s = Seen::Read;
        seen[g] = static_cast<uint8_t>(s);
      } else {
        seen[g] = p.last;  // left alone: assume it kept doing what it did
      }
      if (mlq_update(p, k, s, cfg_)) {
        clear[i] = PteBits::kAccessed | PteBits::kDirty;
        ++st.ad_clears;
      }
      scanned_[g >> 6] |= uint64_t{1} << (g & 63);
      if (p.state == MlqPage::Dnd)
        next_due = std::min(next_due, p.until);
      else
        watch = true;
    }
    m.clear_pte_bits(gpt, clear);
    // Scanned again when a period ends, whether or not PML logs it by then.
    due_at_[slot] = next_due == UINT32_MAX ? 0 : next_due;
    // Left un-armed only when every PTE is in a period that outlasts the next
    // window: nothing to learn from it before then.
    if (watch || next_due <= k + 1 || next_due == UINT32_MAX) {
      rearm_.push_back(gpt);
    } else {
      ++st.gpt_skipped;
    }
  }
  // Pages whose table was not scanned: not seen, unless left alone in DND.
  // A bitmap rather than a window number per page: 1 bit instead of 4 bytes,
  // and whole words of scanned pages are skipped without touching mlq_.
  const size_t pages = mlq_.size();
  for (size_t w = 0; w < scanned_.size(); ++w) {
    uint64_t todo = ~scanned_[w];
    if (w == scanned_.size() - 1 && pages % 64 != 0) todo &= (uint64_t{1} << (pages % 64)) - 1;
    for (; todo != 0; todo &= todo - 1) {
      const Gpa g = static_cast<Gpa>(w * 64 + static_cast<size_t>(std::countr_zero(todo)));
      MlqPage& p = mlq_[g];
      if (p.state == MlqPage::Dnd) {
        seen[g] = std::max(seen[g], p.last);
      } else if (p.state == MlqPage::Probe) {
        mlq_update(p, k, Seen::None, cfg_);
      }
    }
  }
  m.clear_ept_bits(rearm_, PteBits::kDirty);  // re-arm: the next walk through them is logged
  m.flush_tlbs();  // so every page's next access walks and sets its bits again
}

void EptScanner::attach(Mechanisms& m) { bits_.assign(m.guest_pages(), 0); }

void EptScanner::window(Mechanisms& m, uint32_t, std::vector<uint8_t>& seen, TrackStats& st) {
  ++st.windows;
  m.scan_ept(PteBits::kAccessed | PteBits::kDirty, bits_);
  st.ept_scanned += bits_.size();
  st.ad_clears += bits_.size();
  for (size_t g = 0; g < bits_.size(); ++g)
    seen[g] = static_cast<uint8_t>((bits_[g] & PteBits::kDirty)      ? Seen::Write
                                   : (bits_[g] & PteBits::kAccessed) ? Seen::Read
                                                                     : Seen::None);
  m.flush_tlbs();
}

}  // namespace vtmm::policy
