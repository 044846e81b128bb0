#include "vtmm/policy/tracker.hpp"

#include <algorithm>
#include <cstring>
#include <numeric>

namespace vtmm::policy {

namespace {

constexpr uint64_t kFree = ~uint64_t{0};

uint64_t hash_slot(Gpa g, size_t buckets) {  // buckets: a power of two
  return (uint64_t{g} * 0x9e3779b97f4a7c15ULL >> 20) & (buckets - 1);
}

Seen seen_of(uint8_t ad) {
  return (ad & PteBits::kDirty) ? Seen::Write : (ad & PteBits::kAccessed) ? Seen::Read : Seen::None;
}

}  // namespace

void PmlGptTracker::attach(Mechanisms& m) {
  const uint32_t n = m.guest_pages();
  tables_.clear();
  handed_ = 0;
  ordered_ = 0;
  mlq_.clear();
  target_.clear();
  index_.assign(64, kFree);
  is_gpt_.reset(n);
  refs_.reset(n);
  extra_refs_.clear();
  if (pml_) m.pml().set_pml(true);
}

uint32_t PmlGptTracker::slot_of(Gpa gpt) const {
  for (uint64_t b = hash_slot(gpt, index_.size());; b = (b + 1) & (index_.size() - 1)) {
    if (index_[b] == kFree) return kNone;
    if (index_[b] >> 32 == gpt) return static_cast<uint32_t>(index_[b]);
  }
}

void PmlGptTracker::index_insert(Gpa gpt, uint32_t slot) {
  if (2 * (tables_.size() + 1) > index_.size()) {  // keep it at most half full
    std::vector<uint64_t> old(index_.size() * 2, kFree);
    old.swap(index_);
    for (uint64_t e : old)
      if (e != kFree) index_put(static_cast<Gpa>(e >> 32), static_cast<uint32_t>(e));
  }
  index_put(gpt, slot);
}

void PmlGptTracker::index_put(Gpa gpt, uint32_t slot) {
  uint64_t b = hash_slot(gpt, index_.size());
  while (index_[b] != kFree) b = (b + 1) & (index_.size() - 1);
  index_[b] = uint64_t{gpt} << 32 | slot;
}

// Windows scan tables in GPA order (the order the host reads them in); the
// state is kept in the same order, so that a scan walks it sequentially even
// in an aged guest, whose tables the companion hands over in an order
// unrelated to their GPAs. Tables handed over since the last ordering sit
// at the end until they are an eighth of all (amortised: each ordering
// moves the whole state once); where hand-over order is GPA order already,
// nothing moves. Slots are internal: the scan order, and so every call on
// the mechanisms, is the same whatever the slots are.
void PmlGptTracker::order_by_gpa() {
  const size_t n = tables_.size();
  if (n - ordered_ < std::max<size_t>(1, n / 8)) return;
  ordered_ = n;
  const auto by_gpa = [](const Table& a, const Table& b) { return a.gpa < b.gpa; };
  if (std::is_sorted(tables_.begin(), tables_.end(), by_gpa)) return;
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(),
            [&](uint32_t a, uint32_t b) { return tables_[a].gpa < tables_[b].gpa; });
  auto permute = [&](auto& per_pte) {
    std::remove_reference_t<decltype(per_pte)> out(per_pte.size());
    for (size_t i = 0; i < n; ++i)
      std::copy_n(per_pte.begin() + ptrdiff_t{order[i]} * kPtesPerPage, kPtesPerPage,
                  out.begin() + static_cast<ptrdiff_t>(i * kPtesPerPage));
    per_pte.swap(out);
  };
  permute(mlq_);
  permute(target_);
  std::vector<Table> tables(n);
  for (size_t i = 0; i < n; ++i) tables[i] = tables_[order[i]];
  tables_.swap(tables);
  std::fill(index_.begin(), index_.end(), kFree);
  for (uint32_t slot = 0; slot < n; ++slot) index_put(tables_[slot].gpa, slot);
}

// The companion hands over page-table pages as the guest's tables grow.
void PmlGptTracker::hand_over(std::span<const Gpa> gpts) {
  for (; handed_ < gpts.size(); ++handed_) {
    const Gpa g = gpts[handed_];
    const bool inside = g < is_gpt_.size();
    // PML logs guest pages only: a table elsewhere could never be logged.
    if (inside ? is_gpt_[g] : (pml_ || g == kNone || slot_of(g) != kNone)) continue;
    const auto slot = static_cast<uint32_t>(tables_.size());
    index_insert(g, slot);
    tables_.push_back(Table{.gpa = g});
    mlq_.resize(mlq_.size() + kPtesPerPage);
    target_.resize(target_.size() + kPtesPerPage, kNone);
    if (inside) is_gpt_.set(g);
    rearm_.push_back(g);
  }
  order_by_gpa();
}

