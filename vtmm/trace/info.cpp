#include "vtmm/trace/info.hpp"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <unordered_map>
#include <vector>

#include "vtmm/trace/reader.hpp"

namespace vtmm::trace {

namespace {

// The share of all `total` accesses that went to the hottest 10 %, 20 %, ...
// 100 % of the pages (rounded up to whole pages).
Json hottest_decile_shares(const std::unordered_map<uint64_t, uint64_t>& per_page, uint64_t total) {
  std::vector<uint64_t> counts;
  counts.reserve(per_page.size());
  for (const auto& [page, n] : per_page) counts.push_back(n);
  std::sort(counts.begin(), counts.end(), std::greater<>());
  Json deciles = Json::array();
  uint64_t cum = 0;
  size_t at = 0;
  for (int d = 1; d <= 10; ++d) {
    const size_t upto = (counts.size() * static_cast<size_t>(d) + 9) / 10;
    for (; at < upto; ++at) cum += counts[at];
    deciles.push_back(total ? static_cast<double>(cum) / static_cast<double>(total) : 0.0);
  }
  return deciles;
}

}  // namespace

Json trace_info(const std::string& path) {
  // One pass: the reader's own check of the file reads every window, and
  // hands each to the tally here. Nothing is sized by the trailer's figures.
  std::unordered_map<uint64_t, uint64_t> per_page;
  uint64_t windows = 0, busiest = 0, empty = 0;
  // One entry per phase: windows before the first marker (if any), then from
  // each marker to the next. Instructions per access of the measured phase is
  // what the replay's compute time is made of.
  struct Phase {
    std::string name;
    uint64_t first_window = 0, windows = 0, reads = 0, writes = 0, instructions = 0;
  };
  std::vector<Phase> phases;
  // The reader refuses a window past its access bound and totals that
  // overflow, so none of these sums can overflow.
  const TraceReader r(path, [&](const Window& w) {
    if (phases.empty() || !w.marker.empty()) phases.push_back(Phase{w.marker, w.index});
    Phase& ph = phases.back();
    uint64_t acc = 0;
    for (const auto& p : w.pages) {
      per_page[p.page] += p.reads + p.writes;
      ph.reads += p.reads;
      ph.writes += p.writes;
      acc += p.reads + p.writes;
    }
    busiest = std::max(busiest, acc);
    if (w.pages.empty()) ++empty;
    ph.instructions += w.instructions;
    ++ph.windows;
    ++windows;
  });
  uint64_t reads = 0, writes = 0, instr = 0;
  Json phase_json = Json::array();
  for (const Phase& ph : phases) {
    reads += ph.reads;
    writes += ph.writes;
    instr += ph.instructions;
    phase_json.push_back({{"name", ph.name},
                          {"first_window", ph.first_window},
                          {"windows", ph.windows},
                          {"reads", ph.reads},
                          {"writes", ph.writes},
                          {"instructions", ph.instructions}});
  }
  const uint64_t total = reads + writes;
  const Json deciles = hottest_decile_shares(per_page, total);
  Json markers = Json::array();
  for (const auto& m : r.summary().markers)
    markers.push_back({{"window", m.window}, {"name", m.name}});
  const Header& h = r.header();
  return Json{
      {"file", path},
      {"file_bytes", r.file_bytes()},
      {"program", h.program},
      {"recorded_at", h.recorded_at},
      {"recorder", h.recorder},
      {"window_accesses", h.window_accesses},
      {"windows", windows},
      {"empty_windows", empty},
      {"distinct_pages", per_page.size()},
      {"footprint_bytes", per_page.size() * h.page_size},
      {"reads", reads},
      {"writes", writes},
      {"read_fraction", total ? static_cast<double>(reads) / static_cast<double>(total) : 0.0},
      {"instructions", instr},
      {"busiest_window_accesses", busiest},
      {"access_share_of_hottest_deciles", deciles},
      {"markers", markers},
      {"phases", phase_json}};
}

std::string format_info(const Json& j) {
  char buf[256];
  std::string s;
  auto line = [&](const char* fmt, auto... args) {
    std::snprintf(buf, sizeof buf, fmt, args...);
    s += buf;
  };
  line("file             %s (%llu bytes)\n", j["file"].get<std::string>().c_str(),
       (unsigned long long)j["file_bytes"].get<uint64_t>());
  line("program          %s\n", j["program"].get<std::string>().c_str());
  line("recorded         %s by %s\n", j["recorded_at"].get<std::string>().c_str(),
       j["recorder"].get<std::string>().c_str());
  line("window           %llu data accesses\n",
       (unsigned long long)j["window_accesses"].get<uint64_t>());
  line("windows          %llu (%llu empty)\n", (unsigned long long)j["windows"].get<uint64_t>(),
       (unsigned long long)j["empty_windows"].get<uint64_t>());
  line("distinct pages   %llu (footprint %.1f MiB)\n",
       (unsigned long long)j["distinct_pages"].get<uint64_t>(),
       static_cast<double>(j["footprint_bytes"].get<uint64_t>()) / (1 << 20));
  line("accesses         %llu reads, %llu writes (%.1f %% reads)\n",
       (unsigned long long)j["reads"].get<uint64_t>(),
       (unsigned long long)j["writes"].get<uint64_t>(), 100 * j["read_fraction"].get<double>());
  line("instructions     %llu\n", (unsigned long long)j["instructions"].get<uint64_t>());
  s += "access skew      share of accesses to the hottest 10%..100% of pages:\n                ";
  for (const auto& d : j["access_share_of_hottest_deciles"]) line(" %.3f", d.get<double>());
  s += "\nmarkers         ";
  if (j["markers"].empty()) s += " none";
  for (const auto& m : j["markers"])
    line(" %s@%llu", m["name"].get<std::string>().c_str(),
         (unsigned long long)m["window"].get<uint64_t>());
  s += "\n";
  for (const auto& p : j.value("phases", Json::array())) {
    const auto acc = p["reads"].get<uint64_t>() + p["writes"].get<uint64_t>();
    const std::string name = p["name"].get<std::string>();
    line("phase %-10s windows %llu..%llu: %llu reads, %llu writes, %.1f instructions per access\n",
         name.empty() ? "(start)" : name.c_str(),
         (unsigned long long)p["first_window"].get<uint64_t>(),
         (unsigned long long)(p["first_window"].get<uint64_t>() + p["windows"].get<uint64_t>() - 1),
         (unsigned long long)p["reads"].get<uint64_t>(),
         (unsigned long long)p["writes"].get<uint64_t>(),
         acc ? static_cast<double>(p["instructions"].get<uint64_t>()) / static_cast<double>(acc)
             : 0.0);
  }
  return s;
}

}  // namespace vtmm::trace
