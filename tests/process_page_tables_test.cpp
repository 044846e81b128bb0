// ProcessPageTables: the guest companion module's records turned into the
// guest page-table mechanisms. The walk itself needs the module loaded
// (ctest vm_numa_migration runs it in a guest); here its records are made
// by hand and handed to take().
#include "vtmm/platform/process_page_tables.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <vector>

namespace vtmm::platform {
namespace {

constexpr uint64_t kBase = uint64_t{64} << 21;  // tracked: 1024 pages from here
constexpr uint32_t kPages = 1024;
constexpr uint64_t kPresent = 1, kA = 1 << 5, kD = 1 << 6;

Gpa page_of(uint64_t va) {
  return va >= kBase && va < kBase + kPages * kPageSize ? static_cast<Gpa>((va - kBase) / kPageSize)
                                                        : kNone;
}

class ProcessPageTablesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char name[] = "/tmp/vtmm-companion-XXXXXX";  // stands in for /proc/vtmm_gpt
    const int fd = ::mkstemp(name);
    ASSERT_GE(fd, 0);
    ::close(fd);
    path_ = name;
    t_ = std::make_unique<ProcessPageTables>(1, kPages, page_of, path_);
  }
  void TearDown() override {
    t_.reset();
    ::unlink(path_.c_str());
  }
  static CompanionTable table(uint64_t va) {
    CompanionTable r{};
    r.va = va;
    return r;
  }
  std::string path_;
  std::unique_ptr<ProcessPageTables> t_;
};

TEST_F(ProcessPageTablesTest, TurnsPtesIntoTrackedPagesAndTheirBits) {
  CompanionTable a = table(kBase), b = table(kBase - (uint64_t{1} << 21));  // b: below, untracked
  a.pte[0] = kPresent | kA | (uint64_t{0x1234} << 12);
  a.pte[1] = kPresent | kA | kD;
  a.pte[2] = kPresent;
  a.pte[3] = kA | kD;  // not present (a swap entry's bits mean nothing)
  b.pte[0] = kPresent | kA;
  const std::vector<CompanionTable> walk = {b, a};
  t_->take(walk);
  ASSERT_EQ(t_->gpt_pages().size(), 2u);
  for (Gpa id : t_->gpt_pages()) EXPECT_GE(id, kPages) << "tables are not tracked pages";
  GptCopy copy;
  const GptView va = t_->read_gpt_page(t_->gpt_pages()[1], copy);
  EXPECT_EQ(va.target[0], 0u);
  EXPECT_EQ(va.ad(0), PteBits::kAccessed);
  EXPECT_EQ(va.target[1], 1u);
  EXPECT_EQ(va.ad(1), PteBits::kAccessed | PteBits::kDirty);
  EXPECT_EQ(va.target[2], 2u);
  EXPECT_EQ(va.ad(2), 0);
  EXPECT_EQ(va.target[3], kNone);
  EXPECT_EQ(va.ad(3), 0);
  const GptView vb = t_->read_gpt_page(t_->gpt_pages()[0], copy);
  EXPECT_EQ(vb.target[0], kNone) << "outside the tracked region";
  EXPECT_EQ(vb.ad(0), 0);
  EXPECT_THROW(t_->read_gpt_page(0, copy), std::out_of_range);
}

TEST_F(ProcessPageTablesTest, KeepsNamesAcrossWalksAndEmptiesTablesThatWent) {
  CompanionTable a = table(kBase), c = table(kBase + (uint64_t{1} << 21));
  a.pte[5] = kPresent | kA;
  c.pte[7] = kPresent | kD;
  std::vector<CompanionTable> walk = {a, c};
  t_->take(walk);
  const std::vector<Gpa> first(t_->gpt_pages().begin(), t_->gpt_pages().end());
  walk = {c};  // a's range was unmapped
  t_->take(walk);
  ASSERT_EQ(t_->gpt_pages().size(), 2u) << "the list only grows: the tracker indexes it";
  EXPECT_EQ(std::vector<Gpa>(t_->gpt_pages().begin(), t_->gpt_pages().end()), first);
  GptCopy copy;
  EXPECT_EQ(t_->read_gpt_page(first[0], copy).target[5], kNone);
  EXPECT_EQ(t_->read_gpt_page(first[1], copy).target[7], 512u + 7u);
  EXPECT_EQ(t_->read_gpt_page(first[1], copy).ad(7), PteBits::kDirty);
}

TEST_F(ProcessPageTablesTest, DropsARecordThatIsNotATable) {
  CompanionTable bad = table(kBase + 4096);  // not 2 MiB aligned
  bad.pte[0] = kPresent | kA;
  const std::vector<CompanionTable> walk = {bad};
  t_->take(walk);
  EXPECT_TRUE(t_->gpt_pages().empty());
  EXPECT_EQ(t_->stats().rejected, 1u);
}

TEST_F(ProcessPageTablesTest, RefusesAnAbsentCompanion) {
  EXPECT_FALSE(ProcessPageTables::available("/nonexistent/vtmm_gpt"));
  EXPECT_THROW(ProcessPageTables(1, kPages, page_of, "/nonexistent/vtmm_gpt"), std::runtime_error);
}

}  // namespace
}  // namespace vtmm::platform
