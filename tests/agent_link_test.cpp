// AgentLink, the host end of the guest channel, against a fake guest on a
// socketpair(2): a correct agent's replies are collected as before, and a
// hostile one cannot make the host grow without bound (reply limits), wait
// forever (one deadline per command, whatever the guest sends), take a stale
// reply for the current one (seq check) or keep sending junk (disconnect).
#include "vtmm/platform/agent_link.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace vtmm::platform {
namespace agent_link_test {

namespace ap = agent_proto;

constexpr uint64_t kPage = 4096;
const ap::MemoryMap kSmallMap{
    {{0, 16 * kPage}}};                        // 16 pages: limits small enough to reach in a test
const ap::MemoryMap kMiB{{{0, 256 * kPage}}};  // 256 pages: limits out of the way

ap::Message hello(uint64_t bytes = 16 * kPage) {
  return {ap::MsgType::Hello, 0, ap::Hello{1, bytes, {bytes}}};
}
ap::Message metrics(uint32_t seq, const std::string& key = "x") {
  return {ap::MsgType::Metrics, seq, ap::Metrics{"caps", {{key, 1.0}}}};
}
// One page-table page per gfn, each mapping nothing but its first PTE (page 0).
ap::Message tables(uint32_t seq, const std::vector<uint64_t>& gfns) {
  ap::Tables t{gfns, std::vector<uint64_t>(gfns.size() * ap::kPtesPerTable, 0)};
  for (size_t i = 0; i < gfns.size(); ++i)
    t.entries[i * ap::kPtesPerTable] = uint64_t{ap::kPresent | ap::kAccessed} << 56;
  return {ap::MsgType::Tables, seq, t};
}
ap::Message pages(uint32_t seq, std::vector<uint64_t> gfns, uint32_t window = 0) {
  std::vector<uint8_t> flags(gfns.size(), ap::kAccessed | ap::kDirty);
  return {ap::MsgType::Pages, seq,
          ap::Pages{ap::PageSource::SoftDirty, window, std::move(gfns), std::move(flags)}};
}
ap::Message error(uint32_t seq, std::string text) {
  return {ap::MsgType::Error, seq, ap::Text{std::move(text)}};
}
ap::Message done(uint32_t seq, int32_t status = 0) {
  return {ap::MsgType::Done, seq, ap::Done{status}};
}

// The guest's end of the channel. Frames can be written before the host
// waits for them (the socket buffers them) or from a thread while it does.
class FakeGuest {
 public:
  FakeGuest() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
      throw std::runtime_error("socketpair");
    host_ = fds[0];
    guest_ = fds[1];
  }
  ~FakeGuest() {
    if (host_ >= 0) ::close(host_);
    if (guest_ >= 0) ::close(guest_);
  }
  FakeGuest(const FakeGuest&) = delete;
  FakeGuest& operator=(const FakeGuest&) = delete;

