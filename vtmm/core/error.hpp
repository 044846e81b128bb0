#pragma once
// Errors a user can fix (bad spec, flag, profile) are SpecError: the CLI prints
// the one-line message and exits 2. Anything else is a bug and exits 1.
#include <stdexcept>
#include <string>

namespace vtmm {

class SpecError : public std::runtime_error {
 public:
  explicit SpecError(const std::string& what) : std::runtime_error(what) {}
};

// A workload whose own result check failed: the run is wrong, not the spec.
class VerifyError : public std::runtime_error {
 public:
  explicit VerifyError(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace vtmm
