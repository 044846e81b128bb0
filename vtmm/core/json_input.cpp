#include "vtmm/core/json_input.hpp"

#include <utility>

namespace vtmm {
namespace {

// Called by the parser at every value and container boundary with the
// current depth; throwing ends the parse before anything deeper is built.
bool bounded(int depth, Json::parse_event_t, Json&) {
  if (depth > kMaxJsonDepth) throw JsonTooDeep();
  return true;
}

// A number too large for a double (1e99999) is not a parse_error in
// nlohmann's parser but an out_of_range: made one here, so every caller's
// "malformed JSON" path catches it (found by libFuzzer on the spec loader).
template <class Input>
Json parse_or_throw(Input&& in) {
  try {
    return Json::parse(std::forward<Input>(in), bounded);
  } catch (const Json::out_of_range& e) {
    std::string why = e.what();
    if (const size_t k = why.find("] "); k != std::string::npos) why = why.substr(k + 2);
    throw Json::parse_error::create(101, 0, "syntax error: " + why, nullptr);
  }
}

}  // namespace

Json parse_json(std::istream& in) { return parse_or_throw(in); }
Json parse_json(const std::string& text) { return parse_or_throw(text); }

Json parse_json_or_discarded(const std::string& text) {
  try {
    return Json::parse(text, bounded, false);
  } catch (const JsonTooDeep&) {
    return Json(Json::value_t::discarded);
  }
}

std::string parse_error_reason(const Json::parse_error& e) {
  std::string why = e.what();
  const size_t k = why.find("syntax error");
  if (k != std::string::npos) why = why.substr(k);
  constexpr size_t kMax = 160;
  if (why.size() > kMax) why = why.substr(0, kMax) + "...";
  return why;
}

}  // namespace vtmm
