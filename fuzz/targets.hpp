#pragma once
// Fuzz targets: each takes arbitrary bytes as one input of one untrusted
// reader. A target returns normally when the reader accepted the input or
// refused it the documented way (a SpecError, exit 2 in the CLI; a rejected
// frame on the guest link). Anything else escaping -- another exception, a
// broken invariant (std::logic_error from the target's own checks), a crash,
// a sanitizer report -- is a bug.
//
// Two drivers run them: libFuzzer (fuzz/libfuzzer_main.cpp, scripts/fuzz.sh,
// clang only) and a deterministic mutation test in ctest
// (tests/fuzz_mutation_test.cpp) over the committed corpus in tests/fuzz/.
#include <cstddef>
#include <cstdint>
#include <string>

namespace vtmm::fuzz {

// An experiment spec's text, loaded as `vtmm run` loads it (quick, and its full block).
void spec(const uint8_t* data, size_t size);
// A trace file's bytes, opened and streamed to its end as the replay does.
void trace(const uint8_t* data, size_t size);
// Bytes from a guest on the agent channel, in chunks whose sizes the input's
// first byte picks, through the host's stream decoder; every accepted message
// is checked against the protocol's limits and the VM's memory map.
void agent_stream(const uint8_t* data, size_t size);

// The directory the trace target writes its input to (one file per process).
std::string scratch_dir();

}  // namespace vtmm::fuzz
