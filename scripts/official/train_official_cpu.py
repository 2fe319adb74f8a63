#!/usr/bin/env python3
"""Runs NVIDIA's stylegan2-ada-pytorch train.py on the CPU with vesselgan's CPU recipe, from a checkout the user
names; the checkout is not modified, the patches below are applied in memory at run time.

  train_official_cpu.py --official DIR --data CROPS --outdir RUNS --kimg 60 [--tick-kimg 1] [--seed 0]

With --aug ada (the label32 recipe: add --gamma 0.5 and 32 px crops), ADA runs with the bgc pipeline, --target and
ada_kimg = --ada-kimg, as vesselgan's `--preset label32`.

Recipe (the defaults; vesselgan `gan train --layout folder --mode full --resolution 64 --ada off` with
z = w = 128, 2 mapping layers, channel base 1024 and max 128, batch 16, as the joint64 / patch64 presets):
train.py --cfg auto --batch 16 --gamma 0.0512 --aug noaug --mirror 1 --metrics none, then the training-loop
arguments adjusted after train.py builds them: z_dim = w_dim = 128, mapping layers 2, channel_base 1024,
channel_max 128 (G and D), no fp16 layers (conv_clamp 256 kept, as vesselgan's fp32 networks), path-length
weight 0, lr 0.0025 and betas (0, 0.99) for G and D, style mixing 0.9, minibatch-stddev group 4, EMA
half-life batch * 10 / 32 kimg with ramp-up 0.05 (train.py's auto values for batch 16), a fractional
--kimg, ticks every --tick-kimg.

Patches: the training loop's source is read and run with torch.device('cpu') in place of
torch.device('cuda', rank), without its CUDA timing events, and with ticks at multiples of --tick-kimg as
vesselgan's (PATCHES; the training itself is untouched); Tensor.pin_memory returns the tensor; the CUDA
peak-memory queries return 0; ADA's grid_sample_gradfix is kept working on PyTorch 1.13
(patch_grid_sample_gradfix). The other custom ops fall back to their reference implementations on the CPU
by themselves. Data: the official loop draws real images in a shuffled order that it keeps reshuffling as it goes
(torch_utils/misc.py InfiniteSampler: swaps within a window of half the data set), x-flips when --mirror 1, and scales uint8 to [-1, 1] as x / 127.5 - 1.
"""
import argparse
import importlib
import os
import sys
import types

import torch

# (text in training/training_loop.py, its replacement, how often it occurs there)
PATCHES = [
    ("torch.device('cuda', rank)", "torch.device('cpu')", 1),  # the device
    ("torch.cuda.Event(enable_timing=True)", "None", 2),  # per-phase CUDA timing events: none, as on other ranks
    # Ticks end at the first multiple of kimg_per_tick reached, as vesselgan's do, rather than kimg_per_tick after
    # the previous tick (which drifts by a minibatch per tick), so the two runs' ticks pair up at equal kimg.
    ("cur_nimg < tick_start_nimg + kimg_per_tick * 1000",
     "cur_nimg < (tick_start_nimg // round(kimg_per_tick * 1000) + 1) * round(kimg_per_tick * 1000)", 1),
]


