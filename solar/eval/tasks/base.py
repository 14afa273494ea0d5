"""A multiple-choice task read from local files, and how its prompts are built (lm-eval's rules).

A task file family module (arc.py, hellaswag.py, ...) gives: where its files live under
``data_dir``, how to read records, and ``to_doc(record) -> (query, choices, gold)`` following the
lm-evaluation-harness task definition it names. Prompts are lm-eval's: few-shot examples are
``query + target_delimiter + gold choice`` joined by ``fewshot_delimiter``, then the query; each
choice is scored as the continuation ``target_delimiter + choice``.
"""
from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from typing import Callable, Iterable

from .readers import TaskFormatError

__all__ = ["Doc", "Task", "TaskFormatError"]


@dataclass(frozen=True)
class Doc:
    query: str
    choices: tuple[str, ...]
    gold: int
    record: dict            # the raw record, for the per-sample output
    line: int               # where the record starts in its file


Reader = Callable[[str], Iterable[tuple[int, dict]]]


@dataclass
class Task:
    name: str
    files: tuple[str, ...]          # eval file candidates, relative to data_dir (first found wins)
    reader: Reader
    to_doc: Callable[[dict], tuple[str, list[str], int]]
    fewshot_files: tuple[str, ...] = ()      # few-shot source; absent -> other docs of the eval file
    metrics: tuple[str, ...] = ("acc", "acc_norm")
    version: float = 1.0
    source: str = ""                # the lm-eval task definition followed
    split: str = "test"
    target_delimiter: str = " "
    fewshot_delimiter: str = "\n\n"
    extra: dict = field(default_factory=dict)

    def _find(self, data_dir: str | os.PathLike, names: tuple[str, ...]) -> str | None:
        for rel in names:
            p = os.path.join(os.fspath(data_dir), rel)
            if os.path.exists(p):
                return p
        return None

    def eval_path(self, data_dir: str | os.PathLike) -> str:
        p = self._find(data_dir, self.files)
        if p is None:
            tried = ", ".join(os.path.join(os.fspath(data_dir), f) for f in self.files)
            raise FileNotFoundError(f"task {self.name}: no data file found (looked for {tried})")
        return p

    def read_docs(self, path: str) -> list[Doc]:
        docs = []
        for line, rec in self.reader(path):
            try:
                query, choices, gold = self.to_doc(rec)
            except TaskFormatError:
                raise
            except KeyError as e:
                raise TaskFormatError(path, line, f"missing field {e.args[0]!r}") from None
            except (ValueError, TypeError, IndexError, AttributeError) as e:
                raise TaskFormatError(path, line, str(e)) from None
            if not choices:
                raise TaskFormatError(path, line, "no answer choices")
            if not 0 <= gold < len(choices):
                raise TaskFormatError(path, line, f"gold answer index {gold} outside the {len(choices)} choices")
            docs.append(Doc(query, tuple(choices), gold, rec, line))
        if not docs:
            raise TaskFormatError(path, None, "no records")
        return docs

    def load(self, data_dir: str | os.PathLike) -> list[Doc]:
        return self.read_docs(self.eval_path(data_dir))

    def fewshot_pool(self, data_dir: str | os.PathLike) -> list[Doc] | None:
        """Docs of the few-shot file, or None when the eval docs themselves serve (minus the doc)."""
        p = self._find(data_dir, self.fewshot_files)
        return self.read_docs(p) if p else None

    def example(self, doc: Doc) -> str:
        return doc.query + self.target_delimiter + doc.choices[doc.gold]

    def context(self, doc: Doc, shots: list[Doc]) -> str:
        """The prompt for ``doc`` after the few-shot examples ``shots``."""
        if not shots:
            return doc.query
        return self.fewshot_delimiter.join(self.example(s) for s in shots) + self.fewshot_delimiter + doc.query

    def requests(self, doc: Doc, shots: list[Doc]) -> list[tuple[str, str]]:
        ctx = self.context(doc, shots)
        return [(ctx, self.target_delimiter + c) for c in doc.choices]


def sample_shots(rng: random.Random, pool: list[Doc], k: int, exclude: Doc | None) -> list[Doc]:
    """lm-eval's sampler: k docs drawn without replacement, never the doc being asked."""
    if k <= 0:
        return []
    if exclude is None:
        return rng.sample(pool, min(k, len(pool)))
    drawn = rng.sample(pool, min(k + 1, len(pool)))
    return [d for d in drawn if d is not exclude][:k]
