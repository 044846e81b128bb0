// Traces are input from outside: a file with absurd counts, page numbers,
// header or trailer fields, or damage where a replay never looks, is refused
// with SpecError "trace 'PATH': at byte N: what" before anything is sized by
// it, and `trace info`, the reader and the replay refuse it with the same
// message (docs/trace-format.md, "What a reader checks").
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <functional>
#include <optional>

#include "tests/trace_test_support.hpp"
#include "vtmm/core/error.hpp"
#include "vtmm/core/workload.hpp"
#include "vtmm/trace/csv_import.hpp"
#include "vtmm/trace/info.hpp"
#include "vtmm/trace/reader.hpp"

namespace trace_hostile_test {

using namespace vtmm;
using trace::Json;
namespace fs = std::filesystem;

constexpr uint64_t kMax64 = UINT64_MAX;
constexpr uint64_t kPage = 0x7f0000000ULL;  // where synthetic_windows puts its pages

// The message `f` throws as SpecError; "" if it throws nothing, and a note
// if it throws anything else (std::bad_alloc from a count nobody checked).
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const SpecError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("not a SpecError: ") + e.what();
  }
  return "";
}

std::string info_error(const std::string& path) {
  return error_of([&] { trace::trace_info(path); });
}

// Only builds the workload: that is where it opens the trace. Running a
// window it should have refused could allocate without bound.
std::string replay_error(const std::string& path) {
  return error_of([&] {
    WorkloadRegistry::instance().make(Json{{"impl", "trace"}, {"trace", path}}, "workload",
                                      WorkloadEnv{1, 1});
  });
}

// A good trace's parts; a case damages some, then the trace is assembled
// with every CRC right, so only the intended defect is there to find.
struct Parts {
  Json header = test::test_header().to_json();  // window_accesses 5000
  std::vector<trace::Window> windows = test::synthetic_windows(6, 40, 7);
  std::optional<Json> trailer;  // unset: true to the windows (sums wrap)
};

std::string assemble(const Parts& p) {
  std::vector<std::string> blocks;
  for (const auto& w : p.windows) blocks.push_back(test::window_block(w));
  const Json trailer = p.trailer ? *p.trailer : test::summary_of(p.windows).to_json();
  return test::trace_bytes(p.header.dump(), blocks, trailer.dump());
}

trace::PageCount& first_page(Parts& p, size_t window = 1) {
  return p.windows.at(window).pages.at(0);
}

Json true_trailer(const Parts& p) { return test::summary_of(p.windows).to_json(); }

struct Case {
  const char* name;
  std::function<void(Parts&)> damage;
  std::string error;  // expected after "trace 'PATH': at byte N: "
};

// Refused by trace info, the reader and the replay, with one message of the
// usual form that contains the case's text.
void expect_refused_alike(const std::string& path, const std::string& error) {
  const std::string info = info_error(path);
  EXPECT_EQ(info.rfind("trace '" + path + "': at byte ", 0), 0u) << info;
  EXPECT_NE(info.find(error), std::string::npos) << "want '" << error << "', got '" << info << "'";
  EXPECT_EQ(error_of([&] { trace::TraceReader r(path); }), info);
  EXPECT_EQ(replay_error(path), info);
}

void run_cases(const std::vector<Case>& cases) {
  const auto dir = test::scratch_dir("trace_hostile");
  {
    SCOPED_TRACE("undamaged");
    const std::string path = (dir / "good").string();
    test::spit(path, assemble(Parts{}));
    EXPECT_EQ(info_error(path), "");
    EXPECT_EQ(replay_error(path), "");
  }
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Parts p;
    c.damage(p);
    const std::string path = (dir / "t").string();
    test::spit(path, assemble(p));
    expect_refused_alike(path, c.error);
  }
  fs::remove_all(dir);
}

