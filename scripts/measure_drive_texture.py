#!/usr/bin/env python3
"""The background texture of fundus photographs that whole synthetic photographs are given
(src/vesselgan/gan/whole_photograph.cpp): the relative deviation of the background from its local mean
(luminance over a gaussian of 16 px, vessels dilated by 3 px and the FOV's outer 12 px excluded) in two bands:
grain (what a gaussian of 1 px leaves out) and mottle (the gaussian of 1 px less that of 4 px), as a standard
deviation over the background, and the grain's share that differs between the colour channels (chroma).
DRIVE's training photographs without the validation photographs 22 and 28, or a folder layout
(images/, labels/, masks/) of generated photographs:

    scripts/measure_drive_texture.py ../shared/data/DRIVE
    scripts/measure_drive_texture.py --folder runs/whole

Needs numpy, scipy and PIL (Debian: python3-numpy python3-scipy python3-pil).
"""
import argparse
import glob
import os

import numpy as np
from PIL import Image
from scipy import ndimage


def bands(im, fov, vessel):
    """Grain, mottle and chroma grain of one photograph [H, W, 3] in [0, 1]."""
    keep = ndimage.binary_erosion(fov, iterations=12) & ~ndimage.binary_dilation(vessel, iterations=3)
    w = keep.astype(float)

    def local_mean(x, sigma):
        return ndimage.gaussian_filter(x * w, sigma) / np.maximum(ndimage.gaussian_filter(w, sigma), 1e-6)

    lum = im.mean(2)
    rel = lum / np.maximum(local_mean(lum, 16), 1e-3) - 1
    rel = np.where(keep, rel, 0)
    s1, s4 = local_mean(rel, 1), local_mean(rel, 4)
    grain, mottle = (rel - s1)[keep], (s1 - s4)[keep]
    chans = []
    for c in range(3):
        x = im[..., c] / np.maximum(local_mean(im[..., c], 16), 1e-3) - 1
        x = np.where(keep, x, 0)
        chans.append((x - local_mean(x, 1))[keep])
    chroma = np.std(np.array(chans) - np.mean(chans, 0), axis=1).mean()
    return grain.std(), mottle.std(), chroma


def drive_items(drive, exclude):
    root = os.path.join(drive, "training")
    for f in sorted(glob.glob(os.path.join(root, "images", "*.tif"))):
        i = os.path.basename(f).split("_")[0]
        if i in exclude:
            continue
        yield f, f"{root}/mask/{i}_training_mask.gif", f"{root}/1st_manual/{i}_manual1.gif"


def folder_items(folder):
    for f in sorted(glob.glob(os.path.join(folder, "images", "*.png"))):
        stem = os.path.basename(f)
        yield f, os.path.join(folder, "masks", stem), os.path.join(folder, "labels", stem)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("drive", nargs="?", default="../shared/data/DRIVE")
    ap.add_argument("--folder", help="a folder layout of generated photographs instead of DRIVE")
    ap.add_argument("--exclude", default="22,28")
    args = ap.parse_args()
    items = folder_items(args.folder) if args.folder else drive_items(args.drive, args.exclude.split(","))
    rows = []
    for image, mask, label in items:
        im = np.asarray(Image.open(image).convert("RGB")).astype(float) / 255
        fov = np.asarray(Image.open(mask).convert("L")) > 127
        vessel = np.asarray(Image.open(label).convert("L")) > 127
        rows.append(bands(im, fov, vessel))
    r = np.array(rows)
    print(f"photographs: {len(r)}")
    for name, col in zip(("grain", "mottle", "chroma grain"), r.T):
        print(f"{name}: mean {col.mean():.4f} min {col.min():.4f} max {col.max():.4f}")


if __name__ == "__main__":
    main()
