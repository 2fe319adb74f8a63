#!/usr/bin/env python3
"""The global appearance of DRIVE's training photographs that whole synthetic photographs are shaded with
(src/vesselgan/gan/whole_photograph.cpp): the radial fall-off of the background's luminance, its colour, and
the optic disc's brightness against it. Vessels (1st_manual) are excluded; the validation photographs 22 and
28 are left out; the disc is the brightest 9x9 window of the 4x-subsampled luminance.

    scripts/measure_drive_shading.py ../shared/data/DRIVE

Needs numpy and PIL (Debian: python3-numpy python3-pil).
"""
import glob
import os
import sys

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image


def main(drive, exclude=("22", "28")):
    root = os.path.join(drive, "training")
    profiles, colours, discs = [], [], []
    for f in sorted(glob.glob(os.path.join(root, "images", "*.tif"))):
        i = os.path.basename(f).split("_")[0]
        if i in exclude:
            continue
        im = np.asarray(Image.open(f).convert("RGB")).astype(float) / 255
        fov = np.asarray(Image.open(f"{root}/mask/{i}_training_mask.gif")) > 0
        vessel = np.asarray(Image.open(f"{root}/1st_manual/{i}_manual1.gif")) > 0
        ys, xs = np.nonzero(fov)
        cy, cx, radius = ys.mean(), xs.mean(), np.sqrt(fov.sum() / np.pi)
        y, x = np.mgrid[: fov.shape[0], : fov.shape[1]]
        r = np.hypot(y - cy, x - cx) / radius
        background = fov & ~vessel
        lum = im.mean(2)
        centre = background & (r < 0.5)
        ref = np.median(lum[centre])
        profiles.append([np.median(lum[background & (r >= a) & (r < a + 0.1)]) / ref for a in np.arange(0, 1, 0.1)])
        colours.append([np.median(im[..., c][centre]) for c in range(3)])
        small = np.pad(lum[::4, ::4] * fov[::4, ::4], 4)
        dy, dx = np.unravel_index(np.argmax(sliding_window_view(small, (9, 9)).mean((2, 3))), small[4:-4, 4:-4].shape)
        disc = fov & ~vessel & (np.hypot(y - 4 * dy, x - 4 * dx) < radius / 14)
        discs.append([np.median(im[..., c][disc]) for c in range(3)] + [np.hypot(4 * dy - cy, 4 * dx - cx) / radius])
    p, c, d = np.array(profiles), np.array(colours), np.array(discs)
    print(f"photographs: {len(p)}")
    print("background luminance / that within 0.5 R, rings of 0.1 R from the centre:", np.round(p.mean(0), 3).tolist())
    print("background colour within 0.5 R (RGB): mean", np.round(c.mean(0), 3).tolist(), "min",
          np.round(c.min(0), 3).tolist(), "max", np.round(c.max(0), 3).tolist())
    print("optic disc colour (RGB): median", np.round(np.median(d[:, :3], 0), 3).tolist(), "; over the background:",
          np.round((d[:, :3] / c).mean(0), 2).tolist())
    print("optic disc distance from the FOV centre / R: mean", round(d[:, 3].mean(), 2), "min", round(d[:, 3].min(), 2),
          "max", round(d[:, 3].max(), 2))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/DRIVE")
