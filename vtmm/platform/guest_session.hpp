#pragma once
// One booted vtmm guest: the image built (or taken from the cache), its boot
// files staged where QEMU can read them, the domain created, the agent's
// hello received. The destructor powers the guest off (the agent's
// poweroff, then a destroy) and removes what the boot staged, also when a
// run fails part-way.
#include <filesystem>
#include <memory>
#include <string>

#include "vtmm/platform/agent_link.hpp"
#include "vtmm/platform/domain_xml.hpp"
#include "vtmm/platform/guest_image.hpp"
#include "vtmm/platform/libvirt_session.hpp"

namespace vtmm::platform {

class GuestSession {
 public:
  // Boots `dc` (its name, kernel, initrd and serial log are filled here)
  // with `memory` bytes of guest RAM; throws when the agent's hello does not
  // come within boot_timeout_s.
  GuestSession(DomainConfig dc, uint64_t memory, double boot_timeout_s);
  ~GuestSession();
  GuestSession(const GuestSession&) = delete;
  GuestSession& operator=(const GuestSession&) = delete;

  // One agent command; throws with the guest's reason when it failed.
  CommandReply must(const std::string& cmd, double timeout_s);
  // A link to the agent's second port (the guest companion's walks,
  // agent/page_table_task.cpp), its hello received within timeout_s.
  std::unique_ptr<AgentLink> open_page_table_link(double timeout_s);
  // Powers the guest off; whether it went down by itself (else destroyed).
  bool poweroff();

  const DomainConfig& domain() const { return dc_; }
  const GuestImage& image() const { return img_; }
  const agent_proto::Hello& hello() const { return hello_; }
  int qemu_pid() const { return qemu_pid_; }
  uint64_t rejected() const { return link_ ? link_->rejected() : 0; }
  double image_s() const { return image_s_; }
  double boot_s() const { return boot_s_; }

 private:
  // QEMU runs as libvirt's unprivileged user, which cannot read an image
  // cache under a 0700 home: the boot files are copied to a directory of
  // their own under libvirt's boot directory for the run.
  void stage_boot_files();

  DomainConfig dc_;
  GuestImage img_;
  LibvirtSession lv_;
  std::filesystem::path staged_;
  std::unique_ptr<AgentLink> link_;
  agent_proto::Hello hello_;
  int qemu_pid_ = -1;
  uint64_t memory_ = 0;
  bool down_ = false;
  double image_s_ = 0, boot_s_ = 0;
};

}  // namespace vtmm::platform
