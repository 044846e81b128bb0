// The trace format (docs/trace-format.md): a trace written and read back gives
// identical windows; a CSV import equals the same trace written natively; a
// truncated or corrupt file is refused with the byte offset, and the CLI
// exits 2 with one line.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <zlib.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "tests/trace_test_support.hpp"
#include "vtmm/core/error.hpp"
#include "vtmm/trace/csv_import.hpp"
#include "vtmm/trace/info.hpp"
#include "vtmm/trace/reader.hpp"

namespace trace_format_test {

using namespace vtmm;
namespace fs = std::filesystem;

std::vector<trace::Window> read_all(const std::string& path) {
  trace::TraceReader r(path);
  std::vector<trace::Window> out;
  trace::Window w;
  while (r.next(w)) out.push_back(w);
  return out;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const fs::path& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary);
  out << s;
}

// The error a full read of `path` raises ("" if none).
std::string read_error(const std::string& path) {
  try {
    read_all(path);
  } catch (const SpecError& e) {
    return e.what();
  }
  return "";
}

TEST(TraceFormat, RoundTripGivesIdenticalWindows) {
  const auto dir = test::scratch_dir("trace");
  const auto ws = test::synthetic_windows(12, 300, 5);
  for (uint32_t codec : {trace::kCodecZlib, trace::kCodecRaw}) {
    const std::string path = (dir / ("t" + std::to_string(codec))).string();
    test::write_trace(path, ws, codec);
    EXPECT_EQ(read_all(path), ws);
    trace::TraceReader r(path);
    EXPECT_EQ(r.header().program, "synthetic");
    EXPECT_EQ(r.header().window_accesses, 5000u);
    uint64_t reads = 0, writes = 0;
    for (const auto& w : ws)
      for (const auto& p : w.pages) reads += p.reads, writes += p.writes;
    EXPECT_EQ(r.summary().windows, 12u);
    EXPECT_EQ(r.summary().reads, reads);
    EXPECT_EQ(r.summary().writes, writes);
    EXPECT_EQ(r.summary().distinct_pages, test::distinct_pages(ws));
    ASSERT_EQ(r.summary().markers.size(), 2u);
    EXPECT_EQ(r.summary().markers[1].name, "measured");
    EXPECT_EQ(r.summary().markers[1].window, 3u);
  }
  EXPECT_LT(fs::file_size(dir / "t1"), fs::file_size(dir / "t0"))
      << "zlib blocks are smaller than raw ones";
  fs::remove_all(dir);
}

TEST(TraceFormat, RewindReadsTheSameWindowsAgain) {
  const auto dir = test::scratch_dir("trace");
  const auto ws = test::synthetic_windows(5, 50, 9);
  test::write_trace((dir / "t").string(), ws);
  trace::TraceReader r((dir / "t").string());
  trace::Window w;
  ASSERT_TRUE(r.next(w));
  ASSERT_TRUE(r.next(w));
  r.rewind();
  ASSERT_TRUE(r.next(w));
  EXPECT_EQ(w, ws[0]);
  fs::remove_all(dir);
}

TEST(TraceFormat, WriterRefusesBadWindowsAndLeavesNoFile) {
  const auto dir = test::scratch_dir("trace");
  const std::string path = (dir / "t").string();
  {
    trace::TraceWriter w(path, test::test_header());
    trace::Window bad;
    bad.pages = {{10, 1, 0}, {5, 1, 0}};
    EXPECT_THROW(w.write(bad), SpecError);  // not ascending
    trace::Window later;
    later.index = 4;
    EXPECT_THROW(w.write(later), SpecError);  // out of order
    trace::Window marker;
    marker.marker = "has space";
    EXPECT_THROW(w.write(marker), SpecError);
  }
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path + ".part"));
  fs::remove_all(dir);
}

