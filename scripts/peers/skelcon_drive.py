#!/usr/bin/python3
"""Runs SkelCon's released DRIVE model (Tan et al., "Retinal Vessel Segmentation with Skeletal Prior and
Contrastive Loss", TMI 2022, github.com/tyb311/SkelCon) on the DRIVE test photographs and writes one 16-bit
probability PNG per photograph (<id>_prob.png) for `vesselgan evaluate --pred OUT`.

Usage: skelcon_drive.py --peer-dir CLONE --data DRIVE --out DIR [--clahe-clip 2.5] [--gamma 1.0] [--threads 2]

CLONE is the user's clone of SkelCon; the model is its released graph CLONE/onnx/drive.onnx, evaluated with
our ONNX interpreter on torch (onnx_torch.py; Debian has no onnxruntime). Nothing is fetched.

Conventions followed, read from SkelCon's proj/data/eyeset.py (EyeSetGenerator.__getitem__ in test mode),
proj/loop.py (test, predict) and onnx/infer.py, commit 0e617a7:
- the RGB photograph is enhanced as its TRANS_TEST does, albumentations' CLAHE then RandomGamma: CLAHE on the
  L channel of OpenCV's LAB (8x8 tiles), then the uint8 gamma look-up table. SkelCon draws both at random
  for every test image (clip limit uniform in [1, 4], gamma uniform in [0.8, 1.2]); to make the benchmark
  repeatable we use the centre of each range, clip 2.5 and gamma 1.0 (--clahe-clip, --gamma to change);
- padded to a multiple of 32 on each side, centred, mirrored (albumentations PadIfNeeded: reflect-101);
- converted to gray (OpenCV RGB2GRAY) and scaled to [0, 1]; no TTA in test mode;
- the graph ends in a sigmoid; the map is clamped to [0, 1], multiplied by DRIVE's FOV mask and cropped
  back to the photograph.
One difference: SkelCon saves 8-bit PNGs ((pred*255).astype(uint8)); we save 16-bit.
"""
import argparse
import os
import sys
import time

sys.dont_write_bytecode = True  # nothing written into our tree or the user's clone
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_common as pc  # noqa: E402

GRAPH = os.path.join("onnx", "drive.onnx")
DIVIDE = 32


def enhance(rgb, clip, gamma):
    """albumentations' CLAHE (RGB: on LAB's L channel) then its uint8 gamma LUT, with fixed parameters."""
    import cv2
    import numpy as np
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)
    lab[:, :, 0] = cv2.createCLAHE(clipLimit=clip, tileGridSize=(8, 8)).apply(lab[:, :, 0])
    img = cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)
    table = (np.arange(0, 256.0 / 255, 1.0 / 255) ** gamma) * 255  # albumentations' gamma_transform for uint8
    return cv2.LUT(img, table.astype(np.uint8))


def pad_amounts(h, w):
    """PadIfNeeded(min_height=ceil(h/32)*32, min_width=...) centred: (top, bottom, left, right)."""
    hp, wp = -(-h // DIVIDE) * DIVIDE, -(-w // DIVIDE) * DIVIDE
    top, left = (hp - h) // 2, (wp - w) // 2
    return top, hp - h - top, left, wp - w - left


def predict(graph, rgb, fov, clip, gamma):
    import cv2
    import numpy as np
    import torch
    img = enhance(rgb, clip, gamma)
    h, w = fov.shape
    top, bottom, left, right = pad_amounts(h, w)
    img = cv2.copyMakeBorder(img, top, bottom, left, right, cv2.BORDER_REFLECT_101)
    gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    x = torch.from_numpy(gray)[None, None]
    y = graph({"input": x})["output"].clamp(0, 1)[0, 0].numpy().astype(np.float64)
    y = y[top:top + h, left:left + w]
    return y * fov


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--peer-dir", required=True, help="the user's clone of github.com/tyb311/SkelCon")
    ap.add_argument("--data", required=True, help="DRIVE as distributed (test/ or testing/)")
    ap.add_argument("--out", required=True, help="folder for <id>_prob.png and run.json")
    ap.add_argument("--clahe-clip", type=float, default=2.5,
                    help="CLAHE clip limit (SkelCon draws it uniformly in [1, 4]; default the centre)")
    ap.add_argument("--gamma", type=float, default=1.0,
                    help="gamma (SkelCon draws it uniformly in [0.8, 1.2]; default the centre)")
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    a = ap.parse_args()
    if not a.clahe_clip > 0 or not a.gamma > 0:
        pc.fail(f"--clahe-clip {a.clahe_clip} and --gamma {a.gamma} must be > 0")

    graph_path = os.path.join(a.peer_dir, GRAPH)
    if not os.path.isdir(a.peer_dir):
        pc.fail(f"SkelCon folder {a.peer_dir} does not exist (expected a clone of github.com/tyb311/SkelCon)")
    if not os.path.isfile(graph_path):
        pc.fail(f"SkelCon's released DRIVE model {graph_path} is missing (expected {GRAPH} in the clone)")
    if os.path.getsize(graph_path) < 10000:
        pc.fail(f"{graph_path} is only {os.path.getsize(graph_path)} bytes: a Git LFS pointer, not the model "
                "(expected the ~1.7 MB ONNX graph)")
    for mod, deb in (("onnx", "python3-onnx"), ("cv2", "python3-opencv")):
        try:
            __import__(mod)
        except ImportError:
            pc.fail(f"{sys.executable} has no {mod}; install Debian's: apt-get install -y {deb}")
    samples = pc.drive_test_split(a.data)

    t_start = time.perf_counter()
    import torch
    import onnx_torch
    torch.set_num_threads(a.threads)
    try:
        graph = onnx_torch.OnnxGraph(graph_path)
    except onnx_torch.UnsupportedGraph as e:
        pc.fail(f"{graph_path} uses {e}, which onnx_torch.py does not implement")
    except Exception as e:  # noqa: BLE001 - a corrupt file: one line
        pc.fail(f"{graph_path} is not a readable ONNX model: {e}")
    if graph.inputs != ["input"] or graph.outputs != ["output"]:
        pc.fail(f"{graph_path} has inputs {graph.inputs} and outputs {graph.outputs} (expected input -> output, "
                "as SkelCon's onnx/infer.py)")
    pc.run_test_split("skelcon", samples, a.out,
                      lambda rgb, fov: predict(graph, rgb, fov, a.clahe_clip, a.gamma), a.peer_dir, graph_path, {
                          "model": "SkelCon, released DRIVE ONNX graph",
                          "repository": "https://github.com/tyb311/SkelCon",
                          "parameters": graph.parameter_count(),
                          "parameters_note": "Conv weights and biases of the exported graph (batch norm folded in)",
                          "conventions": f"CLAHE clip {a.clahe_clip} (8x8, LAB L) + gamma {a.gamma} LUT (SkelCon "
                                         "draws both at random: clip U[1,4], gamma U[0.8,1.2]), reflect-101 pad to "
                                         "/32, gray, [0,1], sigmoid output, times the DRIVE FOV mask, no TTA; saved "
                                         "16-bit",
                          "clahe_clip": a.clahe_clip,
                          "gamma": a.gamma},
                      a.threads, t_start)

if __name__ == "__main__":
    main()
