#!/usr/bin/env bash
# The main job on the embedded default: installs what is missing, builds the vesselgan program, then trains
# SA-UNet on a built-in phantom fundus data set, evaluates and segments (see `vesselgan demo --help`).
# Arguments go to `vesselgan demo`, e.g. --data ../shared/data/DRIVE --out runs/drive-demo.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh vesselgan
exec build/release/vesselgan demo "$@"