void write_csv(const fs::path& file, const std::vector<trace::Window>& ws, bool gz) {
  std::string s = "window,page,reads,writes,instructions\n";
  for (const auto& w : ws)
    for (size_t i = 0; i < w.pages.size(); ++i) {
      // Rows of a window in reverse order: the importer sorts them.
      const auto& p = w.pages[w.pages.size() - 1 - i];
      s += std::to_string(w.index) + ",0x" +
           [&] {
             std::ostringstream h;
             h << std::hex << p.page;
             return h.str();
           }() +
           "," + std::to_string(p.reads) + "," + std::to_string(p.writes) + "," +
           (i == 0 ? std::to_string(w.instructions) : "") + "\n";
    }
  if (!gz) {
    spit(file, s);
    return;
  }
  gzFile f = gzopen(file.string().c_str(), "wb");
  ASSERT_NE(f, nullptr);
  gzwrite(f, s.data(), static_cast<unsigned>(s.size()));
  gzclose(f);
}

TEST(TraceFormat, CsvImportEqualsTheNativeTrace) {
  const auto dir = test::scratch_dir("trace");
  auto ws = test::synthetic_windows(9, 200, 11);
  // The CSV cannot say "empty window with instructions": give the empty one none.
  ws[2].instructions = 0;
  test::write_trace((dir / "native").string(), ws);
  for (bool gz : {false, true}) {
    const fs::path csv = dir / (gz ? "t.csv.gz" : "t.csv");
    write_csv(csv, ws, gz);
    trace::ImportOptions opt;
    opt.markers = {{1, "warmup"}, {3, "measured"}};
    const auto sum = trace::import_csv(csv.string(), (dir / "imported").string(), opt);
    EXPECT_EQ(read_all((dir / "imported").string()), read_all((dir / "native").string())) << csv;
    trace::TraceReader native((dir / "native").string());
    EXPECT_EQ(sum.to_json(), native.summary().to_json());
  }
  fs::remove_all(dir);
}

TEST(TraceFormat, CsvErrorsNameTheLine) {
  const auto dir = test::scratch_dir("trace");
  auto expect_error = [&](const std::string& text, const std::string& needle) {
    spit(dir / "bad.csv", text);
    try {
      trace::import_csv((dir / "bad.csv").string(), (dir / "out").string(), {});
      ADD_FAILURE() << "no error for: " << text;
    } catch (const SpecError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fs::exists(dir / "out"));
  };
  expect_error("window,page,reads\n", "line 1");
  expect_error("window,page,reads,writes\n0,1,2,3\n0,x,1,1\n", "line 3");
  expect_error("window,page,reads,writes\n1,1,2,3\n0,2,1,1\n", "line 3");
  expect_error("window,page,reads,writes\n0,1,0,0\n", "line 2");
  expect_error("window,page,reads,writes\n0,1,1,0\n0,1,1,0\n", "appears twice");
  fs::remove_all(dir);
}

TEST(TraceFormat, TruncatedFileFailsWithByteOffset) {
  const auto dir = test::scratch_dir("trace");
  const std::string good = (dir / "good").string();
  test::write_trace(good, test::synthetic_windows(6, 100, 3));
  const std::string bytes = slurp(good);
  for (size_t keep :
       {size_t{0}, size_t{10}, size_t{60}, bytes.size() / 2, bytes.size() - 17, bytes.size() - 1}) {
    spit(dir / "cut", bytes.substr(0, keep));
    const std::string err = read_error((dir / "cut").string());
    EXPECT_NE(err.find("at byte "), std::string::npos) << "kept " << keep << ": " << err;
  }
  fs::remove_all(dir);
}

TEST(TraceFormat, CorruptByteFailsWithItsBlockOffset) {
  const auto dir = test::scratch_dir("trace");
  const std::string good = (dir / "good").string();
  test::write_trace(good, test::synthetic_windows(6, 100, 3));
  const std::string bytes = slurp(good);
  // Flip bytes all over the file: every flip is caught, none crashes.
  for (size_t at = 0; at < bytes.size(); at += 37) {
    std::string bad = bytes;
    bad[at] = static_cast<char>(bad[at] ^ 0x41);
    spit(dir / "bad", bad);
    const std::string err = read_error((dir / "bad").string());
    EXPECT_NE(err.find("at byte "), std::string::npos) << "flip at " << at << ": '" << err << "'";
  }
  // A flip in the first window's payload names that block's payload offset.
  trace::TraceReader r(good);
  const size_t hdr = 20 + static_cast<size_t>(r.header().to_json().dump().size());
  std::string bad = bytes;
  bad[hdr + 25] = static_cast<char>(bad[hdr + 25] ^ 1);
  spit(dir / "bad", bad);
  EXPECT_NE(read_error((dir / "bad").string())
                .find("at byte " + std::to_string(hdr + 20) + ": block CRC mismatch"),
            std::string::npos)
      << read_error((dir / "bad").string());
  fs::remove_all(dir);
}

