#include "vtmm/platform/process_page_tables.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "vtmm/platform/elapsed.hpp"

namespace vtmm::platform {
namespace {

// x86-64 PTE bits (Intel SDM vol. 3A, table 4-19).
constexpr uint64_t kPtePresent = 1, kPteAccessed = 1 << 5, kPteDirty = 1 << 6;
constexpr uint64_t kTableSpan = uint64_t{kPtesPerPage} * kPageSize;  // 2 MiB

}  // namespace

ProcessPageTables::ProcessPageTables(int pid, uint32_t guest_pages,
                                     std::function<Gpa(uint64_t)> page_of,
                                     const std::string& companion)
    : pid_(pid), pages_(guest_pages), page_of_(std::move(page_of)) {
  fd_ = ::open(companion.c_str(), O_RDWR | O_CLOEXEC);
  if (fd_ < 0)
    throw std::runtime_error("page tables: cannot open " + companion +
                             " (is vtmm_gpt loaded?): " + std::strerror(errno));
}

ProcessPageTables::~ProcessPageTables() {
  if (fd_ >= 0) ::close(fd_);
}

bool ProcessPageTables::available(const std::string& companion) {
  return ::access(companion.c_str(), R_OK | W_OK) == 0;
}

void ProcessPageTables::walk() {
  const auto t = std::chrono::steady_clock::now();
  const std::string cmd = std::to_string(pid_) + " 3";  // clear accessed and dirty
  if (::pwrite(fd_, cmd.data(), cmd.size(), 0) != static_cast<ssize_t>(cmd.size()))
    throw std::runtime_error("page tables: the companion's walk of pid " + std::to_string(pid_) +
                             " failed: " + std::strerror(errno));
  // At most the module's bound, however much the file offers.
  buf_.resize(kCompanionMaxTables);
  auto* bytes = reinterpret_cast<char*>(buf_.data());
  const size_t cap = buf_.size() * sizeof(CompanionTable);
  size_t got = 0;
  while (got < cap) {
    const ssize_t n = ::pread(fd_, bytes + got, cap - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      throw std::runtime_error(std::string("page tables: reading the walk failed: ") +
                               std::strerror(errno));
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  take(std::span(buf_.data(), got / sizeof(CompanionTable)));
  stats_.walk_s += seconds_since(t);
}

uint32_t ProcessPageTables::index_of(uint64_t va) {
  const auto it = std::lower_bound(by_va_.begin(), by_va_.end(), std::pair{va, uint32_t{0}});
  if (it != by_va_.end() && it->first == va) return it->second;
  const auto idx = static_cast<uint32_t>(tables_.size());
  by_va_.insert(it, {va, idx});
  tables_.push_back(Table{.va = va});
  ids_.push_back(pages_ + idx);
  return idx;
}

// A table absent from a walk maps nothing now; one whose address is not a
// table's (2 MiB aligned) is dropped and counted.
void ProcessPageTables::take(std::span<const CompanionTable> records) {
  std::vector<uint8_t> in_walk(tables_.size(), 0);
  for (const CompanionTable& r : records) {
    if (r.va % kTableSpan != 0) {
      ++stats_.rejected;
      continue;
    }
    const uint32_t idx = index_of(r.va);
    in_walk.resize(tables_.size(), 0);
    in_walk[idx] = 1;
    Table& t = tables_[idx];
    for (uint32_t i = 0; i < kPtesPerPage; ++i) {
      const uint64_t e = r.pte[i];
      const bool present = e & kPtePresent;
      t.target[i] = present ? page_of_(r.va + i * kPageSize) : kNone;
      if (t.target[i] >= pages_) t.target[i] = kNone;
      const bool tracked = t.target[i] != kNone;
      t.bits[i] = static_cast<uint8_t>((tracked && (e & kPteAccessed) ? PteBits::kAccessed : 0) |
                                       (tracked && (e & kPteDirty) ? PteBits::kDirty : 0));
      stats_.present += tracked;
      stats_.accessed += (t.bits[i] & PteBits::kAccessed) != 0;
      stats_.dirty += (t.bits[i] & PteBits::kDirty) != 0;
    }
  }
  for (uint32_t idx = 0; idx < tables_.size(); ++idx) {
    if (in_walk[idx]) continue;
    tables_[idx].target.fill(kNone);
    tables_[idx].bits.fill(0);
  }
  ++stats_.walks;
  stats_.tables = records.size();
}

const ProcessPageTables::Table& ProcessPageTables::table(Gpa gpt) const {
  if (gpt < pages_ || gpt - pages_ >= tables_.size())
    throw std::out_of_range("page tables: no table " + std::to_string(gpt));
  return tables_[gpt - pages_];
}

void ProcessPageTables::scan_gpt_page(Gpa gpt, uint8_t, std::span<PteBits, kPtesPerPage> out) {
  const Table& t = table(gpt);
  for (uint32_t i = 0; i < kPtesPerPage; ++i)
    out[i] = {t.target[i],
              static_cast<uint8_t>(t.bits[i] | (t.target[i] != kNone ? PteBits::kPresent : 0))};
}

GptView ProcessPageTables::read_gpt_page(Gpa gpt, GptCopy&) {
  const Table& t = table(gpt);
  return {t.target.data(), t.bits.data(), 1};
}

Json ProcessPageTables::report() const {
  return {{"source", "companion module (/proc/vtmm_gpt) on the process's own page tables"},
          {"walks", stats_.walks},
          {"tables_last_walk", stats_.tables},
          {"tables_seen", tables_.size()},
          {"ptes_present", stats_.present},
          {"ptes_accessed", stats_.accessed},
          {"ptes_dirty", stats_.dirty},
          {"records_rejected", stats_.rejected},
          {"walk_s", stats_.walk_s}};
}

}  // namespace vtmm::platform
