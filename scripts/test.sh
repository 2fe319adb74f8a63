#!/usr/bin/env bash
# The whole test suite: installs what is missing (Debian packages), builds, runs every test with ctest.
# DRIVE-backed tests run when VESSELGAN_DRIVE points at the DRIVE data set (CI sets it) and are skipped
# with a message otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
# One test at a time: each uses 2 compute threads (tests/test_main.cpp), and OpenMP / OpenBLAS threads that
# share cores with another test's spin-wait instead of working (a 3 s GAN test took 36 s that way).
ctest --test-dir build/release --output-on-failure -j1 "$@"
