"""Text generation for the generative evaluations (translation, KorQuAD, lm-eval's generate_until).

A user-supplied generate function has the contract ``fn(prompt: str, max_tokens: int) -> str``
(the text after the prompt); stop strings are applied here by cutting at the first one. The default is
greedy ``model.generate`` (temperature 0), or, for a model without it or when another tokenizer
is given, :func:`greedy_generate`, a plain greedy loop over ``model.forward`` with a KV-cache
session (one forward per new token).

A model "has a chat template" when its folder has one (``chat_template.jinja`` or
``tokenizer_config.json``) or it carries a ``chat_template`` string; the prompt is then rendered by
``model.apply_chat_template`` (or the tokenizer's), else by jinja2 from the folder's template.
"""
from __future__ import annotations

import json
import os
from typing import Any, Callable, Sequence

from .text import as_ids, decode, encode, resolve_tokenizer, special_ids

__all__ = ["greedy_generate", "make_generate_fn", "cut_at_stop", "chat_prompt", "has_chat_template", "GenerateFn"]

GenerateFn = Callable[[str, int], str]                      # user-supplied
StopGenerateFn = Callable[[str, int, Sequence[str]], str]  # with stop strings applied


def cut_at_stop(text: str, until: Sequence[str]) -> str:
    """``text`` up to the earliest occurrence of any stop string."""
    cut = len(text)
    for s in until:
        if s:
            i = text.find(s)
            if i != -1:
                cut = min(cut, i)
    return text[:cut]


def greedy_generate(model: Any, prompt_ids: Sequence[int], max_tokens: int, stop_ids: Sequence[int] = (),
                    should_stop: Callable[[list[int]], bool] | None = None) -> list[int]:
    """Greedy (argmax) continuation of ``prompt_ids``: up to ``max_tokens`` new ids, ending before
    the first id in ``stop_ids`` or after the step where ``should_stop(new_ids)`` is true."""
    ids = as_ids(prompt_ids, "prompt")
    if not ids:
        raise ValueError("greedy_generate needs a non-empty prompt")
    session = model.new_session(len(ids) + max_tokens)
    logits = model.forward(ids, session=session, last_only=True)
    out: list[int] = []
    stops = set(int(s) for s in stop_ids)
    for _ in range(max_tokens):
        nxt = int(logits[0].argmax())
        if nxt in stops:
            break
        out.append(nxt)
        if len(out) == max_tokens or (should_stop is not None and should_stop(out)):
            break
        logits = model.forward([nxt], session=session, last_only=True)
    return out


def _eos_ids(model: Any, tokenizer: Any) -> list[int]:
    ids = set()
    _, eos = special_ids(model, tokenizer)
    if eos is not None:
        ids.add(eos)
    cfg_eos = (getattr(model, "config", None) or {}).get("eos_token_id")
    for e in cfg_eos if isinstance(cfg_eos, (list, tuple)) else [cfg_eos]:
        if e is not None:
            ids.add(int(e))
    return sorted(ids)


def _uses_own_tokenizer(model: Any, tokenizer: Any) -> bool:
    own = getattr(model, "tokenizer", None)
    return own is not None and (tokenizer is None or tokenizer is own)


def make_generate_fn(model: Any, tokenizer: Any = None, generate_fn: GenerateFn | None = None) -> StopGenerateFn:
    """``fn(prompt, max_tokens, until) -> text`` cut at the first stop string: ``generate_fn`` when
    given; else greedy ``model.generate`` when the model has it and its own tokenizer is the one
    to use; else greedy decoding over ``model.forward`` (stopping at EOS or a stop string)."""
    if generate_fn is not None:
        return lambda prompt, n, until=(): cut_at_stop(generate_fn(prompt, n), until)
    if callable(getattr(model, "generate", None)) and _uses_own_tokenizer(model, tokenizer):
        def via_model(prompt: str, max_tokens: int, until: Sequence[str] = ()) -> str:
            out = model.generate(prompt, max_tokens=max_tokens, temperature=0.0, stop=list(until) or None)
            return cut_at_stop(out if isinstance(out, str) else getattr(out, "text", str(out)), until)
        return via_model
    tok = resolve_tokenizer(model, tokenizer, needed_for="generation")
    stops = _eos_ids(model, tok)
    bos, _ = special_ids(model, tok)

    def via_forward(prompt: str, max_tokens: int, until: Sequence[str] = ()) -> str:
        ids = encode(tok, prompt, add_special=True)
        if bos is not None and ids[:2] == [bos, bos]:     # the template already wrote BOS
            ids = ids[1:]
        hit = (lambda out: any(s and s in decode(tok, out) for s in until)) if until else None
        return cut_at_stop(decode(tok, greedy_generate(model, ids, max_tokens, stops, hit)), until)
    return via_forward


def _folder_template(model: Any) -> tuple[str | None, dict]:
    path = getattr(model, "path", None)
    if not path or not os.path.isdir(path):
        return None, {}
    cfg: dict = {}
    p = os.path.join(path, "tokenizer_config.json")
    if os.path.exists(p):
        with open(p, encoding="utf-8") as f:
            cfg = json.load(f)
    j = os.path.join(path, "chat_template.jinja")
    if os.path.exists(j):
        with open(j, encoding="utf-8") as f:
            return f.read(), cfg
    tpl = cfg.get("chat_template")
    if isinstance(tpl, list):        # [{"name": "default", "template": ...}, ...]
        tpl = next((t.get("template") for t in tpl if t.get("name") == "default"), None)
    return (tpl if isinstance(tpl, str) else None), cfg


def _token_str(v: Any) -> str:
    return v.get("content", "") if isinstance(v, dict) else (v or "")


def has_chat_template(model: Any, tokenizer: Any = None) -> bool:
    """Whether the model comes with a chat template (its folder's, or a ``chat_template`` string)."""
    tok = tokenizer if tokenizer is not None else getattr(model, "tokenizer", None)
    if any(isinstance(getattr(o, "chat_template", None), str) for o in (model, tok)):
        return True
    return _folder_template(model)[0] is not None


def chat_prompt(model: Any, messages: list[dict], tokenizer: Any = None) -> str | None:
    """``messages`` rendered with a generation prompt by ``model.apply_chat_template`` (or the
    tokenizer's), else by the folder's template with jinja2; None when nothing can render them."""
    for owner in (model, tokenizer if tokenizer is not None else getattr(model, "tokenizer", None)):
        fn = getattr(owner, "apply_chat_template", None)
        if callable(fn):
            out = fn(messages, add_generation_prompt=True)
            if isinstance(out, str):
                return out
            tok = resolve_tokenizer(model, tokenizer, needed_for="chat templates")
            return decode(tok, as_ids(out, "chat template output"), skip_special=False)
    tpl, cfg = _folder_template(model)
    if tpl is None:
        return None
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(msg):
        raise ValueError(f"chat template: {msg}")
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = raise_exception
    return env.from_string(tpl).render(messages=messages, add_generation_prompt=True,
                                       bos_token=_token_str(cfg.get("bos_token")),
                                       eos_token=_token_str(cfg.get("eos_token")))
