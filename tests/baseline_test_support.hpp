#pragma once
// A scripted platform for rule tests of the baselines (autonuma, tpp,
// tpp-host, nimble, damon, hemem, memtis): the test backs pages, sets
// accessed bits, queues PEBS-like samples, moves the clock and delivers hint
// faults; every migrate()/exchange() call, every protection and the sampling
// periods are recorded, so a test pins a policy's decisions without the
// simulator's timing.
//
//   vtmm::test::ScriptedPlatform m(4096, /*fast_cap=*/1024);
//   m.back_range(0, 4096, vtmm::Tier::Slow);
//   policy->attach(m);
//   m.set_now(2e9); policy->tick(m);       // a scan protects pages
//   m.fault(*policy, 17);                 // the next access to page 17
//   m.sample(17, /*write=*/false);        // a sample the next tick drains
//
// Guest mode models guest-side NUMA: GPAs [0, fast_cap) are the fast node;
// a migration moves the data to the lowest free GPA of the other node, fixes
// the guest PTE and reports (old, new). Guest page tables: the pages backed
// are mapped in backing order, 512 per page-table page (gpt ids are numbered
// after the guest's pages, so they are never data pages).
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "vtmm/core/mechanisms.hpp"
#include "vtmm/core/policy.hpp"

namespace vtmm::test {

class ScriptedPlatform final : public Mechanisms,
                               public GuestPageTables,
                               public EptAccessBits,
                               public TlbControl,
                               public PageMigration,
                               public PageExchange,
                               public HintFaultArming,
                               public AccessSampling {
 public:
  struct Move {
    std::vector<Gpa> gpas;
    Tier to;
    MigrationMethod how;
    uint32_t threads;
    uint32_t moved;
  };

  ScriptedPlatform(uint32_t pages, uint64_t fast_cap, bool guest = false)
      : tier_(pages, kUnbacked),
        bits_(pages, 0),
        armed_at_(pages, -1),
        vpn_of_(pages, kNone),
        guest_(guest) {
    cap_[0] = fast_cap;
    cap_[1] = pages;
    provide({.gpt = this,
             .ept = this,
             .tlb = this,
             .mover = this,
             .exchanger = this,
             .hints = this,
             .sampler = this});
  }
  ScriptedPlatform(const ScriptedPlatform&) = delete;
  ScriptedPlatform& operator=(const ScriptedPlatform&) = delete;

  void back(Gpa g, Tier t) {
    if (guest_ && node_of(g) != t) throw std::logic_error("guest mode: GPA is on the other node");
    if (tier_[g] != kUnbacked) throw std::logic_error("already backed");
    tier_[g] = static_cast<uint8_t>(t);
    ++used_[static_cast<int>(t)];
    vpn_of_[g] = static_cast<uint32_t>(pte_.size());
    pte_.push_back(g);
    if (pte_.size() % kPtesPerPage == 1)
      gpts_.push_back(static_cast<Gpa>(tier_.size() + gpts_.size()));
  }
  void back_range(Gpa first, Gpa last, Tier t) {
    for (Gpa g = first; g < last; ++g) back(g, t);
  }
  void touch(Gpa g) { bits_[g] |= PteBits::kAccessed; }
  void sample(Gpa g, bool write, double at = 0) {
    samples_.push_back(AccessSample{g, write, backed(g) && tier_of(g) == Tier::Slow, 0, at});
  }
  void set_now(double ns) { now_ = ns; }
  bool armed(Gpa g) const { return armed_at_[g] >= 0; }
  double armed_at(Gpa g) const { return armed_at_[g]; }
  // The next access to g: a hint fault to the policy if g is armed.
  bool fault(Policy& p, Gpa g, bool write = false) {
    if (!armed(g)) return false;
    const double at = armed_at_[g];
    armed_at_[g] = -1;
    p.on_hint_fault(HintFault{g, write, 0, at, now_}, *this);
    return true;
  }
  uint64_t moved_to(Tier t) const {
    uint64_t n = 0;
    for (const Move& c : moves)
      if (c.to == t) n += c.moved;
    return n;
  }

  std::vector<Move> moves;
  std::vector<std::vector<std::pair<Gpa, Gpa>>> exchanges;
  uint32_t exchange_threads = 0;
  uint32_t load_period = 0, store_period = 0;
  uint64_t protections = 0, protect_calls = 0;
  double charged_ns = 0;
  uint32_t flushes = 0;  // flush_tlbs() calls

  // No PML, no 2 MiB mappings, no ground truth: those capabilities are not provided.
  bool offers_mode(Mechanism) const override { return true; }
  uint32_t guest_pages() const override { return static_cast<uint32_t>(tier_.size()); }
  bool backed(Gpa g) const override { return g < tier_.size() && tier_[g] != kUnbacked; }
  Tier tier_of(Gpa g) const override { return tier_[g] == 1 ? Tier::Slow : Tier::Fast; }
  uint64_t capacity_pages(Tier t) const override { return cap_[static_cast<int>(t)]; }
  // A fast-memory pool resizing this VM's allowance (host-side designs only).
  void set_fast_capacity(uint64_t pages) { cap_[0] = pages; }
  uint64_t used_pages(Tier t) const override { return used_[static_cast<int>(t)]; }

  std::span<const Gpa> gpt_pages() const override { return gpts_; }
  void scan_gpt_page(Gpa gpt, uint8_t clear, std::span<PteBits, kPtesPerPage> out) override {
    const uint64_t base = uint64_t{gpt - static_cast<Gpa>(tier_.size())} * kPtesPerPage;
    for (uint32_t i = 0; i < kPtesPerPage; ++i) {
      const uint64_t vpn = base + i;
      if (vpn >= pte_.size() || pte_[vpn] == kNone) {
        out[i] = PteBits{kNone, 0};
        continue;
      }
      const Gpa g = pte_[vpn];
      out[i] = PteBits{g, static_cast<uint8_t>(bits_[g] | PteBits::kPresent)};
      bits_[g] &= static_cast<uint8_t>(~clear);
    }
    charged_ns += kPtesPerPage;
  }
  void clear_gpt_bits(Gpa, const PteSet&, uint8_t) override { unsupported(); }
  uint8_t ept_bits(Gpa g) override { return bits_[g]; }
  void clear_ept_bits(std::span<const Gpa> gs, uint8_t mask) override {
    for (Gpa g : gs) bits_[g] &= static_cast<uint8_t>(~mask);
  }
  void scan_ept(uint8_t clear, std::span<uint8_t> out) override {
    for (size_t g = 0; g < out.size() && g < bits_.size(); ++g) {
      out[g] = bits_[g];
      bits_[g] &= static_cast<uint8_t>(~clear);
    }
  }
  void flush_tlbs() override { ++flushes; }

  MigrationResult migrate(std::span<const Gpa> gs, Tier to, MigrationMethod how,
                          uint32_t threads = 1) override {
    MigrationResult r;
    const int ti = static_cast<int>(to);
    for (Gpa g : gs) {
      if (!backed(g) || tier_of(g) == to || used_[ti] >= cap_[ti]) continue;
      if (guest_) {
        const Gpa dst = free_gpa(to);
        if (dst == kNone) continue;
        tier_[dst] = static_cast<uint8_t>(to);
        --used_[tier_[g]];
        ++used_[ti];
        tier_[g] = kUnbacked;
        vpn_of_[dst] = vpn_of_[g];
        pte_[vpn_of_[g]] = dst;
        vpn_of_[g] = kNone;
        bits_[dst] = bits_[g];
        bits_[g] = 0;
        armed_at_[g] = -1;
        r.remapped.emplace_back(g, dst);
      } else {
        --used_[tier_[g]];
        tier_[g] = static_cast<uint8_t>(to);
        ++used_[ti];
      }
      ++r.moved;
    }
    moves.push_back(Move{{gs.begin(), gs.end()}, to, how, threads, r.moved});
    return r;
  }
  void protect_for_hint(std::span<const Gpa> gs) override {
    ++protect_calls;
    for (Gpa g : gs) {
      armed_at_[g] = now_;
      ++protections;
    }
  }
  void set_sampling(uint32_t load, uint32_t store) override {
    load_period = load;
    store_period = store;
  }
  void drain_samples(std::vector<AccessSample>& out) override {
    out.insert(out.end(), samples_.begin(), samples_.end());
    samples_.clear();
  }
  MigrationResult exchange(std::span<const std::pair<Gpa, Gpa>> pairs,
                           uint32_t threads = 1) override {
    if (guest_) unsupported();
    MigrationResult r;
    for (const auto& [f, s] : pairs) {
      if (!backed(f) || !backed(s) || tier_of(f) != Tier::Fast || tier_of(s) != Tier::Slow)
        throw std::logic_error("exchange: pair is not (fast, slow)");
      tier_[f] = 1;
      tier_[s] = 0;
      r.moved += 1;
    }
    exchanges.emplace_back(pairs.begin(), pairs.end());
    exchange_threads = threads;
    return r;
  }
  // What each GPA holds, when a test sets it (default: unknown).
  std::vector<PageUse> uses;
  PageUse page_use(Gpa g) const override { return g < uses.size() ? uses[g] : PageUse{}; }
  double now_ns() const override { return now_; }
  void charge_ns(double ns) override { charged_ns += ns; }

 private:
  static constexpr uint8_t kUnbacked = 2;
  [[noreturn]] static void unsupported() {
    throw std::logic_error("ScriptedPlatform: not modelled");
  }
  Tier node_of(Gpa g) const { return g < cap_[0] ? Tier::Fast : Tier::Slow; }
  Gpa free_gpa(Tier t) const {
    const Gpa lo = t == Tier::Fast ? 0 : static_cast<Gpa>(cap_[0]);
    const Gpa hi = t == Tier::Fast ? static_cast<Gpa>(cap_[0]) : static_cast<Gpa>(tier_.size());
    for (Gpa g = lo; g < hi; ++g)
      if (tier_[g] == kUnbacked) return g;
    return kNone;
  }

  std::vector<uint8_t> tier_, bits_;
  std::vector<double> armed_at_;
  std::vector<uint32_t> vpn_of_;
  std::vector<Gpa> pte_, gpts_;
  std::vector<AccessSample> samples_;
  uint64_t cap_[2] = {0, 0}, used_[2] = {0, 0};
  double now_ = 0;
  bool guest_;
};

// A registered policy built from params (what a spec's "policy" object holds).
inline std::unique_ptr<Policy> make_policy(const std::string& name, Json params = Json::object()) {
  params["impl"] = name;
  return PolicyRegistry::instance().make(params, "policy", PolicyEnv{});
}

}  // namespace vtmm::test
