"""What the peer runners share: DRIVE's test photographs and masks, one-line errors, 16-bit probability PNGs
named so that `vesselgan evaluate --pred DIR` matches them to their photographs, and where a peer's code
came from (its git commit, the weight file's SHA-256).

This is our code. The peers' own code is never copied here: a runner imports the peer's model definition
from the user's clone at run time, or (SkelCon) reads its released ONNX graph.
"""
import hashlib
import json
import os
import subprocess
import sys
import time

import numpy as np
from PIL import Image


def fail(msg):
    """One line on stderr naming what is missing or wrong and what was expected; exit status 2 (bad input)."""
    print(f"{os.path.basename(sys.argv[0])}: {msg}", file=sys.stderr)
    sys.exit(2)


def drive_test_split(data):
    """The DRIVE test split as distributed: [(id, photograph, FOV mask)], ids "01".."20" (sorted).

    `data` is the data set root holding test/ or testing/, never a split folder itself (so the training
    photographs cannot be scored by mistake)."""
    if not os.path.isdir(data):
        fail(f"DRIVE folder {data} does not exist (expected the data set as distributed: test/ or testing/ "
             "with images/*.tif and mask/*.gif)")
    split = None
    for cand in (os.path.join(data, "test"), os.path.join(data, "testing")):
        if os.path.isdir(os.path.join(cand, "images")) and os.path.isdir(os.path.join(cand, "mask")):
            split = cand
            break
    if split is None:
        fail(f"no DRIVE test split in {data} (expected test/ or testing/ with images/ and mask/)")
    images = sorted(f for f in os.listdir(os.path.join(split, "images")) if f.lower().endswith((".tif", ".tiff")))
    if not images:
        fail(f"no photographs in {os.path.join(split, 'images')} (expected 01_test.tif .. 20_test.tif)")
    out = []
    for name in images:
        stem = os.path.splitext(name)[0]
        mask = os.path.join(split, "mask", stem + "_mask.gif")
        if not os.path.isfile(mask):
            fail(f"no FOV mask for {name}: expected {mask} (DRIVE's mask/NN_test_mask.gif)")
        sid = stem.split("_", 1)[0]
        out.append((sid, os.path.join(split, "images", name), mask))
    return out


def read_rgb(path):
    """A photograph as uint8 [H, W, 3] (RGB)."""
    with Image.open(path) as im:
        return np.array(im.convert("RGB"))


def read_mask(path):
    """A FOV mask as bool [H, W] (nonzero = inside)."""
    with Image.open(path) as im:
        return np.array(im.convert("L")) > 0


def save_prob_png(out_dir, sid, prob):
    """Writes prob ([H, W], values in [0, 1]) as out_dir/<id>_prob.png, 16-bit gray: the name `vesselgan
    evaluate --pred` matches to sample <id>, the bit depth it reads back as prob = value / 65535."""
    p = np.clip(np.asarray(prob, dtype=np.float64), 0.0, 1.0)
    q = np.round(p * 65535.0).astype(np.uint16)
    path = os.path.join(out_dir, f"{sid}_prob.png")
    Image.fromarray(q).save(path)  # PIL writes uint16 arrays as 16-bit grayscale PNG (mode I;16)
    return path


def git_commit(folder):
    """The checked-out commit of `folder` when it is a git work tree, else None."""
    try:
        r = subprocess.run(["git", "-C", folder, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return r.stdout.strip() if r.returncode == 0 else None


def git_dirty(folder):
    """True when tracked files of the work tree differ from its commit (None when not a git work tree)."""
    try:
        r = subprocess.run(["git", "-C", folder, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return bool(r.stdout.strip()) if r.returncode == 0 else None


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def run_test_split(peer, samples, out_dir, predict, peer_dir, weights_path, record, threads, t_start):
    """Runs predict(rgb, fov) -> prob on every (id, photograph, mask) of samples, writes <id>_prob.png into
    out_dir and then out_dir/run.json: `record` (the peer's own fields) plus its commit, weight file, counts
    and seconds (inference alone, and wall since t_start)."""
    os.makedirs(out_dir, exist_ok=True)
    infer_s = 0.0
    for sid, image, mask in samples:
        rgb, fov = read_rgb(image), read_mask(mask)
        t0 = time.perf_counter()
        prob = predict(rgb, fov)
        infer_s += time.perf_counter() - t0
        save_prob_png(out_dir, sid, prob)
        print(f"{peer}: {os.path.basename(image)} done", file=sys.stderr)
    info = {"peer": peer, **record,
            "commit": git_commit(peer_dir),
            "work_tree_modified": git_dirty(peer_dir),
            "weights": os.path.relpath(weights_path, peer_dir),
            "weights_sha256": sha256(weights_path),
            "images": len(samples),
            "threads": threads,
            "inference_seconds": round(infer_s, 3),
            "wall_seconds": round(time.perf_counter() - t_start, 3)}
    with open(os.path.join(out_dir, "run.json"), "w") as f:
        json.dump(info, f, indent=2)
        f.write("\n")
