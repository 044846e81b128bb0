#pragma once
// The guest image vtmm boots: the distribution's kernel (linux-image-amd64,
// found by glob) and an initramfs built from the distribution's packages:
// busybox (busybox-static), redis-server and redis-benchmark with the shared
// libraries ldd names, the virtio modules the agent's channel needs, and
// vtmm-agent (static, with the project's graph kernels). Images are cached
// under <cache>/images/<content hash>/: the hash covers every input's bytes,
// so a changed input (new kernel, new agent) gives a new image.
#include <string>
#include <vector>

namespace vtmm::platform {

struct GuestImage {
  std::string dir, kernel, initrd, hash;
  uint64_t initrd_bytes = 0;
  bool cached = false;  // found, not built
  double build_s = 0;   // time spent (hashing included)
  std::vector<std::string> inputs;
};

struct ImageOptions {
  std::string cache_dir;  // default: $VTMM_CACHE_DIR, else $XDG_CACHE_HOME/vtmm, else ~/.cache/vtmm
  std::string agent;      // default: vtmm-agent next to the running vtmm binary
  std::string kernel;     // default: newest /boot/vmlinuz-*-amd64
  bool force = false;     // rebuild even if cached
};

// Throws SpecError naming what is missing (package to install) when an input is absent.
GuestImage build_guest_image(const ImageOptions& opt);

std::string default_cache_dir();
std::string default_agent_path();

}  // namespace vtmm::platform
