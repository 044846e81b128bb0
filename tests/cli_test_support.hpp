#pragma once
// Runs the vtmm binary from tests: a scratch folder per test, the exit code,
// stdout and stderr, and the checks every rejected input shares (exit 2, one
// line on stderr naming the field, no results written).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace cli_test {

// The vtmm binary under test (VTMM_BINARY, defined for vtmm_tests only; in cli_test.cpp).
std::string vtmm_binary();

namespace fs = std::filesystem;

// A scratch folder per test, removed afterwards.
class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ =
        fs::temp_directory_path() / ("vtmm_cli_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  struct Result {
    int code = -1;
    std::string out, err;
  };

  static std::string quote(const std::string& s) {
    std::string q = "'";
    for (char ch : s) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
    return q + "'";
  }
  static std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  // Runs `vtmm ARGS` (ARGS already shell-quoted where needed).
  Result vtmm(const std::string& args) const {
    const fs::path out = dir_ / "stdout", err = dir_ / "stderr";
    const std::string cmd = quote(vtmm_binary()) + " " + args + " </dev/null >" +
                            quote(out.string()) + " 2>" + quote(err.string());
    const int status = std::system(cmd.c_str());
    Result r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
  }

  fs::path write_spec(const std::string& name, const std::string& text) const {
    const fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return p;
  }

  // `vtmm run SPEC --out DIR/results`: exit 2, one line naming `needle`, no results.
  void expect_rejected_spec(const std::string& text, const std::string& needle) const {
    const fs::path spec = write_spec("spec.json", text);
    const fs::path results = dir_ / "results";
    const Result r = vtmm("run " + quote(spec.string()) + " --out " + quote(results.string()));
    EXPECT_EQ(r.code, 2) << r.err;
    expect_one_line(r.err, needle);
    EXPECT_FALSE(fs::exists(results / "runs.jsonl"))
        << "a rejected spec must not touch the results file";
    EXPECT_FALSE(fs::exists(results)) << "a rejected spec must not create the results folder";
  }

  static void expect_one_line(const std::string& err, const std::string& needle) {
    ASSERT_FALSE(err.empty());
    EXPECT_EQ(err.back(), '\n') << err;
    EXPECT_EQ(err.find('\n'), err.size() - 1) << "one line only:\n" << err;
    EXPECT_NE(err.find(needle), std::string::npos) << "should name " << needle << ":\n" << err;
  }

  fs::path dir_;
};

}  // namespace cli_test
