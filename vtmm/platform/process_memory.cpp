#include "vtmm/platform/process_memory.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "vtmm/platform/elapsed.hpp"
#include "vtmm/platform/page_moves.hpp"
#include "vtmm/platform/pagemap.hpp"

namespace vtmm::platform {
namespace {

constexpr uint64_t kPresent = kPagemapPresent, kSoftDirty = kPagemapSoftDirty;
constexpr uint64_t kPfnMask = kPagemapPfnMask;
constexpr size_t kChunk = 16384;  // pages per move_pages call

int open_or(const std::string& path, int flags, bool required) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0 && required)
    throw std::runtime_error("process memory: cannot open " + path + ": " + std::strerror(errno));
  return fd;
}

}  // namespace

bool soft_dirty_works() {
  // clear_refs "4" clears soft-dirty bits; a write then sets bit 55 in pagemap.
  // (A kernel without CONFIG_MEM_SOFT_DIRTY takes the write and sets nothing.)
  void* p = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return false;
  static_cast<volatile char*>(p)[0] = 1;
  bool ok = false;
  {
    const int cr = ::open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
    const bool cleared = cr >= 0 && ::write(cr, "4", 1) == 1;
    if (cr >= 0) ::close(cr);
    if (cleared) {
      static_cast<volatile char*>(p)[0] = 2;
      ok = pagemap_entry("self", reinterpret_cast<uintptr_t>(p)) & kPagemapSoftDirty;
    }
  }
  ::munmap(p, 4096);
  return ok;
}

ProcessMemory::ProcessMemory(ProcessMemoryConfig c)
    : c_(std::move(c)), t0_(std::chrono::steady_clock::now()) {
  uint64_t pages = 0;
  for (const auto& r : c_.regions) {
    if (r.bytes == 0 || r.hva % kPageSize || r.bytes % kPageSize)
      throw std::invalid_argument("process memory: regions must be non-empty and page-aligned");
    pages += r.bytes / kPageSize;
  }
  if (pages == 0 || pages > UINT32_MAX)
    throw std::invalid_argument("process memory: 1 .. 2^32-1 pages");
  if (c_.fast_node == c_.slow_node)
    throw std::invalid_argument("process memory: the fast and the slow node must differ");
  node_.assign(pages, -ENOENT);
  const std::string proc = "/proc/" + std::to_string(c_.pid);
  pagemap_fd_ = open_or(proc + "/pagemap", O_RDONLY, true);
  clear_refs_fd_ = open_or(proc + "/clear_refs", O_WRONLY, true);
  idle_fd_ = open_or(c_.page_idle_path, O_RDWR, false);
  soft_dirty_ = soft_dirty_works();
  if (c_.hint_faults) {
    hint_fd_ = open_or(c_.hint_path, O_RDWR, true);
    armed_ns_.assign(pages, 0);
    armed_.assign(pages, 0);
  }
  if (c_.own_page_tables)
    tables_ = std::make_unique<ProcessPageTables>(c_.pid, static_cast<uint32_t>(pages),
                                                  [this](uint64_t hva) { return page_of(hva); });
  provide(all());
  refresh();
}

ProcessMemory::~ProcessMemory() {
  // Stops the module recording (and overruling the kernel for) the process.
  if (hint_fd_ >= 0) hint_request(hint_fd_, c_.pid, HintOp::Protect, {});
  for (int fd : {pagemap_fd_, clear_refs_fd_, idle_fd_, hint_fd_})
    if (fd >= 0) ::close(fd);
}

bool ProcessMemory::hint_faults_available() { return ::access(kHintPath, W_OK) == 0; }

uint64_t ProcessMemory::hva_of(uint64_t g) const {
  for (const auto& r : c_.regions) {
    const uint64_t n = r.bytes / kPageSize;
    if (g < n) return r.hva + g * kPageSize;
    g -= n;
  }
  throw std::out_of_range("process memory: page beyond the regions");
}

Gpa ProcessMemory::page_of(uint64_t hva) const {
  uint64_t g = 0;
  for (const auto& r : c_.regions) {
    if (hva >= r.hva && hva - r.hva < r.bytes)
      return static_cast<Gpa>(g + (hva - r.hva) / kPageSize);
    g += r.bytes / kPageSize;
  }
  return kNone;
}

