"""Continued pretraining of a loaded model, in f32 on the CPU (the C trainer in csrc/train/).

    import solar, solar.train
    m = solar.load("path/to/model")
    tr = solar.train.Trainer(m, lr=3e-4, warmup=100, total_steps=2000, grad_clip=1.0)
    for batch in solar.data.BatchSampler(tokens, batch=8, seq=256, seed=0):
        loss = tr.step(batch)          # batch: int32 (8, 257)
    tr.save("out-dir")                 # HF folder: config.json + model.safetensors + tokenizer files

The trainer copies the model's weights into its own f32 buffers (f16 / bf16 widened), so the
source model - and any model sharing weight memory with it, e.g. one made by ``solar.dus`` - is
never modified.

Schedule: ``lr_at(k)`` for the k-th update (0-based) rises linearly over ``warmup`` updates
(``lr * (k+1) / warmup``), then follows a half cosine from ``lr`` down to ``min_lr`` at
``total_steps`` (constant ``lr`` after warmup when ``total_steps`` is None).
Optimizer: AdamW exactly as ``torch.optim.AdamW`` (decoupled weight decay), weight decay applied
to 2-D weights only unless ``decay_filter`` says otherwise; gradients clipped to global L2 norm
``grad_clip`` as ``torch.nn.utils.clip_grad_norm_`` does.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from . import _core
from .checkpoint import save_hf_folder

__all__ = ["Trainer", "rope_inv_freq"]

_TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json",
                    "added_tokens.json", "vocab.json", "merges.txt", "chat_template.jinja",
                    "generation_config.json")


def rope_inv_freq(config: Mapping) -> np.ndarray:
    """RoPE inverse frequencies (head_dim/2,) float32 for a normalised config, with 'linear' or
    'llama3' scaling applied as transformers computes them."""
    dh = int(config["head_dim"])
    base = float(config.get("rope_theta") or 10000.0)
    exps = np.arange(0, dh, 2, dtype=np.int64).astype(np.float32) / np.float32(dh)
    inv = (np.float32(1.0) / (np.float32(base) ** exps)).astype(np.float32)
    scaling = config.get("rope_scaling")
    if not scaling:
        return inv
    kind = scaling.get("type") or scaling.get("rope_type") or "default"
    if kind == "default":
        return inv
    if kind == "linear":
        return (inv / np.float32(scaling["factor"])).astype(np.float32)
    if kind == "llama3":
        return _llama3_inv_freq(inv, scaling)
    raise _core.UnsupportedError(f"training does not support rope_scaling type {kind!r}")


def _llama3_inv_freq(inv: np.ndarray, sc: Mapping) -> np.ndarray:
    factor = float(sc["factor"])
    low, high = float(sc.get("low_freq_factor", 1.0)), float(sc.get("high_freq_factor", 4.0))
    old_ctx = float(sc["original_max_position_embeddings"])
    low_wavelen, high_wavelen = old_ctx / low, old_ctx / high
    wavelen = (2 * math.pi / inv).astype(np.float32)
    scaled = np.where(wavelen > low_wavelen, inv / np.float32(factor), inv).astype(np.float32)
    smooth = ((old_ctx / wavelen - low) / (high - low)).astype(np.float32)
    smoothed = ((1 - smooth) * scaled / np.float32(factor) + smooth * scaled).astype(np.float32)
    medium = ~(wavelen < high_wavelen) & ~(wavelen > low_wavelen)
    return np.where(medium, smoothed, scaled).astype(np.float32)


def _layer_attention(config: Mapping, arch: str, n_layers: int) -> tuple[list, list]:
    """Per-layer sliding window (0 = full causal) and RoPE flag.

    ``layer_types`` marks the sliding layers when present; otherwise a ``sliding_window`` applies
    to every layer (Mistral). EXAONE 4 hybrids skip RoPE on their full-attention layers (NoPE)."""
    window = int(config.get("sliding_window") or 0)
    types = config.get("layer_types")
    if types is not None and len(types) != n_layers:
        raise ValueError(f"layer_types has {len(types)} entries for {n_layers} layers")
    if not window:
        return [0] * n_layers, [1] * n_layers
    sliding = [t == "sliding_attention" for t in types] if types is not None else [True] * n_layers
    windows = [window if s else 0 for s in sliding]
    rope = [1 if s else 0 for s in sliding] if arch == "exaone4" else [1] * n_layers
    return windows, rope


def _hparams(config: Mapping) -> dict:
    arch = config.get("arch", "llama")
    if arch not in ("llama", "mistral", "exaone", "exaone4"):
        raise _core.UnsupportedError(f"training does not support architecture {arch!r}")
    n_layers = int(config["n_layers"])
    windows, rope = _layer_attention(config, arch, n_layers)
    return dict(n_layers=n_layers, n_embd=int(config["n_embd"]), n_head=int(config["n_head"]),
                n_head_kv=int(config["n_head_kv"]), head_dim=int(config["head_dim"]), n_ff=int(config["n_ff"]),
                n_vocab=int(config["n_vocab"]), rms_eps=float(config["rms_eps"]),
                tie_embeddings=bool(config.get("tie_embeddings")), post_norm=bool(config.get("post_norm")),
                qk_norm=bool(config.get("qk_norm")), layer_window=windows, layer_rope=rope)


def _widen(name: str, arr: np.ndarray) -> np.ndarray:
    """A model weight as float32 (bf16 arrives as raw uint16 bits)."""
    arr = np.asarray(arr)
    if arr.dtype == np.float32:
        return arr
    if arr.dtype == np.float16:
        return arr.astype(np.float32)
    if arr.dtype == np.uint16:
        return (arr.astype(np.uint32) << 16).view(np.float32)
    raise _core.UnsupportedError(f"cannot train tensor {name!r} of dtype {arr.dtype}: load the model as f32, "
                                 "f16 or bf16 (not quantized)")


def _default_decay(role: str, shape: tuple) -> bool:
    return len(shape) == 2


class Trainer:
    """AdamW training of every parameter of ``model`` (see the module docstring)."""

    def __init__(self, model, lr: float = 3e-4, weight_decay: float = 0.1, betas=(0.9, 0.95),
                 warmup: int = 0, total_steps: int | None = None, grad_clip: float | None = 1.0,
                 eps: float = 1e-8, min_lr: float = 0.0, grad_accum: int = 1, n_threads: int | None = None,
                 decay_filter: Callable[[str, tuple], bool] | None = None):
        self._check_options(lr, weight_decay, betas, warmup, total_steps, grad_clip, eps, min_lr, grad_accum)
        self.model = model
        self.lr, self.min_lr, self.weight_decay, self.eps = float(lr), float(min_lr), float(weight_decay), float(eps)
        self.betas = (float(betas[0]), float(betas[1]))
        self.warmup, self.total_steps, self.grad_accum = int(warmup), total_steps, int(grad_accum)
        self.grad_clip = None if grad_clip is None or grad_clip <= 0 else float(grad_clip)
        self.step_count = 0          # optimizer updates done
        self.last_grad_norm = None
        self.last_lr = None
        self._micro = 0              # micro-batches accumulated toward the next update
        config = model.config
        if n_threads is None:
            n_threads = getattr(model, "n_threads", 0) or 0
        self._core = _core.Trainer(**_hparams(config), inv_freq=rope_inv_freq(config), n_threads=int(n_threads))
        self._names = self._load_weights(model)
        keep = decay_filter or _default_decay
        for i, (role, layer, shape) in enumerate(self._core.tensors()):
            self._core.set_decay(i, 1.0 if keep(role, tuple(shape)) else 0.0)
        self._params = {n: self._core.param(i) for i, n in enumerate(self._names)}
        self._grads = {n: self._core.grad(i) for i, n in enumerate(self._names)}

    @staticmethod
    def _check_options(lr, weight_decay, betas, warmup, total_steps, grad_clip, eps, min_lr, grad_accum):
        if not (lr >= 0 and math.isfinite(lr)) or not (min_lr >= 0 and math.isfinite(min_lr)):
            raise ValueError("lr and min_lr must be finite and >= 0")
        if not weight_decay >= 0 or not eps >= 0:
            raise ValueError("weight_decay and eps must be >= 0")
        if len(betas) != 2 or not all(0 <= b < 1 for b in betas):
            raise ValueError("betas must be two numbers in [0, 1)")
        if warmup < 0 or (total_steps is not None and total_steps < 1):
            raise ValueError("warmup must be >= 0 and total_steps >= 1")
        if grad_accum < 1:
            raise ValueError("grad_accum must be >= 1")
        if grad_clip is not None and not math.isfinite(grad_clip):
            raise ValueError("grad_clip must be finite or None")

    def _load_weights(self, model) -> list:
        """Copy the model's tensors into the trainer's f32 parameters; returns names in slab order."""
        by_role = {(role, int(layer)): name for name, role, layer in model.tensor_roles()}
        weights = model.weights
        names = []
        for i, (role, layer, shape) in enumerate(self._core.tensors()):
            name = by_role.pop((role, layer), None)
            if name is None:
                raise _core.UnsupportedError(f"the model has no tensor for role {role!r} of layer {layer}")
            src = _widen(name, weights[name])
            if tuple(src.shape) != tuple(shape):
                raise ValueError(f"tensor {name!r} has shape {tuple(src.shape)}, expected {tuple(shape)}")
            dst = self._core.param(i, True)
            dst[...] = src               # a copy: the model's memory is only read
            names.append(name)
        if by_role:
            extra = ", ".join(f"{n} ({r})" for (r, _), n in sorted(by_role.items(), key=lambda kv: kv[1]))
            raise _core.UnsupportedError(f"training does not handle these tensors: {extra}")
        return names

    # ---- views -------------------------------------------------------------------------------

    @property
    def params(self) -> dict:
        """Checkpoint tensor name -> read-only float32 view of the trained parameter."""
        return dict(self._params)

    @property
    def grads(self) -> dict:
        """Checkpoint tensor name -> read-only float32 view of the accumulated gradient (after an
        update: the unclipped gradient it used; zeroed when the next accumulation starts)."""
        return dict(self._grads)

    @property
    def n_params(self) -> int:
        return int(self._core.n_params)

    # ---- training ----------------------------------------------------------------------------

    def lr_at(self, step: int) -> float:
        """Learning rate of the ``step``-th optimizer update (0-based)."""
        if self.warmup > 0 and step < self.warmup:
            return self.lr * (step + 1) / self.warmup
        if self.total_steps is None or self.total_steps <= self.warmup:
            return self.lr
        progress = min(1.0, (step - self.warmup) / max(1, self.total_steps - self.warmup))
        return self.min_lr + (self.lr - self.min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))

    @staticmethod
    def _tokens(tokens) -> np.ndarray:
        arr = np.asarray(tokens)
        if arr.ndim != 2 or arr.shape[1] < 2 or arr.shape[0] < 1:
            raise ValueError(f"tokens must have shape (batch, seq+1) with seq >= 1, got {arr.shape}")
        if arr.dtype != np.int32:
            if arr.dtype.kind not in "iu":
                raise TypeError(f"tokens must be integers, got {arr.dtype}")
            if arr.size and (arr.min() < 0 or arr.max() > np.iinfo(np.int32).max):
                raise ValueError("token ids out of range")
            arr = arr.astype(np.int32)
        return np.ascontiguousarray(arr)

    def backward(self, tokens) -> float:
        """Forward + backward on one micro-batch, adding d(loss)/grad_accum to the gradients;
        no update. Returns the mean loss."""
        tokens = self._tokens(tokens)
        if self._micro == 0:
            self._core.zero_grad()
        loss = self._core.forward_backward(tokens, 1.0 / self.grad_accum)
        self._micro += 1
        if not math.isfinite(loss):
            self._micro = 0
            raise FloatingPointError(f"training loss is {loss} at update {self.step_count}: the model diverged")
        return loss

    def optimizer_step(self) -> None:
        """Clip by global norm, one AdamW update at lr_at(step_count); starts a new accumulation."""
        lr = self.lr_at(self.step_count)
        norm = self._core.grad_norm()
        scale = 1.0
        if self.grad_clip is not None:
            scale = min(1.0, self.grad_clip / (norm + 1e-6))
        self._core.adamw(lr=lr, beta1=self.betas[0], beta2=self.betas[1], eps=self.eps,
                         weight_decay=self.weight_decay, grad_scale=scale, step=self.step_count + 1)
        self.step_count += 1
        self.last_grad_norm, self.last_lr = norm, lr
        self._micro = 0

    def step(self, tokens) -> float:
        """Train on one (batch, seq+1) int32 batch; the AdamW update happens every ``grad_accum``
        calls. Returns the batch's mean loss (before the update)."""
        loss = self.backward(tokens)
        if self._micro >= self.grad_accum:
            self.optimizer_step()
        return loss

    def eval_loss(self, tokens) -> float:
        """Mean cross-entropy of a (batch, seq+1) batch under the current parameters (no gradients)."""
        return float(self._core.loss(self._tokens(tokens)))

    # ---- saving ------------------------------------------------------------------------------

    def save(self, directory, *, max_shard_bytes: int = 2 ** 31) -> Path:
        """Write an HF folder: config.json (the model's own keys), f32 safetensors under the
        checkpoint's tensor names, tokenizer files copied from the model's folder."""
        config = dict(getattr(self.model, "hf_config", None) or {})
        for key in ("torch_dtype", "dtype"):
            if key in config:
                config[key] = "float32"
        if "torch_dtype" not in config and "dtype" not in config:
            config["torch_dtype"] = "float32"
        src = getattr(self.model, "path", None)
        copy = []
        if src is not None and Path(src).is_dir():
            copy = [Path(src) / f for f in _TOKENIZER_FILES if (Path(src) / f).is_file()]
        return save_hf_folder(directory, config, self._params, max_shard_bytes=max_shard_bytes, copy_files=copy)
