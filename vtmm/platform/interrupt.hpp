#pragma once
// Ctrl-C during a vm run must still tear down every domain and daemon the run
// started. While a guard lives, SIGINT/SIGTERM only set a flag; the vm code
// waits in short polls, sees the flag, throws Interrupted, and its RAII owners
// clean up on the way out. The CLI then exits 130.
#include <stdexcept>

namespace vtmm::platform {

class Interrupted : public std::runtime_error {
 public:
  Interrupted()
      : std::runtime_error("interrupted (SIGINT/SIGTERM): domains and daemons cleaned up") {}
};

class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;
};

bool interrupted();
// Throws Interrupted if a signal arrived.
void check_interrupted();

}  // namespace vtmm::platform
