#pragma once
// libvirt domain XML for a vtmm guest: direct kernel boot, ACPI (without it
// the guest sees no NUMA nodes and poweroff only halts), one guest NUMA cell
// per tier bound to its host node (numatune/memnode, strict), optional vCPU
// pinning, a virtio-serial channel for the agent, the serial console to a file.
#include <string>
#include <vector>

namespace vtmm::platform {

inline constexpr const char* kAgentPort = "org.vtmm.agent.0";
// The agent's second port: the guest companion's walks for the host daemon.
inline constexpr const char* kPageTablePort = "org.vtmm.agent.1";

struct GuestCell {
  uint64_t bytes = 0;
  int host_node = -1;  // -1: not bound
};

struct DomainConfig {
  std::string name;
  bool kvm = false;
  uint32_t vcpus = 1;
  std::vector<GuestCell> cells;
  std::vector<int> vcpu_pins;  // host CPU per vCPU, empty: no pinning
  std::string kernel, initrd, cmdline, serial_log;
};

std::string domain_xml(const DomainConfig& c);

// The agent channel's host socket path from a live domain's XML ("" if none).
std::string agent_socket_from_xml(const std::string& live_xml, const char* port = kAgentPort);

}  // namespace vtmm::platform
