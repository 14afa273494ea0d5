"""Write a model as GGUF, the way llama.cpp's converter lays it out: `<arch>.*` hyper-parameters,
`tokenizer.ggml.*` vocabulary, GGUF tensor names, Q/K rows permuted for llama.cpp's interleaved
RoPE (llama / mistral; exaone and exaone4 keep HF's order: NEOX RoPE in llama.cpp), llama3 RoPE
scaling as a `rope_freqs.weight` tensor.

    solar.quantize("hf-folder", "model-q8_0.gguf", "q8_0")
    model.save("model.gguf", dtype="q4_k")
"""
from __future__ import annotations

import math
import os
from typing import Iterator

import numpy as np

from . import _core
from .gguf import GGUFValue, write_gguf

# llama.cpp's LLAMA_FTYPE of a file whose matrices are mostly of this type
FILE_TYPES = {"f32": 0, "f16": 1, "q4_0": 2, "q8_0": 7, "q4_k": 15, "q5_k": 17, "q6_k": 18, "bf16": 32}
QUANTIZED = ("q4_0", "q8_0", "q4_k", "q5_k", "q6_k")
GGUF_ARCH = {"llama": "llama", "mistral": "llama", "exaone": "exaone", "exaone4": "exaone4"}


def _permute_rows(w: np.ndarray, n_head: int) -> np.ndarray:
    """HF rotate-half row order -> llama.cpp's interleaved order, per head."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def _llama3_rope_factors(c: dict) -> np.ndarray:
    rs, dh = c["rope_scaling"], c["head_dim"]
    inv = 1.0 / (c["rope_theta"] ** (np.arange(0, dh, 2, dtype=np.float64) / dh))
    low_wl = rs["original_max_position_embeddings"] / rs["low_freq_factor"]
    high_wl = rs["original_max_position_embeddings"] / rs["high_freq_factor"]
    out = []
    for f in inv:
        wl = 2 * math.pi / f
        if wl < high_wl:
            out.append(1.0)
        elif wl > low_wl:
            out.append(rs["factor"])
        else:
            s = (rs["original_max_position_embeddings"] / wl - rs["low_freq_factor"]) / (
                rs["high_freq_factor"] - rs["low_freq_factor"])
            out.append(1.0 / ((1 - s) / rs["factor"] + s))
    return np.asarray(out, np.float32)


def _sliding_layers(c: dict) -> list[bool]:
    """Whether each layer uses the sliding window (all of them when the config has no layer_types)."""
    types = c.get("layer_types") or ["sliding_attention"] * c["n_layers"]
    return [t == "sliding_attention" for t in types]


def gguf_metadata(model, dtype: str | None) -> dict:
    c = model.config
    arch = GGUF_ARCH[c["arch"]]
    md = {
        "general.architecture": arch,
        "general.name": os.path.basename(str(model.path).rstrip("/")) or "solar-model",
        f"{arch}.context_length": GGUFValue("u32", c["n_ctx_train"]),
        f"{arch}.embedding_length": GGUFValue("u32", c["n_embd"]),
        f"{arch}.block_count": GGUFValue("u32", c["n_layers"]),
        f"{arch}.feed_forward_length": GGUFValue("u32", c["n_ff"]),
        f"{arch}.attention.head_count": GGUFValue("u32", c["n_head"]),
        f"{arch}.attention.head_count_kv": GGUFValue("u32", c["n_head_kv"]),
        f"{arch}.attention.layer_norm_rms_epsilon": GGUFValue("f32", c["rms_eps"]),
        f"{arch}.rope.freq_base": GGUFValue("f32", c["rope_theta"]),
        f"{arch}.rope.dimension_count": GGUFValue("u32", c["head_dim"]),
        f"{arch}.attention.key_length": GGUFValue("u32", c["head_dim"]),
        f"{arch}.attention.value_length": GGUFValue("u32", c["head_dim"]),
        f"{arch}.vocab_size": GGUFValue("u32", c["n_vocab"]),
    }
    if dtype in FILE_TYPES:
        md["general.file_type"] = GGUFValue("u32", FILE_TYPES[dtype])
    rs = c.get("rope_scaling")
    if rs and rs["type"] == "linear":
        md[f"{arch}.rope.scaling.type"] = "linear"
        md[f"{arch}.rope.scaling.factor"] = GGUFValue("f32", rs["factor"])
    if c.get("sliding_window") and c["arch"] == "mistral":    # llama.cpp ignores it; solar honours it
        md[f"{arch}.attention.sliding_window"] = GGUFValue("u32", c["sliding_window"])
    if c.get("sliding_window") and c["arch"] == "exaone4":
        md[f"{arch}.attention.sliding_window"] = GGUFValue("u32", c["sliding_window"])
        # one flag per layer (true = sliding), as llama.cpp's converter writes it
        md[f"{arch}.attention.sliding_window_pattern"] = GGUFValue("array[bool]", _sliding_layers(c))
    if model.tokenizer is not None and hasattr(model.tokenizer, "gguf_metadata"):
        md.update(model.tokenizer.gguf_metadata(arch=arch, n_vocab=c["n_vocab"]))
    return md


def _tensor_type(arr: np.ndarray, dtype: str | None, src_dtype: str) -> str:
    if arr.ndim != 2:
        return "f32"
    want = dtype or src_dtype
    block = 256 if want.endswith("_k") else 32 if want.startswith("q") else 1
    return want if arr.shape[1] % block == 0 else "f16"


def gguf_tensors(model, dtype: str | None) -> Iterator[tuple[str, np.ndarray, str]]:
    """(GGUF name, float32 array, GGUF type) of every tensor, in llama.cpp's order."""
    c = model.config
    names = _core.Model.arch_tensor_names(c["arch"], "gguf")
    permute = not c.get("rope_interleaved") and GGUF_ARCH[c["arch"]] == "llama"   # exaone(4): NEOX rope
    src_types = model.tensor_dtypes()
    rows = sorted(model.tensor_roles(), key=lambda r: (r[2] >= 0, r[2], r[1]))
    rs = c.get("rope_scaling")
    if rs and rs["type"] == "llama3":
        yield "rope_freqs.weight", _llama3_rope_factors(c), "f32"
    for name, role, layer in rows:
        if role not in names:
            continue
        gname = names[role] % layer if layer >= 0 else names[role]
        src = src_types[name]
        raw = model.weights[name]
        target = _tensor_type(raw if src not in QUANTIZED else np.empty((1, 256)), dtype, src)
        # blocks already of the target type travel as they are (re-quantizing is not lossless)
        arr = raw if (src == target and src in QUANTIZED) else model._core.tensor_f32(name)
        if permute and role in ("wq", "wk"):
            arr = _permute_rows(arr, c["n_head"] if role == "wq" else c["n_head_kv"])
        yield gname, arr, target


def save_gguf(model, path: str | os.PathLike, dtype: str | None = None) -> str:
    """Write ``model`` to ``path`` as GGUF (atomically), converting matrices to ``dtype``."""
    if dtype is not None and dtype not in FILE_TYPES:
        raise ValueError(f"dtype must be one of {', '.join(FILE_TYPES)}, got {dtype!r}")
    path = os.fspath(path)
    write_gguf(path, gguf_metadata(model, dtype), list(gguf_tensors(model, dtype)))
    return path


def quantize(src: str | os.PathLike, dst: str | os.PathLike, dtype: str, *, n_threads: int | None = None) -> str:
    """Load a model (HF folder or GGUF) and write it as a GGUF of ``dtype``."""
    from .model import load
    return save_gguf(load(src, n_threads=n_threads), dst, dtype)