TEST(TraceHostile, WindowCountsAndPagesAreBounded) {
  const std::string past_5000 = "past 5000 accesses, the most a window of this trace may hold";
  run_cases({
      {"reads 2^64-1", [](Parts& p) { first_page(p).reads = kMax64; }, past_5000},
      {"writes 2^64-1", [](Parts& p) { first_page(p).writes = kMax64; }, past_5000},
      {"reads + writes wrap to 0",
       [](Parts& p) { first_page(p).reads = first_page(p).writes = uint64_t{1} << 63; }, past_5000},
      {"one page over window_accesses", [](Parts& p) { first_page(p).reads = 5001; }, past_5000},
      {"pages together over window_accesses",
       [](Parts& p) {
         auto& pages = p.windows[1].pages;
         pages.resize(2);
         pages[0].reads = pages[1].writes = 2600;
       },
       past_5000},
      {"window_accesses unknown, a page over the fixed cap",
       [](Parts& p) {
         p.header["window_accesses"] = 0;
         first_page(p).reads = trace::kMaxWindowAccesses + 1;
       },
       "past 2147483648 accesses"},
      {"page 2^64-1",
       [](Parts& p) {
         p.windows[1].pages = {{kMax64, 1, 0}};
       },
       "not below 2^52"},
      {"page 2^52",
       [](Parts& p) {
         p.windows[1].pages = {{trace::kPageLimit, 1, 0}};
       },
       "not below 2^52"},
      // encode_window writes 4 - 5 as the delta 2^64-1, which would wrap to page 4.
      {"page delta wraps around",
       [](Parts& p) {
         p.windows[1].pages = {{5, 1, 0}, {4, 1, 0}};
       },
       "not below 2^52"},
      {"page above the trailer's max_page",
       [](Parts& p) {
         Json t = true_trailer(p);
         t["max_page"] = t["max_page"].get<uint64_t>() - 7;  // synthetic pages are 7 apart
         p.trailer = t;
       },
       "is outside the trailer's range"},
      {"page below the trailer's min_page",
       [](Parts& p) {
         Json t = true_trailer(p);
         t["min_page"] = kPage + 1;
         p.trailer = t;
       },
       "page " + std::to_string(kPage) + " is outside the trailer's range"},
      {"instructions overflow the total",
       [](Parts& p) { p.windows[1].instructions = p.windows[3].instructions = uint64_t{1} << 63; },
       "the trace's instructions overflow 64 bits"},
  });
}

TEST(TraceHostile, BoundsAreInclusive) {
  const auto dir = test::scratch_dir("trace_hostile");
  Parts p;
  p.header["window_accesses"] = 0;
  p.windows = {trace::Window{0, 10, "", {{0, trace::kMaxWindowAccesses - 1, 1}}},
               trace::Window{1, 10, "", {{trace::kPageLimit - 1, 0, 1}}}};
  const std::string path = (dir / "t").string();
  test::spit(path, assemble(p));
  // Not replayed: a window of 2^31 accesses is legal but needs 16 GiB to expand.
  const Json j = trace::trace_info(path);
  EXPECT_EQ(j["reads"], trace::kMaxWindowAccesses - 1);
  EXPECT_EQ(j["busiest_window_accesses"], trace::kMaxWindowAccesses);
  EXPECT_EQ(j["distinct_pages"], 2);
  fs::remove_all(dir);
}

