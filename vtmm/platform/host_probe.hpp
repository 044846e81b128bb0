#pragma once
// What this host offers to the `vm` platform, measured rather than assumed:
// KVM (usable for a normal guest, or why not), NUMA nodes with sizes and
// distances and which one is fast / slow, move_pages(2) to each node, the
// kernel's tracking interfaces, libvirt and QEMU. `vtmm doctor` prints it and
// the vm runner decides from it (accel, node binding).
#include <optional>
#include <string>
#include <vector>

#include "vtmm/core/params.hpp"

namespace vtmm::platform {

struct NumaNode {
  int id = 0;
  uint64_t mem_total = 0, mem_free = 0;
  std::string cpus;            // cpulist, "" for a memory-only node (CXL, PMem as RAM)
  std::vector<int> distances;  // SLIT row, indexed like `nodes`
};

struct NumaLayout {
  std::vector<NumaNode> nodes;
  std::optional<int> fast_node, slow_node;
  std::string how;  // where fast/slow came from
};

// User choice (flags or VTMM_FAST_NODE / VTMM_SLOW_NODE) wins; else the
// node with CPUs and the least distance from itself is fast and the
// farthest memory-only node (else the farthest node) is slow. One node:
// fast only, slow is null.
NumaLayout probe_numa(std::optional<int> fast_override = {}, std::optional<int> slow_override = {});

struct KvmStatus {
  bool device = false, create_vm = false, pvm = false, usable = false;
  std::string reason;
};
KvmStatus probe_kvm();

// move_pages(2) of one page of our own to `node`: "" on success, else errno's text.
std::string try_move_page_to(int node);

// "7.2.22" from `qemu-system-x86_64 --version`, "" if absent.
std::string qemu_version();
// Newest /boot/vmlinuz-*-amd64 (the ABI number changes), "" if none.
std::string find_guest_kernel();

// The doctor's full report (also the agreed `vtmm doctor --json` shape).
Json doctor_report(std::optional<int> fast_override = {}, std::optional<int> slow_override = {});

}  // namespace vtmm::platform
