"""Scoring the tail of a sequence: run the model over ``inp`` and read log-probabilities of the
targets at its last positions, without materialising logits for the positions not scored.

The head of ``inp`` runs with ``last_only=True`` (one (1, V) row comes back instead of (T, V)),
the rest continues from the session's cache. A causal model's rows do not depend on how the
sequence is split, so this equals scoring the rows of one full forward.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .logprobs import token_logprobs

__all__ = ["score_tail", "tail_logits"]


def tail_logits(model: Any, session: Any, inp: Sequence[int], n: int):
    """Yield logit blocks for the last ``n`` positions of ``inp`` ((1, V) then (n-1, V))."""
    k = len(inp) - n
    if n < 1 or k < 0:
        raise ValueError(f"cannot score the last {n} positions of {len(inp)} tokens")
    session.reset()
    yield model.forward(list(inp[:k + 1]), session=session, last_only=True)
    if n > 1:
        yield model.forward(list(inp[k + 1:]), session=session)


def score_tail(model: Any, session: Any, inp: Sequence[int], targets: Sequence[int]):
    """(logprob float64 (n,), greedy bool (n,)) of ``targets`` at the last n positions of ``inp``.

    Row ``len(inp) - n + j`` of the model's logits predicts ``targets[j]``.
    """
    n = len(targets)
    lps, greedy, j = [], [], 0
    for rows in tail_logits(model, session, inp, n):
        lp, g = token_logprobs(rows, targets[j:j + rows.shape[0]])
        lps.append(lp)
        greedy.append(g)
        j += rows.shape[0]
    return np.concatenate(lps), np.concatenate(greedy)
