// `vtmm sim`: one configuration from flags, one JSON record on stdout.
#include <charconv>
#include <iostream>
#include <memory>
#include <vector>

#include "vtmm/cli/commands.hpp"
#include "vtmm/core/error.hpp"
#include "vtmm/core/json_input.hpp"
#include "vtmm/core/policy.hpp"
#include "vtmm/core/run_spec.hpp"
#include "vtmm/runner/experiment.hpp"
#include "vtmm/runner/records.hpp"

namespace vtmm::cli {
namespace {

int g_exit = 0;

// KEY=VALUE, VALUE read as JSON when it parses (numbers, true, objects), else as a string.
void apply_kv(Json& obj, const std::vector<std::string>& kvs, const std::string& flag) {
  for (const auto& kv : kvs) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      throw SpecError(flag + ": expected KEY=VALUE, got \"" + kv + "\"");
    const std::string key = kv.substr(0, eq), val = kv.substr(eq + 1);
    try {
      obj[key] = parse_json(val);
    } catch (const Json::parse_error&) {
      obj[key] = val;
    } catch (const JsonTooDeep& e) {
      throw SpecError(flag + " " + key + ": " + e.what());
    }
  }
}

// A whole number in 0..2^64-1, exactly as written: CLI11's own conversion
// saturates on overflow (2^64 became 2^64-1), which would run another seed.
uint64_t parse_u64(const std::string& text, const std::string& flag) {
  uint64_t v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end)
    throw SpecError(flag + ": expected a whole number from 0 to 18446744073709551615, got \"" +
                    (text.size() > 40 ? text.substr(0, 40) + "..." : text) + "\"");
  return v;
}

struct SimFlags {
  std::string workload = "gups", policy = "first-touch", ratio, host = "optane", footprint, memory,
              fast_bytes;
  std::string initial_tier = "policy", policy_thread_core = "spare";
  std::string seed = "1", against;
  uint32_t vcpus = 1;
  unsigned threads = 1;
  bool ept_huge = false, guest_thp = false, aged = false, no_wall = false;
  std::vector<std::string> wl_params, pol_params, host_params;
};

// The run a `vtmm sim` command line describes, as a spec's "run" block.
Json run_json(const SimFlags& f) {
  Json run;
  run["host"] = f.host;
  Json wl = {{"impl", f.workload}};
  if (!f.footprint.empty()) wl["footprint"] = f.footprint;
  apply_kv(wl, f.wl_params, "--workload-param");
  Json pol = {{"impl", f.policy}};
  apply_kv(pol, f.pol_params, "--policy-param");
  Json hp = Json::object();
  apply_kv(hp, f.host_params, "--host-param");
  run["workload"] = wl;
  run["policy"] = pol;
  run["host_overrides"] = hp;
  run["seed"] = parse_u64(f.seed, "--seed");
  run["vm"] = {{"vcpus", f.vcpus}, {"ept_huge", f.ept_huge}, {"aged_guest", f.aged}};
  if (!f.memory.empty()) run["vm"]["memory"] = f.memory;
  if (f.guest_thp) run["vm"]["guest_thp"] = true;
  if (f.initial_tier != "policy") run["vm"]["initial_tier"] = f.initial_tier;
  if (f.policy_thread_core != "spare") run["vm"]["policy_thread_core"] = f.policy_thread_core;
  if (!f.ratio.empty()) run["ratio"] = f.ratio;
  if (!f.fast_bytes.empty()) {
    if (parse_bytes(Json(f.fast_bytes), "--fast-bytes") == 0)
      throw SpecError("--fast-bytes: must be more than 0 bytes");
    run["fast_bytes"] = f.fast_bytes;
  }
  return run;
}

}  // namespace

void add_threads_option(CLI::App* c, unsigned& threads) {
  c->add_option("--threads", threads,
                "Host threads per run: helpers make a 1-vCPU VM's workload batches ahead "
                "(records are the same for any number; with --jobs, jobs x threads in all)")
      ->check(CLI::Range(1u, 64u))
      ->capture_default_str();
}

