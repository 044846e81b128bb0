// Mechanisms is the memory map and clock plus capability interfaces: a
// platform provides the ones it has, offers() follows from what it provided,
// and reaching a missing one throws naming the mechanism. The simulator
// hands each policy only what the policy declared.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "tests/sim_test_support.hpp"
#include "vtmm/core/mechanisms.hpp"

namespace mechanisms_capabilities_test {

using namespace vtmm;

// A platform with a memory map, a clock and one capability: TLB flushes.
class TlbOnly final : public Mechanisms, public TlbControl {
 public:
  TlbOnly() { provide({.tlb = this}); }
  uint32_t guest_pages() const override { return 8; }
  bool backed(Gpa) const override { return true; }
  Tier tier_of(Gpa) const override { return Tier::Fast; }
  uint64_t capacity_pages(Tier) const override { return 8; }
  uint64_t used_pages(Tier) const override { return 8; }
  double now_ns() const override { return 0; }
  void charge_ns(double) override {}
  void flush_tlbs() override { ++flushes; }
  int flushes = 0;
};

// (mechanism, what reaching its capability does on TlbOnly)
struct Case {
  Mechanism m;
  bool offered;
};
const std::vector<Case> kCases = {
    {Mechanism::TlbFlush, true},       {Mechanism::GptList, false},
    {Mechanism::PteAdBits, false},     {Mechanism::EptAdBits, false},
    {Mechanism::Pml, false},           {Mechanism::Migrate, false},
    {Mechanism::Exchange, false},      {Mechanism::HintFaults, false},
    {Mechanism::Sampling, false},      {Mechanism::HugeMappings, false},
    {Mechanism::GroundTruth, false},   {Mechanism::GuestNuma, false},
    {Mechanism::SubpageAdBits, false}, {Mechanism::WriteProtect, false}};

void reach(Mechanisms& m, Mechanism which) {
  switch (which) {
    case Mechanism::GptList:
    case Mechanism::PteAdBits:
      (void)m.gpt();
      break;
    case Mechanism::EptAdBits:
      (void)m.ept();
      break;
    case Mechanism::Pml:
      (void)m.pml();
      break;
    case Mechanism::TlbFlush:
      m.tlb().flush_tlbs();
      break;
    case Mechanism::Migrate:
      (void)m.mover();
      break;
    case Mechanism::Exchange:
      (void)m.exchanger();
      break;
    case Mechanism::HintFaults:
      (void)m.hints();
      break;
    case Mechanism::Sampling:
      (void)m.sampler();
      break;
    case Mechanism::HugeMappings:
      (void)m.huge();
      break;
    case Mechanism::GroundTruth:
      (void)m.truth();
      break;
    case Mechanism::GuestNuma:
    case Mechanism::SubpageAdBits:
    case Mechanism::WriteProtect:
      break;  // modes: nothing to reach
  }
}

TEST(MechanismsCapabilities, OffersWhatThePlatformProvidedAndNothingElse) {
  TlbOnly p;
  for (const Case& c : kCases) EXPECT_EQ(p.offers(c.m), c.offered) << mechanism_name(c.m);
}

TEST(MechanismsCapabilities, ReachingAMissingCapabilityThrowsNamingIt) {
  TlbOnly p;
  for (const Case& c : kCases) {
    if (c.m == Mechanism::GuestNuma || c.m == Mechanism::SubpageAdBits ||
        c.m == Mechanism::WriteProtect)
      continue;  // modes
    if (c.offered) {
      EXPECT_NO_THROW(reach(p, c.m)) << mechanism_name(c.m);
      continue;
    }
    try {
      reach(p, c.m);
      ADD_FAILURE() << mechanism_name(c.m) << " was reachable";
    } catch (const std::logic_error& e) {
      EXPECT_NE(std::string(e.what()).find(
                    mechanism_name(c.m == Mechanism::GptList ? Mechanism::PteAdBits : c.m)),
                std::string::npos)
          << e.what();
    }
  }
  EXPECT_EQ(p.flushes, 1);
}

// The default folio_referenced() is the EPT accessed bit: without EPT bits it throws.
TEST(MechanismsCapabilities, YoungTestNeedsEptBits) {
  TlbOnly p;
  EXPECT_THROW(p.test_and_clear_young(0), std::logic_error);
}

TEST(MechanismsCapabilities, SimulatorHandsOnlyWhatWasDeclared) {
  test::SimRig rig(test::vm_config(64, 64, 1, /*pml=*/true));
  for (const Case& c : kCases) {
    if (c.m == Mechanism::SubpageAdBits) continue;  // the host profile's hardware mode
    EXPECT_TRUE(rig.mech.offers(c.m)) << mechanism_name(c.m);
  }
  const std::vector<Mechanism> declared = {Mechanism::Pml, Mechanism::Migrate};
  rig.mech.offer_only(declared);
  EXPECT_TRUE(rig.mech.offers(Mechanism::Pml));
  EXPECT_TRUE(rig.mech.offers(Mechanism::Migrate));
  EXPECT_FALSE(rig.mech.offers(Mechanism::EptAdBits));
  EXPECT_FALSE(rig.mech.offers(Mechanism::GroundTruth));
  EXPECT_TRUE(rig.mech.offers(Mechanism::GuestNuma));  // a mode, not a capability
  Mechanisms& m = rig.mech;
  EXPECT_NO_THROW((void)m.pml());
  EXPECT_THROW((void)m.ept(), std::logic_error);
}

}  // namespace mechanisms_capabilities_test
