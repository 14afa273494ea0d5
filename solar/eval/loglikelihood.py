"""loglikelihood(model, requests): sum log-prob of each continuation given its context, and
whether greedy decoding would have produced it — lm-evaluation-harness's ``loglikelihood``.

Requests that share a context (the choices of one multiple-choice question) share its prefill:
the context runs once through a session, and for every continuation the session is truncated
back to the context and only the continuation is run. The numbers are the same as running every
request from scratch (``reuse_prefix=False``), which is what the tests check.

Requests are short (a KoBEST COPA question is ~20 tokens), so questions run side by side, each
in its own session, through ``Model.forward_batch``: the contexts of up to ``batch_tokens`` rows
in one pass, then the i-th choice of every question in one pass per i. Every weight matrix is
then multiplied with a few hundred rows at once instead of a handful. Batching changes no number:
each row depends only on its own sequence.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .logprobs import token_logprobs
from .text import as_ids, encode_pair, is_text, resolve_tokenizer, special_ids

__all__ = ["loglikelihood", "tokenize_requests", "score_token_requests"]

Progress = Callable[[int, int], None]
MAX_SEQUENCES = 64          # questions run side by side at most


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


def _forward_many(model, ids_list: list, sessions: list, last_only: bool):
    """Model.forward_batch, or one forward per session for models without it."""
    if hasattr(model, "forward_batch"):
        return model.forward_batch(ids_list, sessions, last_only=last_only)
    outs = [model.forward(ids, session=s, last_only=last_only) for ids, s in zip(ids_list, sessions)]
    return np.concatenate(outs) if last_only else outs


class _Group:
    """One context and its continuations, scored in sorted order from one session.

    A continuation that starts like the previous one also reuses its rows: row j (predicting
    cont[j]) depends only on ctx + cont[:j], so rows up to the common prefix are the previous
    continuation's, and the cache is cut back to ctx + that prefix.
    """

    def __init__(self, ctx: list[int], conts: list[list[int]], ids: list[int]):
        self.ctx, self.conts, self.ids = ctx, conts, ids
        self.order = sorted(range(len(conts)), key=lambda k: conts[k])
        self.done: list[tuple[int, tuple[float, bool]]] = []
        self.prev: list[int] = []
        self.prev_rows = None
        self.shared = None                       # rows reused by the continuation being run

    def next_input(self, session) -> list[int] | None:
        """Score what needs no model run; return the ids to run for the next continuation
        (after cutting the cache back), or None when every continuation is scored."""
        while len(self.done) < len(self.conts):
            cont = self.conts[self.order[len(self.done)]]
            r = min(_common_prefix(self.prev, cont), len(self.prev) - 1) if self.prev else 0
            self.shared = self.prev_rows[:min(r + 1, len(cont))]
            if len(cont) > r + 1:
                session.truncate(len(self.ctx) + r)
                return cont[r:-1]
            self.finish(self.shared)
        return None

    def finish(self, rows: np.ndarray) -> None:
        i = self.order[len(self.done)]
        self.done.append((self.ids[i], _score(rows, self.conts[i])))
        self.prev, self.prev_rows = self.conts[i], rows


def _score_groups(model, sessions, groups: list[_Group]) -> None:
    """Run the contexts of several groups in one pass, then their continuations side by side."""
    for s in sessions:
        s.reset()
    last = _forward_many(model, [g.ctx for g in groups], sessions, True)     # row g predicts cont[0]
    for k, g in enumerate(groups):
        g.prev_rows = last[k:k + 1]
    live = list(zip(groups, sessions))
    while live:
        runs = [(g, s, g.next_input(s)) for g, s in live]
        runs = [r for r in runs if r[2] is not None]
        if not runs:
            break
        new_rows = _forward_many(model, [ids for _, _, ids in runs], [s for _, s, _ in runs], False)
        for (g, _, _), rows in zip(runs, new_rows):
            g.finish(np.concatenate([g.shared, rows]))
        live = [(g, s) for g, s, _ in runs]


def _score_alone(model, sessions, items: list[tuple[list[int], list[int]]]) -> list[tuple[float, bool]]:
    """Requests from scratch, side by side: the last len(cont) positions of each ``inp`` scored
    against ``cont`` (the head with only its last row of logits, the rest with all rows)."""
    for s in sessions:
        s.reset()
    heads = [inp[:len(inp) - len(cont) + 1] for inp, cont in items]
    first = _forward_many(model, heads, sessions, True)
    tails = [(k, inp[len(h):]) for k, ((inp, _), h) in enumerate(zip(items, heads)) if len(inp) > len(h)]
    rest = _forward_many(model, [t for _, t in tails], [sessions[k] for k, _ in tails], False) if tails else []
    rows = [first[k:k + 1] for k in range(len(items))]
    for (k, _), r in zip(tails, rest):
        rows[k] = np.concatenate([rows[k], r])
    return [_score(r, cont) for r, (_, cont) in zip(rows, items)]


def _batches(items: list, size, budget: int, max_n: int):
    """Consecutive runs of items whose sizes add up to at most budget (at least one item each)."""
    run: list = []
    total = 0
    for it in items:
        n = size(it)
        if run and (total + n > budget or len(run) == max_n):
            yield run
            run, total = [], 0
        run.append(it)
        total += n
    if run:
        yield run


def score_token_requests(model: Any, pairs: Sequence[tuple[list[int], list[int]]], *,
                         reuse_prefix: bool = True, max_length: int | None = None,
                         progress: Progress | None = None, batch_tokens: int = 512) -> list[tuple[float, bool]]:
    """Score id-list requests; see :func:`loglikelihood`."""
    if max_length is None:
        max_length = int(model.config.get("n_ctx_train") or 2048)
    if max_length < 1:
        raise ValueError(f"max_length must be >= 1, got {max_length}")
    if batch_tokens < 1:
        raise ValueError(f"batch_tokens must be >= 1, got {batch_tokens}")
    _check_range(pairs, model.n_vocab)
    results: list[tuple[float, bool] | None] = [None] * len(pairs)
    by_ctx: dict[tuple[int, ...], list[int]] = {}
    alone: list[int] = []
    for i, (c, x) in enumerate(pairs):
        if not x:
            results[i] = (0.0, True)
        elif len(x) > max_length:
            raise ValueError(f"request {i}: continuation of {len(x)} tokens exceeds max_length {max_length}")
        elif len(c) + len(x) > max_length + 1 or not reuse_prefix:
            alone.append(i)
        else:
            by_ctx.setdefault(tuple(c), []).append(i)
    need = [len(c) + max(len(pairs[i][1]) for i in ids) - 1 for c, ids in by_ctx.items()]
    need += [min(len(pairs[i][0]) + len(pairs[i][1]) - 1, max_length) for i in alone]
    if not need:
        return results  # type: ignore[return-value]
    n_ctx = max(need)
    # sessions of n_ctx tokens each; about two batches' worth of rows of KV cache in all
    max_n = max(1, min(MAX_SEQUENCES, 2 * batch_tokens // n_ctx))
    sessions: list = []

    def pool(n: int) -> list:
        while len(sessions) < n:
            sessions.append(model.new_session(n_ctx))
        return sessions[:n]

    total, done = len(pairs), len(pairs) - len(alone) - sum(len(v) for v in by_ctx.values())
    groups = [_Group(list(c), [pairs[j][1] for j in ids], ids) for c, ids in by_ctx.items()]
    for run in _batches(groups, lambda g: len(g.ctx), batch_tokens, max_n):
        _score_groups(model, pool(len(run)), run)
        for g in run:
            for i, r in g.done:
                results[i] = r
            done += len(g.ids)
        if progress:
            progress(done, total)
    items = []
    for i in alone:
        c, x = pairs[i]
        items.append((i, ((c + x)[-(max_length + 1):][:-1], x)))     # lm-eval's left truncation
    for run in _batches(items, lambda it: len(it[1][0]), batch_tokens, max_n):
        for (i, _), r in zip(run, _score_alone(model, pool(len(run)), [it for _, it in run])):
            results[i] = r
        done += len(run)
        if progress:
            progress(done, total)
    return results  # type: ignore[return-value]


def loglikelihood(model: Any, requests: Sequence, *, tokenizer: Any = None, reuse_prefix: bool = True,
                  max_length: int | None = None, progress: Progress | None = None,
                  batch_tokens: int = 512) -> list[tuple[float, bool]]:
    """Per request ``(sum log P(continuation | context), is_greedy)``, like lm-eval's loglikelihood.

    ``requests``: (context, continuation) pairs, both strings (tokenized with ``tokenizer`` or the
    model's, lm-eval's boundary rule) or both token-id lists. Requests with equal contexts share
    one prefill (``reuse_prefix``). Inputs longer than ``max_length`` (default: the model's
    training context) are left-truncated like lm-eval does. ``progress(done, total)`` is called
    as requests finish. Questions run side by side in passes of about ``batch_tokens`` context
    rows (``Model.forward_batch``); the numbers do not depend on it.
    """
    pairs = tokenize_requests(model, requests, tokenizer)
    return score_token_requests(model, pairs, reuse_prefix=reuse_prefix, max_length=max_length,
                                progress=progress, batch_tokens=batch_tokens)
