"""Text generation: `generate`, `chat`, `generate_batch` and `apply_chat_template` as free
functions of a model (the Model class exposes them as methods).

The model needs `forward(ids, session=, last_only=True) -> (1, V) logits`, `new_session(n_ctx=)`,
`n_vocab`, `config` (eos_token_id, n_ctx_train) and, for text, a `tokenizer` with
`encode(text, add_special=)`, `stream()` (`push(id) -> str`, `flush() -> str`), `bos_id`,
`eos_id` and `piece_to_id`. Sessions expose `n_past`, `n_ctx`, `truncate(n)`, `reset()`; we keep
`session.tokens`, the ids in its cache, for prompt reuse (see solar.decoding).
"""
from __future__ import annotations

import numbers
from typing import Iterator, List, Optional, Sequence as Seq

import numpy as np

from . import chat as chat_mod
from .decoding import (GenerationResult, Sequence, Timings, TokenLogprob, forward_batch_into_sessions,
                       forward_into_session)
from .sampling import SamplingArgumentError, SamplingParams

__all__ = ["generate", "chat", "generate_batch", "apply_chat_template", "GenerationResult", "GenerationStream",
           "TokenLogprob", "Timings"]

DEFAULT_N_CTX = 4096


class GenerationStream:
    """Iterator of text pieces (never a partial UTF-8 character, never text that may still turn
    out to be part of a stop string). After the last piece, `.result` holds the full
    GenerationResult (tokens, finish_reason, logprobs, timings)."""

    def __init__(self, model, seq: Sequence):
        self._model = model
        self._seq = seq
        self.result: Optional[GenerationResult] = None

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        seq = self._seq
        while not seq.done:
            piece = seq.step(forward_into_session(self._model, seq.session, seq.next_input()))
            if piece:
                return piece
        if self.result is None:
            self.result = seq.result()
        raise StopIteration

    @property
    def text(self) -> str:
        """The text released so far."""
        return self._seq.text.text[: self._seq.text.emitted]

    @property
    def session(self):
        return self._seq.session


# ---- argument handling -------------------------------------------------------------------------

def _tokenizer(model):
    tok = getattr(model, "tokenizer", None)
    if tok is None:
        raise ValueError("this model has no tokenizer: pass the prompt as token ids")
    return tok


def prompt_ids(model, prompt, *, add_special: bool = True) -> List[int]:
    """A str / bytes prompt encoded by the model's tokenizer, or a sequence of ids checked."""
    if isinstance(prompt, (str, bytes)):
        ids = [int(t) for t in np.asarray(_tokenizer(model).encode(prompt, add_special=add_special)).reshape(-1)]
    elif isinstance(prompt, np.ndarray) or (isinstance(prompt, Seq) and not isinstance(prompt, (str, bytes))):
        arr = np.asarray(prompt)
        if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
            raise SamplingArgumentError("prompt must be a string or a 1-D sequence of token ids (int)")
        ids = [int(t) for t in arr]
    else:
        raise SamplingArgumentError(f"prompt must be a string or a sequence of token ids, got {type(prompt).__name__}")
    n_vocab = int(model.n_vocab)
    bad = [t for t in ids if not 0 <= t < n_vocab]
    if bad:
        raise ValueError(f"prompt token id {bad[0]} is outside the vocabulary [0, {n_vocab})")
    if not ids:
        bos = getattr(getattr(model, "tokenizer", None), "bos_id", None)
        if bos is None or bos < 0:
            bos = (getattr(model, "config", None) or {}).get("bos_token_id")
        if not isinstance(bos, numbers.Integral) or bos < 0:
            raise ValueError("the prompt is empty and the model has no BOS token to start from")
        ids = [int(bos)]
    return ids


def eos_ids(model) -> List[int]:
    """End-of-sequence ids: the config's eos_token_id (int or list) and the tokenizer's eos_id."""
    out: List[int] = []
    eos = (getattr(model, "config", None) or {}).get("eos_token_id")
    for t in (eos if isinstance(eos, (list, tuple)) else [eos]):
        if isinstance(t, numbers.Integral) and t >= 0:
            out.append(int(t))
    tok_eos = getattr(getattr(model, "tokenizer", None), "eos_id", None)
    if isinstance(tok_eos, numbers.Integral) and tok_eos >= 0:
        out.append(int(tok_eos))
    return sorted(set(out))


def _session_for(model, session, n_prompt: int, max_tokens: Optional[int]):
    if session is None:
        n_train = int((getattr(model, "config", None) or {}).get("n_ctx_train") or DEFAULT_N_CTX)
        cap = max(n_train, n_prompt)
        want = n_prompt + max(max_tokens, 1) if max_tokens is not None else cap
        return model.new_session(n_ctx=min(want, cap))
    if n_prompt > int(session.n_ctx):
        raise ValueError(f"the prompt has {n_prompt} tokens but the session's context holds {int(session.n_ctx)}")
    return session


def _start(model, ids: List[int], params: SamplingParams, session, extra_eos: Seq[int] = ()) -> Sequence:
    session = _session_for(model, session, len(ids), params.max_tokens)
    tok = getattr(model, "tokenizer", None)
    decoder = tok.stream() if tok is not None else None
    return Sequence(model, ids, params, session, eos_ids=eos_ids(model) + list(extra_eos), stream_decoder=decoder)


def _run(model, seq: Sequence) -> GenerationResult:
    while not seq.done:
        seq.step(forward_into_session(model, seq.session, seq.next_input()))
    return seq.result()


