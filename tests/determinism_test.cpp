// A run is a pure function of its spec and seed: `vtmm sim --no-wall` twice
// prints the same bytes; another seed prints something else.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

namespace determinism_test {

struct Output {
  int code = -1;
  std::string out;
};

Output run(const std::string& args) {
  const std::string cmd = std::string("'") + VTMM_BINARY + "' " + args + " 2>/dev/null </dev/null";
  Output o;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return o;
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) o.out.append(buf, n);
  const int status = ::pclose(p);
  o.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return o;
}

std::string gups_args(int seed) {
  return "sim --workload gups --policy first-touch --ratio 1:4 --no-wall --wl footprint=64MiB --wl "
         "updates=200000 "
         "--wl warmup_updates=50000 --seed " +
         std::to_string(seed);
}

TEST(Determinism, SameSeedSameBytes) {
  const Output a = run(gups_args(7));
  const Output b = run(gups_args(7));
  ASSERT_EQ(a.code, 0);
  ASSERT_EQ(b.code, 0);
  ASSERT_FALSE(a.out.empty());
  EXPECT_EQ(a.out.find("wall_s"), std::string::npos) << "--no-wall leaves the wall clock out";
  EXPECT_EQ(a.out.find("\"cpu_s\""), std::string::npos) << "--no-wall leaves the CPU time out";
  EXPECT_EQ(a.out, b.out);
}

TEST(Determinism, OtherSeedOtherBytes) {
  const Output a = run(gups_args(7));
  const Output c = run(gups_args(8));
  ASSERT_EQ(a.code, 0);
  ASSERT_EQ(c.code, 0);
  EXPECT_NE(a.out, c.out);
  // Not just the echoed seed: the simulated outcome itself differs.
  const nlohmann::json ja = nlohmann::json::parse(a.out), jc = nlohmann::json::parse(c.out);
  EXPECT_NE(ja.at("sim_time_s"), jc.at("sim_time_s"));
  EXPECT_NE(ja.at("counters"), jc.at("counters"));
}

}  // namespace determinism_test
