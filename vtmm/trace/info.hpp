#pragma once
// Statistics of a trace, computed in one streaming pass (memory: one counter
// per distinct page): footprint, read/write mix, instructions, and how skewed
// the accesses are (the share of all accesses that the hottest 10 %, 20 %,
// ... of the pages receive), and the same totals per phase (from each
// marker to the next).
#include <string>

#include "vtmm/trace/format.hpp"

namespace vtmm::trace {

Json trace_info(const std::string& path);
std::string format_info(const Json& info);

}  // namespace vtmm::trace
