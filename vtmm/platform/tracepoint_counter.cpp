#include "vtmm/platform/tracepoint_counter.hpp"

#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace vtmm::platform {

std::string tracepoint_id(const std::string& sys, const std::string& name) {
  for (const char* root : {"/sys/kernel/tracing/events/", "/sys/kernel/debug/tracing/events/"}) {
    std::ifstream in(std::string(root) + sys + "/" + name + "/id");
    std::string id;
    if (std::getline(in, id) && !id.empty() &&
        id.find_first_not_of("0123456789") == std::string::npos)
      return id;
  }
  return "";
}

TracepointCounters::TracepointCounters(const std::vector<std::string>& events) {
  const long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  for (const std::string& e : events) {
    Event ev{e, "", {}};
    const auto colon = e.find(':');
    const std::string id =
        colon == std::string::npos ? "" : tracepoint_id(e.substr(0, colon), e.substr(colon + 1));
    if (id.empty()) {
      ev.why = "no tracefs event " + e + " (tracefs not mounted, or no such event)";
    } else {
      perf_event_attr attr{};
      attr.type = PERF_TYPE_TRACEPOINT;
      attr.size = sizeof attr;
      attr.config = std::stoull(id);
      attr.disabled = 1;
      for (long c = 0; c < cpus && ev.why.empty(); ++c) {
        const long fd = ::syscall(SYS_perf_event_open, &attr, -1, static_cast<int>(c), -1, 0);
        if (fd < 0)
          ev.why = std::string("perf_event_open: ") + std::strerror(errno);
        else
          ev.fds.push_back(static_cast<int>(fd));
      }
    }
    if (!ev.why.empty()) {
      for (int fd : ev.fds) ::close(fd);
      ev.fds.clear();
    }
    events_.push_back(std::move(ev));
  }
}

TracepointCounters::~TracepointCounters() {
  for (auto& e : events_)
    for (int fd : e.fds) ::close(fd);
}

void TracepointCounters::start() {
  for (auto& e : events_)
    for (int fd : e.fds)
      ::ioctl(fd, PERF_EVENT_IOC_RESET, 0), ::ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
}

void TracepointCounters::stop() {
  for (auto& e : events_)
    for (int fd : e.fds) ::ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
}

Json TracepointCounters::counts() const {
  Json out = Json::object(), why = Json::object();
  for (const auto& e : events_) {
    if (e.fds.empty()) {
      out[e.name] = nullptr;
      why[e.name] = e.why;
      continue;
    }
    uint64_t sum = 0;
    for (int fd : e.fds) {
      uint64_t v = 0;
      if (::read(fd, &v, sizeof v) == sizeof v) sum += v;
    }
    out[e.name] = sum;
  }
  if (!why.empty()) out["why"] = why;
  return out;
}

}  // namespace vtmm::platform
