// gups_native: the `gups` workload's generator (workloads/gups.cpp) as an
// ordinary program, for recording with `vtmm trace record` and checking that
// replaying the recording gives the same tiering behaviour as the built-in
// workload. Same parameters, same xoshiro streams, same hot-set placement and
// the same table; one thread (the built-in workload with --vcpus 1).
//
// Phases are marked through the recorder's marker file: "warmup" when the
// table is initialised, "measured" when the warm-up updates are done, "end"
// before the final table check.
//
//   gups_native --footprint BYTES --updates N --warmup-updates N
//               [--hot-fraction F] [--hot-probability P] [--hot-offset random|start|end]
//               [--seed S] [--marker-file PATH]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "vtmm/core/rng.hpp"

namespace {

[[noreturn]] void usage(const char* what) {
  std::fprintf(stderr, "gups_native: %s\n", what);
  std::exit(2);
}

void mark(const std::string& file, const char* name) {
  if (file.empty()) return;
  std::FILE* f = std::fopen(file.c_str(), "w");
  if (f == nullptr) usage("cannot write the marker file");
  std::fprintf(f, "%s\n", name);
  std::fclose(f);
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t bytes = uint64_t{1} << 30, updates = 4'000'000, warmup = 1'000'000, seed = 1;
  double hot_fraction = 1.0 / 16, hot_prob = 0.9;
  std::string hot_at = "random", marker;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) usage(("missing value for " + a).c_str());
    const char* v = argv[++i];
    if (a == "--footprint")
      bytes = std::strtoull(v, nullptr, 0);
    else if (a == "--updates")
      updates = std::strtoull(v, nullptr, 0);
    else if (a == "--warmup-updates")
      warmup = std::strtoull(v, nullptr, 0);
    else if (a == "--hot-fraction")
      hot_fraction = std::strtod(v, nullptr);
    else if (a == "--hot-probability")
      hot_prob = std::strtod(v, nullptr);
    else if (a == "--hot-offset")
      hot_at = v;
    else if (a == "--seed")
      seed = std::strtoull(v, nullptr, 0);
    else if (a == "--marker-file")
      marker = v;
    else
      usage(("unknown option " + a).c_str());
  }
  if (bytes < 2 * 4096) usage("--footprint must be at least 8192");
  if (!(hot_fraction > 0 && hot_fraction <= 1)) usage("--hot-fraction must be in (0, 1]");
  const uint64_t elems = bytes / sizeof(uint64_t);
  const uint64_t hot_elems =
      std::max<uint64_t>(1, static_cast<uint64_t>(static_cast<double>(elems) * hot_fraction));
  // Placement exactly as workloads/gups.cpp does it (seed, page-aligned slot).
  vtmm::Rng placement(seed ^ 0x6f75707321ULL);
  uint64_t hot_base = 0;
  if (hot_at == "random")
    hot_base = placement.below((elems - hot_elems) / 512 + 1) * 512;
  else if (hot_at == "end")
    hot_base = elems - hot_elems;
  else if (hot_at != "start")
    usage("--hot-offset must be random, start or end");

  const auto t0 = std::chrono::steady_clock::now();
  std::vector<uint64_t> table(elems);
  for (uint64_t i = 0; i < elems; ++i) table[i] = i;
  mark(marker, "warmup");
  vtmm::Rng rng(seed * 0x9e37u + 1);
  uint64_t applied = 0;
  auto run = [&](uint64_t n) {
    for (uint64_t k = 0; k < n; ++k) {
      const uint64_t r = rng.next();
      const bool hot = rng.uniform() < hot_prob;
      const uint64_t i = hot ? hot_base + (r % hot_elems) : r % elems;
      table[i] ^= r;
      applied ^= r;
    }
  };
  run(warmup);
  mark(marker, "measured");
  const auto t1 = std::chrono::steady_clock::now();
  run(updates);
  const auto t2 = std::chrono::steady_clock::now();
  mark(marker, "end");  // the check below is not part of the measured work
  uint64_t x = 0;
  for (uint64_t v : table) x ^= v;
  const uint64_t n1 = elems - 1;
  const uint64_t xor_init = (n1 % 4 == 0) ? n1 : (n1 % 4 == 1) ? 1 : (n1 % 4 == 2) ? n1 + 1 : 0;
  const bool ok = x == (xor_init ^ applied);
  std::printf("gups_native: %llu updates in %.3f s (%.1f M/s); total %.3f s; check %s\n",
              static_cast<unsigned long long>(updates),
              std::chrono::duration<double>(t2 - t1).count(),
              static_cast<double>(updates) / std::chrono::duration<double>(t2 - t1).count() / 1e6,
              std::chrono::duration<double>(t2 - t0).count(), ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
