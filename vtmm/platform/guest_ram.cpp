#include "vtmm/platform/guest_ram.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include "vtmm/platform/page_moves.hpp"
#include "vtmm/platform/proc_maps.hpp"

namespace vtmm::platform {

GuestRam::GuestRam(int qemu_pid, const std::vector<uint64_t>& cells) : pid_(qemu_pid) {
  const std::vector<AnonMapping> anon = anonymous_mappings(pid_);
  if (anon.empty())
    throw std::runtime_error("daemon: no anonymous mapping in /proc/" + std::to_string(pid_) +
                             "/maps");
  uint64_t gpa = 0;
  for (uint64_t bytes : cells) {
    RamCell c{gpa, bytes, {}, 0};
    for (const AnonMapping& v : anon)
      if (!v.heap && v.hi - v.lo == bytes) c.candidates.push_back(v.lo);
    if (c.candidates.empty())
      throw std::runtime_error("daemon: no mapping of " + std::to_string(bytes) +
                               " bytes in QEMU pid " + std::to_string(pid_));
    cells_.push_back(std::move(c));
    gpa += bytes;
  }
  if (gpa > (3ull << 30))
    throw std::runtime_error("daemon: guest RAM over 3 GiB crosses the PCI hole (not supported)");
}

agent_proto::MemoryMap GuestRam::memory_map() const {
  agent_proto::MemoryMap m;
  for (const auto& c : cells_) m.ranges.emplace_back(c.gpa, c.gpa + c.bytes);
  return m;
}

bool GuestRam::mark_at(uint64_t hva, uint64_t gfn) const {
  const int fd = ::open(("/proc/" + std::to_string(pid_) + "/mem").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[16];
  const bool ok = ::pread(fd, buf, sizeof buf, static_cast<off_t>(hva)) == 16 &&
                  std::memcmp(buf, kPageMark, 8) == 0 && std::memcmp(buf + 8, &gfn, 8) == 0;
  ::close(fd);
  return ok;
}

uint64_t GuestRam::verify(const std::vector<uint64_t>& gfns) {
  uint64_t matched = 0;
  for (auto& c : cells_) {
    std::vector<uint64_t> mine;
    for (uint64_t g : gfns)
      if (g <= (UINT64_MAX >> 12) && (g << 12) >= c.gpa && (g << 12) < c.gpa + c.bytes)
        mine.push_back(g);
    if (mine.empty()) continue;
    for (uint64_t base : c.candidates) {
      uint64_t hits = 0;
      for (uint64_t g : mine) hits += mark_at(base + ((g << 12) - c.gpa), g);
      if (hits == mine.size()) {  // every mark where it must be: this mapping is the cell
        c.hva = base;
        matched += hits;
        break;
      }
    }
  }
  return matched;
}

uint64_t GuestRam::hva_of(uint64_t gfn) const {
  if (gfn > (UINT64_MAX >> 12)) return 0;
  const uint64_t gpa = gfn << 12;
  for (const auto& c : cells_)
    if (c.hva && gpa >= c.gpa && gpa < c.gpa + c.bytes) return c.hva + (gpa - c.gpa);
  return 0;
}

uint64_t GuestRam::marks_intact(const std::vector<uint64_t>& gfns) const {
  uint64_t n = 0;
  for (uint64_t g : gfns)
    if (const uint64_t a = hva_of(g)) n += mark_at(a, g);
  return n;
}

Json GuestRam::move(const std::vector<uint64_t>& gfns, int node,
                    std::vector<int>* status_out) const {
  std::vector<void*> pages;
  std::vector<size_t> index;  // pages[i] is gfns[index[i]]
  uint64_t unmapped = 0;
  for (size_t i = 0; i < gfns.size(); ++i) {
    const uint64_t a = hva_of(gfns[i]);
    if (a == 0) {
      ++unmapped;  // outside the map or in an unverified cell: never touched
      continue;
    }
    pages.push_back(reinterpret_cast<void*>(a));
    index.push_back(i);
  }
  if (status_out) status_out->assign(gfns.size(), kUnmapped);
  const size_t n = pages.size();
  std::vector<int> status;
  auto where = [&] {
    std::map<std::string, uint64_t> c;
    std::vector<int> at;
    if (query_nodes(pid_, pages, at))
      for (int s : at) ++c[s >= 0 ? "node" + std::to_string(s) : std::string(std::strerror(-s))];
    return Json(c);
  };
  Json r;
  r["target_node"] = node;
  r["requested"] = gfns.size();
  r["unmapped"] = unmapped;
  r["before"] = where();
  const auto t0 = std::chrono::steady_clock::now();
  const long rc = move_to_node(pid_, pages, node, status);
  const int err = errno;
  r["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (rc < 0) {
    r["ok"] = false;
    r["error"] = std::strerror(err);
    r["moved"] = 0;
    if (status_out)
      for (size_t i = 0; i < n; ++i) (*status_out)[index[i]] = -err;
  } else {
    uint64_t on = 0;
    std::map<std::string, uint64_t> errs;
    for (int s : status) {
      if (s == node)
        ++on;
      else if (s < 0)
        ++errs[std::strerror(-s)];
    }
    if (status_out)
      for (size_t i = 0; i < n; ++i) (*status_out)[index[i]] = status[i];
    r["ok"] = errs.empty() && unmapped == 0;
    r["moved"] = on;  // on the target node afterwards
    r["page_errors"] = errs;
    if (rc > 0) r["not_migrated"] = rc;
  }
  r["after"] = where();
  return r;
}

}  // namespace vtmm::platform
