"""kl_divergence(model_a, model_b, text): how far model_b's next-token distributions are from
model_a's (the base), on llama.cpp's perplexity chunks — the statistics llama.cpp's
``--kl-divergence`` prints for a quantized model against its f16 base.

Per scored position t (the second half of every chunk): KL(P_a || P_b) over the whole vocabulary,
whether both argmaxes agree, and Δp = P_b(x_t+1) - P_a(x_t+1) for the actual next token.
Percentiles interpolate linearly between sorted values, like llama.cpp.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .logprobs import ROW_BLOCK, log_softmax
from .perplexity import _check_n_ctx, _text_tokens, chunk_rows, chunk_tokens
from .text import special_ids

__all__ = ["kl_divergence", "KLResult"]

KL_PERCENTILES = (99.9, 99.0, 95.0, 90.0, 50.0, 10.0, 5.0, 1.0, 0.1)
DP_PERCENTILES = (99.9, 99.0, 95.0, 90.0, 75.0, 50.0, 25.0, 10.0, 5.0, 1.0, 0.1)


def _mean_err(values: np.ndarray) -> tuple[float, float]:
    """llama.cpp's mean ± uncertainty: sqrt(var / (n-1)) with the population variance."""
    n = values.shape[0]
    mean = float(values.mean())
    var = float(np.mean(values * values)) - mean * mean
    return mean, (math.sqrt(var / (n - 1)) if var > 0 and n > 10 else 0.0)


@dataclass
class KLResult:
    n_tokens: int
    kl_mean: float
    kl_stderr: float
    kl_max: float
    kl_min: float
    kl_percentiles: dict[float, float]
    same_top_p: float               # fraction of positions where both argmaxes agree
    same_top_stderr: float
    dp_mean: float
    dp_stderr: float
    dp_rms: float
    dp_max: float
    dp_min: float
    dp_percentiles: dict[float, float]
    ppl_a: float
    ppl_b: float
    ln_ppl_ratio: float              # mean ln(PPL(b)/PPL(a))
    kl_values: np.ndarray = field(repr=False)    # per scored token, float64
    dp_values: np.ndarray = field(repr=False)

    def __str__(self) -> str:
        lines = [f"PPL(a) = {self.ppl_a:.6f}   PPL(b) = {self.ppl_b:.6f}   ln(PPL(b)/PPL(a)) = "
                 f"{self.ln_ppl_ratio:.6f}   over {self.n_tokens} tokens",
                 f"Mean    KLD: {self.kl_mean:10.6f} ± {self.kl_stderr:10.6f}",
                 f"Maximum KLD: {self.kl_max:10.6f}"]
        lines += [f"{p:5.1f}%  KLD: {v:10.6f}" for p, v in self.kl_percentiles.items()]
        lines += [f"Minimum KLD: {self.kl_min:10.6f}",
                  f"Mean    Δp: {100 * self.dp_mean:6.3f} ± {100 * self.dp_stderr:5.3f} %",
                  f"Maximum Δp: {100 * self.dp_max:6.3f}%"]
        lines += [f"{p:5.1f}%  Δp: {100 * v:6.3f}%" for p, v in self.dp_percentiles.items()]
        lines += [f"Minimum Δp: {100 * self.dp_min:6.3f}%",
                  f"RMS Δp    : {100 * self.dp_rms:6.3f} %",
                  f"Same top p: {100 * self.same_top_p:6.3f} ± {100 * self.same_top_stderr:5.3f} %"]
        return "\n".join(lines)


def _block_stats(la: np.ndarray, lb: np.ndarray, targets: np.ndarray):
    """Per-row KL(a||b), same argmax, nll_a, nll_b, Δp for float32 logit blocks la, lb."""
    pa_log, pb_log = log_softmax(la), log_softmax(lb)
    kl = np.einsum("tv,tv->t", np.exp(pa_log), pa_log - pb_log)
    same = la.argmax(axis=1) == lb.argmax(axis=1)
    rows = np.arange(targets.shape[0])
    a_t, b_t = pa_log[rows, targets], pb_log[rows, targets]
    return kl, same, -a_t, -b_t, np.exp(b_t) - np.exp(a_t)


def _chunk_stats(model_a, model_b, sa, sb, chunk: list[int]):
    first = len(chunk) // 2
    targets = np.asarray(chunk[first + 1:], np.int64)
    out, j = [], 0
    for ra, rb in zip(chunk_rows(model_a, sa, chunk), chunk_rows(model_b, sb, chunk)):
        for r0 in range(0, ra.shape[0], ROW_BLOCK):
            n = min(ROW_BLOCK, ra.shape[0] - r0)
            out.append(_block_stats(ra[r0:r0 + n], rb[r0:r0 + n], targets[j:j + n]))
            j += n
    return [np.concatenate(parts) for parts in zip(*out)]


def _summarise(kl, same, nll_a, nll_b, dp) -> KLResult:
    n = kl.shape[0]
    kl_mean, kl_err = _mean_err(kl)
    dp_mean, dp_err = _mean_err(dp)
    top = float(same.mean())
    top_err = math.sqrt(top * (1 - top) / (n - 1)) if n > 1 else 0.0
    pct = lambda v, ps: {p: float(np.percentile(v, p)) for p in ps}
    return KLResult(n, kl_mean, kl_err, float(kl.max()), float(kl.min()), pct(kl, KL_PERCENTILES),
                    top, top_err, dp_mean, dp_err, float(np.sqrt(np.mean(dp * dp))), float(dp.max()),
                    float(dp.min()), pct(dp, DP_PERCENTILES), math.exp(float(nll_a.mean())),
                    math.exp(float(nll_b.mean())), float(nll_b.mean() - nll_a.mean()), kl, dp)


def kl_divergence(model_a: Any, model_b: Any, text: Any, *, n_ctx: int = 512, tokenizer: Any = None,
                  add_bos: bool | None = None, max_chunks: int | None = None,
                  progress: Callable[[int, int], None] | None = None) -> KLResult:
    """KL-divergence of ``model_b`` from the base ``model_a`` on ``text`` (string or token ids).

    Both models must share a vocabulary; the text is tokenized with ``tokenizer`` or model_a's.
    Chunking and BOS handling are those of :func:`solar.eval.perplexity` (llama.cpp's method).
    """
    _check_n_ctx(model_a, n_ctx)
    if model_a.n_vocab != model_b.n_vocab:
        raise ValueError(f"models have different vocabularies ({model_a.n_vocab} vs {model_b.n_vocab})")
    tokens, tok = _text_tokens(model_a, text, tokenizer)
    bos, _ = special_ids(model_a, tok)
    if add_bos is None:
        add_bos = bool(tokens) and bos is not None and tokens[0] == bos
    if len(tokens) < n_ctx:
        raise ValueError(f"kl_divergence with n_ctx={n_ctx} needs at least {n_ctx} tokens, the text has {len(tokens)}")
    if int(max(tokens)) >= model_a.n_vocab or int(min(tokens)) < 0:
        raise ValueError(f"token ids out of range [0, {model_a.n_vocab})")
    sa, sb = model_a.new_session(n_ctx), model_b.new_session(n_ctx)
    chunks = list(chunk_tokens(tokens, n_ctx, bos, add_bos, max_chunks))
    parts = []
    for i, chunk in enumerate(chunks):
        parts.append(_chunk_stats(model_a, model_b, sa, sb, chunk))
        if progress:
            progress(i + 1, len(chunks))
    return _summarise(*[np.concatenate(p) for p in zip(*parts)])
