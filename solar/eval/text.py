"""Text to token ids for evaluation: which tokenizer, which special ids, and lm-eval's pair rule.

Any object with ``encode(text, add_special=True)`` (-> ids) and ``decode(ids)`` works as a
tokenizer (``solar.Tokenizer`` or a thin adapter over another library); ``bos_id``/``eos_id``
are read when present, else taken from the model's config.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

__all__ = ["resolve_tokenizer", "special_ids", "encode", "decode", "encode_pair", "is_text", "as_ids"]


def is_text(x: Any) -> bool:
    return isinstance(x, str)


def as_ids(x: Any, what: str = "token ids") -> list[int]:
    """A sequence of ints (list, tuple, 1-D integer array) -> list[int]; anything else is an error."""
    if isinstance(x, (str, bytes)):
        raise TypeError(f"{what}: expected token ids, got {type(x).__name__}")
    a = np.asarray(x)
    if a.size == 0:
        return []
    if a.ndim != 1 or a.dtype.kind not in "iu":
        raise TypeError(f"{what}: expected a 1-D sequence of ints, got {a.dtype} array of shape {a.shape}")
    return [int(t) for t in a]


def resolve_tokenizer(model: Any, tokenizer: Any = None, *, needed_for: str = "text input"):
    """The tokenizer to use: the one given, else ``model.tokenizer``; an error when neither exists."""
    tok = tokenizer if tokenizer is not None else getattr(model, "tokenizer", None)
    if tok is None:
        raise ValueError(f"{needed_for} needs a tokenizer: this model has none; "
                         "pass token ids or tokenizer=<object with encode/decode>")
    if not callable(getattr(tok, "encode", None)):
        raise TypeError(f"tokenizer {type(tok).__name__} has no encode() method")
    return tok


def _first_id(v: Any) -> int | None:
    if isinstance(v, (list, tuple)):
        v = v[0] if v else None
    return None if v is None else int(v)


def special_ids(model: Any, tokenizer: Any = None) -> tuple[int | None, int | None]:
    """(bos_id, eos_id): the tokenizer's when it has them, else the model config's."""
    cfg = getattr(model, "config", None) or {}
    bos = getattr(tokenizer, "bos_id", None) if tokenizer is not None else None
    eos = getattr(tokenizer, "eos_id", None) if tokenizer is not None else None
    if bos is None:
        bos = cfg.get("bos_token_id")
    if eos is None:
        eos = cfg.get("eos_token_id")
    return _first_id(bos), _first_id(eos)


def encode(tokenizer: Any, text: str, add_special: bool = True) -> list[int]:
    """Encode ``text`` to a list of ints."""
    return as_ids(tokenizer.encode(text, add_special=add_special), "tokenizer output")


def decode(tokenizer: Any, ids, skip_special: bool = True) -> str:
    """Decode ids; special tokens dropped when the tokenizer supports ``skip_special``."""
    ids = [int(t) for t in ids]
    try:
        return tokenizer.decode(ids, skip_special=skip_special)
    except TypeError:                   # a decode(ids) without the option
        return tokenizer.decode(ids)


def encode_pair(tokenizer: Any, context: str, continuation: str,
                prefix_token: int | None) -> tuple[list[int], list[int]]:
    """Split (context, continuation) into token ids the way lm-evaluation-harness does.

    Empty context: the continuation (without special tokens) is conditioned on ``prefix_token``
    (BOS, else EOS) unless it already starts with it. Otherwise trailing whitespace of the context
    moves to the continuation, ``context + continuation`` is encoded whole, and the continuation
    is what follows the first ``len(encode(context))`` tokens — so a token that straddles the
    boundary is scored as part of the continuation, as lm-eval does for causal models.
    """
    if context == "":
        cont = encode(tokenizer, continuation, add_special=False)
        if prefix_token is None:
            raise ValueError("empty context needs a BOS or EOS id to condition on")
        if cont and cont[0] == prefix_token:
            return cont[:1], cont[1:]
        return [prefix_token], cont
    n_spaces = len(context) - len(context.rstrip())
    if n_spaces:
        continuation = context[-n_spaces:] + continuation
        context = context[:-n_spaces]
    whole = encode(tokenizer, context + continuation)
    ctx = encode(tokenizer, context)
    return ctx, whole[len(ctx):]


def encode_requests(tokenizer: Any, requests: Sequence, prefix_token: int | None):
    """[(context, continuation)] of strings -> [(ctx_ids, cont_ids)] by :func:`encode_pair`."""
    return [encode_pair(tokenizer, c, x, prefix_token) for c, x in requests]