def _params(kwargs) -> SamplingParams:
    try:
        return SamplingParams(**kwargs)
    except TypeError as e:
        if isinstance(e, SamplingArgumentError):
            raise
        raise TypeError(str(e).replace("__init__()", "generate()")) from None


# ---- public functions ------------------------------------------------------------------------------

def generate(model, prompt, *, max_tokens: Optional[int] = 256, temperature: float = 0.8, top_k: int = 40,
             top_p: float = 0.95, min_p: float = 0.05, repeat_penalty: float = 1.0, presence_penalty: float = 0.0,
             frequency_penalty: float = 0.0, repeat_last_n: int = 64, logit_bias=None, seed: Optional[int] = None,
             stop=None, logprobs: Optional[int] = None, session=None, stream: bool = False):
    """Continue a prompt (text or token ids). Returns a GenerationResult, or with stream=True a
    GenerationStream of text pieces. temperature=0 is greedy. Stops at EOS, a stop string (not
    included in the text) or stop token id, max_tokens, or a full context. With a session, a
    prompt that starts with what the session already holds only runs the rest."""
    params = _params(dict(max_tokens=max_tokens, temperature=temperature, top_k=top_k, top_p=top_p, min_p=min_p,
                          repeat_penalty=repeat_penalty, presence_penalty=presence_penalty,
                          frequency_penalty=frequency_penalty, repeat_last_n=repeat_last_n, logit_bias=logit_bias,
                          seed=seed, stop=stop, logprobs=logprobs))
    seq = _start(model, prompt_ids(model, prompt), params, session)
    return GenerationStream(model, seq) if stream else _run(model, seq)


def apply_chat_template(model, messages, add_generation_prompt: Optional[bool] = None, template: Optional[str] = None,
                        **kwargs) -> str:
    """The model's chat template applied to messages (see solar.chat.apply_chat_template)."""
    return chat_mod.apply_chat_template(messages, add_generation_prompt=add_generation_prompt, template=template,
                                        tokenizer_config=chat_mod.chat_config_for(model), **kwargs)


def chat(model, messages, *, template: Optional[str] = None, template_kwargs: Optional[dict] = None,
         tools=None, documents=None, continue_final_message=False, stop=None, session=None, stream: bool = False,
         **kwargs):
    """Reply to a conversation: applies the chat template, generates, and stops at the format's
    end of turn (finish_reason "eos"). Takes generate()'s keywords; template_kwargs go to the
    template (e.g. {"enable_thinking": True}); tools (JSON schemas or functions) and documents
    go to the template as in apply_chat_template. continue_final_message=True continues the
    last (assistant) message instead of starting a new one: the text is its continuation."""
    config = chat_mod.chat_config_for(model)
    text = chat_mod.apply_chat_template(messages, add_generation_prompt=not continue_final_message, template=template,
                                        tokenizer_config=config, tools=tools, documents=documents,
                                        continue_final_message=continue_final_message, **(template_kwargs or {}))
    turn_tokens, turn_strings = chat_mod.end_of_turn(config, template)
    tok = _tokenizer(model)
    turn_ids, turn_strings = [], list(turn_strings)
    for piece in turn_tokens:
        try:
            tid = tok.piece_to_id(piece)
        except (AttributeError, KeyError, ValueError, TypeError):
            tid = None
        if isinstance(tid, numbers.Integral) and 0 <= tid < int(model.n_vocab):
            turn_ids.append(int(tid))
        else:                                     # not one token in this vocabulary: match its text
            turn_strings.append(piece)
    bos = config.template_kwargs().get("bos_token")
    ids = prompt_ids(model, text, add_special=not (bos and text.startswith(bos)))
    user_stop = SamplingParams(stop=stop, max_tokens=None)
    stops = list(user_stop.stop_strings) + [s for s in turn_strings if s not in user_stop.stop_strings]
    params = _params(dict(kwargs, stop=stops + list(user_stop.stop_ids)))
    seq = _start(model, ids, params, session, extra_eos=turn_ids)
    return GenerationStream(model, seq) if stream else _run(model, seq)


def generate_batch(model, prompts, *, sessions=None, **kwargs) -> List[GenerationResult]:
    """Generate for several prompts with the same options; each gets its own session and sampler
    (the same seed each, so every result equals generate() on that prompt alone).

    The sequences advance in lock step: each round runs every unfinished sequence's next input
    (the prompts in the first round, one token each after that) in one batched forward, so each
    weight matrix is read once per step for all of them (Model.forward_batch)."""
    if kwargs.pop("stream", False):
        raise ValueError("generate_batch does not stream; call generate(stream=True) per prompt")
    if isinstance(prompts, (str, bytes)) or not isinstance(prompts, Seq):
        raise SamplingArgumentError("prompts must be a list of prompts (strings or token id lists)")
    if sessions is not None and len(sessions) != len(prompts):
        raise ValueError(f"got {len(sessions)} sessions for {len(prompts)} prompts")
    if sessions is not None and len({id(x) for x in sessions}) != len(sessions):
        raise ValueError("each prompt needs its own session (the same session appears twice)")
    params = _params(kwargs)
    seqs = [_start(model, prompt_ids(model, p), params, sessions[i] if sessions is not None else None)
            for i, p in enumerate(prompts)]
    active = [s for s in seqs if not s.done]
    while active:
        rows = forward_batch_into_sessions(model, [s.session for s in active], [s.next_input() for s in active])
        for seq, row in zip(active, rows):
            seq.step(row)
        active = [s for s in active if not s.done]
    return [s.result() for s in seqs]
