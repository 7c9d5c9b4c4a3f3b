#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The sidecore authors
# Installs the Debian 12 packages sidecore needs, if any are missing.
set -euo pipefail

PACKAGES=(
  build-essential cmake clang lld llvm libclang-rt-14-dev binutils
  gnu-efi mtools qemu-system-x86 ovmf
  libcmocka-dev python3 python3-matplotlib
  # bochs, bochsbios, vgabios, grub-pc-bin, xorriso join when the VMX backend is tested
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "sidecore: installing missing Debian packages: ${missing[*]}" >&2
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO=(sudo); else
    echo "sidecore: not root and no sudo; install as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
