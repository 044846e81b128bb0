#pragma once
// The time/volume scale the Linux-derived baselines share with vTMM
// (vtmm/policy/vtmm.cpp, docs/vtmm.md): runs here are far smaller than the
// 16 GiB VMs the published defaults were tuned for, so every time constant
// (scan periods, thresholds, windows) and every volume constant (scan sizes,
// reserve sizes) is multiplied by time_scale = guest memory / reference_vm_bytes
// unless the spec gives time_scale. Rates (MB/s) are left alone: scaling both
// time and volume keeps them. A page then sees about as many accesses per
// period as in a 16 GiB VM, since a core issues accesses at the same rate
// whatever the VM size.
#include <cstdint>

#include "vtmm/core/params.hpp"
#include "vtmm/core/types.hpp"

namespace vtmm::baselines {

class TimeScale {
 public:
  void read(Params& p) {
    given_ = p.get<double>("time_scale", 0.0);
    reference_ = p.get_bytes("reference_vm_bytes", uint64_t{16} << 30);
    if (given_ < 0) p.fail("time_scale", "must be >= 0 (0: guest memory / reference_vm_bytes)");
    if (reference_ == 0) p.fail("reference_vm_bytes", "must be positive");
  }
  double resolve(uint64_t guest_pages) const {
    return given_ > 0 ? given_ : static_cast<double>(guest_pages * kPageSize) / static_cast<double>(reference_);
  }

 private:
  double given_ = 0;
  uint64_t reference_ = uint64_t{16} << 30;
};

}  // namespace vtmm::baselines
