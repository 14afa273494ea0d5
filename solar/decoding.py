"""One sequence being decoded: its session bookkeeping, sampler, stop conditions and text.

`Sequence` is a small state machine with no loop of its own: a driver asks it for the ids to
run through the model (`next_input`), runs them (`forward_into_session`), and hands back the
last row of logits (`step`). `generate` drives one sequence; `generate_batch` drives several
in lock step through `forward_batch_into_sessions` (one weight pass for all sequences).

Session bookkeeping: `session.tokens` mirrors what the session's KV cache holds, so a new prompt
that starts with those tokens only forwards the rest. The mirror is re-synchronised from
`session.n_past` after every forward, even one cut short by Ctrl-C, so an interrupted
generation leaves a session that is consistent and reusable.
"""
from __future__ import annotations

import time
import weakref
from dataclasses import dataclass, field
from typing import List, Optional, Sequence as Seq, Tuple

import numpy as np

from .sampling import SamplingParams, make_sampler

__all__ = ["Sequence", "GenerationResult", "TokenLogprob", "Timings", "StopText", "forward_into_session",
           "forward_batch_into_sessions"]

_TOKENS_FALLBACK: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


@dataclass
class TokenLogprob:
    """Log-probability of a generated token under the model's raw distribution, with the
    `top` most likely alternatives as (token id, logprob), best first."""
    token: int
    logprob: float
    top: List[Tuple[int, float]] = field(default_factory=list)


@dataclass
class Timings:
    prompt_tokens: int = 0          # prompt tokens run through the model (cached ones excluded)
    cached_tokens: int = 0          # prompt tokens reused from the session
    prompt_seconds: float = 0.0
    generated_tokens: int = 0
    generate_seconds: float = 0.0

    @property
    def prompt_tokens_per_s(self) -> float:
        return self.prompt_tokens / self.prompt_seconds if self.prompt_seconds > 0 else 0.0

    @property
    def generated_tokens_per_s(self) -> float:
        return self.generated_tokens / self.generate_seconds if self.generate_seconds > 0 else 0.0

    def __str__(self) -> str:
        return (f"prompt: {self.prompt_tokens} tokens ({self.cached_tokens} cached) in {self.prompt_seconds:.2f} s, "
                f"{self.prompt_tokens_per_s:.1f} tok/s; generated: {self.generated_tokens} tokens in "
                f"{self.generate_seconds:.2f} s, {self.generated_tokens_per_s:.1f} tok/s")


@dataclass
class GenerationResult:
    """The outcome of one generation. finish_reason: "eos" (end-of-sequence / end-of-turn token),
    "stop" (a stop string or stop token id), "length" (max_tokens or the context is full).
    tokens are the generated ids (the EOS or stop token id that ended it excluded); text is
    their decoded text, cut before a stop string."""
    text: str
    tokens: List[int]
    finish_reason: str
    logprobs: Optional[List[TokenLogprob]]
    timings: Timings
    prompt_tokens: int

    def __str__(self) -> str:
        return self.text


# ---- session mirror --------------------------------------------------------------------

def session_tokens(session) -> List[int]:
    """The live token list mirroring the session's cache, repaired to agree with session.n_past."""
    tokens = getattr(session, "tokens", None)
    if tokens is None and _weakrefable(session):
        tokens = _TOKENS_FALLBACK.get(session)
    if not isinstance(tokens, list):
        tokens = list(tokens) if tokens is not None else []
    n_past = int(session.n_past)
    if len(tokens) > n_past:
        del tokens[n_past:]
    elif len(tokens) < n_past:                 # the cache holds tokens we cannot name: drop them
        session.truncate(len(tokens))
    _store_tokens(session, tokens)
    return tokens


def _weakrefable(obj) -> bool:
    try:
        weakref.ref(obj)
        return True
    except TypeError:
        return False


def _store_tokens(session, tokens: List[int]) -> None:
    if getattr(session, "tokens", None) is tokens:
        return
    try:
        session.tokens = tokens
        return
    except (AttributeError, TypeError):
        pass
    if _weakrefable(session):
        _TOKENS_FALLBACK[session] = tokens


def _resync(session, tokens: List[int], base: int, ids: List[int]) -> None:
    """After a forward of ids on top of `base` mirrored tokens: make the mirror name the cache."""
    n_past = int(session.n_past)
    if n_past > base + len(ids):               # cannot happen with a sane session: resync to known
        session.truncate(base)
        n_past = base
    del tokens[min(base, n_past):]             # rebuild the tail (the model may have appended it too)
    tokens.extend(int(t) for t in ids[: max(0, n_past - base)])


def forward_into_session(model, session, ids: List[int]) -> np.ndarray:
    """Run ids through the model on top of the session; returns the last row of logits (V,).

    Whatever happens (including KeyboardInterrupt), session.tokens afterwards names exactly
    the n_past tokens the cache holds."""
    tokens = session_tokens(session)
    base = len(tokens)
    try:
        logits = model.forward(ids, session=session, last_only=True)
    finally:
        _resync(session, tokens, base, ids)
    return np.asarray(logits)[-1]


def forward_batch_into_sessions(model, sessions, inputs: List[List[int]]) -> List[np.ndarray]:
    """forward_into_session for several sessions at once: one `model.forward_batch` pass (every
    weight read once for all of them) when the model has it, else one forward per session.
    Returns each sequence's last row of logits (V,); the mirrors stay exact whatever happens."""
    if not hasattr(model, "forward_batch"):
        return [forward_into_session(model, s, ids) for s, ids in zip(sessions, inputs)]
    mirrors = [session_tokens(s) for s in sessions]
    bases = [len(t) for t in mirrors]
    try:
        logits = model.forward_batch(inputs, sessions, last_only=True)
    finally:
        for s, tokens, base, ids in zip(sessions, mirrors, bases, inputs):
            _resync(s, tokens, base, ids)
    return list(np.asarray(logits))


