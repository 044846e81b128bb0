#!/usr/bin/env bash
# Formats every C++ file in place with .clang-format (Debian's clang-format;
# CI runs the same check, docs/ci.md "Format").
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files -z '*.cpp' '*.hpp' | xargs -0 clang-format -i
