#!/usr/bin/env bash
# Scores an official stylegan2-ada-pytorch run with vesselgan's `gan track` figures (Frechet distance with its
# floor, diversity, vessel fraction, orientation), as our own runs are scored: each network-snapshot-NNNNNN.pkl
# is converted (official_state.py to-file, then `gan convert`) into TRACK/snapshots/snapshot-NNNNNN.000.pt, and
# TRACK takes its data recipe (run.json, config.json) from one of our runs, so the real side is drawn as there.
#
# Usage: scripts/official/track_official.sh OFFICIAL_DIR OFFICIAL_RUN OUR_RUN TRACK_DIR [MODE]
#   MODE: the data mode of the converted networks (default label-patch: one-channel vessel maps, the label32
#   recipe). Snapshots already converted are kept; `gan track` scores the ones not yet in its table.
# Environment: PYTHON (python3), VESSELGAN (build/release/vesselgan), THREADS (1).
set -euo pipefail
if [ $# -lt 4 ]; then
  sed -n 2,10p "$0" >&2
  exit 2
fi
official="$1" run="$2" ours="$3" track="$4" mode="${5:-label-patch}"
here="$(cd "$(dirname "$0")" && pwd)"
vesselgan="${VESSELGAN:-$here/../../build/release/vesselgan}"
mkdir -p "$track/snapshots"
cp "$ours/run.json" "$ours/config.json" "$track/"
for pkl in "$run"/network-snapshot-*.pkl; do
  [ -e "$pkl" ] || continue
  kimg="$(basename "$pkl" .pkl)"
  kimg="${kimg#network-snapshot-}"
  out="$track/snapshots/snapshot-$kimg.000.pt"
  [ -e "$out" ] && continue
  tmp="$(mktemp -d)"
  "${PYTHON:-python3}" "$here/official_state.py" --official "$official" to-file --pkl "$pkl" --out "$tmp/nets.safetensors"
  "$vesselgan" gan convert --from "$tmp/nets.safetensors" --to "$tmp/nets.pt" --mode "$mode"
  mv "$tmp/nets.pt" "$out"
  rm -rf "$tmp"
done
"$vesselgan" gan track --run "$track" --threads "${THREADS:-1}"
