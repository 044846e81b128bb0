#pragma once
// Helpers for the trace tests: a scratch folder, a synthetic trace with a
// skewed page distribution, phase markers and instruction counts, and traces
// assembled byte by byte (for files the writer refuses to make).
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "vtmm/core/rng.hpp"
#include "vtmm/trace/codec.hpp"
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
inline std::vector<trace::Window> synthetic_windows(uint64_t windows, uint64_t pages,
                                                    uint64_t seed) {
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

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void spit(const std::filesystem::path& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary);
  out << s;
}

inline void put_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

inline std::string zlib_compress(const std::string& raw) {
  uLongf len = compressBound(static_cast<uLong>(raw.size()));
  std::string out(len, '\0');
  EXPECT_EQ(compress2(reinterpret_cast<Bytef*>(out.data()), &len,
                      reinterpret_cast<const Bytef*>(raw.data()), static_cast<uLong>(raw.size()),
                      Z_DEFAULT_COMPRESSION),
            Z_OK);
  out.resize(len);
  return out;
}

// One block (docs/trace-format.md) holding `stored`, its CRC right. raw_len
// is stored's length unless given: a zlib block must give its payload's.
inline std::string block_bytes(const char tag[4], const std::string& stored,
                               uint32_t codec = trace::kCodecRaw, int64_t raw_len = -1) {
  std::string b(tag, 4);
  put_le(b, codec, 4);
  put_le(b, stored.size(), 4);
  put_le(b, raw_len < 0 ? stored.size() : static_cast<uint64_t>(raw_len), 4);
  put_le(b, trace::crc32_of(stored.data(), stored.size()), 4);
  return b + stored;
}

// A zlib window block of `w` as encode_window makes it, unchecked, so `w`
// may hold what no writer would write.
inline std::string window_block(const trace::Window& w) {
  const std::string raw = trace::encode_window(w);
  return block_bytes(trace::kWindowTag, zlib_compress(raw), trace::kCodecZlib,
                     static_cast<int64_t>(raw.size()));
}

// A whole trace from its parts, every CRC right: header JSON text, window
// blocks, trailer JSON text.
inline std::string trace_bytes(const std::string& header_json,
                               const std::vector<std::string>& window_blocks,
                               const std::string& trailer_json) {
  std::string f(trace::kMagic, 8);
  put_le(f, trace::kVersion, 4);
  put_le(f, header_json.size(), 4);
  put_le(f, trace::crc32_of(header_json.data(), header_json.size()), 4);
  f += header_json;
  for (const auto& b : window_blocks) f += b;
  const uint64_t trailer_at = f.size();
  f += block_bytes(trace::kTrailerTag, trailer_json);
  put_le(f, trailer_at, 8);
  f.append(trace::kEndMagic, 8);
  return f;
}

// The trailer a writer would give `ws`, computed here without any check
// (sums wrap), so a test can pair hostile windows with a trailer true to them.
inline trace::Summary summary_of(const std::vector<trace::Window>& ws) {
  trace::Summary s;
  std::vector<uint64_t> pages;
  for (const auto& w : ws) {
    for (const auto& p : w.pages) {
      pages.push_back(p.page);
      s.reads += p.reads;
      s.writes += p.writes;
    }
    s.instructions += w.instructions;
    if (!w.marker.empty()) s.markers.push_back({w.index, w.marker});
  }
  std::sort(pages.begin(), pages.end());
  s.windows = ws.size();
  s.distinct_pages = static_cast<uint64_t>(std::unique(pages.begin(), pages.end()) - pages.begin());
  s.min_page = pages.empty() ? 0 : pages.front();
  s.max_page = pages.empty() ? 0 : pages[s.distinct_pages - 1];
  return s;
}

}  // namespace vtmm::test
