"""``python -m solar eval``: benchmarks, perplexity, KL-divergence, translation and KorQuAD scores.

    python -m solar eval -m MODEL --tasks kobest_copa,arc_challenge --data DIR [--limit N] [--output r.json]
    python -m solar eval -m MODEL --ppl wiki.test.raw [--ctx 512] [--stride S]
    python -m solar eval -m QUANT --kl-base F32_MODEL --ppl wiki.test.raw
    python -m solar eval -m MODEL --translate SRC.ko REF.en [--direction ko-en]
    python -m solar eval -m MODEL --korquad KorQuAD_v1.0_dev.json

Exposes ``add_parser(subparsers)`` for the ``solar`` command dispatcher and ``run(args)``.
"""
from __future__ import annotations

import argparse
import sys
import time

__all__ = ["add_parser", "run", "main"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("eval", help="evaluate a model (benchmarks, perplexity, KL, translation, KorQuAD)",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-m", "--model", required=True, help="model folder")
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
    p.add_argument("--threads", type=int, help="threads (default: physical cores)")
    p.add_argument("--dtype", help="convert weights at load (e.g. q8_0)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
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


def _load(path: str, args):
    import solar
    return solar.load(path, n_threads=args.threads, dtype=args.dtype)


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
    """Run ``solar eval``; expected failures (bad files, no tokenizer, ...) exit with a one-line message."""
    try:
        return _run(args)
    except KeyError as e:
        raise SystemExit(f"solar eval: {e.args[0]}") from None
    except (ValueError, OSError, ImportError) as e:
        raise SystemExit(f"solar eval: {e}") from None


def _run(args) -> int:
    import solar.eval as ev
    if not (args.tasks or args.ppl or args.translate or args.korquad):
        raise SystemExit("solar eval: nothing to do (give --tasks, --ppl, --translate or --korquad)")
    if args.kl_base and not args.ppl:
        raise SystemExit("solar eval: --kl-base needs --ppl TEXT_FILE")
    if args.tasks and not args.data:
        raise SystemExit("solar eval: --tasks needs --data DIR")
    bar = Progress(args.quiet)
    model = _load(args.model, args)
    report: dict = {}
    if args.tasks:
        limit = args.limit
        if limit is not None and limit >= 1:
            limit = int(limit)
        res = ev.run(model, args.tasks, data_dir=args.data, limit=limit, num_fewshot=args.num_fewshot,
                     seed=args.seed, progress=bar, model_name=args.model)
        print(ev.format_table(res))
        report.update(res)
    _text_evals(model, args, bar, report)
    if args.output:
        ev.save_results(report, args.output, include_samples=not args.no_samples)
        print(f"results written to {args.output}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (``python -m solar.eval``) until the ``solar`` dispatcher exists."""
    parser = argparse.ArgumentParser(prog="python -m solar")
    sub = parser.add_subparsers(dest="command")
    add_parser(sub)
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] != "eval":
        argv = ["eval"] + argv
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())

