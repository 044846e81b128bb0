// The guest kernel's own tiering (numa_balancing=2 + demotion).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "agent/tasks.hpp"

namespace vtmm::agent {
namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  return s;
}

double write_and_read_back(const std::string& path, const std::string& value) {
  {
    std::ofstream out(path);
    out << value;
  }
  const std::string back = read_text(path);
  return back.empty() ? -1 : std::stod(back);
}

}  // namespace

Values guest_tiering_on() {
  // numa_balancing=2 is NUMA_BALANCING_MEMORY_TIERING: promote from slower tiers on hint faults;
  // demotion_enabled lets reclaim demote to the next tier instead of discarding.
  const double nb = write_and_read_back("/proc/sys/kernel/numa_balancing", "2");
  const std::string dem = "/sys/kernel/mm/numa/demotion_enabled";
  double de = -1;
  {
    std::ofstream out(dem);
    out << "1";
  }
  const std::string back = read_text(dem);
  if (back == "true" || back == "1")
    de = 1;
  else if (back == "false" || back == "0")
    de = 0;
  // memory_tiers (6.1+): one directory per tier; a single tier means no demotion target.
  double tiers = 0;
  std::error_code ec;
  for (const auto& e :
       std::filesystem::directory_iterator("/sys/devices/virtual/memory_tiering", ec))
    tiers += e.path().filename().string().rfind("memory_tier", 0) == 0;
  return {{"numa_balancing", nb}, {"demotion_enabled", de}, {"memory_tiers", tiers}};
}

Values guest_vmstat() {
  std::ifstream in("/proc/vmstat");
  Values v;
  for (std::string line; std::getline(in, line);) {
    std::istringstream ls(line);
    std::string k;
    double x = 0;
    if (!(ls >> k >> x)) continue;
    if (k.rfind("numa_", 0) == 0 || k.rfind("pgpromote", 0) == 0 || k.rfind("pgdemote", 0) == 0 ||
        k.rfind("pgmigrate", 0) == 0)
      v.emplace_back(k, x);
  }
  return v;
}

}  // namespace vtmm::agent
