// The fuzz targets (fuzz/targets.hpp) under a deterministic mutator, in every
// ctest run and under ASan+UBSan in CI: the committed corpus in
// tests/fuzz/corpus/<target>/, each seed mutated a fixed number of times by a
// fixed-seed generator (bit flips, interesting integers, inserted, erased and
// duplicated ranges, truncation, splices; for specs also a JSON-aware mutator
// that swaps one value for a hostile one). An input that makes a target throw
// anything but the documented refusal fails the test, and is written to a
// file named in the failure so it can be replayed (scripts/fuzz.sh runs the
// same targets under libFuzzer for coverage-guided search).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz/targets.hpp"
#include "vtmm/core/rng.hpp"
#include "vtmm/platform/agent_protocol.hpp"
#include "vtmm/trace/writer.hpp"

namespace vtmm::fuzz_mutation_test {

namespace fs = std::filesystem;
using Bytes = std::string;

const fs::path kCorpus = fs::path(VTMM_SOURCE_DIR) / "tests" / "fuzz" / "corpus";

Bytes slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// ---- Seeds the project's own writers produce (committed, kept current below).

std::vector<std::pair<std::string, Bytes>> agent_seeds() {
  using namespace agent_proto;
  const Message hello{MsgType::Hello, 0,
                      Hello{1, uint64_t{4} << 30, {uint64_t{3} << 30, uint64_t{1} << 30}}};
  const Message metrics{MsgType::Metrics, 1,
                        Metrics{"redis", {{"ops_per_s", 12345.5}, {"p99_us", 80.0}}}};
  Pages pages;
  pages.source = PageSource::SoftDirty;
  pages.window = 3;
  pages.gfns = {0, 1, 77, (uint64_t{4} << 30 >> 12) + 5};
  pages.flags = {kAccessed, kDirty, kAccessed | kDirty, kAccessed};
  const Message pages_msg{MsgType::Pages, 2, pages};
  const Message done{MsgType::Done, 2, Done{0}};
  const Message error{MsgType::Error, 3, Text{"redis-server exited"}};
  return {{"hello-metrics-done.bin", encode(hello) + encode(metrics) + encode(done)},
          {"pages-done.bin", encode(pages_msg) + encode(done)},
          {"error.bin", encode(error) + encode(Message{MsgType::Done, 3, Done{1}})}};
}

std::vector<std::pair<std::string, Bytes>> trace_seeds() {
  std::vector<std::pair<std::string, Bytes>> out;
  for (const uint32_t codec : {trace::kCodecZlib, trace::kCodecRaw}) {
    const fs::path tmp = fs::path(fuzz::scratch_dir()) / "seed.vtrace";
    trace::Header h;
    h.window_accesses = 64;
    h.program = "fuzz seed";
    h.recorded_at = "2026-12-05T00:00:00Z";
    h.recorder = "tests/fuzz_mutation_test.cpp";
    trace::TraceWriter w(tmp.string(), h, codec);
    trace::Window a{0, 100, "warmup", {{0x40000, 3, 1}, {0x40001, 0, 2}, {0x40100, 5, 0}}};
    trace::Window b{1, 90, "measured", {{0x40000, 10, 10}, {0x40002, 1, 0}}};
    trace::Window c{2, 80, "", {{0x40001, 7, 7}, {0x40100, 1, 1}, {0x41000, 2, 0}}};
    w.write(a);
    w.write(b);
    w.write(c);
    w.finish();
    out.emplace_back(codec == trace::kCodecZlib ? "zlib.vtrace" : "raw.vtrace", slurp(tmp));
    fs::remove(tmp);
  }
  return out;
}

// The committed seeds are what today's writers make; VTMM_UPDATE_FUZZ_CORPUS=1 rewrites them.
TEST(FuzzCorpus, GeneratedSeedsAreCurrent) {
  const bool update = std::getenv("VTMM_UPDATE_FUZZ_CORPUS") != nullptr;
  for (const auto& [dir, seeds] :
       {std::pair{"agent_stream", agent_seeds()}, std::pair{"trace", trace_seeds()}})
    for (const auto& [name, bytes] : seeds) {
      const fs::path p = kCorpus / dir / name;
      if (update) std::ofstream(p, std::ios::binary) << bytes;
      EXPECT_EQ(slurp(p), bytes) << p << " is stale: rerun with VTMM_UPDATE_FUZZ_CORPUS=1";
    }
}

// ---- The mutator.

const uint64_t kInteresting[] = {0,
                                 1,
                                 0x7f,
                                 0x80,
                                 0xff,
                                 0x7fff,
                                 0xffff,
                                 0x7fffffff,
                                 0xffffffff,
                                 1ull << 32,
                                 1ull << 52,
                                 1ull << 63,
                                 ~0ull,
                                 ~0ull - 1,
                                 4096,
                                 1ull << 20,
                                 (1ull << 20) + 1};

void mutate_bytes(Bytes& b, Rng& rng, const std::vector<Bytes>& others) {
  const auto pos = [&] { return b.empty() ? size_t{0} : static_cast<size_t>(rng.below(b.size())); };
  switch (rng.below(8)) {
    case 0:  // flip a bit
      if (!b.empty()) b[pos()] ^= static_cast<char>(1u << rng.below(8));
      break;
    case 1:  // an interesting byte
      if (!b.empty()) b[pos()] = static_cast<char>(kInteresting[rng.below(5)]);
      break;
    case 2: {  // an interesting little-endian integer of 2, 4 or 8 bytes
      const size_t width = size_t{2} << rng.below(3);
      if (b.size() < width) break;
      const size_t at = static_cast<size_t>(rng.below(b.size() - width + 1));
      const uint64_t v = kInteresting[rng.below(std::size(kInteresting))];
      for (size_t i = 0; i < width; ++i) b[at + i] = static_cast<char>(v >> (8 * i));
      break;
    }
    case 3:  // insert random bytes
      b.insert(pos(),
               Bytes(static_cast<size_t>(rng.below(16)) + 1, static_cast<char>(rng.below(256))));
      break;
    case 4: {  // erase a range
      if (b.empty()) break;
      const size_t at = pos();
      b.erase(at, static_cast<size_t>(rng.below(std::min<size_t>(b.size() - at, 64)) + 1));
      break;
    }
    case 5: {  // duplicate a range
      if (b.empty()) break;
      const size_t at = pos(),
                   n = std::min<size_t>(b.size() - at, static_cast<size_t>(rng.below(64)) + 1);
      b.insert(pos(), b.substr(at, n));
      break;
    }
    case 6:  // truncate
      b.resize(pos());
      break;
    default: {  // splice: the head of this input, the tail of another
      const Bytes& o = others[static_cast<size_t>(rng.below(others.size()))];
      b = b.substr(0, pos()) + o.substr(o.empty() ? 0 : static_cast<size_t>(rng.below(o.size())));
      break;
    }
  }
}

// Swaps one value of a JSON document (or deletes one key) for a hostile one.
bool mutate_json(Bytes& b, Rng& rng) {
  Json j = Json::parse(b, nullptr, false);
  if (j.is_discarded()) return false;
  std::vector<Json::json_pointer> paths;
  const auto walk = [&](const auto& self, const Json& v, const Json::json_pointer& at) -> void {
    paths.push_back(at);
    if (v.is_object())
      for (auto it = v.begin(); it != v.end(); ++it) self(self, it.value(), at / it.key());
    else if (v.is_array())
      for (size_t i = 0; i < v.size(); ++i) self(self, v[i], at / i);
  };
  walk(walk, j, Json::json_pointer());
  const Json::json_pointer at = paths[static_cast<size_t>(rng.below(paths.size()))];
  static const Json hostile[] = {0,
                                 -1,
                                 1.5,
                                 1e308,
                                 Json(18446744073709551615ull),
                                 9007199254740993.0,
                                 "",
                                 "x",
                                 "99999999999999999999",
                                 "1:0",
                                 "0B",
                                 "1TiB",
                                 "-1",
                                 Json::array(),
                                 Json::object(),
                                 Json::parse("[[[[]]]]"),
                                 nullptr,
                                 true,
                                 Json{{"impl", 5}},
                                 "gups",
                                 "vtmm",
                                 "/",
                                 Json::array({1, "a", nullptr})};
  if (!at.empty() && rng.below(6) == 0 && j[at.parent_pointer()].is_object())
    j[at.parent_pointer()].erase(at.back());  // a key left out
  else
    j[at] = hostile[rng.below(std::size(hostile))];
  b = j.dump();
  return true;
}

struct Target {
  const char* name;
  void (*run)(const uint8_t*, size_t);
  int per_seed;  // mutated inputs per seed in the Release build
  bool json;
};

// The sanitizer build runs the same code about ten times slower; a quarter of the inputs keeps it
// in seconds.
#if defined(__SANITIZE_ADDRESS__)
constexpr int kScale = 4;
#else
constexpr int kScale = 1;
#endif

void run_mutations(const Target& t) {
  std::vector<Bytes> seeds;
  std::vector<fs::path> names;
  for (const auto& e : fs::directory_iterator(kCorpus / t.name)) names.push_back(e.path());
  std::sort(names.begin(), names.end());
  for (const auto& p : names) seeds.push_back(slurp(p));
  ASSERT_FALSE(seeds.empty()) << "no corpus in " << kCorpus / t.name;
  Rng rng(0x5eed0000u + std::hash<std::string>{}(t.name) % 1000);
  uint64_t runs = 0;
  for (size_t s = 0; s < seeds.size(); ++s) {
    for (int k = 0; k < t.per_seed / kScale; ++k) {
      Bytes in = seeds[s];
      const int stacked = 1 + static_cast<int>(rng.below(4));
      for (int m = 0; m < stacked; ++m)
        if (!(t.json && rng.below(2) == 0 && mutate_json(in, rng))) mutate_bytes(in, rng, seeds);
      ++runs;
      try {
        t.run(reinterpret_cast<const uint8_t*>(in.data()), in.size());
      } catch (const std::exception& e) {
        const fs::path keep =
            fs::temp_directory_path() / ("vtmm_fuzz_" + std::string(t.name) + "_crash");
        std::ofstream(keep, std::ios::binary) << in;
        FAIL() << t.name << ": " << names[s].filename() << " mutation " << k << " threw "
               << e.what() << " (input kept in " << keep << ")";
      }
    }
  }
  std::printf("[fuzz] %s: %llu inputs from %zu seeds, none escaped\n", t.name,
              static_cast<unsigned long long>(runs), seeds.size());
}

TEST(FuzzMutation, SpecLoader) { run_mutations({"spec", fuzz::spec, 1000, true}); }
TEST(FuzzMutation, TraceReader) { run_mutations({"trace", fuzz::trace, 20000, false}); }
TEST(FuzzMutation, AgentStream) {
  run_mutations({"agent_stream", fuzz::agent_stream, 50000, false});
}

}  // namespace vtmm::fuzz_mutation_test
