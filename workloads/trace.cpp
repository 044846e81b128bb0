// trace: replays a recorded page-access trace (docs/trace-format.md), e.g. one
// made by `vtmm trace record` from a real program, so any policy can be run
// on a real program's memory behaviour.
//
// Replay rules (the format keeps per-window, per-page counts, not order):
//  - windows are replayed in order; inside a window the accesses are issued
//    in a seeded random order, each at a random 64-byte line of its page;
//  - a page with r reads and w writes in a window is issued as min(r, w)
//    read-modify-writes plus |r - w| plain reads or writes: a read and a write
//    of the same page are taken to be one read-modify-write of one line
//    (how most stores follow the load of the same datum). The read and write
//    counts per page per window are kept exactly; the access count is
//    max(r, w), not r + w;
//  - compute time per access = the window's instructions x
//    ns_per_instruction / the accesses issued, so the recorded core work is
//    charged in full;
//  - trace pages are mapped into the guest's virtual space densely, in
//    first-touch order (by window, then ascending page number), so the
//    footprint is the trace's distinct pages and the guest allocates
//    physical pages in the order the program first touched them;
//  - phases come from the trace's markers: windows from the first marker
//    named measure_from are Measured, from warmup_from (before that) Warmup,
//    earlier ones Setup. With no such markers the whole trace is measured.
//    Replay stops before the first marker named end_at (e.g. a program's
//    result check after its measured work).
// The stream is shared by the vCPUs (a recorded program is one stream); the
// trace is read one window at a time, never whole.
// Check: the reads and writes issued equal those of the windows read, and
// (when the whole trace is replayed) the trace's totals in its trailer.
#include <algorithm>
#include <filesystem>
#include <memory>
#include <unordered_map>
#include <vector>

#include "vtmm/core/rng.hpp"
#include "vtmm/core/workload.hpp"
#include "vtmm/trace/reader.hpp"

namespace vtmm {
namespace {

// A relative path is looked up from the working directory, then from the
// source tree, so specs can name shipped traces as "traces/<name>".
std::string resolve_trace_path(const std::string& given) {
  namespace fs = std::filesystem;
  if (given.empty() || fs::path(given).is_absolute() || fs::exists(given)) return given;
  const fs::path in_tree = fs::path(VTMM_SOURCE_DIR) / given;
  return fs::exists(in_tree) ? in_tree.string() : given;
}

class TraceReplay final : public Workload {
 public:
  TraceReplay(Params& p, const WorkloadEnv& env) : rng_(env.seed ^ 0x7472616365ULL) {
    // The default is the trace shipped in the repo (traces/README.md), so the
    // workload has a schema and runs with no keys like every other workload.
    const std::string given = p.get<std::string>("trace", "traces/redis.vtrace");
    // Assumed: 2 instructions per cycle at 2.1 GHz (the optane profile's
    // clock); the trace's instructions include the memory instructions, so
    // this is the core's work around the misses the simulator charges.
    ns_per_instr_ = p.get<double>("ns_per_instruction", 0.24);
    // A trace keeps no dependences between accesses; 8 in flight as in gups
    // (Skylake has 12 L1D fill buffers). Use 1 for pointer-chasing programs.
    mlp_ = p.get<uint32_t>("mlp", 8);
    const bool measure_given = p.has("measure_from"), warmup_given = p.has("warmup_from");
    const std::string measure_from = p.get<std::string>("measure_from", "measured");
    const std::string warmup_from = p.get<std::string>("warmup_from", "warmup");
    const bool end_given = p.has("end_at");
    const std::string end_at = p.get<std::string>("end_at", "end");
    if (!(ns_per_instr_ >= 0 && ns_per_instr_ < 1e3))
      p.fail("ns_per_instruction", "must be in [0, 1000)");
    if (mlp_ == 0 || mlp_ > 64) p.fail("mlp", "must be between 1 and 64");
    if (given.empty()) p.fail("trace", "must name a trace file");
    // Opening checks the whole file (every block, every window, the trailer
    // against the windows) as `vtmm trace info` does, so a trace damaged past
    // end_at is refused too and the summary below is the windows' own.
    reader_ = std::make_unique<trace::TraceReader>(resolve_trace_path(given));
    const trace::Summary& s = reader_->summary();
    if (s.distinct_pages == 0) p.fail("trace", "names a trace with no accesses");
    if (s.distinct_pages > (uint64_t{1} << 31))
      p.fail("trace", "has more pages than a VM can address");
    auto first = [&](const std::string& name) -> int64_t {
      for (const auto& m : s.markers)
        if (m.name == name) return static_cast<int64_t>(m.window);
      return -1;
    };
    const int64_t mw = first(measure_from), ww = first(warmup_from);
    if (mw < 0 && measure_given) p.fail("measure_from", "names a marker the trace does not have");
    if (ww < 0 && warmup_given) p.fail("warmup_from", "names a marker the trace does not have");
    const int64_t ew = first(end_at);
    if (ew < 0 && end_given) p.fail("end_at", "names a marker the trace does not have");
    end_window_ = ew < 0 ? UINT64_MAX : static_cast<uint64_t>(ew);
    measure_window_ = mw < 0 ? 0 : static_cast<uint64_t>(mw);
    warmup_window_ = (ww >= 0 && ww < mw) ? static_cast<uint64_t>(ww) : measure_window_;
    base_ = layout_.alloc(s.distinct_pages * kPageSize);
  }

