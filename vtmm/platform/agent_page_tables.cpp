#include "vtmm/platform/agent_page_tables.hpp"

#include <chrono>
#include <stdexcept>

#include "vtmm/platform/elapsed.hpp"

namespace vtmm::platform {

namespace ap = agent_proto;

AgentPageTables::AgentPageTables(std::unique_ptr<AgentLink> link, uint32_t guest_pages,
                                 double timeout_s)
    : PageTableSnapshot(guest_pages), link_(std::move(link)), timeout_s_(timeout_s) {}

void AgentPageTables::walk() {
  const auto t = std::chrono::steady_clock::now();
  const CommandReply r = link_->command("gpt-walk 3", timeout_s_);
  if (r.status != 0) throw std::runtime_error("guest: 'gpt-walk 3' failed: " + r.error);
  take(r.tables);
  stats_.walk_s += seconds_since(t);
}

// The link let through only frames inside the memory map; a frame past the
// tracked pages (a map larger than the daemon's regions) maps nothing here.
void AgentPageTables::take(const ap::Tables& tb) {
  begin();
  for (size_t i = 0; i < tb.gfns.size() && (i + 1) * ap::kPtesPerTable <= tb.entries.size(); ++i) {
    if (tb.gfns[i] >= pages_) {
      ++stats_.rejected;
      continue;
    }
    const auto gpa = static_cast<Gpa>(tb.gfns[i]);
    Table& t = put(gpa, gpa);
    for (uint32_t j = 0; j < kPtesPerPage; ++j) {
      const uint64_t e = tb.entries[i * ap::kPtesPerTable + j];
      const uint64_t flags = e >> 56, gfn = e & ap::kPfnMask;
      set(t, j, e != 0 && gfn < pages_ ? static_cast<Gpa>(gfn) : kNone, flags & ap::kAccessed,
          flags & ap::kDirty);
    }
  }
  end(tb.gfns.size());
}

Json AgentPageTables::report() const {
  Json j = stats_json();
  j["source"] = "guest companion module through the agent's second port";
  j["agent_messages_rejected"] = link_->rejected();
  return j;
}

}  // namespace vtmm::platform
