#include "vtmm/platform/agent_link.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "vtmm/platform/interrupt.hpp"

namespace vtmm::platform {

AgentLink::AgentLink(const std::string& path, agent_proto::MemoryMap map, std::function<bool()> alive)
    : dec_(std::move(map)), alive_(std::move(alive)) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof sa.sun_path) throw std::runtime_error("agent socket path too long: " + path);
  std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
  for (int i = 0; i < 100; ++i) {  // the socket appears as QEMU starts
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) return;
    ::close(fd_);
    fd_ = -1;
    check_interrupted();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  throw std::runtime_error("agent: cannot connect to " + path + ": " + std::strerror(errno));
}

AgentLink::~AgentLink() {
  if (fd_ >= 0) ::close(fd_);
}

agent_proto::Message AgentLink::next(double timeout_s, const std::string& waiting_for) {
  const auto t0 = std::chrono::steady_clock::now();
  for (;;) {
    if (auto m = dec_.next()) return *m;
    check_interrupted();
    if (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() > timeout_s)
      throw std::runtime_error("agent: no answer within " + std::to_string(static_cast<int>(timeout_s)) + " s waiting for " +
                               waiting_for);
    pollfd p{fd_, POLLIN, 0};
    const int r = ::poll(&p, 1, 200);
    if (r < 0 && errno != EINTR) throw std::runtime_error("agent: poll failed");
    if (r <= 0) {
      if (!alive_()) throw std::runtime_error("agent: the domain stopped while waiting for " + waiting_for);
      continue;
    }
    char buf[65536];
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n == 0) throw std::runtime_error("agent: channel closed while waiting for " + waiting_for);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("agent: read failed");
    }
    const uint64_t before = dec_.rejected();
    dec_.feed(buf, static_cast<size_t>(n));
    (void)before;
  }
}

agent_proto::Hello AgentLink::wait_hello(double timeout_s) {
  for (;;) {
    agent_proto::Message m = next(timeout_s, "the agent's hello (guest boot)");
    if (m.type == agent_proto::MsgType::Hello) return std::get<agent_proto::Hello>(m.body);
  }
}

void AgentLink::send_only(const std::string& text) {
  const std::string f = agent_proto::encode({agent_proto::MsgType::Command, seq_++, agent_proto::Text{text}});
  for (size_t at = 0; at < f.size();) {
    const ssize_t n = ::write(fd_, f.data() + at, f.size() - at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error("agent: write failed");
    at += static_cast<size_t>(n);
  }
}

CommandReply AgentLink::command(const std::string& text, double timeout_s) {
  send_only(text);
  CommandReply r;
  for (;;) {
    agent_proto::Message m = next(timeout_s, "'" + text + "'");
    switch (m.type) {
      case agent_proto::MsgType::Metrics: r.metrics = std::get<agent_proto::Metrics>(m.body).values; break;
      case agent_proto::MsgType::Pages: r.pages.push_back(std::get<agent_proto::Pages>(m.body)); break;
      case agent_proto::MsgType::Error: r.error = std::get<agent_proto::Text>(m.body).text; break;
      case agent_proto::MsgType::Done:
        r.status = std::get<agent_proto::Done>(m.body).status;
        return r;
      default: break;  // a second hello or a command echo: ignored
    }
  }
}

}  // namespace vtmm::platform
