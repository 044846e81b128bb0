// ProcessMemory over this test's own memory: the memory map from
// move_pages' query mode, the allowances, what it offers and refuses. The
// moves between two nodes and soft-dirty tracking need a two-node kernel
// with soft-dirty: ctest vm_numa_migration proves them inside a guest.
#include "vtmm/platform/process_memory.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "vtmm/platform/pagemap.hpp"
#include "vtmm/platform/policy_driver.hpp"

namespace vtmm::platform {
namespace {

// Eight private pages of which the first four are touched.
class ProcessMemoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    p_ = static_cast<char*>(
        ::mmap(nullptr, 8 * kPageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    ASSERT_NE(p_, MAP_FAILED);
    std::memset(p_, 1, 4 * kPageSize);
  }
  void TearDown() override { ::munmap(p_, 8 * kPageSize); }
  ProcessMemoryConfig config(int fast = 0, int slow = 1) const {
    return {::getpid(), {{reinterpret_cast<uint64_t>(p_), 8 * kPageSize}}, fast, slow, 2, 8};
  }
  char* p_ = nullptr;
};

TEST_F(ProcessMemoryTest, MapsTouchedPagesAsBackedOnTheirNode) {
  ProcessMemory m(config());
  EXPECT_EQ(m.guest_pages(), 8u);
  for (Gpa g = 0; g < 8; ++g) EXPECT_EQ(m.backed(g), g < 4) << g;
  // This machine's pages are on node 0, the fast node here.
  EXPECT_EQ(m.used_pages(Tier::Fast) + m.used_pages(Tier::Slow), 4u);
  EXPECT_EQ(m.capacity_pages(Tier::Fast), 2u);
  EXPECT_EQ(m.hva_of(3), reinterpret_cast<uint64_t>(p_) + 3 * kPageSize);
}

TEST_F(ProcessMemoryTest, RefusesBadRegionsAndOneNode) {
  auto c = config();
  c.regions[0].hva += 1;
  EXPECT_THROW(ProcessMemory{c}, std::invalid_argument);
  c = config();
  c.regions[0].bytes = 0;
  EXPECT_THROW(ProcessMemory{c}, std::invalid_argument);
  EXPECT_THROW(ProcessMemory(config(0, 0)), std::invalid_argument);
}

// Idle page tracking on a file standing in for the kernel's bitmap (no
// kernel here has CONFIG_IDLE_PAGE_TRACKING): a scan reads each present
// frame's bit (set: idle, so not accessed) and marks the frames idle again;
// the test clears a frame's bit as the kernel does when the page is used.
TEST_F(ProcessMemoryTest, AccessedBitsFromAnIdleBitmap) {
  const uint64_t pfn2 =
      pagemap_pfn(pagemap_entry("self", reinterpret_cast<uint64_t>(p_) + 2 * kPageSize));
  if (pfn2 == 0) GTEST_SKIP() << "pagemap hides frame numbers here (needs CAP_SYS_ADMIN)";
  char path[] = "/tmp/vtmm-page-idle-XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  auto c = config();
  c.page_idle_path = path;
  ProcessMemory m(c);
  ASSERT_TRUE(m.has_page_idle());
  EptAccessBits& ept = m.ept();
  std::vector<uint8_t> bits(8);
  // The file reads as zeros: every present page counts as accessed once.
  ept.scan_ept(PteBits::kAccessed, bits);
  for (Gpa g = 0; g < 8; ++g) EXPECT_EQ((bits[g] & PteBits::kAccessed) != 0, g < 4) << g;
  // Marked idle by that scan, in whole 8-byte words: nothing accessed since.
  uint64_t word = 0;
  ASSERT_EQ(::pread(fd, &word, 8, static_cast<off_t>(pfn2 / 64 * 8)), 8);
  EXPECT_EQ((word >> (pfn2 % 64)) & 1, 1u);
  ept.scan_ept(0, bits);
  for (Gpa g = 0; g < 8; ++g) EXPECT_EQ(bits[g] & PteBits::kAccessed, 0) << g;
  // Page 2 used: the kernel clears its idle bit.
  word &= ~(uint64_t{1} << (pfn2 % 64));
  ASSERT_EQ(::pwrite(fd, &word, 8, static_cast<off_t>(pfn2 / 64 * 8)), 8);
  ept.scan_ept(0, bits);
  for (Gpa g = 0; g < 8; ++g) EXPECT_EQ((bits[g] & PteBits::kAccessed) != 0, g == 2) << g;
  EXPECT_TRUE(ept.ept_bits(2) & PteBits::kAccessed);
  // folio_referenced's test and clear: young once, then idle again.
  EXPECT_TRUE(m.test_and_clear_young(2));
  EXPECT_FALSE(m.test_and_clear_young(2));
  ::close(fd);
  ::unlink(path);
}

TEST_F(ProcessMemoryTest, OffersWhatAStockKernelHas) {
  ProcessMemory m(config());
  // EPT bits only where this kernel keeps soft-dirty or idle pages.
  const bool bits = m.has_soft_dirty() || m.has_page_idle();
  for (int i = 0; i <= static_cast<int>(Mechanism::WriteProtect); ++i) {
    const auto x = static_cast<Mechanism>(i);
    EXPECT_EQ(m.offers(x), ProcessMemory::offered(x) && (x != Mechanism::EptAdBits || bits))
        << mechanism_name(x);
  }
  EXPECT_EQ(m.has_soft_dirty(), soft_dirty_works());
  EXPECT_TRUE(m.offers(Mechanism::Migrate));
  EXPECT_TRUE(m.offers(Mechanism::Exchange)) << "as two move_pages calls";
  EXPECT_FALSE(m.offers(Mechanism::Pml));
  EXPECT_FALSE(m.offers(Mechanism::GroundTruth));
  EXPECT_THROW(m.pml(), std::logic_error);
}

TEST_F(ProcessMemoryTest, OnlyLinuxMigrationAndNothingToMoveWhenInPlace) {
  ProcessMemory m(config());
  const Gpa gs[] = {0, 1};
  try {
    m.migrate(gs, Tier::Slow, MigrationMethod::Pml, 1);
    FAIL() << "PML migration needs a patched KVM";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("\"migration\": \"linux\""), std::string::npos)
        << e.what();
  }
  // Already on node 0 (fast): nothing to move, no system call.
  const MigrationResult r = m.migrate(gs, Tier::Fast, MigrationMethod::Linux, 1);
  EXPECT_EQ(r.moved, 0u);
  EXPECT_EQ(m.stats().move_calls, 0u);
}

TEST_F(ProcessMemoryTest, UnbackedPagesAreNeverMoved) {
  ProcessMemory m(config());
  const Gpa gs[] = {5, 6, 7};
  EXPECT_EQ(m.migrate(gs, Tier::Slow, MigrationMethod::Linux, 1).moved, 0u);
  EXPECT_EQ(m.stats().move_calls, 0u);
}

TEST(RealTimePolicy, RefusesDesignsThatNeedWhatAStockKernelLacks) {
  EXPECT_NO_THROW(
      make_real_time_policy(Json{{"impl", "ept-scanner"}, {"migration", "linux"}}, "p", 1));
  for (const char* name : {"vtmm", "hemem", "memtis"}) {
    try {
      make_real_time_policy(Json(name), "policy", 1);
      ADD_FAILURE() << name << " should be refused";
    } catch (const SpecError& e) {
      EXPECT_NE(std::string(e.what()).find("a stock kernel does not give"), std::string::npos)
          << e.what();
    }
  }
  EXPECT_THROW(make_real_time_policy(Json("no-such-design"), "policy", 1), SpecError);
}

}  // namespace
}  // namespace vtmm::platform

