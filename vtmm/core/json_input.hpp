#pragma once
// JSON from outside the program (specs, host profiles, records, trace
// headers, Slurm state) is parsed here, with its nesting bounded: a spec
// nested 100,000 deep overflowed the stack (code that walks a JSON value
// recurses). No spec, profile or record vtmm reads nests deeper than a
// handful of levels.
#include <istream>
#include <string>

#include "vtmm/core/error.hpp"
#include "vtmm/core/params.hpp"

namespace vtmm {

inline constexpr int kMaxJsonDepth = 64;

// Nested deeper than kMaxJsonDepth: a SpecError (exit 2) for the caller to
// prefix with what it was reading.
class JsonTooDeep : public SpecError {
 public:
  JsonTooDeep()
      : SpecError("JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels") {}
};

// Throw Json::parse_error on malformed text (a number beyond a double
// included) and JsonTooDeep on deep nesting.
Json parse_json(std::istream& in);
Json parse_json(const std::string& text);
// A discarded value (is_discarded()) for malformed or too deep text.
Json parse_json_or_discarded(const std::string& text);

// A parse error's message for a one-line error: from "syntax error" on,
// cut to about 160 characters (nlohmann echoes the text it last read).
std::string parse_error_reason(const Json::parse_error& e);

}  // namespace vtmm
