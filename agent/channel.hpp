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
  // Every frame carries the seq of the command being answered (0 before the
  // first: the hello), so the host can tell a late reply from a current one.
  void send(agent_proto::MsgType type, decltype(agent_proto::Message::body) body);
  // Blocks for the next valid host command's text; its seq is what send() uses from now on.
  std::string next_command();
  void log(const std::string& text);  // to the console (serial log on the host)

 private:
  int fd_ = -1;
  uint32_t reply_seq_ = 0;
  agent_proto::StreamDecoder in_{agent_proto::MemoryMap{}};
};

}  // namespace vtmm::agent
