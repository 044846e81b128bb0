#include "vtmm/platform/cpio_writer.hpp"

#include <cstdio>
#include <stdexcept>

namespace vtmm::platform {
namespace {

void pad4(std::string& out) {
  while (out.size() % 4 != 0) out.push_back('\0');
}

void header(std::string& out, uint32_t ino, uint32_t mode, uint32_t nlink, size_t filesize,
            const std::string& name) {
  char h[111];
  // magic ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize
  // check
  std::snprintf(h, sizeof h, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", ino,
                mode, 0u, 0u, nlink, 0u, static_cast<unsigned>(filesize), 0u, 0u, 0u, 0u,
                static_cast<unsigned>(name.size() + 1), 0u);
  out.append(h, 110);
  out.append(name);
  out.push_back('\0');
  pad4(out);
}

}  // namespace

void CpioWriter::add_parents(const std::string& path) {
  for (size_t at = path.find('/'); at != std::string::npos; at = path.find('/', at + 1))
    entries_.try_emplace(path.substr(0, at), Entry{0040755, ""});
}

void CpioWriter::add_file(const std::string& path, std::string data, uint32_t mode) {
  if (path.empty() || path[0] == '/')
    throw std::logic_error("cpio: path must be relative: " + path);
  if (data.size() > 0xffffffffu) throw std::runtime_error("cpio: file too large for newc: " + path);
  add_parents(path);
  entries_[path] = Entry{0100000 | (mode & 07777), std::move(data)};
}

void CpioWriter::add_symlink(const std::string& path, const std::string& target) {
  add_parents(path);
  entries_[path] = Entry{0120777, target};
}

void CpioWriter::add_dir(const std::string& path) { add_parents(path + "/"); }

uint64_t CpioWriter::payload_bytes() const {
  uint64_t n = 0;
  for (const auto& [p, e] : entries_) n += e.data.size();
  return n;
}

std::string CpioWriter::finish() const {
  std::string out;
  out.reserve(payload_bytes() + entries_.size() * 256 + 512);
  uint32_t ino = 1;
  for (const auto& [path, e] : entries_) {  // std::map: parents sort before children
    header(out, ino++, e.mode, (e.mode & 0170000) == 0040000 ? 2 : 1, e.data.size(), path);
    out.append(e.data);
    pad4(out);
  }
  header(out, 0, 0, 1, 0, "TRAILER!!!");
  return out;
}

}  // namespace vtmm::platform
