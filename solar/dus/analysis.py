"""Layer analysis for DUS: how similar the residual stream is after each layer, and what
happens at the seam where two stacked slices meet."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from ..model import Model


@dataclass
class LayerSimilarity:
    """Mean cosine similarity between residual streams (index 0 = embeddings, k = after layer k)."""
    cosine: np.ndarray               # (L+1, L+1)
    n_tokens: int
    seams: list[int] = field(default_factory=list)   # hidden-state index where a new slice starts

    @property
    def angular(self) -> np.ndarray:
        """Angular distance arccos(cos) / pi in [0, 1]."""
        return np.arccos(np.clip(self.cosine, -1.0, 1.0)) / np.pi

    @property
    def consecutive(self) -> np.ndarray:
        """Angular distance between the stream before and after each layer, shape (L,)."""
        a = self.angular
        return np.array([a[k, k + 1] for k in range(a.shape[0] - 1)])

    @property
    def seam_jumps(self) -> list[dict]:
        """At each seam: the first layer of the new slice's angular step, and its ratio to the
        median step of all layers."""
        steps = self.consecutive
        med = float(np.median(steps)) if steps.size else 0.0
        return [{"seam": s, "step": float(steps[s]), "median_step": med,
                 "ratio": float(steps[s] / med) if med > 0 else float("inf")} for s in self.seams if s < steps.size]


def _as_ids(model: Model, text, max_tokens: int) -> np.ndarray:
    if isinstance(text, (str, bytes)):
        if model.tokenizer is None:
            raise ValueError("the model has no tokenizer: pass token id arrays")
        ids = np.asarray(model.tokenizer.encode(text))
    else:
        ids = np.asarray(text)
    return ids[:max_tokens]


def _normalised_states(model: Model, ids: np.ndarray) -> np.ndarray:
    _, hs = model.forward(ids, hidden_states=True)
    norms = np.linalg.norm(hs, axis=-1, keepdims=True)
    return hs / np.maximum(norms, 1e-12)


def seams_of(model: Model) -> list[int]:
    """Hidden-state indices where a new DUS slice starts (empty for an ordinary model)."""
    slices = getattr(model, "dus_slices", None) or []
    out, k = [], 0
    for _, a, b in slices[:-1]:
        k += b - a
        out.append(k)
    return out


def layer_similarity(model: Model, texts: Iterable, *, max_tokens: int = 512, progress: bool = False) -> LayerSimilarity:
    """Mean (over tokens of all texts) cosine similarity between the residual streams after
    every pair of layers. ``texts``: strings (tokenized with the model's tokenizer) or id arrays."""
    acc = None
    n = 0
    items = list(texts)
    if not items:
        raise ValueError("layer_similarity needs at least one text")
    for text in _progress(items, progress, "similarity"):
        ids = _as_ids(model, text, max_tokens)
        if ids.size == 0:
            continue
        h = _normalised_states(model, ids).astype(np.float64)    # (L+1, T, D)
        part = np.einsum("itd,jtd->ij", h, h)
        acc = part if acc is None else acc + part
        n += ids.size
    if acc is None:
        raise ValueError("every text was empty")
    return LayerSimilarity(cosine=acc / n, n_tokens=n, seams=seams_of(model))


def seam_report(scaled: Model, base: Model, texts: Sequence, *, max_tokens: int = 512) -> dict:
    """Compare each layer's step in the scaled model with the same source layer's step in the
    base model (angular distance between the stream before and after the layer)."""
    slices = getattr(scaled, "dus_slices", None)
    if not slices:
        raise ValueError("the scaled model was not made by solar.dus (no dus_slices)")
    s = layer_similarity(scaled, texts, max_tokens=max_tokens)
    b = layer_similarity(base, texts, max_tokens=max_tokens)
    rows, k = [], 0
    for si, (src, a, e) in enumerate(slices):
        for layer in range(a, e):
            rows.append({"layer": k, "slice": si, "source_layer": layer,
                         "step_scaled": float(s.consecutive[k]),
                         "step_base": float(b.consecutive[layer]) if src is base or src._core is base._core else None})
            k += 1
    return {"layers": rows, "seams": s.seam_jumps, "scaled": s, "base": b}


def _progress(items, enabled: bool, desc: str):
    if not enabled:
        return items
    try:
        from tqdm import tqdm
    except ImportError:
        return items
    return tqdm(items, desc=desc)
