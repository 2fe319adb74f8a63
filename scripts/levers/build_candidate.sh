#!/usr/bin/env bash
# A candidate ensemble of docs/segmenter.md (levers 11-17) as one file, read on the validation photographs.
#   scripts/levers/build_candidate.sh OUT WEIGHTS NETWORK...
# OUT: a new folder; WEIGHTS: comma-separated, six for the shipped six's members and one per NETWORK (a run's
# best.pt, say); NETWORKs are exported beside the six's members. Then, as the CLAHE card's recipe: temperature
# (`calibrate`), statistics ranges and count ratio (`calibrate --statistics-range 1 --count-ratio`), and on the
# validation photographs: `evaluate --shifts` at the fixed threshold and at expected count (each report's "clean"
# entry is the candidate's clean `evaluate`, so that is not run again).
# Environment: VG (vesselgan binary, default build/release/vesselgan), DRIVE (default ../shared/data/DRIVE),
# VAL (a folder layout holding photographs 22 and 28 of DRIVE's training split, default runs/val-drive),
# EXPORT_FLAGS (more flags for the ensemble's `export`, e.g. "--compressed-weights 0,0,0,0,0,0,0,1"; default none).
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: $0 OUT WEIGHTS NETWORK..." >&2; exit 2; }
out=$1; weights=$2; shift 2
VG=$(realpath "${VG:-build/release/vesselgan}"); DRIVE=$(realpath "${DRIVE:-../shared/data/DRIVE}")
VAL=$(realpath "${VAL:-runs/val-drive}"); SIX=$(realpath models/sa-unet-drive.pt)
[ -e "$out" ] && { echo "$out exists: choose a new folder (nothing was overwritten)" >&2; exit 2; }
nets=(); for n in "$@"; do nets+=("$(realpath "$n")"); done
mkdir -p "$out" && cd "$out"
args=()
for k in 1 2 3 4 5 6; do "$VG" export --model "$SIX" --member $k --out m$k.pt >/dev/null; args+=(--model m$k.pt); done
i=7
for n in "${nets[@]}"; do "$VG" export --model "$n" --data "$DRIVE" --out m$i.pt >/dev/null; args+=(--model m$i.pt); i=$((i + 1)); done
read -r -a extra <<<"${EXPORT_FLAGS:-}"
"$VG" export "${args[@]}" --weights "$weights" "${extra[@]}" --out ens.pt
"$VG" calibrate --model ens.pt --data "$DRIVE" --out ens-t.pt
"$VG" calibrate --model ens-t.pt --statistics-range 1 --count-ratio --data "$DRIVE" --out final.pt
"$VG" evaluate --shifts --model final.pt --data "$VAL" --layout folder --split all --threads 2 --out shifts-val
"$VG" evaluate --shifts --operating-point expected-count --model final.pt --data "$VAL" --layout folder --split all \
  --threads 2 --out shifts-val-ec