TEST(TraceFormat, BadMagicAndVersionAreNamedWithTheirOffset) {
  const auto dir = test::scratch_dir("trace");
  const std::string good = (dir / "good").string();
  test::write_trace(good, test::synthetic_windows(3, 50, 2));
  std::string bad = slurp(good);
  bad.replace(0, 8, "VTMMTRCX");
  spit(dir / "magic", bad);
  EXPECT_NE(read_error((dir / "magic").string()).find("at byte 0: not a vtmm trace (bad magic)"),
            std::string::npos)
      << read_error((dir / "magic").string());
  bad = slurp(good);
  bad[8] = 2;  // version 2
  spit(dir / "version", bad);
  EXPECT_NE(
      read_error((dir / "version").string()).find("at byte 8: format version 2 is not supported"),
      std::string::npos)
      << read_error((dir / "version").string());
  // Not a trace at all (a CSV handed to the replay by mistake).
  spit(dir / "csv", "window,page,reads,writes\n0,1,1,1\n");
  EXPECT_NE(read_error((dir / "csv").string()).find("at byte 0: not a vtmm trace"),
            std::string::npos);
  fs::remove_all(dir);
}

TEST(TraceFormat, SummaryTotalsPerPhase) {
  const auto dir = test::scratch_dir("trace");
  auto ws = test::synthetic_windows(6, 80, 3);
  for (auto& w : ws) w.marker.clear();
  ws[2].marker = "warmup";
  ws[4].marker = "measured";
  test::write_trace((dir / "t").string(), ws);
  const trace::Json j = trace::trace_info((dir / "t").string());
  ASSERT_EQ(j["phases"].size(), 3u) << j["phases"].dump();
  const std::vector<std::pair<std::string, uint64_t>> want = {
      {"", 0}, {"warmup", 2}, {"measured", 4}};
  uint64_t reads = 0, writes = 0, instr = 0;
  for (size_t i = 0; i < 3; ++i) {
    const auto& ph = j["phases"][i];
    EXPECT_EQ(ph["name"], want[i].first);
    EXPECT_EQ(ph["first_window"], want[i].second);
    EXPECT_EQ(ph["windows"], 2);
    uint64_t r = 0, w = 0, n = 0;
    for (uint64_t k = want[i].second; k < want[i].second + 2; ++k) {
      for (const auto& pc : ws[k].pages) {
        r += pc.reads;
        w += pc.writes;
      }
      n += ws[k].instructions;
    }
    EXPECT_EQ(ph["reads"], r);
    EXPECT_EQ(ph["writes"], w);
    EXPECT_EQ(ph["instructions"], n);
    reads += r;
    writes += w;
    instr += n;
  }
  EXPECT_EQ(j["reads"], reads);
  EXPECT_EQ(j["writes"], writes);
  EXPECT_EQ(j["instructions"], instr);
  EXPECT_NE(trace::format_info(j).find("phase measured"), std::string::npos)
      << trace::format_info(j);
  fs::remove_all(dir);
}

TEST(TraceFormat, InfoReportsSkewAndMix) {
  const auto dir = test::scratch_dir("trace");
  const auto ws = test::synthetic_windows(8, 300, 2);
  test::write_trace((dir / "t").string(), ws);
  const trace::Json j = trace::trace_info((dir / "t").string());
  EXPECT_EQ(j["windows"], 8);
  EXPECT_EQ(j["empty_windows"], 1);
  EXPECT_EQ(j["distinct_pages"], test::distinct_pages(ws));
  EXPECT_EQ(j["footprint_bytes"], test::distinct_pages(ws) * 4096);
  const auto& d = j["access_share_of_hottest_deciles"];
  ASSERT_EQ(d.size(), 10u);
  EXPECT_GT(d[0].get<double>(), 0.2) << "the hot third takes most accesses";
  EXPECT_DOUBLE_EQ(d[9].get<double>(), 1.0);
  for (size_t i = 1; i < 10; ++i) EXPECT_GE(d[i].get<double>(), d[i - 1].get<double>());
  EXPECT_GT(j["read_fraction"].get<double>(), 0.5);
  EXPECT_FALSE(trace::format_info(j).empty());
  fs::remove_all(dir);
}

