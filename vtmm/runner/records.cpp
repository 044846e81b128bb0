#include "vtmm/runner/records.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "vtmm/core/error.hpp"
#include "vtmm/core/json_input.hpp"
#include "vtmm/core/platform.hpp"
#include "vtmm/core/run_record.hpp"
#include "vtmm/runner/experiment.hpp"
#include "vtmm/sim/host_profile.hpp"
#include "vtmm/sim/simulation.hpp"

namespace vtmm::runner {
namespace fs = std::filesystem;

std::string run_key(const RunSpec& r) {
  return hash_hex(make_platform(r.host.platform)->identity(r).dump());
}

bool record_ok(const Json& rec) { return rec.is_object() && rec.value("status", "") == "ok"; }

namespace {

// What a failed run's record says about the run, so it sorts and plots next
// to the successful ones (same identifying fields, no metrics).
Json failed_record(const RunSpec& r, const std::string& kind, const std::string& what) {
  Json rec = open_record(r, r.host.profile, /*ratio_shown=*/true);
  close_record(rec, r.to_json());
  rec["error_kind"] = kind;
  rec["error"] = what;
  return rec;
}

void write_all(int fd, const std::string& s, const std::string& path) {
  size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
    off += static_cast<size_t>(n);
  }
}

}  // namespace

Json make_record(const RunIdentity& id, const RunSpec& r, bool with_wall) {
  const RunTimer timer;
  Json rec;
  try {
    rec = run_one(r, false);
    rec["status"] = "ok";
  } catch (const VerifyError& e) {
    rec = failed_record(r, "verify", e.what());
  } catch (const SpecError& e) {
    rec = failed_record(r, "spec", e.what());
  } catch (const std::exception& e) {
    rec = failed_record(r, "internal", e.what());
  } catch (...) {
    rec = failed_record(r, "internal", "unknown exception");
  }
  if (!record_ok(rec)) rec["status"] = "failed";
  rec["run_key"] = run_key(r);
  rec["experiment"] = id.experiment;
  rec["spec_hash"] = id.spec_hash;
  rec["run_index"] = id.index;
  if (with_wall) timer.stamp(rec);
  return rec;
}

std::map<std::string, Json> read_records(const std::string& path, std::vector<std::string>& notes) {
  std::map<std::string, Json> out;
  if (!fs::exists(path)) return out;
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  size_t corrupt = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) {
      // Only an append cut short by a kill leaves a last line without its newline.
      notes.push_back(path + ": dropped a torn last line (" + std::to_string(text.size() - pos) +
                      " bytes, an append cut short by an interrupted run)");
      break;
    }
    const std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.empty()) continue;
    Json r = parse_json_or_discarded(line);
    if (r.is_discarded() || !r.is_object() || !r.contains("run_key") ||
        !r.at("run_key").is_string()) {
      ++corrupt;
      continue;
    }
    const std::string key = r.at("run_key").get<std::string>();
    out[key] = std::move(r);
  }
  if (corrupt)
    notes.push_back(path + ": dropped " + std::to_string(corrupt) +
                    " line(s) that are not complete records");
  return out;
}

void append_record(const std::string& path, const Json& rec) {
  const std::string line = rec.dump() + "\n";
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
  try {
    write_all(fd, line, path);
    if (::fdatasync(fd) != 0)
      throw std::runtime_error("cannot sync " + path + ": " + std::strerror(errno));
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
}

void make_results_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw SpecError("results folder '" + dir + "': cannot create it: " + ec.message());
}

