"""perplexity(model, text): llama.cpp's chunked method, or lm-evaluation-harness's rolling windows.

llama.cpp (default, ``stride=None``): the token stream (with BOS when the tokenizer adds one)
is cut into ``len // n_ctx`` chunks of ``n_ctx`` tokens; each chunk runs from an empty cache with
its first token replaced by BOS (when the text starts with BOS), and only the predictions for
the second half are scored: logits at positions n_ctx/2 .. n_ctx-2 against the next tokens.
(llama.cpp refuses texts under 2*n_ctx tokens; one chunk is enough here.)

lm-eval (``stride=S``): ``loglikelihood_rolling`` — every token is scored once, in windows of
at most ``n_ctx`` inputs that predict ``S`` new tokens each (``S = n_ctx`` is lm-eval's own
setting, context_len = 1; smaller S gives each prediction more left context). The first window
is conditioned on the BOS id (EOS when there is none), lm-eval's prefix token; the tokens are
the tokenizer's output with its special tokens, exactly what lm-eval's HF model scores.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np

from .scoring import score_tail, tail_logits
from .text import as_ids, encode, is_text, resolve_tokenizer, special_ids

__all__ = ["perplexity", "PerplexityResult", "chunk_tokens", "rolling_windows"]


@dataclass
class PerplexityResult:
    ppl: float                  # exp(nll)
    nll: float                  # mean negative log-likelihood per scored token, nats
    n_tokens: int               # tokens scored
    nll_sum: float
    ppl_stderr: float           # llama.cpp's ± (from the spread of per-token nll)
    method: str                 # 'llama.cpp' or 'rolling'
    n_ctx: int
    stride: int | None = None
    running_ppl: list[float] = field(default_factory=list)   # after each chunk / window

    def __str__(self) -> str:
        how = f"llama.cpp chunks n_ctx={self.n_ctx}" if self.method == "llama.cpp" else \
            f"rolling n_ctx={self.n_ctx} stride={self.stride}"
        return f"PPL = {self.ppl:.4f} +/- {self.ppl_stderr:.5f} over {self.n_tokens} tokens ({how})"


def _text_tokens(model: Any, text: Any, tokenizer: Any) -> tuple[list[int], Any]:
    if is_text(text):
        tok = resolve_tokenizer(model, tokenizer, needed_for="perplexity of a string")
        return encode(tok, text, add_special=True), tok
    return as_ids(text, "text"), tokenizer


def chunk_tokens(tokens: list[int], n_ctx: int, bos: int | None, add_bos: bool,
                 max_chunks: int | None = None) -> Iterator[list[int]]:
    """llama.cpp's chunks: consecutive n_ctx-token slices, first token set to BOS when add_bos."""
    n_chunk = len(tokens) // n_ctx
    if max_chunks is not None:
        n_chunk = min(n_chunk, max_chunks)
    for i in range(n_chunk):
        chunk = tokens[i * n_ctx:(i + 1) * n_ctx]
        if add_bos:
            chunk[0] = bos
        yield chunk


def rolling_windows(tokens: list[int], prefix: int, n_ctx: int, stride: int) -> Iterator[tuple[list[int], list[int]]]:
    """lm-eval's disjoint rolling windows (inputs, targets): every token is a target once.

    ``inputs`` has len <= n_ctx; its last len(targets) positions predict ``targets``.
    """
    if not tokens:
        return
    first = min(n_ctx, len(tokens))
    yield [prefix] + tokens[:first - 1], tokens[:first]
    done = first
    while done < len(tokens):
        n = min(len(tokens) - done, stride)
        end = done + n
        yield tokens[max(0, end - n_ctx - 1):end - 1], tokens[end - n:end]
        done = end


def _result(nll_sum: float, nll2_sum: float, count: int, method: str, n_ctx: int,
            stride: int | None, running: list[float]) -> PerplexityResult:
    nll = nll_sum / count
    var = nll2_sum / count - nll * nll
    err = math.sqrt(var / (count - 1)) if var > 0 and count > 1 else 0.0
    ppl = math.exp(nll)
    return PerplexityResult(ppl, nll, count, nll_sum, ppl * err, method, n_ctx, stride, running)


