#pragma once
// A scripted Mechanisms for rule tests of sampling / A-bit baselines: the test
// decides which pages are backed on which tier, queues PEBS-like samples, sets
// EPT A bits, and reads back every migrate() call. No costs are modelled
// beyond summing charge_ns, so a test pins a policy's decisions, not timing.
//
//   vtmm::test::FakeMechanisms m(1024, /*fast_cap=*/256);
//   m.back_range(0, 1024, vtmm::Tier::Slow);
//   m.sample(17, /*write=*/false);
//   policy->tick(m);  // m.migrations holds what it moved
//
// Guest mode (guest = true) models guest-side NUMA: GPAs [0, fast_cap) are
// the fast node, the rest the slow node; a migration moves a page's data to
// the lowest free GPA of the other node and reports (old, new) in remapped.
#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "vtmm/core/mechanisms.hpp"

namespace vtmm::test {

class FakeMechanisms final : public Mechanisms {
 public:
  struct Call {
    std::vector<Gpa> gpas;
    Tier to;
    MigrationMethod how;
    uint32_t threads;
    uint32_t moved;
  };

  FakeMechanisms(uint32_t pages, uint64_t fast_cap, uint64_t slow_cap = UINT64_MAX, bool guest = false)
      : tier_(pages, kUnbacked), ept_(pages, 0), guest_(guest) {
    cap_[0] = fast_cap;
    cap_[1] = slow_cap == UINT64_MAX ? pages : slow_cap;
  }

  // Host mode: back [first, last) on tier t. Guest mode: t must match the node.
  void back_range(Gpa first, Gpa last, Tier t) {
    for (Gpa g = first; g < last; ++g) {
      if (guest_ && node_of(g) != t) throw std::logic_error("guest mode: GPA is on the other node");
      if (tier_[g] == kUnbacked) ++used_[static_cast<int>(t)];
      else if (tier_[g] != static_cast<uint8_t>(t)) {
        --used_[tier_[g]];
        ++used_[static_cast<int>(t)];
      }
      tier_[g] = static_cast<uint8_t>(t);
    }
  }
  void sample(Gpa g, bool write, double at = 0) {
    samples_.push_back(AccessSample{g, write, backed(g) && tier_of(g) == Tier::Slow, 0, at});
  }
  void set_accessed(Gpa g, bool on = true) {
    ept_[g] = on ? static_cast<uint8_t>(ept_[g] | PteBits::kAccessed) : static_cast<uint8_t>(ept_[g] & ~PteBits::kAccessed);
  }
  void set_now(double ns) { now_ = ns; }

  std::vector<Call> migrations;
  uint32_t load_period = 0, store_period = 0;
  double charged_ns = 0;
  uint64_t ept_reads = 0;

  bool offers(Mechanism) const override { return true; }
  uint32_t guest_pages() const override { return static_cast<uint32_t>(tier_.size()); }
  bool backed(Gpa g) const override { return g < tier_.size() && tier_[g] != kUnbacked; }
  Tier tier_of(Gpa g) const override { return tier_[g] == 1 ? Tier::Slow : Tier::Fast; }
  uint64_t capacity_pages(Tier t) const override { return cap_[static_cast<int>(t)]; }
  uint64_t used_pages(Tier t) const override { return used_[static_cast<int>(t)]; }

  std::span<const Gpa> gpt_pages() const override { return {}; }
  void scan_gpt_page(Gpa, uint8_t, std::span<PteBits, kPtesPerPage>) override { unsupported(); }
  void clear_pte_bits(Gpa, std::span<const uint8_t, kPtesPerPage>) override { unsupported(); }
  uint8_t ept_bits(Gpa g) override {
    ++ept_reads;
    return ept_[g];
  }
  void clear_ept_bits(std::span<const Gpa> gs, uint8_t mask) override {
    for (Gpa g : gs) ept_[g] &= static_cast<uint8_t>(~mask);
  }
  void scan_ept(uint8_t clear_mask, std::span<uint8_t> out) override {
    for (size_t g = 0; g < out.size() && g < ept_.size(); ++g) {
      out[g] = ept_[g];
      ept_[g] &= static_cast<uint8_t>(~clear_mask);
    }
  }
  void set_pml(bool) override { unsupported(); }
  void drain_pml(std::vector<Gpa>&) override { unsupported(); }
  void flush_tlbs() override {}

  MigrationResult migrate(std::span<const Gpa> gs, Tier to, MigrationMethod how, uint32_t threads = 1) override {
    MigrationResult r;
    const int ti = static_cast<int>(to);
    for (Gpa g : gs) {
      if (!backed(g) || tier_of(g) == to || used_[ti] >= cap_[ti]) continue;
      if (guest_) {
        const Gpa dst = free_gpa(to);
        if (dst == kNone) continue;
        tier_[dst] = static_cast<uint8_t>(to);
        --used_[tier_[g]];
        tier_[g] = kUnbacked;
        ++used_[ti];
        r.remapped.emplace_back(g, dst);
      } else {
        --used_[tier_[g]];
        tier_[g] = static_cast<uint8_t>(to);
        ++used_[ti];
      }
      ++r.moved;
    }
    migrations.push_back(Call{{gs.begin(), gs.end()}, to, how, threads, r.moved});
    return r;
  }
  void protect_for_hint(std::span<const Gpa>) override { unsupported(); }
  void set_sampling(uint32_t load, uint32_t store) override {
    load_period = load;
    store_period = store;
  }
  void drain_samples(std::vector<AccessSample>& out) override {
    out.insert(out.end(), samples_.begin(), samples_.end());
    samples_.clear();
  }
  MigrationResult exchange(std::span<const std::pair<Gpa, Gpa>>, uint32_t) override { unsupported(); }
  std::span<const uint32_t> true_accesses() const override { return {}; }
  double now_ns() const override { return now_; }
  void charge_ns(double ns) override { charged_ns += ns; }

  uint64_t pages_moved(Tier to) const {
    uint64_t n = 0;
    for (const Call& c : migrations)
      if (c.to == to) n += c.moved;
    return n;
  }

 private:
  static constexpr uint8_t kUnbacked = 2;
  [[noreturn]] static void unsupported() { throw std::logic_error("FakeMechanisms: not modelled"); }
  Tier node_of(Gpa g) const { return g < cap_[0] ? Tier::Fast : Tier::Slow; }
  Gpa free_gpa(Tier t) const {
    const Gpa lo = t == Tier::Fast ? 0 : static_cast<Gpa>(cap_[0]);
    const Gpa hi = t == Tier::Fast ? static_cast<Gpa>(cap_[0]) : static_cast<Gpa>(tier_.size());
    for (Gpa g = lo; g < hi; ++g)
      if (tier_[g] == kUnbacked) return g;
    return kNone;
  }

  std::vector<uint8_t> tier_, ept_;
  std::vector<AccessSample> samples_;
  uint64_t cap_[2] = {0, 0}, used_[2] = {0, 0};
  double now_ = 0;
  bool guest_;
};

}  // namespace vtmm::test
