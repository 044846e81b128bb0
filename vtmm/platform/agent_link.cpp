#include "vtmm/platform/agent_link.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "vtmm/platform/interrupt.hpp"

namespace vtmm::platform {
namespace ap = agent_proto;

namespace {

constexpr uint64_t kPageBytes = 4096;
// Wire sizes of a reply's frames at their largest (agent_protocol.hpp's layouts).
constexpr uint64_t kPagesFrameBytes = ap::kHeaderBytes + 12;  // + 8 per page
constexpr uint64_t kMetricsFrameBytes =
    ap::kHeaderBytes + 1 + ap::kMaxName + 2 + ap::kMaxMetrics * (1 + ap::kMaxName + 8);
constexpr uint64_t kErrorFrameBytes = ap::kHeaderBytes + 2 + ap::kMaxText;
constexpr uint64_t kDoneFrameBytes = ap::kHeaderBytes + 4;
constexpr uint64_t kTableFrameBytes =
    ap::kHeaderBytes + 4 + 8 + ap::kPtesPerTable * 8;  // one table
constexpr uint64_t kNonPageFrames = 3;                 // Metrics, Error, Done
// A command frame is at most ~530 bytes: a guest that has not made room for
// one in this long is not reading its channel.
constexpr double kSendOnlyTimeoutS = 10;
// Longest single wait, so an interrupt or a dead domain is noticed promptly.
constexpr int kPollStepMs = 200;

std::string seconds_text(double s) {
  char b[32];
  std::snprintf(b, sizeof b, "%g", s);
  return b;
}

int poll_ms(double left_s) {
  return static_cast<int>(
      std::clamp(std::ceil(left_s * 1000), 1.0, static_cast<double>(kPollStepMs)));
}

int connect_unix(const std::string& path) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof sa.sun_path)
    throw std::runtime_error("agent socket path too long: " + path);
  std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
  int err = 0;
  for (int i = 0; i < 100; ++i) {  // the socket appears as QEMU starts
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) return fd;
    err = errno;
    if (fd >= 0) ::close(fd);
    check_interrupted();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  throw std::runtime_error("agent: cannot connect to " + path + ": " + std::strerror(err));
}

bool is_reply(ap::MsgType t) {
  return t == ap::MsgType::Metrics || t == ap::MsgType::Pages || t == ap::MsgType::Error ||
         t == ap::MsgType::Done || t == ap::MsgType::Tables;
}

// Joins a frame to the last entry when it continues the same report.
void append_pages(std::vector<ap::Pages>& out, ap::Pages&& pg) {
  if (pg.gfns.empty()) return;
  if (out.empty() || out.back().source != pg.source || out.back().window != pg.window) {
    out.push_back(std::move(pg));
    return;
  }
  ap::Pages& last = out.back();
  last.gfns.insert(last.gfns.end(), pg.gfns.begin(), pg.gfns.end());
  last.flags.insert(last.flags.end(), pg.flags.begin(), pg.flags.end());
}

[[noreturn]] void over_limit(const std::string& what, const char* unit, uint64_t limit) {
  throw std::runtime_error("agent: the reply to " + what + " passed its limit of " +
                           std::to_string(limit) + " " + unit + "; command abandoned");
}

}  // namespace

// One wait for the guest: a command's reply or the boot's hello.
struct AgentLink::Wait {
  std::string what;  // for messages: "'caps'"
  double timeout_s = 0;
  double deadline = 0;  // absolute, on clock_
  ReplyLimits limits;
  ReplyLimits used;
};

ReplyLimits ReplyLimits::for_map(const ap::MemoryMap& map) {
  ReplyLimits l;
  l.pages = map.total_bytes() / kPageBytes;
  l.messages = l.pages + kNonPageFrames;
  l.tables = std::min(l.pages, kMaxTablesPerWalk);
  l.messages += l.tables;
  l.bytes = l.pages * (kPagesFrameBytes + 8) + l.tables * kTableFrameBytes + kMetricsFrameBytes +
            kErrorFrameBytes + kDoneFrameBytes;
  return l;
}

