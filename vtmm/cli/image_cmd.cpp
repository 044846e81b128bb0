// `vtmm image build`: the bootable guest for the vm platform (cached by content hash).
#include <iostream>

#include "vtmm/cli/commands.hpp"
#include "vtmm/core/params.hpp"
#include "vtmm/platform/guest_image.hpp"

namespace vtmm::cli {

void add_image(CLI::App& app) {
  auto opt = std::make_shared<platform::ImageOptions>();
  auto json = std::make_shared<bool>(false);
  CLI::App* img = app.add_subcommand("image", "Guest images for the vm platform");
  img->require_subcommand(1);
  CLI::App* b = img->add_subcommand("build", "Build (or find cached) the guest kernel + initramfs");
  b->add_option("--cache-dir", opt->cache_dir,
                "Cache folder (default $VTMM_CACHE_DIR or ~/.cache/vtmm)");
  b->add_option("--agent", opt->agent, "Guest agent binary (default: vtmm-agent next to vtmm)");
  b->add_option("--kernel", opt->kernel, "Guest kernel (default: newest /boot/vmlinuz-*-amd64)");
  b->add_flag("--force", opt->force, "Rebuild even if an image with the same inputs is cached");
  b->add_flag("--json", *json, "Print the image as JSON");
  b->callback([opt, json] {
    const platform::GuestImage g = platform::build_guest_image(*opt);
    const Json j = {{"dir", g.dir},
                    {"kernel", g.kernel},
                    {"initrd", g.initrd},
                    {"hash", g.hash},
                    {"initrd_bytes", g.initrd_bytes},
                    {"cached", g.cached},
                    {"seconds", g.build_s},
                    {"inputs", g.inputs}};
    if (*json) {
      std::cout << j.dump(2) << '\n';
      return;
    }
    std::cout << (g.cached ? "cached " : "built ") << g.dir << "  (initramfs "
              << format_bytes(g.initrd_bytes) << ", " << g.inputs.size() << " inputs, " << g.build_s
              << " s)\n";
  });
}

}  // namespace vtmm::cli