TEST(TraceHostile, HeaderFieldsMatchTheWriterAndTheBinary) {
  auto set = [](const char* key, Json v) { return [key, v](Parts& p) { p.header[key] = v; }; };
  auto drop = [](const char* key) { return [key](Parts& p) { p.header.erase(key); }; };
  const std::string whole = "must be a whole number >= 0";
  run_cases({
      {"version 0", set("version", 0), "field 'version' is 0, the file's binary version is 1"},
      {"version 8192", set("version", 8192),
       "field 'version' is 8192, the file's binary version is 1"},
      {"version {}", set("version", Json::object()), "field 'version' " + whole},
      {"version \"1\"", set("version", "1"), "field 'version' " + whole},
      {"version 1.0", set("version", 1.0), "field 'version' " + whole},
      {"version -1", set("version", -1), "field 'version' " + whole},
      {"version missing", drop("version"), "field 'version' is missing"},
      {"format missing", drop("format"), "field 'format' is missing"},
      {"format wrong", set("format", "vtmm-trace2"), "field 'format' must be \"vtmm-trace\""},
      {"format a number", set("format", 1), "field 'format' must be a string"},
      {"page_size 8192", set("page_size", 8192), "page_size 8192 is not supported"},
      {"page_size missing", drop("page_size"), "field 'page_size' is missing"},
      {"window_accesses above the cap", set("window_accesses", trace::kMaxWindowAccesses + 1),
       "window_accesses 2147483649 is above the format's limit of 2147483648"},
      {"window_accesses 2^64-1", set("window_accesses", kMax64), "is above the format's limit"},
      {"window_accesses negative", set("window_accesses", -5), "field 'window_accesses' " + whole},
      {"program missing", drop("program"), "field 'program' is missing"},
      {"recorded_at a number", set("recorded_at", 7), "field 'recorded_at' must be a string"},
      {"recorder null", set("recorder", nullptr), "field 'recorder' must be a string"},
      {"header an array", [](Parts& p) { p.header = Json::array({1}); },
       "header is not a JSON object"},
  });
}

TEST(TraceHostile, UnknownHeaderKeysAreKept) {
  const auto dir = test::scratch_dir("trace_hostile");
  Parts p;
  p.header["l1_filter"] = "off";
  p.header["recording"] = {{"wall_s", 1.5}};
  const std::string path = (dir / "t").string();
  test::spit(path, assemble(p));
  trace::TraceReader r(path);
  EXPECT_EQ(r.header().extra, (Json{{"l1_filter", "off"}, {"recording", {{"wall_s", 1.5}}}}));
  fs::remove_all(dir);
}

TEST(TraceHostile, TrailerFiguresAreTheWindowsOwn) {
  auto set = [](const char* key, Json v) {
    return [key, v](Parts& p) {
      Json t = true_trailer(p);
      t[key] = v;
      p.trailer = t;
    };
  };
  auto off_by_one = [](const char* key) {
    return [key](Parts& p) {
      Json t = true_trailer(p);
      t[key] = t[key].get<uint64_t>() + 1;
      p.trailer = t;
    };
  };
  run_cases({
      {"windows 2^63", set("windows", uint64_t{1} << 63),
       "trailer says 9223372036854775808 windows, file holds 6"},
      {"distinct_pages 2^40", set("distinct_pages", uint64_t{1} << 40),
       "trailer says distinct_pages 1099511627776, the windows hold"},
      {"distinct_pages 2^64-1", set("distinct_pages", kMax64),
       "trailer says distinct_pages 18446744073709551615"},
      {"distinct_pages one short",
       [](Parts& p) {
         Json t = true_trailer(p);
         t["distinct_pages"] = t["distinct_pages"].get<uint64_t>() - 1;
         p.trailer = t;
       },
       "trailer says distinct_pages"},
      {"reads one more", off_by_one("reads"), "trailer says reads"},
      {"writes one more", off_by_one("writes"), "trailer says writes"},
      {"min_page above max_page", set("min_page", kPage + 1000), "is above max_page"},
      {"max_page 2^60", set("max_page", uint64_t{1} << 60),
       "max_page 1152921504606846976 is not below 2^52"},
      {"a marker the windows lack",
       [](Parts& p) {
         Json t = true_trailer(p);
         t["markers"].push_back({{"window", 5}, {"name", "end"}});
         p.trailer = t;
       },
       "trailer's markers differ from the markers the windows carry"},
      {"a marker at the wrong window",
       [](Parts& p) {
         Json t = true_trailer(p);
         t["markers"][1]["window"] = 4;
         p.trailer = t;
       },
       "trailer's markers differ"},
      {"writes missing",
       [](Parts& p) {
         Json t = true_trailer(p);
         t.erase("writes");
         p.trailer = t;
       },
       "field 'writes' is missing"},
      {"windows a string", set("windows", "6"), "field 'windows' must be a whole number >= 0"},
      {"a marker without a name",
       [](Parts& p) {
         Json t = true_trailer(p);
         t["markers"][0].erase("name");
         p.trailer = t;
       },
       "field 'name' is missing"},
  });
}

