// Params: typed reads with defaults, errors that name the component and key;
// parse_bytes and parse_ratio.
#include "vtmm/core/params.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "vtmm/core/run_spec.hpp"

namespace vtmm {
namespace params_test {

// The SpecError message `fn` throws; fails the test if it throws none.
std::string spec_error(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const SpecError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a SpecError";
  return "";
}

TEST(Params, DefaultsAreResolved) {
  Params p(Json::object(), "policy 'x'");
  EXPECT_EQ(p.get<double>("hot", 0.25), 0.25);
  EXPECT_EQ(p.get_bytes("size", 4096), 4096u);
  EXPECT_EQ(p.resolved().at("hot"), 0.25);
  EXPECT_EQ(p.resolved().at("size"), 4096);
  EXPECT_NO_THROW(p.finish());
}

TEST(Params, NullIsAnEmptyObjectAndNonObjectsAreRejected) {
  EXPECT_NO_THROW(Params(Json(), "w").finish());
  const std::string msg = spec_error([] { Params(Json::array({1}), "workload 'gups'"); });
  EXPECT_NE(msg.find("workload 'gups'"), std::string::npos) << msg;
}

TEST(Params, GivenValuesWin) {
  Params p(Json{{"n", 7}, {"name", "abc"}, {"on", true}}, "c");
  EXPECT_EQ(p.get<uint32_t>("n", 1), 7u);
  EXPECT_EQ(p.get<std::string>("name", ""), "abc");
  EXPECT_TRUE(p.get<bool>("on", false));
  EXPECT_EQ(p.resolved().at("n"), 7);
  EXPECT_NO_THROW(p.finish());
}

TEST(Params, UnknownKeyNamesComponentAndKey) {
  Params p(Json{{"hot_fraction", 0.1}, {"hot_fractoin", 0.2}}, "policy 'vtmm'");
  p.get<double>("hot_fraction", 0.5);
  const std::string msg = spec_error([&] { p.finish(); });
  EXPECT_NE(msg.find("policy 'vtmm'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'hot_fractoin'"), std::string::npos) << msg;
}

TEST(Params, UnknownKeyInChildNamesThePath) {
  Params p(Json{{"tracker", {{"period", 1}, {"bogus", 2}}}}, "policy 'p'");
  Params c = p.child("tracker");
  c.get<double>("period", 0);
  EXPECT_NO_THROW(p.finish());
  const std::string msg = spec_error([&] { c.finish(); });
  EXPECT_NE(msg.find("policy 'p'.tracker"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'bogus'"), std::string::npos) << msg;
}

TEST(Params, RequireNamesTheMissingField) {
  Params p(Json::object(), "spec x.json");
  const std::string msg = spec_error([&] { p.require<std::string>("name"); });
  EXPECT_NE(msg.find("spec x.json"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'name'"), std::string::npos) << msg;
}

TEST(Params, WrongTypesAreRejectedNamingTheKey) {
  struct Case {
    Json value;
    std::function<void(Params&)> read;
  };
  const Case cases[] = {
      {"abc", [](Params& p) { p.get<double>("k", 1.0); }},
      {true, [](Params& p) { p.get<double>("k", 1.0); }},
      {1, [](Params& p) { p.get<bool>("k", false); }},
      {"true", [](Params& p) { p.get<bool>("k", false); }},
      {5, [](Params& p) { p.get<std::string>("k", ""); }},
      {-1, [](Params& p) { p.get<uint32_t>("k", 1); }},
      {-0.5, [](Params& p) { p.get<uint64_t>("k", 1); }},
      {Json::array({1}), [](Params& p) { p.get<uint64_t>("k", 1); }},
      {Json::object(), [](Params& p) { p.get<std::string>("k", ""); }},
      {true, [](Params& p) { p.get_bytes("k", 1); }},
      {"many", [](Params& p) { p.get_bytes("k", 1); }},
  };
  for (const Case& c : cases) {
    Params p(Json{{"k", c.value}}, "workload 'w'");
    const std::string msg = spec_error([&] { c.read(p); });
    EXPECT_NE(msg.find("workload 'w'"), std::string::npos) << c.value.dump() << ": " << msg;
    EXPECT_NE(msg.find("'k'"), std::string::npos) << c.value.dump() << ": " << msg;
  }
}

// An integer parameter must not silently truncate a fraction or wrap around
// (vcpus: 1.5 would run 1 vCPU; vcpus: 4294967297 would pass the 1..256 check as 1).
TEST(Params, IntegerParamsRejectFractionsAndOutOfRangeValues) {
  {
    Params p(Json{{"n", 1.5}}, "vm");
    EXPECT_THROW(p.get<uint32_t>("n", 1), SpecError);
  }
  {
    Params p(Json{{"n", uint64_t{4294967297}}}, "vm");
    EXPECT_THROW(p.get<uint32_t>("n", 1), SpecError);
  }
  {
    Params p(Json{{"n", 2.0}}, "vm");
    EXPECT_EQ(p.get<uint32_t>("n", 1), 2u) << "a whole number written as a float is fine";
  }
  // Floats far beyond the integer types (found by libFuzzer: a cast of 1e62 to
  // long long was undefined behaviour) are out of range, not UB.
  for (const double big : {1e62, -1e62, 1e308}) {
    Params p(Json{{"n", big}}, "vm");
    EXPECT_THROW(p.get<uint64_t>("n", 1), SpecError) << big;
    Params q(Json{{"n", big}}, "vm");
    EXPECT_THROW(q.get<int32_t>("n", 1), SpecError) << big;
  }
}

TEST(ParseBytes, Units) {
  EXPECT_EQ(parse_bytes(4096, "x"), 4096u);
  EXPECT_EQ(parse_bytes(8192.0, "x"), 8192u);
  EXPECT_EQ(parse_bytes("512", "x"), 512u);
  EXPECT_EQ(parse_bytes("512B", "x"), 512u);
  EXPECT_EQ(parse_bytes("4KiB", "x"), 4096u);
  EXPECT_EQ(parse_bytes("4K", "x"), 4096u);
  EXPECT_EQ(parse_bytes("256MiB", "x"), 256u << 20);
  EXPECT_EQ(parse_bytes("256M", "x"), 256u << 20);
  EXPECT_EQ(parse_bytes("1GiB", "x"), uint64_t{1} << 30);
  EXPECT_EQ(parse_bytes("1G", "x"), uint64_t{1} << 30);
  EXPECT_EQ(parse_bytes("1.5GiB", "x"), uint64_t{3} << 29);
  EXPECT_EQ(parse_bytes("2TiB", "x"), uint64_t{2} << 40);
  EXPECT_EQ(parse_bytes("64 MiB", "x"), uint64_t{64} << 20);
}

TEST(ParseBytes, RejectsBadSizesNamingTheField) {
  for (const Json& bad : {Json("MiB"), Json(""), Json("12XB"), Json("1mb"), Json(-1), Json(1.5),
                          Json(true), Json(nullptr), Json(".")}) {
    const std::string msg = spec_error([&] { parse_bytes(bad, "workload 'gups': 'footprint'"); });
    EXPECT_NE(msg.find("'footprint'"), std::string::npos) << bad.dump() << ": " << msg;
  }
}

TEST(ParseBytes, RejectsTrailingGarbageInTheNumber) {
  // "1.2.3MiB" is a typo, not 1.2 MiB.
  EXPECT_THROW(parse_bytes("1.2.3MiB", "x"), SpecError);
}

TEST(FormatBytes, LargestWholeUnit) {
  EXPECT_EQ(format_bytes(uint64_t{1} << 30), "1GiB");
  EXPECT_EQ(format_bytes(uint64_t{3} << 29), "1536MiB");
  EXPECT_EQ(format_bytes(1000), "1000B");
  EXPECT_EQ(parse_bytes(format_bytes(uint64_t{48} << 20), "x"), uint64_t{48} << 20);
}

TEST(ParseRatio, AcceptsFastToSlow) {
  const Ratio r = parse_ratio("1:4", "sim: 'ratio'");
  EXPECT_EQ(r.fast, 1.0);
  EXPECT_EQ(r.slow, 4.0);
  EXPECT_EQ(r.text, "1:4");
  const Ratio h = parse_ratio("0.5:2", "x");
  EXPECT_EQ(h.fast, 0.5);
  EXPECT_EQ(h.slow, 2.0);
}

TEST(ParseRatio, RejectsMalformedRatiosNamingWhere) {
  for (const char* bad : {"1:0", "0:1", "abc", "1:", ":4", "1", "1:4:5", "-1:4", "1:-4", "1:4x",
                          "nan:1", "inf:1", ""}) {
    const std::string msg = spec_error([&] { parse_ratio(bad, "sim: 'ratio'"); });
    EXPECT_NE(msg.find("sim: 'ratio'"), std::string::npos) << bad << ": " << msg;
  }
}

}  // namespace params_test
}  // namespace vtmm
