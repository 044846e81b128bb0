#pragma once
// The kernel's own counts of tracepoint events (VM exits, EPT violations,
// page migrations) over a stretch of a run, through perf_event_open: one
// counter per online CPU, for every process (a VM's exits happen in QEMU's
// vCPU threads, which exist before the count starts), so the counts include
// any other VM on the host. Root or CAP_PERFMON, and tracefs mounted.
#include <string>
#include <vector>

#include "vtmm/core/params.hpp"

namespace vtmm::platform {

// The tracefs id of sys:name, or "" (no tracefs mount, or no such event).
std::string tracepoint_id(const std::string& sys, const std::string& name);

class TracepointCounters {
 public:
  // Opens (disabled) counters for each "sys:name"; one that cannot be opened
  // is kept with the reason, and reads as null.
  explicit TracepointCounters(const std::vector<std::string>& events);
  ~TracepointCounters();
  TracepointCounters(const TracepointCounters&) = delete;
  TracepointCounters& operator=(const TracepointCounters&) = delete;

  void start();
  void stop();
  // {"kvm:kvm_exit": count or null, ...} and, for the nulls, "why".
  Json counts() const;

 private:
  struct Event {
    std::string name, why;
    std::vector<int> fds;  // one per CPU
  };
  std::vector<Event> events_;
};

}  // namespace vtmm::platform
