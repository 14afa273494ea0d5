"""Numerically careful log-softmax scoring of logits in NumPy (vectorised, float64 accumulation).

Every evaluation metric here (perplexity, KL-divergence, log-likelihood) reduces to reading rows
of the model's float32 logits (T, V). The log-sum-exp of a row is taken in float64 after
subtracting the row maximum, so no row overflows and long sums keep their precision. Rows are
processed in blocks so a float64 copy of a (T, V) array never exists at once for large V.
"""
from __future__ import annotations

import numpy as np

__all__ = ["log_softmax", "token_logprobs", "ROW_BLOCK"]

ROW_BLOCK = 64          # rows per float64 block: 64 * 102400 * 8 B = 52 MB at most


def _check_logits(logits: np.ndarray) -> np.ndarray:
    a = np.asarray(logits)
    if a.ndim != 2:
        raise ValueError(f"logits must be 2-D (T, V), got shape {a.shape}")
    if a.dtype.kind != "f":
        raise ValueError(f"logits must be floating point, got {a.dtype}")
    return a


def _block_lse(block: np.ndarray) -> np.ndarray:
    """log(sum(exp(row))) of each row of a float64 block, max-shifted."""
    m = block.max(axis=1, keepdims=True)
    if not np.all(np.isfinite(m)):
        raise ValueError("logits contain inf or nan")
    return (m + np.log(np.exp(block - m).sum(axis=1, keepdims=True)))[:, 0]


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Full log-softmax of every row, float64 (T, V). Use for small T; prefer token_logprobs."""
    a = _check_logits(logits)
    out = np.empty(a.shape, np.float64)
    for r0 in range(0, a.shape[0], ROW_BLOCK):
        x = a[r0:r0 + ROW_BLOCK].astype(np.float64)
        out[r0:r0 + ROW_BLOCK] = x - _block_lse(x)[:, None]
    return out


def token_logprobs(logits: np.ndarray, targets) -> tuple[np.ndarray, np.ndarray]:
    """Log-probability of ``targets[t]`` under row ``t`` of ``logits`` and whether it is the argmax.

    Returns ``(logprob float64 (T,), greedy bool (T,))``. ``greedy`` compares the target with the
    row's argmax on the float32 logits, as lm-evaluation-harness does.
    """
    a = _check_logits(logits)
    tgt = np.asarray(targets, dtype=np.int64).reshape(-1)
    if tgt.shape[0] != a.shape[0]:
        raise ValueError(f"{a.shape[0]} logit rows but {tgt.shape[0]} targets")
    if tgt.size and (tgt.min() < 0 or tgt.max() >= a.shape[1]):
        raise ValueError(f"target id out of range [0, {a.shape[1]})")
    lp = np.empty(a.shape[0], np.float64)
    rows = np.arange(a.shape[0])
    for r0 in range(0, a.shape[0], ROW_BLOCK):
        x = a[r0:r0 + ROW_BLOCK].astype(np.float64)
        lp[r0:r0 + ROW_BLOCK] = x[rows[:x.shape[0]], tgt[r0:r0 + ROW_BLOCK]] - _block_lse(x)
    greedy = a.argmax(axis=1) == tgt
    return lp, greedy
