// JSON from outside is parsed with its nesting bounded (json_input.hpp):
// a spec nested 100,000 deep is a one-line spec error, not a stack overflow;
// and a spec's fields of the wrong type are named.
#include "vtmm/core/json_input.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "vtmm/runner/experiment.hpp"

namespace vtmm {
namespace {

std::string nested(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

TEST(JsonInput, NestingUpToTheLimitParses) {
  EXPECT_NO_THROW(parse_json(nested(kMaxJsonDepth)));
  EXPECT_FALSE(parse_json_or_discarded(nested(kMaxJsonDepth)).is_discarded());
}

TEST(JsonInput, DeeperNestingIsRefused) {
  EXPECT_THROW(parse_json(nested(kMaxJsonDepth + 2)), JsonTooDeep);
  EXPECT_THROW(parse_json(nested(100000)), JsonTooDeep);
  EXPECT_TRUE(parse_json_or_discarded(nested(100000)).is_discarded());
  EXPECT_TRUE(parse_json_or_discarded("{\"a\": ").is_discarded()) << "malformed text too";
}

TEST(JsonInput, ANumberBeyondADoubleIsAParseError) {
  EXPECT_THROW(parse_json("[1e99999]"), Json::parse_error);
  EXPECT_TRUE(parse_json_or_discarded("[1e99999]").is_discarded());
  try {
    parse_json(R"({"seed": 333e3333})");
  } catch (const Json::parse_error& e) {
    EXPECT_NE(parse_error_reason(e).find("number overflow"), std::string::npos) << e.what();
  }
}

TEST(JsonInput, ParseErrorReasonsAreShort) {
  try {
    parse_json("{\"x\": " + std::string(5000, 'y') + "}");
    FAIL() << "malformed";
  } catch (const Json::parse_error& e) {
    const std::string why = parse_error_reason(e);
    EXPECT_LE(why.size(), 163u);
    EXPECT_EQ(why.rfind("syntax error", 0), 0u) << why;
  }
}

TEST(JsonInput, ADeeplyNestedSpecIsASpecErrorNamingTheFile) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("vtmm_deep_" + std::to_string(::getpid()) + ".json");
  std::ofstream(path) << "{\"name\": \"deep\", \"sweep\": {\"workload\": " << nested(100000)
                      << "}}";
  try {
    runner::load_experiment(path.string(), false);
    FAIL() << "accepted";
  } catch (const SpecError& e) {
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("nested deeper than"), std::string::npos) << e.what();
  }
  std::filesystem::remove(path);
}

// Fields the runner reads before it checks a whole run: a wrong type is a
// spec error naming the field, for a repeated sweep too.
TEST(JsonInput, WrongTypesBeforeTheRunIsCheckedNameTheField) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("vtmm_types_" + std::to_string(::getpid()) + ".json");
  struct Case {
    std::string field, needle, top;
  };
  for (const Case& c : {Case{R"("seed": "abc")", "'seed' must be a number", ""},
                        Case{R"("seed": [1])", "'seed' must be a number", R"(, "repeat": 2)"},
                        Case{R"("platform": [1])", "'platform' must be a string", ""}}) {
    SCOPED_TRACE(c.field);
    std::ofstream(path)
        << R"({"name": "t", "run": {"workload": {"impl": "gups", "footprint": "8MiB"},
      "policy": "first-touch", "ratio": "1:4", )"
        << c.field << "}" << c.top << "}";
    try {
      runner::load_experiment(path.string(), false);
      FAIL() << "accepted";
    } catch (const SpecError& e) {
      EXPECT_NE(std::string(e.what()).find(c.needle), std::string::npos) << e.what();
    }
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace vtmm
