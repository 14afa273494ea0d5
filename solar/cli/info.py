"""`python -m solar info MODEL`: architecture, shapes, parameter count, dtypes and memory."""
from __future__ import annotations

import json
from collections import Counter

import numpy as np

from .common import add_model_arguments, load_model

HELP = "Show a model's architecture, sizes, dtypes and memory."

SHAPE_KEYS = [("n_layers", "layers"), ("n_embd", "hidden"), ("n_head", "heads"), ("n_head_kv", "kv heads"),
              ("head_dim", "head dim"), ("n_ff", "ffn"), ("n_vocab", "vocab"), ("n_ctx_train", "train context"),
              ("rope_theta", "rope theta"), ("rms_eps", "rms eps"), ("sliding_window", "sliding window"),
              ("tie_embeddings", "tied embeddings")]


def add_arguments(p) -> None:
    add_model_arguments(p, positional=True)
    p.add_argument("--json", action="store_true", help="print the facts as JSON")


def _dtype_name(arr) -> str:
    dt = np.asarray(arr).dtype
    return "bf16" if dt == np.uint16 else {"float32": "f32", "float16": "f16"}.get(dt.name, dt.name)


def _kv_dtype(model) -> np.dtype:
    """The KV cache's element type, read from a one-token session (f32 if the model cannot say)."""
    try:
        return np.asarray(model.new_session(n_ctx=1).k_cache).dtype
    except (AttributeError, TypeError, ValueError, MemoryError):   # no cache views: assume f32
        return np.dtype(np.float32)


def describe(model) -> dict:
    """The facts `info` prints, as a plain dict."""
    config = dict(getattr(model, "config", None) or {})
    weights = getattr(model, "weights", None) or {}
    dtypes, n_params, n_bytes = Counter(), 0, 0
    for arr in weights.values():
        arr = np.asarray(arr)
        dtypes[_dtype_name(arr)] += 1
        n_params += int(arr.size)
        n_bytes += int(arr.nbytes)
    facts = {"architecture": getattr(model, "arch", config.get("arch")),
             "hf_class": ((getattr(model, "hf_config", None) or {}).get("architectures") or [None])[0]}
    facts.update({key: config.get(key) for key, _ in SHAPE_KEYS if key in config})
    L, hkv, dh = config.get("n_layers"), config.get("n_head_kv"), config.get("head_dim")
    kv_dtype = _kv_dtype(model)
    kv_per_token = (2 * L * hkv * dh * kv_dtype.itemsize
                    if all(isinstance(v, int) for v in (L, hkv, dh)) else None)
    facts.update({"tensors": len(weights), "parameters": n_params, "weight_bytes": n_bytes,
                  "dtypes": dict(sorted(dtypes.items())), "kv_dtype": _dtype_name(np.empty(0, kv_dtype)),
                  "kv_bytes_per_token": kv_per_token})
    tok = getattr(model, "tokenizer", None)
    if tok is not None:
        facts["tokenizer_vocab"] = getattr(tok, "vocab_size", None)
        facts["bos_id"], facts["eos_id"] = getattr(tok, "bos_id", None), getattr(tok, "eos_id", None)
    return facts


def _human(n: float, unit: str = "B") -> str:
    for prefix in ("", "K", "M", "G", "T"):
        if abs(n) < 1000 or prefix == "T":
            return f"{n:.1f} {prefix}{unit}" if prefix else f"{n:.0f} {unit}"
        n /= 1000.0
    return f"{n} {unit}"


def main(args) -> int:
    model = load_model(args)
    facts = describe(model)
    if args.json:
        print(json.dumps(facts, ensure_ascii=False, indent=2))
        return 0
    arch = facts["architecture"] + (f" ({facts['hf_class']})" if facts.get("hf_class") else "")
    print(f"{'architecture':<16} {arch}")
    for key, label in SHAPE_KEYS:
        if facts.get(key) is not None:
            value = facts[key]
            print(f"{label:<16} {value:.6g}" if isinstance(value, float) else f"{label:<16} {value}")
    print(f"{'parameters':<16} {_human(facts['parameters'], '')} in {facts['tensors']} tensors")
    print(f"{'dtypes':<16} " + ", ".join(f"{k}: {v}" for k, v in facts["dtypes"].items()))
    print(f"{'weights':<16} {_human(facts['weight_bytes'])}")
    if facts.get("kv_bytes_per_token"):
        per, n_ctx = facts["kv_bytes_per_token"], facts.get("n_ctx_train") or 4096
        label = f"KV cache ({facts['kv_dtype']})"
        print(f"{label:<16} {_human(per)} per token, {_human(per * n_ctx)} at {n_ctx} tokens")
    if "tokenizer_vocab" in facts:
        print(f"{'tokenizer':<16} {facts['tokenizer_vocab']} tokens, bos {facts['bos_id']}, eos {facts['eos_id']}")
    return 0
