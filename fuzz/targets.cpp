#include "fuzz/targets.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include "vtmm/core/error.hpp"
#include "vtmm/platform/agent_protocol.hpp"
#include "vtmm/runner/experiment.hpp"
#include "vtmm/trace/reader.hpp"

namespace vtmm::fuzz {

std::string scratch_dir() {
  namespace fs = std::filesystem;
  const fs::path base =
      fs::is_directory("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
  const fs::path dir = base / ("vtmm_fuzz_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir.string();
}

void spec(const uint8_t* data, size_t size) {
  try {
    runner::load_experiment_text(std::string(reinterpret_cast<const char*>(data), size),
                                 "fuzz.json", false);
  } catch (const SpecError&) {
  }
}

void trace(const uint8_t* data, size_t size) {
  static const std::string path = scratch_dir() + "/input.vtrace";
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) throw std::runtime_error("fuzz: cannot write " + path);
    if (size > 0 && std::fwrite(data, 1, size, f) != size)
      throw std::runtime_error("fuzz: short write");
    std::fclose(f);
  }
  try {
    trace::TraceReader r(path);
    trace::Window w;
    while (r.next(w)) {
    }
  } catch (const SpecError&) {
  }
}

namespace {

// A VM with a hole in its guest-physical map, as a real one below 4 GiB.
const agent_proto::MemoryMap& fuzz_map() {
  static const agent_proto::MemoryMap map{
      {{0, uint64_t{3} << 30}, {uint64_t{4} << 30, uint64_t{5} << 30}}};
  return map;
}

void check_accepted(const agent_proto::Message& m) {
  using namespace agent_proto;
  if (const auto* p = std::get_if<Pages>(&m.body)) {
    if (p->gfns.size() != p->flags.size() || p->gfns.size() > kMaxPages)
      throw std::logic_error("pages over the limit");
    for (size_t i = 0; i < p->gfns.size(); ++i) {
      if (!fuzz_map().contains_gfn(p->gfns[i]))
        throw std::logic_error("an accepted page outside the memory map");
      if ((p->flags[i] & (kAccessed | kDirty)) == 0 || (p->flags[i] & ~(kAccessed | kDirty)) != 0)
        throw std::logic_error("an accepted page with bad flags");
    }
  } else if (const auto* x = std::get_if<Metrics>(&m.body)) {
    if (x->values.size() > kMaxMetrics || x->name.size() > kMaxName)
      throw std::logic_error("metrics over the limit");
  } else if (const auto* t = std::get_if<Text>(&m.body)) {
    if (t->text.size() > kMaxText) throw std::logic_error("text over the limit");
  } else if (const auto* h = std::get_if<Hello>(&m.body)) {
    if (h->node_bytes.empty() || h->node_bytes.size() > kMaxNodes)
      throw std::logic_error("hello with bad nodes");
  }
}

}  // namespace

void agent_stream(const uint8_t* data, size_t size) {
  agent_proto::StreamDecoder dec(fuzz_map());
  const size_t chunk = size == 0 ? 1 : size_t{data[0]} * 7 + 1;  // 1..1786 bytes per read()
  for (size_t at = 0; at < size; at += chunk) {
    dec.feed(data + at, std::min(chunk, size - at));
    while (auto m = dec.next()) check_accepted(*m);
    // The decoder holds at most one frame in progress, however the guest splits or pads it.
    if (dec.buffered() > agent_proto::kHeaderBytes + agent_proto::kMaxPayload + chunk)
      throw std::logic_error("decoder buffer grows without bound");
  }
}

}  // namespace vtmm::fuzz
