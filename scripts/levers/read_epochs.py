"""A training run's epochs as docs/segmenter.md reads them (validation F1 / AUC from stats.jsonl): the best epoch,
window means of F1 over epochs 76-100, 151-175 and 176-200, and the mean over the schedule's last stage (the 1e-4
phase: epochs 201-300 of a from-scratch run, 151-250 of a warm restart), read from the run's config.json beside
stats.jsonl.

    python3 scripts/levers/read_epochs.py RUN/stats.jsonl...
"""
import json
import os
import sys


def mean(rows, key):
    return sum(r[key] for r in rows) / len(rows) if rows else float("nan")


def last_stage(config_path):
    """The first and last epoch (1-based) and the lr of the training schedule's last stage."""
    try:
        schedule = json.load(open(config_path))["train"]["schedule"]
    except (OSError, ValueError, KeyError) as e:
        sys.exit(f"{config_path}: no training schedule ({e!r}); stats.jsonl must sit in its run folder")
    start = sum(s["epochs"] for s in schedule[:-1])
    return start + 1, start + schedule[-1]["epochs"], schedule[-1]["lr"]


def read(path):
    try:
        rows = [json.loads(line) for line in open(path) if line.strip()]
    except (OSError, ValueError) as e:
        sys.exit(f"{path}: not readable as a run's stats.jsonl ({e})")
    if not rows:
        sys.exit(f"{path}: no epochs recorded (a stats.jsonl of a run that has trained at least one epoch)")
    best = max(rows, key=lambda r: r["val_f1"])
    window = lambda a, b: mean([r for r in rows if a <= r["epoch"] <= b], "val_f1")
    first, last, lr = last_stage(os.path.join(os.path.dirname(path), "config.json"))
    late = [r for r in rows if first <= r["epoch"] <= last]
    return (f"{path}: {len(rows)} epochs; best {best['epoch']}: {best['val_f1']:.4f} / {best['val_auc']:.4f}; "
            f"mean F1 76-100 {window(76, 100):.4f}, 151-175 {window(151, 175):.4f}, 176-200 {window(176, 200):.4f}; "
            f"{lr:.0e} phase {mean(late, 'val_f1'):.4f} / {mean(late, 'val_auc'):.4f} ({len(late)} of epochs "
            f"{first}-{last})")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for p in sys.argv[1:]:
        print(read(p))