  // The host's end, for AgentLink to own.
  int take_host_end() {
    const int fd = host_;
    host_ = -1;
    return fd;
  }
  void send(const ap::Message& m) { send_bytes(ap::encode(m)); }
  void send_bytes(const std::string& b) {
    for (size_t at = 0; at < b.size();) {
      const ssize_t n = ::send(guest_, b.data() + at, b.size() - at, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("fake guest: send failed");
      at += static_cast<size_t>(n);
    }
  }
  void close_channel() {
    ::close(guest_);
    guest_ = -1;
  }
  // No more bytes from the guest (the host reads EOF after them); the host may still send.
  void stop_sending() { ::shutdown(guest_, SHUT_WR); }
  // The host's commands so far, in order (waits up to 5 s for `count`).
  std::vector<ap::Message> commands(size_t count) {
    std::vector<ap::Message> out;
    while (out.size() < count && readable(5000)) {
      char buf[4096];
      const ssize_t n = ::read(guest_, buf, sizeof buf);
      if (n <= 0) break;
      in_.feed(buf, static_cast<size_t>(n));
      while (auto m = in_.next()) out.push_back(*m);
    }
    return out;
  }
  // Whether the host closed its end (EOF after whatever it had sent).
  bool host_hung_up() {
    char buf[4096];
    while (readable(5000)) {
      const ssize_t n = ::read(guest_, buf, sizeof buf);
      if (n == 0) return true;
      if (n < 0) return false;
    }
    return false;
  }

 private:
  bool readable(int ms) {
    pollfd p{guest_, POLLIN, 0};
    return ::poll(&p, 1, ms) == 1;
  }
  int host_ = -1, guest_ = -1;
  ap::StreamDecoder in_{ap::MemoryMap{}};
};

AgentLink link_to(FakeGuest& g, const ap::MemoryMap& map = kSmallMap) {
  return AgentLink(g.take_host_end(), map, [] { return true; });
}

// The exception's message, or "" when `f` returned.
std::string thrown(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

TEST(AgentLink, CollectsACorrectAgentsRepliesInOrder) {
  FakeGuest g;
  g.send(hello());
  g.send(metrics(0, "first"));
  g.send(pages(0, {1, 2}, 3));
  g.send(pages(0, {5}, 3));  // continues the same report: joined
  g.send(done(0));
  g.send(error(1, "no such command"));
  g.send(done(1, 1));
  AgentLink link = link_to(g);
  EXPECT_EQ(link.wait_hello(5).mem_bytes, 16 * kPage);

  const CommandReply caps = link.command("caps", 5);
  EXPECT_EQ(caps.status, 0);
  ASSERT_EQ(caps.metrics.size(), 1u);
  EXPECT_EQ(caps.metrics[0].first, "first");
  ASSERT_EQ(caps.pages.size(), 1u);
  EXPECT_EQ(caps.pages[0].window, 3u);
  EXPECT_EQ(caps.pages[0].gfns, (std::vector<uint64_t>{1, 2, 5}));
  EXPECT_EQ(caps.pages[0].flags.size(), 3u);

  const CommandReply bad = link.command("frobnicate", 5);
  EXPECT_EQ(bad.status, 1);
  EXPECT_EQ(bad.error, "no such command");
  EXPECT_EQ(link.rejected(), 0u);

  // The host numbers its commands 0, 1, ...: what the guest echoes.
  const std::vector<ap::Message> cmds = g.commands(2);
  ASSERT_EQ(cmds.size(), 2u);
  EXPECT_EQ(cmds[0].seq, 0u);
  EXPECT_EQ(std::get<ap::Text>(cmds[0].body).text, "caps");
  EXPECT_EQ(cmds[1].seq, 1u);
  EXPECT_EQ(std::get<ap::Text>(cmds[1].body).text, "frobnicate");
}

TEST(AgentLink, ACommandTooLongForTheProtocolIsRefusedNotSent) {
  FakeGuest g;
  g.send(hello());
  AgentLink link = link_to(g);
  link.wait_hello(5);
  EXPECT_THROW(link.command(std::string(ap::kMaxText + 1, 'x'), 5), std::invalid_argument);
}

TEST(AgentLink, LimitsFollowTheMemoryMap) {
  const ReplyLimits l = ReplyLimits::for_map(ap::MemoryMap{{{0, 512ull << 20}}});
  EXPECT_EQ(l.pages, (512ull << 20) / kPage);
  EXPECT_EQ(l.tables, kMaxTablesPerWalk) << "the companion's bound, below the guest's pages";
  // One page or table per frame, plus Metrics, Error, Done.
  EXPECT_EQ(l.messages, l.pages + l.tables + 3);
  const uint64_t framed = l.pages * (ap::kHeaderBytes + 12 + 8) +
                          l.tables * (ap::kHeaderBytes + 4 + 8 + ap::kPtesPerTable * 8);
  EXPECT_GT(l.bytes, framed);
  EXPECT_LT(l.bytes, framed + 16384);
}

// The largest reply a correct agent can send for a 16-page guest: every page
// in a frame of its own, every page a page table in a frame of its own, and a
// Metrics, an Error and a Done at their largest.
// It sits exactly at every limit and must go through.
std::vector<ap::Message> largest_correct_reply() {
  std::vector<ap::Message> r;
  for (uint64_t p = 0; p < 16; ++p) r.push_back(pages(0, {p}));
  for (uint64_t p = 0; p < 16; ++p) r.push_back(tables(0, {p}));
  ap::Metrics m{std::string(ap::kMaxName, 'n'), {}};
  for (size_t i = 0; i < ap::kMaxMetrics; ++i) {
    std::string key = std::to_string(i);
    m.values.emplace_back(key + std::string(ap::kMaxName - key.size(), 'k'), 1.0);
  }
  r.push_back({ap::MsgType::Metrics, 0, m});
  r.push_back(error(0, std::string(ap::kMaxText, 'e')));
  r.push_back(done(0));
  return r;
}

TEST(AgentLink, TheLargestCorrectReplyFitsTheLimits) {
  FakeGuest g;
  uint64_t bytes = 0;
  for (const ap::Message& m : largest_correct_reply()) {
    g.send(m);
    bytes += ap::encode(m).size();
  }
  AgentLink link = link_to(g);
  EXPECT_EQ(bytes, link.limits().bytes);
  const CommandReply r = link.command("soft-dirty 1", 5);
  EXPECT_EQ(r.pages.at(0).gfns.size(), 16u);
  EXPECT_EQ(r.tables.gfns.size(), 16u);
  EXPECT_EQ(r.tables.entries.size(), 16u * ap::kPtesPerTable);
  EXPECT_EQ(r.metrics.size(), ap::kMaxMetrics);
}

struct LimitCase {
  const char* name;
  std::function<std::vector<ap::Message>()>
      reply;  // ends with a Done: without the limit the command succeeds
  std::string error;
};

TEST(AgentLink, AReplyPastALimitFailsTheCommand) {
  const ReplyLimits l = ReplyLimits::for_map(kSmallMap);
  const std::vector<LimitCase> cases = {
      {"17 pages for a 16-page guest",
       [] {
         return std::vector<ap::Message>{pages(0, {0, 1, 2, 3, 4, 5, 6, 7, 8}),
                                         pages(0, {0, 1, 2, 3, 4, 5, 6, 7}), done(0)};
       },
       "limit of 16 pages"},
      {"17 tables for a 16-page guest",
       [] {
         return std::vector<ap::Message>{tables(0, {0, 1, 2, 3, 4, 5, 6, 7, 8}),
                                         tables(0, {0, 1, 2, 3, 4, 5, 6, 7}), done(0)};
       },
       "limit of 16 tables"},
      {"empty Pages frames past the message limit",
       [] {
         std::vector<ap::Message> r(40, pages(0, {}));
         r.push_back(done(0));
         return r;
       },
       "limit of 35 messages"},
      {"largest Metrics frames past the byte limit",
       [] {
         std::vector<ap::Message> r = largest_correct_reply();
         std::vector<ap::Message> bigs(12, r[32]);  // 12 x 9.3 KB: past the 16 tables' 66 KB
         bigs.push_back(done(0));
         return bigs;
       },
       "limit of " + std::to_string(l.bytes) + " bytes"},
  };
  for (const LimitCase& c : cases) {
    SCOPED_TRACE(c.name);
    FakeGuest g;
    for (const ap::Message& m : c.reply()) g.send(m);
    AgentLink link = link_to(g);
    const std::string what = thrown([&] { link.command("window-report 1", 5); });
    EXPECT_NE(what.find(c.error), std::string::npos) << what;
    EXPECT_NE(what.find("'window-report 1'"), std::string::npos) << what;
  }
}

// A guest that keeps sending valid frames but never the Done: the wait ends
// at the deadline fixed when the command was sent. The guest sends for at
// most 5 s, so a deadline that restarts on every frame shows up as a late end.
TEST(AgentLink, GuestTrafficDoesNotExtendTheDeadline) {
  constexpr double kTimeout = 0.3, kBound = kTimeout * 5;
  const std::vector<std::pair<const char*, std::function<void(AgentLink&)>>> waits = {
      {"command", [&](AgentLink& l) { l.command("ycsb-wait", kTimeout); }},
      {"hello", [&](AgentLink& l) { l.wait_hello(kTimeout); }},
  };
  for (const auto& [name, wait] : waits) {
    SCOPED_TRACE(name);
    FakeGuest g;
    AgentLink link = link_to(g, kMiB);
    std::atomic<bool> stop{false};
    std::thread chatter([&] {
      for (int i = 0; i < 100 && !stop; ++i) {
        g.send(metrics(0, std::to_string(i)));
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    });
    const auto t0 = std::chrono::steady_clock::now();
    const std::string what = thrown([&] { wait(link); });
    const double took =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    stop = true;
    chatter.join();
    EXPECT_NE(what.find("no answer within 0.3 s"), std::string::npos) << what;
    EXPECT_GE(took, kTimeout);
    EXPECT_LT(took, kBound);
  }
}

struct StaleCase {
  const char* name;
  ap::Message frame;  // sent before the real reply to the second command (seq 1)
};

TEST(AgentLink, AReplyWithAnotherSeqIsRejectedAndIgnored) {
  const std::vector<StaleCase> cases = {
      {"a late Done of the first command", done(0, 7)},
      {"a Done from the future", done(2, 7)},
      {"a late Error", error(0, "stale failure")},
      {"late Metrics", metrics(0, "stale")},
      {"late Pages", pages(0, {9})},
  };
  for (const StaleCase& c : cases) {
    SCOPED_TRACE(c.name);
    FakeGuest g;
    g.send(done(0));
    g.send(c.frame);
    g.send(metrics(1, "fresh"));
    g.send(done(1));
    AgentLink link = link_to(g);
    link.command("caps", 5);
    const CommandReply r = link.command("vmstat", 5);
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.error, "");
    ASSERT_EQ(r.metrics.size(), 1u);
    EXPECT_EQ(r.metrics[0].first, "fresh");
    EXPECT_TRUE(r.pages.empty());
    EXPECT_EQ(link.rejected(), 1u);
    ASSERT_EQ(link.rejected_reasons().size(), 1u);
    EXPECT_NE(link.rejected_reasons()[0].find("while waiting for seq 1"), std::string::npos);
  }
}

struct JunkCase {
  const char* name;
  std::string frame;  // rejected once each
  std::string reason;
};

std::string bad_version() {
  std::string f = ap::encode(done(0));
  f[4] = 2;
  return f;
}

// Up to kMaxRejectedFrames invalid frames are tolerated; the next one ends
// the link: the host closes the channel and every call says why.
TEST(AgentLink, TooManyInvalidFramesDisconnectTheGuest) {
  const std::vector<JunkCase> cases = {
      {"unsupported version", bad_version(), "unsupported protocol version 2"},
      {"GPA outside the map", ap::encode(pages(0, {100000})),
       "pages: GPA outside the VM's memory map"},
      {"stale seq", ap::encode(done(5)), "reply with seq 5 while waiting for seq 0"},
  };
  for (const JunkCase& c : cases) {
    for (const uint64_t n : {kMaxRejectedFrames, kMaxRejectedFrames + 1}) {
      SCOPED_TRACE(std::string(c.name) + " x" + std::to_string(n));
      FakeGuest g;
      for (uint64_t i = 0; i < n; ++i) g.send_bytes(c.frame);
      g.send(done(0));
      AgentLink link = link_to(g, kMiB);
      const std::string what = thrown([&] { link.command("caps", 5); });
      if (n <= kMaxRejectedFrames) {
        EXPECT_EQ(what, "");
        EXPECT_EQ(link.rejected(), n);
        continue;
      }
      EXPECT_EQ(what, "agent: guest sent 65 invalid frames (more than 64; last: " + c.reason +
                          "); disconnected");
      EXPECT_TRUE(g.host_hung_up());
      EXPECT_EQ(thrown([&] { link.command("caps", 5); }), what);
    }
  }
}

TEST(AgentLink, AClosedChannelOrADeadDomainEndsTheWait) {
  {
    FakeGuest g;
    AgentLink link = link_to(g);
    std::thread guest([&] {  // takes the command, starts answering, goes away
      g.commands(1);
      g.send(metrics(0));
      g.close_channel();
    });
    const std::string what = thrown([&] { link.command("caps", 5); });
    guest.join();
    EXPECT_EQ(what, "agent: channel closed while waiting for 'caps'");
  }
  {
    FakeGuest g;
    g.close_channel();
    AgentLink link = link_to(g);
    EXPECT_EQ(thrown([&] { link.wait_hello(5); }),
              "agent: channel closed while waiting for the agent's hello (guest boot)");
  }
  {
    FakeGuest g;
    AgentLink link(g.take_host_end(), kSmallMap, [] { return false; });
    EXPECT_EQ(thrown([&] { link.command("caps", 5); }),
              "agent: the domain stopped while waiting for 'caps'");
  }
}

// A guest that stops reading fills the channel; a send then gives up at its
// deadline instead of blocking. The clock moves 4 s per look, so the 10 s
// send deadline passes after a few polls.
TEST(AgentLink, AGuestThatDoesNotReadCannotBlockASend) {
  FakeGuest g;
  int fd = g.take_host_end();
  const int tiny = 1;  // the kernel raises it to its minimum, a few KiB
  ASSERT_EQ(::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &tiny, sizeof tiny), 0);
  double now = 0;
  AgentLink link(
      fd, kSmallMap, [] { return true; }, [&] { return now += 4; });
  const std::string text(ap::kMaxText, 'c');
  std::string what;
  for (int i = 0; i < 1000 && what.empty(); ++i) what = thrown([&] { link.send_only(text); });
  EXPECT_EQ(what, "agent: the guest did not take '" + text +
                      "' within 10 s (not reading its channel); disconnected");
  EXPECT_EQ(thrown([&] { link.send_only("poweroff"); }), what);
}

// Random streams through the whole link: replies with the right and wrong
// seqs, frames with bytes flipped or cut, and junk, in one write, then the
// guest hangs up. Whatever arrives, the command ends (its Done, a limit, a
// disconnect or the closed channel) with a reply inside the limits or an
// "agent: " error, never a crash; the ASan build checks the memory.
TEST(AgentLink, FuzzedStreamsEndEveryCommandWithinLimits) {
  std::mt19937_64 rng(2024);
  auto frame = [&]() -> std::string {
    const uint32_t seq = rng() % 4 == 0 ? static_cast<uint32_t>(rng() % 3) : 0;
    std::vector<uint64_t> gfns(rng() % 6);
    for (uint64_t& p : gfns) p = rng() % 20;  // some past the 16-page map
    switch (rng() % 5) {
      case 0:
        return ap::encode(metrics(seq, std::to_string(rng() % 100)));
      case 1:
        return ap::encode(pages(seq, gfns, static_cast<uint32_t>(rng() % 2)));
      case 2:
        return ap::encode(error(seq, "e"));
      case 3:
        return ap::encode(done(seq, static_cast<int32_t>(rng() % 2)));
      default: {
        std::string junk(rng() % 40, '\0');
        for (char& c : junk) c = static_cast<char>(rng());
        return junk;
      }
    }
  };
  auto mutate = [&](std::string& f) {
    if (f.empty()) return;
    switch (rng() % 4) {
      case 0:
        f[rng() % f.size()] ^= static_cast<char>(1u << (rng() % 8));
        break;
      case 1:
        f.resize(rng() % f.size());
        break;
      default:
        break;  // left valid
    }
  };
  uint64_t completed = 0, failed = 0;
  for (int round = 0; round < 400; ++round) {
    FakeGuest g;
    std::string stream;
    for (uint64_t n = 1 + rng() % 120; n > 0; --n) {
      std::string f = frame();
      mutate(f);
      stream += f;
    }
    g.send_bytes(stream);
    g.stop_sending();
    AgentLink link = link_to(g);
    try {
      const CommandReply r = link.command("caps", 5);
      ++completed;
      uint64_t n = 0;
      for (const ap::Pages& pg : r.pages) {
        n += pg.gfns.size();
        for (uint64_t gfn : pg.gfns) ASSERT_TRUE(kSmallMap.contains_gfn(gfn));
      }
      ASSERT_LE(n, link.limits().pages);
    } catch (const std::runtime_error& e) {
      ++failed;
      ASSERT_EQ(std::string(e.what()).rfind("agent: ", 0), 0u) << e.what();
    }
  }
  std::printf("[fuzz] 400 streams: %llu commands completed, %llu failed cleanly\n",
              static_cast<unsigned long long>(completed), static_cast<unsigned long long>(failed));
  EXPECT_GT(completed, 0u);
  EXPECT_GT(failed, 0u);
}

}  // namespace agent_link_test
}  // namespace vtmm::platform
