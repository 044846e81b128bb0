#pragma once
// One run, fully described: what `vtmm sim` builds from flags and what the
// experiment runner expands a spec into. Its JSON form is the "run" block of
// a spec and the "config.run" block of a record.
#include <optional>
#include <string>
#include <vector>

#include "vtmm/core/params.hpp"

namespace vtmm {

struct Ratio {
  double fast = 1, slow = 1;
  std::string text;  // as the user wrote it, e.g. "1:4"
};
// "F:S" with F, S > 0. Throws SpecError naming `where`.
Ratio parse_ratio(const std::string& s, const std::string& where);

// One VM: what it runs and how it is shaped. A single-VM run has one (its
// "vm" block and "workload" in JSON), a multi-VM run one per entry of "vms".
struct VmSpec {
  std::string name;  // multi-VM only ("vm0", "vm1", ... when not given)
  uint32_t vcpus = 1;
  uint64_t memory_bytes = 0;  // 0: the footprint plus page tables, rounded up to 2 MiB
  bool ept_huge = false;
  bool guest_thp = false;  // the guest maps 2 MiB pages (docs/huge-pages.md)
  bool aged_guest = false;
  // Single-VM only. Where the guest's first touch of a page is backed:
  // "policy" (the design's place()) or "slow" (every page starts on the slow
  // tier and the design moves what it will; a reference sized to one tier
  // ignores it).
  std::string initial_tier = "policy";
  // Single-VM only. Where a host-side design's policy thread runs: "spare" (a
  // host core of its own; it competes for cores only when they run out) or
  // "vcpu0" (pinned to vCPU 0's core: its work pre-empts that vCPU).
  std::string policy_thread_core = "spare";
  Json workload = Json::object();  // {"impl": name, params...}
  // Multi-VM only.
  uint64_t fast_share_bytes = 0;  // its default fast share; 0: the run's ratio of its memory
  double start_ms = 0;            // simulated time at which it starts

  // An entry of "vms".
  static VmSpec from_json(const Json& j, const std::string& where);
  Json to_json() const;
};

// How the VMs of a multi-VM run share the host's fast tier.
struct HostShare {
  std::string sharing = "static";  // "pool", "static" or "proportional"
  bool sharing_given = false;      // the spec named it (references have it erased)
  uint64_t fast_bytes = 0;         // the host's fast tier for these VMs (0: the sum of the shares)
  uint64_t memory_bytes = 0;       // the host's memory, both tiers (0: not checked)
  bool allow_memory_overcommit = false;
  Json pool = Json::object();  // the pool's parameters (vtmm/policy/fast_pool.hpp)
};

// Where the VMs run: the platform and, on the simulator, the host's profile.
struct HostSpec {
  std::string platform = "sim";
  Json platform_options = Json::object();  // vm only: checked by vtmm/platform/vm_run.cpp
  std::string profile = "optane";          // "host" in JSON
  Json overrides = Json::object();         // "host_overrides" in JSON
  HostShare share;                         // multi-VM only
};

// What the run as a whole is given: the fast tier's size and the seed.
struct RunOptions {
  std::optional<Ratio> ratio;  // fast:slow split of guest memory
  uint64_t fast_bytes = 0;     // or an absolute fast allowance (0: use ratio)
  uint64_t seed = 1;
  // Which repetition of an otherwise identical run (set by the runner when a
  // spec asks for "repeat" > 1; absent otherwise, so run keys stay as they were).
  std::optional<uint32_t> repeat;
};

// How a run is executed, not what it computes: never in to_json(), so never
// in a run key or a record (a run's record is the same bytes for any value).
struct ExecOptions {
  // Host threads one simulated run may use (`--threads`): the run loop's
  // own and helpers that make workload batches ahead (docs/simulator.md,
  // "One run on several cores").
  uint32_t threads = 1;
};

// The tree: a host, its VMs, the design every VM runs (each VM its own
// instance of it), and the run's options. The JSON form stays flat for a
// single VM ("vm", "workload" beside "policy"), as specs and records have it.
struct RunSpec {
  HostSpec host;
  std::vector<VmSpec> vms{VmSpec{}};  // one for a single-VM run
  bool multi_vm = false;              // written as a "vms" list
  Json policy = Json::object();
  RunOptions options;
  ExecOptions exec;

  bool multi() const { return multi_vm; }
  // The single VM of a single-VM run (the first VM of a multi-VM run).
  const VmSpec& vm() const { return vms.front(); }
  VmSpec& vm() { return vms.front(); }

  static RunSpec from_json(const Json& j, const std::string& where);
  Json to_json() const;
  std::string label() const;  // "gups/first-touch/1:4/seed1", "4vms/vtmm/pool/seed1"
  // The workload's name, or "multi-vm".
  std::string workload_name() const;
  // The policy's label if the spec gives one, else its registered name.
  std::string policy_name() const;
};

// Progress labels for a sweep: each run's label(), and where two runs would
// print the same label, the settings that tell them apart ("gups/vtmm/1:4/
// seed1 workload.footprint=256MiB"): the leaves of to_json() whose values
// differ inside that group, the first three in key order.
std::vector<std::string> distinct_labels(const std::vector<RunSpec>& runs);

}  // namespace vtmm
