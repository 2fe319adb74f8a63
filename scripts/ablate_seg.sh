#!/usr/bin/env bash
# Recipe ablations for SA-UNet on DRIVE, cheap enough for a 2-core CPU: every variant is the reference
# recipe at half resolution (resize 288, 40 + 10 epochs) with one change, trained once per seed. A seed
# also picks the validation images (split_train_val), so variants are compared seed by seed on the same
# held-out training images. Nothing here reads the test set.
#
#   scripts/ablate_seg.sh DATA OUT [VARIANT ...]       (default: every variant below)
#
# Writes OUT/<variant>/s<seed>/ (ordinary `vesselgan train` runs, resumable: rerunning skips finished
# ones) and prints one JSON line per run with its best validation F1 / AUC (the epoch chosen by F1).
# Needs python3 to read the runs' stats.jsonl. SEEDS (default "0 1 2") and VESSELGAN (the binary) can be
# set in the environment.
set -euo pipefail
data=${1:?usage: scripts/ablate_seg.sh DATA OUT [VARIANT ...]}
out=${2:?usage: scripts/ablate_seg.sh DATA OUT [VARIANT ...]}
shift 2
bin=${VESSELGAN:-$(dirname "$0")/../build/release/vesselgan}
seeds=${SEEDS:-0 1 2}

# name -> JSON merged over the half-resolution base (any field of `vesselgan train --print-config`).
declare -A override=(
  [reference]='{}'
  [bce]='{"loss": {"kind": "bce"}}'
  [longer]='{"schedule": [{"epochs": 80, "lr": 1e-3}, {"epochs": 20, "lr": 1e-4}]}'
  [wider]='{"model": {"base_channels": 32}}'
  [no-augment]='{"augment": {"enabled": false}}'
  [no-dropblock]='{"model": {"keep_prob": 1.0}}'
)
order=(reference bce longer wider no-augment no-dropblock)
variants=("$@")
[ ${#variants[@]} -gt 0 ] || variants=("${order[@]}")

mkdir -p "$out"
for v in "${variants[@]}"; do
  [ -n "${override[$v]+x}" ] || { echo "unknown variant '$v' (valid: ${order[*]})" >&2; exit 2; }
  python3 - "$out/$v.json" "${override[$v]}" <<'EOF'
import json, sys
base = {"input": {"resize": 288, "pad_to": 0},
        "schedule": [{"epochs": 40, "lr": 1e-3}, {"epochs": 10, "lr": 1e-4}]}
def merge(a, b):
    for k, v in b.items():
        a[k] = merge(a.get(k, {}), v) if isinstance(v, dict) else v
    return a
json.dump(merge(base, json.loads(sys.argv[2])), open(sys.argv[1], "w"), indent=2)
EOF
  for s in $seeds; do
    run="$out/$v/s$s"
    mkdir -p "$out/$v"
    if [ -f "$run/config.json" ]; then resume=--resume; else resume=; fi
    "$bin" train --data "$data" --out "$run" --preset drive --config "$out/$v.json" --seed "$s" --threads 2 \
      $resume >"$run.log" 2>&1 || { echo "$v seed $s failed: see $run.log" >&2; exit 1; }
    python3 - "$v" "$s" "$run" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[3] + "/stats.jsonl") if l.strip()]
best = max(rows, key=lambda r: r["val_f1"])
print(json.dumps({"variant": sys.argv[1], "seed": int(sys.argv[2]), "best_epoch": best["epoch"],
                  "epochs": len(rows), "val_f1": round(best["val_f1"], 4), "val_auc": round(best["val_auc"], 4),
                  "seconds": round(sum(r["seconds"] for r in rows))}))
EOF
  done
done
