// libFuzzer entry point; VTMM_FUZZ_TARGET (spec, trace, agent_stream) picks
// the target at compile time (CMakeLists.txt, VTMM_FUZZ). Run by scripts/fuzz.sh.
#include <cstddef>
#include <cstdint>

#include "fuzz/targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vtmm::fuzz::VTMM_FUZZ_TARGET(data, size);
  return 0;
}
