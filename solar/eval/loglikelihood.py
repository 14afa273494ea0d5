"""loglikelihood(model, requests): sum log-prob of each continuation given its context, and
whether greedy decoding would have produced it — lm-evaluation-harness's ``loglikelihood``.

Requests that share a context (the choices of one multiple-choice question) share its prefill:
the context runs once through a session, and for every continuation the session is truncated
back to the context and only the continuation is run. The numbers are the same as running every
request from scratch (``reuse_prefix=False``), which is what the tests check.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .logprobs import token_logprobs
from .scoring import score_tail
from .text import as_ids, encode_pair, is_text, resolve_tokenizer, special_ids

__all__ = ["loglikelihood", "tokenize_requests", "score_token_requests"]

Progress = Callable[[int, int], None]


def tokenize_requests(model: Any, requests: Sequence, tokenizer: Any = None) -> list[tuple[list[int], list[int]]]:
    """Turn (context, continuation) pairs — both strings or both id lists — into id-list pairs.

    Strings follow lm-eval's boundary rule (:func:`solar.eval.text.encode_pair`); an empty id
    context is replaced by the BOS (else EOS) id, as lm-eval does for an empty string context.
    """
    out: list[tuple[list[int], list[int]]] = []
    tok = None
    prefix = None
    for i, req in enumerate(requests):
        if not isinstance(req, (tuple, list)) or len(req) != 2:
            raise TypeError(f"request {i}: expected a (context, continuation) pair, got {req!r:.80}")
        ctx, cont = req
        if is_text(ctx) != is_text(cont):
            raise TypeError(f"request {i}: context and continuation must both be strings or both token ids")
        if tok is None and is_text(ctx):
            tok = resolve_tokenizer(model, tokenizer, needed_for="string requests")
        if prefix is None:
            bos, eos = special_ids(model, tok if tok is not None else tokenizer)
            prefix = bos if bos is not None else eos
        if is_text(ctx):
            out.append(encode_pair(tok, ctx, cont, prefix))
            continue
        c, x = as_ids(ctx, f"request {i} context"), as_ids(cont, f"request {i} continuation")
        if not c:
            if prefix is None:
                raise ValueError(f"request {i}: empty context and the model has no BOS/EOS id")
            c = [prefix]
        out.append((c, x))
    return out


def _check_range(pairs, n_vocab: int) -> None:
    for i, (c, x) in enumerate(pairs):
        for t in (c, x):
            if t and (min(t) < 0 or max(t) >= n_vocab):
                bad = min(t) if min(t) < 0 else max(t)
                raise ValueError(f"request {i}: token id {bad} out of range [0, {n_vocab})")


def _score(rows: np.ndarray, targets: Sequence[int]) -> tuple[float, bool]:
    lp, greedy = token_logprobs(rows, targets)
    return float(lp.sum()), bool(greedy.all())


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def _score_group(model, session, ctx: list[int], conts: list[list[int]]) -> list[tuple[float, bool]]:
    """Run ``ctx`` once, then each continuation from the truncated cache.

    Continuations run in sorted order, and one that starts like the previous one also reuses its
    rows: row j (predicting cont[j]) depends only on ctx + cont[:j], so rows up to the common
    prefix are the previous continuation's, and the cache is cut back to ctx + that prefix.
    """
    session.reset()
    last = model.forward(ctx, session=session, last_only=True)      # (1, V): predicts cont[0]
    out: list[tuple[float, bool] | None] = [None] * len(conts)
    prev: list[int] = []
    prev_rows = last
    for i in sorted(range(len(conts)), key=lambda k: conts[k]):
        cont = conts[i]
        r = min(_common_prefix(prev, cont), len(prev) - 1) if prev else 0   # rows 0..r are shared
        rows = prev_rows[:min(r + 1, len(cont))]
        if len(cont) > r + 1:
            session.truncate(len(ctx) + r)
            rows = np.concatenate([rows, model.forward(cont[r:-1], session=session)])
        out[i] = _score(rows, cont)
        prev, prev_rows = cont, rows
    return out  # type: ignore[return-value]


def _score_alone(model, session, inp: list[int], cont: list[int]) -> tuple[float, bool]:
    """One request from scratch: the last len(cont) positions of ``inp`` scored against ``cont``."""
    lp, greedy = score_tail(model, session, inp, cont)
    return float(lp.sum()), bool(greedy.all())


def score_token_requests(model: Any, pairs: Sequence[tuple[list[int], list[int]]], *,
                         reuse_prefix: bool = True, max_length: int | None = None,
                         progress: Progress | None = None) -> list[tuple[float, bool]]:
    """Score id-list requests; see :func:`loglikelihood`."""
    if max_length is None:
        max_length = int(model.config.get("n_ctx_train") or 2048)
    if max_length < 1:
        raise ValueError(f"max_length must be >= 1, got {max_length}")
    _check_range(pairs, model.n_vocab)
    results: list[tuple[float, bool] | None] = [None] * len(pairs)
    groups: dict[tuple[int, ...], list[int]] = {}
    alone: list[int] = []
    for i, (c, x) in enumerate(pairs):
        if not x:
            results[i] = (0.0, True)
        elif len(x) > max_length:
            raise ValueError(f"request {i}: continuation of {len(x)} tokens exceeds max_length {max_length}")
        elif len(c) + len(x) > max_length + 1 or not reuse_prefix:
            alone.append(i)
        else:
            groups.setdefault(tuple(c), []).append(i)
    need = [len(c) + max(len(pairs[i][1]) for i in ids) - 1 for c, ids in groups.items()]
    need += [min(len(pairs[i][0]) + len(pairs[i][1]) - 1, max_length) for i in alone]
    if not need:
        return results  # type: ignore[return-value]
    session = model.new_session(max(need))
    total, done = len(pairs), len(pairs) - len(alone) - sum(len(v) for v in groups.values())
    for ctx, ids in groups.items():
        for i, r in zip(ids, _score_group(model, session, list(ctx), [pairs[j][1] for j in ids])):
            results[i] = r
        done += len(ids)
        if progress:
            progress(done, total)
    for i in alone:
        c, x = pairs[i]
        inp = (c + x)[-(max_length + 1):][:-1]       # lm-eval's left truncation
        results[i] = _score_alone(model, session, inp, x)
        done += 1
        if progress:
            progress(done, total)
    return results  # type: ignore[return-value]


def loglikelihood(model: Any, requests: Sequence, *, tokenizer: Any = None, reuse_prefix: bool = True,
                  max_length: int | None = None, progress: Progress | None = None) -> list[tuple[float, bool]]:
    """Per request ``(sum log P(continuation | context), is_greedy)``, like lm-eval's loglikelihood.

    ``requests``: (context, continuation) pairs, both strings (tokenized with ``tokenizer`` or the
    model's, lm-eval's boundary rule) or both token-id lists. Requests with equal contexts share
    one prefill (``reuse_prefix``). Inputs longer than ``max_length`` (default: the model's
    training context) are left-truncated like lm-eval does. ``progress(done, total)`` is called
    as requests finish.
    """
    pairs = tokenize_requests(model, requests, tokenizer)
    return score_token_requests(model, pairs, reuse_prefix=reuse_prefix, max_length=max_length,
                                progress=progress)
