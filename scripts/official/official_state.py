#!/usr/bin/env python3
"""Moves StyleGAN2 networks between NVIDIA's stylegan2-ada-pytorch and a plain tensor file vesselgan reads.

The official code is not part of vesselgan: point --official at a checkout of
https://github.com/NVlabs/stylegan2-ada-pytorch (any folder; this script only imports from it).

The file (docs/official.md): safetensors layout (safetensors_io.py) with the tensors "G.<name>", "G_ema.<name>"
and "D.<name>", <name> as in the official networks' state_dict (parameters, mapping.w_avg and the noise_const
buffers; the constant resample_filter buffers are left out), and the metadata "format" =
"vesselgan-stylegan2-networks", "version" = "1" and "networks" = JSON of the shape in vesselgan's terms:
z_dim, w_dim, mapping_layers, mapping_lr_mul, w_avg_beta, resolution, img_channels, channel_base, channel_max,
conv_clamp, mbstd_group, mbstd_channels. `vesselgan gan convert` reads and writes the same files.

  official_state.py --official DIR to-file --pkl network-snapshot.pkl --out nets.safetensors
  official_state.py --official DIR to-pkl --file nets.safetensors --out nets.pkl     # for train.py --resume
  official_state.py --official DIR new --networks '{"resolution": 16, ...}' --seed 0 --out nets.safetensors
"""
import argparse
import copy
import json
import os
import pickle
import re
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

FORMAT = "vesselgan-stylegan2-networks"
NETWORKS = ("G", "G_ema", "D")
# vesselgan's defaults where a "networks" JSON leaves a field out (GeneratorOptions / DiscriminatorOptions).
DEFAULTS = dict(z_dim=512, w_dim=512, mapping_layers=8, mapping_lr_mul=0.01, w_avg_beta=0.995, resolution=256,
                img_channels=3, channel_base=32768, channel_max=512, conv_clamp=256.0, mbstd_group=4,
                mbstd_channels=1)


def import_official(folder):
    """Makes the official packages (training, torch_utils, dnnlib, legacy) importable from `folder`."""
    if not os.path.isfile(os.path.join(folder, "training", "networks.py")):
        sys.exit(f"--official {folder}: not a stylegan2-ada-pytorch checkout (no training/networks.py)")
    sys.path.insert(0, os.path.abspath(folder))


def official_kwargs(nets):
    """vesselgan's "networks" -> (G kwargs, D kwargs) for training.networks.Generator / Discriminator."""
    n = dict(DEFAULTS, **nets)
    unknown = set(nets) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown networks fields {sorted(unknown)} (valid: {sorted(DEFAULTS)})")
    g = dict(z_dim=n["z_dim"], c_dim=0, w_dim=n["w_dim"], img_resolution=n["resolution"],
             img_channels=n["img_channels"],
             mapping_kwargs=dict(num_layers=n["mapping_layers"], lr_multiplier=n["mapping_lr_mul"],
                                 w_avg_beta=n["w_avg_beta"]),
             synthesis_kwargs=dict(channel_base=n["channel_base"], channel_max=n["channel_max"], num_fp16_res=0,
                                   conv_clamp=n["conv_clamp"] or None))
    d = dict(c_dim=0, img_resolution=n["resolution"], img_channels=n["img_channels"], architecture="resnet",
             channel_base=n["channel_base"], channel_max=n["channel_max"], num_fp16_res=0,
             conv_clamp=n["conv_clamp"] or None,
             epilogue_kwargs=dict(mbstd_group_size=n["mbstd_group"], mbstd_num_channels=n["mbstd_channels"]))
    return g, d


def networks_of(G, D):
    """The "networks" JSON of official networks (from their recorded constructor arguments)."""
    g, d = G.init_kwargs, D.init_kwargs
    m, s = g.get("mapping_kwargs", {}), g.get("synthesis_kwargs", {})
    e = d.get("epilogue_kwargs", {})
    if g.get("c_dim", 0) or d.get("c_dim", 0):
        raise ValueError("conditional networks (c_dim > 0) have no vesselgan counterpart")
    if s.get("architecture", "skip") != "skip" or d.get("architecture", "resnet") != "resnet":
        raise ValueError("vesselgan has the skip generator and the resnet discriminator only")
    if s.get("channel_base", 32768) != d.get("channel_base", 32768) or \
            s.get("channel_max", 512) != d.get("channel_max", 512):
        raise ValueError("G and D with different channel_base / channel_max are not supported")
    clamp = s.get("conv_clamp")
    return dict(z_dim=g["z_dim"], w_dim=g["w_dim"], mapping_layers=m.get("num_layers", 8),
                mapping_lr_mul=m.get("lr_multiplier", 0.01), w_avg_beta=m.get("w_avg_beta", 0.995),
                resolution=g["img_resolution"], img_channels=g["img_channels"],
                channel_base=s.get("channel_base", 32768), channel_max=s.get("channel_max", 512),
                conv_clamp=float(clamp) if clamp is not None else 0.0, mbstd_group=e.get("mbstd_group_size", 4),
                mbstd_channels=e.get("mbstd_num_channels", 1))


