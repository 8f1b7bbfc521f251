#!/usr/bin/env bash
# Installs every Debian package mixfarm needs to build, test and run.
# Idempotent: when everything is present it installs nothing and says so.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake pkg-config clang clang-format
  # libraries (see README "Why each dependency")
  libzmq3-dev libprotobuf-c-dev protobuf-c-compiler
  libsndfile1-dev libfftw3-dev libebur128-dev
  libopus-dev libopusenc-dev libmp3lame-dev libflac-dev libsoxr-dev
  libjansson-dev libsqlite3-dev libmicrohttpd-dev libcmocka-dev libssl-dev
  libxxhash-dev libunistring-dev
  # tools for the demo and the independent references in tests
  sox ffmpeg espeak-ng libclang-rt-14-dev bc time
  # the ops tests: headless Chromium renders the dashboard; ip netns joins
  # the several-host farm test's namespaces; a disk test clones files on a
  # small XFS it makes, another renders onto an exFAT drive it makes
  chromium iproute2 xfsprogs exfatprogs exfat-fuse
)

# --aarch64: also what tests/cross/dsp_aarch64.sh needs to build dsp/ for
# AArch64 (NEON) and run its tests under qemu-user.
cross=()
if [ "${1:-}" = "--aarch64" ]; then
  packages+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user)
  cross=(libcmocka-dev:arm64 libfftw3-dev:arm64)
  packages+=("${cross[@]}")
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
if [ ${#cross[@]} -gt 0 ] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
  "${sudo_cmd[@]}" dpkg --add-architecture arm64
fi
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
