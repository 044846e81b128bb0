#include "vtmm/trace/csv_import.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>
#include <memory>

#include "vtmm/core/error.hpp"
#include "vtmm/trace/writer.hpp"

namespace vtmm::trace {

namespace {

bool parse_u64(std::string_view s, uint64_t& v) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    s.remove_prefix(2);
    base = 16;
  }
  if (s.empty()) return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v, base);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

std::vector<std::string_view> split(std::string_view line) {
  std::vector<std::string_view> out;
  size_t at = 0;
  for (;;) {
    const size_t comma = line.find(',', at);
    out.push_back(line.substr(at, comma == std::string_view::npos ? std::string_view::npos : comma - at));
    if (comma == std::string_view::npos) return out;
    at = comma + 1;
  }
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return std::string(s);
}

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};

}  // namespace

Marker parse_phase_at(const std::string& text, const std::string& flag) {
  const auto colon = text.find(':');
  uint64_t w = 0;
  if (colon == std::string::npos || !parse_u64(std::string_view(text).substr(0, colon), w))
    throw SpecError(flag + ": expected WINDOW:NAME, got \"" + text + "\"");
  Marker m{w, text.substr(colon + 1)};
  if (!valid_marker(m.name)) throw SpecError(flag + ": marker name \"" + m.name + "\" must be 1-64 characters of A-Z a-z 0-9 _ . : -");
  return m;
}

Summary import_csv(const std::string& csv_path, const std::string& out_path, const ImportOptions& opt) {
  std::unique_ptr<gzFile_s, GzCloser> in(gzopen(csv_path.c_str(), "rb"));  // reads plain files too
  if (!in) throw SpecError("csv '" + csv_path + "': cannot open: " + std::strerror(errno));
  std::map<uint64_t, std::string> markers;
  for (const auto& m : opt.markers) {
    if (markers.count(m.window)) throw SpecError("--phase-at: two markers for window " + std::to_string(m.window));
    markers[m.window] = m.name;
  }

  std::vector<char> buf(1 << 16);
  uint64_t line_no = 0;
  auto fail = [&](const std::string& what) -> void {
    throw SpecError("csv '" + csv_path + "': line " + std::to_string(line_no) + ": " + what);
  };
  auto getline = [&](std::string& line) {
    line.clear();
    for (;;) {
      if (gzgets(in.get(), buf.data(), static_cast<int>(buf.size())) == nullptr) {
        int err = 0;
        const char* msg = gzerror(in.get(), &err);
        if (err != Z_OK && err != Z_STREAM_END) fail(std::string("read error: ") + msg);
        while (!line.empty() && line.back() == '\r') line.pop_back();
        return !line.empty();
      }
      line += buf.data();
      if (!line.empty() && line.back() == '\n') {
        while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
        return true;
      }
    }
  };

  std::string line;
  ++line_no;
  if (!getline(line)) fail("empty file (expected the header window,page,reads,writes[,instructions])");
  int c_window = -1, c_page = -1, c_reads = -1, c_writes = -1, c_instr = -1;
  const auto cols = split(line);
  for (size_t i = 0; i < cols.size(); ++i) {
    const std::string name = trim(cols[i]);
    int* slot = name == "window" ? &c_window : name == "page" ? &c_page : name == "reads" ? &c_reads
              : name == "writes" ? &c_writes : name == "instructions" ? &c_instr : nullptr;
    if (slot == nullptr) fail("unknown column '" + name + "' (expected window,page,reads,writes[,instructions])");
    if (*slot >= 0) fail("column '" + name + "' given twice");
    *slot = static_cast<int>(i);
  }
  if (c_window < 0 || c_page < 0 || c_reads < 0 || c_writes < 0)
    fail("header must name the columns window,page,reads,writes (and optionally instructions)");

  // Windows are written as soon as the next one starts (one window in memory).
  Header h;
  h.program = "imported from " + csv_path;
  h.recorder = "vtmm trace import";
  h.window_accesses = opt.window_accesses;
  TraceWriter out(out_path, h);

  Window cur;
  bool have = false, instr_set = false;
  uint64_t next_window = 0;
  auto flush_until = [&](uint64_t upto) {  // writes windows next_window..upto-1
    while (next_window < upto) {
      Window w;
      if (have && cur.index == next_window) {
        w = std::move(cur);
        std::sort(w.pages.begin(), w.pages.end(), [](const PageCount& a, const PageCount& b) { return a.page < b.page; });
        for (size_t i = 1; i < w.pages.size(); ++i)
          if (w.pages[i].page == w.pages[i - 1].page)
            throw SpecError("csv '" + csv_path + "': window " + std::to_string(w.index) + ": page " +
                            std::to_string(w.pages[i].page) + " appears twice");
        have = false;
      }
      w.index = next_window;
      if (auto it = markers.find(next_window); it != markers.end()) w.marker = it->second;
      out.write(w);
      ++next_window;
    }
  };

  const size_t need = static_cast<size_t>(std::max({c_window, c_page, c_reads, c_writes, c_instr})) + 1;
  while (true) {
    ++line_no;
    if (!getline(line)) break;
    if (trim(line).empty()) continue;
    const auto f = split(line);
    if (f.size() != cols.size()) fail("expected " + std::to_string(cols.size()) + " fields, found " + std::to_string(f.size()));
    if (f.size() < need) fail("too few fields");
    uint64_t win = 0, page = 0, r = 0, wr = 0, ins = 0;
    if (!parse_u64(f[static_cast<size_t>(c_window)], win)) fail("window is not a whole number");
    if (!parse_u64(f[static_cast<size_t>(c_page)], page)) fail("page is not a whole number (decimal or 0x-hex)");
    if (page >= kPageLimit) fail("page number is beyond a 64-bit address space (not below 2^52)");
    if (!parse_u64(f[static_cast<size_t>(c_reads)], r)) fail("reads is not a whole number");
    if (!parse_u64(f[static_cast<size_t>(c_writes)], wr)) fail("writes is not a whole number");
    if (r == 0 && wr == 0) fail("a row with no reads and no writes");
    // The writer checks each window's total; a row alone over the bound is named by its line here.
    if (r > h.max_window_accesses() || wr > h.max_window_accesses() - r)
      fail("reads + writes above " + std::to_string(h.max_window_accesses()) + ", the most one window may hold");
    if (win < next_window || (have && win < cur.index)) fail("windows must be ascending (window " + std::to_string(win) + " after a later one)");
    if (have && win != cur.index) flush_until(cur.index + 1);
    if (!have) {
      flush_until(win);
      cur = Window{};
      cur.index = win;
      have = true;
      instr_set = false;
    }
    if (c_instr >= 0 && !trim(f[static_cast<size_t>(c_instr)]).empty()) {
      if (!parse_u64(f[static_cast<size_t>(c_instr)], ins)) fail("instructions is not a whole number");
      if (instr_set && ins != cur.instructions) fail("instructions differs from an earlier row of window " + std::to_string(win));
      cur.instructions = ins;
      instr_set = true;
    }
    cur.pages.push_back({page, r, wr});
  }
  if (have) flush_until(cur.index + 1);
  if (!markers.empty() && markers.rbegin()->first >= next_window)
    throw SpecError("--phase-at: window " + std::to_string(markers.rbegin()->first) + " is past the trace's last window " +
                    std::to_string(next_window == 0 ? 0 : next_window - 1));
  if (next_window == 0) throw SpecError("csv '" + csv_path + "': no data rows");
  return out.finish();
}

}  // namespace vtmm::trace
