#pragma once
// The time/volume scale vTMM and the Linux-derived baselines share
// (docs/vtmm.md, "Time scaling"): runs here are far smaller than the 16 GiB
// VMs the published defaults were tuned for, so every time constant (scan
// periods, thresholds, windows) and every volume constant (scan sizes,
// reserve sizes) is multiplied by time_scale. Rates (MB/s) are left alone:
// scaling both time and volume keeps them.
//
// time_scale is, in this order: the spec's (a number > 0); 1 when the
// workload's pages have fixed rates in time (a replayed trace:
// PolicyEnv::scale_time_by_memory is false), since shorter windows would then
// see fewer accesses per page, not the same; else guest memory /
// reference_vm_bytes, which keeps a page's accesses per window when the
// workload spreads a core's accesses over its footprint (every generator
// here does: a core issues accesses at the same rate whatever the VM size).
#include <cstdint>
#include <string>

#include "vtmm/core/params.hpp"
#include "vtmm/core/policy.hpp"
#include "vtmm/core/types.hpp"

namespace vtmm::baselines {

class TimeScale {
 public:
  void read(Params& p, const PolicyEnv& env) {
    given_ = p.get<double>("time_scale", 0.0);
    reference_ = p.get_bytes("reference_vm_bytes", uint64_t{16} << 30);
    by_memory_ = env.scale_time_by_memory;
    if (given_ < 0) p.fail("time_scale", "must be >= 0 (0: guest memory / reference_vm_bytes)");
    if (reference_ == 0) p.fail("reference_vm_bytes", "must be positive");
  }
  double resolve(uint64_t guest_pages) const {
    if (given_ > 0) return given_;
    if (!by_memory_) return 1.0;
    return static_cast<double>(guest_pages * kPageSize) / static_cast<double>(reference_);
  }
  // How resolve() chose, for the run record.
  std::string rule() const {
    if (given_ > 0) return "given";
    return by_memory_ ? "guest memory / reference_vm_bytes" : "unscaled (fixed per-page rates)";
  }

 private:
  double given_ = 0;
  uint64_t reference_ = uint64_t{16} << 30;
  bool by_memory_ = true;
};

}  // namespace vtmm::baselines
