"""Task registry: name -> :class:`Task`, one module per task family (each says which
lm-evaluation-harness definition its prompts follow)."""
from __future__ import annotations

import os

from . import arc, hellaswag, kmmlu, kobest
from .base import Doc, Task, sample_shots
from .readers import TaskFormatError

__all__ = ["TASKS", "Task", "Doc", "TaskFormatError", "get_tasks", "list_tasks", "sample_shots"]

TASKS: dict[str, Task] = {**arc.TASKS, **hellaswag.TASKS, **kobest.TASKS, **kmmlu.TASKS}
GROUPS = {"kobest": [n for n in kobest.TASKS]}


def list_tasks(data_dir: str | os.PathLike | None = None) -> list[str]:
    """Task names; with ``data_dir``, only those whose files are present there."""
    names = dict.fromkeys(TASKS)
    if data_dir is not None:
        names.update(dict.fromkeys(f"kmmlu_{s}" for s in kmmlu.subjects(data_dir)))
        return [n for n in names if _get(n)._find(data_dir, _get(n).files)]
    return list(names)


def _get(name: str) -> Task:
    if name in TASKS:
        return TASKS[name]
    if name.startswith("kmmlu_") and len(name) > len("kmmlu_"):
        return kmmlu.kmmlu_task(name[len("kmmlu_"):])
    raise KeyError(f"unknown task {name!r}; known: {', '.join(list(TASKS) + ['kobest', 'kmmlu'])}")


def get_tasks(names, data_dir: str | os.PathLike | None = None) -> list[Task]:
    """Resolve names (a list or a comma-separated string; Task objects pass through).

    Groups: ``kobest`` (its five tasks) and ``kmmlu`` (every ``kmmlu/kmmlu_*_test.json`` present).
    """
    if isinstance(names, (str, Task)):
        names = [names]
    out: list[Task] = []
    for item in names:
        if isinstance(item, Task):
            out.append(item)
            continue
        for name in (n.strip() for n in str(item).split(",")):
            if not name:
                continue
            if name in GROUPS:
                out.extend(TASKS[n] for n in GROUPS[name])
            elif name == "kmmlu":
                subs = kmmlu.subjects(data_dir) if data_dir is not None else []
                if not subs:
                    raise FileNotFoundError(f"task kmmlu: no kmmlu/kmmlu_*_test.json under {data_dir}")
                out.extend(kmmlu.kmmlu_task(s) for s in subs)
            else:
                out.append(_get(name))
    return list({t.name: t for t in out}.values())
