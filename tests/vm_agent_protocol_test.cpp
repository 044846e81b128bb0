// The host-side agent protocol parser against hostile input: valid frames
// round-trip; every frame broken in a known way is rejected with a reason;
// random bytes and random mutations never crash it or read out of bounds
// (this suite runs under ASan/UBSan in CI) and anything accepted obeys the
// memory map and limits.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "vtmm/platform/agent_protocol.hpp"

namespace vtmm::agent_proto {
namespace vm_agent_protocol_test {

const MemoryMap kMap{
    {{0, 64ull << 20}, {1ull << 32, (1ull << 32) + (16ull << 20)}}};  // 64 MiB + 16 MiB above 4 GiB

std::vector<Message> valid_messages() {
  std::vector<Message> v;
  v.push_back({MsgType::Hello, 1, Hello{1, 48ull << 20, {32ull << 20, 16ull << 20}}});
  v.push_back({MsgType::Metrics, 2,
               Metrics{"redis-benchmark", {{"requests_per_s", 5123.5}, {"p50_ms", 0.3}}}});
  v.push_back({MsgType::Pages, 3,
               Pages{PageSource::SoftDirty,
                     7,
                     {0, 5, (64ull << 20) / 4096 - 1, (1ull << 32) / 4096},
                     {1, 2, 3, 1}}});
  v.push_back({MsgType::Done, 4, Done{0}});
  v.push_back({MsgType::Error, 5, Text{"redis-server did not start"}});
  v.push_back({MsgType::Command, 6, Text{"run redis 2000"}});
  Tables t{{3}, std::vector<uint64_t>(kPtesPerTable, 0)};
  t.entries[0] = 5 | uint64_t{kPresent | kAccessed} << 56;
  t.entries[1] = ((64ull << 20) / 4096 - 1) | uint64_t{kPresent | kAccessed | kDirty} << 56;
  t.entries[2] = 6 | uint64_t{kPresent} << 56;
  v.push_back({MsgType::Tables, 7, t});
  return v;
}

Decoded decode(const std::string& f) {
  return decode_frame(reinterpret_cast<const uint8_t*>(f.data()), f.size(), kMap);
}

void set32(std::string& f, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) f[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
void set64(std::string& f, size_t at, uint64_t v) {
  for (int i = 0; i < 8; ++i) f[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

// Properties of anything the parser accepts.
void check_accepted(const Message& m) {
  if (const auto* p = std::get_if<Pages>(&m.body)) {
    ASSERT_EQ(p->gfns.size(), p->flags.size());
    ASSERT_LE(p->gfns.size(), kMaxPages);
    for (size_t i = 0; i < p->gfns.size(); ++i) {
      ASSERT_TRUE(kMap.contains_gfn(p->gfns[i]));
      ASSERT_TRUE(p->flags[i] >= 1 && p->flags[i] <= 3);
    }
  } else if (const auto* x = std::get_if<Metrics>(&m.body)) {
    ASSERT_LE(x->values.size(), kMaxMetrics);
    for (const auto& kv : x->values) ASSERT_TRUE(std::isfinite(kv.second));
  } else if (const auto* h = std::get_if<Hello>(&m.body)) {
    ASSERT_LE(h->mem_bytes, kMap.total_bytes());
  } else if (const auto* t = std::get_if<Tables>(&m.body)) {
    ASSERT_EQ(t->entries.size(), t->gfns.size() * kPtesPerTable);
    for (uint64_t g : t->gfns) ASSERT_TRUE(kMap.contains_gfn(g));
    for (uint64_t e : t->entries) {
      if (e != 0) {
        ASSERT_TRUE(kMap.contains_gfn(e & kPfnMask) && (e >> 56 & kPresent));
      }
    }
  }
}

TEST(VmAgentProtocol, ValidFramesRoundTrip) {
  for (const Message& m : valid_messages()) {
    const std::string f = encode(m);
    const Decoded d = decode(f);
    ASSERT_TRUE(d.msg) << d.error;
    EXPECT_EQ(d.msg->type, m.type);
    EXPECT_EQ(d.msg->seq, m.seq);
    EXPECT_EQ(encode(*d.msg), f);
  }
}

// Frames damaged one way each, as (what, frame).
using Malformed = std::vector<std::pair<std::string, std::string>>;

// Appends `what`: the encoding of valid message `which`, then mutated.
template <class Mutate>
void add_mutated(Malformed& bad, const char* what, size_t which, Mutate&& mutate) {
  static const std::vector<Message> v = valid_messages();
  std::string f = encode(v[which]);
  mutate(f);
  bad.emplace_back(what, f);
}

// The header (magic, version, type, length) and a Pages payload.
void add_bad_framing_and_pages(Malformed& bad) {
  const auto mk = [&](const char* what, size_t which, auto&& m) {
    add_mutated(bad, what, which, m);
  };
  mk("bad magic", 0, [](std::string& f) { f[0] = 'X'; });
  mk("version 2", 1, [](std::string& f) { f[4] = 2; });
  mk("version 0", 1, [](std::string& f) { f[4] = 0; });
  mk("unknown type", 3, [](std::string& f) { f[6] = 99; });
  mk("length too large", 1, [](std::string& f) { set32(f, 8, kMaxPayload + 1); });
  mk("length short", 1,
     [](std::string& f) { set32(f, 8, static_cast<uint32_t>(f.size() - kHeaderBytes - 1)); });
  mk("truncated", 2, [](std::string& f) { f.resize(f.size() - 3); });
  mk("trailing byte", 3, [](std::string& f) {
    f.push_back(0);
    set32(f, 8, static_cast<uint32_t>(f.size() - kHeaderBytes));
  });
  mk("header only", 0, [](std::string& f) { f.resize(10); });
  mk("gfn past RAM", 2, [](std::string& f) {
    set64(f, kHeaderBytes + 12, (uint64_t{1} << 56) | ((64ull << 20) / 4096));
  });
  mk("gfn in the hole", 2, [](std::string& f) {
    set64(f, kHeaderBytes + 12, (uint64_t{1} << 56) | (3ull << 30) / 4096);
  });
  mk("gfn max", 2,
     [](std::string& f) { set64(f, kHeaderBytes + 12, (uint64_t{1} << 56) | kPfnMask); });
  mk("reserved gfn bits", 2, [](std::string& f) {
    set64(f, kHeaderBytes + 12, (uint64_t{1} << 56) | (uint64_t{1} << 53));
  });
  mk("no flags", 2, [](std::string& f) { set64(f, kHeaderBytes + 12, 5); });
  mk("unknown flag", 2,
     [](std::string& f) { set64(f, kHeaderBytes + 12, (uint64_t{4} << 56) | 5); });
  mk("unknown source", 2, [](std::string& f) { f[kHeaderBytes] = 9; });
  mk("pad set", 2, [](std::string& f) { f[kHeaderBytes + 1] = 1; });
  mk("count huge", 2, [](std::string& f) { set32(f, kHeaderBytes + 8, 0xffffffffu); });
  mk("count mismatch", 2, [](std::string& f) { set32(f, kHeaderBytes + 8, 3); });
}

// Hello, Metrics, text and Done payloads.
void add_bad_payloads(Malformed& bad) {
  const auto mk = [&](const char* what, size_t which, auto&& m) {
    add_mutated(bad, what, which, m);
  };
  mk("hello zero nodes", 0, [](std::string& f) { set32(f, kHeaderBytes + 4, 0); });
  mk("hello nodes huge", 0, [](std::string& f) { set32(f, kHeaderBytes + 4, 0x7fffffff); });
  mk("hello sum", 0, [](std::string& f) { set64(f, kHeaderBytes + 8, 47ull << 20); });
  mk("hello bigger than VM", 0, [](std::string& f) {
    set64(f, kHeaderBytes + 8, 1ull << 40);
    set64(f, kHeaderBytes + 16, (1ull << 40) - (16ull << 20));
  });
  mk("metrics NaN", 1, [](std::string& f) { set64(f, f.size() - 8, 0x7ff8000000000001ull); });
  mk("metrics inf", 1, [](std::string& f) { set64(f, f.size() - 8, 0x7ff0000000000000ull); });
  mk("metrics bad key char", 1, [](std::string& f) { f[kHeaderBytes + 1 + 15 + 2 + 1] = '\n'; });
  mk("metrics name len past end", 1,
     [](std::string& f) { f[kHeaderBytes] = static_cast<char>(250); });
  mk("metrics count too many", 1,
     [](std::string& f) { f[kHeaderBytes + 16] = static_cast<char>(200); });
  mk("metrics empty name", 1, [](std::string& f) {
    f.erase(kHeaderBytes + 1, 15);
    f[kHeaderBytes] = 0;
    set32(f, 8, static_cast<uint32_t>(f.size() - kHeaderBytes));
  });
  {
    Message m{MsgType::Metrics, 9, Metrics{"x", {{"a", 1}, {"a", 2}}}};
    bad.emplace_back("duplicate key", encode(m));
    Message t{MsgType::Error, 9, Text{std::string("bell\x07", 5)}};
    bad.emplace_back("unprintable text", encode(t));
    Message l{MsgType::Error, 9, Text{std::string(kMaxText + 1, 'a')}};
    bad.emplace_back("text too long", encode(l));
  }
  mk("done size", 3, [](std::string& f) {
    f.push_back(0);
    set32(f, 8, 5);
  });
}

// A Tables payload.
void add_bad_tables(Malformed& bad) {
  const auto mk = [&](const char* what, size_t which, auto&& m) {
    add_mutated(bad, what, which, m);
  };
  const size_t tb = kHeaderBytes + 4, pte0 = tb + 8;  // the first table's gfn and first entry
  mk("table past RAM", 6, [&](std::string& f) { set64(f, tb, (64ull << 20) / 4096); });
  mk("table in the hole", 6, [&](std::string& f) { set64(f, tb, (3ull << 30) / 4096); });
  mk("pte gfn past RAM", 6,
     [&](std::string& f) { set64(f, pte0, uint64_t{kPresent} << 56 | (64ull << 20) / 4096); });
  mk("pte without present", 6,
     [&](std::string& f) { set64(f, pte0, uint64_t{kAccessed} << 56 | 5); });
  mk("pte no flags", 6, [&](std::string& f) { set64(f, pte0, 5); });
  mk("pte unknown flag", 6,
     [&](std::string& f) { set64(f, pte0, uint64_t{8 | kPresent} << 56 | 5); });
  mk("pte reserved bits", 6,
     [&](std::string& f) { set64(f, pte0, uint64_t{kPresent} << 56 | uint64_t{1} << 53); });
  mk("tables count zero", 6, [&](std::string& f) { set32(f, kHeaderBytes, 0); });
  mk("tables count mismatch", 6, [&](std::string& f) { set32(f, kHeaderBytes, 2); });
  {
    Tables twice{{3, 3}, std::vector<uint64_t>(2 * kPtesPerTable, 0)};
    bad.emplace_back("table twice", encode(Message{MsgType::Tables, 9, twice}));
  }
}

TEST(VmAgentProtocol, EveryKnownMalformationIsRejected) {
  Malformed bad;
  add_bad_framing_and_pages(bad);
  add_bad_payloads(bad);
  add_bad_tables(bad);
  for (const auto& [what, f] : bad) {
    const Decoded d = decode(f);
    EXPECT_FALSE(d.msg) << what << " was accepted";
    EXPECT_FALSE(d.error.empty()) << what;
  }
  // Also through the stream decoder: nothing comes out, every frame is counted.
  StreamDecoder s(kMap);
  for (const auto& [what, f] : bad) {
    if (f.size() < kHeaderBytes) continue;  // a short tail waits for more bytes by design
    s.feed(f.data(), f.size());
    while (auto m = s.next()) ADD_FAILURE() << "stream accepted a malformed frame";
  }
  EXPECT_GE(s.rejected(), bad.size() - 2);
}

TEST(VmAgentProtocol, StreamResynchronisesAfterGarbage) {
  StreamDecoder s(kMap);
  std::mt19937_64 rng(7);
  std::string stream;
  size_t valid = 0;
  for (int i = 0; i < 200; ++i) {
    std::string junk(rng() % 40, '\0');
    for (char& c : junk)
      c = static_cast<char>(rng() &
                            0x7f);  // 7-bit junk cannot hold a valid frame's 0x80+ bytes... usually
    stream += junk;
    const auto v = valid_messages();
    stream += encode(v[rng() % v.size()]);
    ++valid;
  }
  // Feed in random chunk sizes.
  size_t got = 0;
  for (size_t at = 0; at < stream.size();) {
    const size_t n = std::min<size_t>(1 + rng() % 64, stream.size() - at);
    s.feed(stream.data() + at, n);
    at += n;
    while (auto m = s.next()) {
      check_accepted(*m);
      ++got;
    }
  }
  EXPECT_EQ(got, valid);
  EXPECT_GT(s.rejected(), 0u);
}

// Random mutation fuzzing: bit flips, byte overwrites, truncation, extension,
// length-field rewrites on valid frames, plus pure random frames with a valid
// header. Counts are reported so the run's size is visible.
TEST(VmAgentProtocol, FuzzNoCrashAndAcceptedFramesObeyLimits) {
  std::mt19937_64 rng(12345);
  const auto v = valid_messages();
  uint64_t tried = 0, accepted = 0, rejected = 0;
  for (int iter = 0; iter < 200000; ++iter) {
    std::string f = encode(v[rng() % v.size()]);
    const int kind = static_cast<int>(rng() % 6);
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      switch (kind) {
        case 0:
          f[rng() % f.size()] ^= static_cast<char>(1u << (rng() % 8));
          break;
        case 1:
          f[rng() % f.size()] = static_cast<char>(rng());
          break;
        case 2:
          f.resize(rng() % (f.size() + 1));
          if (f.empty()) f.push_back('V');
          break;
        case 3:
          f.append(1 + rng() % 16, static_cast<char>(rng()));
          break;
        case 4:
          if (f.size() >= 12) set32(f, 8, static_cast<uint32_t>(rng()));
          break;
        case 5: {  // random payload behind a well-formed header
          std::string p(rng() % 128, '\0');
          for (char& c : p) c = static_cast<char>(rng());
          f = f.substr(0, kHeaderBytes) + p;
          set32(f, 8, static_cast<uint32_t>(p.size()));
          break;
        }
      }
    }
    // Decode from an exactly-sized heap copy so ASan sees any over-read.
    std::vector<uint8_t> buf(f.begin(), f.end());
    const Decoded d = decode_frame(buf.data(), buf.size(), kMap);
    ++tried;
    if (d.msg) {
      ++accepted;
      check_accepted(*d.msg);
      EXPECT_EQ(encode(*d.msg).size(), buf.size());
    } else {
      ++rejected;
      EXPECT_FALSE(d.error.empty());
    }
  }
  std::printf(
      "[fuzz] %llu frames: %llu accepted (benign mutations, all within limits), %llu rejected\n",
      static_cast<unsigned long long>(tried), static_cast<unsigned long long>(accepted),
      static_cast<unsigned long long>(rejected));
  EXPECT_GT(rejected, tried / 2);
}

}  // namespace vm_agent_protocol_test
}  // namespace vtmm::agent_proto
