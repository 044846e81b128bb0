#pragma once
// What VMs on one simulated host share: the LLC, each tier's bandwidth, and
// the queue of hypervisor events (policy ticks, migration completions) that
// the run loop interleaves with the vCPUs in simulated time.
#include <functional>
#include <queue>
#include <vector>

#include "vtmm/sim/bandwidth.hpp"
#include "vtmm/sim/host_profile.hpp"
#include "vtmm/sim/llc.hpp"

namespace vtmm::sim {

class Vm;

class Host {
 public:
  explicit Host(HostProfile p) : prof(std::move(p)) {
    llc.init(prof.llc_bytes, prof.llc_ways);
    for (int t = 0; t < kTiers; ++t) {
      bw[t].init(prof.tier[t].read_bw_gbps, prof.tier[t].write_bw_gbps,
                 static_cast<double>(prof.tier[t].write_queue_bytes));
      lat_ns[t] = prof.tier[t].read_latency_ns;
    }
  }

  // Before a batch that starts at `now`, the smallest vCPU clock: slots
  // older than kRetireSlackNs are done with (hypervisor work starts at an
  // event's time, at most a batch before `now`), and the tiers' load is
  // fixed for the batch.
  void start_batch(double now) {
    for (auto& b : bw) b.retire_before(now - kRetireSlackNs);
    update_load(now);
  }

  // Loaded latency: a miss on tier t costs its idle latency plus what the
  // tier's measured curve adds at the utilisation of the last
  // kLoadWindowSlots before `now`. The run loop calls this before each batch
  // with the smallest vCPU clock, so those slots hold every vCPU's traffic.
  void update_load(double now) {
    for (int t = 0; t < kTiers; ++t) {
      load_ns[t] = prof.tier[t].load_ns(bw[t].utilisation(now, kLoadWindowSlots));
      lat_ns[t] = prof.tier[t].read_latency_ns + load_ns[t];
    }
  }

  void schedule(double at_ns, std::function<void()> fn) {
    events_.push(Event{at_ns, seq_++, std::move(fn)});
  }
  bool has_event_at_or_before(double t) const { return !events_.empty() && events_.top().at <= t; }
  double next_event_time() const { return events_.empty() ? 1e300 : events_.top().at; }
  // Runs the earliest event (ties in scheduling order, for determinism).
  void run_next_event() {
    Event e = events_.top();
    events_.pop();
    e.fn();
  }

  HostProfile prof;
  Llc llc;
  BandwidthCalendar bw[kTiers];
  // A modelling choice, not a hardware constant: 10 us holds hundreds of
  // misses at either tier's bandwidth and is short next to a workload's phases.
  static constexpr int64_t kLoadWindowSlots = 10;
  // How far before the slowest vCPU a booking may still come: the bandwidth
  // calendars keep that much of the past.
  static constexpr double kRetireSlackNs = 1e6;
  double lat_ns[kTiers];            // a miss's latency now: idle + loaded
  double load_ns[kTiers] = {0, 0};  // of which the load adds
  std::vector<Vm*> vms;             // indexed by VM id (the LLC tags lines with it)

 private:
  struct Event {
    double at;
    uint64_t seq;
    std::function<void()> fn;
    bool operator>(const Event& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
  uint64_t seq_ = 0;
};

// A hypervisor (host kernel) thread: trackers and migrators run on these, on
// the host's spare cores, with a clock of their own.
struct HvThread {
  double clock_ns = 0;
};

}  // namespace vtmm::sim
