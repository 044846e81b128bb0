#pragma once
// A newc ("070701") cpio archive, the format the Linux kernel unpacks as an
// initramfs. Entries are written sorted with mtime 0 and fixed owners, so the
// same inputs give the same bytes (the image cache keys on them).
#include <cstdint>
#include <map>
#include <string>

namespace vtmm::platform {

class CpioWriter {
 public:
  // Parent directories are added automatically. Paths have no leading slash.
  void add_file(const std::string& path, std::string data, uint32_t mode = 0755);
  void add_symlink(const std::string& path, const std::string& target);
  void add_dir(const std::string& path);
  // The archive with its TRAILER!!!.
  std::string finish() const;
  uint64_t payload_bytes() const;

 private:
  struct Entry {
    uint32_t mode;
    std::string data;
  };
  void add_parents(const std::string& path);
  std::map<std::string, Entry> entries_;
};

}  // namespace vtmm::platform
