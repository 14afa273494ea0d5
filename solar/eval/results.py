"""Metrics of multiple-choice answers and results shaped like lm-evaluation-harness's output.

Per sample (lm-eval's ``process_results`` for multiple_choice): ``acc`` = the gold choice has the
highest log-likelihood; ``acc_norm`` = the same after dividing each log-likelihood by the length
of its choice in characters. Per task: the mean, its standard error (sample std / sqrt(n), lm-eval's
``mean_stderr``) and, for KoBEST, the macro F1 of (gold, prediction).

The dict returned by :func:`solar.eval.run` has lm-eval's top-level keys (``results``,
``configs``, ``versions``, ``n-shot``, ``higher_is_better``, ``n-samples``, ``config``,
``samples``) with ``"<metric>,none"`` / ``"<metric>_stderr,none"`` entries per task.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import time
from typing import Any, Sequence

import numpy as np

__all__ = ["sample_metrics", "macro_f1", "mean_stderr", "task_entry", "build_results", "format_table",
           "save_results", "sample_record"]

HIGHER_IS_BETTER = {"acc": True, "acc_norm": True, "f1": True}


def sample_metrics(lls: Sequence[float], choices: Sequence[str], gold: int) -> dict[str, Any]:
    """acc, acc_norm, pred and pred_norm for one question, by lm-eval's definitions."""
    ll = np.asarray(lls, np.float64)
    lengths = np.array([max(len(c), 1) for c in choices], np.float64)
    pred = int(np.argmax(ll))
    pred_norm = int(np.argmax(ll / lengths))
    return {"acc": float(pred == gold), "acc_norm": float(pred_norm == gold), "pred": pred, "pred_norm": pred_norm}


def mean_stderr(values: Sequence[float]) -> float | None:
    n = len(values)
    if n < 2:
        return None
    return float(np.std(np.asarray(values, np.float64), ddof=1) / math.sqrt(n))


def macro_f1(golds: Sequence[int], preds: Sequence[int]) -> float:
    """Macro-averaged F1 over the labels seen in golds or preds (scikit-learn's default)."""
    labels = sorted(set(golds) | set(preds))
    f1s = []
    for c in labels:
        tp = sum(1 for g, p in zip(golds, preds) if g == c and p == c)
        fp = sum(1 for g, p in zip(golds, preds) if g != c and p == c)
        fn = sum(1 for g, p in zip(golds, preds) if g == c and p != c)
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
    return float(np.mean(f1s)) if f1s else 0.0


def _hash(s: str) -> str:
    return hashlib.sha256(s.encode("utf-8")).hexdigest()


def sample_record(doc_id: int, doc, requests: list[tuple[str, str]], lls: list[tuple[float, bool]],
                  metrics: dict[str, Any], task_metrics: Sequence[str]) -> dict[str, Any]:
    """One entry of lm-eval's per-sample log."""
    rec = {
        "doc_id": doc_id,
        "doc": doc.record,
        "target": doc.gold,
        "arguments": {f"gen_args_{i}": {"arg_0": c, "arg_1": x} for i, (c, x) in enumerate(requests)},
        "resps": [[[ll, greedy]] for ll, greedy in lls],
        "filtered_resps": [[ll, greedy] for ll, greedy in lls],
        "filter": "none",
        "metrics": list(task_metrics),
        "doc_hash": _hash(json.dumps(doc.record, indent=2, ensure_ascii=False, default=str)),
        "prompt_hash": _hash(requests[0][0]),
        "target_hash": _hash(str(doc.gold)),
        "line": doc.line,
    }
    for k in task_metrics:
        if k == "f1":
            rec["f1"] = [doc.gold, metrics["pred"]]
        else:
            rec[k] = metrics[k]
    return rec


def task_entry(task, samples: list[dict]) -> dict[str, Any]:
    """The ``results[task]`` entry: each metric and its stderr (``N/A`` where lm-eval has none)."""
    out: dict[str, Any] = {"alias": task.name}
    for k in task.metrics:
        if k == "f1":
            g, p = zip(*(s["f1"] for s in samples))
            out["f1,none"] = macro_f1(g, p)
            out["f1_stderr,none"] = "N/A"
        else:
            vals = [s[k] for s in samples]
            err = mean_stderr(vals)
            out[f"{k},none"] = float(np.mean(vals))
            out[f"{k}_stderr,none"] = "N/A" if err is None else err
    return out


def build_results(outputs: list[dict], config: dict[str, Any]) -> dict[str, Any]:
    """Assemble lm-eval's top-level result dict from per-task outputs of the runner."""
    res: dict[str, Any] = {k: {} for k in ("results", "group_subtasks", "configs", "versions", "n-shot",
                                           "higher_is_better", "n-samples", "samples")}
    for o in outputs:
        t, name = o["task"], o["task"].name
        res["results"][name] = task_entry(t, o["samples"])
        res["group_subtasks"][name] = []
        res["configs"][name] = {"task": name, "source": t.source, "data_file": o["path"], "test_split": t.split,
                                "output_type": "multiple_choice", "target_delimiter": t.target_delimiter,
                                "fewshot_delimiter": t.fewshot_delimiter, "num_fewshot": config.get("num_fewshot", 0),
                                "metric_list": [{"metric": m, "aggregation": "mean" if m != "f1" else "macro_f1",
                                                 "higher_is_better": True} for m in t.metrics],
                                "metadata": {"version": t.version}}
        res["versions"][name] = t.version
        res["n-shot"][name] = config.get("num_fewshot", 0)
        res["higher_is_better"][name] = {m: HIGHER_IS_BETTER[m] for m in t.metrics}
        res["n-samples"][name] = {"original": o["n_original"], "effective": len(o["samples"])}
        res["samples"][name] = o["samples"]
    res["config"] = dict(config)
    res["date"] = time.time()
    return res


def format_table(results: dict[str, Any]) -> str:
    """A Markdown table of every task's metrics, like lm-eval's ``make_table`` (aligned columns)."""
    head = ["Tasks", "Version", "Filter", "n-shot", "Metric", "", "Value", "", "Stderr"]
    rows = []
    for name, entry in results["results"].items():
        first = True
        for key, val in entry.items():
            if key == "alias" or "_stderr," in key:
                continue
            metric = key.split(",")[0]
            err = entry.get(f"{metric}_stderr,none", "N/A")
            rows.append([name if first else "", f"{results['versions'].get(name, '')}" if first else "", "none",
                         f"{results['n-shot'].get(name, '')}" if first else "", metric,
                         "↑" if HIGHER_IS_BETTER.get(metric, True) else "↓", f"{val:.4f}", "±",
                         f"{err:.4f}" if isinstance(err, float) else str(err)])
            first = False
    width = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
    right = {1, 3, 6, 8}
    fmt = lambda r: "|" + "|".join(c.rjust(w) if i in right else c.ljust(w)
                                   for i, (c, w) in enumerate(zip(r, width))) + "|"
    rule = "|" + "|".join(("-" * (w - 1) + ":") if i in right else "-" * w for i, w in enumerate(width)) + "|"
    return "\n".join([fmt(head), rule] + [fmt(r) for r in rows])


def save_results(results: dict[str, Any], path: str | os.PathLike, *, include_samples: bool = True) -> None:
    """Write the results as JSON (UTF-8, Korean kept readable); samples inline or dropped."""
    data = results if include_samples else {k: v for k, v in results.items() if k != "samples"}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, indent=2, default=str)
        f.write("\n")
