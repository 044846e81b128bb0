#pragma once
// The host end of the agent channel: a client on the domain's virtio-serial
// unix socket (or any connected stream socket: tests use a socketpair).
//
// The guest is untrusted, so nothing it sends may crash, hang or grow the
// host without bound:
//  - every byte goes through the validating StreamDecoder; rejected frames
//    are counted and their reasons kept, never used;
//  - a command is answered only by Metrics, Pages, Error and Done frames that
//    carry its seq (agent_protocol.hpp); another seq is a late or forged
//    reply: rejected like a malformed frame, never allowed to finish the
//    command;
//  - a command's reply is bounded by ReplyLimits (pages, messages, bytes);
//    passing one fails the command with an error naming the limit;
//  - a command has one absolute deadline, fixed when it is sent, which no
//    amount of guest traffic extends (the same for the boot's hello);
//  - a guest that sends more than kMaxRejectedFrames rejected frames over the
//    link's life, or does not take a command within its deadline, is
//    disconnected: the link closes the channel, and this and every later call
//    throw the reason.
// Waits poll in short steps so an interrupt or a dead domain ends them promptly.
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "vtmm/platform/agent_protocol.hpp"

namespace vtmm::platform {

// A correct agent sends no invalid frame, so any is a bug or hostility. A
// few are tolerated so that one damaged frame (say, the tail of one written
// before the host connected: one or two rejections) does not end a run; 64
// is far above that and still bounds the decoding junk can cost the host
// (65 frames of at most 1 MiB each).
inline constexpr uint64_t kMaxRejectedFrames = 64;

// The most one command's reply may hold. What a correct agent can send for a
// guest with the given memory map, at its worst framing: every guest page
// reported once (a guest has no more pages than its map), one page per Pages
// frame, the guest companion's walk at its bound (kMaxTablesPerWalk tables,
// one per Tables frame), plus a Metrics, an Error and a Done frame at their
// largest.
inline constexpr uint64_t kMaxTablesPerWalk = 4096;  // guest/vtmm_gpt's bound
struct ReplyLimits {
  uint64_t pages = 0;     // page entries over all Pages frames
  uint64_t tables = 0;    // page-table pages over all Tables frames
  uint64_t messages = 0;  // valid frames of any type
  uint64_t bytes = 0;     // bytes read off the channel while the command runs
  static ReplyLimits for_map(const agent_proto::MemoryMap& map);
};

struct CommandReply {
  std::vector<std::pair<std::string, double>> metrics;
  // Consecutive Pages frames of the same source and window are joined into
  // one entry (empty ones dropped), so a report costs the host ~9 bytes per
  // page however the agent cuts it into frames.
  std::vector<agent_proto::Pages> pages;
  // Tables frames joined: each table's gfn, and its kPtesPerTable entries.
  agent_proto::Tables tables;
  std::string error;  // the agent's Error text, if it failed
  int status = 0;
  // The metric named `key`, or `missing`.
  double metric(const std::string& key, double missing) const {
    for (const auto& [k, v] : metrics)
      if (k == key) return v;
    return missing;
  }
};

class AgentLink {
 public:
  using Clock = std::function<double()>;  // monotonic seconds
  static double steady_seconds();

  // Connects to the domain's socket, retrying while QEMU creates it. `alive`
  // is polled while waiting (false: the domain died; throws).
  AgentLink(const std::string& socket_path, agent_proto::MemoryMap map,
            std::function<bool()> alive);
  // Takes ownership of `fd`, a connected stream socket.
  AgentLink(int fd, agent_proto::MemoryMap map, std::function<bool()> alive,
            Clock clock = steady_seconds);
  ~AgentLink();
  AgentLink(const AgentLink&) = delete;
  AgentLink& operator=(const AgentLink&) = delete;

  agent_proto::Hello wait_hello(double timeout_s);
  // Sends `text` and collects its reply until its Done; throws on the
  // deadline, a limit, a closed channel, a dead domain or a disconnect.
  CommandReply command(const std::string& text, double timeout_s);
  // Sends `text` without waiting for a reply (poweroff).
  void send_only(const std::string& text);
  uint64_t rejected() const { return dec_.rejected(); }
  const std::vector<std::string>& rejected_reasons() const { return dec_.reasons(); }
  const ReplyLimits& limits() const { return limits_; }

 private:
  struct Wait;
  Wait start(std::string what, double timeout_s, const ReplyLimits& limits) const;
  uint32_t send(const std::string& text, const Wait& w);
  agent_proto::Message next(Wait& w);
  void read_some(Wait& w);
  [[noreturn]] void disconnect(std::string why);
  void check_rejected();
  void collect(CommandReply& r, agent_proto::Message&& m, Wait& w);

  int fd_ = -1;
  uint32_t seq_ = 0;
  agent_proto::StreamDecoder dec_;
  ReplyLimits limits_;
  std::function<bool()> alive_;
  Clock clock_;
  std::string disconnected_;  // why the link closed the channel, once it has
};

}  // namespace vtmm::platform