void PmlGptTracker::queue(uint32_t slot, uint32_t k) {
  tables_[slot].stamp = k + 1;
  scan_.push_back(uint64_t{tables_[slot].gpa} << 32 | slot);
}

MlqPage PmlGptTracker::page(Gpa g) const {
  const auto it = std::find(target_.begin(), target_.end(), g);
  return it == target_.end() ? MlqPage{} : mlq_[static_cast<size_t>(it - target_.begin())];
}

// Logged page-table pages were walked this window (the walker's access
// counts as a write for EPT dirty purposes): queue them for a scan.
void PmlGptTracker::queue_logged(Mechanisms& m, uint32_t k, TrackStats& st) {
  log_.clear();
  m.pml().drain_pml(log_);
  st.pml_drained += log_.size();
  for (Gpa g : log_) {
    if (g >= is_gpt_.size() || !is_gpt_[g]) continue;
    const uint32_t slot = slot_of(g);
    if (tables_[slot].stamp == k + 1) continue;
    writes_.set(g, static_cast<uint8_t>(Seen::Write));
    queue(slot, k);
  }
}

void PmlGptTracker::window(Mechanisms& m, uint32_t k, std::vector<uint8_t>& seen, TrackStats& st) {
  ++st.windows;
  std::fill(seen.begin(), seen.end(), static_cast<uint8_t>(Seen::None));
  writes_.begin(seen);  // every store to seen below goes through writes_
  rearm_.clear();
  hand_over(m.gpt().gpt_pages());
  scan_.clear();
  if (pml_) {
    queue_logged(m, k, st);
  } else {
    for (uint32_t slot = 0; slot < tables_.size(); ++slot)
      if (!tables_[slot].idle) queue(slot, k);
  }
  // Tables left alone because all their PTEs were in DND come due when a period ends.
  for (uint32_t slot = 0; slot < tables_.size(); ++slot) {
    const Table& t = tables_[slot];
    if (t.stamp != k + 1 && t.due_at != 0 && t.due_at <= k) queue(slot, k);
  }
  std::sort(scan_.begin(), scan_.end());  // by GPA: deterministic, friendlier to caches
  for (uint64_t e : scan_) scan(m, static_cast<uint32_t>(e), k, seen.size(), st);
  // Pages whose table was not scanned: not seen, unless left alone in DND.
  for (uint32_t slot = 0; slot < tables_.size(); ++slot)
    if (tables_[slot].carry && tables_[slot].stamp != k + 1) carry_over(slot, k, seen.size());
  writes_.flush();
  // Re-arm: the next walk through them is logged.
  if (pml_) m.ept().clear_ept_bits(rearm_, PteBits::kDirty);
  m.tlb().flush_tlbs();  // so every page's next access walks and sets its bits again
}

// The guest re-pointed a PTE: keep the reverse references right; the MLQ
// state belongs to the PTE and starts over for the new page.
void PmlGptTracker::repoint(Gpa& prev, Gpa now, MlqPage& p) {
  if (prev != kNone && prev < refs_.size()) {
    const auto more = extra_refs_.find(prev);
    if (more == extra_refs_.end())
      refs_.clear(prev);
    else if (--more->second == 0)
      extra_refs_.erase(more);
  }
  if (now != kNone && now < refs_.size()) {
    if (refs_[now])
      ++extra_refs_[now];
    else
      refs_.set(now);
  }
  prev = now;
  p = MlqPage{};
}

namespace {

// Eight PTEs starting at i in which nothing happens: none re-pointed, none
// accessed, none in a period or a probe. Written without early exits so the
// compiler checks them as vectors; most PTEs of a large guest are such.
bool quiet8(const GptView& v, const MlqPage* mlq, const Gpa* prev, uint32_t i) {
  uint64_t ad;
  std::memcpy(&ad, v.bits + i, sizeof ad);
  Gpa diff = 0;
  bool active = false;
  for (uint32_t j = i; j < i + 8; ++j) {
    diff |= v.target[j] ^ prev[j];
    active |= mlq[j].active();
  }
  return (ad | diff | static_cast<uint64_t>(active)) == 0;
}

}  // namespace