def build(nets):
    """Fresh official (G, G_ema, D) for vesselgan's "networks" JSON, G_ema a copy of G, in eval mode."""
    from training import networks
    gk, dk = official_kwargs(nets)
    G = networks.Generator(**gk).eval().requires_grad_(False)
    D = networks.Discriminator(**dk).eval().requires_grad_(False)
    return G, copy.deepcopy(G), D


def state_of(module):
    """The tensors the file holds of one official network: its state_dict less resample_filter."""
    return {k: v for k, v in module.state_dict().items() if not k.endswith("resample_filter")}


def save(path, nets, G, G_ema, D, source="", kimg=None):
    tensors = {}
    for prefix, m in zip(NETWORKS, (G, G_ema, D)):
        for k, v in state_of(m).items():
            tensors[f"{prefix}.{k}"] = v.float()
    metadata = {"format": FORMAT, "version": "1", "networks": json.dumps(nets), "source": source}
    if kimg is not None:
        metadata["kimg"] = str(kimg)
    safetensors_io.write(path, tensors, metadata)


def snapshot_kimg(pkl):
    """The kimg of an official training snapshot, which train.py writes as network-snapshot-<kimg, 6 digits>.pkl;
    None for other names."""
    m = re.fullmatch(r"network-snapshot-(\d+)\.pkl", os.path.basename(pkl))
    return int(m.group(1)) if m else None


def load(path):
    """-> (nets, G, G_ema, D): official networks built from the file's "networks" with its tensors.
    Every tensor of the file must name a tensor of the networks and the reverse (resample_filter aside)."""
    tensors, meta = safetensors_io.read(path)
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}: format {meta.get('format')!r}, expected {FORMAT!r}")
    nets = json.loads(meta["networks"])
    G, G_ema, D = build(nets)
    for prefix, m in zip(NETWORKS, (G, G_ema, D)):
        own = state_of(m)
        given = {k[len(prefix) + 1:]: v for k, v in tensors.items() if k.startswith(prefix + ".")}
        missing, extra = sorted(set(own) - set(given)), sorted(set(given) - set(own))
        if missing or extra:
            raise ValueError(f"{path}: {prefix} does not fit the networks (missing {missing[:5]}, "
                             f"unexpected {extra[:5]})")
        for k, v in own.items():
            if tuple(given[k].shape) != tuple(v.shape):
                raise ValueError(f"{path}: {prefix}.{k} has shape {tuple(given[k].shape)}, expected {tuple(v.shape)}")
            v.copy_(given[k])
    return nets, G, G_ema, D


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--official", required=True, help="a stylegan2-ada-pytorch checkout")
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("to-file", help="an official network pickle -> a tensor file")
    a.add_argument("--pkl", required=True)
    a.add_argument("--out", required=True)
    b = sub.add_parser("to-pkl", help="a tensor file -> an official network pickle (train.py --resume reads it)")
    b.add_argument("--file", required=True)
    b.add_argument("--out", required=True)
    c = sub.add_parser("new", help="freshly initialized official networks -> a tensor file")
    c.add_argument("--networks", required=True, help="JSON in vesselgan's terms (see above)")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--out", required=True)
    args = ap.parse_args()
    import_official(args.official)

    if args.cmd == "to-file":
        import legacy
        with open(args.pkl, "rb") as f:
            data = legacy.load_network_pkl(f)
        G, G_ema, D = data["G"], data["G_ema"], data["D"]
        save(args.out, networks_of(G, D), G, G_ema, D, source=os.path.abspath(args.pkl), kimg=snapshot_kimg(args.pkl))
    elif args.cmd == "to-pkl":
        nets, G, G_ema, D = load(args.file)
        with open(args.out, "wb") as f:
            pickle.dump(dict(G=G, D=D, G_ema=G_ema, augment_pipe=None, training_set_kwargs=None), f)
    else:
        torch.manual_seed(args.seed)
        nets = dict(DEFAULTS, **json.loads(args.networks))
        G, G_ema, D = build(nets)
        save(args.out, nets, G, G_ema, D, source=f"stylegan2-ada-pytorch networks, torch.manual_seed({args.seed})")


if __name__ == "__main__":
    main()
