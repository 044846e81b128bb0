#include "vtmm/platform/guest_session.hpp"

#include <chrono>
#include <thread>

#include "vtmm/platform/elapsed.hpp"
#include "vtmm/platform/interrupt.hpp"

namespace vtmm::platform {
GuestSession::GuestSession(DomainConfig dc, uint64_t memory, double boot_timeout_s)
    : dc_(std::move(dc)), memory_(memory) {
  const auto t_img = std::chrono::steady_clock::now();
  img_ = build_guest_image(ImageOptions{});
  image_s_ = seconds_since(t_img);
  check_interrupted();
  dc_.name = lv_.next_domain_name();
  stage_boot_files();
  dc_.serial_log = "/var/log/libvirt/qemu/" + dc_.name + ".serial.log";
  const auto t_boot = std::chrono::steady_clock::now();
  try {
    lv_.create_domain(dc_.name, domain_xml(dc_));
    qemu_pid_ = lv_.qemu_pid(dc_.name);
    // What the link throws (a deadline, a reply limit, a disconnected guest)
    // ends the run; the runner writes the message as the failed record's "error".
    link_ = std::make_unique<AgentLink>(agent_socket_from_xml(lv_.live_xml(dc_.name)),
                                        agent_proto::MemoryMap{{{0, memory}}},
                                        [this] { return lv_.domain_active(dc_.name); });
    hello_ = link_->wait_hello(boot_timeout_s);
  } catch (...) {
    try {
      poweroff();
    } catch (...) {  // the boot's own error is the one to report
    }
    std::error_code ec;
    std::filesystem::remove_all(staged_, ec);
    throw;
  }
  boot_s_ = seconds_since(t_boot);
}

GuestSession::~GuestSession() {
  try {
    poweroff();
  } catch (...) {  // a destructor must not throw; the domain is transient
  }
  std::error_code ec;
  std::filesystem::remove_all(staged_, ec);
}

CommandReply GuestSession::must(const std::string& cmd, double timeout_s) {
  CommandReply rep = link_->command(cmd, timeout_s);
  if (rep.status != 0) throw std::runtime_error("guest: '" + cmd + "' failed: " + rep.error);
  return rep;
}

std::unique_ptr<AgentLink> GuestSession::open_page_table_link(double timeout_s) {
  const std::string path = agent_socket_from_xml(lv_.live_xml(dc_.name), kPageTablePort);
  if (path.empty()) throw std::runtime_error("guest: the domain has no page-table port");
  auto link = std::make_unique<AgentLink>(path, agent_proto::MemoryMap{{{0, memory_}}},
                                          [this] { return lv_.domain_active(dc_.name); });
  link->wait_hello(timeout_s);
  return link;
}

bool GuestSession::poweroff() {
  if (down_) return true;
  down_ = true;
  bool clean = false;
  if (link_ && lv_.domain_active(dc_.name)) {
    link_->send_only("poweroff");
    for (int i = 0; i < 100 && lv_.domain_active(dc_.name); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    clean = !lv_.domain_active(dc_.name);
  }
  lv_.destroy_domain(dc_.name);
  std::error_code ec;
  std::filesystem::remove(dc_.serial_log, ec);
  return clean;
}

void GuestSession::stage_boot_files() {
  namespace fs = std::filesystem;
  const fs::path base = fs::exists("/var/lib/libvirt/boot") ? fs::path("/var/lib/libvirt/boot")
                                                            : fs::temp_directory_path();
  staged_ = base / ("vtmm-" + dc_.name);
  std::error_code ec;
  fs::remove_all(staged_, ec);
  fs::create_directories(staged_);
  fs::permissions(staged_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                               fs::perms::others_read | fs::perms::others_exec);
  dc_.kernel = (staged_ / "vmlinuz").string();
  dc_.initrd = (staged_ / "initramfs.cpio").string();
  fs::copy_file(img_.kernel, dc_.kernel, fs::copy_options::overwrite_existing);
  fs::copy_file(img_.initrd, dc_.initrd, fs::copy_options::overwrite_existing);
  for (const std::string& f : {dc_.kernel, dc_.initrd})
    fs::permissions(f, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                           fs::perms::others_read);
}

}  // namespace vtmm::platform
