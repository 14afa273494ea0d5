"""SOLAR's Depth Up-Scaling recipe, end to end, on a small model:

    base (n layers) -> DUS (layers [0, n-m) + [m, n), 2(n-m) layers, no weight copied)
    -> perplexity of base and scaled on WikiText (before any continued pretraining)
    -> layer-similarity heatmap with the seam marked

    python examples/dus_solar_recipe.py [MODEL] [-m M] [--out DIR]

MODEL defaults to the bundled solar-mini. WikiText-2 is read from ../shared/data when present;
otherwise a few built-in sentences are used.
"""
import argparse
import os
import sys

import numpy as np

import solar

FALLBACK_TEXT = ("The history of the city begins in the twelfth century, when a small market grew around "
                 "the river crossing. By the fifteenth century it had become a centre of trade. ") * 20


def wikitext(max_chars: int = 60_000) -> str:
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "..", "..", "shared", "data", "text", "wikitext-2-raw", "wiki.test.raw")
    if not os.path.exists(path):
        return FALLBACK_TEXT
    with open(path, encoding="utf-8") as f:
        return f.read().replace("\r", "")[:max_chars]


def perplexity(model, text: str, n_ctx: int = 256) -> float:
    try:
        from solar.eval import perplexity as ppl
        return ppl(model, text, n_ctx=n_ctx).ppl
    except ImportError:                       # without solar.eval: second half of each chunk
        ids = np.asarray(model.tokenizer.encode(text))
        nll, n = 0.0, 0
        for i in range(0, len(ids) - n_ctx, n_ctx):
            chunk = ids[i:i + n_ctx]
            lp = model.forward(chunk).astype(np.float64)
            lp -= lp.max(-1, keepdims=True)
            lp -= np.log(np.exp(lp).sum(-1, keepdims=True))
            half = n_ctx // 2
            nll -= lp[np.arange(half, n_ctx - 1), chunk[half + 1:]].sum()
            n += n_ctx - 1 - half
        return float(np.exp(nll / n))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model", nargs="?", default=None)
    ap.add_argument("-m", type=int, default=None, help="layers dropped at the seam (default n/4, at least 1)")
    ap.add_argument("--out", default="dus-out")
    a = ap.parse_args()
    base = solar.load(a.model)
    m = a.m or max(1, base.n_layers // 4)
    big = solar.dus.depth_up_scale(base, m)
    shared = np.shares_memory(big.weights[next(n for n, r, l in big.tensor_roles() if r == "wq" and l == base.n_layers - m)],
                              base.weights[next(n for n, r, l in base.tensor_roles() if r == "wq" and l == m)])
    print(f"base: {base.n_layers} layers -> DUS (m={m}): {big.n_layers} layers; shares the base's memory: {shared}")
    text = wikitext()
    p_base, p_big = perplexity(base, text), perplexity(big, text)
    print(f"WikiText perplexity before continued pretraining: base {p_base:.2f}, scaled {p_big:.2f} "
          f"(x{p_big / p_base:.2f})")
    paragraphs = [p for p in text.split("\n") if len(p) > 200][:16] or [text]
    sim = solar.dus.layer_similarity(big, paragraphs, max_tokens=256)
    for j in sim.seam_jumps:
        print(f"seam at layer {j['seam']}: angular step {j['step']:.4f} vs median {j['median_step']:.4f}")
    os.makedirs(a.out, exist_ok=True)
    try:
        png = solar.dus.plot_layer_similarity(sim, os.path.join(a.out, "layer_similarity.png"),
                                              title=f"DUS of a {base.n_layers}-layer model, m={m}")
        print(f"plot: {png}")
    except ImportError as e:
        print(f"(no plot: {e})", file=sys.stderr)
    big.save(os.path.join(a.out, "scaled"))
    print(f"saved the scaled model to {os.path.join(a.out, 'scaled')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