void ProcessMemory::refresh() {
  if (tables_ && offers(Mechanism::GptList)) tables_->walk();
  std::vector<void*> addr;
  std::vector<int> status;
  used_[0] = used_[1] = 0;
  for (size_t at = 0; at < node_.size(); at += kChunk) {
    const size_t n = std::min(kChunk, node_.size() - at);
    addr.resize(n);
    for (size_t i = 0; i < n; ++i) addr[i] = reinterpret_cast<void*>(hva_of(at + i));
    if (!query_nodes(c_.pid, addr, status))
      throw std::runtime_error(std::string("process memory: move_pages query failed: ") +
                               std::strerror(errno));
    for (size_t i = 0; i < n; ++i) {
      // Linux 6.1's move_pages does not find a page made PROT_NONE for a
      // hint fault (gup_can_follow_protnone): one armed and not yet faulted
      // has not moved, so it keeps its node.
      if (status[i] == -ENOENT && !armed_.empty() && armed_[at + i]) continue;
      node_[at + i] = status[i];
    }
  }
  for (int nd : node_)
    if (nd >= 0) ++used_[nd == c_.fast_node ? 0 : 1];
}

Tier ProcessMemory::tier_of(Gpa g) const {
  return g < node_.size() && node_[g] == c_.fast_node ? Tier::Fast : Tier::Slow;
}

uint64_t ProcessMemory::capacity_pages(Tier t) const {
  return t == Tier::Fast ? c_.fast_pages : c_.slow_pages;
}

uint64_t ProcessMemory::used_pages(Tier t) const { return used_[t == Tier::Fast ? 0 : 1]; }

double ProcessMemory::now_ns() const { return seconds_since(t0_) * 1e9; }

void ProcessMemory::read_pagemap(std::vector<uint64_t>& out) const {
  out.resize(node_.size());
  size_t at = 0;
  for (const auto& r : c_.regions) {
    const size_t n = r.bytes / kPageSize;
    const off_t off = static_cast<off_t>(r.hva / kPageSize * 8);
    const ssize_t want = static_cast<ssize_t>(n * 8);
    if (::pread(pagemap_fd_, out.data() + at, static_cast<size_t>(want), off) != want)
      throw std::runtime_error(std::string("process memory: pagemap read failed: ") +
                               std::strerror(errno));
    at += n;
  }
}

void ProcessMemory::clear_soft_dirty() {
  if (::pwrite(clear_refs_fd_, "4", 1, 0) != 1)
    throw std::runtime_error(std::string("process memory: clear_refs failed: ") +
                             std::strerror(errno));
}

void ProcessMemory::mark_idle(const std::vector<uint64_t>& pfns) {
  if (idle_fd_ < 0 || pfns.empty()) return;
  const auto [lo, hi] = std::minmax_element(pfns.begin(), pfns.end());
  const uint64_t w0 = *lo / 64, words = *hi / 64 - w0 + 1;
  std::vector<uint64_t> bits(words, 0);
  for (uint64_t p : pfns) bits[p / 64 - w0] |= uint64_t{1} << (p % 64);
  // Writes are whole 8-byte words; zero bits leave their pages alone.
  if (::pwrite(idle_fd_, bits.data(), words * 8, static_cast<off_t>(w0 * 8)) < 0)
    throw std::runtime_error(std::string("process memory: page_idle write failed: ") +
                             std::strerror(errno));
}

bool ProcessMemory::idle(uint64_t pfn) const {
  uint64_t w = 0;
  if (::pread(idle_fd_, &w, 8, static_cast<off_t>(pfn / 64 * 8)) != 8) return false;
  return (w >> (pfn % 64)) & 1;
}