  uint64_t footprint_bytes() const override { return layout_.bytes(); }
  uint64_t ops() const override { return measured_; }
  std::string op_name() const override { return "access"; }
  std::string fixed_page_rates() const override {
    return "a replayed trace gives each page the access rate its program had in real time, "
           "whatever the VM's size: "
           "scaled periods would see fewer accesses per page, so they keep the published values";
  }

  bool next(uint32_t, Batch& b) override {
    while (at_ == todo_.size()) {
      if (!load_window()) return false;
    }
    b.phase = phase_;
    b.mlp = static_cast<uint8_t>(mlp_);
    b.compute_ns = compute_ns_;
    const size_t end = std::min(todo_.size(), at_ + Batch::kCap);
    for (; at_ < end; ++at_) {
      const uint64_t e = todo_[at_];
      issued_reads_ += e & 1;
      issued_writes_ += (e >> 1) & 1;
      const uint64_t line = rng_.next() & (kLinesPerPage - 1);
      b.push(base_ + (e >> 2) * kPageSize + line * kLineSize, static_cast<AccessKind>(e & 3));
    }
    if (phase_ == Phase::Measured) measured_ += b.n;
    return at_ < todo_.size() || !ended_;
  }

  void verify() const override {
    const trace::Summary& s = reader_->summary();
    if (!ended_) return;  // a run cut short has nothing to compare
    if (issued_reads_ != reads_ || issued_writes_ != writes_)
      throw VerifyError("trace: issued " + std::to_string(issued_reads_) + " reads, " +
                        std::to_string(issued_writes_) + " writes; the windows replayed hold " +
                        std::to_string(reads_) + ", " + std::to_string(writes_));
    if (end_window_ != UINT64_MAX)
      return;  // stopped at the end marker: the trailer counts the rest too
    if (reads_ != s.reads || writes_ != s.writes || windows_ != s.windows)
      throw VerifyError("trace: replayed " + std::to_string(reads_) + " reads, " +
                        std::to_string(writes_) + " writes in " + std::to_string(windows_) +
                        " windows; the trace holds " + std::to_string(s.reads) + ", " +
                        std::to_string(s.writes) + " in " + std::to_string(s.windows));
  }

 private:
  // Expands the next window into todo_ (dense page << 2 | kind), shuffled.
  // Its size is the window's accesses, which the reader has bounded by
  // Header::max_window_accesses() (at most trace::kMaxWindowAccesses).
  bool load_window() {
    if (ended_ || !reader_->next(win_) || win_.index >= end_window_) {
      ended_ = true;
      return false;
    }
    todo_.clear();
    at_ = 0;
    for (const auto& pc : win_.pages) {
      auto [it, fresh] = dense_.try_emplace(pc.page, static_cast<uint32_t>(dense_.size()));
      if (fresh && dense_.size() > reader_->summary().distinct_pages)
        throw SpecError("trace '" + reader_->path() + "': window " + std::to_string(win_.index) +
                        " has more distinct pages than its trailer says");
      const uint64_t page = uint64_t{it->second} << 2;
      const uint64_t both = std::min(pc.reads, pc.writes);
      for (uint64_t i = 0; i < both; ++i) todo_.push_back(page | kReadWrite);
      for (uint64_t i = both; i < pc.reads; ++i) todo_.push_back(page | kRead);
      for (uint64_t i = both; i < pc.writes; ++i) todo_.push_back(page | kWrite);
      reads_ += pc.reads;
      writes_ += pc.writes;
    }
    for (size_t i = todo_.size(); i > 1; --i) std::swap(todo_[i - 1], todo_[rng_.below(i)]);
    phase_ = win_.index >= measure_window_  ? Phase::Measured
             : win_.index >= warmup_window_ ? Phase::Warmup
                                            : Phase::Setup;
    compute_ns_ = todo_.empty()
                      ? 0.0f
                      : static_cast<float>(static_cast<double>(win_.instructions) * ns_per_instr_ /
                                           static_cast<double>(todo_.size()));
    ++windows_;
    return true;
  }

  Rng rng_;
  double ns_per_instr_;
  uint32_t mlp_;
  uint64_t measure_window_ = 0, warmup_window_ = 0, end_window_ = UINT64_MAX, base_ = 0;
  VaLayout layout_;
  std::unique_ptr<trace::TraceReader> reader_;
  std::unordered_map<uint64_t, uint32_t> dense_;
  trace::Window win_;
  std::vector<uint64_t> todo_;
  size_t at_ = 0;
  Phase phase_ = Phase::Setup;
  float compute_ns_ = 0;
  bool ended_ = false;
  uint64_t reads_ = 0, writes_ = 0, windows_ = 0, measured_ = 0, issued_reads_ = 0,
           issued_writes_ = 0;
};

VTMM_REGISTER(vtmm::WorkloadRegistry, TraceReplay, "trace",
              "replays a recorded page-access trace (vtmm trace record/import) under any policy")

}  // namespace
}  // namespace vtmm