void write_file_atomically(const std::string& path, const std::string& text) {
  // A temporary per process, so two writers of one file (a task run twice) never share one.
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot create " + tmp + ": " + std::strerror(errno));
  try {
    write_all(fd, text, tmp);
    if (::fsync(fd) != 0)
      throw std::runtime_error("cannot sync " + tmp + ": " + std::strerror(errno));
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  fs::rename(tmp, path);
}

void write_records_atomically(const std::string& path, const std::vector<Json>& records) {
  std::string text;
  for (const Json& r : records) text += r.dump() + "\n";
  write_file_atomically(path, text);
}

namespace {

std::string baseline_key(const Json& rec) {
  Json c = rec.at("config").at("run");
  c.erase("policy");
  c.erase("ratio");
  c.erase("fast_bytes");
  c.erase("fast_memory_sharing");
  c.erase("pool");
  return c.dump();
}

// A multi-VM record against its baseline: each VM's slowdown against the same
// VM in the baseline run; normalized throughput = sum of 1/slowdown (each VM's
// rate as a fraction of its baseline rate); the record's slowdown is the
// harmonic mean, VMs / normalized throughput.
void add_vm_slowdowns(Json& r, const Json* base) {
  Json& vms = r["vms"];
  double norm = 0;
  bool all = base != nullptr && base->at("vms").size() == vms.size();
  for (size_t i = 0; i < vms.size(); ++i) {
    const double t = vms[i].value("sim_time_s", 0.0);
    const double b = all ? base->at("vms")[i].value("sim_time_s", 0.0) : 0.0;
    if (all && t > 0 && b > 0) {
      vms[i]["slowdown"] = t / b;
      norm += b / t;
    } else {
      vms[i]["slowdown"] = nullptr;
      all = false;
    }
  }
  r["normalized_throughput"] = all ? Json(norm) : Json(nullptr);
  r["slowdown"] = all && norm > 0 ? Json(static_cast<double>(vms.size()) / norm) : Json(nullptr);
}

}  // namespace

std::string llc_fit_warning(const Json& rec) {
  if (!rec.is_object() || rec.value("status", "ok") != "ok" || !rec.contains("llc_misses") ||
      !rec.at("llc_misses").is_number() || !rec.contains("footprint_bytes") ||
      !rec.at("footprint_bytes").is_number() || !rec.contains("config") ||
      !rec.at("config").is_object())
    return {};
  const Json consts = rec.at("config").value("host_constants", Json::object());
  const double llc =
      consts.is_object() && consts.contains("llc_bytes") && consts.at("llc_bytes").is_number()
          ? consts.at("llc_bytes").get<double>()
          : 0.0;
  const auto footprint = rec.at("footprint_bytes").get<double>();
  const auto misses = rec.at("llc_misses").get<uint64_t>();
  if (llc <= 0 || (misses > 0 && footprint > llc)) return {};
  auto mib = [](double b) {
    std::ostringstream o;
    o.precision(3);
    o << b / (1 << 20) << " MiB";
    return o.str();
  };
  const std::string what = misses == 0 ? "had no LLC misses in its measured phase"
                                       : "has a footprint no larger than the host's LLC";
  return "warning: workload " + rec.value("workload", std::string("?")) + " " + what +
         " (footprint " + mib(footprint) + ", LLC " + mib(llc) +
         "): its accesses barely reach memory, so tiering has nothing to do; make it larger than "
         "the LLC";
}

void add_slowdowns(std::vector<Json>& records, const std::string& baseline) {
  std::map<std::string, const Json*> base;
  for (const Json& r : records)
    if (record_ok(r) && r.at("policy") == baseline && r.at("sim_time_s").get<double>() > 0)
      base[baseline_key(r)] = &r;
  for (Json& r : records) {
    if (!r.is_object()) continue;
    const auto it = record_ok(r) ? base.find(baseline_key(r)) : base.end();
    const Json* b = it == base.end() ? nullptr : it->second;
    if (r.contains("vms") && r.at("vms").is_array()) {
      add_vm_slowdowns(r, b);
      continue;
    }
    r["slowdown"] =
        b == nullptr ? Json(nullptr)
                     : Json(r.at("sim_time_s").get<double>() / b->at("sim_time_s").get<double>());
  }
}

}  // namespace vtmm::runner
