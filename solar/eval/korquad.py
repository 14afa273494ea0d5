"""KorQuAD 1.0: exact match and F1 of generated answers, by the official KorQuAD v1.0 definitions.

Normalisation (the official script's, itself SQuAD v1.1's adapted to Korean): the symbols
' " 《 》 < > 〈 〉 ( ) ‘ ’ become spaces, text is lower-cased, ASCII punctuation removed and
whitespace collapsed. EM: normalised strings equal. F1: over *characters* of the normalised
answer (spaces excluded), the official KorQuAD choice. Both take the best over the reference
answers and are reported in percent, like the official script.
"""
from __future__ import annotations

import json
import os
import string
from collections import Counter
from typing import Any, Callable, Sequence

from .generation import GenerateFn, make_generate_fn

__all__ = ["korquad_eval", "load_korquad", "normalize_answer", "exact_match", "f1_score", "korquad_prompt"]

_SYMBOLS = str.maketrans({c: " " for c in "'\"《》<>〈〉()‘’"})
_PUNCT = str.maketrans("", "", string.punctuation)


def normalize_answer(s: str) -> str:
    return " ".join(s.translate(_SYMBOLS).lower().translate(_PUNCT).split())


def exact_match(prediction: str, truth: str) -> bool:
    return normalize_answer(prediction) == normalize_answer(truth)


def f1_score(prediction: str, truth: str) -> float:
    pred = list(normalize_answer(prediction).replace(" ", ""))
    gold = list(normalize_answer(truth).replace(" ", ""))
    same = sum((Counter(pred) & Counter(gold)).values())
    if same == 0:
        return 0.0
    p, r = same / len(pred), same / len(gold)
    return 2 * p * r / (p + r)


def load_korquad(path: str | os.PathLike, limit: int | None = None) -> list[dict[str, Any]]:
    """Questions of a SQuAD-layout file: [{"id", "context", "question", "answers": [str]}]."""
    with open(path, encoding="utf-8") as f:
        try:
            data = json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f"{os.fspath(path)}:{e.lineno}: invalid JSON: {e.msg}") from e
    out = []
    try:
        for article in data["data"]:
            for para in article["paragraphs"]:
                for qa in para["qas"]:
                    out.append({"id": qa["id"], "context": para["context"], "question": qa["question"],
                                "answers": [a["text"] for a in qa["answers"]]})
                    if limit is not None and len(out) >= limit:
                        return out
    except (KeyError, TypeError) as e:
        raise ValueError(f"{os.fspath(path)}: not a SQuAD/KorQuAD layout (data/paragraphs/qas): {e!r}") from e
    return out


def korquad_prompt(item: dict[str, Any]) -> str:
    return f"{item['context']}\n\n질문: {item['question']}\n답변:"


def korquad_eval(model: Any, data: str | os.PathLike | Sequence[dict[str, Any]], *,
                 generate_fn: GenerateFn | None = None, tokenizer: Any = None, max_tokens: int = 32,
                 limit: int | None = None, until: Sequence[str] = ("\n",),
                 progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Generate an answer for each question (a KorQuAD json path or :func:`load_korquad` items)
    and score it: ``{"exact_match", "f1" (percent), "n", "samples"}``.

    ``generate_fn(prompt, max_tokens) -> str`` defaults to ``model.generate`` (greedy over
    ``model.forward`` while the model has none); answers are cut at the first ``until`` string.
    """
    items = load_korquad(data, limit) if isinstance(data, (str, os.PathLike)) else list(data)[:limit]
    if not items:
        raise ValueError("no KorQuAD questions")
    gen = make_generate_fn(model, tokenizer, generate_fn)
    samples, em_sum, f1_sum = [], 0.0, 0.0
    for i, item in enumerate(items):
        prompt = korquad_prompt(item)
        answer = gen(prompt, max_tokens, until).strip()
        em = max(float(exact_match(answer, t)) for t in item["answers"])
        f1 = max(f1_score(answer, t) for t in item["answers"])
        em_sum, f1_sum = em_sum + em, f1_sum + f1
        samples.append({"id": item.get("id"), "question": item["question"], "answers": item["answers"],
                        "prediction": answer, "exact_match": em, "f1": f1})
        if progress:
            progress(i + 1, len(items))
    n = len(samples)
    return {"exact_match": 100.0 * em_sum / n, "f1": 100.0 * f1_sum / n, "n": n, "samples": samples}
