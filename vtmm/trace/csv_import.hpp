#pragma once
// Import of traces recorded elsewhere, given as CSV (plain or gzip):
//
//   window,page,reads,writes[,instructions]
//   0,0x7f12a000,12,3,48211
//
// One row per (window, page); windows ascending (a gap is an empty window),
// pages in any order within a window but not repeated; page is a 4 KiB page
// number, decimal or 0x-hex; instructions, when present, is the window's
// instruction count (rows of one window must agree, empty fields allowed).
// Columns may come in any order. Errors name the file and line.
#include <cstdint>
#include <string>
#include <vector>

#include "vtmm/trace/format.hpp"

namespace vtmm::trace {

struct ImportOptions {
  uint64_t window_accesses = 0;  // window length of the original recording (0 = unknown)
  std::vector<Marker> markers;   // phases to mark (window, name)
};

Summary import_csv(const std::string& csv_path, const std::string& out_path,
                   const ImportOptions& opt);

// "W:name" -> Marker; throws SpecError naming `flag`.
Marker parse_phase_at(const std::string& text, const std::string& flag);

}  // namespace vtmm::trace