namespace vtmm::platform {
namespace {

// A design that only ticks (it asks for migration, which every ProcessMemory
// offers) and counts its ticks.
class CountTicks : public Policy {
 public:
  std::vector<Mechanism> needs() const override { return {Mechanism::Migrate}; }
  Tier place(Gpa, const Mechanisms&) override { return Tier::Fast; }
  double period_ns() const override { return 1e6; }  // 1 ms
  void tick(Mechanisms& m) override {
    ++ticks;
    (void)m.mover();                          // declared: reachable
    EXPECT_THROW(m.pml(), std::logic_error);  // not declared, not offered
  }
  void report(Json& out) const override { out["my_ticks"] = ticks; }
  uint64_t ticks = 0;
};

TEST_F(ProcessMemoryTest, TheDriverTicksTheDesignUntilDoneAndReportsIt) {
  ProcessMemory m(config());
  CountTicks pol;
  PolicyDriver d(pol, m, "vm");
  EXPECT_TRUE(d.run([&] { return pol.ticks >= 5; }, 60));
  EXPECT_EQ(pol.ticks, 5u);
  const Json r = d.report();
  EXPECT_EQ(r.at("ticks"), 5);
  EXPECT_EQ(r.at("policy").at("my_ticks"), 5);
  EXPECT_EQ(r.at("mechanisms"), Json::array({"migrate"}));
  EXPECT_EQ(r.at("memory").at("pages_moved"), 0);
}

TEST_F(ProcessMemoryTest, TheDriverRefusesADesignWhoseNeedsItLacks) {
  ProcessMemory m(config());
  struct NeedsPml final : CountTicks {
    std::vector<Mechanism> needs() const override { return {Mechanism::Pml}; }
  } pol;
  EXPECT_THROW(PolicyDriver(pol, m, "vm"), SpecError);
}

// The companion's hint-fault file, stood in for by a regular file: a request
// is {pid, count, addresses} at offset 0; a drain reads the fault records.
class HintFaultFile : public ProcessMemoryTest {
 protected:
  void SetUp() override {
    ProcessMemoryTest::SetUp();
    fd_ = ::mkstemp(path_);
    ASSERT_GE(fd_, 0);
  }
  void TearDown() override {
    ::close(fd_);
    ::unlink(path_);
    ProcessMemoryTest::TearDown();
  }
  ProcessMemoryConfig hint_config() const {
    auto c = config();
    c.hint_faults = true;
    c.hint_path = path_;
    return c;
  }
  void put_faults(const std::vector<HintFaultRecord>& rs) {
    ASSERT_EQ(::ftruncate(fd_, 0), 0);
    const auto bytes = static_cast<ssize_t>(rs.size() * sizeof(HintFaultRecord));
    ASSERT_EQ(::pwrite(fd_, rs.data(), rs.size() * sizeof(HintFaultRecord), 0), bytes);
  }
  uint64_t va(Gpa g) const { return reinterpret_cast<uint64_t>(p_) + g * kPageSize; }
  char path_[32] = "/tmp/vtmm-hint-XXXXXX";
  int fd_ = -1;
};

TEST_F(HintFaultFile, ProtectWritesOneRequestOfThePagesAddresses) {
  ProcessMemory m(hint_config());
  ASSERT_TRUE(m.offers(Mechanism::HintFaults));
  const Gpa gs[] = {1, 3};
  m.hints().protect_for_hint(gs);
  uint64_t words[4] = {};
  ASSERT_EQ(::pread(fd_, words, sizeof words, 0), static_cast<ssize_t>(sizeof words));
  uint32_t head[4];
  std::memcpy(head, words, sizeof head);
  EXPECT_EQ(head[0], static_cast<uint32_t>(::getpid()));
  EXPECT_EQ(head[1], 2u);
  EXPECT_EQ(head[2], static_cast<uint32_t>(HintOp::Protect));
  EXPECT_EQ(head[3], 0u);
  EXPECT_EQ(words[2], va(1));
  EXPECT_EQ(words[3], va(3));
  EXPECT_EQ(m.stats().hint_protected, 2u);
}

TEST_F(HintFaultFile, DrainedFaultsArePagesWithTheirArmingTimeAndLossesCounted) {
  ProcessMemory m(hint_config());
  const Gpa gs[] = {2};
  m.hints().protect_for_hint(gs);
  const double armed = m.now_ns();
  const auto mono = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::steady_clock::now().time_since_epoch())
                        .count();
  put_faults({{va(2) + 100, static_cast<uint64_t>(mono)},
              {va(3), static_cast<uint64_t>(mono)},               // not armed by the design
              {va(9) + 4096 * 100, static_cast<uint64_t>(mono)},  // outside the region
              {kHintLost, 5}});
  std::vector<HintFault> fs;
  m.drain_hint_faults(fs);
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0].gpa, 2u);
  EXPECT_LE(fs[0].protected_ns, armed);
  EXPECT_GE(fs[0].now_ns, fs[0].protected_ns) << "one clock: CLOCK_MONOTONIC";
  EXPECT_LE(fs[0].now_ns, m.now_ns());
  EXPECT_EQ(m.stats().hint_faults, 1u);
  EXPECT_EQ(m.stats().hint_elsewhere, 1u);
  EXPECT_EQ(m.stats().hint_not_armed, 1u);
  EXPECT_EQ(m.stats().hint_lost, 5u);
  m.drain_hint_faults(fs);  // the file still holds the same faults: page 2 is no longer armed
  EXPECT_TRUE(fs.empty());
}