// The writer refuses what the reader would, so every file it makes opens;
// a CSV row over the bound is named by its line.
TEST(TraceHostile, WritersRefuseWhatTheReaderWould) {
  const auto dir = test::scratch_dir("trace_hostile");
  const std::string path = (dir / "t").string();
  auto header_error = [&](const std::function<void(trace::Header&)>& damage) {
    trace::Header h = test::test_header();
    damage(h);
    return error_of([&] { trace::TraceWriter w(path, h); });
  };
  EXPECT_NE(header_error([](trace::Header& h) {
              h.page_size = 8192;
            }).find("page_size 8192 is not supported"),
            std::string::npos);
  EXPECT_NE(header_error([](trace::Header& h) {
              h.window_accesses = trace::kMaxWindowAccesses + 1;
            }).find("above the format's limit"),
            std::string::npos);
  const std::vector<std::pair<trace::Window, std::string>> windows = {
      {trace::Window{0, 0, "", {{trace::kPageLimit, 1, 0}}}, "not below 2^52"},
      {trace::Window{0, 0, "", {{1, 5000, 1}}}, "past 5000 accesses"},
      {trace::Window{0, 0, "", {{1, kMax64, kMax64}}}, "past 5000 accesses"},
  };
  for (const auto& [w, error] : windows) {
    trace::TraceWriter tw(path, test::test_header());
    const std::string got = error_of([&, &w = w] { tw.write(w); });
    EXPECT_NE(got.find(error), std::string::npos) << got;
  }
  EXPECT_FALSE(fs::exists(path));
  test::spit(dir / "t.csv", "window,page,reads,writes\n0,1,6,5\n");
  trace::ImportOptions opt;
  opt.window_accesses = 10;
  const std::string csv = error_of([&] { trace::import_csv((dir / "t.csv").string(), path, opt); });
  EXPECT_NE(csv.find("line 2: reads + writes above 10"), std::string::npos) << csv;
  EXPECT_FALSE(fs::exists(path));
  fs::remove_all(dir);
}

// Block-level lies: a page count the payload cannot hold, and a zlib block
// claiming far more raw bytes than zlib can make of its stored ones.
TEST(TraceHostile, BlockLengthsAreBoundedByTheBytesPresent) {
  const auto dir = test::scratch_dir("trace_hostile");
  const std::string header = test::test_header().to_json().dump();
  std::string payload;
  for (uint64_t v : {uint64_t{0}, uint64_t{0}, uint64_t{0}, uint64_t{1} << 40})
    trace::put_varint(payload, v);
  payload += std::string("\x01\x01\x00", 3);  // one page where 2^40 are announced
  const std::string empty_trailer = test::summary_of({trace::Window{}}).to_json().dump();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {test::trace_bytes(header, {test::block_bytes(trace::kWindowTag, payload)}, empty_trailer),
       "page count 1099511627776 is more than the payload can hold"},
      {test::trace_bytes(
           header,
           {test::block_bytes(trace::kWindowTag, test::zlib_compress(trace::encode_window({})),
                              trace::kCodecZlib, trace::kMaxBlockBytes)},
           empty_trailer),
       "more than zlib can produce"},
  };
  for (const auto& [bytes, error] : cases) {
    SCOPED_TRACE(error);
    const std::string path = (dir / "t").string();
    test::spit(path, bytes);
    expect_refused_alike(path, error);
  }
  fs::remove_all(dir);
}

