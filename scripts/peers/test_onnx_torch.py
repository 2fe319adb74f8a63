#!/usr/bin/python3
"""Checks onnx_torch.py against torch itself: a small network built from the operators SkelCon's graphs use
(3x3 and 1x1 convolutions with batch norm folded into them, hardswish written as x*relu6(x+3)/6, 2x2 max
pooling, bilinear 2x upsampling, concatenation, sigmoid) is exported by torch.onnx at opset 11 (the opset of
SkelCon's files), run by the interpreter at another input size, and compared with the network's own output.
Also checks that an operator it does not implement is refused by name.

Usage: scripts/peers/test_onnx_torch.py     (exit 0 and "ok" when both checks pass)
"""
import io
import os
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import onnx_torch  # noqa: E402


def hswish(x):
    """Hardswish written out, as SkelCon's graphs have it (Add, Clip, Mul, Div); F.hardswish exports as
    HardSigmoid under torch 1.13."""
    return x * F.relu6(x + 3) / 6


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.c2 = nn.Conv2d(4, 8, 3, padding=1)
        self.c3 = nn.Conv2d(12, 4, 1)
        self.out = nn.Conv2d(4, 1, 1)

    def forward(self, x):
        a = hswish(self.bn(self.c1(x)))
        b = hswish(self.c2(F.max_pool2d(a, 2)))
        b = F.interpolate(b, scale_factor=2, mode="bilinear", align_corners=False)
        return torch.sigmoid(self.out(hswish(self.c3(torch.cat([b, a], 1)))))


def export(model, x, opset=11):
    buf = io.BytesIO()
    torch.onnx.export(model, x, buf, opset_version=opset, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch", 2: "height", 3: "width"}})
    f = tempfile.NamedTemporaryFile(suffix=".onnx", delete=False)
    f.write(buf.getvalue())
    f.close()
    return f.name


def main():
    torch.manual_seed(0)
    m = Tiny()
    with torch.no_grad():  # non-trivial batch-norm statistics, which the export folds into the convolution
        m.bn.running_mean.uniform_(-0.5, 0.5)
        m.bn.running_var.uniform_(0.5, 2.0)
    m.eval()
    path = export(m, torch.rand(1, 1, 32, 32))
    try:
        g = onnx_torch.OnnxGraph(path)
        x = torch.rand(2, 1, 48, 64)  # another size than the export's: the graph's shapes are dynamic
        with torch.no_grad():
            want = m(x)
        got = g({"input": x})["output"]
        err = (got - want).abs().max().item()
        if got.shape != want.shape or err > 1e-5:
            print(f"FAIL: interpreter output {tuple(got.shape)} differs from torch {tuple(want.shape)} "
                  f"by {err:g}")
            return 1
    finally:
        os.unlink(path)

    class Tanh(nn.Module):
        def forward(self, x):
            return torch.tanh(x)

    path = export(Tanh(), torch.rand(1, 1, 4, 4))
    try:
        onnx_torch.OnnxGraph(path)
        print("FAIL: a graph with Tanh was accepted")
        return 1
    except onnx_torch.UnsupportedGraph as e:
        if "Tanh" not in str(e):
            print(f"FAIL: the refusal does not name Tanh: {e}")
            return 1
    finally:
        os.unlink(path)
    print(f"ok (max difference {err:.2e})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
