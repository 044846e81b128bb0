#pragma once
// One window <-> its block payload (uncompressed), as docs/trace-format.md
// specifies: varints, pages ascending and delta-coded.
#include <cstdint>
#include <string>
#include <string_view>

#include "vtmm/trace/format.hpp"

namespace vtmm::trace {

std::string encode_window(const Window& w);
// Throws SpecError "<where>: ..." naming what is wrong with the payload.
void decode_window(std::string_view payload, Window& w, const std::string& where);

// Checks what a writer must refuse: pages strictly ascending, every page with
// at least one access, a valid marker. Throws SpecError with `where`.
void check_window(const Window& w, const std::string& where);

}  // namespace vtmm::trace
