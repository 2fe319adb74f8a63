#!/usr/bin/python3
"""Runs lwnet's released DRIVE W-Net (Galdran et al., "The Little W-Net That Could", github.com/agaldran/lwnet)
on the DRIVE test photographs and writes one 16-bit probability PNG per photograph (<id>_prob.png) for
`vesselgan evaluate --pred OUT`.

Usage: lwnet_drive.py --peer-dir CLONE --data DRIVE --out DIR [--tta from_preds|no] [--threads 2]

CLONE is the user's clone of lwnet; the model definition is imported from it (CLONE/models/get_model.py) and
the weights read from CLONE/experiments/wnet_drive/model_checkpoint.pth. Nothing is fetched.

Conventions followed, read from lwnet's generate_results.py (its published test protocol) and
utils/get_loaders.py (TestDataset), commit ce72dda:
- the photograph is cropped to the bounding box of DRIVE's FOV mask (test/mask/NN_test_mask.gif);
- the crop is resized to 512x512 with PIL's bilinear filter (lwnet's Resize -> torchvision -> PIL) and
  scaled to [0, 1] (ToTensor; no mean/std normalisation);
- the W-Net in eval mode returns the second U-Net's logits; sigmoid;
- test-time augmentation "from_preds" (generate_results.py's default): the mean of the probabilities of the
  image and its left-right, up-down and both flips;
- the 512x512 map is resized back to the crop with skimage's resize(order=3) (bicubic), placed into a
  full-size zero map, and zeroed outside the FOV mask.
One difference: lwnet saves 8-bit PNGs (img_as_ubyte); we save 16-bit, so thresholds and AUC see the
probabilities to 1/65535 instead of 1/255.
"""
import argparse
import os
import sys
import time

sys.dont_write_bytecode = True  # nothing written into our tree or the user's clone
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_common as pc  # noqa: E402

WEIGHTS = os.path.join("experiments", "wnet_drive", "model_checkpoint.pth")
MODEL_DEF = os.path.join("models", "get_model.py")
SIZE = 512


def load_model(peer_dir):
    weights = os.path.join(peer_dir, WEIGHTS)
    if not os.path.isdir(peer_dir):
        pc.fail(f"lwnet folder {peer_dir} does not exist (expected a clone of github.com/agaldran/lwnet)")
    if not os.path.isfile(os.path.join(peer_dir, MODEL_DEF)):
        pc.fail(f"{os.path.join(peer_dir, MODEL_DEF)} is missing (expected a clone of github.com/agaldran/lwnet "
                "with its models/ folder)")
    if not os.path.isfile(weights):
        pc.fail(f"lwnet's released DRIVE weights {weights} are missing (expected {WEIGHTS} in the clone)")
    if os.path.getsize(weights) < 10000:
        pc.fail(f"{weights} is only {os.path.getsize(weights)} bytes: a Git LFS pointer, not the weights "
                "(expected the ~0.9 MB checkpoint)")
    import torch
    sys.path.insert(0, os.path.abspath(peer_dir))
    try:
        from models.get_model import get_arch  # the peer's own model definition, from the user's clone
    except Exception as e:  # noqa: BLE001 - report any import problem as one line
        pc.fail(f"cannot import lwnet's model definition from {os.path.join(peer_dir, MODEL_DEF)}: {e}")
    model = get_arch("wnet", in_c=3, n_classes=1)
    model.mode = "eval"  # generate_results.py: the W-Net then returns the second U-Net's logits only
    try:
        ckpt = torch.load(weights, map_location="cpu")
        model.load_state_dict(ckpt["model_state_dict"])
    except Exception as e:  # noqa: BLE001
        pc.fail(f"{weights} does not load into lwnet's W-Net: {e}")
    model.eval()
    return model, weights


def predict(model, rgb, fov, tta):
    """lwnet's inference on one photograph (see the module docstring); returns [H, W] float in [0, 1]."""
    import numpy as np
    import torch
    from PIL import Image
    from skimage.transform import resize

    ys, xs = np.nonzero(fov)
    r0, r1, c0, c1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1  # regionprops(mask).bbox
    crop = Image.fromarray(rgb[r0:r1, c0:c1])
    small = crop.resize((SIZE, SIZE), Image.BILINEAR)
    x = torch.from_numpy(np.asarray(small, dtype=np.float32) / 255.0).permute(2, 0, 1).unsqueeze(0)
    with torch.no_grad():
        views = [((), x)]
        if tta == "from_preds":
            views += [((-1,), x.flip(-1)), ((-2,), x.flip(-2)), ((-1, -2), x.flip(-1).flip(-2))]
        probs = []
        for dims, v in views:
            p = torch.sigmoid(model(v))
            probs.append(p.flip(dims) if dims else p)
        pred = torch.stack(probs).mean(0)[0, -1].numpy().astype(np.float64)
    pred = resize(pred, output_shape=(r1 - r0, c1 - c0), order=3)
    full = np.zeros(fov.shape, dtype=np.float64)
    full[r0:r1, c0:c1] = pred
    full[~fov] = 0
    return full


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--peer-dir", required=True, help="the user's clone of github.com/agaldran/lwnet")
    ap.add_argument("--data", required=True, help="DRIVE as distributed (test/ or testing/)")
    ap.add_argument("--out", required=True, help="folder for <id>_prob.png and run.json")
    ap.add_argument("--tta", default="from_preds", choices=["from_preds", "no"],
                    help="lwnet's test-time flips (default from_preds, as generate_results.py)")
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    a = ap.parse_args()

    samples = pc.drive_test_split(a.data)
    t_start = time.perf_counter()
    model, weights = load_model(a.peer_dir)
    import torch
    torch.set_num_threads(a.threads)
    pc.run_test_split("lwnet", samples, a.out, lambda rgb, fov: predict(model, rgb, fov, a.tta), a.peer_dir,
                      weights, {
                          "model": "W-Net (wnet, layers 8/16/32), released DRIVE weights",
                          "repository": "https://github.com/agaldran/lwnet",
                          "parameters": int(sum(p.numel() for p in model.parameters())),
                          "conventions": "crop to DRIVE FOV mask bbox, PIL bilinear resize to 512x512, [0,1] input, "
                                         "sigmoid, " + ("4-flip TTA averaged over probabilities (from_preds)"
                                                        if a.tta == "from_preds" else "no TTA")
                                         + ", bicubic resize back, zero outside the mask; saved 16-bit"},
                      a.threads, t_start)

if __name__ == "__main__":
    main()
