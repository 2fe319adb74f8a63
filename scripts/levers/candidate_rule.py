"""Lever 13's rule (docs/segmenter.md) over candidates' validation shift reports.

    python3 scripts/levers/candidate_rule.py REPORT_DIR...

Each REPORT_DIR holds an `evaluate --shifts` robustness.json. Prints one line per candidate (clean F1 / AUC, mean
drop, JPEG 10 drop, worst drop), then the winner: qualifying candidates have clean F1 >= 0.8279, AUC >= 0.9776
(both at four digits) and a worst drop <= 0.25137 (the six's); the highest F1 wins, within 0.001 the lowest
worst drop.
"""
import json
import sys


def read(d):
    r = json.load(open(d + "/robustness.json"))
    worst = max(r["shifts"], key=lambda s: s["f1_drop"])
    jpeg10 = [s["f1_drop"] for s in r["shifts"] if s["kind"] == "jpeg" and s["level"] == 10]
    return r["clean"], r["mean_f1_drop"], (jpeg10 or [float("nan")])[0], worst


def main(dirs):
    qualifying = []
    for d in dirs:
        clean, mean, jpeg10, worst = read(d)
        print("%-32s F1 %.4f AUC %.4f mean drop %.4f JPEG 10 %.5f worst %.5f (%s %g)" % (
            d, clean["f1"], clean["auc_roc"], mean, jpeg10, worst["f1_drop"], worst["kind"], worst["level"]))
        if round(clean["f1"], 4) >= 0.8279 and round(clean["auc_roc"], 4) >= 0.9776 and worst["f1_drop"] <= 0.25137:
            qualifying.append((clean["f1"], worst["f1_drop"], d))
    if not qualifying:
        print("winner: none")
        return
    best = max(f for f, _, _ in qualifying)
    print("winner:", min((q for q in qualifying if best - q[0] <= 0.001), key=lambda q: q[1])[2])


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
