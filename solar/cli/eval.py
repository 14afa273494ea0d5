"""``python -m solar eval``: benchmarks, perplexity, KL-divergence, translation and KorQuAD scores.

    python -m solar eval -m MODEL --tasks kobest_copa,arc_challenge --data DIR [--limit N] [--output r.json]
    python -m solar eval -m MODEL --ppl wiki.test.raw [--ctx 512] [--stride S]
    python -m solar eval -m QUANT --kl-base F32_MODEL --ppl wiki.test.raw
    python -m solar eval -m MODEL --translate SRC.ko REF.en [--direction ko-en]
    python -m solar eval -m MODEL --korquad KorQuAD_v1.0_dev.json

For the ``solar`` dispatcher (solar/cli/__init__.py): ``HELP``, ``add_arguments(parser)``, ``main(args)``;
for any other argparse host: ``add_parser(subparsers)`` and ``run(args)``.
"""
from __future__ import annotations

import argparse
import sys
import time

from .common import CliError, add_model_arguments, load_model

__all__ = ["HELP", "add_arguments", "add_parser", "run", "main"]

HELP = "Evaluate a model: benchmarks (KoBEST, ARC, HellaSwag, KMMLU), perplexity, KL, translation, KorQuAD."


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_model_arguments(p)
    p.add_argument("--tasks", help="comma-separated tasks (arc_challenge, hellaswag, kobest, kobest_copa, kmmlu, ...)")
    p.add_argument("--data", help="folder laid out like shared/data/eval (for --tasks)")
    p.add_argument("--limit", type=float, help="questions per task (N, or a fraction < 1)")
    p.add_argument("--num-fewshot", type=int, default=0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--output", "-o", help="write the results as JSON here")
    p.add_argument("--no-samples", action="store_true", help="leave per-sample records out of --output")
    p.add_argument("--ppl", metavar="TEXT_FILE", help="perplexity of this text file")
    p.add_argument("--ctx", type=int, default=512, help="context size for --ppl/--kl-base (default 512)")
    p.add_argument("--stride", type=int, help="lm-eval rolling perplexity with this stride (default: llama.cpp)")
    p.add_argument("--chunks", type=int, help="at most this many chunks for --ppl/--kl-base")
    p.add_argument("--kl-base", metavar="MODEL", help="KL-divergence of --model from this base model on --ppl")
    p.add_argument("--translate", nargs=2, metavar=("SRC", "REF"), help="translation chrF/BLEU on two aligned files")
    p.add_argument("--direction", default="ko-en", help="translation direction (ko-en or en-ko)")
    p.add_argument("--korquad", metavar="JSON", help="KorQuAD 1.0 EM/F1 on this file")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``eval`` command to an argparse sub-parser set (``args.func`` is :func:`run`)."""
    p = subparsers.add_parser("eval", help=HELP, description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p)
    p.set_defaults(func=run)
    return p


class Progress:
    """A one-line progress bar on stderr: label [####....] done/total rate."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.label, self.t0, self.last = None, 0.0, 0.0

    def __call__(self, label: str, done: int, total: int) -> None:
        if self.quiet:
            return
        now = time.time()
        if label != self.label:
            self.label, self.t0 = label, now
        if done < total and now - self.last < 0.2:
            return
        self.last = now
        width = 30
        fill = int(width * done / max(total, 1))
        rate = done / max(now - self.t0, 1e-9)
        sys.stderr.write(f"\r{label:<20} [{'#' * fill}{'.' * (width - fill)}] {done}/{total} {rate:7.2f}/s")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    def simple(self, label: str):
        return lambda done, total: self(label, done, total)


def _load(path: str | None, args):
    return load_model(argparse.Namespace(**{**vars(args), "model": path}))


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


def _text_evals(model, args, bar: Progress, report: dict) -> None:
    import solar.eval as ev
    if args.ppl and args.kl_base:
        base = _load(args.kl_base, args)
        r = ev.kl_divergence(base, model, _read(args.ppl), n_ctx=args.ctx, max_chunks=args.chunks,
                             progress=bar.simple("kl-divergence"))
        print(r)
        report["kl_divergence"] = {k: v for k, v in vars(r).items() if k not in ("kl_values", "dp_values")}
    elif args.ppl:
        r = ev.perplexity(model, _read(args.ppl), n_ctx=args.ctx, stride=args.stride, max_chunks=args.chunks,
                          progress=bar.simple("perplexity"))
        print(r)
        report["perplexity"] = vars(r)
    if args.translate:
        pairs = ev.load_parallel(*args.translate, limit=int(args.limit) if args.limit else None)
        r = ev.translate_eval(model, pairs, args.direction, progress=bar.simple("translate"))
        print(f"translation {args.direction}: chrF {r['chrf']:.2f}  BLEU {r['bleu']:.2f}  (n={r['n']})")
        report["translation"] = r
    if args.korquad:
        r = ev.korquad_eval(model, args.korquad, limit=int(args.limit) if args.limit else None,
                            progress=bar.simple("korquad"))
        print(f"KorQuAD: EM {r['exact_match']:.2f}  F1 {r['f1']:.2f}  (n={r['n']})")
        report["korquad"] = r


def run(args) -> int:
    """Run ``solar eval``. Usage problems raise CliError (a ValueError: one-line message)."""
    import solar.eval as ev
    if not (args.tasks or args.ppl or args.translate or args.korquad):
        raise CliError("nothing to do: give --tasks, --ppl, --translate or --korquad")
    if args.kl_base and not args.ppl:
        raise CliError("--kl-base needs --ppl TEXT_FILE")
    if args.tasks and not args.data:
        raise CliError("--tasks needs --data DIR")
    bar = Progress(args.quiet)
    model = _load(args.model, args)
    report: dict = {}
    if args.tasks:
        limit = int(args.limit) if args.limit is not None and args.limit >= 1 else args.limit
        try:
            res = ev.run(model, args.tasks, data_dir=args.data, limit=limit, num_fewshot=args.num_fewshot,
                         seed=args.seed, progress=bar, model_name=args.model)
        except KeyError as e:                   # unknown task name
            raise CliError(e.args[0]) from None
        print(ev.format_table(res))
        report.update(res)
    _text_evals(model, args, bar, report)
    if args.output:
        ev.save_results(report, args.output, include_samples=not args.no_samples)
        print(f"results written to {args.output}")
    return 0


def main(args=None) -> int:
    """The dispatcher's entry (``main(parsed_args)``); with a list or None, parse ``eval`` argv."""
    if isinstance(args, argparse.Namespace):
        return run(args)
    from . import main as solar_main
    argv = list(sys.argv[1:] if args is None else args)
    if not argv or argv[0] != "eval":
        argv = ["eval"] + argv
    return solar_main(argv)
