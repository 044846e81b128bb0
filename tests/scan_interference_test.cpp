// A hypervisor thread's scans go through the hardware the vCPUs use
// (Vm::hv_line): the lines of the EPT and guest page tables it reads pass
// through the shared LLC and the tiers' bandwidth, evicting the vCPUs' lines;
// and a policy thread pinned to a vCPU's core (vm.policy_thread_core) takes
// its time from that vCPU.
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "tests/baseline_run_support.hpp"
#include "tests/sim_test_support.hpp"

namespace vtmm::test {
namespace scan_interference_test {

// Touches vpns [0, n) on the fast tier.
void touch_all(SimRig& rig, uint64_t n) {
  for (uint64_t vpn = 0; vpn < n; ++vpn) rig.access(0, vpn, kRead);
}

// The distinct EPT lines of the VM's present entries.
uint64_t present_ept_lines(const sim::Vm& vm) {
  std::set<uint64_t> lines;
  for (Gpa g = 0; g < vm.guest_pages(); ++g)
    if (vm.backed(g) && vm.ad_index(g) == g) lines.insert(vm.ept_line(g));
  return lines.size();
}

double scan_ept(SimRig& rig, uint8_t clear_mask) {
  std::vector<uint8_t> bits(rig.vm.guest_pages());
  const double t0 = rig.mech.thread().clock_ns;
  rig.mech.scan_ept(clear_mask, bits);
  return rig.mech.thread().clock_ns - t0;
}

TEST(ScanLines, EptScanReadsTheLinesOfPresentEntriesAndPaysOnlyForMisses) {
  SimRig rig(vm_config(4096, 1024));
  touch_all(rig, 200);
  const uint64_t lines = present_ept_lines(rig.vm);
  ASSERT_GT(lines, 25u);  // 200 data pages and a page-table page, 8 entries a line
  const double entries = static_cast<double>(rig.vm.guest_pages()) * rig.host.prof.ept_bit_ns;
  const uint64_t vcpu_misses = rig.vm.counters().llc_misses;

  const double cold = scan_ept(rig, PteBits::kAccessed);
  EXPECT_EQ(rig.vm.counters().scan_lines, lines);
  EXPECT_EQ(rig.vm.counters().scan_llc_misses, lines) << "the EPT has never been in the LLC";
  const double per_miss = rig.host.prof.tier[0].read_latency_ns / rig.host.prof.scan_mlp;
  EXPECT_GE(cold, entries + static_cast<double>(lines) * per_miss - 1e-6);

  const double warm = scan_ept(rig, PteBits::kAccessed);
  EXPECT_EQ(rig.vm.counters().scan_lines, 2 * lines);
  EXPECT_EQ(rig.vm.counters().scan_llc_misses, lines) << "the second scan finds its lines cached";
  EXPECT_DOUBLE_EQ(warm, entries) << "hits cost only the per-entry work";
  EXPECT_EQ(rig.vm.counters().llc_misses, vcpu_misses)
      << "the vCPU's counts hold only its own accesses";
}

TEST(ScanLines, GptScanReadsTheWholeTablePage) {
  SimRig rig(vm_config(4096, 1024));
  touch_all(rig, 8);
  rig.scan_pte(0, 0);
  EXPECT_EQ(rig.vm.counters().scan_lines, kPtesPerPage / 8);
  rig.scan_pte(0, PteBits::kAccessed);
  EXPECT_EQ(rig.vm.counters().scan_lines, 2 * (kPtesPerPage / 8));
  EXPECT_EQ(rig.vm.counters().scan_llc_misses, kPtesPerPage / 8 - 1)
      << "only the line the walks brought in was cached";
}

// read_gpt_page is scan_gpt_page without a clear, handed out in place: the
// same PTEs, the same lines read, the same cost.
TEST(ScanLines, GptReadViewIsTheScanWithoutAClear) {
  SimRig a(vm_config(4096, 1024)), b(vm_config(4096, 1024));
  for (SimRig* r : {&a, &b}) {
    touch_all(*r, 700);
    r->access(0, 3, kWrite);
  }
  std::vector<PteBits> scan(kPtesPerPage);
  a.mech.scan_gpt_page(a.gpt(512), 0, std::span<PteBits, kPtesPerPage>(scan.data(), kPtesPerPage));
  GptCopy copy{};
  const GptView v = b.mech.read_gpt_page(b.gpt(512), copy);
  for (uint32_t i = 0; i < kPtesPerPage; ++i) {
    const bool present = scan[i].bits & PteBits::kPresent;
    EXPECT_EQ(v.target[i], present ? scan[i].gpa : kNone) << i;
    if (present) {
      EXPECT_EQ(v.ad(i), scan[i].bits & (PteBits::kAccessed | PteBits::kDirty)) << i;
    }
  }
  EXPECT_EQ(b.vm.counters().scan_lines, a.vm.counters().scan_lines);
  EXPECT_EQ(b.vm.counters().scan_llc_misses, a.vm.counters().scan_llc_misses);
  EXPECT_DOUBLE_EQ(b.mech.thread().clock_ns, a.mech.thread().clock_ns);
}

// clear_gpt_bits writes a line once per run of PTEs in it and counts every
// PTE it writes: the same cost, lines and bits as clearing them one by one.
TEST(ScanLines, ClearingASetOfPtesCostsWhatClearingEachDoes) {
  SimRig a(vm_config(4096, 1024)), b(vm_config(4096, 1024));
  PteSet all{};
  for (SimRig* r : {&a, &b}) {
    touch_all(*r, 512);
    for (uint64_t vpn = 0; vpn < 512; vpn += 3) r->access(0, vpn, kWrite);
  }
  for (uint32_t i = 0; i < 40; ++i) {
    const uint32_t pte = i * 3 + (i > 20 ? 100 : 0);
    all[pte / 64] |= uint64_t{1} << (pte % 64);
    PteSet one{};
    one[pte / 64] = uint64_t{1} << (pte % 64);
    b.mech.clear_gpt_bits(b.gpt(0), one, PteBits::kDirty);
  }
  a.mech.clear_gpt_bits(a.gpt(0), all, PteBits::kDirty);
  EXPECT_EQ(a.vm.counters().scan_lines, 40u) << "every PTE written counts";
  EXPECT_EQ(a.vm.counters().scan_lines, b.vm.counters().scan_lines);
  EXPECT_EQ(a.vm.counters().scan_llc_misses, b.vm.counters().scan_llc_misses);
  EXPECT_DOUBLE_EQ(a.mech.thread().clock_ns, b.mech.thread().clock_ns);
  for (uint64_t vpn = 0; vpn < 512; ++vpn) {
    EXPECT_EQ(a.pte_bits(vpn), b.pte_bits(vpn)) << vpn;
    const bool cleared = (all[vpn / 64] >> (vpn % 64)) & 1;
    if (vpn % 3 == 0) {
      EXPECT_EQ((a.pte_bits(vpn) & PteBits::kDirty) == 0, cleared) << vpn;
    }
  }
}

// A scan that clears bits writes their lines; evicted, each is written back
// to host memory (the fast tier). Two identical runs differ only in the mask.
TEST(ScanLines, ClearingABitDirtiesItsLineForAWriteBack) {
  uint64_t wb[2] = {0, 0}, lines = 0;
  for (const int clear : {0, 1}) {
    SimRig rig(vm_config(4096, 1024));
    touch_all(rig, 200);
    lines = present_ept_lines(rig.vm);
    scan_ept(rig, clear ? PteBits::kAccessed : 0);
    const uint64_t before = rig.vm.counters().writebacks[0];
    for (uint64_t vpn = 200; vpn < 1024; ++vpn)  // 3.2 MiB of reads through a 1 MiB LLC
      for (uint32_t l = 0; l < 64; ++l) rig.access(0, vpn, kRead, l);
    wb[clear] = rig.vm.counters().writebacks[0] - before;
  }
  EXPECT_EQ(wb[1] - wb[0], lines) << "every line the scan cleared A in, and no other";
}

// Interference: a working set that fits the LLC hits it until a scan of a
// large EPT streams through; then part of it must come from memory again.
TEST(ScanInterference, AnEptScanEvictsTheVcpusCachedLines) {
  for (const bool scan : {false, true}) {
    SimRig rig(vm_config(1 << 16, 1 << 15), Json{{"llc_bytes", 256 << 10}});
    touch_all(rig, 1 << 15);  // 32768 present entries: 4096 EPT lines, 1 MiB
    for (int round = 0; round < 2; ++round)
      for (uint32_t l = 0; l < 1024; ++l)
        rig.access(0, l / 64, kRead, l % 64);  // 64 KiB working set
    const uint64_t misses = rig.vm.counters().llc_misses;
    if (scan) scan_ept(rig, 0);
    for (uint32_t l = 0; l < 1024; ++l) rig.access(0, l / 64, kRead, l % 64);
    if (scan) {
      EXPECT_GT(rig.vm.counters().llc_misses - misses, 512u)
          << "most of the working set was evicted by the scan";
    } else {
      EXPECT_EQ(rig.vm.counters().llc_misses, misses)
          << "without a scan the working set stays cached";
    }
  }
}

// --- End to end: records and the policy thread's core ----------------------

Json gups(const std::string& policy, const std::string& core = "") {
  Json j{
      {"workload",
       {{"impl", "gups"}, {"footprint", "32MiB"}, {"updates", 300000}, {"warmup_updates", 50000}}},
      {"policy", policy},
      {"ratio", "1:4"},
      {"host_overrides", {{"llc_bytes", "2MiB"}}},
      {"seed", 3}};
  if (!core.empty()) j["vm"]["policy_thread_core"] = core;
  return j;
}

TEST(ScanRecords, ScanningDesignsCountTheirLinesAndStaticOnesNone) {
  EXPECT_EQ(run_record(gups("first-touch")).at("counters").at("scan_lines").get<uint64_t>(), 0u);
  const Json r = run_record(gups("ept-scanner"));
  EXPECT_GT(r.at("counters").at("scan_lines").get<uint64_t>(), 0u);
  EXPECT_GT(r.at("counters").at("scan_llc_misses").get<uint64_t>(), 0u);
}

TEST(PolicyThreadCore, PinnedToVcpu0ItsWorkPreemptsTheVcpu) {
  const Json spare = run_record(gups("ept-scanner"));
  const Json pinned = run_record(gups("ept-scanner", "vcpu0"));
  EXPECT_EQ(spare.at("counters").at("core_steal_s").get<double>(), 0.0);
  const double stolen = pinned.at("counters").at("core_steal_s").get<double>();
  EXPECT_GT(stolen, 0.0);
  EXPECT_GT(pinned.at("sim_time_s").get<double>(), spare.at("sim_time_s").get<double>());
  EXPECT_EQ(pinned.at("config").at("run").at("vm").at("policy_thread_core"), "vcpu0");
  EXPECT_FALSE(spare.at("config").at("run").at("vm").contains("policy_thread_core"))
      << "the default leaves run keys as they were";
}

TEST(PolicyThreadCore, UnknownValuesAndGuestDesignsAreRefused) {
  EXPECT_THROW(run_record(gups("ept-scanner", "vcpu1")), SpecError);
  EXPECT_THROW(run_record(gups("hemem", "vcpu0")), SpecError);
}

}  // namespace scan_interference_test
}  // namespace vtmm::test
