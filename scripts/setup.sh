#!/usr/bin/env bash
# Installs the Debian 12 packages vtmm needs to build, test and plot.
# Idempotent: packages already present are left alone (no apt-get update then).
set -euo pipefail

PACKAGES=(
  g++ cmake ninja-build git clang-format
  libcli11-dev nlohmann-json3-dev
  libgtest-dev libbenchmark-dev
  python3-matplotlib
  slurm-wlm munge  # the Slurm executor's test cluster (scripts/slurm-local.sh)
  zlib1g-dev valgrind
  libvirt-daemon-system libvirt-clients libvirt-dev libnuma-dev qemu-system-x86  # vm platform
  linux-image-amd64 busybox-static redis-server redis-tools  # vm guest image
  linux-headers-amd64  # the guest companion module (guest/vtmm_gpt), built for the guest kernel
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
