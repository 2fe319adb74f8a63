#!/usr/bin/env bash
# Data-parallel SA-UNet training on this machine's CPUs: 1 rank x T threads against R ranks x T/R threads
# (`vesselgan launch`), the same recipe and global batch. Prints one JSON line per configuration: images/s
# over the timed epochs (the first epoch is warm-up) and the share of rank 0's epoch time spent in
# collectives (gradient all-reduce, synchronised BatchNorm, waiting for the other rank).
# Usage: bench/bench_dist.sh [--data DIR] [--size PX] [--batch B] [--epochs E] [--ranks R] [--threads T]
#   default: 8 phantoms of 128 px (made once in the scratch folder), batch 4, 3 epochs, 2 ranks, 2 threads.
set -euo pipefail
cd "$(dirname "$0")/.."
B="${VESSELGAN:-build/release/vesselgan}"
data="" size=128 batch=4 epochs=3 ranks=2 threads=2
while (($#)); do
  case "$1" in
    --data) data="$2"; shift 2 ;; --size) size="$2"; shift 2 ;; --batch) batch="$2"; shift 2 ;;
    --epochs) epochs="$2"; shift 2 ;; --ranks) ranks="$2"; shift 2 ;; --threads) threads="$2"; shift 2 ;;
    *) echo "bench_dist: unknown argument $1" >&2; exit 1 ;;
  esac
done
work="$(mktemp -d "${TMPDIR:-/tmp}/bench_dist.XXXXXX")"
trap 'rm -rf "$work"' EXIT
if [ -z "$data" ]; then
  data="$work/phantoms"
  "$B" phantom --n 8 --n-test 1 --size "$size" --out "$data" >/dev/null 2>&1
fi
args=(train --data "$data" --preset quick --epochs "$epochs" --batch "$batch" --val-count 0 --resize "$size"
      --device cpu)

# One JSON line from a run folder's stats.jsonl: epochs after the first.
report() {  # name ranks threads run
  python3 - "$@" <<'PY'
import json, sys
name, ranks, threads, run = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rows = [json.loads(l) for l in open(run + "/stats.jsonl")][1:]
secs = sum(r["seconds"] for r in rows)
imgs = sum(r["images_per_s"] * r["seconds"] for r in rows)
comm = sum(r.get("comm_seconds", 0.0) for r in rows)
print(json.dumps({"bench": "dist_train", "config": name, "ranks": ranks, "threads_per_rank": threads,
                  "images_per_s": round(imgs / secs, 3), "comm_share": round(comm / secs, 4),
                  "timed_epochs": len(rows), "batch": int(sys.argv[5]), "size": int(sys.argv[6])}))
PY
}

"$B" "${args[@]}" --threads "$threads" --out "$work/one" >/dev/null 2>"$work/one.err" || { cat "$work/one.err" >&2; exit 3; }
report "1x$threads" 1 "$threads" "$work/one" "$batch" "$size"
per=$((threads / ranks)); ((per >= 1)) || per=1
"$B" launch --nproc "$ranks" -- vesselgan "${args[@]}" --threads "$per" --out "$work/many" >/dev/null 2>"$work/many.err" ||
  { cat "$work/many.err" >&2; exit 3; }
report "${ranks}x$per" "$ranks" "$per" "$work/many" "$batch" "$size"
