#!/usr/bin/env bash
# One call on the lent GPU machine (Ubuntu 24.04, the pip torch's LibTorch with CUDA, 16 cores): build
# vesselgan against that LibTorch, run the CUDA tests and the CPU tests, train SA-UNets on DRIVE on the GPU
# (several runs at once, all holding out the same validation images), and benchmark SA-UNet training against
# the Python peer. Every stage has a deadline inside BUDGET_S, so what finished comes back.
#
# Needs the git-ignored folder .gpu/ (carry it), prepared on the development machine:
#   .gpu/root/      Debian .debs the machine lacks, extracted with dpkg -x (giflib, libtiff and its libraries,
#                   CLI11, nlohmann-json, googletest): `apt-get download ...; dpkg -x`
#   .gpu/DRIVE/     DRIVE's training folder (copied from ../shared/data/DRIVE; never committed)
#   .gpu/init/last.pt   a DRIVE SA-UNet checkpoint to warm-start from (the shipped model's run)
#   .gpu/sa_unet_reference.py   the peer (../shared/bench/)
# Writes under $OUT: summary.txt (machine, stage times, outcomes), build.log, tests.log, bench.jsonl,
# runs-best.tar (each run's best.pt, stats.jsonl, config.json, log) and runs-last-N.tar (last.pt files).
#
# Usage (device tool): BUDGET_S=540 bash scripts/gpu_run.sh      (timeout_s a little above BUDGET_S)
#   GPU_PLAN=clahe BUDGET_S=540 bash scripts/gpu_run.sh   trains four CLAHE networks instead (no .gpu/init)
#   GPU_PLAN=clahe-restarts ...   warm restarts, seeds 1-12, of .gpu/init/clahe-last.pt (a CLAHE network's last epoch)
#   GPU_PLAN=clahe-jitter ...     lever 19 on more seeds: the CLAHE recipe from scratch with and without
#                                 augment.enhance_jitter, seeds 44-47 each (no .gpu/init)
# How to prepare .gpu/, and what the first call found: docs/gpu.md.
set -uo pipefail
T0=$(date +%s)
budget=${BUDGET_S:-540}
out=${OUT:?OUT must name the folder for results}
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo" || exit 1
G=$repo/.gpu
# The plan is checked before anything runs, so a misspelt GPU_PLAN costs no device time.
plan=${GPU_PLAN:-restarts}
case "$plan" in
  restarts | clahe | clahe-jitter) ;;
  clahe-restarts)
    [ -f "$G/init/clahe-last.pt" ] || { echo "GPU_PLAN=clahe-restarts needs .gpu/init/clahe-last.pt (a CLAHE network's last epoch); nothing was run" >&2; exit 2; } ;;
  *) echo "GPU_PLAN='$plan' is not a plan (valid: restarts, clahe, clahe-restarts, clahe-jitter); nothing was run" >&2; exit 2 ;;
esac
el() { echo $(($(date +%s) - T0)); }
left() { echo $((T0 + budget - $(date +%s))); }
log() { echo "[$(el)s] $*" | tee -a "$out/summary.txt"; }

export LD_LIBRARY_PATH=$G/root/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
[ -d /usr/local/cuda/bin ] && export PATH=/usr/local/cuda/bin:$PATH
{
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv
  python3 -c 'import torch;print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name())'
  g++ --version | head -1; cmake --version | head -1; echo "ninja $(ninja --version)"; echo "cores $(nproc)"
} >>"$out/summary.txt" 2>&1

# 1. Build the program first, so training can start while the tests and benchmarks build.
TP=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
if ! cmake -S . -B build/gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$TP;$G/root/usr" \
     -DVG_USE_CCACHE=OFF >"$out/build.log" 2>&1; then
  log "configure FAILED"; tail -40 "$out/build.log"; exit 1
fi
if ! ninja -C build/gpu -k 0 -j 16 vesselgan >>"$out/build.log" 2>&1; then
  log "build of vesselgan FAILED"; grep -E -A6 "error|Error" "$out/build.log" | head -80; exit 1
fi
log "vesselgan built"

