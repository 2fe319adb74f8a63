#!/usr/bin/env bash
# Installs the Debian packages vesselgan needs to build, test and run on CPU. Idempotent: packages already
# present are skipped, so a second run costs one dpkg query.
#   scripts/setup.sh         what scripts/build.sh and scripts/test.sh need
#   scripts/setup.sh fuzz    that plus clang, lld and libFuzzer's runtime (scripts/fuzz.sh)
set -euo pipefail
pkgs=(
  build-essential cmake ninja-build ccache pkg-config
  libtorch-dev            # LibTorch 1.13 (CPU)
  libgloo-dev             # Gloo's headers, which LibTorch's distributed engine (c10d) includes
  libopenblas0-pthread    # ~3x faster CPU training than the reference BLAS libtorch pulls in by default
  libpng-dev libjpeg-dev libtiff-dev libgif-dev
  libcli11-dev nlohmann-json3-dev libgtest-dev
)
if [ "${1:-}" = fuzz ]; then
  # clang 14 (Debian 12's clang); libclang_rt.fuzzer/asan/ubsan are in libclang-rt-14-dev, which clang only
  # recommends; lld links the fuzzers (fuzz/CMakeLists.txt).
  pkgs+=(clang libclang-rt-14-dev lld)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