double AgentLink::steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

AgentLink::AgentLink(const std::string& path, ap::MemoryMap map, std::function<bool()> alive)
    : AgentLink(connect_unix(path), std::move(map), std::move(alive)) {}

AgentLink::AgentLink(int fd, ap::MemoryMap map, std::function<bool()> alive, Clock clock)
    : fd_(fd),
      dec_(map),
      limits_(ReplyLimits::for_map(map)),
      alive_(std::move(alive)),
      clock_(std::move(clock)) {
  // Non-blocking, so a guest that stops reading cannot stall a send past its deadline.
  const int fl = ::fcntl(fd_, F_GETFL);
  if (fl < 0 || ::fcntl(fd_, F_SETFL, fl | O_NONBLOCK) < 0) {
    ::close(fd_);
    throw std::runtime_error(std::string("agent: cannot set up the channel: ") +
                             std::strerror(errno));
  }
}

AgentLink::~AgentLink() {
  if (fd_ >= 0) ::close(fd_);
}

void AgentLink::disconnect(std::string why) {
  disconnected_ = std::move(why);
  ::close(fd_);
  fd_ = -1;
  throw std::runtime_error(disconnected_);
}

void AgentLink::check_rejected() {
  if (dec_.rejected() <= kMaxRejectedFrames) return;
  disconnect("agent: guest sent " + std::to_string(dec_.rejected()) +
             " invalid frames (more than " + std::to_string(kMaxRejectedFrames) +
             "; last: " + dec_.last_reason() + "); disconnected");
}

void AgentLink::read_some(Wait& w) {
  pollfd p{fd_, POLLIN, 0};
  const int r = ::poll(&p, 1, poll_ms(w.deadline - clock_()));
  if (r < 0 && errno != EINTR)
    throw std::runtime_error(std::string("agent: poll failed: ") + std::strerror(errno));
  if (r <= 0) {
    if (!alive_())
      throw std::runtime_error("agent: the domain stopped while waiting for " + w.what);
    return;
  }
  char buf[65536];
  const ssize_t n = ::read(fd_, buf, sizeof buf);
  if (n == 0) throw std::runtime_error("agent: channel closed while waiting for " + w.what);
  if (n < 0) {
    if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) return;
    throw std::runtime_error(std::string("agent: read failed: ") + std::strerror(errno));
  }
  w.used.bytes += static_cast<uint64_t>(n);
  if (w.used.bytes > w.limits.bytes) over_limit(w.what, "bytes", w.limits.bytes);
  dec_.feed(buf, static_cast<size_t>(n));
}

ap::Message AgentLink::next(Wait& w) {
  for (;;) {
    if (!disconnected_.empty()) throw std::runtime_error(disconnected_);
    std::optional<ap::Message> m = dec_.next();
    check_rejected();
    if (m) {
      if (++w.used.messages > w.limits.messages) over_limit(w.what, "messages", w.limits.messages);
      return std::move(*m);
    }
    check_interrupted();
    if (clock_() >= w.deadline)
      throw std::runtime_error("agent: no answer within " + seconds_text(w.timeout_s) +
                               " s waiting for " + w.what);
    read_some(w);
  }
}

