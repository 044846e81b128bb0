#pragma once
// One window <-> its block payload (uncompressed), as docs/trace-format.md
// specifies: varints, pages ascending and delta-coded.
#include <cstdint>
#include <string>
#include <string_view>

#include "vtmm/trace/format.hpp"

namespace vtmm::trace {

std::string encode_window(const Window& w);

// Decodes a payload and checks the result with check_window. Nothing it
// allocates is sized by a count in the payload: the page list is bounded by
// the payload's length (a page takes at least 3 bytes). Throws SpecError
// "<where>: ..." naming what is wrong.
void decode_window(std::string_view payload, Window& w, const std::string& where,
                   uint64_t max_accesses);

// What every window must satisfy, written or read: a valid marker, pages
// strictly ascending and below kPageLimit, every page with at least one
// access, and at most `max_accesses` reads + writes in the whole window
// (Header::max_window_accesses). Throws SpecError "<where>: ...".
void check_window(const Window& w, const std::string& where, uint64_t max_accesses);

}  // namespace vtmm::trace