int exit_code() { return g_exit; }
void set_exit_code(int code) { g_exit = code; }

void add_sim(CLI::App& app) {
  auto f = std::make_shared<SimFlags>();
  CLI::App* c = app.add_subcommand(
      "sim", "Run one configuration on the simulated host; print its JSON record");
  c->add_option("--workload,-w", f->workload, "Workload name (see `vtmm list`)")
      ->capture_default_str();
  c->add_option("--policy,-p", f->policy, "Policy name (see `vtmm list`)")->capture_default_str();
  c->add_option("--ratio,-r", f->ratio, "Fast:slow split of guest memory, e.g. 1:4");
  c->add_option("--fast-bytes", f->fast_bytes,
                "Absolute fast-tier allowance instead of --ratio, e.g. 2GiB");
  c->add_option("--footprint", f->footprint,
                "Workload footprint (its 'footprint' parameter), e.g. 1GiB");
  c->add_option("--memory", f->memory,
                "Guest memory (default: footprint + page tables, 2 MiB aligned)");
  c->add_option("--host", f->host, "Host profile name or JSON path")->capture_default_str();
  c->add_option("--seed", f->seed, "Seed of every random choice in the run")->capture_default_str();
  c->add_option("--vcpus", f->vcpus, "vCPUs (workload threads)")->capture_default_str();
  c->add_flag("--ept-huge", f->ept_huge, "Back guest memory with 2 MiB EPT mappings");
  c->add_flag("--guest-thp", f->guest_thp, "The guest maps 2 MiB pages (THP; docs/huge-pages.md)");
  c->add_flag("--aged-guest", f->aged, "Guest hands out physical pages in shuffled order");
  c->add_option("--initial-tier", f->initial_tier, "Where first touches are backed: policy or slow")
      ->capture_default_str();
  c->add_option("--policy-thread-core", f->policy_thread_core,
                "Where a host-side policy's thread runs: spare (a core of its own) or vcpu0 "
                "(pre-empts vCPU 0)")
      ->capture_default_str();
  c->add_option("--wl,--workload-param", f->wl_params, "Workload parameter KEY=VALUE (repeatable)");
  c->add_option("--pp,--policy-param", f->pol_params, "Policy parameter KEY=VALUE (repeatable)");
  c->add_option("--hp,--host-param", f->host_params,
                "Host constant override KEY=VALUE (repeatable)");
  c->add_option("--against", f->against,
                "Also run this design on the same configuration (e.g. dram-only); the record's "
                "slowdown is against it");
  add_threads_option(c, f->threads);
  c->add_flag("--no-wall", f->no_wall,
              "Leave wall_s and cpu_s out, so identical runs print identical bytes");
  c->callback([f] {
    const Json run = run_json(*f);
    RunSpec spec = RunSpec::from_json(run, "sim");
    spec.exec.threads = f->threads;
    std::vector<RunSpec> specs{spec};
    if (!f->against.empty()) {  // checked before anything runs
      if (PolicyRegistry::instance().find(f->against) == nullptr)
        throw SpecError("--against: unknown policy '" + f->against + "' (see `vtmm list`)");
      Json ref = run;
      ref["policy"] = Json{{"impl", f->against}};
      specs.push_back(RunSpec::from_json(ref, "sim"));
      specs.back().exec.threads = f->threads;
    }
    std::vector<Json> recs;
    for (const RunSpec& s : specs) recs.push_back(runner::run_one(s, !f->no_wall));
    if (!f->against.empty()) {  // as an experiment's baseline gives it
      const double t = recs[0].value("sim_time_s", 0.0), b = recs[1].value("sim_time_s", 0.0);
      recs[0]["slowdown"] = t > 0 && b > 0 ? Json(t / b) : Json(nullptr);
      recs[0]["slowdown_against"] = f->against;
    }
    if (const std::string w = runner::llc_fit_warning(recs[0]); !w.empty()) std::cerr << w << '\n';
    std::cout << recs[0].dump() << '\n';
  });
}

}  // namespace vtmm::cli