uint32_t AgentLink::send(const std::string& text, const Wait& w) {
  if (!disconnected_.empty()) throw std::runtime_error(disconnected_);
  // The agent drops a longer frame as invalid: it would never answer.
  if (text.size() > ap::kMaxText)
    throw std::invalid_argument("agent: command of " + std::to_string(text.size()) +
                                " bytes, more than the protocol's " + std::to_string(ap::kMaxText) +
                                ": " + text.substr(0, 40) + "...");
  const uint32_t seq = seq_++;
  const std::string f = ap::encode({ap::MsgType::Command, seq, ap::Text{text}});
  for (size_t at = 0; at < f.size();) {
    // MSG_NOSIGNAL: a closed peer is an error to report, not a SIGPIPE that kills vtmm.
    const ssize_t n = ::send(fd_, f.data() + at, f.size() - at, MSG_NOSIGNAL);
    if (n > 0) {
      at += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
      throw std::runtime_error("agent: write failed sending " + w.what + ": " +
                               std::strerror(errno));
    check_interrupted();
    if (clock_() >= w.deadline)  // a frame may be half sent: the channel is of no further use
      disconnect("agent: the guest did not take " + w.what + " within " +
                 seconds_text(w.timeout_s) + " s (not reading its channel); disconnected");
    pollfd p{fd_, POLLOUT, 0};
    ::poll(&p, 1, poll_ms(w.deadline - clock_()));
  }
  return seq;
}

AgentLink::Wait AgentLink::start(std::string what, double timeout_s,
                                 const ReplyLimits& limits) const {
  Wait w;
  w.what = std::move(what);
  w.timeout_s = timeout_s;
  w.deadline = clock_() + timeout_s;
  w.limits = limits;
  return w;
}

ap::Hello AgentLink::wait_hello(double timeout_s) {
  // Frames before the hello are ignored; only the deadline and the rejection rule bound them.
  constexpr uint64_t kNone = UINT64_MAX;
  Wait w =
      start("the agent's hello (guest boot)", timeout_s, ReplyLimits{kNone, kNone, kNone, kNone});
  for (;;) {
    ap::Message m = next(w);
    if (m.type == ap::MsgType::Hello) return std::get<ap::Hello>(m.body);
  }
}

void AgentLink::send_only(const std::string& text) {
  send(text, start("'" + text + "'", kSendOnlyTimeoutS, limits_));
}

void AgentLink::collect(CommandReply& r, ap::Message&& m, Wait& w) {
  switch (m.type) {
    case ap::MsgType::Metrics:
      r.metrics = std::move(std::get<ap::Metrics>(m.body).values);
      break;
    case ap::MsgType::Error:
      r.error = std::move(std::get<ap::Text>(m.body).text);
      break;
    case ap::MsgType::Pages: {
      ap::Pages& pg = std::get<ap::Pages>(m.body);
      w.used.pages += pg.gfns.size();
      if (w.used.pages > w.limits.pages) over_limit(w.what, "pages", w.limits.pages);
      append_pages(r.pages, std::move(pg));
      break;
    }
    case ap::MsgType::Tables: {
      ap::Tables& tb = std::get<ap::Tables>(m.body);
      w.used.tables += tb.gfns.size();
      if (w.used.tables > w.limits.tables) over_limit(w.what, "tables", w.limits.tables);
      r.tables.gfns.insert(r.tables.gfns.end(), tb.gfns.begin(), tb.gfns.end());
      r.tables.entries.insert(r.tables.entries.end(), tb.entries.begin(), tb.entries.end());
      break;
    }
    default:
      break;
  }
}

CommandReply AgentLink::command(const std::string& text, double timeout_s) {
  Wait w = start("'" + text + "'", timeout_s, limits_);
  const uint32_t seq = send(text, w);
  CommandReply r;
  for (;;) {
    ap::Message m = next(w);
    if (!is_reply(m.type)) continue;  // a second hello or a command echo: ignored
    if (m.seq != seq) {               // a late reply to an earlier command, or a forged one
      dec_.reject("reply with seq " + std::to_string(m.seq) + " while waiting for seq " +
                  std::to_string(seq));
      check_rejected();
      continue;
    }
    if (m.type == ap::MsgType::Done) {
      r.status = std::get<ap::Done>(m.body).status;
      return r;
    }
    collect(r, std::move(m), w);
  }
}

}  // namespace vtmm::platform