TEST_F(HintFaultFile, ARequestHoldsAtMostTheModulesBound) {
  std::vector<uint64_t> vas(kHintMaxProtect + 1, 0);
  EXPECT_EQ(hint_request(fd_, 1, HintOp::Protect, vas), EINVAL);
  EXPECT_EQ(hint_request(fd_, 1, HintOp::Protect, std::span(vas).first(kHintMaxProtect)), 0);
}

// An armed page is made accessible before it moves (Linux 6.1's move_pages
// cannot find a PROT_NONE page); a faulted one is not armed any more.
TEST_F(HintFaultFile, ArmedPagesAreRestoredBeforeTheyMoveAndFaultedOnesAreNot) {
  ProcessMemory m(hint_config());
  const Gpa gs[] = {1, 2};
  m.hints().protect_for_hint(gs);
  put_faults({{va(2), 1}});
  std::vector<HintFault> fs;
  m.drain_hint_faults(fs);
  ASSERT_EQ(fs.size(), 1u);
  const Gpa both[] = {1, 2};
  m.migrate(both, Tier::Slow, MigrationMethod::Linux, 1);  // node 1 may not exist: no matter
  uint64_t words[3] = {};
  ASSERT_EQ(::pread(fd_, words, sizeof words, 0), static_cast<ssize_t>(sizeof words));
  uint32_t head[4];
  std::memcpy(head, words, sizeof head);
  EXPECT_EQ(head[1], 1u) << "only page 1 is still armed";
  EXPECT_EQ(head[2], static_cast<uint32_t>(HintOp::Restore));
  EXPECT_EQ(words[2], va(1));
  EXPECT_EQ(m.stats().hint_disarmed, 1u);
}

