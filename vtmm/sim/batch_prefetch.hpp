#pragma once
// A workload's batches made ahead of the run loop on helper threads, so one
// run uses more than one host core and its records stay the same bytes.
//
// A workload never sees time (vtmm/core/workload.hpp), so what a vCPU's
// stream holds does not depend on when the loop asks for it; only the order
// of the calls across a VM's vCPUs could matter (a level-synchronous BFS
// shares its frontier). A lane is therefore prefetched only when it is its
// VM's one vCPU: its calls come in the same order on a helper as in the loop.
// The others are made in the loop, as without helpers.
//
//   BatchPrefetch pf(2);               // 2 helper threads
//   const size_t lane = pf.add(wl, 0);  // a 1-vCPU VM's only lane
//   pf.start();
//   bool more = pf.next(lane, batch);  // what wl->next(0, batch) returned
//
// A helper fills a lane's ring of kSlots batches and sleeps when every ring
// it serves is full, until the loop has taken half of one; the loop takes
// them in order and waits when a ring is empty. An exception thrown by the workload reaches the
// loop at the batch where the loop would have called into it. The destructor stops the helpers; the
// workload is safe to use again (verify(), ops()) once it ran.
#include <atomic>
#include <cstdint>
#include <exception>
#include <memory>
#include <thread>
#include <vector>

#include "vtmm/core/workload.hpp"

namespace vtmm::sim {

class BatchPrefetch {
 public:
  explicit BatchPrefetch(uint32_t helpers) : helpers_(helpers) {}
  ~BatchPrefetch();
  BatchPrefetch(const BatchPrefetch&) = delete;
  BatchPrefetch& operator=(const BatchPrefetch&) = delete;

  // A lane whose batches the helpers make: vCPU `vcpu` of `wl`. Before start().
  size_t add(Workload* wl, uint32_t vcpu);
  void start();
  // The lane's next batch into `out` (out.n == 0 on entry) and whether more
  // follow, as Workload::next would have returned them.
  bool next(size_t lane, Batch& out);

 private:
  // 64 batches (16 Ki accesses, ~150 KB a lane): a sleeping helper is woken
  // once per 32 batches taken; with 8 the futex calls cost more than the
  // helper saved (pagerank quick: 0.26 s of system time against 1.6 s).
  static constexpr uint32_t kSlots = 64;
  struct Slot {
    Batch batch;
    bool more = true;
    std::exception_ptr error;
  };
  struct Ring {
    Workload* wl = nullptr;
    uint32_t vcpu = 0;
    Slot slots[kSlots];
    alignas(64) std::atomic<uint64_t> head{0};  // taken by the loop
    alignas(64) std::atomic<uint64_t> tail{0};  // made by a helper (own lines: no false sharing)
    bool ended = false;                         // helper side: the stream's last batch is made
  };
  void helper(uint32_t index);
  bool fill_one(Ring& r);

  uint32_t helpers_;
  uint32_t stride_ = 0;  // helpers started
  std::vector<std::unique_ptr<Ring>> rings_;
  std::vector<std::thread> threads_;
  std::atomic<uint32_t> kick_{0};  // bumped when the loop frees a slot or stops
  std::atomic<bool> stop_{false};
};

}  // namespace vtmm::sim