// A trace whose replay stops at an 'end' marker (window 5 of 8), damaged only
// after it: the replay never reaches the damage, and must refuse the file all
// the same, as trace info does.
class TraceDamagePastTheEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::scratch_dir("trace_hostile");
    ws_ = test::synthetic_windows(8, 40, 3);
    ws_[5].marker = "end";
    good_ = (dir_ / "good").string();
    test::write_trace(good_, ws_);
    bytes_ = test::slurp(good_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Offset of window i's block in the good file.
  size_t block_at(size_t i) const {
    size_t at = 20 + test::test_header().to_json().dump().size();
    for (size_t k = 0; k < i; ++k) {
      uint32_t stored = 0;
      std::memcpy(&stored, bytes_.data() + at + 8, 4);  // little-endian, as this machine
      at += 20 + stored;
    }
    return at;
  }

  std::string damaged(const std::string& name, const std::string& bytes) {
    const std::string path = (dir_ / name).string();
    test::spit(path, bytes);
    return path;
  }

  fs::path dir_;
  std::vector<trace::Window> ws_;
  std::string good_, bytes_;
};

TEST_F(TraceDamagePastTheEnd, GoodTraceReplaysOnlyUpToTheEnd) {
  EXPECT_EQ(replay_error(good_), "");
  EXPECT_EQ(info_error(good_), "");
}

TEST_F(TraceDamagePastTheEnd, BadCrcInAWindowPastTheEnd) {
  std::string bad = bytes_;
  const size_t at = block_at(6) + 20 + 3;
  bad[at] = static_cast<char>(bad[at] ^ 0x20);
  expect_refused_alike(damaged("crc", bad),
                       "at byte " + std::to_string(block_at(6) + 20) + ": block CRC mismatch");
}

TEST_F(TraceDamagePastTheEnd, BadCrcInTheTrailer) {
  std::string bad = bytes_;
  const size_t at = bad.size() - 16 - 5;  // inside the trailer's JSON
  bad[at] = static_cast<char>(bad[at] ^ 0x20);
  expect_refused_alike(damaged("trailer", bad), "block CRC mismatch");
}

TEST_F(TraceDamagePastTheEnd, BadPageInAWindowPastTheEndWithItsCrcRight) {
  std::vector<std::string> blocks;
  auto ws = ws_;
  ws[7].pages.push_back({kMax64, 1, 1});
  for (const auto& w : ws) blocks.push_back(test::window_block(w));
  auto summary = test::summary_of(ws_);
  expect_refused_alike(damaged("page", test::trace_bytes(test::test_header().to_json().dump(),
                                                         blocks, summary.to_json().dump())),
                       "not below 2^52");
}

int run_vtmm(const std::string& args, std::string& err) {
  const fs::path e =
      fs::temp_directory_path() / ("vtmm_trace_hostile_err_" + std::to_string(::getpid()));
  const int st =
      std::system((std::string(VTMM_BINARY) + " " + args + " >/dev/null 2>" + e.string()).c_str());
  err = test::slurp(e);
  fs::remove(e);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

// Through the CLI: exit 2 and the same one line from `trace info` and `sim`.
TEST_F(TraceDamagePastTheEnd, CliRefusesWithExitCode2AndOneMessage) {
  std::string crc = bytes_;
  crc[block_at(7) + 25] = static_cast<char>(crc[block_at(7) + 25] ^ 1);
  Parts counts;
  first_page(counts).reads = kMax64;
  Parts version;
  version.header["version"] = 8192;
  for (const std::string& path : {damaged("crc", crc), damaged("counts", assemble(counts)),
                                  damaged("version", assemble(version))}) {
    SCOPED_TRACE(path);
    std::string info_err, sim_err;
    EXPECT_EQ(run_vtmm("trace info " + path, info_err), 2) << info_err;
    EXPECT_EQ(run_vtmm("sim -w trace -p dram-only --wl trace=" + path + " --no-wall", sim_err), 2)
        << sim_err;
    EXPECT_NE(info_err.find("trace '" + path + "': at byte "), std::string::npos) << info_err;
    EXPECT_EQ(std::count(info_err.begin(), info_err.end(), '\n'), 1) << info_err;
    EXPECT_EQ(sim_err, info_err);
  }
}

}  // namespace trace_hostile_test
