"""ARC-Challenge, following lm-evaluation-harness ``arc_challenge`` (tasks/arc/arc_easy.yaml +
arc_challenge.yaml, version 1.0): prompt ``"Question: {question}\\nAnswer:"``, choices are the
option texts, target the index of ``answerKey``; metrics acc and acc_norm.

File: ``arc-challenge/arc_challenge_test.jsonl``, one object per line, either our layout
``{"question", "options": [{"label", "text"}], "answer"}`` or the HF ``ai2_arc`` layout
``{"question", "choices": {"label": [...], "text": [...]}, "answerKey"}``.
"""
from __future__ import annotations

from .base import Task
from .readers import read_jsonl

__all__ = ["TASKS"]


def _labels_texts(rec: dict) -> tuple[list[str], list[str], str]:
    if "choices" in rec:
        ch = rec["choices"]
        return list(ch["label"]), list(ch["text"]), str(rec["answerKey"])
    opts = rec["options"]
    if not isinstance(opts, list):
        raise ValueError("'options' must be a list of {label, text}")
    return [str(o["label"]) for o in opts], [str(o["text"]) for o in opts], str(rec["answer"])


def to_doc(rec: dict):
    labels, texts, answer = _labels_texts(rec)
    if len(labels) != len(texts):
        raise ValueError(f"{len(labels)} labels but {len(texts)} choice texts")
    if answer not in labels:
        raise ValueError(f"answer {answer!r} is not one of the option labels {', '.join(labels)}")
    return f"Question: {rec['question']}\nAnswer:", texts, labels.index(answer)


TASKS = {
    "arc_challenge": Task(
        name="arc_challenge", files=("arc-challenge/arc_challenge_test.jsonl",), reader=read_jsonl,
        to_doc=to_doc, source="lm-eval tasks/arc/arc_challenge.yaml (v1.0)", version=1.0),
}
