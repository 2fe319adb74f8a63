#!/usr/bin/env bash
# Runs NVIDIA's stylegan2-ada-pytorch (a checkout of yours, outside this repository; it is not modified) on the
# CPU with vesselgan's CPU recipe on a folder of crops (make_vessel_crops.py). What is patched at run time and
# the recipe: scripts/official/train_official_cpu.py. Needs Python 3 with torch (Debian: python3-torch
# python3-click python3-requests python3-psutil python3-pil).
#
# Usage: scripts/official/run_official.sh OFFICIAL_DIR CROPS_DIR OUT_DIR [KIMG] [SEED] [-- RECIPE FLAGS]
# (recipe flags go to train_official_cpu.py, e.g. `-- --aug ada --gamma 0.5` for the label32 recipe)
# Environment: THREADS (2), TICK_KIMG (1, as the patch64 preset; ticks end at its multiples, as ours), PYTHON
# (python3).
# The run lands in OUT_DIR/<5-digit number>-<description>/ (stats.jsonl, log.txt, network-snapshot-*.pkl).
set -euo pipefail
if [ $# -lt 3 ]; then
  sed -n 2,11p "$0" >&2
  exit 2
fi
here="$(cd "$(dirname "$0")" && pwd)"
official="$1" crops="$2" outdir="$3" kimg="${4:-60}" seed="${5:-0}"
shift $(($# < 5 ? $# : 5))
[ "${1:-}" = "--" ] && shift
"${PYTHON:-python3}" "$here/train_official_cpu.py" --official "$official" --data "$crops" --outdir "$outdir" \
  --kimg "$kimg" --seed "$seed" --threads "${THREADS:-2}" --tick-kimg "${TICK_KIMG:-1}" "$@"
