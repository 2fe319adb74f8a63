#!/usr/bin/env python3
"""Writes the fixed crop data set both StyleGAN2 implementations train on in the side-by-side runs
(scripts/official/bench_official.sh): N crops of S px of DRIVE's manual vessel maps, each wholly inside its
photograph's FOV, half of them drawn toward vessels, black and white, as RGB PNG files (one-channel with
--gray, as vesselgan's label-patch mode and the label32 preset see the maps) OUT/images/crop-000000.png, ...

  python3 scripts/official/make_vessel_crops.py --drive ../shared/data/DRIVE --out crops --n 20000

vesselgan reads OUT with `gan train --layout folder --split all --mode full --resolution S`;
stylegan2-ada-pytorch's train.py with --data OUT (it finds the images in subfolders).
The draw (numpy's default_rng(seed)): a training photograph uniformly (ids 21-40 less --exclude), then a crop
position among those whose S x S window lies wholly inside the FOV mask, with probability
(1 - bias) / positions + bias * (vessel pixels in the window) / (vessel pixels of all windows), as vesselgan's
patch_vessel_bias does.
"""
import argparse
import os

import numpy as np
from PIL import Image


def window_sums(a, s):
    """Sums of every s x s window of a 2-D array, [H - s + 1, W - s + 1], via the integral image."""
    c = np.pad(a.astype(np.int64), ((1, 0), (1, 0))).cumsum(0).cumsum(1)
    return c[s:, s:] - c[:-s, s:] - c[s:, :-s] + c[:-s, :-s]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--drive", required=True, help="DRIVE folder (training/1st_manual/*.gif, training/mask/*.gif)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--exclude", default="22,28", help="photograph ids to leave out (comma-separated)")
    ap.add_argument("--bias", type=float, default=0.5, help="how strongly crops are drawn toward vessels (0..1)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--gray", action="store_true", help="one-channel PNGs (the label32 recipe) instead of RGB")
    args = ap.parse_args()
    if not 0 <= args.bias <= 1:
        ap.error(f"--bias {args.bias}: expected 0..1")
    exclude = {int(x) for x in args.exclude.split(",") if x.strip()}
    ids = [i for i in range(21, 41) if i not in exclude]
    s = args.size

    maps, probs = [], []
    for i in ids:
        vessel_path = os.path.join(args.drive, "training", "1st_manual", f"{i}_manual1.gif")
        mask_path = os.path.join(args.drive, "training", "mask", f"{i}_training_mask.gif")
        for p in (vessel_path, mask_path):
            if not os.path.isfile(p):
                raise SystemExit(f"--drive {args.drive}: {p} is missing (expected DRIVE's training folder)")
        vessel = np.array(Image.open(vessel_path).convert("L")) > 127
        fov = np.array(Image.open(mask_path).convert("L")) > 127
        inside = window_sums(~fov, s) == 0  # windows with no pixel outside the FOV
        if not inside.any():
            raise SystemExit(f"photograph {i}: no {s} px window lies wholly inside its FOV")
        v = np.where(inside, window_sums(vessel, s), 0).astype(np.float64)
        uniform = inside / inside.sum()
        prob = (1 - args.bias) * uniform + (args.bias * v / v.sum() if v.sum() > 0 else args.bias * uniform)
        maps.append(vessel)
        cdf = prob.ravel().cumsum()
        probs.append(cdf / cdf[-1])

    images = os.path.join(args.out, "images")
    os.makedirs(images, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    for k in range(args.n):
        j = rng.integers(len(ids))
        pos = min(int(np.searchsorted(probs[j], rng.random(), side="right")), probs[j].size - 1)
        y, x = divmod(pos, maps[j].shape[1] - s + 1)
        crop = (maps[j][y:y + s, x:x + s] * 255).astype(np.uint8)
        image = Image.fromarray(crop, "L") if args.gray else Image.fromarray(np.repeat(crop[:, :, None], 3, axis=2), "RGB")
        image.save(os.path.join(images, f"crop-{k:06d}.png"))
    print(f"{args.out}: {args.n} crops of {s} px from DRIVE training photographs {ids}")


if __name__ == "__main__":
    main()
