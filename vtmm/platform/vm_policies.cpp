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

namespace {

// vTMM's window loop on the vm platform: the agent's soft-dirty report feeds
// the temperature history, the plan's pages are moved between host nodes.
class VmWindowLoop {
 public:
  VmWindowLoop(const WindowLoopConfig& c, const PageMover& move)
      : c_(c), move_(move), hot_(policy::Hotness::Kind::Temperature, c.history, 1, 3) {
    hot_.resize(c.pages);
    seen_.resize(c.pages);
    tier_.resize(c.pages);
    keys_.resize(c.pages);
    free_.assign(c.pages, 0);  // no PTE scan: none known free
    for (uint64_t g = 0; g < c.pages; ++g) tier_[g] = g < c.fast_pages ? 0 : 1;
    on_fast_ = std::min(c.fast_pages, c.pages);
  }

  void window(uint32_t w, const CommandReply& rep) {
    const uint64_t n = observe(rep);
    const policy::Plan plan = plan_window();
    Moves moved;
    if (!plan.demote.empty()) demote({plan.demote.begin(), plan.demote.end()}, moved);
    promote(plan.promote, moved);
    ++windows_;
    reported_ += n;
    planned_promote_ += plan.promote.size();
    planned_demote_ += plan.demote.size();
    promoted_ += moved.up, promote_failed_ += moved.up_failed, demoted_ += moved.down,
        demote_failed_ += moved.down_failed, skipped_no_room_ += moved.skipped;
    per_window_.push_back({{"window", w},
                           {"reported", n},
                           {"hot_pages", plan.hot_pages},
                           {"threshold", plan.threshold},
                           {"planned_promote", plan.promote.size()},
                           {"planned_demote", plan.demote.size()},
                           {"promoted", moved.up},
                           {"demoted", moved.down},
                           {"failed", moved.up_failed + moved.down_failed},
                           {"skipped_no_room", moved.skipped}});
  }

  Json summary() const {
    uint64_t fast_now = 0;
    for (uint8_t t : tier_) fast_now += t == 0;
    return {{"window_ms", c_.window_ms},
            {"history", c_.history},
            {"windows", windows_},
            {"pages_reported", reported_},
            {"out_of_map", out_of_map_},
            {"planned_promote", planned_promote_},
            {"planned_demote", planned_demote_},
            {"promoted", promoted_},
            {"promote_failed", promote_failed_},
            {"demoted", demoted_},
            {"demote_failed", demote_failed_},
            {"promote_skipped_no_room", skipped_no_room_},
            {"failures", failures_},
            {"fast_budget_pages", c_.fast_pages},
            {"overfill", c_.overfill},
            {"fast_pages_after", fast_now},
            {"fast_node", c_.fast_node},
            {"slow_node", c_.slow_node},
            {"per_window", per_window_}};
  }

 private:
  struct Moves {
    uint64_t down = 0, down_failed = 0, up = 0, up_failed = 0, skipped = 0;
  };

  // Marks the reported frames seen (as writes: soft-dirty); returns how many.
  uint64_t observe(const CommandReply& rep) {
    std::fill(seen_.begin(), seen_.end(), uint8_t{0});
    uint64_t n = 0;
    for (const auto& pg : rep.pages)
      for (uint64_t gfn : pg.gfns) {
        if (gfn >= c_.pages) {  // the decoder checked the map; a second check costs nothing
          ++out_of_map_;
          continue;
        }
        seen_[gfn] = static_cast<uint8_t>(policy::Seen::Write);
        ++n;
      }
    return n;
  }

  policy::Plan plan_window() {
    hot_.record(seen_, keys_);
    policy::PlanInput in;
    in.key = keys_;
    in.tier = tier_;
    in.free = free_;
    in.max_key = hot_.max_key();
    in.budget = c_.fast_pages;
    in.counts = policy::count_buckets(keys_, tier_);
    return policy::plan_placement(in);
  }

  void demote(const std::vector<uint64_t>& gs, Moves& m) {
    std::vector<int> st;
    move_(gs, c_.slow_node, st);
    for (size_t i = 0; i < gs.size(); ++i) {
      if (st[i] == c_.slow_node) {
        tier_[gs[i]] = 1, --on_fast_, ++m.down;
      } else {
        ++m.down_failed, ++failures_["demote: " + status_name(st[i])];
      }
    }
  }

  // Promotes only into room (unless overfill): when demotions fail the fast budget still holds.
  void promote(const std::vector<Gpa>& planned, Moves& m) {
    std::vector<uint64_t> up;
    for (Gpa g : planned) {
      if (c_.overfill || on_fast_ + up.size() < c_.fast_pages)
        up.push_back(g);
      else
        ++m.skipped;
    }
    if (up.empty()) return;
    std::vector<int> st;
    move_(up, c_.fast_node, st);
    for (size_t i = 0; i < up.size(); ++i) {
      if (st[i] == c_.fast_node) {
        tier_[up[i]] = 0, ++on_fast_, ++m.up;
      } else {
        ++m.up_failed, ++failures_["promote: " + status_name(st[i])];
      }
    }
  }

  const WindowLoopConfig& c_;
  const PageMover& move_;
  policy::Hotness hot_;
  std::vector<uint8_t> seen_, tier_, keys_, free_;
  uint64_t on_fast_ = 0;
  uint64_t windows_ = 0, reported_ = 0, out_of_map_ = 0, planned_promote_ = 0, planned_demote_ = 0;
  uint64_t promoted_ = 0, demoted_ = 0, promote_failed_ = 0, demote_failed_ = 0,
           skipped_no_room_ = 0;
  std::map<std::string, uint64_t> failures_;
  Json per_window_ = Json::array();
};

}  // namespace

Json vtmm_window_loop(const WindowLoopConfig& c, const AgentCall& agent, const PageMover& move,
                      const std::string& start_command) {
  VmWindowLoop loop(c, move);
  agent(start_command);
  for (uint32_t w = 1; w <= c.max_windows; ++w) {
    std::this_thread::sleep_for(std::chrono::milliseconds(c.window_ms));
    const CommandReply rep = agent("window-report " + std::to_string(w));
    loop.window(w, rep);
    if (metric(rep, "workload_running", 0) == 0) return loop.summary();
  }
  throw std::runtime_error("vtmm loop: the workload still ran after " +
                           std::to_string(c.max_windows) + " windows");
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
