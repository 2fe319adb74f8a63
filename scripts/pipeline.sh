#!/usr/bin/env bash
# The main job on the embedded default: installs what is missing, builds the vesselgan program, then runs the
# synthetic-data pipeline's quick preset on built-in phantom data (SA-UNet, a painter of procedural vessel
# maps that draws each synthetic image with its label, the guard on the synthetic labels, curricula,
# ensembles, report; docs/pipeline.md "Measured wall time" has what it costs). Rerun to resume. Arguments go to
# `vesselgan pipeline`, e.g. --out runs/other or --preset drive-cpu --data ../shared/data/DRIVE.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh vesselgan
# LibTorch's OpenMP threads spin while they wait for each other. On a 2-core machine that is also busy with
# something else, that spinning cost 6x the CPU and 3.8x the wall time of a short training (docs/pipeline.md);
# waiting passively cost neither.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
args=("$@")
[[ " $* " == *" --out "* ]] || args+=(--out runs/quick)
exec build/release/vesselgan pipeline --preset quick "${args[@]}"
