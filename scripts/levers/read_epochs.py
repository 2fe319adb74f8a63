"""A training run's epochs as docs/segmenter.md reads them (validation F1 / AUC from stats.jsonl): the best epoch,
window means of F1 over epochs 76-100, 151-175 and 176-200, and the mean over the 1e-4 phase (epochs after 200).

    python3 scripts/levers/read_epochs.py RUN/stats.jsonl...
"""
import json
import sys


def mean(rows, key):
    return sum(r[key] for r in rows) / len(rows) if rows else float("nan")


def read(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    if not rows:
        sys.exit(f"{path}: no epochs recorded (a stats.jsonl of a run that has trained at least one epoch)")
    best = max(rows, key=lambda r: r["val_f1"])
    window = lambda a, b: mean([r for r in rows if a <= r["epoch"] <= b], "val_f1")
    late = [r for r in rows if r["epoch"] > 200]
    return (f"{path}: {len(rows)} epochs; best {best['epoch']}: {best['val_f1']:.4f} / {best['val_auc']:.4f}; "
            f"mean F1 76-100 {window(76, 100):.4f}, 151-175 {window(151, 175):.4f}, 176-200 {window(176, 200):.4f}; "
            f"1e-4 phase {mean(late, 'val_f1'):.4f} / {mean(late, 'val_auc'):.4f} ({len(late)} epochs)")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for p in sys.argv[1:]:
        print(read(p))
