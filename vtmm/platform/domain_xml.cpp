#include "vtmm/platform/domain_xml.hpp"

#include <sstream>
#include <stdexcept>

namespace vtmm::platform {
namespace {

std::string esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '&')
      o += "&amp;";
    else if (c == '<')
      o += "&lt;";
    else if (c == '>')
      o += "&gt;";
    else if (c == '\'')
      o += "&apos;";
    else if (c == '"')
      o += "&quot;";
    else
      o += c;
  }
  return o;
}

}  // namespace

std::string domain_xml(const DomainConfig& c) {
  if (c.cells.empty()) throw std::logic_error("domain_xml: no NUMA cells");
  uint64_t total = 0;
  for (const auto& cell : c.cells) total += cell.bytes;
  std::ostringstream x;
  x << "<domain type='" << (c.kvm ? "kvm" : "qemu") << "'>\n"
    << "  <name>" << esc(c.name) << "</name>\n"
    << "  <memory unit='KiB'>" << total / 1024 << "</memory>\n"
    << "  <vcpu placement='static'>" << c.vcpus << "</vcpu>\n";
  if (!c.vcpu_pins.empty()) {
    x << "  <cputune>\n";
    for (size_t i = 0; i < c.vcpu_pins.size(); ++i)
      x << "    <vcpupin vcpu='" << i << "' cpuset='" << c.vcpu_pins[i] << "'/>\n";
    x << "  </cputune>\n";
  }
  bool bound = false;
  for (const auto& cell : c.cells) bound |= cell.host_node >= 0;
  if (bound) {
    x << "  <numatune>\n";
    for (size_t i = 0; i < c.cells.size(); ++i)
      if (c.cells[i].host_node >= 0)
        x << "    <memnode cellid='" << i << "' mode='strict' nodeset='" << c.cells[i].host_node
          << "'/>\n";
    x << "  </numatune>\n";
  }
  x << "  <os>\n    <type arch='x86_64' machine='pc'>hvm</type>\n"
    << "    <kernel>" << esc(c.kernel) << "</kernel>\n    <initrd>" << esc(c.initrd)
    << "</initrd>\n"
    << "    <cmdline>" << esc(c.cmdline) << "</cmdline>\n  </os>\n"
    << "  <features><acpi/></features>\n";
  x << "  <cpu" << (c.kvm ? " mode='host-passthrough'" : "") << ">\n    <numa>\n";
  // vCPUs go round-robin over the cells; a cell with none is memory-only (like a CXL node).
  for (size_t i = 0; i < c.cells.size(); ++i) {
    std::string cpus;
    for (uint32_t v = static_cast<uint32_t>(i); v < c.vcpus;
         v += static_cast<uint32_t>(c.cells.size()))
      cpus.append(cpus.empty() ? "" : ",").append(std::to_string(v));
    x << "      <cell id='" << i << "'";
    if (!cpus.empty()) x << " cpus='" << cpus << "'";
    x << " memory='" << c.cells[i].bytes / 1024 << "' unit='KiB'/>\n";
  }
  x << "    </numa>\n  </cpu>\n"
    << "  <on_poweroff>destroy</on_poweroff>\n  <on_reboot>destroy</on_reboot>\n  "
       "<on_crash>destroy</on_crash>\n"
    << "  <devices>\n"
    << "    <serial type='file'><source path='" << esc(c.serial_log)
    << "'/><target port='0'/></serial>\n"
    << "    <channel type='unix'><source mode='bind'/><target type='virtio' name='" << kAgentPort
    << "'/></channel>\n"
    << "    <channel type='unix'><source mode='bind'/><target type='virtio' name='"
    << kPageTablePort << "'/></channel>\n"
    << "    <memballoon model='none'/>\n"
    << "  </devices>\n</domain>\n";
  return x.str();
}

std::string agent_socket_from_xml(const std::string& xml, const char* name) {
  const auto port = xml.find(std::string("name='") + name + "'");
  if (port == std::string::npos) return "";
  const auto chan = xml.rfind("<channel", port);
  if (chan == std::string::npos) return "";
  const auto path = xml.find("path='", chan);
  if (path == std::string::npos || path > port) return "";
  const auto end = xml.find('\'', path + 6);
  return xml.substr(path + 6, end - path - 6);
}

}  // namespace vtmm::platform
