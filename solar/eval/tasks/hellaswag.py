"""HellaSwag, following lm-evaluation-harness ``hellaswag`` (tasks/hellaswag/hellaswag.yaml and
utils.py, version 1.0): query ``preprocess(activity_label + ": " + ctx)``, choices
``preprocess(ending)``, metrics acc and acc_norm; ``preprocess`` strips, turns " [title]" into
". ", drops ``[...]`` and collapses double spaces.

File: ``hellaswag/hellaswag_val_full.txt.bz2`` (or ``.txt``), llama.cpp's layout: 6 lines per
task — ``activity_label: ctx``, the gold index, then the 4 endings. That file keeps ctx_a and
ctx_b joined, so lm-eval's ``ctx_b.capitalize()`` cannot be redone: the only difference from
lm-eval's prompts is the case of ctx_b's first letter.
"""
from __future__ import annotations

import re

from .base import Task
from .readers import TaskFormatError, read_lines

__all__ = ["TASKS", "preprocess"]

LINES_PER_TASK = 6


def preprocess(text: str) -> str:
    text = text.strip().replace(" [title]", ". ")
    text = re.sub(r"\[.*?\]", "", text)
    return text.replace("  ", " ")


def read_hellaswag(path: str):
    lines = read_lines(path)
    while lines and not lines[-1].strip():
        lines.pop()
    if len(lines) % LINES_PER_TASK:
        raise TaskFormatError(path, len(lines), f"{len(lines)} lines is not a multiple of {LINES_PER_TASK} "
                              "(context, label, 4 endings per task)")
    for i in range(0, len(lines), LINES_PER_TASK):
        label = lines[i + 1].strip()
        if label not in ("0", "1", "2", "3"):
            raise TaskFormatError(path, i + 2, f"expected the gold ending index 0-3, got {label[:40]!r}")
        yield i + 1, {"ctx": lines[i], "label": int(label), "endings": lines[i + 2:i + LINES_PER_TASK]}


def to_doc(rec: dict):
    return preprocess(rec["ctx"]), [preprocess(e) for e in rec["endings"]], int(rec["label"])


TASKS = {
    "hellaswag": Task(
        name="hellaswag", files=("hellaswag/hellaswag_val_full.txt.bz2", "hellaswag/hellaswag_val_full.txt"),
        reader=read_hellaswag, to_doc=to_doc, split="validation",
        source="lm-eval tasks/hellaswag/hellaswag.yaml + utils.py (v1.0)"),
}
