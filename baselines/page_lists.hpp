#pragma once
// Page lists as the Linux LRU keeps them (mm/vmscan.c, include/linux/mm_inline.h):
// intrusive doubly linked lists over guest pages, new entries at the head, the
// oldest at the tail, plus the PG_referenced flag. Shared by autonuma (one
// recency list), tpp/tpp-host (the fast node's active/inactive lists) and
// nimble (active/inactive per tier).
//
// The two-list rules, as mm/vmscan.c applies them to anonymous pages:
//  - a page seen young (accessed bit set, then cleared) on the inactive list
//    is activated if it was already marked referenced, else marked and kept
//    (moved back to the inactive head): two looks before activation
//    (folio_check_references);
//  - a page seen old loses its mark and drifts toward the inactive tail,
//    where reclaim takes it;
//  - the active list is refilled into the inactive one from its tail while the
//    inactive list is low (inactive_is_low: inactive * ratio < active, ratio =
//    int_sqrt(10 * node GiB), 1 below 1 GiB); anonymous pages are deactivated
//    whatever their bit (shrink_active_list), keeping their mark ("the mark is
//    set for activated folios as well so that recently deactivated but used
//    folios are quickly recovered", folio_check_references).
#include <cmath>
#include <cstdint>
#include <vector>

#include "vtmm/core/types.hpp"

namespace vtmm::baselines {

class PageLists {
 public:
  static constexpr uint8_t kNoList = 0xff;

  void resize(uint32_t pages, uint8_t lists) {
    prev_.assign(pages, kNone);
    next_.assign(pages, kNone);
    on_.assign(pages, kNoList);
    ref_.assign(pages, 0);
    head_.assign(lists, kNone);
    tail_.assign(lists, kNone);
    size_.assign(lists, 0);
  }
  uint32_t pages() const { return static_cast<uint32_t>(on_.size()); }
  uint8_t list_of(Gpa g) const { return on_[g]; }
  uint32_t size(uint8_t l) const { return size_[l]; }
  Gpa tail(uint8_t l) const { return tail_[l]; }
  // Toward the head from g (kNone at the head).
  Gpa prev(Gpa g) const { return prev_[g]; }
  bool referenced(Gpa g) const { return ref_[g] != 0; }
  void set_referenced(Gpa g, bool on) { ref_[g] = on ? 1 : 0; }

  void push_head(uint8_t l, Gpa g) {
    remove(g);
    prev_[g] = kNone;
    next_[g] = head_[l];
    if (head_[l] != kNone)
      prev_[head_[l]] = g;
    else
      tail_[l] = g;
    head_[l] = g;
    on_[g] = l;
    ++size_[l];
  }
  void push_tail(uint8_t l, Gpa g) {
    remove(g);
    next_[g] = kNone;
    prev_[g] = tail_[l];
    if (tail_[l] != kNone)
      next_[tail_[l]] = g;
    else
      head_[l] = g;
    tail_[l] = g;
    on_[g] = l;
    ++size_[l];
  }
  void remove(Gpa g) {
    const uint8_t l = on_[g];
    if (l == kNoList) return;
    if (prev_[g] != kNone)
      next_[prev_[g]] = next_[g];
    else
      head_[l] = next_[g];
    if (next_[g] != kNone)
      prev_[next_[g]] = prev_[g];
    else
      tail_[l] = prev_[g];
    prev_[g] = next_[g] = kNone;
    on_[g] = kNoList;
    ref_[g] = 0;
    --size_[l];
  }
  // Carries a page's list and mark to a new GPA (guest-side migration).
  void rename(Gpa from, Gpa to, uint8_t l) {
    const bool r = referenced(from);
    remove(from);
    push_head(l, to);
    set_referenced(to, r);
  }

 private:
  std::vector<Gpa> prev_, next_, head_, tail_;
  std::vector<uint8_t> on_, ref_;
  std::vector<uint32_t> size_;
};

// One accessed-bit observation of page g on an (inactive, active) pair.
inline void age_page(PageLists& l, Gpa g, bool young, uint8_t inactive, uint8_t active) {
  const uint8_t on = l.list_of(g);
  if (on == inactive) {
    if (!young) {
      l.set_referenced(g, false);
    } else if (l.referenced(g)) {
      l.push_head(active, g);
      l.set_referenced(g, true);  // "the mark is set for activated folios as well"
    } else {
      l.push_head(inactive, g);
      l.set_referenced(g, true);
    }
  } else if (on == active && young) {
    l.set_referenced(g, true);
  }
}

// inactive_is_low's ratio for a node of `pages` 4 KiB pages.
inline uint32_t inactive_ratio(uint64_t pages) {
  const uint64_t gib = (pages * kPageSize) >> 30;
  return gib ? static_cast<uint32_t>(std::sqrt(static_cast<double>(10 * gib))) : 1u;
}

// Refills the inactive list from the active tail while it is low; returns
// how many pages were deactivated.
inline uint32_t balance_lists(PageLists& l, uint8_t inactive, uint8_t active, uint32_t ratio) {
  uint32_t moved = 0;
  while (l.size(active) > 0 && uint64_t{l.size(inactive)} * ratio < l.size(active)) {
    const Gpa g = l.tail(active);
    const bool marked = l.referenced(g);
    l.push_head(inactive, g);
    l.set_referenced(
        g, marked);  // kept, so a deactivated page still in use comes back at its next look
    ++moved;
  }
  return moved;
}

}  // namespace vtmm::baselines
