#!/usr/bin/env bash
# CPU throughput of our SA-UNet (bench_seg) against the Python peer (an idiomatic PyTorch SA-UNet) in one run:
# 592x592, batch 1 and 2, 2 threads, a few steps. Prints our JSON lines, the peer's, and a final JSON line with
# the ratios ours/peer of training images/s.
#
# Usage: scripts/bench_peer.sh [PEER_SCRIPT]      (default: ../shared/bench/sa_unet_reference.py from the repo)
# Environment: BENCH_SEG (our binary; default build/release/bench/bench_seg, then build/*/bench/bench_seg),
#              THREADS (2), SIZE (592), STEPS (3).
# The peer runs twice: with glibc's default malloc (as it runs out of the box) and with the same malloc setting
# bench_seg uses (large blocks from the heap, freed memory kept mapped; see bench/bench_seg.cpp), which is the
# like-for-like comparison. The machine may be shared: numbers are noisy, rerun before trusting a small gap.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
peer="${1:-$repo/../shared/bench/sa_unet_reference.py}"
threads="${THREADS:-2}"
size="${SIZE:-592}"
steps="${STEPS:-3}"

bench="${BENCH_SEG:-}"
if [ -z "$bench" ]; then
  for candidate in "$repo/build/release/bench/bench_seg" "$repo"/build/*/bench/bench_seg; do
    if [ -x "$candidate" ]; then bench="$candidate"; break; fi
  done
fi
if [ -z "$bench" ] || [ ! -x "$bench" ]; then
  echo "bench_peer: bench_seg not found; build it: cmake -S . -B build/release -G Ninja -DVG_BUILD_BENCH=ON" \
       "&& ninja -C build/release bench_seg (or set BENCH_SEG)" >&2
  exit 1
fi
if [ ! -f "$peer" ]; then
  echo "bench_peer: peer script $peer not found (pass its path as the first argument)" >&2
  exit 1
fi
if ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
  echo "bench_peer: /usr/bin/python3 has no torch; install Debian's: apt-get install -y python3-torch" >&2
  exit 1
fi

ours="$("$bench" --device cpu --size "$size" --batch 1,2 --steps "$steps" --warmup 1 --threads "$threads")"
echo "$ours"
peer_default="$(/usr/bin/python3 "$peer" --device cpu --size "$size" --batch 1 2 --steps "$steps" --threads "$threads" |
                /usr/bin/python3 -c 'import json,sys
for l in sys.stdin:
    d = json.loads(l); d["malloc"] = "default"; print(json.dumps(d))')"
echo "$peer_default"
peer_keep="$(MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=2147483647 \
             /usr/bin/python3 "$peer" --device cpu --size "$size" --batch 1 2 --steps "$steps" --threads "$threads" |
             /usr/bin/python3 -c 'import json,sys
for l in sys.stdin:
    d = json.loads(l); d["malloc"] = "keep"; print(json.dumps(d))')"
echo "$peer_keep"

OURS="$ours" PEER_DEFAULT="$peer_default" PEER_KEEP="$peer_keep" /usr/bin/python3 - <<'EOF'
import json, os
def lines(name):
    return [json.loads(l) for l in os.environ[name].splitlines() if l.strip()]
ours = {d["batch"]: d for d in lines("OURS") if d["mode"] == "train"}
infer = {d["batch"]: d for d in lines("OURS") if d["mode"] == "infer"}
peers = {"peer_default_malloc": {d["batch"]: d for d in lines("PEER_DEFAULT")},
         "peer_same_malloc": {d["batch"]: d for d in lines("PEER_KEEP")}}
summary = {"summary": "ours/peer training images/s", "size": next(iter(ours.values()))["size"],
           "device": next(iter(ours.values()))["device"], "by_batch": {}}
for b, d in sorted(ours.items()):
    row = {"ours_train_images_per_s": d["images_per_s"],
           "ours_infer_images_per_s": infer[b]["images_per_s"] if b in infer else None}
    for name, p in peers.items():
        if b in p:
            # The peer rounds images/s to 0.1; recompute it from its ms per step.
            ips = p[b]["batch"] * 1000.0 / p[b]["ms_per_step"]
            row[name + "_images_per_s"] = round(ips, 3)
            row["ratio_vs_" + name] = round(d["images_per_s"] / ips, 2)
    summary["by_batch"][str(b)] = row
print(json.dumps(summary))
EOF
