#!/usr/bin/env bash
# The main job on the embedded default: installs what is missing, builds the vesselgan program, then runs the
# synthetic-data pipeline's quick preset on built-in phantom data (SA-UNet, a painter of procedural vessel
# maps that draws each synthetic image with its label, the guard on the synthetic labels, curricula,
# ensembles, report; a few minutes on 2 cores). Rerun to resume. Arguments go to
# `vesselgan pipeline`, e.g. --out runs/other or --preset drive-cpu --data ../shared/data/DRIVE.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh vesselgan
args=("$@")
[[ " $* " == *" --out "* ]] || args+=(--out runs/quick)
exec build/release/vesselgan pipeline --preset quick "${args[@]}"
