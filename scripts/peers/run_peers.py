#!/usr/bin/python3
"""The public peers as a benchmark (issue 30): lwnet's and SkelCon's released DRIVE models and our shipped
model on the DRIVE test photographs, all scored by the same scorer (`vesselgan evaluate --pred`), printed as
one JSON table on stdout.

Usage:
  scripts/peers/run_peers.py --data DRIVE --lwnet LWNET_CLONE --skelcon SKELCON_CLONE
                             [--vesselgan BIN] [--model MODEL.pt] [--out runs/peers] [--threads 2]
  scripts/peers/run_peers.py --markdown runs/peers/peers.json    (its tables as Markdown, for the docs)

Nothing is fetched: LWNET_CLONE and SKELCON_CLONE are the user's clones of github.com/agaldran/lwnet and
github.com/tyb311/SkelCon, with their released weights (experiments/wnet_drive/model_checkpoint.pth,
onnx/drive.onnx). Needs Debian's python3-torch, -numpy, -pil, -skimage, -onnx and -opencv.

Rows of the table (all FOV pooled over the 20 test photographs inside DRIVE's masks, threshold 0.5):
- lwnet, skelcon: lwnet_drive.py / skelcon_drive.py (each peer's own test conventions, see their headers);
- vesselgan-estimated-fov: `vesselgan segment DRIVE/test/images` (the FOV estimated, as for any photograph);
- vesselgan-drive-masks: `vesselgan segment --data DRIVE --split test` (DRIVE's masks given, as the peers).
F1, AUC, Se, Sp, precision and accuracy are the scorer's (metrics.json, fov_pooled). The F1 at the best
threshold is computed here from the same 16-bit maps and masks (prob >= t, pooled, best t over all 65536
levels); it is an oracle figure on the test set, reported for comparison only, never used to choose anything.

Also in the JSON: each model's maps scored again inside the FOV that `vesselgan segment` estimated
(fov_check) and the per-image F1 (per_image_f1, DRIVE's masks). Everything lands in OUT: the maps, the
evaluate reports, logs/, and peers.json (the table printed).
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True  # nothing written into our tree or the user's clone
sys.path.insert(0, HERE)
import peer_common as pc  # noqa: E402


def log(msg):
    print(f"run_peers: {msg}", file=sys.stderr, flush=True)


def find_vesselgan(given):
    cands = [given] if given else [os.environ.get("VESSELGAN", ""), os.path.join(REPO, "build/release/vesselgan"),
                                   shutil.which("vesselgan") or ""]
    for c in cands:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return os.path.abspath(c)
    if given:
        pc.fail(f"vesselgan program {given} does not exist or is not executable")
    pc.fail("no vesselgan program: build it (scripts/build.sh vesselgan -> build/release/vesselgan), "
            "or pass --vesselgan BIN / set VESSELGAN")


def check_inputs(a):
    """Every input checked before any work: one line naming what is missing and what is expected."""
    for mod, deb in (("torch", "python3-torch"), ("numpy", "python3-numpy"), ("PIL", "python3-pil"),
                     ("skimage", "python3-skimage"), ("onnx", "python3-onnx"), ("cv2", "python3-opencv")):
        try:
            __import__(mod)
        except ImportError:
            pc.fail(f"{sys.executable} has no {mod}; install Debian's: apt-get install -y {deb}")
    samples = pc.drive_test_split(a.data)
    for sid, image, _ in samples:
        split = os.path.dirname(os.path.dirname(image))
        label = os.path.join(split, "1st_manual", f"{sid}_manual1.gif")
        if not os.path.isfile(label):
            pc.fail(f"no label for {os.path.basename(image)}: expected {label} (DRIVE's 1st_manual)")
    needs = [(a.lwnet, "lwnet", "github.com/agaldran/lwnet", "experiments/wnet_drive/model_checkpoint.pth"),
             (a.skelcon, "SkelCon", "github.com/tyb311/SkelCon", "onnx/drive.onnx")]
    for folder, name, url, weights in needs:
        if not os.path.isdir(folder):
            pc.fail(f"{name} folder {folder} does not exist (expected a clone of {url} with {weights})")
        if not os.path.isfile(os.path.join(folder, weights)):
            pc.fail(f"{name}'s released DRIVE weights {os.path.join(folder, weights)} are missing "
                    f"(expected {weights} in the clone of {url})")
    if not os.path.isfile(a.model):
        pc.fail(f"model {a.model} does not exist (expected the shipped models/sa-unet-drive.pt or --model FILE)")
    return samples


def run(step, cmd, logs):
    """Runs cmd with stdout+stderr to logs/<step>.log; returns wall seconds; exits (3) naming the log on failure."""
    path = os.path.join(logs, step + ".log")
    log(f"{step}: {' '.join(cmd)}")
    t0 = time.perf_counter()
    with open(path, "w") as f:
        rc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT).returncode
    wall = time.perf_counter() - t0
    if rc != 0:
        with open(path) as f:
            last = [line.strip() for line in f if line.strip()]
        print(f"run_peers: step {step} failed (exit {rc}): {last[-1] if last else 'no output'} (log: {path})",
              file=sys.stderr)
        sys.exit(3)
    return wall


def estimated_fov_view(out, data_split, seg_dir, samples):
    """A DRIVE-layout folder whose test/mask/ holds the FOV masks `vesselgan segment` estimated (symlinks),
    so `vesselgan evaluate --data VIEW` scores inside them; images and labels are DRIVE's (symlinks)."""
    view = os.path.join(out, "drive-estimated-fov")
    shutil.rmtree(view, ignore_errors=True)
    test = os.path.join(view, "test")
    os.makedirs(os.path.join(test, "mask"))
    os.symlink(os.path.join(data_split, "images"), os.path.join(test, "images"))
    os.symlink(os.path.join(data_split, "1st_manual"), os.path.join(test, "1st_manual"))
    for sid, image, _ in samples:
        stem = os.path.splitext(os.path.basename(image))[0]
        fov = os.path.join(seg_dir, stem + "_fov.png")
        if not os.path.isfile(fov):
            print(f"run_peers: vesselgan segment wrote no estimated FOV {fov}", file=sys.stderr)
            sys.exit(3)
        os.symlink(fov, os.path.join(test, "mask", stem + "_fov.png"))
    return view


