#pragma once
// `vtmm trace record`: runs a program under the project's Valgrind tool
// (tools/pagecount), which counts every data load and store per 4 KiB page
// and writes uncompressed window blocks; the recorder then rewrites them as a
// compressed trace with the full header and any --phase-at markers.
//
// Valgrind finds a tool as $VALGRIND_LIB/<tool>-<platform>; the recorder makes
// a private directory holding the tool plus links to everything in the
// installed Valgrind's library directory (its preload objects and
// suppressions), and points VALGRIND_LIB at it.
#include <cstdint>
#include <string>
#include <vector>

#include "vtmm/trace/format.hpp"

namespace vtmm::trace {

struct RecordOptions {
  std::vector<std::string> command;  // program and its arguments
  std::string out;
  uint64_t window = 1'000'000;  // data accesses per window
  std::vector<Marker> phase_at;
  std::string marker_file;  // the tool polls it at every window boundary
  std::string tool;         // path of the built pagecount tool
  std::string valgrind = "valgrind";
  bool compare_native = false;  // run the program natively first, for the slowdown
};

struct RecordResult {
  Summary summary;
  double wall_s = 0, native_wall_s = 0;
  int exit_status = 0;  // the program's
  uint64_t out_bytes = 0;
};

RecordResult record(const RecordOptions& opt);

// Where the build put the tool ("" when Valgrind's headers were missing).
std::string default_tool_path();

}  // namespace vtmm::trace