// One pass over a table's 512 PTEs in place: each PTE's MLQ step, what it
// saw, and the bits to clear, gathered into one write-back.
void PmlGptTracker::scan(Mechanisms& m, uint32_t slot, uint32_t k, size_t pages, TrackStats& st) {
  Table& t = tables_[slot];
  const GptView v = m.gpt().read_gpt_page(t.gpa, copy_);
  ++st.gpt_scanned;
  st.ptes_scanned += kPtesPerPage;
  MlqPage* mlq = &mlq_[size_t{slot} * kPtesPerPage];
  Gpa* prev = &target_[size_t{slot} * kPtesPerPage];
  PteSet clear{};
  uint32_t next_due = UINT32_MAX;  // earliest end of a do-not-disturb period among its PTEs
  bool watch = false;              // some PTE must be watched next window
  bool probe = false;              // some PTE probes next window
  bool walked = false;             // some PTE's bits were set: the walker wrote the table
  for (uint32_t i = 0; i < kPtesPerPage; ++i) {
    if (i % 8 == 0 && v.bits_stride == 1 && quiet8(v, mlq, prev, i)) {
      // Unseen and settled (Watch or Late): only watched on.
      for (uint32_t j = i; j < i + 8; ++j) watch |= v.target[j] < pages;
      i += 7;
      continue;
    }
    const Gpa g = v.target[i];
    if (g != prev[i]) [[unlikely]]
      repoint(prev[i], g, mlq[i]);
    if (g >= pages) continue;  // not present (kNone), or beyond guest memory
    MlqPage& p = mlq[i];
    if (p.state() == MlqPage::Dnd &&
        p.until_after(k) > 0) {  // left alone: it kept doing what it did
      writes_.set(g, p.last());
      next_due = std::min(next_due, p.until_near(k));
      continue;
    }
    const bool look = p.state() != MlqPage::Dnd;  // the period's last window clears without looking
    const Seen s = look ? seen_of(v.ad(i)) : Seen::None;
    // seen[] starts the window at None: only what was seen is stored, so an
    // aged guest's scattered GPAs cost a (queued) store per seen page, not per PTE.
    if (const uint8_t saw = look ? static_cast<uint8_t>(s) : p.last(); saw != 0)
      writes_.set(g, saw);
    walked |= s != Seen::None;
    if (mlq_update(p, k, s, cfg_)) {
      clear[i / 64] |= uint64_t{1} << (i % 64);
      ++st.ad_clears;
    }
    if (p.state() == MlqPage::Dnd) {
      next_due = std::min(next_due, p.until_near(k));
    } else {
      watch = true;
      probe |= p.state() == MlqPage::Probe;
    }
  }
  if (clear != PteSet{}) m.gpt().clear_gpt_bits(t.gpa, clear, PteBits::kAccessed | PteBits::kDirty);
  // Scanned again when a period ends, whether or not PML logs it by then.
  t.due_at = next_due == UINT32_MAX ? 0 : next_due;
  t.carry = probe || next_due != UINT32_MAX;
  // Left un-armed only when every PTE is in a period that outlasts the next
  // window: nothing to learn from it before then.
  t.idle = !(watch || next_due <= k + 1 || next_due == UINT32_MAX);
  if (!t.idle) {
    rearm_.push_back(t.gpa);
  } else {
    ++st.gpt_skipped;
  }
  // With PML the log said so before the scan.
  if (!pml_ && walked && t.gpa < pages) writes_.set(t.gpa, static_cast<uint8_t>(Seen::Write));
}

// A table not scanned in window k: its pages in DND carry what they last
// did; a probe that saw nothing ends late.
void PmlGptTracker::carry_over(uint32_t slot, uint32_t k, size_t pages) {
  MlqPage* mlq = &mlq_[size_t{slot} * kPtesPerPage];
  const Gpa* target = &target_[size_t{slot} * kPtesPerPage];
  bool carry = false;
  for (uint32_t i = 0; i < kPtesPerPage; ++i) {
    const Gpa g = target[i];
    if (g >= pages) continue;
    MlqPage& p = mlq[i];
    if (p.state() == MlqPage::Dnd) {
      writes_.raise(g, p.last());
    } else if (p.state() == MlqPage::Probe) {
      mlq_update(p, k, Seen::None, cfg_);
    }
    carry |= p.state() == MlqPage::Dnd || p.state() == MlqPage::Probe;
  }
  tables_[slot].carry = carry;
}

void EptScanner::attach(Mechanisms& m) { bits_.assign(m.guest_pages(), 0); }

void EptScanner::window(Mechanisms& m, uint32_t, std::vector<uint8_t>& seen, TrackStats& st) {
  ++st.windows;
  m.ept().scan_ept(PteBits::kAccessed | PteBits::kDirty, bits_);
  st.ept_scanned += bits_.size();
  st.ad_clears += bits_.size();
  for (size_t g = 0; g < bits_.size(); ++g) seen[g] = static_cast<uint8_t>(seen_of(bits_[g]));
  m.tlb().flush_tlbs();
}

VTMM_REGISTER(TrackerRegistry, PmlGptTracker, "pml",
              "vTMM: PML logs writes to the guest's page-table pages; scan the logged ones' PTE "
              "A/D bits, MLQ")
VTMM_REGISTER(TrackerRegistry, GptScanTracker, "gpt-scan",
              "vTMM's scan and MLQ without PML: every guest page-table page not left alone is "
              "scanned each window")
VTMM_REGISTER(TrackerRegistry, EptScanner, "ept",
              "read and clear every EPT entry's A/D bits each window")

}  // namespace vtmm::policy
