#pragma once
// What the PEBS-sampling baselines (hemem, memtis) share. Both run in the
// guest by default: PEBS records guest addresses and both manage the NUMA
// nodes they see (a user-space library, a guest kernel), so in a VM they use
// vPEBS and guest NUMA; `side: "host"` runs the same rule in the hypervisor
// for comparison. Both take the samples the platform collected since the
// last tick in one drain, at a fixed cost per sample.
#include <string>
#include <vector>

#include "vtmm/core/mechanisms.hpp"
#include "vtmm/core/params.hpp"

namespace vtmm::baselines {

// The "side" parameter: "guest" (default) or "host".
inline Side read_sampling_side(Params& p) {
  const std::string side = p.get<std::string>("side", "guest");
  if (side != "guest" && side != "host") p.fail("side", "must be \"guest\" or \"host\"");
  return side == "guest" ? Side::Guest : Side::Host;
}

inline std::vector<Mechanism> sampling_needs(Side side) {
  std::vector<Mechanism> n{Mechanism::Sampling, Mechanism::Migrate};
  if (side == Side::Guest) n.push_back(Mechanism::GuestNuma);
  return n;
}

// Replaces buf with the samples taken since the last drain and charges
// sample_ns for each (the policy's per-sample bookkeeping).
inline void drain_samples(Mechanisms& m, std::vector<AccessSample>& buf, double sample_ns) {
  buf.clear();
  m.sampler().drain_samples(buf);
  m.charge_ns(static_cast<double>(buf.size()) * sample_ns);
}

}  // namespace vtmm::baselines
