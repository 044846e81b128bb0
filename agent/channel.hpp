#pragma once
// The agent's end of the virtio-serial port: frames out, commands in.
#include <string>

#include "vtmm/platform/agent_protocol.hpp"

namespace vtmm::agent {

class Channel {
 public:
  // Waits up to timeout_s for the port named `port` to appear (module load).
  Channel(const std::string& port, double timeout_s);
  ~Channel();
  void send(agent_proto::MsgType type, decltype(agent_proto::Message::body) body);
  // Blocks for the next valid host command's text.
  std::string next_command();
  void log(const std::string& text);  // to the console (serial log on the host)

 private:
  int fd_ = -1;
  uint32_t seq_ = 0;
  agent_proto::StreamDecoder in_{agent_proto::MemoryMap{}};
};

}  // namespace vtmm::agent
