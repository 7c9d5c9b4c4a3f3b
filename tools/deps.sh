#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The sidecore authors
# Installs the Debian 12 packages sidecore needs, if any are missing. QEMU comes from
# Debian's bookworm-backports (version 10: x2APIC under TCG); that suite is added next to
# the machine's own Debian source, with the same URIs and keyring.
set -euo pipefail

PACKAGES=(
  build-essential cmake clang clang-format lld llvm libclang-rt-14-dev binutils
  gnu-efi mtools ovmf
  libcmocka-dev python3 python3-matplotlib
  # The Linux guest (tools/sidecore linux): the kernel source, a static busybox for the
  # initramfs, and what a tinyconfig x86_64 build runs: flex and bison (kconfig's parser),
  # bc (kernel/timeconst.h), libelf-dev (objtool, always on for x86_64), xz-utils (unpacking
  # the source; tinyconfig's XZ-compressed kernel). Not needed: libssl-dev (no module signing
  # or certificates), cpio (the initramfs is made by the kernel tree's usr/gen_init_cpio);
  # git applies the patch series (git am) and perl (in build-essential) runs checkpatch.pl
  linux-source-6.1 busybox-static flex bison bc libelf-dev xz-utils git
  # The Multiboot2 ISO (tools/sidecore iso): grub-mkrescue with GRUB's BIOS and UEFI
  # modules, so one ISO boots under SeaBIOS and OVMF; xorriso writes the ISO. Bochs (the
  # VMX backend's emulator) with its BIOS and VGA BIOS
  grub-common grub-pc-bin grub-efi-amd64-bin xorriso
  bochs bochs-term bochsbios vgabios
)
QEMU_MIN_MAJOR=10
BACKPORTS_LIST=/etc/apt/sources.list.d/sidecore-backports.sources

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

qemu_is_new_enough() {
  command -v qemu-system-x86_64 >/dev/null || return 1
  local major
  major="$(qemu-system-x86_64 --version | sed -n 's/^QEMU emulator version \([0-9]*\).*/\1/p')"
  [ -n "$major" ] && [ "$major" -ge "$QEMU_MIN_MAJOR" ]
}

# One dpkg-query for them all: per package it costs seconds on every command.
declare -A have=()
while read -r name state; do
  [ "$state" = "ii" ] && have[$name]=1
done < <(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${PACKAGES[@]}" 2>/dev/null || true)
missing=()
for p in "${PACKAGES[@]}"; do [ -n "${have[$p]:-}" ] || missing+=("$p"); done
need_qemu=0
qemu_is_new_enough || need_qemu=1
[ ${#missing[@]} -eq 0 ] && [ $need_qemu -eq 0 ] && exit 0

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO=(sudo); else
    echo "sidecore: not root and no sudo; install as root: ${missing[*]} qemu-system-x86 (>= $QEMU_MIN_MAJOR, bookworm-backports)" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive

# Writes a deb822 entry for <codename>-backports derived from the first entry of the
# machine's sources that carries the plain <codename> suite of Debian's main archive.
add_backports() {
  local codename
  codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
  [ -n "$codename" ] || { echo "sidecore: cannot tell the Debian codename" >&2; return 1; }
  grep -rqs "${codename}-backports" /etc/apt/sources.list /etc/apt/sources.list.d/ && return 0
  local uris="" keyring=""
  # deb822 files first (Debian 12's default), then one-line sources.list entries.
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    read -r uris keyring < <(awk -v want="$codename" '
      function flush() { if (suites_ok && uris != "" && !found) { print uris, (key == "" ? "-" : key); found = 1 } uris = ""; key = ""; suites_ok = 0 }
      /^[[:space:]]*$/ { flush(); next }
      /^URIs:/ { uris = $2 }
      /^Signed-By:/ { key = $2 }
      /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == want) suites_ok = 1 }
      END { flush() }' "$f") || true
    [ -n "$uris" ] && break
  done
  if [ -z "$uris" ] && [ -f /etc/apt/sources.list ]; then
    uris="$(awk -v want="$codename" '$1 == "deb" && $3 == want { print $2; exit }' /etc/apt/sources.list)"
    keyring="-"
  fi
  [ -n "$uris" ] || { echo "sidecore: no Debian '$codename' source to derive backports from" >&2; return 1; }
  echo "sidecore: adding ${codename}-backports (from the existing Debian source) in $BACKPORTS_LIST" >&2
  {
    echo "Types: deb"
    echo "URIs: $uris"
    echo "Suites: ${codename}-backports"
    echo "Components: main"
    [ "$keyring" != "-" ] && echo "Signed-By: $keyring"
  } | "${SUDO[@]}" tee "$BACKPORTS_LIST" >/dev/null
}

# One installer at a time (tests may start several tools/sidecore at once); re-check
# under the lock, since the one before may have installed everything.
exec 9>/tmp/sidecore-deps.lock
flock 9
missing_now=()
for p in "${missing[@]}"; do installed "$p" || missing_now+=("$p"); done
missing=("${missing_now[@]}")
qemu_is_new_enough && need_qemu=0
[ ${#missing[@]} -eq 0 ] && [ $need_qemu -eq 0 ] && exit 0

if [ $need_qemu -eq 1 ]; then add_backports; fi
what="${missing[*]}"
[ $need_qemu -eq 1 ] && what="$what qemu-system-x86 (${QEMU_MIN_MAJOR}+, backports)"
echo "sidecore: installing missing Debian packages: $what" >&2
"${SUDO[@]}" apt-get update -qq
if [ ${#missing[@]} -gt 0 ]; then
  "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
if [ $need_qemu -eq 1 ]; then
  codename="$(. /etc/os-release && echo "$VERSION_CODENAME")"
  "${SUDO[@]}" apt-get install -y -qq --no-install-recommends -t "${codename}-backports" qemu-system-x86 >&2
  qemu_is_new_enough || { echo "sidecore: QEMU $QEMU_MIN_MAJOR or later is needed; got: $(qemu-system-x86_64 --version | head -1)" >&2; exit 1; }
fi
