#pragma once
// The workload contract.
//
// A workload runs its real algorithm on real data held in ordinary host
// memory, and reports every data access it makes at the *simulated* guest
// virtual address of the datum, in batches. The platform charges the
// accesses; the workload never sees time.
//
// What a workload must do:
//  - lay out its data in guest virtual memory through VaLayout at
//    construction, so footprint_bytes() is known before the run; keep
//    construction cheap (specs are validated by constructing every run's
//    workload) and build the data on the first next();
//  - emit accesses per vCPU in program order, each batch in one phase;
//    phases only move forward (Setup -> Warmup -> Measured); the platform holds
//    a barrier between phases across vCPUs, and likewise between epochs: a
//    batch of epoch e runs only once every vCPU has run out of batches of
//    earlier epochs (a parallel program's barrier: a BFS level, a PageRank
//    sweep); epochs only move forward and never go back to 0 within a run;
//  - count its operations in the Measured phase (ops());
//  - check its own result in verify() and throw VerifyError if it is wrong.
#include <cstdint>
#include <string>

#include "vtmm/core/registry.hpp"
#include "vtmm/core/types.hpp"

namespace vtmm {

enum class Phase : uint8_t { Setup = 0, Warmup = 1, Measured = 2 };

struct Batch {
  static constexpr uint32_t kCap = 256;
  uint32_t n = 0;
  Phase phase = Phase::Measured;
  // The program's barrier count when these accesses were made (see above);
  // workloads without barriers leave it 0.
  uint32_t epoch = 0;
  // Core work per access besides the memory system (ALU, L1/L2 hits).
  float compute_ns = 0;
  // How many of this batch's misses may be in flight at once: 1 for a
  // dependent chain (pointer chasing), up to the core's miss buffers otherwise.
  uint8_t mlp = 1;
  uint64_t va[kCap];
  uint8_t kind[kCap];

  void push(uint64_t addr, AccessKind k) {
    va[n] = addr;
    kind[n] = k;
    ++n;
  }
  bool full() const { return n == kCap; }
};

// Bump allocator for the workload's regions in the guest virtual space.
// Regions are 2 MiB aligned so huge-page runs map them whole.
class VaLayout {
 public:
  static constexpr uint64_t kBase = uint64_t{1}
                                    << 30;  // leave the low GiB unmapped, like a real process
  uint64_t alloc(uint64_t bytes) {
    const uint64_t at = next_;
    next_ += (bytes + kHugeSize - 1) & ~(kHugeSize - 1);
    return at;
  }
  uint64_t bytes() const { return next_ - kBase; }

 private:
  uint64_t next_ = kBase;
};

struct WorkloadEnv {
  uint64_t seed = 1;
  uint32_t vcpus = 1;
};

class Workload {
 public:
  static constexpr const char* kKind = "workload";  // the registry's noun in messages
  virtual ~Workload() = default;
  virtual uint64_t footprint_bytes() const = 0;
  // Fills b (b.n == 0 on entry) for vCPU `vcpu`; returns false once that
  // vCPU's stream has ended (b.n may still be > 0 on the last call).
  virtual bool next(uint32_t vcpu, Batch& b) = 0;
  virtual uint64_t ops() const = 0;
  virtual std::string op_name() const { return "op"; }
  virtual void verify() const = 0;
  // Why the policies' periods must not be scaled with guest memory (empty:
  // they may be). Time scaling (docs/vtmm.md) keeps a page's accesses per
  // window only when the per-page rate falls as the footprint grows, as it
  // does for a generator that spreads a core's accesses over its data. A
  // workload whose pages have fixed rates in time (a replayed trace) says
  // why not here, and its runs keep the published periods.
  virtual std::string fixed_page_rates() const { return {}; }
};

using WorkloadRegistry = Registry<Workload, WorkloadEnv>;

}  // namespace vtmm
