#!/usr/bin/env python3
"""Prints a vesselgan GAN run and stylegan2-ada-pytorch runs side by side, tick by tick at equal kimg, as JSON
lines (standard library only).

  compare_runs.py --ours runs/gan-crops --official runs-official/00000-... [--official runs-official/00001-...]

Each line: {"kimg", "ours": {...}, "official": [{...} per official run], and with two or more official runs
"inside": {quantity: ours within [min, max] of the official runs}}; a last line {"summary": ...} counts the
ticks inside per quantity. Quantities (ours <- the official stats.jsonl key, its tick mean):
  loss_g <- Loss/G/loss, loss_d <- Loss/D/loss, r1 <- Loss/r1_penalty, logits_real <- Loss/scores/real,
  logits_fake <- Loss/scores/fake, sec_per_kimg <- Timing/sec_per_kimg (not compared for "inside").
Official scores/fake also counts the fakes of G's steps and scores/real the reals of the R1 steps, where ours
averages D's main step only: a small systematic difference in the logits, not in the losses.
A quantity without new values in a tick (r1 in ticks shorter than the R1 interval) is 0 in ours and repeats
the previous tick's in the official stats (its Collector keeps previous values).
Ticks are paired when their kimg agree within --match (default 0.01 kimg); the official tick 0 (one step) and
ticks without a partner are left out.
"""
import argparse
import json
import os

KEYS = {"loss_g": "Loss/G/loss", "loss_d": "Loss/D/loss", "r1": "Loss/r1_penalty",
        "logits_real": "Loss/scores/real", "logits_fake": "Loss/scores/fake", "sec_per_kimg": "Timing/sec_per_kimg"}
COMPARED = [k for k in KEYS if k != "sec_per_kimg"]


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def stats_path(run):
    p = os.path.join(run, "stats.jsonl") if os.path.isdir(run) else run
    if not os.path.isfile(p):
        raise SystemExit(f"{run}: no stats.jsonl (expected a run folder)")
    return p


def ours_ticks(run):
    return {round(r["kimg"], 3): {k: r.get(k) for k in KEYS} for r in read_jsonl(stats_path(run))}


def official_ticks(run):
    out = {}
    for r in read_jsonl(stats_path(run)):
        kimg = r.get("Progress/kimg", {}).get("mean")
        if kimg is None or kimg <= 0:
            continue
        out[round(kimg, 3)] = {k: (r[v]["mean"] if v in r and r[v].get("num", 1) else None) for k, v in KEYS.items()}
    return out


def partner(ticks, kimg, tol):
    best = min(ticks, key=lambda k: abs(k - kimg), default=None)
    return ticks[best] if best is not None and abs(best - kimg) <= tol else None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ours", required=True)
    ap.add_argument("--official", required=True, action="append")
    ap.add_argument("--match", type=float, default=0.01)
    args = ap.parse_args()
    ours = ours_ticks(args.ours)
    officials = [official_ticks(r) for r in args.official]
    inside_counts = {k: [0, 0] for k in COMPARED}
    for kimg in sorted(ours):
        theirs = [partner(t, kimg, args.match) for t in officials]
        if any(t is None for t in theirs):
            continue
        row = {"kimg": kimg, "ours": ours[kimg], "official": theirs}
        if len(theirs) >= 2:
            inside = {}
            for k in COMPARED:
                vals = [t[k] for t in theirs if t[k] is not None]
                if ours[kimg].get(k) is None or len(vals) < 2:
                    continue
                inside[k] = min(vals) <= ours[kimg][k] <= max(vals)
                inside_counts[k][0] += inside[k]
                inside_counts[k][1] += 1
            row["inside"] = inside
        print(json.dumps(row))
    if len(officials) >= 2:
        print(json.dumps({"summary": {k: {"ticks_inside": c[0], "ticks": c[1]} for k, c in inside_counts.items()}}))


if __name__ == "__main__":
    main()
