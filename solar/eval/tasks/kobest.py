"""KoBEST (BoolQ, COPA, HellaSwag, SentiNeg, WiC), following lm-evaluation-harness
``kobest_*`` (tasks/kobest/*.yaml and utils.py, version 1.0). Prompts, verbatim from there:

- boolq:     ``"{paragraph} 질문: {question} 답변: "``, choices 아니오/예
- copa:      ``"{premise} {connector}"`` with connector " 왜냐하면" (원인) / " 그래서" (결과) —
             note lm-eval's resulting double space — choices the two alternatives
- hellaswag: ``"문장: {context}"``, choices the 4 endings (acc_norm is lm-eval's headline metric)
- sentineg:  ``"문장: {sentence} 긍부정:"``, choices 부정/긍정
- wic:       ``"문장1: {context_1} 문장2: {context_2} 두 문장에서 {word}가 같은 뜻으로 쓰였나?"``,
             choices 아니오/예

lm-eval reports acc and macro F1 (plus acc_norm for hellaswag); acc_norm is computed for all.
Files: ``kobest/v1.0/<BoolQ|COPA|HellaSwag|SentiNeg|WiC>/test.tsv`` (the HF ``skt/kobest_v1`` test
split comes from these), few-shot examples from ``train.tsv`` beside it. Columns are matched by
header name; booleans are True/False in any case; COPA's answer 1/2 becomes label 0/1.
"""
from __future__ import annotations

from .base import Task
from .readers import read_tsv

__all__ = ["TASKS"]

YES_NO = ["아니오", "예"]


def _bool(v: str) -> int:
    s = v.strip().lower()
    if s not in ("true", "false"):
        raise ValueError(f"expected True/False, got {v[:40]!r}")
    return int(s == "true")


def _int(v: str, allowed: range, what: str) -> int:
    s = v.strip()
    if not s.lstrip("-").isdigit() or int(s) not in allowed:
        raise ValueError(f"{what} must be one of {list(allowed)}, got {v[:40]!r}")
    return int(s)


def boolq(rec: dict):
    return f"{rec['Text']} 질문: {rec['Question']} 답변: ", list(YES_NO), _bool(rec["Answer"])


def copa(rec: dict):
    q = rec["question"].strip()
    if q not in ("원인", "결과"):
        raise ValueError(f"question must be 원인 or 결과, got {q[:40]!r}")
    connector = {"원인": " 왜냐하면", "결과": " 그래서"}[q]
    return f"{rec['sentence']} {connector}", [rec["1"], rec["2"]], _int(rec["Answer"], range(1, 3), "Answer") - 1


def hellaswag(rec: dict):
    return f"문장: {rec['context']}", [rec[f"choice{i}"] for i in range(1, 5)], _int(rec["label"], range(4), "label")


def sentineg(rec: dict):
    return f"문장: {rec['Text']} 긍부정:", ["부정", "긍정"], _int(rec["Label"], range(2), "Label")


def wic(rec: dict):
    text = f"문장1: {rec['SENTENCE1']} 문장2: {rec['SENTENCE2']} 두 문장에서 {rec['Target']}가 같은 뜻으로 쓰였나?"
    return text, list(YES_NO), _bool(rec["ANSWER"])


def _task(name: str, folder: str, to_doc, columns: tuple[str, ...]) -> Task:
    reader = lambda path: read_tsv(path, columns)
    return Task(name=f"kobest_{name}", files=(f"kobest/v1.0/{folder}/test.tsv",), reader=reader, to_doc=to_doc,
                fewshot_files=(f"kobest/v1.0/{folder}/train.tsv",), metrics=("acc", "acc_norm", "f1"),
                source=f"lm-eval tasks/kobest/kobest_{name}.yaml + utils.py (v1.0)")


TASKS = {t.name: t for t in (
    _task("boolq", "BoolQ", boolq, ("Text", "Question", "Answer")),
    _task("copa", "COPA", copa, ("sentence", "question", "1", "2", "Answer")),
    _task("hellaswag", "HellaSwag", hellaswag, ("context", "choice1", "choice2", "choice3", "choice4", "label")),
    _task("sentineg", "SentiNeg", sentineg, ("Text", "Label")),
    _task("wic", "WiC", wic, ("Target", "SENTENCE1", "SENTENCE2", "ANSWER")),
)}