int run_vtmm(const std::string& args, std::string& err) {
  const fs::path e =
      fs::temp_directory_path() / ("vtmm_trace_cli_err_" + std::to_string(::getpid()));
  const int st =
      std::system((std::string(VTMM_BINARY) + " " + args + " >/dev/null 2>" + e.string()).c_str());
  err = slurp(e);
  fs::remove(e);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST(TraceFormat, CliRefusesBadTracesWithExitCode2) {
  const auto dir = test::scratch_dir("trace");
  const std::string good = (dir / "good").string();
  test::write_trace(good, test::synthetic_windows(6, 100, 3));
  std::string err;
  EXPECT_EQ(run_vtmm("trace info " + good + " --json", err), 0) << err;
  spit(dir / "cut", slurp(good).substr(0, 300));
  EXPECT_EQ(run_vtmm("trace info " + (dir / "cut").string(), err), 2);
  EXPECT_NE(err.find("at byte "), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_EQ(run_vtmm("sim -w trace --wl trace=" + (dir / "cut").string(), err), 2);
  EXPECT_NE(err.find("at byte "), std::string::npos) << err;
  spit(dir / "bad.csv", "window,page,reads,writes\n0,1,1,1\n0,zz,1,1\n");
  EXPECT_EQ(run_vtmm("trace import --csv " + (dir / "bad.csv").string() + " --out " +
                         (dir / "o").string(),
                     err),
            2);
  EXPECT_NE(err.find("line 3"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(dir / "o"));
  EXPECT_EQ(run_vtmm("trace import --csv " + (dir / "missing.csv").string() + " --out " +
                         (dir / "o").string(),
                     err),
            2);
  fs::remove_all(dir);
}

// Each kind of damage the issue names, through the CLI: exit 2, one line, the
// byte offset (binary) or the line (CSV), and no output file left behind.
TEST(TraceFormat, CliNamesTheOffsetOfEveryKindOfDamage) {
  const auto dir = test::scratch_dir("trace");
  const std::string good = (dir / "good").string();
  test::write_trace(good, test::synthetic_windows(6, 100, 3));
  const std::string bytes = slurp(good);
  trace::TraceReader r(good);
  const size_t first_block = 20 + r.header().to_json().dump().size();
  std::string magic = bytes, crc = bytes;
  magic[3] = 'X';
  crc[first_block + 20 + 5] = static_cast<char>(crc[first_block + 20 + 5] ^ 0x10);
  spit(dir / "magic", magic);
  spit(dir / "crc", crc);
  spit(dir / "cut", bytes.substr(0, bytes.size() - 40));
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"magic", "at byte 0: not a vtmm trace (bad magic)"},
      {"crc", "at byte " + std::to_string(first_block + 20) + ": block CRC mismatch"},
      {"cut", "at byte "}};
  std::string err;
  for (const auto& [file, needle] : cases) {
    const std::string path = (dir / file).string();
    for (const std::string& cmd :
         {"trace info " + path, "sim -w trace -p dram-only --wl trace=" + path + " --no-wall"}) {
      EXPECT_EQ(run_vtmm(cmd, err), 2) << cmd << ": " << err;
      EXPECT_NE(err.find(needle), std::string::npos) << cmd << ": " << err;
      EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << cmd << ": " << err;
    }
  }
  // A bad line in a gzip-compressed CSV is named by its line number too.
  const std::string csv = "window,page,reads,writes\n0,1,1,1\n0,2,1,1\n1,3,x,1\n";
  gzFile gz = gzopen((dir / "bad.csv.gz").c_str(), "wb");
  ASSERT_NE(gz, nullptr);
  gzwrite(gz, csv.data(), static_cast<unsigned>(csv.size()));
  gzclose(gz);
  EXPECT_EQ(run_vtmm("trace import --csv " + (dir / "bad.csv.gz").string() + " --out " +
                         (dir / "o").string(),
                     err),
            2);
  EXPECT_NE(err.find("line 4"), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_FALSE(fs::exists(dir / "o"));
  fs::remove_all(dir);
}

}  // namespace trace_format_test
