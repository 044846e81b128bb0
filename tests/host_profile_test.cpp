// Host profiles: every shipped one loads and cites a source for each
// constant; 'base' inheritance; overrides are checked.
#include "vtmm/sim/host_profile.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace vtmm::sim {
namespace host_profile_test {

Json raw_profile(const std::string& name) {
  std::ifstream in(data_dir() + "/experiments/hosts/" + name + ".json");
  EXPECT_TRUE(in.good()) << name;
  return Json::parse(in);
}

TEST(HostProfile, ShippedProfilesAreListed) {
  const auto names = list_host_profiles();
  EXPECT_NE(std::find(names.begin(), names.end(), "optane"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "cxl"), names.end());
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(data_dir() + "/experiments/hosts"))
    files += e.path().extension() == ".json" ? 1 : 0;
  EXPECT_EQ(names.size(), files);
}

TEST(HostProfile, EveryShippedProfileLoads) {
  for (const auto& name : list_host_profiles()) {
    HostProfile p;
    EXPECT_NO_THROW(p = HostProfile::load(name)) << name;
    EXPECT_EQ(p.name, name);
    const Json j = p.to_json();
    const Json raw = raw_profile(name);
    if (!raw.contains("base")) {  // a root profile states every constant, nothing else
      for (auto it = j.begin(); it != j.end(); ++it)
        EXPECT_TRUE(raw.contains(it.key())) << name << " " << it.key();
      EXPECT_EQ(raw.size() - raw.count("name") - raw.count("description"), j.size()) << name;
    }
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.value().is_array()) continue;  // a loaded-latency curve (loaded_latency_test.cpp)
      if (it.key() == "subpage_ad_bits") {  // a capability flag: 0 or 1
        EXPECT_TRUE(it.value() == 0.0 || it.value() == 1.0) << name;
        continue;
      }
      EXPECT_GT(it.value().get<double>(), 0.0) << name << " " << it.key();
    }
    EXPECT_GT(p.tier[1].read_latency_ns, p.tier[0].read_latency_ns)
        << name << ": the slow tier is slower";
  }
}

TEST(HostProfile, EveryConstantCitesASource) {
  for (const auto& name : list_host_profiles()) {
    const Json j = raw_profile(name);
    ASSERT_TRUE(j.is_object()) << name;
    EXPECT_TRUE(j.contains("description") && !j.at("description").get<std::string>().empty())
        << name;
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.key() == "name" || it.key() == "description" || it.key() == "base") continue;
      const Json& v = it.value();
      ASSERT_TRUE(v.is_object()) << name << " " << it.key();
      ASSERT_TRUE(v.contains("value") && (v.at("value").is_number() || v.at("value").is_array()))
          << name << " " << it.key();
      ASSERT_TRUE(v.contains("source") && v.at("source").is_string()) << name << " " << it.key();
      EXPECT_FALSE(v.at("source").get<std::string>().empty()) << name << " " << it.key();
    }
  }
}

TEST(HostProfile, CxlInheritsFromOptane) {
  const Json raw = raw_profile("cxl");
  ASSERT_EQ(raw.value("base", ""), "optane");
  const HostProfile cxl = HostProfile::load("cxl"), optane = HostProfile::load("optane");
  EXPECT_NE(cxl.tier[1].read_latency_ns, optane.tier[1].read_latency_ns);
  EXPECT_EQ(cxl.tier[1].read_latency_ns, raw.at("slow.read_latency_ns").at("value").get<double>());
  // What cxl.json does not state comes from optane.json.
  const Json c = cxl.to_json(), o = optane.to_json();
  for (auto it = o.begin(); it != o.end(); ++it) {
    if (raw.contains(it.key()))
      EXPECT_EQ(c.at(it.key()), raw.at(it.key()).at("value")) << it.key();
    else
      EXPECT_EQ(c.at(it.key()), it.value()) << it.key();
  }
}

