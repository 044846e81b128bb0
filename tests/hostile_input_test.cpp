// Hostile input (docs/input-contract.md): every reproducer a review found gets
// exit 2 and one line naming the field, and writes nothing. Each row was a
// crash, a hang, an internal error or a silently wrong value before.
#include "tests/cli_test_support.hpp"

namespace cli_test {
namespace hostile_input_test {

// A base run that passes, so each row changes one thing.
const std::string kGups =
    R"({"impl": "gups", "footprint": "8MiB", "updates": 1000, "warmup_updates": 0})";
std::string spec_with(const std::string& run_extra, const std::string& top_extra = "") {
  return R"({"name": "t", "run": {"workload": )" + kGups +
         R"(, "policy": "first-touch", "ratio": "1:4")" + run_extra + "}" + top_extra + "}";
}

// [1, 2, ..., n] (GCC 12 warns falsely on "," + std::to_string: appended instead).
std::string numbers(int n) {
  std::string s = "[";
  for (int i = 1; i <= n; ++i) {
    if (i > 1) s += ',';
    s += std::to_string(i * 4096);
  }
  return s + "]";
}

struct SpecCase {
  const char* what;
  std::string spec;
  const char* needle;
};

class HostileSpec : public CliTest, public ::testing::WithParamInterface<SpecCase> {};

TEST_P(HostileSpec, IsRefusedWithOneLineNamingTheField) {
  expect_rejected_spec(GetParam().spec, GetParam().needle);
}

INSTANTIATE_TEST_SUITE_P(
    Reproducers, HostileSpec,
    ::testing::Values(
        SpecCase{
            "impl_number",
            R"({"name": "t", "run": {"workload": {"impl": 5}, "policy": "first-touch", "ratio": "1:4"}})",
            "run.workload.impl: expected a registered workload name, got a number"},
        SpecCase{
            "policy_array",
            R"({"name": "t", "run": {"workload": )" + kGups +
                R"(, "policy": ["vtmm"], "ratio": "1:4"}})",
            "spec t: run.policy: expected a policy name or an object with 'impl', got an array"},
        SpecCase{"sweep_impl_number",
                 spec_with("", R"(, "sweep": {"workload": [)" + kGups + R"(, {"impl": 3}]})"),
                 "sweep.workload[1].impl: expected a registered workload name, got a number"},
        SpecCase{"sweep_policy_array",
                 spec_with("", R"(, "sweep": {"policy": ["first-touch", ["vtmm"]]})"),
                 "sweep.policy[1]: expected a policy name or an object with 'impl', got an array"},
        SpecCase{"sweep_ratio_number", spec_with("", R"(, "sweep": {"ratio": ["1:4", 4]})"),
                 "sweep.ratio[1]"},
        SpecCase{"sweep_seed_string", spec_with("", R"(, "sweep": {"seed": [1, "two"]})"),
                 "sweep.seed[1]"},
        SpecCase{"sweep_host_unknown", spec_with("", R"(, "sweep": {"host": ["optane", "nope"]})"),
                 "'nope'"},
        SpecCase{"repeat_million", spec_with("", R"(, "repeat": 1000000)"),
                 "more than 100000 runs"},
        SpecCase{"axes_product",
                 spec_with("", R"(, "sweep": {"seed": )" + numbers(400) + R"(, "fast_bytes": )" +
                                   numbers(400) + "}"),
                 "more than 100000 runs"},
        SpecCase{
            "updates_2_63",
            R"({"name": "t", "run": {"workload": {"impl": "gups", "updates": 9223372036854775808}, "policy": "first-touch", "ratio": "1:4"}})",
            "'updates' is 9223372036854775808, more than the 2^40"},
        SpecCase{"full_block_bad", spec_with("", R"(, "full": {"run": {"workload": {"impl": 7}}})"),
                 "spec t (full): run.workload.impl"},
        SpecCase{"full_block_not_object", spec_with("", R"(, "full": {"run": [1]})"), "'full'"},
        SpecCase{"full_block_unknown_key", spec_with("", R"(, "full": {"runs": {}})"),
                 "not 'runs'"},
        SpecCase{"checks_not_list", spec_with("", R"(, "checks": {"says": "x"})"),
                 "'checks' must be a list of objects, got an object"},
        SpecCase{"check_without_than",
                 spec_with("", R"(, "checks": [{"says": "x", "policy": "vtmm"}])"),
                 "checks[0].than' must be a non-empty string"},
        SpecCase{
            "check_better_typo",
            spec_with(
                "", R"(, "checks": [{"says": "x", "policy": "a", "than": "b", "better": "less"}])"),
            R"(not lower", got "less")"},
        SpecCase{
            "check_workloads_not_list",
            spec_with(
                "",
                R"(, "checks": [{"says": "x", "policy": "a", "than": "b", "workloads": "gups"}])"),
            "checks[0].workloads' must be a non-empty list of workload names"},
        SpecCase{
            "check_unknown_field",
            spec_with("",
                      R"(, "checks": [{"says": "x", "policy": "a", "than": "b", "metrc": "y"}])"),
            "checks[0].metrc' unknown field"},
        SpecCase{"memory_20_digits", spec_with(R"(, "vm": {"memory": "99999999999999999999"})"),
                 "'memory' is more than 256 TiB"},
        SpecCase{"fast_bytes_zero", spec_with(R"(, "fast_bytes": 0)"),
                 "'fast_bytes' must be more than 0 bytes"},
        SpecCase{"fast_bytes_2_64", spec_with(R"(, "fast_bytes": 18446744073709551615)"),
                 "'fast_bytes' is more than 256 TiB"},
        SpecCase{"number_beyond_double", spec_with(R"(, "seed": 333e3333)"),
                 "malformed JSON (syntax error: number overflow"},
        SpecCase{"float_beyond_int", spec_with(R"(, "seed": 1e62)"), "'seed' is too large"},
        SpecCase{"seed_string", spec_with(R"(, "seed": "abc")"),
                 "'seed' must be a number, got a string"},
        SpecCase{"platform_array", spec_with(R"(, "platform": [1])"),
                 "'platform' must be a string, got an array"},
        SpecCase{"host_ways_fraction", spec_with(R"(, "host_overrides": {"tlb_l1_ways": 1.5})"),
                 "'tlb_l1_ways'"},
        SpecCase{"host_ways_not_dividing", spec_with(R"(, "host_overrides": {"tlb_l2_ways": 7})"),
                 "'tlb_l2_ways' (7) must divide 'tlb_l2_entries' (1536)"},
        SpecCase{"host_walkers_fraction", spec_with(R"(, "host_overrides": {"page_walkers": 1.5})"),
                 "'page_walkers' must be a whole number"}),
    [](const ::testing::TestParamInfo<SpecCase>& i) { return std::string(i.param.what); });

struct FlagCase {
  const char* what;
  std::string args;
  const char* needle;
};

class HostileFlags : public CliTest, public ::testing::WithParamInterface<FlagCase> {};

TEST_P(HostileFlags, AreRefusedWithOneLineNamingTheFlag) {
  const Result r = vtmm(GetParam().args);
  EXPECT_EQ(r.code, 2) << r.err;
  expect_one_line(r.err, GetParam().needle);
  EXPECT_TRUE(r.out.empty()) << r.out;
}

INSTANTIATE_TEST_SUITE_P(
    Reproducers, HostileFlags,
    ::testing::Values(
        FlagCase{"unknown_command", "bogus", "unknown command 'bogus'"},
        FlagCase{"host_is_a_folder", "sim --ratio 1:4 --host /tmp", "host profile '/tmp'"},
        FlagCase{"fast_bytes_zero", "sim --fast-bytes 0", "--fast-bytes: must be more than 0"},
        FlagCase{"fast_bytes_zero_b", "sim --fast-bytes 0B", "--fast-bytes: must be more than 0"},
        FlagCase{"fast_bytes_2_64", "sim --fast-bytes 18446744073709551615",
                 "--fast-bytes is more than 256 TiB"},
        FlagCase{"seed_2_64", "sim --ratio 1:4 --seed 18446744073709551616",
                 "--seed: expected a whole number"},
        FlagCase{"seed_negative", "sim --ratio 1:4 --seed -1", "--seed"},
        FlagCase{"memory_20_digits", "sim --ratio 1:4 --memory 99999999999999999999",
                 "'memory' is more than 256 TiB"},
        FlagCase{"updates_2_63", "sim --ratio 1:4 --wl updates=9223372036854775808", "'updates'"},
        FlagCase{"ways_fraction", "sim --ratio 1:4 --hp tlb_l1_ways=1.5", "'tlb_l1_ways'"}),
    [](const ::testing::TestParamInfo<FlagCase>& i) { return std::string(i.param.what); });

// --out under a plain file cannot be a results folder: a spec error, nothing written.
TEST_F(CliTest, ResultsFolderUnderAFileIsRefused) {
  const fs::path file = write_spec("plain", "not a folder");
  const fs::path spec = write_spec("ok.json", spec_with(""));
  const Result r = vtmm("run " + quote(spec.string()) + " --out " + quote((file / "x").string()));
  EXPECT_EQ(r.code, 2) << r.err;
  expect_one_line(r.err, "results folder");
  EXPECT_EQ(slurp(file), "not a folder");
}

}  // namespace hostile_input_test
}  // namespace cli_test
