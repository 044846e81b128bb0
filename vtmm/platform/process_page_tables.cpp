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

constexpr uint64_t kTableSpan = uint64_t{kPtesPerPage} * kPageSize;  // 2 MiB

}  // namespace

void PageTableSnapshot::begin() { in_walk_.assign(tables_.size(), 0); }

PageTableSnapshot::Table& PageTableSnapshot::put(uint64_t key, Gpa id_if_new) {
  auto it = std::lower_bound(by_key_.begin(), by_key_.end(), std::pair{key, uint32_t{0}});
  uint32_t idx;
  if (it != by_key_.end() && it->first == key) {
    idx = it->second;
  } else {
    idx = static_cast<uint32_t>(tables_.size());
    by_key_.insert(it, {key, idx});
    const auto at =
        std::lower_bound(by_id_.begin(), by_id_.end(), std::pair{id_if_new, uint32_t{0}});
    by_id_.insert(at, {id_if_new, idx});
    tables_.emplace_back();
    ids_.push_back(id_if_new);
    in_walk_.push_back(0);
  }
  in_walk_[idx] = 1;
  return tables_[idx];
}

void PageTableSnapshot::set(Table& t, uint32_t i, Gpa target, bool accessed, bool dirty) {
  const bool tracked = target < pages_;
  t.target[i] = tracked ? target : kNone;
  t.bits[i] = static_cast<uint8_t>((tracked && accessed ? PteBits::kAccessed : 0) |
                                   (tracked && dirty ? PteBits::kDirty : 0));
  stats_.present += tracked;
  stats_.accessed += tracked && accessed;
  stats_.dirty += tracked && dirty;
}

void PageTableSnapshot::end(uint64_t tables_found) {
  for (uint32_t idx = 0; idx < tables_.size(); ++idx) {
    if (in_walk_[idx]) continue;
    tables_[idx].target.fill(kNone);
    tables_[idx].bits.fill(0);
  }
  ++stats_.walks;
  stats_.tables = tables_found;
}

uint32_t PageTableSnapshot::index_of(Gpa id) const {
  const auto it = std::lower_bound(by_id_.begin(), by_id_.end(), std::pair{id, uint32_t{0}});
  if (it == by_id_.end() || it->first != id)
    throw std::out_of_range("page tables: no table " + std::to_string(id));
  return it->second;
}

void PageTableSnapshot::scan_gpt_page(Gpa gpt, uint8_t, std::span<PteBits, kPtesPerPage> out) {
  const Table& t = tables_[index_of(gpt)];
  for (uint32_t i = 0; i < kPtesPerPage; ++i)
    out[i] = {t.target[i],
              static_cast<uint8_t>(t.bits[i] | (t.target[i] != kNone ? PteBits::kPresent : 0))};
}

GptView PageTableSnapshot::read_gpt_page(Gpa gpt, GptCopy&) {
  const Table& t = tables_[index_of(gpt)];
  return {t.target.data(), t.bits.data(), 1};
}

Json PageTableSnapshot::stats_json() const {
  return {{"walks", stats_.walks},
          {"tables_last_walk", stats_.tables},
          {"tables_seen", tables_.size()},
          {"ptes_present_summed", stats_.present},
          {"ptes_accessed_summed", stats_.accessed},
          {"ptes_dirty_summed", stats_.dirty},
          {"records_rejected", stats_.rejected},
          {"walk_s", stats_.walk_s}};
}

ProcessPageTables::ProcessPageTables(int pid, uint32_t guest_pages,
                                     std::function<Gpa(uint64_t)> page_of,
                                     const std::string& companion)
    : PageTableSnapshot(guest_pages), pid_(pid), page_of_(std::move(page_of)) {
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
  if (const int err = companion_walk(fd_, pid_, kClearAccessed | kClearDirty, buf_); err != 0)
    throw std::runtime_error("page tables: the companion's walk of pid " + std::to_string(pid_) +
                             " failed: " + std::strerror(err));
  take(buf_);
  stats_.walk_s += seconds_since(t);
}

// A record whose address is not a table's (2 MiB aligned) is dropped and counted.
void ProcessPageTables::take(std::span<const CompanionTable> records) {
  begin();
  for (const CompanionTable& r : records) {
    if (r.va % kTableSpan != 0) {
      ++stats_.rejected;
      continue;
    }
    Table& t = put(r.va, static_cast<Gpa>(pages_ + known()));
    for (uint32_t i = 0; i < kPtesPerPage; ++i) {
      const uint64_t e = r.pte[i];
      set(t, i, (e & kPtePresent) ? page_of_(r.va + i * kPageSize) : kNone, e & kPteAccessed,
          e & kPteDirty);
    }
  }
  end(records.size());
}

Json ProcessPageTables::report() const {
  Json j = stats_json();
  j["source"] = "companion module (/proc/vtmm_gpt) on the process's own page tables";
  return j;
}

}  // namespace vtmm::platform