// Accessed and dirty of each page from its pagemap entry and, where the
// kernel tracks idle pages, the idle bitmap read once over the frames' range.
void ProcessMemory::scan_ept(uint8_t clear_mask, std::span<uint8_t> out) {
  const auto t = std::chrono::steady_clock::now();
  read_pagemap(pagemap_);
  std::vector<uint64_t> idle_words, present_pfns;
  uint64_t w0 = 0;
  if (idle_fd_ >= 0) {
    uint64_t lo = UINT64_MAX, hi = 0;
    for (uint64_t e : pagemap_)
      if (e & kPresent) lo = std::min(lo, e & kPfnMask), hi = std::max(hi, e & kPfnMask);
    if (lo <= hi) {
      w0 = lo / 64;
      idle_words.assign(hi / 64 - w0 + 1, 0);
      const ssize_t want = static_cast<ssize_t>(idle_words.size() * 8);
      if (::pread(idle_fd_, idle_words.data(), idle_words.size() * 8, static_cast<off_t>(w0 * 8)) !=
          want)
        idle_words.assign(idle_words.size(),
                          0);  // unreadable: every present page counts as accessed
    }
  }
  for (size_t g = 0; g < out.size() && g < pagemap_.size(); ++g) {
    const uint64_t e = pagemap_[g];
    uint8_t b = 0;
    if (e & kPresent) {
      const bool dirty = e & kSoftDirty;
      bool accessed = dirty;  // without idle tracking: only what was written is seen
      if (!idle_words.empty()) {
        const uint64_t pfn = e & kPfnMask;
        accessed = !((idle_words[pfn / 64 - w0] >> (pfn % 64)) & 1);
        present_pfns.push_back(pfn);
        stats_.idle_accessed_pages += accessed;
      }
      b = static_cast<uint8_t>((accessed ? PteBits::kAccessed : 0) | (dirty ? PteBits::kDirty : 0));
      stats_.soft_dirty_pages += dirty;
    }
    out[g] = b;
  }
  // Without idle tracking A is D, so clearing A clears soft-dirty too.
  if ((clear_mask & PteBits::kDirty) || ((clear_mask & PteBits::kAccessed) && idle_fd_ < 0))
    clear_soft_dirty();
  if (clear_mask & PteBits::kAccessed) mark_idle(present_pfns);
  ++stats_.scans;
  stats_.scan_s += seconds_since(t);
}

uint8_t ProcessMemory::ept_bits(Gpa g) {
  const uint64_t e = pagemap_entry(pagemap_fd_, hva_of(g));
  if (!(e & kPresent)) return 0;
  const bool dirty = e & kSoftDirty;
  const bool accessed = idle_fd_ >= 0 ? !idle(e & kPfnMask) : dirty;
  return static_cast<uint8_t>((accessed ? PteBits::kAccessed : 0) | (dirty ? PteBits::kDirty : 0));
}

// Soft-dirty is cleared for the whole process (clear_refs has no range):
// clearing D of some pages clears it for all.
void ProcessMemory::clear_ept_bits(std::span<const Gpa> gs, uint8_t mask) {
  if ((mask & PteBits::kDirty) || ((mask & PteBits::kAccessed) && idle_fd_ < 0)) clear_soft_dirty();
  if (!(mask & PteBits::kAccessed) || idle_fd_ < 0) return;
  std::vector<uint64_t> pfns;
  for (Gpa g : gs) {
    const uint64_t e = pagemap_entry(pagemap_fd_, hva_of(g));
    if (e & kPresent) pfns.push_back(e & kPfnMask);
  }
  mark_idle(pfns);
}

// With idle tracking: folio_referenced's test and clear of one page. Without
// it only a test of soft-dirty (clearing it would clear every page's).
bool ProcessMemory::test_and_clear_young(Gpa g) {
  const bool young = ept_bits(g) & PteBits::kAccessed;
  if (young && idle_fd_ >= 0) {
    const Gpa one[] = {g};
    clear_ept_bits(one, PteBits::kAccessed);
  }
  return young;
}

uint32_t ProcessMemory::move(const std::vector<Gpa>& gs, int node) {
  std::vector<void*> addr(gs.size());
  std::vector<int> status;
  for (size_t i = 0; i < gs.size(); ++i) addr[i] = reinterpret_cast<void*>(hva_of(gs[i]));
  disarm(gs);
  ++stats_.move_calls;
  move_to_node(c_.pid, addr, node, status);
  uint32_t moved = 0;
  for (size_t i = 0; i < gs.size(); ++i) {
    const int was = node_[gs[i]];
    if (status[i] == node) {
      ++moved;
      if (was >= 0 && was != node)
        --used_[was == c_.fast_node ? 0 : 1], ++used_[node == c_.fast_node ? 0 : 1];
      node_[gs[i]] = node;
    } else {
      ++stats_.move_failed;
    }
  }
  return moved;
}

