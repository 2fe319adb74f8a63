#!/usr/bin/env python3
"""Writes tests/fixtures/stylegan2-official/tiny.safetensors: what NVIDIA's stylegan2-ada-pytorch computes for a
tiny configuration, as data, so vesselgan's OfficialEquivalence tests compare against it without Python.

  python3 scripts/official/make_equivalence_fixtures.py --official /path/to/stylegan2-ada-pytorch \
      --out tests/fixtures/stylegan2-official/tiny.safetensors

The official code runs from the folder given (CPU, its reference implementations of the custom ops); nothing of
it is copied. The file (safetensors layout, safetensors_io.py; docs/official.md lists every entry):
  G.<name>, D.<name>       the starting networks (official state_dict names, as official_state.py writes them)
  in.*                     the inputs: latents per phase, real images, the path-length draw, ADA's images
  out.*                    mapping ws, G's image (noise_mode 'const'), D's logits on fakes and reals
  loss.<phase>.*           what the official loss reported in each phase of one training step
  grad.<phase>.<net>.*     every parameter's gradient after the phase's backward
  after.<phase>.<net>.*    every parameter (and G's w_avg) after the phase's Adam step
  ada.*                    the ADA pipeline's output at a fixed p after torch.manual_seed(ada.seed); ada.color1
                           its colour half on the first channel of ada.in alone (ada.in1)
and metadata "config" (JSON: networks in vesselgan's terms, the loop's hyperparameters, versions).

The training step is the official loop's first iteration (training/training_loop.py): phases Gmain, Greg, Dmain,
Dreg in that order, each zeroing its network's gradients, running StyleGAN2Loss.accumulate_gradients with
gain = its interval, and stepping its network's Adam, whose lr and betas the loop scales by
interval / (interval + 1) for lazy regularization. Two changes make it deterministic: G's synthesis runs with
noise_mode 'const' (the noise_const buffers instead of fresh noise) and style mixing is off; the path-length
draw (torch.randn_like in the loss) is replaced by in.pl_randn.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import official_state  # noqa: E402
import safetensors_io  # noqa: E402

NETWORKS = dict(z_dim=32, w_dim=32, mapping_layers=2, mapping_lr_mul=0.01, w_avg_beta=0.995, resolution=16,
                img_channels=3, channel_base=256, channel_max=16, conv_clamp=256.0, mbstd_group=2, mbstd_channels=1)
BATCH = 4
LOOP = dict(batch=BATCH, lr=0.0025, betas=[0.0, 0.99], eps=1e-8, G_reg_interval=4, D_reg_interval=16,
            r1_gamma=0.0002 * 16 ** 2 / BATCH, pl_weight=2.0, pl_decay=0.01, pl_batch_shrink=2, style_mixing_prob=0.0)
ADA = dict(p=0.6, seed=1234, batch=8)
BGC = dict(xflip=1, rotate90=1, xint=1, scale=1, rotate=1, aniso=1, xfrac=1,
           brightness=1, contrast=1, lumaflip=1, hue=1, saturation=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--official", required=True, help="a stylegan2-ada-pytorch checkout")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    official_state.import_official(args.official)
    from training import augment, loss as loss_module

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    G, _, D = official_state.build(NETWORKS)
    G.train()
    D.train()
    # Official initial biases and noise strengths are 0 or 1; move them so every term has a gradient to compare.
    with torch.no_grad():
        for m in (G, D):
            for name, p in m.named_parameters():
                if name.endswith("bias") or name.endswith("noise_strength"):
                    p.add_(torch.randn_like(p) * 0.1)
    out = {}
    for prefix, m in (("G", G), ("D", D)):
        for k, v in official_state.state_of(m).items():
            out[f"{prefix}.{k}"] = v.detach().clone()

    R, Z = NETWORKS["resolution"], NETWORKS["z_dim"]
    phases = ["Gmain", "Greg", "Dmain", "Dreg"]
    for ph in phases:
        out[f"in.z.{ph}"] = torch.randn([BATCH, Z])
    out["in.real"] = torch.rand([BATCH, NETWORKS["img_channels"], R, R]) * 2 - 1
    pl_batch = BATCH // LOOP["pl_batch_shrink"]
    out["in.pl_randn"] = torch.randn([pl_batch, NETWORKS["img_channels"], R, R])

    # G always synthesizes with the constant noise buffers.
    synthesis_forward = G.synthesis.forward
    G.synthesis.forward = lambda ws, **kw: synthesis_forward(ws, **dict(kw, noise_mode="const"))

    # Forward: mapping (no w_avg update), image, logits.
    with torch.no_grad():
        ws = G.mapping(out["in.z.Gmain"], None, skip_w_avg_update=True)
        img = G.synthesis(ws)
        out["out.ws"] = ws
        out["out.img"] = img
        out["out.logits_fake"] = D(img, None)
        out["out.logits_real"] = D(out["in.real"], None)

    # One iteration of the official loop.
    reports = {}
    loss_module.training_stats.report = lambda name, value: reports.__setitem__(name, value.detach().clone())
    loss = loss_module.StyleGAN2Loss(device=torch.device("cpu"), G_mapping=G.mapping, G_synthesis=G.synthesis, D=D,
                                     augment_pipe=None, style_mixing_prob=LOOP["style_mixing_prob"],
                                     r1_gamma=LOOP["r1_gamma"], pl_batch_shrink=LOOP["pl_batch_shrink"],
                                     pl_decay=LOOP["pl_decay"], pl_weight=LOOP["pl_weight"])
    randn_like = torch.randn_like
    torch.randn_like = lambda t, *a, **kw: out["in.pl_randn"].clone() if tuple(t.shape) == tuple(
        out["in.pl_randn"].shape) else randn_like(t, *a, **kw)
    opts = {}
    for name, module, interval in (("G", G, LOOP["G_reg_interval"]), ("D", D, LOOP["D_reg_interval"])):
        r = interval / (interval + 1)
        opts[name] = torch.optim.Adam(module.parameters(), lr=LOOP["lr"] * r, betas=[b ** r for b in LOOP["betas"]],
                                      eps=LOOP["eps"])
    for ph in phases:
        net, module = ("G", G) if ph.startswith("G") else ("D", D)
        interval = 1 if ph.endswith("main") else LOOP[f"{net}_reg_interval"]
        reports.clear()
        opts[net].zero_grad(set_to_none=True)
        module.requires_grad_(True)
        loss.accumulate_gradients(phase=ph, real_img=out["in.real"], real_c=torch.zeros([BATCH, 0]),
                                  gen_z=out[f"in.z.{ph}"], gen_c=torch.zeros([BATCH, 0]), sync=True, gain=interval)
        module.requires_grad_(False)
        for k, v in reports.items():
            out[f"loss.{ph}.{k.replace('Loss/', '').replace('/', '_')}"] = v
        for k, p in module.named_parameters():
            out[f"grad.{ph}.{net}.{k}"] = p.grad.detach().clone() if p.grad is not None else torch.zeros_like(p)
        opts[net].step()
        for k, p in module.named_parameters():
            out[f"after.{ph}.{net}.{k}"] = p.detach().clone()
        out[f"after.{ph}.G.mapping.w_avg"] = G.mapping.w_avg.detach().clone()
        if ph == "Greg":
            out["loss.Greg.pl_mean"] = loss.pl_mean.detach().clone()
    torch.randn_like = randn_like

    # ADA at a fixed p: the full "bgc" pipeline, its colour half, its geometric half, each after the same seed.
    gen = torch.Generator().manual_seed(args.seed + 1)
    # Smooth images (bilinear 4x4 -> R x R noise): resampling them differs little between the two pipelines'
    # filters, so a different geometric transform would stand out.
    coarse = torch.rand([ADA["batch"], 3, 4, 4], generator=gen) * 2 - 1
    out["ada.in"] = torch.nn.functional.interpolate(coarse, size=(R, R), mode="bilinear", align_corners=False)
    out["ada.p"] = torch.tensor(ADA["p"], dtype=torch.float64)
    out["ada.seed"] = torch.tensor(ADA["seed"], dtype=torch.int64)
    color = {k: v for k, v in BGC.items() if k in ("brightness", "contrast", "lumaflip", "hue", "saturation")}
    geom = {k: v for k, v in BGC.items() if k not in color}
    for name, kw in (("bgc", BGC), ("color", color), ("geom", geom)):
        pipe = augment.AugmentPipe(**kw).train().requires_grad_(False)
        pipe.p.copy_(torch.as_tensor(ADA["p"]))
        torch.manual_seed(ADA["seed"])
        with torch.no_grad():
            out[f"ada.{name}"] = pipe(out["ada.in"].clone())

    # The colour half on one-channel images (a vessel map alone), which the official averages over the RGB rows.
    out["ada.in1"] = out["ada.in"][:, :1].clone()
    pipe = augment.AugmentPipe(**color).train().requires_grad_(False)
    pipe.p.copy_(torch.as_tensor(ADA["p"]))
    torch.manual_seed(ADA["seed"])
    with torch.no_grad():
        out["ada.color1"] = pipe(out["ada.in1"].clone())

    commit = subprocess.run(["git", "-C", args.official, "rev-parse", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    config = dict(networks=NETWORKS, loop=LOOP, ada=dict(ADA, bgc=BGC), seed=args.seed, phases=phases,
                  noise_mode="const", official_commit=commit, torch=torch.__version__, numpy=np.__version__,
                  made_by="scripts/official/make_equivalence_fixtures.py")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    safetensors_io.write(args.out, {k: v.float() if v.is_floating_point() and k != "ada.p" else v
                                    for k, v in out.items()},
                         {"format": "vesselgan-stylegan2-equivalence", "version": "1", "config": json.dumps(config)})
    print(f"{args.out}: {len(out)} tensors, {os.path.getsize(args.out)} bytes")


if __name__ == "__main__":
    main()