# 2. Training: 4 workers on the one GPU, each running its queue until the training deadline. All runs share
#    split seed 42 (validation images 22 and 28, as the shipped model's runs), so they can be ensembled.
train_deadline=$((T0 + budget - 100))
mkdir -p runs/gpu
cat >runs/gpu/restart.json <<EOF
{"init_from": "$G/init/last.pt", "schedule": [{"epochs": 150, "lr": 1e-3}, {"epochs": 100, "lr": 1e-4}]}
EOF
cat >runs/gpu/scratch.json <<EOF
{"schedule": [{"epochs": 200, "lr": 1e-3}, {"epochs": 100, "lr": 1e-4}]}
EOF
worker() {  # args: "name:config:seed" ...
  local job name cfg seed
  for job in "$@"; do
    IFS=: read -r name cfg seed <<<"$job"
    local t=$((train_deadline - $(date +%s)))
    [ "$t" -lt 30 ] && break
    timeout "$t" build/gpu/vesselgan train --data "$G/DRIVE" --out "runs/gpu/$name" --preset drive \
      --config "runs/gpu/$cfg.json" --seed "$seed" --split-seed 42 --device cuda --threads 2 \
      >"runs/gpu/$name.log" 2>&1
    echo "$name exit $? after $(el)s" >>runs/gpu/jobs.txt
  done
}
# GPU_PLAN=clahe: networks that see the green channel after CLAHE (docs/segmenter.md, lever 10), one chain
# per seed: member 1's recipe from scratch, then warm restarts from each finished run's last epoch, as far as
# the deadline allows. A run the deadline cuts keeps its checkpoints and ends its chain.
cat >runs/gpu/clahe-scratch.json <<EOF
{"input": {"enhance": "green-clahe"}, "schedule": [{"epochs": 200, "lr": 1e-3}, {"epochs": 100, "lr": 1e-4}]}
EOF
clahe_chain() {  # arg: seed
  local seed=$1 step name
  worker "clahe-s$seed-r0:clahe-scratch:$seed"
  for step in 1 2; do
    grep -q "^clahe-s$seed-r$((step - 1)) exit 0 " runs/gpu/jobs.txt 2>/dev/null || return
    name=clahe-s$seed-r$step
    cat >"runs/gpu/$name.json" <<EOF
{"init_from": "runs/gpu/clahe-s$seed-r$((step - 1))/checkpoints/last.pt", "input": {"enhance": "green-clahe"},
 "schedule": [{"epochs": 150, "lr": 1e-3}, {"epochs": 100, "lr": 1e-4}]}
EOF
    worker "$name:$name:$seed"
  done
}
# GPU_PLAN=clahe-restarts: sibling warm restarts of one CLAHE network's last epoch with seeds 1-12, as the six were
# built from member 1's run (docs/segmenter.md, levers 16-17), three a worker while the deadline allows.
cat >runs/gpu/clahe-restart.json <<EOF
{"init_from": "$G/init/clahe-last.pt", "input": {"enhance": "green-clahe"},
 "schedule": [{"epochs": 150, "lr": 1e-3}, {"epochs": 100, "lr": 1e-4}], "swa_start": 151}
EOF
case "$plan" in
  # lever 19 (docs/segmenter.md) seed-paired, its configs as committed: each worker trains one seed with the jitter,
  # then the same seed without it, so the pairs that finish compare at equal seeds.
  clahe-jitter)
    cp configs/green-clahe.json runs/gpu/clahe-clean.json
    cp configs/green-clahe-jitter.json runs/gpu/clahe-jitter.json
    for seed in 44 45 46 47; do worker "jitter-s$seed:clahe-jitter:$seed" "clean-s$seed:clahe-clean:$seed" & done
    ;;
  clahe)
    for seed in 1 2 3 4; do clahe_chain "$seed" & done
    ;;
  clahe-restarts)
    for w in 0 1 2 3; do
      worker "clahe-rs$((w + 1)):clahe-restart:$((w + 1))" "clahe-rs$((w + 5)):clahe-restart:$((w + 5))" \
        "clahe-rs$((w + 9)):clahe-restart:$((w + 9))" &
    done
    ;;
  restarts)
    worker restart-s1:restart:1 scratch-s9:scratch:9 &
    worker restart-s2:restart:2 restart-s3:restart:3 &
    worker scratch-s7:scratch:7 &
    worker scratch-s8:scratch:8 &
    ;;
esac
log "training ($plan) started (deadline at $((train_deadline - T0))s)"

