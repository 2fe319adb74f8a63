#!/usr/bin/env python3
"""The spread of global appearance over a set of fundus photographs, to set the whole-photograph appearance
control's ranges beside DRIVE's (src/vesselgan/gan/appearance.h, docs/gan.md). Per photograph, inside its
FOV: the mean of R, G and B, the ratios R/G and B/G (the colour cast), the standard deviation of luminance
(contrast), and the left-right and top-bottom luminance ratio of the FOV's halves (uneven illumination).
Prints, per set, the minimum, median and maximum of each over its photographs, as JSON.

    scripts/measure_appearance.py --drive ../shared/data/DRIVE [--exclude 22,28] [--folder NAME=DIR ...]

--drive reads DRIVE's training photographs and masks (validation ids left out); --folder reads DIR/images and
DIR/masks (the layout `vesselgan gan generate --whole` writes). Needs numpy and PIL (Debian: python3-numpy
python3-pil).
"""
import argparse
import glob
import json
import os

import numpy as np
from PIL import Image


def figures(image_path, mask_path):
    im = np.asarray(Image.open(image_path).convert("RGB")).astype(float) / 255
    fov = np.asarray(Image.open(mask_path).convert("L")) > 127
    px = im[fov]
    lum = im @ np.array([0.299, 0.587, 0.114])
    ys, xs = np.nonzero(fov)
    cy, cx = ys.mean(), xs.mean()
    left, right = lum[fov & (np.arange(fov.shape[1])[None, :] < cx)], lum[fov & (np.arange(fov.shape[1])[None, :] >= cx)]
    top, bottom = lum[fov & (np.arange(fov.shape[0])[:, None] < cy)], lum[fov & (np.arange(fov.shape[0])[:, None] >= cy)]
    r, g, b = px.mean(0)
    return {
        "R": r, "G": g, "B": b,
        "R/G": r / max(g, 1e-6), "B/G": b / max(g, 1e-6),
        "luminance_sd": float(lum[fov].std()),
        "left/right": left.mean() / max(right.mean(), 1e-6),
        "top/bottom": top.mean() / max(bottom.mean(), 1e-6),
    }


def drive_pairs(root, exclude):
    base = os.path.join(root, "training")
    for f in sorted(glob.glob(os.path.join(base, "images", "*.tif"))):
        i = os.path.basename(f).split("_")[0]
        if i not in exclude:
            yield f, os.path.join(base, "mask", f"{i}_training_mask.gif")


def folder_pairs(root):
    for f in sorted(glob.glob(os.path.join(root, "images", "*.png"))):
        yield f, os.path.join(root, "masks", os.path.basename(f))


def summary(pairs):
    rows = [figures(i, m) for i, m in pairs]
    if not rows:
        raise SystemExit("no photographs found")
    out = {"count": len(rows)}
    for key in rows[0]:
        v = np.array([r[key] for r in rows])
        out[key] = {"min": round(float(v.min()), 3), "median": round(float(np.median(v)), 3), "max": round(float(v.max()), 3)}
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--drive", help="DRIVE root (training photographs)")
    ap.add_argument("--exclude", default="22,28", help="DRIVE ids left out (validation)")
    ap.add_argument("--folder", action="append", default=[], help="NAME=DIR with DIR/images and DIR/masks")
    a = ap.parse_args()
    result = {}
    if a.drive:
        result["DRIVE training"] = summary(drive_pairs(a.drive, set(a.exclude.split(","))))
    for spec in a.folder:
        name, _, path = spec.partition("=")
        result[name] = summary(folder_pairs(path or name))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