def read_prob(folder, sid, image):
    """The map `vesselgan evaluate --pred` would read for sample sid, as uint16 levels (0..65535)."""
    import numpy as np
    from PIL import Image
    stem = os.path.splitext(os.path.basename(image))[0]
    for name in (f"{sid}_prob.png", f"{stem}_prob.png"):
        p = os.path.join(folder, name)
        if os.path.isfile(p):
            with Image.open(p) as im:
                mode, arr = im.mode, np.array(im)
            # PIL reads a 16-bit gray PNG as mode "I" (int32) or "I;16"; 8-bit would be "L".
            if mode not in ("I", "I;16", "I;16B") or arr.ndim != 2 or arr.min() < 0 or arr.max() > 65535:
                raise SystemExit(f"run_peers: {p} is not a 16-bit gray PNG (mode {mode})")
            return arr.astype(np.int64)
    raise SystemExit(f"run_peers: no probability map for sample {sid} in {folder}")


def best_threshold_f1(folder, samples, data_split):
    """Pooled FOV F1 at every threshold t = k / 65535 (predicted iff prob >= t): (best F1, its t, F1 at 0.5)."""
    import numpy as np
    pos = np.zeros(65536, dtype=np.int64)
    neg = np.zeros(65536, dtype=np.int64)
    for sid, image, mask in samples:
        prob = read_prob(folder, sid, image)
        fov = pc.read_mask(mask)
        label = pc.read_mask(os.path.join(data_split, "1st_manual", f"{sid}_manual1.gif"))
        pos += np.bincount(prob[fov & label], minlength=65536)
        neg += np.bincount(prob[fov & ~label], minlength=65536)
    tp = np.cumsum(pos[::-1])[::-1]  # tp[k]: positives with level >= k
    fp = np.cumsum(neg[::-1])[::-1]
    fn = pos.sum() - tp
    f1 = 2 * tp / np.maximum(2 * tp + fp + fn, 1)
    k = int(np.argmax(f1[1:]) + 1)  # k = 0 predicts everything; start at the first real threshold
    half = 32768  # prob >= 0.5  <=>  level / 65535 >= 0.5  <=>  level >= 32767.5
    return float(f1[k]), k / 65535.0, float(f1[half])


def count_torchscript_parameters(path):
    import torch
    m = torch.jit.load(path, map_location="cpu")
    return int(sum(p.numel() for p in m.parameters()))


