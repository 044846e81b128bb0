#pragma once
// The guest page-table mechanisms (GptList, PteAdBits) of a real guest: the
// guest companion module walks the workload's page tables inside the guest,
// and the agent sends each walk on its second port (agent/page_table_task.cpp)
// as Tables frames, which the link has checked against the memory map
// (agent_protocol.hpp). A table is named by its guest frame, as vTMM's
// companion names it; a walk clears every present PTE's A and D bits
// (process_page_tables.hpp says why that is the tracker's own answer).
#include <memory>

#include "vtmm/platform/agent_link.hpp"
#include "vtmm/platform/process_page_tables.hpp"

namespace vtmm::platform {

class AgentPageTables final : public PageTableSnapshot {
 public:
  // `link` is the agent's second port, its hello already received.
  AgentPageTables(std::unique_ptr<AgentLink> link, uint32_t guest_pages, double timeout_s = 60);
  // One `gpt-walk 3` (clear A and D); throws with the guest's reason.
  void walk() override;
  // Decodes one walk's reply: public for tests.
  void take(const agent_proto::Tables& t);
  Json report() const override;

 private:
  std::unique_ptr<AgentLink> link_;
  double timeout_s_;
};

}  // namespace vtmm::platform
