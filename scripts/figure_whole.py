#!/usr/bin/env python3
"""The figure of whole synthetic photographs beside a real one (docs/gan.md): the first three photographs of a
generated folder layout above their labels, DRIVE training photograph 21 and its label on the right, at half
size; with --crop, a second figure of the same 200 x 200 window (between disc and macula) of the first
photograph and of DRIVE 21 at twice the size, where the background's texture shows.

    scripts/figure_whole.py GENERATED DRIVE OUT.png [--crop OUT-crop.png]

Needs PIL (Debian: python3-pil).
"""
import argparse
import os

from PIL import Image


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("generated")
    ap.add_argument("drive")
    ap.add_argument("out")
    ap.add_argument("--crop")
    a = ap.parse_args()
    ids = sorted(os.listdir(os.path.join(a.generated, "images")))[:3]
    pairs = [(os.path.join(a.generated, "images", i), os.path.join(a.generated, "labels", i)) for i in ids]
    pairs.append((os.path.join(a.drive, "training", "images", "21_training.tif"),
                  os.path.join(a.drive, "training", "1st_manual", "21_manual1.gif")))
    tiles = [(Image.open(p).convert("RGB"), Image.open(l).convert("RGB")) for p, l in pairs]
    w, h = tiles[0][0].size[0] // 2, tiles[0][0].size[1] // 2
    fig = Image.new("RGB", (w * len(tiles), 2 * h))
    for k, (p, l) in enumerate(tiles):
        fig.paste(p.resize((w, h), Image.LANCZOS), (k * w, 0))
        fig.paste(l.resize((w, h), Image.LANCZOS), (k * w, h))
    fig.save(a.out)
    if a.crop:
        box = (150, 200, 350, 400)
        crop = Image.new("RGB", (800, 400))
        crop.paste(tiles[0][0].crop(box).resize((400, 400), Image.NEAREST), (0, 0))
        crop.paste(tiles[-1][0].crop(box).resize((400, 400), Image.NEAREST), (400, 0))
        crop.save(a.crop)


if __name__ == "__main__":
    main()