// The driver hands a tick's faults to the design before the tick.
struct FaultLog final : Policy {
  std::vector<Mechanism> needs() const override { return {Mechanism::HintFaults}; }
  double period_ns() const override { return 1e6; }
  Tier place(Gpa, const Mechanisms&) override { return Tier::Fast; }
  void on_hint_fault(const HintFault& f, Mechanisms&) override { seen.push_back(f.gpa); }
  void tick(Mechanisms&) override { ticks_seen_faults.push_back(seen.size()); }
  std::vector<Gpa> seen;
  std::vector<size_t> ticks_seen_faults;
};

TEST_F(HintFaultFile, TheDriverDeliversFaultsBeforeTheNextTick) {
  ProcessMemory m(hint_config());
  FaultLog pol;
  PolicyDriver d(pol, m, "vm");
  const Gpa armed[] = {0, 3};
  m.hints().protect_for_hint(armed);
  put_faults({{va(0), 1}, {va(3), 2}});
  d.run([&] { return !pol.ticks_seen_faults.empty(); }, 5);
  ASSERT_FALSE(pol.ticks_seen_faults.empty());
  EXPECT_EQ(pol.ticks_seen_faults[0], 2u);
  EXPECT_EQ(pol.seen, (std::vector<Gpa>{0, 3}));
  EXPECT_EQ(d.report().at("hint_faults_delivered"), 2);
}

TEST(RealTimePolicy, HintFaultDesignsNeedTheCompanionModuleAndGuestDesignsItsKernel) {
  try {
    make_real_time_policy(Json("autonuma"), "policy", 1);
    ADD_FAILURE() << "autonuma needs hint faults";
  } catch (const SpecError& e) {
    EXPECT_NE(std::string(e.what()).find("companion module"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(make_real_time_policy(Json("autonuma"), "policy", 1, nullptr, {.hints = true}));
  // tpp runs in the guest: its page tables, its NUMA nodes, its hint faults.
  EXPECT_THROW(make_real_time_policy(Json("tpp"), "policy", 1, nullptr,
                                     {.page_tables = true, .hints = true}),
               SpecError);
  EXPECT_NO_THROW(make_real_time_policy(Json("tpp"), "policy", 1, nullptr,
                                        {.page_tables = true, .hints = true, .own = true}));
}

TEST_F(ProcessMemoryTest, HintFaultsNeedTheModulesFile) {
  if (ProcessMemory::hint_faults_available()) GTEST_SKIP() << "the companion is loaded here";
  auto c = config();
  c.hint_faults = true;
  try {
    ProcessMemory m(c);
    FAIL() << "no /proc/vtmm_hint here";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(kHintPath), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace vtmm::platform
