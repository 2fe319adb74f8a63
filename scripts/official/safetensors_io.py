"""Reads and writes tensor files in the safetensors layout, without the safetensors package.

The layout (https://github.com/huggingface/safetensors, "Format"): an unsigned 64-bit little-endian N, then N
bytes of UTF-8 JSON, then the tensors' bytes. The JSON maps each tensor name to
{"dtype": "F32" | "F64" | "I64" | "I32" | "U8", "shape": [...], "data_offsets": [begin, end]} (byte offsets
into the data that follows the JSON, row-major, little-endian), and "__metadata__" to a string -> string map.
vesselgan reads the same files in C++ (src/vesselgan/io/safetensors.h); docs/official.md says what the files
written by scripts/official/ hold.
"""
import json
import struct

import numpy as np
import torch

_DTYPES = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64, "I32": torch.int32, "U8": torch.uint8}
_NAMES = {v: k for k, v in _DTYPES.items()}


def write(path, tensors, metadata=None):
    """tensors: name -> torch.Tensor (CPU or not; saved contiguous); metadata: str -> str."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        if t.dtype not in _NAMES:
            raise ValueError(f"{name}: dtype {t.dtype} is not one of {sorted(map(str, _NAMES))}")
        data = t.numpy().astype(t.numpy().dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": _NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # the data starts 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def read(path):
    """-> (name -> torch.Tensor, metadata dict)."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: too short for a safetensors file")
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        raise ValueError(f"{path}: header length {n} runs past the end of the file ({len(raw)} bytes)")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        dtype = _DTYPES[e["dtype"]]
        arr = np.frombuffer(data[b:end], dtype=torch.empty([], dtype=dtype).numpy().dtype.newbyteorder("<"))
        tensors[name] = torch.from_numpy(arr.astype(arr.dtype.newbyteorder("="))).reshape(e["shape"])
    return tensors, metadata
