"""KMMLU, following lm-evaluation-harness ``kmmlu_<subject>`` (tasks/kmmlu/default/
_default_kmmlu_yaml, version 2.0): prompt
``"{question.strip()}\\nA. {A}\\nB. {B}\\nC. {C}\\nD. {D}\\n정답："`` (full-width colon),
choices ``["A", "B", "C", "D"]``, target ``answer - 1``; lm-eval reports acc (acc_norm is
computed too). Few-shot examples come from the eval file (lm-eval's dev split is not local).

Files: ``kmmlu/kmmlu_<subject>_test.json``, a JSON array of
``{"question", "answer" (1-4), "A", "B", "C", "D", ...}``. ``kmmlu`` alone means every
subject file present, scored together.
"""
from __future__ import annotations

import glob
import os

from .base import Task
from .readers import read_json_array

__all__ = ["TASKS", "kmmlu_task", "subjects"]

CHOICES = ["A", "B", "C", "D"]


def to_doc(rec: dict):
    answer = rec["answer"]
    if isinstance(answer, bool) or not isinstance(answer, int) or not 1 <= answer <= 4:
        raise ValueError(f"'answer' must be an int 1-4, got {answer!r}")
    q = str(rec["question"]).strip()
    opts = "".join(f"\n{c}. {rec[c]}" for c in CHOICES)
    return f"{q}{opts}\n정답：", list(CHOICES), answer - 1


def kmmlu_task(subject: str) -> Task:
    return Task(name=f"kmmlu_{subject}", files=(f"kmmlu/kmmlu_{subject}_test.json",), reader=read_json_array,
                to_doc=to_doc, version=2.0, source="lm-eval tasks/kmmlu/default/_default_kmmlu_yaml (v2.0)")


def subjects(data_dir: str | os.PathLike) -> list[str]:
    pat = os.path.join(os.fspath(data_dir), "kmmlu", "kmmlu_*_test.json")
    return sorted(os.path.basename(p)[len("kmmlu_"):-len("_test.json")] for p in glob.glob(pat))


TASKS = {"kmmlu_criminal_law": kmmlu_task("criminal_law")}
