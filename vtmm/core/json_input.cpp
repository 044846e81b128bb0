#include "vtmm/core/json_input.hpp"

namespace vtmm {
namespace {

// Called by the parser at every value and container boundary with the
// current depth; throwing ends the parse before anything deeper is built.
bool bounded(int depth, Json::parse_event_t, Json&) {
  if (depth > kMaxJsonDepth) throw JsonTooDeep();
  return true;
}

}  // namespace

Json parse_json(std::istream& in) { return Json::parse(in, bounded); }
Json parse_json(const std::string& text) { return Json::parse(text, bounded); }

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
