#!/usr/bin/env bash
# The README's data-parallel commands on DRIVE, shortened, each killed or stopped part-way and resumed with
# another launcher and another number of ranks (issue 32). Prints one line per check and exits non-zero on
# the first failure.
#
#   scripts/dist_drive_check.sh ../shared/data/DRIVE /tmp/dist-check [build/release/vesselgan]
#
# Needs torchrun (Debian: python3-torch; its 1.13 needs --redirects and --tee, which the script passes). Minutes on 2 cores: SA-UNet at 128 px for 3 epochs, StyleGAN2
# label64 for 0.096 kimg.
set -euo pipefail
DATA=${1:?usage: $0 DRIVE_DIR OUT_DIR [VESSELGAN]}
OUT=${2:?usage: $0 DRIVE_DIR OUT_DIR [VESSELGAN]}
B=$(realpath "${3:-build/release/vesselgan}")
command -v torchrun >/dev/null || { echo "torchrun not found (Debian: apt-get install python3-torch)" >&2; exit 2; }
[ -e "$OUT" ] && { echo "$OUT exists; give a new folder" >&2; exit 2; }
mkdir -p "$OUT"
export OMP_WAIT_POLICY=passive
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
launch2() { "$B" launch --nproc 2 -- vesselgan "$@"; }
torchrun2() { torchrun --no_python --nproc_per_node 2 --redirects 2 --tee 2 --master_port "$(port)" "$B" "$@"; }
rows() { [ -f "$1" ] && wc -l < "$1" || echo 0; }

# Starts `$@` in the background, kills it (the whole process group) once $file has $n lines.
kill_after_rows() {
  local file=$1 n=$2; shift 2
  setsid "$@" > "$OUT/killed.log" 2>&1 &
  local pid=$!
  for _ in $(seq 600); do
    [ "$(rows "$file")" -ge "$n" ] && break
    kill -0 "$pid" 2>/dev/null || { echo "ended before it could be killed:" >&2; tail -5 "$OUT/killed.log" >&2; exit 1; }
    sleep 1
  done
  kill -TERM -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

check() {  # name, stats file, expected rows
  local got; got=$(rows "$2")
  if [ "$got" -eq "$3" ]; then echo "ok   $1 ($got stats rows)"; else echo "FAIL $1: $got stats rows, expected $3" >&2; exit 1; fi
}

SEG=(train --data "$DATA" --epochs 3 --resize 128 --pad-to 128 --batch 2 --threads 1)
kill_after_rows "$OUT/seg-a/stats.jsonl" 1 "$B" launch --nproc 2 -- vesselgan "${SEG[@]}" --out "$OUT/seg-a"
torchrun2 "${SEG[@]}" --out "$OUT/seg-a" --resume > "$OUT/seg-a.log" 2>&1
check "SA-UNet: vesselgan launch --nproc 2, killed after epoch 1, resumed by torchrun with 2 ranks" "$OUT/seg-a/stats.jsonl" 3

kill_after_rows "$OUT/seg-b/stats.jsonl" 1 torchrun --no_python --nproc_per_node 2 --redirects 2 --tee 2 --master_port "$(port)" "$B" "${SEG[@]}" --out "$OUT/seg-b"
"$B" "${SEG[@]}" --out "$OUT/seg-b" --resume > "$OUT/seg-b.log" 2>&1
check "SA-UNet: torchrun --nproc_per_node 2, killed after epoch 1, resumed by one process" "$OUT/seg-b/stats.jsonl" 3

GAN=(gan train --data "$DATA" --exclude 22,28 --preset label64 --threads 1)
TICK='{"gan": {"tick_kimg": 0.032, "snapshot_kimg": 0.032}}'
echo "$TICK" > "$OUT/tick.json"
launch2 "${GAN[@]}" --config "$OUT/tick.json" --kimg 0.032 --out "$OUT/gan" > "$OUT/gan-1.log" 2>&1
torchrun2 "${GAN[@]}" --kimg 0.064 --out "$OUT/gan" --resume > "$OUT/gan-2.log" 2>&1
"$B" "${GAN[@]}" --kimg 0.096 --out "$OUT/gan" --resume > "$OUT/gan-3.log" 2>&1
check "StyleGAN2: vesselgan launch --nproc 2, resumed by torchrun with 2 ranks, then by one process" "$OUT/gan/stats.jsonl" 3
