#!/usr/bin/env bash
# One trained network of docs/segmenter.md (levers 15, 18, 19) read as the levers read a from-scratch run: its
# epochs (scripts/levers/read_epochs.py on stats.jsonl), then its best epoch with statistics ranges fitted
# (`calibrate --statistics-range 1`) under the 25 acquisition shifts on the validation photographs.
#   scripts/levers/read_network.sh RUN OUT
# RUN: a training run folder; OUT: a new folder for the ranged checkpoint and the shifts report.
# Environment: VG (vesselgan binary, default build/release/vesselgan), DRIVE (default ../shared/data/DRIVE),
# VAL (a folder layout holding photographs 22 and 28 of DRIVE's training split, default runs/val-drive).
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 RUN OUT" >&2; exit 2; }
run=$(realpath "$1"); out=$2
here=$(dirname "$(realpath "$0")")
VG=$(realpath "${VG:-build/release/vesselgan}"); DRIVE=$(realpath "${DRIVE:-../shared/data/DRIVE}")
VAL=$(realpath "${VAL:-runs/val-drive}")
[ -f "$run/checkpoints/best.pt" ] || { echo "$run/checkpoints/best.pt is missing: RUN must be a training run folder" >&2; exit 2; }
[ -e "$out" ] && { echo "$out exists: choose a new folder (nothing was overwritten)" >&2; exit 2; }
python3 "$here/read_epochs.py" "$run/stats.jsonl"
mkdir -p "$out" && cd "$out"
"$VG" calibrate --model "$run/checkpoints/best.pt" --statistics-range 1 --data "$DRIVE" --threads 2 --out best-ranged.pt \
  > calibrate.log
"$VG" evaluate --shifts --model best-ranged.pt --data "$VAL" --layout folder --split all --threads 2 --out shifts-val \
  > shifts-val.log
# The report read by candidate_rule.py's read(), as the candidates' are, without the rule.
python3 - "$here" shifts-val <<'PYEOF'
import sys
sys.path.insert(0, sys.argv[1])
from candidate_rule import read
clean, mean, _, worst = read(sys.argv[2])
print(f"clean {clean['f1']:.4f} / {clean['auc_roc']:.4f}; worst drop {worst['f1_drop']:.4f} "
      f"({worst['kind']} {worst['level']:g}); mean drop {mean:.4f}")
PYEOF