MigrationResult ProcessMemory::migrate(std::span<const Gpa> gs, Tier to, MigrationMethod how,
                                       uint32_t) {
  if (how != MigrationMethod::Linux)
    throw std::runtime_error(
        "migration: only PM_Linux (move_pages) on a stock kernel; the write-protect and PML "
        "methods need a patched KVM (spec: \"migration\": \"linux\")");
  const auto t = std::chrono::steady_clock::now();
  const int node = to == Tier::Fast ? c_.fast_node : c_.slow_node;
  const uint64_t room =
      used_pages(to) < capacity_pages(to) ? capacity_pages(to) - used_pages(to) : 0;
  std::vector<Gpa> batch;
  for (Gpa g : gs) {
    if (!backed(g) || tier_of(g) == to) continue;
    if (batch.size() >= room) {
      ++stats_.skipped_no_room;
      continue;
    }
    batch.push_back(g);
  }
  MigrationResult r;
  for (size_t at = 0; at < batch.size(); at += kChunk) {
    const std::vector<Gpa> part(
        batch.begin() + static_cast<ptrdiff_t>(at),
        batch.begin() + static_cast<ptrdiff_t>(std::min(batch.size(), at + kChunk)));
    r.moved += move(part, node);
  }
  stats_.moved += r.moved;
  (to == Tier::Fast ? stats_.to_fast : stats_.to_slow) += r.moved;
  r.busy_ns = seconds_since(t) * 1e9;
  stats_.move_s += r.busy_ns / 1e9;
  return r;
}

// Pairs whose fast page is on the fast node and slow page on the slow one:
// the fast pages go down, then as many slow pages come up as went down.
MigrationResult ProcessMemory::exchange(std::span<const std::pair<Gpa, Gpa>> pairs, uint32_t) {
  const auto t = std::chrono::steady_clock::now();
  std::vector<Gpa> down, up;
  for (const auto& [f, sl] : pairs) {
    if (!backed(f) || !backed(sl) || tier_of(f) != Tier::Fast || tier_of(sl) != Tier::Slow)
      continue;
    down.push_back(f);
    up.push_back(sl);
  }
  MigrationResult r;
  for (size_t at = 0; at < down.size(); at += kChunk) {
    const auto end = static_cast<ptrdiff_t>(std::min(down.size(), at + kChunk));
    const std::vector<Gpa> d(down.begin() + static_cast<ptrdiff_t>(at), down.begin() + end);
    const uint32_t went = move(d, c_.slow_node);
    const std::vector<Gpa> u(up.begin() + static_cast<ptrdiff_t>(at),
                             up.begin() + static_cast<ptrdiff_t>(at) + went);
    const uint32_t came = move(u, c_.fast_node);
    stats_.to_slow += went;
    stats_.to_fast += came;
    stats_.moved += went + came;
    r.moved += came;
  }
  stats_.exchanged_pairs += r.moved;
  r.busy_ns = seconds_since(t) * 1e9;
  stats_.move_s += r.busy_ns / 1e9;
  return r;
}

// Pages not present stay as they are (a first touch is not a hint fault).
void ProcessMemory::protect_for_hint(std::span<const Gpa> gs) {
  const auto t = std::chrono::steady_clock::now();
  const double now = now_ns();
  std::vector<Gpa> batch;
  for (Gpa g : gs)
    if (g < armed_.size()) batch.push_back(g);
  hint_send(HintOp::Protect, batch);
  for (Gpa g : batch) armed_ns_[g] = now, armed_[g] = 1;
  stats_.hint_protected += batch.size();
  stats_.hint_s += seconds_since(t);
}