def patch_grid_sample_gradfix():
    """ADA's geometric ops resample with grid_sample, and R1 differentiates D's gradient through them again. The
    official custom op that makes this possible is on for PyTorch 1.7-1.9 only; on later versions it falls back
    to torch's grid_sample, whose backward has no derivative ("derivative for aten::grid_sampler_2d_backward is
    not implemented"). So the op is kept on, and its backward calls the aten op with the signature PyTorch
    1.10+ has (an output mask). The maths is the official op's: the second derivative flows to grad_output only."""
    from torch_utils.ops import grid_sample_gradfix as gsg

    def backward_forward(ctx, grad_output, input, grid):
        grad_input, grad_grid = torch.ops.aten.grid_sampler_2d_backward(grad_output, input, grid, 0, 0, False,
                                                                        [True, True])
        ctx.save_for_backward(grid)
        return grad_input, grad_grid

    gsg._GridSample2dBackward.forward = staticmethod(backward_forward)
    gsg._should_use_custom_op = lambda: gsg.enabled


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--official", required=True, help="a stylegan2-ada-pytorch checkout")
    ap.add_argument("--data", required=True, help="folder of square PNGs (make_vessel_crops.py)")
    ap.add_argument("--outdir", required=True)
    ap.add_argument("--kimg", type=float, required=True)
    ap.add_argument("--tick-kimg", type=float, default=1, help="as the patch64 preset")
    ap.add_argument("--snap", type=int, default=5, help="network snapshot every this many ticks")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--gamma", type=float, default=0.0512)
    ap.add_argument("--zw", type=int, default=128, help="z_dim = w_dim")
    ap.add_argument("--channel-base", type=int, default=1024)
    ap.add_argument("--channel-max", type=int, default=128)
    ap.add_argument("--aug", default="noaug", choices=["noaug", "ada"],
                    help="ada: adaptive augmentation with the bgc pipeline (as vesselgan's label32 preset)")
    ap.add_argument("--target", type=float, default=0.6, help="with --aug ada: ADA's target r_t")
    ap.add_argument("--ada-kimg", type=float, default=25,
                    help="with --aug ada: p can go from 0 to 1 in this many kimg (vesselgan's label64/label32: 25)")
    ap.add_argument("--resume", default=None, help="official network pickle to start from (official_state.py to-pkl)")
    args = ap.parse_args()

    official = os.path.abspath(args.official)
    outdir, data = os.path.abspath(args.outdir), os.path.abspath(args.data)
    resume = os.path.abspath(args.resume) if args.resume else None
    loop_path = os.path.join(official, "training", "training_loop.py")
    if not os.path.isfile(loop_path) or not os.path.isfile(os.path.join(official, "train.py")):
        sys.exit(f"--official {official}: not a stylegan2-ada-pytorch checkout (train.py, training/training_loop.py)")
    sys.path.insert(0, official)
    torch.set_num_threads(args.threads)

    # The training loop on the CPU.
    import training
    src = open(loop_path, encoding="utf-8-sig").read()  # the file starts with a byte-order mark
    for old, new, count in PATCHES:
        if src.count(old) != count:
            sys.exit(f"{loop_path}: expected {count} x {old!r} to patch, found {src.count(old)} "
                     "(another version of stylegan2-ada-pytorch?)")
        src = src.replace(old, new)
    loop = types.ModuleType("training.training_loop")
    loop.__file__ = loop_path
    sys.modules["training.training_loop"] = loop
    training.training_loop = loop
    exec(compile(src, loop_path, "exec"), loop.__dict__)
    patch_grid_sample_gradfix()
    torch.Tensor.pin_memory = lambda self, *a, **k: self
    torch.cuda.max_memory_allocated = lambda *a, **k: 0
    torch.cuda.reset_peak_memory_stats = lambda *a, **k: None

    train = importlib.import_module("train")
    setup = train.setup_training_loop_kwargs

    def setup_recipe(**kw):
        desc, a = setup(**kw)
        g, d = a.G_kwargs, a.D_kwargs
        g.z_dim = g.w_dim = args.zw
        g.mapping_kwargs.num_layers = 2
        g.synthesis_kwargs.channel_base = d.channel_base = args.channel_base
        g.synthesis_kwargs.channel_max = d.channel_max = args.channel_max
        g.synthesis_kwargs.num_fp16_res = d.num_fp16_res = 0
        g.synthesis_kwargs.conv_clamp = d.conv_clamp = 256
        d.epilogue_kwargs.mbstd_group_size = min(4, args.batch)
        a.loss_kwargs.pl_weight = 0
        a.loss_kwargs.style_mixing_prob = 0.9
        a.G_opt_kwargs.lr = a.D_opt_kwargs.lr = 0.0025
        a.G_opt_kwargs.betas = a.D_opt_kwargs.betas = [0, 0.99]
        a.ema_kimg = args.batch * 10 / 32
        a.ema_rampup = 0.05
        a.total_kimg = args.kimg
        a.kimg_per_tick = args.tick_kimg
        a.cudnn_benchmark = False
        if args.aug == "ada":
            a.ada_kimg = args.ada_kimg
        return desc + f"-cpu-zw{args.zw}-cb{args.channel_base}", a

    train.setup_training_loop_kwargs = setup_recipe
    argv = [f"--outdir={outdir}", f"--data={data}", "--gpus=1",
            f"--snap={args.snap}", "--metrics=none", f"--seed={args.seed}", "--mirror=1", "--cfg=auto",
            f"--gamma={args.gamma}", f"--batch={args.batch}", f"--aug={args.aug}", "--kimg=1", "--workers=1"]
    if args.aug == "ada":
        argv += ["--augpipe=bgc", f"--target={args.target}"]
    if resume:
        argv.append(f"--resume={resume}")
    train.main(argv, standalone_mode=False)


if __name__ == "__main__":
    main()
