#pragma once
// The simulated host's implementation of Mechanisms for one VM: what a
// hypervisor thread can do to the VM, and what each call costs (charged to
// the thread's clock, or to the vCPUs where the guest pays).
#include "vtmm/core/mechanisms.hpp"
#include "vtmm/sim/vm.hpp"

namespace vtmm::sim {

class SimMechanisms final : public Mechanisms,
                            public GuestPageTables,
                            public EptAccessBits,
                            public PmlLog,
                            public TlbControl,
                            public PageMigration,
                            public PageExchange,
                            public HintFaultArming,
                            public AccessSampling,
                            public HugeMappings,
                            public GroundTruthView {
 public:
  SimMechanisms() { provide(everything()); }
  SimMechanisms(const SimMechanisms&) = delete;
  SimMechanisms& operator=(const SimMechanisms&) = delete;
  // Hands the policy only the capabilities it declared (needs() and
  // wants()): a call on any other throws, so a design that uses a mechanism
  // it did not declare fails on the simulator, not first on a real platform
  // that lacks it. The run loop calls this before Policy::attach.
  void offer_only(std::span<const Mechanism> declared);
  void bind(Vm* vm) { vm_ = vm; }
  HvThread& thread() { return hv_; }
  // Which side the bound VM's policy runs on: guest-side work is stolen from
  // the vCPUs, guest-side migration moves data to the other guest node.
  void set_side(Side s) { side_ = s; }
  Side side() const { return side_; }
  // A NUMA hint fault taken by vCPU v on `head`: runs the policy's handler in
  // that vCPU's context; returns what the vCPU pays (fault + handler's work).
  double hint_fault(uint32_t v, Gpa head, bool write);

  // Everything, except the hardware mode where the host profile lacks it.
  bool offers_mode(Mechanism m) const override {
    return m != Mechanism::SubpageAdBits || vm_->subpage_ad;  // GuestNuma, WriteProtect: always
  }
  uint32_t guest_pages() const override { return static_cast<uint32_t>(vm_->ept.size()); }
  bool backed(Gpa g) const override { return g < vm_->ept.size() && (vm_->ept[g] & kEptPresent); }
  Tier tier_of(Gpa g) const override { return vm_->tier_of(g); }
  uint64_t capacity_pages(Tier t) const override { return vm_->cap[static_cast<int>(t)]; }
  void page_tiers(std::span<uint8_t> out) const override;
  uint64_t used_pages(Tier t) const override;

  std::span<const Gpa> gpt_pages() const override { return vm_->gpt_list; }
  void scan_gpt_page(Gpa gpt, uint8_t clear_mask, std::span<PteBits, kPtesPerPage> out) override;
  GptView read_gpt_page(Gpa gpt, GptCopy& copy) override;
  void clear_gpt_bits(Gpa gpt, const PteSet& which, uint8_t mask) override;
  uint8_t ept_bits(Gpa g) override;
  bool test_and_clear_young(Gpa g) override;
  void scan_ept(uint8_t clear_mask, std::span<uint8_t> out) override;
  void clear_ept_bits(std::span<const Gpa> gs, uint8_t mask) override;
  void set_pml(bool on) override { vm_->pml_on = on; }
  void drain_pml(std::vector<Gpa>& out) override;
  void flush_tlbs() override;
  MigrationResult migrate(std::span<const Gpa> gs, Tier to, MigrationMethod how,
                          uint32_t threads = 1) override;
  void protect_for_hint(std::span<const Gpa> gs) override;
  void set_sampling(uint32_t load_period, uint32_t store_period) override;
  void drain_samples(std::vector<AccessSample>& out) override;
  MigrationResult exchange(std::span<const std::pair<Gpa, Gpa>> pairs,
                           uint32_t threads = 1) override;
  void set_huge_backing(bool on) override { vm_->huge_backing = on; }
  bool huge_mapped(Gpa g) const override { return g < vm_->ept.size() && vm_->span_of(g) > 1; }
  uint32_t split_huge(std::span<const Gpa> gs) override;
  uint32_t merge_huge(std::span<const Gpa> gs) override;
  std::span<const uint32_t> true_accesses() const override {
    return vm_->truth_wanted ? std::span<const uint32_t>(vm_->truth_accesses)
                             : std::span<const uint32_t>();
  }
  PageUse page_use(Gpa g) const override;
  double now_ns() const override { return cur_->clock_ns; }
  void charge_ns(double ns) override {
    cur_->clock_ns += ns;
    vm_->counters().tracking_ns += ns;
    steal(ns);
  }

 private:
  Provided everything() { return {this, this, this, this, this, this, this, this, this, this}; }
  void finish_migration(size_t idx);
  void pml_second_pass(size_t idx, double at);
  // Copies pages on `threads` threads from `start`; per page, its copy window
  // goes to win_start/win_end, opened by a shootdown if shootdown_each.
  double copy_pages(std::span<const Gpa> pages, Tier from, Tier to, double start, uint32_t threads,
                    double sw_ns, bool shootdown_each, std::vector<double>& win_start,
                    std::vector<double>& win_end, double* cpu_ns);
  // copy_pages for a batch of fewer mappings than threads: each mapping's
  // copy split among all of them, one mapping after another.
  double copy_split(std::span<const Gpa> pages, Tier from, Tier to, double start, uint32_t threads,
                    double sw_ns, bool shootdown_each, std::vector<double>& win_start,
                    std::vector<double>& win_end, double* cpu_ns);
  // One copy of `bytes` by a thread at `now`: it reads the source tier and
  // writes the destination's, waiting on either's bandwidth calendar.
  void copy_bytes(double& now, Tier from, Tier to, double bytes);
  // A copy thread at `now` issues a shootdown and waits for it; returns when it was issued.
  double shootdown_acked(double& now);
  void schedule_page_windows(size_t idx);
  void track_in_flight();
  void set_tier(Gpa head, Tier t);
  uint32_t gpt_group(Gpa gpt) const;
  MigrationResult guest_migrate(std::span<const Gpa> gs, Tier to, uint32_t threads);
  // The pairs of an exchange that can swap now, marked as moving
  // (migration.cpp).
  std::vector<std::pair<Gpa, Gpa>> claim_pairs(std::span<const std::pair<Gpa, Gpa>> pairs);
  // The thread loads (or stores) one line of the tables it walks (Vm::hv_line).
  void touch(uint64_t line, bool write) { charge_ns(vm_->hv_line(line, write, cur_->clock_ns)); }
  // Guest-side background work (not in a fault) runs on the guest's vCPUs:
  // its time is taken from them, evenly.
  void steal(double ns);

  Vm* vm_ = nullptr;
  HvThread hv_;
  HvThread* cur_ = &hv_;  // the context mechanism calls charge: hv_, or a faulting vCPU's
  bool in_fault_ = false;
  double shootdown_free_ns_ = 0;  // when the vCPUs can take the next per-page shootdown
  Side side_ = Side::Host;
};

}  // namespace vtmm::sim
