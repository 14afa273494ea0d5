"""A PNG heatmap of layer similarity (matplotlib is an optional extra: pip install solar[plot])."""
from __future__ import annotations

import os

from .analysis import LayerSimilarity


def plot_layer_similarity(sim: LayerSimilarity, path: str | os.PathLike, *, title: str | None = None,
                          metric: str = "angular") -> str:
    """Save a heatmap of ``sim`` (angular distance or cosine) with seams marked; returns the path."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install matplotlib") from None
    if metric not in ("angular", "cosine"):
        raise ValueError("metric must be 'angular' or 'cosine'")
    data = sim.angular if metric == "angular" else sim.cosine
    fig, ax = plt.subplots(figsize=(6.4, 5.4), dpi=110)
    im = ax.imshow(data, cmap="viridis", origin="upper")
    fig.colorbar(im, ax=ax, label="angular distance / π" if metric == "angular" else "cosine similarity")
    for s in sim.seams:
        ax.axhline(s - 0.5, color="red", lw=0.8)
        ax.axvline(s - 0.5, color="red", lw=0.8)
    ax.set_xlabel("residual stream after layer (0 = embeddings)")
    ax.set_ylabel("residual stream after layer")
    ax.set_title(title or f"layer similarity over {sim.n_tokens} tokens")
    fig.tight_layout()
    path = os.fspath(path)
    tmp = path + ".tmp.png"
    fig.savefig(tmp)
    plt.close(fig)
    os.replace(tmp, path)
    return path
