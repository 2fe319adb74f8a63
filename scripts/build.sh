#!/usr/bin/env bash
# Configures and builds vesselgan (Release, Ninja, ccache) in build/release. Extra arguments are ninja
# targets (default: everything).
set -euo pipefail
cd "$(dirname "$0")/.."
export CCACHE_BASEDIR="$PWD"                                  # cache hits across clones in other folders
export CCACHE_SLOPPINESS="pch_defines,time_macros,include_file_mtime,include_file_ctime"
export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-5G}"
if [ ! -f build/release/build.ninja ]; then
  cmake --preset release >/dev/null
fi
ninja -C build/release -j"$(nproc)" "$@"