def _check_n_ctx(model: Any, n_ctx: int) -> None:
    if not isinstance(n_ctx, (int, np.integer)) or isinstance(n_ctx, bool) or n_ctx < 3:
        raise ValueError(f"n_ctx must be an int >= 3, got {n_ctx!r}")


def perplexity(model: Any, text: Any, *, n_ctx: int = 512, stride: int | None = None, tokenizer: Any = None,
               add_bos: bool | None = None, max_chunks: int | None = None,
               progress: Callable[[int, int], None] | None = None) -> PerplexityResult:
    """Perplexity of ``text`` (a string, or token ids used as given).

    ``stride=None``: llama.cpp's method; ``add_bos`` (default: whether the tokens start with
    BOS) puts BOS at the start of every chunk; ``max_chunks`` limits the chunks (llama.cpp's
    ``--chunks``). ``stride=S``: lm-eval's rolling log-likelihood with windows of ``n_ctx``.
    """
    _check_n_ctx(model, n_ctx)
    tokens, tok = _text_tokens(model, text, tokenizer)
    bos, eos = special_ids(model, tok)
    if stride is not None:
        return _rolling(model, tokens, n_ctx, stride, bos if bos is not None else eos, progress)
    if add_bos is None:
        add_bos = bool(tokens) and bos is not None and tokens[0] == bos
    if add_bos and bos is None:
        raise ValueError("add_bos=True but the model has no BOS id")
    if len(tokens) < n_ctx:
        raise ValueError(f"perplexity with n_ctx={n_ctx} needs at least {n_ctx} tokens, the text has {len(tokens)}")
    first = n_ctx // 2
    session = model.new_session(n_ctx)
    nll = nll2 = 0.0
    count = 0
    running = []
    chunks = list(chunk_tokens(tokens, n_ctx, bos, add_bos, max_chunks))
    for i, chunk in enumerate(chunks):
        lp, _ = score_tail(model, session, chunk[:-1], chunk[first + 1:])
        nll -= float(lp.sum())
        nll2 += float(np.dot(lp, lp))
        count += lp.shape[0]
        running.append(math.exp(nll / count))
        if progress:
            progress(i + 1, len(chunks))
    return _result(nll, nll2, count, "llama.cpp", n_ctx, None, running)


def _rolling(model: Any, tokens: list[int], n_ctx: int, stride: int, prefix: int | None,
             progress) -> PerplexityResult:
    if not isinstance(stride, (int, np.integer)) or isinstance(stride, bool) or not 1 <= stride <= n_ctx:
        raise ValueError(f"stride must be an int in [1, n_ctx={n_ctx}], got {stride!r}")
    if prefix is None:
        raise ValueError("rolling perplexity needs a BOS or EOS id to condition the first token on")
    if not tokens:
        raise ValueError("perplexity of an empty text")
    windows = list(rolling_windows(tokens, prefix, n_ctx, stride))
    session = model.new_session(n_ctx)
    nll = nll2 = 0.0
    count = 0
    running = []
    for i, (inp, tgt) in enumerate(windows):
        lp, _ = score_tail(model, session, inp, tgt)
        nll -= float(lp.sum())
        nll2 += float(np.dot(lp, lp))
        count += lp.shape[0]
        running.append(math.exp(nll / count))
        if progress:
            progress(i + 1, len(windows))
    return _result(nll, nll2, count, "rolling", n_ctx, stride, running)


def chunk_rows(model: Any, session: Any, chunk: list[int]) -> Iterator[np.ndarray]:
    """Logit blocks for the scored positions n_ctx/2 .. n_ctx-2 of one llama.cpp chunk."""
    first = len(chunk) // 2
    return tail_logits(model, session, chunk[:-1], len(chunk) - 1 - first)
