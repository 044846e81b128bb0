#pragma once
// Helpers for the trace tests: a scratch folder, and a synthetic trace with a
// skewed page distribution, phase markers and instruction counts.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "vtmm/core/rng.hpp"
#include "vtmm/trace/format.hpp"
#include "vtmm/trace/writer.hpp"

namespace vtmm::test {

inline std::filesystem::path scratch_dir(const std::string& tag) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  auto d = std::filesystem::temp_directory_path() /
           ("vtmm_" + tag + "_" + std::to_string(::getpid()) + "_" + info->name());
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

// `windows` windows over `pages` pages near a 64-bit address; about a third of
// the pages are hot. Window 2 is empty; markers "warmup" at 1 and "measured"
// at 3 when there are enough windows.
inline std::vector<trace::Window> synthetic_windows(uint64_t windows, uint64_t pages, uint64_t seed) {
  Rng rng(seed);
  std::vector<trace::Window> out;
  for (uint64_t w = 0; w < windows; ++w) {
    trace::Window win;
    win.index = w;
    if (w == 1) win.marker = "warmup";
    if (w == 3) win.marker = "measured";
    if (w != 2) {
      for (uint64_t p = 0; p < pages; ++p) {
        const bool hot = p % 3 == 0;
        if (!hot && rng.below(4) != 0) continue;
        trace::PageCount pc;
        pc.page = 0x7f0000000ULL + p * 7;  // sparse, ascending
        pc.reads = rng.below(hot ? 40 : 4);
        pc.writes = rng.below(hot ? 20 : 3);
        if (pc.reads + pc.writes == 0) pc.reads = 1;
        win.pages.push_back(pc);
      }
      win.instructions = 1000 + rng.below(100000);
    }
    out.push_back(std::move(win));
  }
  return out;
}

inline uint64_t distinct_pages(const std::vector<trace::Window>& ws) {
  std::vector<uint64_t> all;
  for (const auto& w : ws)
    for (const auto& p : w.pages) all.push_back(p.page);
  std::sort(all.begin(), all.end());
  return static_cast<uint64_t>(std::unique(all.begin(), all.end()) - all.begin());
}

inline trace::Header test_header() {
  trace::Header h;
  h.window_accesses = 5000;
  h.program = "synthetic";
  h.recorded_at = "2025-01-01T00:00:00Z";
  h.recorder = "test";
  return h;
}

inline void write_trace(const std::string& path, const std::vector<trace::Window>& ws,
                        uint32_t codec = trace::kCodecZlib) {
  trace::TraceWriter w(path, test_header(), codec);
  for (const auto& win : ws) w.write(win);
  w.finish();
}

}  // namespace vtmm::test
