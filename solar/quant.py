"""GGUF block quantization: float32 arrays <-> the exact bytes GGUF / llama.cpp store.

    from solar import quant
    blocks = quant.quantize(w, "q4_k")            # uint8, shape (*w.shape[:-1], row_bytes)
    w2 = quant.dequantize(blocks, "q4_k", w.shape)

Types: q8_0, q4_0 (blocks of 32), q4_k, q5_k, q6_k (super-blocks of 256), and q8_k, the 8-bit
activation type of the k-quant kernels (not a GGUF storage type). Quantized bytes equal what
llama.cpp's reference quantizers write (no importance matrix), so they can go into a GGUF file
unchanged.
"""
from __future__ import annotations

import numpy as np

from . import _core

__all__ = ["TYPES", "quantize", "dequantize", "block_size", "row_bytes"]

# name -> (elements per block, bytes per block)
TYPES = {
    "q8_0": (32, 34),
    "q4_0": (32, 18),
    "q4_k": (256, 144),
    "q5_k": (256, 176),
    "q6_k": (256, 210),
    "q8_k": (256, 292),
}


def _type_name(type) -> str:
    if not isinstance(type, str):
        raise TypeError(f"quantization type must be a str, not {type.__class__.__name__}")
    name = type.lower()
    if name not in TYPES:
        raise ValueError(f"unsupported quantization type {type!r}; expected one of {', '.join(TYPES)}")
    return name


def block_size(type) -> int:
    """Elements per block of `type`."""
    return TYPES[_type_name(type)][0]


def row_bytes(type, n: int) -> int:
    """Bytes of a row of n elements of `type` (n must be a multiple of the block size)."""
    name = _type_name(type)
    bs, bb = TYPES[name]
    if n < 0 or n % bs:
        raise ValueError(f"{name} rows must hold a multiple of {bs} elements, got {n}")
    return n // bs * bb


def quantize(a, type, *, n_threads=None) -> np.ndarray:
    """Quantize a float array along its last axis; returns uint8 of shape (*a.shape[:-1], row_bytes).

    Rows are quantized in parallel on n_threads (default: the physical cores); the bytes do not
    depend on the thread count. Raises ValueError for NaN / Inf elements (naming the first one), a last axis that is not a
    multiple of the block size, or an unknown type.
    """
    name = _type_name(type)
    arr = np.asarray(a)
    if arr.dtype.kind != "f" and arr.dtype.kind not in "iu":
        raise TypeError(f"quantize expects a float array, got dtype {arr.dtype}")
    if arr.ndim == 0:
        raise ValueError("quantize expects an array with at least one dimension")
    nbytes = row_bytes(name, arr.shape[-1])
    rows = np.ascontiguousarray(arr, dtype=np.float32).reshape(-1, arr.shape[-1])
    try:
        out = _core._quantize(rows, name, None, _threads(n_threads))
    except ValueError:
        bad = np.argwhere(~np.isfinite(np.asarray(arr, dtype=np.float32)))
        if arr.ndim != 2 and len(bad):
            idx = tuple(int(i) for i in bad[0])
            kind = "NaN" if np.isnan(arr[idx]) else "infinite"
            raise ValueError(f"cannot quantize to {name}: element {idx} is {kind}") from None
        raise
    return out.reshape(*arr.shape[:-1], nbytes)


def _threads(n_threads) -> int:
    if n_threads is None:
        return 0
    if not isinstance(n_threads, (int, np.integer)) or isinstance(n_threads, bool) or n_threads < 1:
        raise ValueError(f"n_threads must be a positive int or None, got {n_threads!r}")
    return int(n_threads)


def dequantize(blocks, type, shape, *, n_threads=None) -> np.ndarray:
    """Decode GGUF block bytes of `type` into a float32 array of `shape` (rows along the last axis)."""
    name = _type_name(type)
    if isinstance(blocks, (bytes, bytearray, memoryview)):
        data = np.frombuffer(blocks, dtype=np.uint8)
    else:
        data = np.asarray(blocks)
        if data.dtype != np.uint8:
            raise TypeError(f"dequantize expects uint8 block bytes, got dtype {data.dtype}")
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    shape = tuple(int(s) for s in shape)
    if not shape or any(s < 0 for s in shape):
        raise ValueError(f"bad shape {shape}")
    n_rows = int(np.prod(shape[:-1], dtype=np.int64))
    need = n_rows * row_bytes(name, shape[-1])
    if data.nbytes != need:
        raise ValueError(f"{data.nbytes} bytes of {name} blocks cannot hold shape {shape} ({need} bytes needed)")
    return _core._dequantize(np.ascontiguousarray(data), name, shape, None, _threads(n_threads))