void ProcessMemory::hint_send(HintOp op, std::span<const Gpa> gs) {
  std::vector<uint64_t> vas;
  for (size_t at = 0; at < gs.size(); at += kHintMaxProtect) {
    vas.clear();
    for (size_t i = at; i < std::min(gs.size(), at + kHintMaxProtect); ++i)
      vas.push_back(hva_of(gs[i]));
    if (const int err = hint_request(hint_fd_, c_.pid, op, vas); err != 0)
      throw std::runtime_error(std::string("process memory: hint-fault request failed: ") +
                               std::strerror(err));
  }
}

// Linux 6.1's move_pages cannot move a page armed for a hint fault (see
// refresh); migration makes a page accessible anyway (remove_migration_pte
// maps the new page with the mapping's protection), so an armed page is
// made accessible first. Its hint is lost, as the kernel's would be.
void ProcessMemory::disarm(std::span<const Gpa> gs) {
  if (armed_.empty()) return;
  std::vector<Gpa> armed;
  for (Gpa g : gs)
    if (armed_[g]) armed.push_back(g), armed_[g] = 0;
  hint_send(HintOp::Restore, armed);
  stats_.hint_disarmed += armed.size();
}

void ProcessMemory::drain_hint_faults(std::vector<HintFault>& out) {
  out.clear();
  if (const int err = hint_drain(hint_fd_, hint_buf_); err != 0)
    throw std::runtime_error(std::string("process memory: reading hint faults failed: ") +
                             std::strerror(err));
  // The module's clock is CLOCK_MONOTONIC, steady_clock's on Linux.
  const double t0 = static_cast<double>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t0_.time_since_epoch()).count());
  for (const HintFaultRecord& r : hint_buf_) {
    if (r.va == kHintLost) {
      stats_.hint_lost += r.ns;
      continue;
    }
    const Gpa g = page_of(r.va);
    if (g == kNone) {
      ++stats_.hint_elsewhere;  // a page outside the regions (not armed by us)
      continue;
    }
    // The kernel's own NUMA scanner may arm pages too (where it is on): a
    // fault the design did not arm is not the design's to hear.
    if (!armed_[g]) {
      ++stats_.hint_not_armed;
      continue;
    }
    ++stats_.hint_faults;
    armed_[g] = 0;
    out.push_back({.gpa = g,
                   .write = false,
                   .vcpu = 0,
                   .protected_ns = armed_ns_[g],
                   .now_ns = static_cast<double>(r.ns) - t0});
  }
}

Json ProcessMemory::report() const {
  return {{"accessed_bits", idle_fd_ >= 0 ? "page_idle"
                            : soft_dirty_ ? "soft_dirty (A = D)"
                                          : "none"},
          {"dirty_bits", soft_dirty_ ? "soft_dirty" : "none"},
          {"scans", stats_.scans},
          {"scan_s", stats_.scan_s},
          {"soft_dirty_pages", stats_.soft_dirty_pages},
          {"idle_accessed_pages", stats_.idle_accessed_pages},
          {"move_calls", stats_.move_calls},
          {"pages_moved", stats_.moved},
          {"promoted", stats_.to_fast},
          {"demoted", stats_.to_slow},
          {"move_failed", stats_.move_failed},
          {"skipped_no_room", stats_.skipped_no_room},
          {"exchanged_pairs", stats_.exchanged_pairs},
          {"move_s", stats_.move_s},
          {"hint_faults", hint_fd_ >= 0 ? Json{{"protected", stats_.hint_protected},
                                               {"faults", stats_.hint_faults},
                                               {"lost", stats_.hint_lost},
                                               {"disarmed_to_move", stats_.hint_disarmed},
                                               {"outside_regions", stats_.hint_elsewhere},
                                               {"not_armed", stats_.hint_not_armed},
                                               {"protect_s", stats_.hint_s}}
                                        : Json()},
          {"policy_charged_s", charged_ns_ / 1e9},
          {"fast_node", c_.fast_node},
          {"slow_node", c_.slow_node},
          {"fast_pages", used_[0]},
          {"slow_pages", used_[1]},
          {"page_tables", tables_ && offers(Mechanism::GptList) ? tables_->report() : Json()}};
}

}  // namespace vtmm::platform
