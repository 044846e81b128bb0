// The three renderings of a Comparison: a terminal table, a pull-request
// comment (markdown) and JSON for other tools.
#include <cmath>
#include <cstdio>
#include <sstream>

#include "vtmm/runner/compare.hpp"

namespace vtmm::runner {
namespace {

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::string pct(double v) {
  if (std::isinf(v)) return v > 0 ? "+inf%" : "-inf%";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.2f%%", v * 100);
  return buf;
}

std::string plain_pct(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g%%", v * 100);
  return buf;
}

std::string confidence(const ConfigResult& r) {
  const std::string n =
      "n=" + std::to_string(r.base.summary.n) + "/" + std::to_string(r.next.summary.n);
  if (!r.tested) return "ratio only, no test (" + n + ": too few repeats)";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", r.test.p);
  return "Mann-Whitney p=" + std::string(buf) + " (" + n +
         (r.test.exact ? ", exact" : ", normal approx.") + ")";
}

std::string direction_text(Direction d) {
  return d == Direction::LowerIsBetter ? "lower is better" : "higher is better";
}

std::string headline(const Comparison& c) {
  const size_t bad = c.regressed();
  std::string s;
  if (bad > 0) {
    s = "FAIL: " + std::to_string(bad) + " of " + std::to_string(c.configs.size()) +
        " configurations regressed beyond " + plain_pct(c.options.threshold) + ":";
    for (const auto& r : c.configs)
      if (r.verdict == "regressed") s += " " + r.label + " (" + pct(r.change) + ")";
  } else if (c.exit_status() != 0) {
    s = "FAIL: no regression, but " + std::to_string(c.unmatched.size()) +
        " item(s) could not be compared";
  } else {
    s = "PASS: no configuration regressed beyond " + plain_pct(c.options.threshold) + " (" +
        std::to_string(c.configs.size()) + " compared, " + std::to_string(c.improved()) +
        " improved, " + std::to_string(c.unmatched.size()) + " not compared)";
  }
  return s;
}

std::string pad(const std::string& s, size_t w, bool right = false) {
  if (s.size() >= w) return s;
  return right ? std::string(w - s.size(), ' ') + s : s + std::string(w - s.size(), ' ');
}

}  // namespace

std::string format_text(const Comparison& c) {
  std::ostringstream o;
  o << "vtmm compare: " << c.options.metric << " (" << direction_text(c.direction)
    << "), threshold " << plain_pct(c.options.threshold) << ", alpha " << c.options.alpha << "\n";
  o << "  BASE " << c.base_path << " (" << c.base_records << " records)\n";
  o << "  NEW  " << c.new_path << " (" << c.new_records << " records)\n\n";
  size_t w = 13;
  for (const auto& r : c.configs) w = std::max(w, r.label.size());
  o << pad("configuration", w) << "  " << pad("base median", 12, true) << "  "
    << pad("new median", 12, true) << "  " << pad("change", 9, true) << "  " << pad("verdict", 9)
    << "  confidence\n";
  for (const auto& r : c.configs) {
    o << pad(r.label, w) << "  " << pad(num(r.base.summary.median), 12, true) << "  "
      << pad(num(r.next.summary.median), 12, true) << "  " << pad(pct(r.change), 9, true) << "  "
      << pad(r.verdict, 9) << "  " << confidence(r) << "\n";
    if (!r.note.empty()) o << pad("", w) << "  note: " << r.note << "\n";
  }
  if (c.configs.empty()) o << "(no configuration is present in both)\n";
  if (!c.unmatched.empty()) {
    o << "\nnot compared (listed, not dropped):\n";
    for (const auto& u : c.unmatched)
      o << "  " << u.side << "  " << u.label << "  " << u.records << " record(s): " << u.reason
        << "\n";
  }
  o << "\n" << headline(c) << "\n";
  return o.str();
}

std::string format_markdown(const Comparison& c) {
  std::ostringstream o;
  o << "### vtmm compare: `" << c.options.metric << "` (" << direction_text(c.direction) << ") — **"
    << (c.exit_status() == 0 ? "PASS" : "FAIL") << "**\n\n";
  o << "Threshold " << plain_pct(c.options.threshold) << ", alpha " << c.options.alpha << ". BASE `"
    << c.base_path << "` (" << c.base_records << " records), NEW `" << c.new_path << "` ("
    << c.new_records << " records).\n\n";
  o << "| configuration | base median ± sd | new median ± sd | change | verdict | confidence |\n";
  o << "|---|---:|---:|---:|---|---|\n";
  for (const auto& r : c.configs) {
    const std::string v = r.verdict == "regressed" ? "**regressed**" : r.verdict;
    o << "| " << r.label << (r.note.empty() ? "" : " <sup>†</sup>") << " | "
      << num(r.base.summary.median) << " ± " << num(r.base.summary.stddev) << " | "
      << num(r.next.summary.median) << " ± " << num(r.next.summary.stddev) << " | " << pct(r.change)
      << " | " << v << " | " << confidence(r) << " |\n";
  }
  bool notes = false;
  for (const auto& r : c.configs)
    if (!r.note.empty()) {
      if (!notes) o << "\n";
      notes = true;
      o << "<sup>†</sup> " << r.label << ": " << r.note << "\n";
    }
  if (!c.unmatched.empty()) {
    o << "\n**Not compared** (listed, not dropped):\n\n";
    for (const auto& u : c.unmatched)
      o << "- " << u.side << " `" << u.label << "`: " << u.records << " record(s), " << u.reason
        << "\n";
  }
  o << "\n" << headline(c) << "\n";
  return o.str();
}

Json to_json(const Comparison& c) {
  auto side = [](const SideStats& s) {
    return Json{{"n", s.summary.n},           {"mean", s.summary.mean},
                {"median", s.summary.median}, {"stddev", s.summary.stddev},
                {"min", s.summary.min},       {"max", s.summary.max},
                {"values", s.values}};
  };
  Json j;
  j["metric"] = c.options.metric;
  j["direction"] = c.direction == Direction::LowerIsBetter ? "lower" : "higher";
  j["threshold"] = c.options.threshold;
  j["alpha"] = c.options.alpha;
  j["base"] = {{"path", c.base_path}, {"records", c.base_records}};
  j["new"] = {{"path", c.new_path}, {"records", c.new_records}};
  j["configurations"] = Json::array();
  for (const auto& r : c.configs) {
    Json x{{"label", r.label},
           {"configuration", r.key},
           {"base", side(r.base)},
           {"new", side(r.next)},
           {"change", std::isfinite(r.change) ? Json(r.change) : Json(nullptr)},
           {"method", r.tested ? "mann-whitney" : "ratio"},
           {"verdict", r.verdict}};
    if (r.tested)
      x["test"] = {{"u", r.test.u},         {"z", r.test.z},       {"p", r.test.p},
                   {"exact", r.test.exact}, {"ties", r.test.ties}, {"significant", r.significant}};
    if (!r.note.empty()) x["note"] = r.note;
    j["configurations"].push_back(x);
  }
  j["not_compared"] = Json::array();
  for (const auto& u : c.unmatched)
    j["not_compared"].push_back(
        {{"side", u.side}, {"label", u.label}, {"records", u.records}, {"reason", u.reason}});
  j["regressed"] = c.regressed();
  j["improved"] = c.improved();
  j["status"] = c.exit_status() == 0 ? "pass" : "fail";
  j["exit_status"] = c.exit_status();
  return j;
}

}  // namespace vtmm::runner
