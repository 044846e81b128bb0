#include "vtmm/platform/interrupt.hpp"

#include <csignal>

namespace vtmm::platform {
namespace {

// Signal handlers can only reach process-global state; this flag is the one piece.
volatile std::sig_atomic_t g_flag = 0;
int g_depth = 0;
struct sigaction g_old_int, g_old_term;

void on_signal(int) { g_flag = 1; }

}  // namespace

InterruptGuard::InterruptGuard() {
  if (g_depth++ > 0) return;
  // Sticky for the process: after Ctrl-C the runner's remaining vm runs fail
  // at once instead of booting more guests.
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &g_old_int);
  sigaction(SIGTERM, &sa, &g_old_term);
}

InterruptGuard::~InterruptGuard() {
  if (--g_depth > 0) return;
  sigaction(SIGINT, &g_old_int, nullptr);
  sigaction(SIGTERM, &g_old_term, nullptr);
}

bool interrupted() { return g_flag != 0; }

void check_interrupted() {
  if (g_flag != 0) throw Interrupted();
}

}  // namespace vtmm::platform
