"""run(model, tasks, data_dir=...): multiple-choice benchmarks from local files, lm-eval style.

For every question the prompt (with ``num_fewshot`` examples drawn by a seeded RNG) is scored
against each choice with :func:`solar.eval.loglikelihood` — all the questions of a task in one
call, so the choices of a question share the prompt's prefill.
"""
from __future__ import annotations

import os
import random
import time
from typing import Any, Callable

from .loglikelihood import loglikelihood
from .results import build_results, sample_metrics, sample_record
from .tasks import Task, get_tasks, sample_shots

__all__ = ["run", "evaluate_task"]

TaskProgress = Callable[[str, int, int], None]


def _limit_docs(docs: list, limit: int | float | None) -> list:
    if limit is None:
        return docs
    if isinstance(limit, bool) or not isinstance(limit, (int, float)) or limit <= 0:
        raise ValueError(f"limit must be a positive int (count) or a float < 1 (fraction), got {limit!r}")
    n = int(limit * len(docs)) if isinstance(limit, float) and limit < 1.0 else int(limit)
    return docs[:max(n, 1)]


def evaluate_task(model: Any, task: Task, data_dir: str | os.PathLike, *, limit: int | float | None = None,
                  num_fewshot: int = 0, seed: int = 0, tokenizer: Any = None, reuse_prefix: bool = True,
                  progress: TaskProgress | None = None) -> dict[str, Any]:
    """Score one task: {'task', 'path', 'n_original', 'samples'} (samples as in lm-eval's log)."""
    path = task.eval_path(data_dir)
    all_docs = task.read_docs(path)
    docs = _limit_docs(all_docs, limit)
    pool = task.fewshot_pool(data_dir) if num_fewshot > 0 else None
    rng = random.Random(seed)
    per_doc: list[list[tuple[str, str]]] = []
    for doc in docs:
        shots = sample_shots(rng, pool if pool is not None else all_docs, num_fewshot,
                             None if pool is not None else doc)
        per_doc.append(task.requests(doc, shots))
    flat = [r for reqs in per_doc for r in reqs]
    cb = (lambda d, t: progress(task.name, d, t)) if progress else None
    lls = loglikelihood(model, flat, tokenizer=tokenizer, reuse_prefix=reuse_prefix, progress=cb)
    samples, j = [], 0
    for i, (doc, reqs) in enumerate(zip(docs, per_doc)):
        mine = lls[j:j + len(reqs)]
        j += len(reqs)
        metrics = sample_metrics([ll for ll, _ in mine], doc.choices, doc.gold)
        samples.append(sample_record(i, doc, reqs, mine, metrics, task.metrics))
    return {"task": task, "path": path, "n_original": len(all_docs), "samples": samples}


def run(model: Any, tasks, *, data_dir: str | os.PathLike, limit: int | float | None = None,
        num_fewshot: int = 0, seed: int = 0, tokenizer: Any = None, reuse_prefix: bool = True,
        progress: TaskProgress | None = None, model_name: str | None = None) -> dict[str, Any]:
    """Evaluate ``model`` on ``tasks`` read from ``data_dir`` (laid out like ../shared/data/eval).

    ``tasks``: names (``"kobest_copa,arc_challenge"``, a list, groups ``kobest``/``kmmlu``) or
    :class:`solar.eval.tasks.Task` objects. ``limit``: the first N questions (or a fraction).
    Returns lm-eval-shaped results: ``res["results"]["kobest_copa"]["acc,none"]``, stderr,
    ``acc_norm``, per-sample records under ``res["samples"]``.
    """
    if not isinstance(num_fewshot, int) or num_fewshot < 0:
        raise ValueError(f"num_fewshot must be an int >= 0, got {num_fewshot!r}")
    if not os.path.isdir(os.fspath(data_dir)):
        raise FileNotFoundError(f"data_dir {os.fspath(data_dir)!r} is not a folder")
    resolved = get_tasks(tasks, data_dir)
    if not resolved:
        raise ValueError("no tasks given")
    t0 = time.time()
    outputs = [evaluate_task(model, t, data_dir, limit=limit, num_fewshot=num_fewshot, seed=seed,
                             tokenizer=tokenizer, reuse_prefix=reuse_prefix, progress=progress)
               for t in resolved]
    config = {"model": "solar", "model_args": model_name or getattr(model, "path", None), "limit": limit,
              "num_fewshot": num_fewshot, "random_seed": seed, "fewshot_seed": seed, "batch_size": 1,
              "bootstrap_iters": 0, "data_dir": os.fspath(data_dir), "reuse_prefix": reuse_prefix}
    res = build_results(outputs, config)
    res["total_evaluation_time_seconds"] = str(time.time() - t0)
    return res