TEST(HostProfile, OverridesApply) {
  const HostProfile p =
      HostProfile::load("optane", Json{{"llc_bytes", "4MiB"}, {"slow.read_latency_ns", 400}});
  EXPECT_EQ(p.llc_bytes, uint64_t{4} << 20);
  EXPECT_EQ(p.tier[1].read_latency_ns, 400.0);
  EXPECT_EQ(p.tier[0].read_latency_ns, HostProfile::load("optane").tier[0].read_latency_ns);
}

TEST(HostProfile, UnknownOverrideIsASpecErrorNamingTheKey) {
  try {
    HostProfile::load("optane", Json{{"llc_byts", 1}});
    FAIL() << "expected a SpecError";
  } catch (const SpecError& e) {
    EXPECT_NE(std::string(e.what()).find("'llc_byts'"), std::string::npos) << e.what();
  }
}

TEST(HostProfile, BadOverridesAreSpecErrors) {
  EXPECT_THROW(HostProfile::load("optane", Json{{"llc_bytes", 0}}), SpecError);
  EXPECT_THROW(HostProfile::load("optane", Json{{"walk_ns", -1}}), SpecError);
  EXPECT_THROW(HostProfile::load("optane", Json{{"walk_ns", true}}), SpecError);
  EXPECT_THROW(HostProfile::load("optane", Json::array()), SpecError);
}

TEST(HostProfile, WaysAreWholeNumbers) {
  for (const char* key : {"llc_ways", "tlb_l1_ways", "tlb_l2_ways"}) {
    SCOPED_TRACE(key);
    EXPECT_THROW(HostProfile::load("optane", Json{{key, 1.5}}), SpecError);
    EXPECT_NO_THROW(HostProfile::load("optane", Json{{key, 16}}));
  }
}

TEST(HostProfile, UnknownProfileIsASpecError) {
  EXPECT_THROW(HostProfile::load("no-such-host"), SpecError);
}

// Counts are integers in the struct and checked as they are set; records
// still print every constant as a double, so run keys do not move.
TEST(HostProfile, CountsAreWholeNumbersInRange) {
  struct Case {
    const char* key;
    Json value;
    const char* error;  // "" when accepted
  };
  const Case cases[] = {
      {"llc_ways", 16, ""},
      {"llc_ways", 11.5, "'llc_ways' must be a whole number from 1 to 64"},
      {"llc_ways", 0, "'llc_ways' must be a whole number from 1 to 64"},
      {"llc_ways", 65, "'llc_ways' must be a whole number from 1 to 64"},
      {"tlb_l2_entries", -1536, "'tlb_l2_entries' must be a whole number from 1 to 65536"},
      {"host_cores", 1e300, "'host_cores' must be a whole number from 1 to 65536"},
      {"subpage_ad_bits", 1, ""},
      {"subpage_ad_bits", 2, "'subpage_ad_bits' must be 0 or 1"},
      {"slow.access_unit_bytes", 100.5,
       "'slow.access_unit_bytes' must be a whole number from 1 to"},
      {"llc_bytes", "8MiB", ""},
      {"llc_hit_ns", 12.5, ""},
  };
  for (const Case& c : cases) {
    try {
      HostProfile::load("optane", Json{{c.key, c.value}});
      EXPECT_STREQ(c.error, "") << c.key << " " << c.value.dump();
    } catch (const SpecError& e) {
      EXPECT_NE(std::string(c.error), "") << c.key << " " << c.value.dump() << ": " << e.what();
      EXPECT_NE(std::string(e.what()).find(c.error), std::string::npos) << e.what();
    }
  }
  const HostProfile p = HostProfile::load("optane", Json{{"llc_ways", 16}});
  EXPECT_EQ(p.llc_ways, 16u);
  EXPECT_TRUE(p.to_json().at("llc_ways").is_number_float());
  EXPECT_EQ(p.to_json().at("llc_ways").get<double>(), 16.0);
}
}  // namespace host_profile_test
}  // namespace vtmm::sim
