"""A small ONNX interpreter on torch ops, enough for SkelCon's released graphs (opset 11, exported by PyTorch
1.8): Constant, Conv, Add, Mul, Div, Clip, MaxPool, Resize (linear/nearest), Concat, Sigmoid, plus Relu.
Debian has python3-onnx (reads the file) but no onnxruntime; this evaluates the graph's nodes in order with
the matching torch.nn.functional calls. A node or attribute it does not implement is an error naming it,
never a silent approximation.
"""
import numpy as np
import torch
import torch.nn.functional as F


class UnsupportedGraph(Exception):
    pass


def _attrs(node):
    import onnx
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _s(v):
    return v.decode() if isinstance(v, bytes) else v


def _conv(x, w, b, a):
    if _s(a.get("auto_pad", "NOTSET")) != "NOTSET":
        raise UnsupportedGraph(f"Conv auto_pad={a['auto_pad']}")
    k = len(a.get("kernel_shape", w.shape[2:]))
    if k != 2:
        raise UnsupportedGraph(f"Conv with {k} spatial dims")
    pads = list(a.get("pads", [0, 0, 0, 0]))
    if pads[0] == pads[2] and pads[1] == pads[3]:
        padding = (pads[0], pads[1])
    else:  # ONNX pads: [top, left, bottom, right]; F.pad wants (left, right, top, bottom)
        x = F.pad(x, (pads[1], pads[3], pads[0], pads[2]))
        padding = (0, 0)
    return F.conv2d(x, w, b, stride=tuple(a.get("strides", [1, 1])), padding=padding,
                    dilation=tuple(a.get("dilations", [1, 1])), groups=a.get("group", 1))


def _maxpool(x, a):
    if _s(a.get("auto_pad", "NOTSET")) != "NOTSET" or a.get("storage_order", 0) != 0:
        raise UnsupportedGraph("MaxPool with auto_pad or storage_order")
    pads = list(a.get("pads", [0, 0, 0, 0]))
    if pads[0] != pads[2] or pads[1] != pads[3]:
        raise UnsupportedGraph(f"MaxPool with asymmetric pads {pads}")
    return F.max_pool2d(x, tuple(a["kernel_shape"]), stride=tuple(a.get("strides", a["kernel_shape"])),
                        padding=(pads[0], pads[1]), dilation=tuple(a.get("dilations", [1, 1])),
                        ceil_mode=bool(a.get("ceil_mode", 0)))


def _resize(x, roi, scales, sizes, a):
    mode = _s(a.get("mode", "nearest"))
    ctm = _s(a.get("coordinate_transformation_mode", "half_pixel"))
    if sizes is not None and sizes.numel() > 0:
        out = [int(v) for v in sizes.tolist()]
        scale = None
    elif scales is not None and scales.numel() > 0:
        sc = [float(v) for v in scales.tolist()]
        if sc[0] != 1 or sc[1] != 1:
            raise UnsupportedGraph(f"Resize scaling batch or channels {sc}")
        out = [int(np.floor(x.shape[i] * sc[i])) for i in range(x.ndim)]
        scale = (sc[2], sc[3])
    else:
        raise UnsupportedGraph("Resize without scales or sizes")
    if mode == "linear" and ctm in ("pytorch_half_pixel", "half_pixel", "align_corners"):
        if ctm == "align_corners":
            return F.interpolate(x, size=out[2:], mode="bilinear", align_corners=True)
        # ONNX: x_orig = (x_out + 0.5) / scale - 0.5 with the given scale: torch's align_corners=False with that
        # scale factor (pytorch_half_pixel differs only for an output length of 1, which does not occur here).
        if min(out[2:]) <= 1:
            raise UnsupportedGraph("Resize to an output length of 1")
        if scale is not None:
            return F.interpolate(x, scale_factor=scale, mode="bilinear", align_corners=False,
                                 recompute_scale_factor=False)
        return F.interpolate(x, size=out[2:], mode="bilinear", align_corners=False)
    if mode == "nearest" and ctm == "asymmetric" and _s(a.get("nearest_mode", "round_prefer_floor")) == "floor":
        return F.interpolate(x, size=out[2:], mode="nearest")
    raise UnsupportedGraph(f"Resize mode={mode} coordinate_transformation_mode={ctm}")


class OnnxGraph:
    """Loads an ONNX model file; calling it with {input name: tensor} returns {output name: tensor}."""

    def __init__(self, path):
        import onnx
        from onnx import numpy_helper
        self.model = onnx.load(path)
        g = self.model.graph
        self.values = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in g.initializer}
        self.nodes = list(g.node)
        self.inputs = [i.name for i in g.input if i.name not in self.values]
        self.outputs = [o.name for o in g.output]
        known = {"Constant", "Conv", "Add", "Sub", "Mul", "Div", "Clip", "MaxPool", "Resize", "Concat", "Sigmoid",
                 "Relu"}
        unknown = sorted({n.op_type for n in self.nodes} - known)
        if unknown:
            raise UnsupportedGraph("operators " + ", ".join(unknown))
        for o in self.model.opset_import:
            if o.domain in ("", "ai.onnx") and o.version > 13:
                raise UnsupportedGraph(f"opset {o.version} (this interpreter follows opset 11)")

    def parameter_count(self):
        """Elements of the weight and bias tensors the Conv nodes read (batch norm is folded into them)."""
        names = {i for n in self.nodes if n.op_type == "Conv" for i in n.input[1:] if i}
        return int(sum(self.values[n].numel() for n in names if n in self.values))

    @torch.no_grad()
    def __call__(self, feeds):
        env = dict(self.values)
        env.update(feeds)

        def get(name):
            return env[name] if name else None

        for n in self.nodes:
            a = _attrs(n)
            x = [get(i) for i in n.input]
            t = n.op_type
            if t == "Constant":
                from onnx import numpy_helper
                if "value" not in a:
                    raise UnsupportedGraph("Constant without a tensor value")
                y = torch.from_numpy(numpy_helper.to_array(a["value"]).copy())
            elif t == "Conv":
                y = _conv(x[0], x[1], x[2] if len(x) > 2 else None, a)
            elif t == "Add":
                y = x[0] + x[1]
            elif t == "Sub":
                y = x[0] - x[1]
            elif t == "Mul":
                y = x[0] * x[1]
            elif t == "Div":
                if not x[0].is_floating_point():
                    raise UnsupportedGraph("integer Div")
                y = x[0] / x[1]
            elif t == "Clip":
                lo = x[1] if len(x) > 1 and x[1] is not None else a.get("min")
                hi = x[2] if len(x) > 2 and x[2] is not None else a.get("max")
                y = torch.clamp(x[0], min=None if lo is None else float(lo), max=None if hi is None else float(hi))
            elif t == "MaxPool":
                if len(n.output) > 1 and n.output[1]:
                    raise UnsupportedGraph("MaxPool with indices")
                y = _maxpool(x[0], a)
            elif t == "Resize":
                y = _resize(x[0], x[1] if len(x) > 1 else None, x[2] if len(x) > 2 else None,
                            x[3] if len(x) > 3 else None, a)
            elif t == "Concat":
                y = torch.cat(x, dim=a["axis"])
            elif t == "Sigmoid":
                y = torch.sigmoid(x[0])
            elif t == "Relu":
                y = torch.relu(x[0])
            env[n.output[0]] = y
        return {o: env[o] for o in self.outputs}
