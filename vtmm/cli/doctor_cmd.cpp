// `vtmm doctor`: what this host offers the vm platform and what vtmm will do.
// It reports; it never fails because a feature is missing (exit 0).
#include <iostream>
#include <optional>

#include "vtmm/cli/commands.hpp"
#include "vtmm/platform/host_probe.hpp"

namespace vtmm::cli {
namespace {

struct DoctorFlags {
  bool json = false;
  int fast = -1, slow = -1;
};

std::string yes(const Json& b) { return b.is_boolean() && b.get<bool>() ? "yes" : "no"; }

void print_human(const Json& r) {
  std::cout << "KVM        " << (r["kvm"]["usable"].get<bool>() ? "usable" : "not usable") << ": "
            << r["kvm"]["reason"].get<std::string>() << '\n';
  std::cout << "QEMU       "
            << (r["qemu"]["installed"].get<bool>() ? r["qemu"]["version"].get<std::string>()
                                                   : "not installed")
            << '\n';
  std::cout << "libvirt    installed " << yes(r["libvirt"]["installed"]) << ", reachable "
            << yes(r["libvirt"]["reachable"]) << " (" << r["libvirt"]["reason"].get<std::string>()
            << ")\n";
  std::cout << "kernel     "
            << (r["guest_kernel"].is_null() ? "no /boot/vmlinuz-*-amd64"
                                            : r["guest_kernel"].get<std::string>())
            << "; guest companion module "
            << (r["guest_companion"].get<bool>() ? "built with the image"
                                                 : "absent (install linux-headers-amd64)")
            << '\n';
  const Json& n = r["numa"];
  for (const Json& node : n["nodes"])
    std::cout << "NUMA node  " << node["id"] << ": "
              << format_bytes(node["mem_total_bytes"].get<uint64_t>()) << " (free "
              << format_bytes(node["mem_free_bytes"].get<uint64_t>()) << "), cpus '"
              << node["cpus"].get<std::string>() << "', distances " << node["distances"].dump()
              << ", move_pages " << node["move_pages"].get<std::string>() << '\n';
  std::cout << "           move_pages to absent node " << n["move_pages_absent_node"]["node"]
            << ": " << n["move_pages_absent_node"]["result"].get<std::string>() << '\n';
  std::cout << "fast/slow  fast " << n["fast_node"].dump() << ", slow " << n["slow_node"].dump()
            << " (" << n["how"].get<std::string>() << ")\n";
  const Json& m = r["memory_interfaces"];
  std::cout << "host mm    page_idle " << yes(m["page_idle"]) << ", soft-dirty "
            << yes(m["soft_dirty"]) << ", pagemap PFNs " << yes(m["pagemap_pfns"])
            << ", DAMON sysfs " << yes(m["damon_sysfs"]) << ", userfaultfd "
            << yes(m["userfaultfd"]) << ", THP " << m["thp"].get<std::string>() << '\n';
  const Json& ev = r["event_counting"];
  std::cout << "counting   ";
  for (const char* k : {"vm_exits", "ept_violations", "page_migrations"})
    std::cout << k << ' '
              << (ev[k]["countable"].get<bool>() ? std::string("yes")
                                                 : "no (" + ev[k]["why"].get<std::string>() + ")")
              << (std::string(k) == "page_migrations" ? "\n" : ", ");
  const Json& vmm = r["vm_mechanisms"];
  std::cout << "mechanisms EPT A: " << vmm["ept_a_bits"].get<std::string>()
            << "; EPT D: " << vmm["ept_d_bits"].get<std::string>() << "; "
            << vmm["pml"].get<std::string>() << '\n';
  std::cout << "plan       " << r["plan"].get<std::string>() << '\n';
}

}  // namespace

void add_doctor(CLI::App& app) {
  auto f = std::make_shared<DoctorFlags>();
  CLI::App* c = app.add_subcommand(
      "doctor", "Report what this host offers real VMs (KVM, NUMA tiers, libvirt, QEMU)");
  c->add_flag("--json", f->json, "One JSON object on stdout");
  c->add_option("--fast-node", f->fast,
                "Host NUMA node to treat as fast (default: from distances, or VTMM_FAST_NODE)");
  c->add_option("--slow-node", f->slow,
                "Host NUMA node to treat as slow (default: from distances, or VTMM_SLOW_NODE)");
  c->callback([f] {
    const auto opt = [](int v) { return v >= 0 ? std::optional<int>(v) : std::nullopt; };
    const Json r = platform::doctor_report(opt(f->fast), opt(f->slow));
    if (f->json)
      std::cout << r.dump(2) << '\n';
    else
      print_human(r);
  });
}

}  // namespace vtmm::cli
