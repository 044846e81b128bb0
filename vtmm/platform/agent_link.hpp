#pragma once
// The host end of the agent channel: a client on the domain's virtio-serial
// unix socket. Every byte from the guest goes through the validating
// StreamDecoder; rejected frames are counted and logged, never used. Waits
// poll in short steps so an interrupt or a dead domain ends them promptly.
#include <functional>
#include <string>
#include <vector>

#include "vtmm/platform/agent_protocol.hpp"

namespace vtmm::platform {

struct CommandReply {
  std::vector<std::pair<std::string, double>> metrics;
  std::vector<agent_proto::Pages> pages;
  std::string error;  // the agent's Error text, if it failed
  int status = 0;
};

class AgentLink {
 public:
  // `alive` is polled while waiting (false: the domain died; throws).
  AgentLink(const std::string& socket_path, agent_proto::MemoryMap map, std::function<bool()> alive);
  ~AgentLink();
  AgentLink(const AgentLink&) = delete;
  AgentLink& operator=(const AgentLink&) = delete;

  agent_proto::Hello wait_hello(double timeout_s);
  CommandReply command(const std::string& text, double timeout_s);
  void send_only(const std::string& text);
  uint64_t rejected() const { return dec_.rejected(); }
  const std::vector<std::string>& rejected_reasons() const { return dec_.reasons(); }

 private:
  agent_proto::Message next(double timeout_s, const std::string& waiting_for);
  int fd_ = -1;
  uint32_t seq_ = 0;
  agent_proto::StreamDecoder dec_;
  std::function<bool()> alive_;
};

}  // namespace vtmm::platform
