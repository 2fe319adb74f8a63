#!/usr/bin/env bash
# vesselgan's StyleGAN2 and NVIDIA's stylegan2-ada-pytorch (two seeds) trained on the same fixed crops with the
# same CPU recipe, then printed side by side tick by tick at equal kimg (compare_runs.py: JSON lines, the last
# one a summary of how many ticks ours lies within the two official seeds). docs/official.md has the details.
#
# Usage: scripts/official/bench_official.sh OFFICIAL_DIR DRIVE_DIR WORK_DIR [KIMG]
# Environment: VESSELGAN (the binary; default build/release/vesselgan), THREADS (2), PYTHON (python3),
#              SEEDS ("0 1": the official seeds), N_CROPS (20000).
# Runs one after the other (each wants the cores to itself); 60 kimg takes hours per run on 2 cores. Already
# finished runs in WORK_DIR are kept: delete WORK_DIR/ours or WORK_DIR/official-<seed> to redo one.
set -euo pipefail
if [ $# -lt 3 ]; then
  sed -n 2,10p "$0" >&2
  exit 2
fi
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
official="$1" drive="$2" work="$3" kimg="${4:-60}"
py="${PYTHON:-python3}"
vesselgan="${VESSELGAN:-$repo/build/release/vesselgan}"
threads="${THREADS:-2}"
mkdir -p "$work"

if [ ! -d "$work/crops/images" ]; then
  "$py" "$here/make_vessel_crops.py" --drive "$drive" --out "$work/crops" --n "${N_CROPS:-20000}" >&2
fi
if [ ! -f "$work/ours/checkpoints/last.pt" ]; then
  "$vesselgan" gan train --data "$work/crops" --layout folder --split all --mode full --preset patch64 \
    --resolution 64 --ada off --kimg "$kimg" --seed 0 --out "$work/ours" --threads "$threads" >&2
fi
args=()
for seed in ${SEEDS:-0 1}; do
  if ! ls "$work/official-$seed"/*/stats.jsonl >/dev/null 2>&1; then
    THREADS="$threads" PYTHON="$py" "$here/run_official.sh" "$official" "$work/crops" "$work/official-$seed" \
      "$kimg" "$seed" >&2
  fi
  args+=(--official "$(ls -d "$work/official-$seed"/*/ | tail -1)")
done
"$py" "$here/compare_runs.py" --ours "$work/ours" "${args[@]}"
