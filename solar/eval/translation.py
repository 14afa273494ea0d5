"""translate_eval(model, pairs, direction="ko-en"): chrF and BLEU of the model's translations.

Each source is put in a one-turn chat (the model's chat template; ``model.chat`` generates when
it is the default path) when the model has one, else in a plain completion prompt ending in
``"English:"``/``"Korean:"`` that stops at a newline. Generation is greedy. The
hypotheses are scored against the references with sacrebleu (an optional extra:
``pip install sacrebleu``); BLEU uses sacrebleu's ``13a`` tokenizer for English targets and
``ko-mecab`` for Korean when mecab-ko is installed, else ``char``.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Sequence

from .generation import GenerateFn, _uses_own_tokenizer, chat_prompt, has_chat_template, make_generate_fn

__all__ = ["translate_eval", "load_parallel", "translation_prompt"]

LANGS = {"ko": "Korean", "en": "English"}


def load_parallel(src_path: str | os.PathLike, ref_path: str | os.PathLike,
                  limit: int | None = None) -> list[tuple[str, str]]:
    """(source, reference) pairs from two line-aligned text files (ko-en-parallel's layout)."""
    with open(src_path, encoding="utf-8") as f:
        src = f.read().splitlines()
    with open(ref_path, encoding="utf-8") as f:
        ref = f.read().splitlines()
    if len(src) != len(ref):
        raise ValueError(f"{os.fspath(src_path)} has {len(src)} lines but {os.fspath(ref_path)} has {len(ref)}")
    pairs = [(s.strip(), r.strip()) for s, r in zip(src, ref) if s.strip() and r.strip()]
    return pairs[:limit] if limit is not None else pairs


def _direction(direction: str) -> tuple[str, str]:
    parts = direction.split("-")
    if len(parts) != 2 or any(p not in LANGS for p in parts) or parts[0] == parts[1]:
        raise ValueError(f"direction must be 'ko-en' or 'en-ko', got {direction!r}")
    return LANGS[parts[0]], LANGS[parts[1]]


def _messages(source: str, direction: str) -> list[dict]:
    src_lang, tgt_lang = _direction(direction)
    return [{"role": "user", "content": f"Translate the following {src_lang} text into {tgt_lang}. "
                                        f"Reply with the translation only.\n\n{source}"}]


def _want_chat(model: Any, tokenizer: Any, use_chat_template: bool | None) -> bool:
    if use_chat_template is None:
        return has_chat_template(model, tokenizer)
    return bool(use_chat_template)


def translation_prompt(model: Any, source: str, direction: str, *, tokenizer: Any = None,
                       use_chat_template: bool | None = None) -> tuple[str, list[str]]:
    """(prompt, stop strings) for one source sentence: a one-turn chat when the model has a chat
    template (or ``use_chat_template=True``), else a completion prompt that stops at a newline."""
    src_lang, tgt_lang = _direction(direction)
    if _want_chat(model, tokenizer, use_chat_template):
        chat = chat_prompt(model, _messages(source, direction), tokenizer)
        if chat is None:
            raise ValueError("use_chat_template=True but the model has no chat template")
        return chat, []
    instruction = _messages(source, direction)[0]["content"].rsplit("\n\n", 1)[0]
    return f"{instruction}\n\n{src_lang}: {source}\n{tgt_lang}:", ["\n"]


def _translate_one(model, gen, src: str, direction: str, tokenizer, use_chat_template, max_tokens):
    """(hypothesis, prompt); a chat goes through ``model.chat`` (greedy) when that is the default path."""
    if gen is None:
        msgs = _messages(src, direction)
        out = model.chat(msgs, max_tokens=max_tokens, temperature=0.0)
        return getattr(out, "text", str(out)).strip(), chat_prompt(model, msgs, tokenizer)
    prompt, until = translation_prompt(model, src, direction, tokenizer=tokenizer, use_chat_template=use_chat_template)
    return gen(prompt, max_tokens, until).strip(), prompt


def _bleu_tokenize(tgt_lang: str) -> str:
    if tgt_lang != "Korean":
        return "13a"
    try:
        import mecab_ko  # noqa: F401
        return "ko-mecab"
    except ImportError:
        return "char"


def translate_eval(model: Any, pairs: Sequence[tuple[str, str]], direction: str = "ko-en", *,
                   generate_fn: GenerateFn | None = None, tokenizer: Any = None, max_tokens: int = 256,
                   limit: int | None = None, use_chat_template: bool | None = None,
                   progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Translate every source of ``pairs`` [(source, reference)] and score with sacrebleu.

    ``generate_fn(prompt, max_tokens) -> str`` defaults to ``model.generate`` (greedy over
    ``model.forward`` while the model has none). Returns ``{"chrf", "bleu", "n", "direction",
    "signatures", "samples": [{"source", "reference", "hypothesis", "prompt"}]}``.
    """
    try:
        import sacrebleu
    except ImportError as e:
        raise ImportError("translate_eval needs sacrebleu: pip install sacrebleu") from e
    _, tgt_lang = _direction(direction)
    pairs = list(pairs)[:limit] if limit is not None else list(pairs)
    if not pairs:
        raise ValueError("no (source, reference) pairs")
    via_chat = (generate_fn is None and callable(getattr(model, "chat", None)) and _uses_own_tokenizer(model, tokenizer)
                and _want_chat(model, tokenizer, use_chat_template))
    gen = None if via_chat else make_generate_fn(model, tokenizer, generate_fn)
    samples = []
    for i, (src, ref) in enumerate(pairs):
        hyp, prompt = _translate_one(model, gen, src, direction, tokenizer, use_chat_template, max_tokens)
        samples.append({"source": src, "reference": ref, "hypothesis": hyp, "prompt": prompt})
        if progress:
            progress(i + 1, len(pairs))
    hyps, refs = [s["hypothesis"] for s in samples], [[s["reference"] for s in samples]]
    bleu = sacrebleu.metrics.BLEU(tokenize=_bleu_tokenize(tgt_lang))
    chrf = sacrebleu.metrics.CHRF()
    b, c = bleu.corpus_score(hyps, refs), chrf.corpus_score(hyps, refs)
    return {"chrf": c.score, "bleu": b.score, "n": len(samples), "direction": direction,
            "signatures": {"bleu": str(bleu.get_signature()), "chrf": str(chrf.get_signature())},
            "samples": samples}
