#!/usr/bin/env python3
"""Fits the procedural trees' options to a real data set's training labels by grid search (issue 31).

For every combination of the grid it writes 18 phantoms of 565 px, measures them with `vesselgan gan trees`
against the real labels, and scores the combination by the mean over figures of
|generated mean - real mean| / (real max - real min). Prints one JSON line per combination, best last.

    scripts/fit_phantom_trees.py --real ../shared/data/DRIVE --exclude 22,28 --work /tmp/fit-trees
    scripts/fit_phantom_trees.py ... --num-trees 8 --branch-spacing 0.06 --end-before-crossing 0,0.2,0.3,0.4

Only the training split (without the excluded validation images) is read. Standard library only.
"""
import argparse
import itertools
import json
import os
import subprocess
import sys


def measure(binary, real, exclude, work, options, seed):
    name = "_".join(f"{k}{v}" for k, v in sorted(options.items()))
    folder = os.path.join(work, name)
    config = folder + ".json"
    with open(config, "w") as f:
        json.dump({"phantom": options}, f)
    subprocess.run([binary, "phantom", "--n", "18", "--n-test", "1", "--size", "565", "--seed", str(seed),
                    "--config", config, "--out", folder], check=True, stdout=subprocess.DEVNULL)
    result = folder + "-trees.json"
    cmd = [binary, "gan", "trees", "--real", real, "--fake", folder, "--fake-split", "train", "--json", result]
    if exclude:
        cmd += ["--exclude", exclude]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    with open(result) as f:
        figures = json.load(f)["figures"]
    gaps = {}
    for row in figures:
        r, g = row["real"], row["generated"]
        gaps[row["figure"]] = abs(g["mean"] - r["mean"]) / max(r["max"] - r["min"], 1e-9)
    return {"options": options, "score": sum(gaps.values()) / len(gaps),
            "within": sum(row["within_real_range"] for row in figures), "figures": len(figures), "gaps": gaps}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--real", required=True)
    p.add_argument("--exclude", default="")
    p.add_argument("--work", required=True, help="new folder for the phantoms and their figures")
    p.add_argument("--vesselgan", default="build/release/vesselgan")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--num-trees", default="4,6,8")
    p.add_argument("--branch-spacing", default="0.06,0.08,0.10,0.12")
    p.add_argument("--end-before-crossing", default="0", help="values of end_before_crossing (data/phantom.h)")
    a = p.parse_args()
    if os.path.exists(a.work):
        sys.exit(f"--work {a.work} exists; give a new folder")
    os.makedirs(a.work)
    grid = itertools.product([int(v) for v in a.num_trees.split(",")], [float(v) for v in a.branch_spacing.split(",")],
                             [float(v) for v in a.end_before_crossing.split(",")])
    results = []
    for trees, spacing, end in grid:
        options = {"num_trees": trees, "branch_spacing": spacing}
        if end > 0:
            options["end_before_crossing"] = end
        r = measure(a.vesselgan, a.real, a.exclude, a.work, options, a.seed)
        results.append(r)
        print(json.dumps({k: r[k] for k in ("options", "score", "within", "figures")}), flush=True)
    best = min(results, key=lambda r: r["score"])
    print(json.dumps({"best": best}))


if __name__ == "__main__":
    main()
