"""Sampling options: validation of the generate() keywords and construction of the C sampler.

`SamplingParams` checks every option once, with an error that names the argument, and
normalises `stop` into strings and token ids. `make_sampler` builds the `_core.Sampler`
(llama.cpp semantics, see csrc/sampler/sampler.h) for a vocabulary size.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Optional, Tuple

from . import _core

__all__ = ["SamplingParams", "make_sampler", "SamplingArgumentError"]

# Largest number of alternatives per token that logprobs= may ask for.
MAX_LOGPROBS = 100


class SamplingArgumentError(TypeError, ValueError):
    """An argument of the wrong type; both a TypeError and a ValueError, so either catch works."""


def _number(name: str, value, *, integer: bool = False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        kind = "an int" if integer else "a number"
        raise SamplingArgumentError(f"{name} must be {kind}, got {value!r}")
    if integer:
        if not isinstance(value, numbers.Integral):
            raise SamplingArgumentError(f"{name} must be an int, got {value!r}")
        return int(value)
    value = float(value)
    if math.isnan(value):
        raise ValueError(f"{name} must not be NaN")
    return value


def _parse_stop(stop) -> Tuple[Tuple[str, ...], Tuple[int, ...]]:
    """None | str | int | iterable of str / int -> (stop strings, stop token ids)."""
    if stop is None:
        return (), ()
    items = [stop] if isinstance(stop, (str, numbers.Integral)) and not isinstance(stop, bool) else stop
    if isinstance(items, (bytes, bytearray, Mapping)) or not isinstance(items, Iterable):
        raise SamplingArgumentError(
            f"stop must be a string, a token id, or a list of them, got {type(stop).__name__}")
    strings, ids = [], []
    for item in items:
        if isinstance(item, str):
            if not item:
                raise ValueError("stop strings must not be empty")
            if item not in strings:
                strings.append(item)
        elif isinstance(item, numbers.Integral) and not isinstance(item, bool):
            if item < 0:
                raise ValueError(f"stop token ids must be >= 0, got {item}")
            if int(item) not in ids:
                ids.append(int(item))
        else:
            raise SamplingArgumentError(
                f"stop entries must be strings or token ids (int), got {type(item).__name__}: {item!r}")
    return tuple(strings), tuple(ids)


def _parse_logit_bias(bias) -> Optional[Tuple[Tuple[int, float], ...]]:
    if bias is None:
        return None
    if not isinstance(bias, Mapping):
        raise SamplingArgumentError(f"logit_bias must be a dict {{token id: bias}}, got {type(bias).__name__}")
    out = []
    for key, value in bias.items():
        if isinstance(key, bool) or not isinstance(key, numbers.Integral):
            raise ValueError(f"logit_bias keys must be token ids (int), got {key!r}")
        if key < 0:
            raise ValueError(f"logit_bias key {key} is not a valid token id")
        value = _number(f"logit_bias[{key}]", value)
        if value == math.inf:
            raise ValueError(f"logit_bias[{key}] must be finite or -inf, got inf")
        out.append((int(key), value))
    return tuple(out)


@dataclass(frozen=True)
class SamplingParams:
    """Validated generation options (the keywords of `generate`).

    temperature 0 means greedy. top_k 0, top_p 1 and min_p 0 switch those filters off.
    Penalties (repeat / presence / frequency) look at the last `repeat_last_n` tokens of the
    context (prompt included), as in llama.cpp. `stop` may be a string, a token id, or a list
    of both; `logprobs` is the number of alternatives to report per token (0 = only the chosen
    token's log-probability, None = no log-probabilities).
    """
    max_tokens: Optional[int] = 256
    temperature: float = 0.8
    top_k: int = 40
    top_p: float = 0.95
    min_p: float = 0.05
    repeat_penalty: float = 1.0
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    repeat_last_n: int = 64
    logit_bias: Optional[Mapping[int, float]] = None
    seed: Optional[int] = None
    stop: object = None
    logprobs: Optional[int] = None
    stop_strings: Tuple[str, ...] = field(init=False, default=())
    stop_ids: Tuple[int, ...] = field(init=False, default=())

    def __post_init__(self):
        set_ = object.__setattr__
        if self.max_tokens is not None:
            set_(self, "max_tokens", _number("max_tokens", self.max_tokens, integer=True))
            if self.max_tokens < 0:
                raise ValueError(f"max_tokens must be >= 0 or None, got {self.max_tokens}")
        t = _number("temperature", self.temperature)
        if t < 0 or math.isinf(t):
            raise ValueError(f"temperature must be finite and >= 0 (0 = greedy), got {t}")
        set_(self, "temperature", t)
        k = _number("top_k", self.top_k, integer=True)
        if k < 0:
            raise ValueError(f"top_k must be >= 0 (0 = off), got {k}")
        set_(self, "top_k", k)
        p = _number("top_p", self.top_p)
        if not 0.0 < p <= 1.0:
            raise ValueError(f"top_p must be in (0, 1], got {p}")
        set_(self, "top_p", p)
        m = _number("min_p", self.min_p)
        if not 0.0 <= m <= 1.0:
            raise ValueError(f"min_p must be in [0, 1], got {m}")
        set_(self, "min_p", m)
        self._check_penalties()
        if self.seed is not None:
            set_(self, "seed", _number("seed", self.seed, integer=True))
        strings, ids = _parse_stop(self.stop)
        set_(self, "stop_strings", strings)
        set_(self, "stop_ids", ids)
        bias = _parse_logit_bias(self.logit_bias)
        set_(self, "logit_bias", None if bias is None else dict(bias))
        if self.logprobs is not None:
            n = _number("logprobs", self.logprobs, integer=True)
            if not 0 <= n <= MAX_LOGPROBS:
                raise ValueError(f"logprobs must be in [0, {MAX_LOGPROBS}] or None, got {n}")
            set_(self, "logprobs", n)

    def _check_penalties(self):
        set_ = object.__setattr__
        r = _number("repeat_penalty", self.repeat_penalty)
        if not 0 < r < math.inf:
            raise ValueError(f"repeat_penalty must be finite and > 0 (1 = off), got {r}")
        set_(self, "repeat_penalty", r)
        for name in ("presence_penalty", "frequency_penalty"):
            v = _number(name, getattr(self, name))
            if math.isinf(v):
                raise ValueError(f"{name} must be finite, got {v}")
            set_(self, name, v)
        n = _number("repeat_last_n", self.repeat_last_n, integer=True)
        if not 0 <= n <= (1 << 24):
            raise ValueError(f"repeat_last_n must be in [0, {1 << 24}], got {n}")
        set_(self, "repeat_last_n", n)

    @property
    def greedy(self) -> bool:
        return self.temperature == 0.0

    def check_vocab(self, n_vocab: int) -> None:
        """Check the token ids in logit_bias and stop against a vocabulary of n_vocab tokens."""
        for key in (self.logit_bias or {}):
            if key >= n_vocab:
                raise ValueError(f"logit_bias key {key} is outside the vocabulary [0, {n_vocab})")
        for tid in self.stop_ids:
            if tid >= n_vocab:
                raise ValueError(f"stop token id {tid} is outside the vocabulary [0, {n_vocab})")
        if self.logprobs is not None and self.logprobs > n_vocab:
            raise ValueError(f"logprobs={self.logprobs} exceeds the vocabulary size {n_vocab}")


def make_sampler(params: SamplingParams, n_vocab: int) -> "_core.Sampler":
    """The C sampler for these options over a vocabulary of n_vocab tokens."""
    params.check_vocab(n_vocab)
    return _core.Sampler(
        n_vocab, temperature=params.temperature, top_k=params.top_k, top_p=params.top_p,
        min_p=params.min_p, repeat_penalty=params.repeat_penalty,
        presence_penalty=params.presence_penalty, frequency_penalty=params.frequency_penalty,
        penalty_last_n=params.repeat_last_n, seed=params.seed, logit_bias=params.logit_bias)