def reuse_prefix(session, prompt: List[int]) -> int:
    """Truncate the session to its longest common prefix with prompt (keeping at least the last
    prompt token to run, for its logits); returns how many prompt tokens are cached."""
    tokens = session_tokens(session)
    n = 0
    limit = min(len(tokens), len(prompt) - 1)
    while n < limit and tokens[n] == prompt[n]:
        n += 1
    if n < len(tokens):
        session.truncate(n)
        del tokens[n:]
    return n


# ---- text and stop strings ---------------------------------------------------------------

class StopText:
    """Accumulates decoded text, finds stop strings across piece boundaries, and releases only
    text that cannot be the beginning of a stop string."""

    def __init__(self, stop_strings: Seq[str]):
        self.stops = tuple(stop_strings)
        self.longest = max((len(s) for s in self.stops), default=0)
        self.text = ""
        self.emitted = 0
        self.stopped = False

    def add(self, piece: str) -> str:
        """Append piece; return the newly releasable text (stop string and what follows excluded)."""
        if self.stopped or not piece:
            return ""
        start = max(0, len(self.text) - self.longest + 1)
        self.text += piece
        hit = -1
        for s in self.stops:
            i = self.text.find(s, start)
            if i >= 0 and (hit < 0 or i < hit):
                hit = i
        if hit >= 0:
            self.text = self.text[:hit]
            self.stopped = True
            return self._release(len(self.text))
        return self._release(len(self.text) - self._held())

    def finish(self) -> str:
        """Release everything still held back (generation ended without a stop string)."""
        return self._release(len(self.text))

    def _held(self) -> int:
        held = 0
        for s in self.stops:
            for k in range(min(len(s) - 1, len(self.text)), held, -1):
                if self.text.endswith(s[:k]):
                    held = k
                    break
        return held

    def _release(self, end: int) -> str:
        end = max(end, self.emitted)
        out = self.text[self.emitted:end]
        self.emitted = end
        return out


# ---- one sequence ---------------------------------------------------------------------------

class Sequence:
    """Decoding state of one prompt: sampler, stop conditions, tokens, text and timings.

    Protocol for a driver: `ids = seq.next_input()`; `row = forward_into_session(model,
    seq.session, ids)` (or a row of a batched forward); `pieces = seq.step(row)`; repeat while
    not `seq.done`. `step` returns the text released by that token (possibly "").
    """

    def __init__(self, model, prompt: List[int], params: SamplingParams, session, *,
                 eos_ids: Seq[int] = (), stream_decoder=None):
        self.model = model
        self.params = params
        self.session = session
        self.prompt = list(prompt)
        self.eos_ids = frozenset(int(t) for t in eos_ids)
        self.stop_ids = frozenset(params.stop_ids)
        self.sampler = make_sampler(params, int(model.n_vocab))
        window = params.repeat_last_n
        if window > 0:
            self.sampler.accept(self.prompt[-window:])
        self.tokens: List[int] = []
        self.logprobs: Optional[List[TokenLogprob]] = [] if params.logprobs is not None else None
        self.text = StopText(params.stop_strings)
        self.decoder = stream_decoder
        self.finish_reason: Optional[str] = None
        self.timings = Timings()
        self._cached = reuse_prefix(session, self.prompt)
        self.timings.cached_tokens = self._cached
        self._input: List[int] = self.prompt[self._cached:]
        self._prompt_done = False
        self._t0 = time.perf_counter()
        if self.decoder is not None and self.prompt:
            self.decoder.push(int(self.prompt[-1]))     # context for the first piece (e.g. SPM's space)

    @property
    def done(self) -> bool:
        return self.finish_reason is not None

    def next_input(self) -> List[int]:
        return self._input

    def step(self, logits_row: np.ndarray) -> str:
        """Consume the logits after next_input(); sample, check stops; return released text."""
        if not self._prompt_done:
            self._prompt_done = True
            self.timings.prompt_tokens = len(self._input)
            self.timings.prompt_seconds = time.perf_counter() - self._t0
            if self.params.max_tokens == 0:
                return self._finish("length")
        token = int(self.sampler.sample(logits_row))
        if token in self.eos_ids:
            return self._finish("eos")
        if token in self.stop_ids:
            return self._finish("stop")
        if self.logprobs is not None:
            lp, top = self.sampler.logprobs(logits_row, token, self.params.logprobs)
            self.logprobs.append(TokenLogprob(token, lp, top))
        self.sampler.accept(token)
        self.tokens.append(token)
        out = self.text.add(self.decoder.push(token)) if self.decoder is not None else ""
        self._mark_generated()
        if self.text.stopped:
            self.finish_reason = "stop"
            return out
        if self.params.max_tokens is not None and len(self.tokens) >= self.params.max_tokens:
            return out + self._finish("length")
        if int(self.session.n_past) + 1 > int(self.session.n_ctx):
            return out + self._finish("length")
        self._input = [token]
        return out

    def result(self) -> GenerationResult:
        return GenerationResult(self.text.text, list(self.tokens), self.finish_reason or "length",
                                self.logprobs, self.timings, len(self.prompt))

    def _mark_generated(self) -> None:
        self.timings.generated_tokens = len(self.tokens)
        self.timings.generate_seconds = time.perf_counter() - self._t0 - self.timings.prompt_seconds

    def _finish(self, reason: str) -> str:
        self.finish_reason = reason
        self._input = []
        if self.decoder is None or not self.tokens:      # nothing generated: drop the priming context
            return ""
        out = self.text.add(self.decoder.flush())
        if self.text.stopped:
            self.finish_reason = "stop"
            return out
        return out + self.text.finish()