def markdown(table):
    """The tables of a peers.json as Markdown, for docs/benchmarks.md (nothing recomputed)."""
    def f(x, nd=4):
        return "n/a" if x is None else f"{x:.{nd}f}"
    out = ["| model | F1 | AUC | Se | Sp | precision | Acc | F1 at best threshold (t) | parameters | wall s | "
           "commit |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for m in table["models"]:
        commit = (m["commit"] or "not a git checkout")[:7] + (" (modified)" if m["work_tree_modified"] else "")
        out.append(f"| {m['model']} | {f(m['f1'])} | {f(m['auc'])} | {f(m['se'])} | {f(m['sp'])} | "
                   f"{f(m['precision'])} | {f(m['acc'])} | {f(m['f1_best_threshold'])} ({f(m['best_threshold'], 3)}) "
                   f"| {m['parameters']:,} | {m['wall_seconds']:.0f} | {commit} |")
    out += ["", "| model | F1, DRIVE masks | F1, estimated FOV | AUC, DRIVE masks | AUC, estimated FOV |",
            "|---|---|---|---|---|"]
    for name, c in table["fov_check"].items():
        d, e = c["drive_masks"], c["vesselgan_estimated_fov"]
        out.append(f"| {name} | {f(d['f1'])} | {f(e['f1'])} | {f(d['auc'])} | {f(e['auc'])} |")
    names = list(table["per_image_f1"])
    ids = list(table["per_image_f1"][names[0]])
    out += ["", "| image | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for sid in ids:
        out.append(f"| {sid} | " + " | ".join(f(table["per_image_f1"][n][sid]) for n in names) + " |")
    return "\n".join(out)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--markdown":
        try:
            with open(sys.argv[2]) as fh:
                print(markdown(json.load(fh)))
        except (OSError, ValueError, KeyError) as e:
            pc.fail(f"{sys.argv[2]} is not a peers.json written by run_peers.py: {e}")
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="DRIVE as distributed (test/ or testing/ inside)")
    ap.add_argument("--lwnet", required=True, help="the user's clone of github.com/agaldran/lwnet")
    ap.add_argument("--skelcon", required=True, help="the user's clone of github.com/tyb311/SkelCon")
    ap.add_argument("--vesselgan", default="", help="the vesselgan program (default: $VESSELGAN, "
                    "build/release/vesselgan, then PATH)")
    ap.add_argument("--model", default=os.path.join(REPO, "models", "sa-unet-drive.pt"),
                    help="our model (default: the shipped models/sa-unet-drive.pt)")
    ap.add_argument("--out", default=os.path.join(REPO, "runs", "peers"), help="output folder")
    ap.add_argument("--threads", type=int, default=2, help="CPU threads for every model")
    a = ap.parse_args()
    a.data, a.out, a.model = os.path.abspath(a.data), os.path.abspath(a.out), os.path.abspath(a.model)
    a.lwnet, a.skelcon = os.path.abspath(a.lwnet), os.path.abspath(a.skelcon)

    samples = check_inputs(a)
    vg = find_vesselgan(a.vesselgan)
    data_split = os.path.dirname(os.path.dirname(samples[0][1]))
    logs = os.path.join(a.out, "logs")
    os.makedirs(logs, exist_ok=True)
    threads = str(a.threads)
    started = datetime.datetime.now(datetime.timezone.utc)
    t_all = time.perf_counter()

    maps, walls = {}, {}
    maps["lwnet"] = os.path.join(a.out, "maps", "lwnet")
    walls["lwnet"] = run("lwnet", [sys.executable, os.path.join(HERE, "lwnet_drive.py"), "--peer-dir", a.lwnet,
                                   "--data", a.data, "--out", maps["lwnet"], "--threads", threads], logs)
    maps["skelcon"] = os.path.join(a.out, "maps", "skelcon")
    walls["skelcon"] = run("skelcon", [sys.executable, os.path.join(HERE, "skelcon_drive.py"), "--peer-dir",
                                       a.skelcon, "--data", a.data, "--out", maps["skelcon"], "--threads", threads],
                           logs)
    maps["vesselgan-estimated-fov"] = os.path.join(a.out, "maps", "vesselgan-estimated-fov")
    walls["vesselgan-estimated-fov"] = run(
        "vesselgan-estimated-fov",
        [vg, "segment", os.path.join(data_split, "images"), "--model", a.model, "--bits", "16", "--device", "cpu",
         "--threads", threads, "--out", maps["vesselgan-estimated-fov"]], logs)
    maps["vesselgan-drive-masks"] = os.path.join(a.out, "maps", "vesselgan-drive-masks")
    walls["vesselgan-drive-masks"] = run(
        "vesselgan-drive-masks",
        [vg, "segment", "--data", a.data, "--split", "test", "--layout", "drive", "--model", a.model, "--bits", "16",
         "--device", "cpu", "--threads", threads, "--out", maps["vesselgan-drive-masks"]], logs)

    view = estimated_fov_view(a.out, data_split, maps["vesselgan-estimated-fov"], samples)
    reports = {}
    for name, folder in maps.items():
        for fov_name, data in (("drive_masks", a.data), ("vesselgan_estimated_fov", view)):
            rep = os.path.join(a.out, "eval", f"{name}-{fov_name}")
            run(f"evaluate-{name}-{fov_name}", [vg, "evaluate", "--pred", folder, "--data", data, "--split", "test",
                                                "--layout", "drive", "--out", rep], logs)
            with open(os.path.join(rep, "metrics.json")) as f:
                reports[(name, fov_name)] = json.load(f)

    def r(x):
        return None if x is None else float(x)  # full precision: the docs round once, from these

    info = {}
    for peer in ("lwnet", "skelcon"):
        with open(os.path.join(maps[peer], "run.json")) as f:
            info[peer] = json.load(f)
    ours_params = count_torchscript_parameters(a.model)
    ours_commit, ours_dirty = pc.git_commit(REPO), pc.git_dirty(REPO)
    rows, fov_check, per_image = [], {}, {}
    for name in maps:
        m = reports[(name, "drive_masks")]
        fp = m["fov_pooled"]
        best, best_t, f1_half = best_threshold_f1(maps[name], samples, data_split)
        if abs(f1_half - fp["f1"]) > 1e-6:
            log(f"warning: {name}: F1 at 0.5 from the PNGs here {f1_half:.6f} differs from the scorer's "
                f"{fp['f1']:.6f}")
        if name in info:
            src = {"commit": info[name]["commit"], "work_tree_modified": info[name]["work_tree_modified"],
                   "weights": info[name]["weights"], "weights_sha256": info[name]["weights_sha256"],
                   "parameters": info[name]["parameters"], "conventions": info[name]["conventions"]}
        else:
            src = {"commit": ours_commit, "work_tree_modified": ours_dirty,
                   "weights": os.path.relpath(a.model, REPO) if a.model.startswith(REPO + os.sep) else a.model,
                   "weights_sha256": pc.sha256(a.model), "parameters": ours_params,
                   "conventions": "vesselgan segment " + ("(FOV estimated from each photograph)"
                                                          if name.endswith("estimated-fov")
                                                          else "--data (DRIVE's FOV masks)")
                                  + ", shipped ensemble of SA-UNets, no TTA; 16-bit maps"}
        rows.append({"model": name, "f1": r(fp["f1"]), "auc": r(fp["auc_roc"]), "se": r(fp["se"]),
                     "sp": r(fp["sp"]), "precision": r(fp["precision"]), "acc": r(fp["acc"]),
                     "f1_best_threshold": r(best), "best_threshold": r(best_t),
                     "parameters": src.pop("parameters"), "wall_seconds": round(walls[name], 1), **src})
        fov_check[name] = {}
        for fov_name in ("drive_masks", "vesselgan_estimated_fov"):
            q = reports[(name, fov_name)]
            fov_check[name][fov_name] = {"f1": r(q["fov_pooled"]["f1"]), "auc": r(q["fov_pooled"]["auc_roc"]),
                                         "se": r(q["fov_pooled"]["se"]),
                                         "precision": r(q["fov_pooled"]["precision"]),
                                         "fov_pixels": q["fov_pixels"]}
        per_image[name] = {sid: r(v["f1"]) for sid, v in m["per_image"].items()}

    table = {
        "benchmark": "issue 30: public peers on DRIVE test beside vesselgan's shipped model",
        "protocol": "DRIVE test, 20 photographs, 1st_manual; FOV pooled inside DRIVE's masks; threshold 0.5 "
                    "(prob >= 0.5); scored by vesselgan evaluate --pred (exact AUC, ties trapezoid)",
        "date_utc": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {"host": platform.node(), "os": platform.platform(), "cpus": os.cpu_count(),
                    "threads": a.threads, "python": platform.python_version(),
                    "torch": __import__("torch").__version__, "device": "cpu"},
        "command": " ".join([os.path.relpath(sys.argv[0], os.getcwd())] + sys.argv[1:]),
        "vesselgan": vg,
        "vesselgan_version": subprocess.run([vg, "--version"], capture_output=True, text=True).stdout.strip(),
        "models": rows,
        "fov_check": fov_check,
        "per_image_f1": per_image,
        "wall_seconds_total": round(time.perf_counter() - t_all, 1),
        "notes": "wall_seconds: the model's whole step (start-up, reading, inference, writing) on a machine that "
                 "may be shared. commit of a vesselgan row: this repository's, which holds the model file. "
                 "f1_best_threshold: the oracle threshold on the test set itself, for comparison "
                 "only. fov_check: the same maps scored inside DRIVE's masks and inside the FOV that vesselgan "
                 "segment estimated. vesselgan parameters: all members of the shipped ensemble.",
    }
    text = json.dumps(table, indent=1)
    with open(os.path.join(a.out, "peers.json"), "w") as f:
        f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
