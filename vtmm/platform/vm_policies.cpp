#include "vtmm/platform/vm_policies.hpp"

#include <chrono>
#include <cstring>
#include <map>
#include <thread>

#include "vtmm/platform/guest_ram.hpp"
#include "vtmm/policy/hotness.hpp"
#include "vtmm/policy/mlq.hpp"

namespace vtmm::platform {
namespace {

double metric(const CommandReply& r, const std::string& key, double missing) {
  for (const auto& [k, v] : r.metrics)
    if (k == key) return v;
  return missing;
}

std::string status_name(int s) {
  if (s == GuestRam::kUnmapped) return "unmapped (unverified cell)";
  return s < 0 ? std::strerror(-s) : "node" + std::to_string(s);
}

}  // namespace

Json vtmm_window_loop(const WindowLoopConfig& c, const AgentCall& agent, const PageMover& move,
                      const std::string& start_command) {
  policy::Hotness hot(policy::Hotness::Kind::Temperature, c.history, 1, 3);
  hot.resize(c.pages);
  std::vector<uint8_t> seen(c.pages), tier(c.pages), keys(c.pages),
      free(c.pages, 0);  // no PTE scan: none known free
  for (uint64_t g = 0; g < c.pages; ++g) tier[g] = g < c.fast_pages ? 0 : 1;
  uint64_t on_fast = std::min(c.fast_pages, c.pages);

  uint64_t windows = 0, reported = 0, out_of_map = 0, planned_promote = 0, planned_demote = 0;
  uint64_t promoted = 0, demoted = 0, promote_failed = 0, demote_failed = 0, skipped_no_room = 0;
  std::map<std::string, uint64_t> failures;
  Json per_window = Json::array();
  bool finished = false;
  agent(start_command);
  for (uint32_t w = 1; w <= c.max_windows; ++w) {
    std::this_thread::sleep_for(std::chrono::milliseconds(c.window_ms));
    const CommandReply rep = agent("window-report " + std::to_string(w));
    std::fill(seen.begin(), seen.end(), uint8_t{0});
    uint64_t n = 0;
    for (const auto& pg : rep.pages)
      for (uint64_t gfn : pg.gfns) {
        if (gfn >= c.pages) {  // the decoder checked the map; a second check costs nothing
          ++out_of_map;
          continue;
        }
        seen[gfn] = static_cast<uint8_t>(policy::Seen::Write);
        ++n;
      }
    hot.record(seen, keys);
    policy::PlanInput in;
    in.key = keys;
    in.tier = tier;
    in.free = free;
    in.max_key = hot.max_key();
    in.budget = c.fast_pages;
    in.counts = policy::count_buckets(keys, tier);
    const policy::Plan plan = policy::plan_placement(in);

    uint64_t wd = 0, wdf = 0, wp = 0, wpf = 0, wskip = 0;
    std::vector<int> st;
    if (!plan.demote.empty()) {
      const std::vector<uint64_t> gs(plan.demote.begin(), plan.demote.end());
      move(gs, c.slow_node, st);
      for (size_t i = 0; i < gs.size(); ++i) {
        if (st[i] == c.slow_node) {
          tier[gs[i]] = 1, --on_fast, ++wd;
        } else {
          ++wdf, ++failures["demote: " + status_name(st[i])];
        }
      }
    }
    // Promote only into room (unless overfill): when demotions fail the fast budget still holds.
    std::vector<uint64_t> up;
    for (Gpa g : plan.promote) {
      if (c.overfill || on_fast + up.size() < c.fast_pages) up.push_back(g);
      else ++wskip;
    }
    if (!up.empty()) {
      move(up, c.fast_node, st);
      for (size_t i = 0; i < up.size(); ++i) {
        if (st[i] == c.fast_node) {
          tier[up[i]] = 0, ++on_fast, ++wp;
        } else {
          ++wpf, ++failures["promote: " + status_name(st[i])];
        }
      }
    }
    ++windows;
    reported += n;
    planned_promote += plan.promote.size();
    planned_demote += plan.demote.size();
    promoted += wp, promote_failed += wpf, demoted += wd, demote_failed += wdf,
        skipped_no_room += wskip;
    per_window.push_back({{"window", w},
                          {"reported", n},
                          {"hot_pages", plan.hot_pages},
                          {"threshold", plan.threshold},
                          {"planned_promote", plan.promote.size()},
                          {"planned_demote", plan.demote.size()},
                          {"promoted", wp},
                          {"demoted", wd},
                          {"failed", wpf + wdf},
                          {"skipped_no_room", wskip}});
    if (metric(rep, "workload_running", 0) == 0) {
      finished = true;
      break;
    }
  }
  if (!finished)
    throw std::runtime_error("vtmm loop: the workload still ran after " +
                             std::to_string(c.max_windows) + " windows");
  uint64_t fast_now = 0;
  for (uint8_t t : tier) fast_now += t == 0;
  return {{"window_ms", c.window_ms},
          {"history", c.history},
          {"windows", windows},
          {"pages_reported", reported},
          {"out_of_map", out_of_map},
          {"planned_promote", planned_promote},
          {"planned_demote", planned_demote},
          {"promoted", promoted},
          {"promote_failed", promote_failed},
          {"demoted", demoted},
          {"demote_failed", demote_failed},
          {"promote_skipped_no_room", skipped_no_room},
          {"failures", failures},
          {"fast_budget_pages", c.fast_pages}, {"overfill", c.overfill},
          {"fast_pages_after", fast_now},
          {"fast_node", c.fast_node},
          {"slow_node", c.slow_node},
          {"per_window", per_window}};
}

Json guest_tiering_record(const CommandReply& on, const CommandReply& before,
                          const CommandReply& after) {
  Json set = Json::object();
  for (const auto& [k, v] : on.metrics) set[k] = v;
  Json delta = Json::object();
  for (const auto& [k, v] : after.metrics) delta[k] = v - metric(before, k, 0);
  auto d = [&](const std::string& k) { return delta.value(k, 0.0); };
  double promoted = 0, demoted = 0;
  for (const auto& [k, v] : delta.items()) {
    if (k.rfind("pgpromote_success", 0) == 0) promoted += v.get<double>();
    if (k.rfind("pgdemote_", 0) == 0) demoted += v.get<double>();
  }
  const double tiers = set.value("memory_tiers", 0.0);
  std::string obs =
      "guest-tiering: guest kernel set numa_balancing=" +
      std::to_string(static_cast<int>(set.value("numa_balancing", -1.0))) + ", demotion_enabled=" +
      std::to_string(static_cast<int>(set.value("demotion_enabled", -1.0))) + "; it formed " +
      std::to_string(static_cast<int>(tiers)) + " memory tier(s) from its two cells";
  if (tiers <= 1)
    obs +=
        " (both cells are plain DRAM to it: no demotion target, so no promotion or demotion "
        "between the cells)";
  obs += "; in the workload: " + std::to_string(static_cast<uint64_t>(promoted)) +
         " pages promoted, " + std::to_string(static_cast<uint64_t>(demoted)) + " demoted, " +
         std::to_string(static_cast<uint64_t>(d("numa_hint_faults"))) + " NUMA hint faults";
  return {{"set", set},
          {"vmstat_delta", delta},
          {"pages_promoted", promoted},
          {"pages_demoted", demoted},
          {"memory_tiers", tiers},
          {"observed", obs}};
}

}  // namespace vtmm::platform
