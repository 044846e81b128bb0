// Guest-side memory tasks: NUMA moves between the guest's nodes and
// soft-dirty access reports. Raw syscalls: the agent is static and carries
// no libnuma.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "agent/tasks.hpp"

namespace vtmm::agent {
namespace {

constexpr int kMpolBind = 2;
constexpr int kMpolMfMove = 1 << 1;

long move_pages(size_t count, void** pages, const int* nodes, int* status) {
  return ::syscall(SYS_move_pages, 0, count, pages, nodes, status, kMpolMfMove);
}

// Pages of [p, p+len) per node, from /proc/self/numa_maps ("N0=12 N1=3").
std::pair<double, double> numa_maps_counts(void* p) {
  std::ifstream in("/proc/self/numa_maps");
  char addr[32];
  std::snprintf(addr, sizeof addr, "%lx ", reinterpret_cast<unsigned long>(p));
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(addr, 0) != 0) continue;
    double n0 = 0, n1 = 0;
    if (auto a = line.find(" N0="); a != std::string::npos) n0 = std::stod(line.substr(a + 4));
    if (auto a = line.find(" N1="); a != std::string::npos) n1 = std::stod(line.substr(a + 4));
    return {n0, n1};
  }
  return {-1, -1};
}

// `len` bytes of read-write memory between two inaccessible guard pages (the
// first is at the returned address). The guards keep the buffer a VMA of its
// own: once its policy is reset to default it could otherwise merge with a
// neighbouring anonymous VMA, whose pages numa_maps would then count too.
char* guarded_buffer(size_t len) {
  char* region = static_cast<char*>(
      ::mmap(nullptr, len + 2 * kPage, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  if (region == MAP_FAILED) throw std::runtime_error("mmap failed");
  if (::mprotect(region + kPage, len, PROT_READ | PROT_WRITE) != 0)
    throw std::runtime_error("mprotect failed");
  return region;
}

// A page that is locked, under writeback or briefly pinned comes back
// -EBUSY / -EAGAIN (migrate_pages' transient failures); retries just those,
// up to five rounds, as migratepages(8) users do, updating `status`.
// Returns how many page moves were retried.
double retry_busy(const std::vector<void*>& pages, std::vector<int>& status, int to) {
  double retried = 0;
  for (int round = 0; round < 5; ++round) {
    std::vector<void*> again;
    std::vector<size_t> idx;
    for (size_t i = 0; i < pages.size(); ++i)
      if (status[i] == -EBUSY || status[i] == -EAGAIN) again.push_back(pages[i]), idx.push_back(i);
    if (again.empty()) break;
    retried += static_cast<double>(again.size());
    std::vector<int> st(again.size()), to_nodes(again.size(), to);
    if (move_pages(again.size(), again.data(), to_nodes.data(), st.data()) < 0) break;
    for (size_t k = 0; k < idx.size(); ++k) status[idx[k]] = st[k];
  }
  return retried;
}

}  // namespace

Values run_numa_move(uint64_t mib, int from, int to) {
  const size_t len = mib << 20, n = len / kPage;
  char* region = guarded_buffer(len);
  void* p = region + kPage;
  unsigned long mask = 1ul << from;
  if (::syscall(SYS_mbind, p, len, kMpolBind, &mask, sizeof(mask) * 8, 0) != 0)
    throw std::runtime_error(std::string("mbind to guest node failed: ") + std::strerror(errno));
  std::memset(p, 0x5a, len);
  std::vector<void*> pages(n);
  std::vector<int> status(n), nodes(n, to);
  for (size_t i = 0; i < n; ++i) pages[i] = static_cast<char*>(p) + i * kPage;
  auto count_on = [&](int node) {
    if (move_pages(n, pages.data(), nullptr, status.data()) != 0)
      throw std::runtime_error("move_pages query failed");
    double c = 0;
    for (int s : status) c += s == node;
    return c;
  };
  const double before_from = count_on(from), before_to = count_on(to);
  const auto mb = numa_maps_counts(p);
  // The policy was bind-to-`from`; relax it so the kernel may place the pages on `to`.
  ::syscall(SYS_mbind, p, len, 0 /* MPOL_DEFAULT */, nullptr, 0, 0);
  const auto t0 = std::chrono::steady_clock::now();
  long rc = move_pages(n, pages.data(), nodes.data(), status.data());
  const double retried = rc >= 0 ? retry_busy(pages, status, to) : 0;
  double busy_left = 0;  // still busy after the retries
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double moved = 0, failed = 0;
  for (int s : status) {
    (s == to ? moved : failed) += 1;
    busy_left += (s == -EBUSY || s == -EAGAIN);
  }
  if (rc < 0) failed = static_cast<double>(n), moved = 0;
  // The status query can see a page mid-way (e.g. khugepaged collapsing the
  // range just moved, which unmaps it for a moment: -ENOENT); ask again a few
  // times before taking the answer, and record what the first answer was.
  double after_from = count_on(from), after_to = count_on(to), requeried = 0, unlocated_first = -1;
  for (int round = 0; after_from + after_to < static_cast<double>(n) && round < 10; ++round) {
    if (unlocated_first < 0) unlocated_first = static_cast<double>(n) - after_from - after_to;
    ::usleep(20000);
    ++requeried;
    after_from = count_on(from);
    after_to = count_on(to);
  }
  const auto ma = numa_maps_counts(p);
  // The data survived the move.
  for (size_t i = 0; i < len; i += kPage)
    if (static_cast<unsigned char*>(p)[i] != 0x5a)
      throw std::runtime_error("page content changed by the move");
  ::munmap(region, len + 2 * kPage);
  return {{"pages", static_cast<double>(n)},
          {"from_node", from},
          {"to_node", to},
          {"before_on_from", before_from},
          {"before_on_to", before_to},
          {"moved", moved},
          {"failed", failed},
          {"after_on_from", after_from},
          {"after_on_to", after_to},
          {"numa_maps_before_N0", mb.first},
          {"numa_maps_before_N1", mb.second},
          {"numa_maps_after_N0", ma.first},
          {"numa_maps_after_N1", ma.second},
          {"retried", retried},
          {"busy_after_retries", busy_left},
          {"status_requeries", requeried},
          {"unlocated_at_first_query", unlocated_first < 0 ? 0 : unlocated_first},
          {"move_s", secs}};
}

// The reported buffer stays mapped until the next report, so the host can
// verify its marks and move its backing while the guest keeps using it.
struct Marked {
  char* p = nullptr;
  size_t len = 0;
  std::vector<size_t> pages;  // indexes of marked pages
  std::vector<uint64_t> gfns;
};
Marked g_marked;

Values report_soft_dirty(Channel& ch, uint64_t mib, bool split) {
  if (g_marked.p) ::munmap(g_marked.p, g_marked.len);
  g_marked = Marked{};
  const size_t len = mib << 20, n = len / kPage;
  auto* p = static_cast<char*>(
      ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  if (p == MAP_FAILED) throw std::runtime_error("mmap failed");
  if (split) {  // marks in both guest cells, so the host can find both cells' RAM: half bound to
                // each node
    for (unsigned long node = 0; node < 2; ++node) {
      unsigned long mask = 1ul << node;
      if (::syscall(SYS_mbind, p + node * (len / 2), len / 2, kMpolBind, &mask, sizeof(mask) * 8,
                    0) != 0)
        throw std::runtime_error(std::string("mbind to guest node failed: ") +
                                 std::strerror(errno));
    }
  }
  for (size_t i = 0; i < len; i += kPage) static_cast<volatile char*>(p)[i] = 1;
  const int fd = ::open("/proc/self/pagemap", O_RDONLY);
  if (fd < 0) throw std::runtime_error("no /proc/self/pagemap");
  std::vector<uint64_t> pm(n);
  const auto off = static_cast<off_t>(reinterpret_cast<uintptr_t>(p) / kPage * 8);
  auto read_pagemap = [&] {
    if (::pread(fd, pm.data(), n * 8, off) != static_cast<ssize_t>(n * 8))
      throw std::runtime_error("pagemap read failed");
  };
  {
    std::ofstream cr("/proc/self/clear_refs");
    cr << "4";  // clear soft-dirty bits
  }
  read_pagemap();
  // Every other page written after the clear, with "VTMMPAGE" and its own guest
  // frame number, so the host can find and check it in QEMU's memory.
  for (size_t i = 0; i < n; i += 2) {
    const uint64_t gfn = pm[i] & ((uint64_t{1} << 55) - 1);
    std::memcpy(p + i * kPage, "VTMMPAGE", 8);
    std::memcpy(p + i * kPage + 8, &gfn, 8);
  }
  read_pagemap();
  ::close(fd);
  agent_proto::Pages msg;
  msg.source = agent_proto::PageSource::SoftDirty;
  double dirty = 0, clean = 0, written_seen = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t e = pm[i];
    if (!((e >> 63) & 1)) continue;
    const bool sd = (e >> 55) & 1;
    (sd ? dirty : clean) += 1;
    if (sd && i % 2 == 0) {
      written_seen += 1;
      msg.gfns.push_back(e & ((uint64_t{1} << 55) - 1));
      msg.flags.push_back(agent_proto::kAccessed | agent_proto::kDirty);
      g_marked.pages.push_back(i);
    }
  }
  ch.send(agent_proto::MsgType::Pages, msg);
  // Where the marked pages are, per guest node (move_pages' query mode).
  std::vector<void*> where;
  for (size_t i : g_marked.pages) where.push_back(p + i * kPage);
  std::vector<int> node(where.size(), -1);
  double on0 = 0, on1 = 0;
  if (!where.empty() && move_pages(where.size(), where.data(), nullptr, node.data()) == 0)
    for (int x : node) on0 += x == 0, on1 += x == 1;
  g_marked.p = p;
  g_marked.len = len;
  g_marked.gfns = msg.gfns;
  return {{"pages", static_cast<double>(n)},
          {"soft_dirty", dirty},
          {"clean", clean},
          {"written_pages_seen_dirty", written_seen},
          {"reported", static_cast<double>(msg.gfns.size())},
          {"reported_on_node0", on0},
          {"reported_on_node1", on1}};
}

Values check_marks() {
  if (!g_marked.p) throw std::runtime_error("no marked buffer (run soft-dirty first)");
  double intact = 0;
  for (size_t k = 0; k < g_marked.pages.size(); ++k) {
    const char* q = g_marked.p + g_marked.pages[k] * kPage;
    intact += std::memcmp(q, "VTMMPAGE", 8) == 0 && std::memcmp(q + 8, &g_marked.gfns[k], 8) == 0;
  }
  // Same GPAs as before the host moved their backing? (transparent migration keeps them)
  const int fd = ::open("/proc/self/pagemap", O_RDONLY);
  double same_gfn = 0;
  for (size_t k = 0; k < g_marked.pages.size() && fd >= 0; ++k) {
    uint64_t e = 0;
    const auto off = static_cast<off_t>(
        reinterpret_cast<uintptr_t>(g_marked.p + g_marked.pages[k] * kPage) / kPage * 8);
    if (::pread(fd, &e, 8, off) == 8)
      same_gfn += (e & ((uint64_t{1} << 55) - 1)) == g_marked.gfns[k];
  }
  if (fd >= 0) ::close(fd);
  return {{"marked", static_cast<double>(g_marked.pages.size())},
          {"intact", intact},
          {"same_gfn", same_gfn}};
}

Values guest_capabilities() {
  namespace fs = std::filesystem;
  double nodes = 0;
  for (const auto& e : fs::directory_iterator("/sys/devices/system/node"))
    if (e.path().filename().string().rfind("node", 0) == 0 &&
        std::isdigit(static_cast<unsigned char>(e.path().filename().string()[4])))
      nodes += 1;
  return {{"page_idle", fs::exists("/sys/kernel/mm/page_idle/bitmap") ? 1.0 : 0.0},
          {"soft_dirty", fs::exists("/proc/self/clear_refs") ? 1.0 : 0.0},
          {"damon", fs::exists("/sys/kernel/mm/damon/admin") ? 1.0 : 0.0},
          {"numa_nodes", nodes}};
}

}  // namespace vtmm::agent
