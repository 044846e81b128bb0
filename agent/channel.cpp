#include "agent/channel.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace vtmm::agent {

namespace {

// /sys/class/virtio-ports/vportNpM/name holds the port's name; devtmpfs has /dev/vportNpM.
std::string find_port(const std::string& name) {
  DIR* d = ::opendir("/sys/class/virtio-ports");
  if (d == nullptr) return "";
  std::string found;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream in(std::string("/sys/class/virtio-ports/") + e->d_name + "/name");
    std::string n;
    std::getline(in, n);
    if (n == name) found = std::string("/dev/") + e->d_name;
  }
  ::closedir(d);
  return found;
}

}  // namespace

Channel::Channel(const std::string& port, double timeout_s) {
  const auto t0 = std::chrono::steady_clock::now();
  for (;;) {
    const std::string dev = find_port(port);
    if (!dev.empty()) fd_ = ::open(dev.c_str(), O_RDWR | O_CLOEXEC);
    if (fd_ >= 0) return;
    if (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() > timeout_s)
      throw std::runtime_error("virtio port " + port + " not found");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

Channel::~Channel() {
  if (fd_ >= 0) ::close(fd_);
}

void Channel::send(agent_proto::MsgType type, decltype(agent_proto::Message::body) body) {
  const std::string f =
      agent_proto::encode(agent_proto::Message{type, reply_seq_, std::move(body)});
  for (size_t at = 0; at < f.size();) {
    const ssize_t n = ::write(fd_, f.data() + at, f.size() - at);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      throw std::runtime_error("channel write failed");
    }
    at += static_cast<size_t>(n);
  }
}

std::string Channel::next_command() {
  for (;;) {
    while (auto m = in_.next()) {
      if (m->type != agent_proto::MsgType::Command) continue;
      reply_seq_ = m->seq;
      return std::get<agent_proto::Text>(m->body).text;
    }
    char buf[4096];
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::runtime_error("channel read failed");
    if (n == 0) {  // host not connected yet: virtio-serial reads 0 until it is
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    in_.feed(buf, static_cast<size_t>(n));
  }
}

void Channel::log(const std::string& text) {
  std::fprintf(stderr, "vtmm-agent: %s\n", text.c_str());
}

}  // namespace vtmm::agent