# 3. Tests: the CUDA tests (GAN ops and networks; SA-UNet training with bf16 + channels-last, resume, and
# CPU-vs-CUDA inference), then the CPU suite (no DRIVE here: those tests skip), built while training runs.
ninja -C build/gpu -k 0 -j 8 all >>"$out/build.log" 2>&1 && log "all targets built" || log "build of tests/bench FAILED"
{
  echo "== CUDA tests"
  timeout 120 build/gpu/tests/test_gan --gtest_filter='*Cuda*' 2>&1 | tail -15
  timeout 120 build/gpu/tests/test_seg --gtest_filter='Cuda*' 2>&1 | tail -15
  echo "== CPU suite (ctest -j 4, smoke and pipeline excluded)"
  t=$((train_deadline - $(date +%s) - 10))
  [ "$t" -gt 20 ] && (cd build/gpu && OMP_NUM_THREADS=2 timeout "$t" ctest -j 4 -E 'PipelineSmoke|Smoke' \
    --output-on-failure 2>&1)
  # A backtrace of the first failed test (cuda-gdb also debugs programs with no GPU code; there is no gdb).
  name=$(head -1 build/gpu/Testing/Temporary/LastTestsFailed.log 2>/dev/null | cut -d: -f2)
  if [ -n "$name" ] && command -v cuda-gdb >/dev/null; then
    for b in build/gpu/tests/test_*; do
      "$b" --gtest_list_tests --gtest_filter="$name" 2>/dev/null | grep -q '^  ' && bin=$b
    done
    echo "== $name under cuda-gdb (${bin:-no binary found})"
    [ -n "${bin:-}" ] && timeout 90 cuda-gdb -batch -ex run -ex bt --args "$bin" --gtest_filter="$name" 2>&1 | tail -40
  fi
} >"$out/tests.log" 2>&1
log "tests done: $(grep -E 'PASSED|FAILED|tests passed' "$out/tests.log" | tr '\n' ' ')"
wait
log "training done: $(tr '\n' ';' <runs/gpu/jobs.txt 2>/dev/null)"

# 4. Benchmarks on the idle GPU: ours and the peer, same sizes, same run.
{
  timeout 60 build/gpu/bench/bench_seg --device cuda --size 592 --batch 2,4,16 --steps 20 --warmup 5 --mode train
  timeout 60 python3 "$G/sa_unet_reference.py" --size 592 --batch 2 4 16 --steps 20
  t=$(($(left) - 25))
  [ "$t" -gt 15 ] && timeout "$t" build/gpu/bench/bench_gan --device cuda --preset toy64,full256 --ticks 2 --tick-kimg 1
} >"$out/bench.jsonl" 2>>"$out/summary.txt"
log "bench done"

# 4b. Data-parallel SA-UNet over NCCL (docs/distributed.md), one rank per GPU: needs 2+ GPUs (NCCL refuses two
#     ranks on one GPU), so on the one-GPU machine it is skipped and says so.
ngpu=$(nvidia-smi -L 2>/dev/null | wc -l)
if [ "$ngpu" -ge 2 ] && [ "$(left)" -gt 90 ]; then
  timeout $(($(left) - 60)) build/gpu/vesselgan launch --nproc "$ngpu" -- vesselgan train --data "$G/DRIVE" \
    --out runs/gpu/dist-nccl --epochs 2 --batch $((2 * ngpu)) --device cuda >"$out/dist.log" 2>&1
  log "NCCL data-parallel on $ngpu GPUs: exit $?; $(tail -1 runs/gpu/dist-nccl/stats.jsonl 2>/dev/null)"
else
  log "NCCL data-parallel skipped: $ngpu GPU(s), $(left)s left"
fi

# 5. Results back: best.pt + stats + config + log of each run in one tar, last.pt two runs per tar.
(cd runs/gpu && tar cf "$out/runs-best.tar" jobs.txt ./*.log ./*.json */stats.jsonl */config.json */run.json \
  */checkpoints/best.pt 2>/dev/null)
i=0
for d in runs/gpu/*/; do
  [ -f "$d/checkpoints/last.pt" ] || continue
  tar rf "$out/runs-last-$((i / 2)).tar" -C runs/gpu "$(basename "$d")/checkpoints/last.pt"
  i=$((i + 1))
done
log "packed; $(ls "$out" | tr '\n' ' ')"
