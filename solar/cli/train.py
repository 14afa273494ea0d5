"""``python -m solar train MODEL DATA -o OUT``: continued pretraining from the command line.

DATA is a token file written by ``solar.data.tokenize_to_file`` (it has a ``.json`` sidecar) or
UTF-8 text, which is tokenized with the model's tokenizer (documents separated by blank lines).
The last ``--val-fraction`` of the tokens is held out for validation. Progress shows the loss and
tokens/s; OUT receives the trained model (HF folder), ``train_log.json`` and, when matplotlib is
installed, ``loss.png``.
"""
from __future__ import annotations

import json
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

__all__ = ["HELP", "add_arguments", "main"]

HELP = "continue pretraining a model on a corpus (f32, CPU)"


def add_arguments(p):
    """The ``train`` sub-command's arguments."""
    p.add_argument("model", help="model folder or file (anything solar.load accepts)")
    p.add_argument("data", help="token file (with .json sidecar) or UTF-8 text file")
    p.add_argument("-o", "--output", required=True, help="output folder (replaced if it exists)")
    p.add_argument("--steps", type=int, default=100, help="optimizer updates (default 100)")
    p.add_argument("--batch", type=int, default=8, help="sequences per micro-batch (default 8)")
    p.add_argument("--seq", type=int, default=256, help="tokens per sequence (default 256)")
    p.add_argument("--lr", type=float, default=3e-4, help="peak learning rate (default 3e-4)")
    p.add_argument("--min-lr", type=float, default=None, help="final learning rate (default lr/10)")
    p.add_argument("--warmup", type=int, default=None, help="warmup updates (default steps/10, at most 100)")
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--grad-clip", type=float, default=1.0, help="global-norm clip, 0 disables (default 1)")
    p.add_argument("--grad-accum", type=int, default=1, help="micro-batches per update (default 1)")
    p.add_argument("--val-fraction", type=float, default=0.05, help="tokens held out (default 0.05)")
    p.add_argument("--eval-every", type=int, default=None, help="validate every N updates (default steps/10)")
    p.add_argument("--eval-batches", type=int, default=4, help="validation batches per evaluation (default 4)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="threads (default: physical cores)")
    p.add_argument("--no-plot", action="store_true", help="do not write loss.png")


def _load_corpus(path: Path, model) -> np.ndarray:
    from .. import data
    if Path(str(path) + ".json").is_file():
        return np.asarray(data.load_tokens(path))
    tok = getattr(model, "tokenizer", None)
    if tok is None:
        raise SystemExit(f"solar train: {path} is text but the model has no tokenizer")
    text = path.read_text(encoding="utf-8")
    docs = [d.strip() for d in text.replace("\r\n", "\n").split("\n\n") if d.strip()]
    with tempfile.TemporaryDirectory() as d:
        data.tokenize_to_file(docs, tok, Path(d) / "corpus.tok")
        return np.array(data.load_tokens(Path(d) / "corpus.tok"))


class _Progress:
    """tqdm when installed, else one rewritten stderr line."""

    def __init__(self, total: int):
        self.total, self.n = total, 0
        try:
            from tqdm import tqdm
            self.bar = tqdm(total=total, unit="step", dynamic_ncols=True)
        except ImportError:
            self.bar = None

    def update(self, **info):
        self.n += 1
        text = " ".join(f"{k}={v}" for k, v in info.items())
        if self.bar is not None:
            self.bar.set_postfix_str(text, refresh=False)
            self.bar.update(1)
        else:
            sys.stderr.write(f"\rstep {self.n}/{self.total} {text}   ")
            sys.stderr.flush()

    def close(self):
        if self.bar is not None:
            self.bar.close()
        else:
            sys.stderr.write("\n")


def _validate(trainer, val, batch, seq, n_batches):
    from ..data import sequential_batches
    losses = []
    for i, b in enumerate(sequential_batches(val, batch, seq)):
        if i >= n_batches:
            break
        losses.append((trainer.eval_loss(b), b.shape[0]))
    if not losses:
        return None
    return sum(l * n for l, n in losses) / sum(n for _, n in losses)


def _plot(out: Path, log: dict) -> bool:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(range(1, len(log["train_loss"]) + 1), log["train_loss"], lw=1, label="train")
    if log["val"]:
        ax.plot([v[0] for v in log["val"]], [v[1] for v in log["val"]], "o-", label="validation")
    ax.set_xlabel("update")
    ax.set_ylabel("cross-entropy (nats/token)")
    ax.set_title(f"solar train: {Path(log['model']).name}")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "loss.png", dpi=120)
    plt.close(fig)
    return True


def _train_loop(trainer, args, train, val, log):
    from ..data import BatchSampler
    sampler = BatchSampler(train, args.batch, args.seq, seed=args.seed)
    every = args.eval_every or max(1, args.steps // 10)
    bar = _Progress(args.steps)
    t0, tokens = time.perf_counter(), 0
    try:
        while trainer.step_count < args.steps:
            losses = [trainer.step(sampler.sample()) for _ in range(args.grad_accum)]
            tokens += args.grad_accum * args.batch * args.seq
            log["train_loss"].append(float(np.mean(losses)))
            info = {"loss": f"{log['train_loss'][-1]:.3f}", "tok/s": f"{tokens / (time.perf_counter() - t0):,.0f}"}
            if val is not None and (trainer.step_count % every == 0 or trainer.step_count == args.steps):
                v = _validate(trainer, val, args.batch, args.seq, args.eval_batches)
                if v is not None:
                    log["val"].append((trainer.step_count, v))
                    info["val"] = f"{v:.3f}"
            bar.update(**info)
    except KeyboardInterrupt:
        log["interrupted_at"] = trainer.step_count
        sys.stderr.write(f"\ninterrupted after {trainer.step_count} updates; saving\n")
    finally:
        bar.close()
    log["seconds"] = time.perf_counter() - t0
    log["tokens_per_second"] = tokens / max(log["seconds"], 1e-9)


def main(args) -> int:
    """Run ``solar train`` with parsed arguments; returns the exit status."""
    import solar
    from ..train import Trainer
    if args.steps < 1 or args.batch < 1 or args.seq < 1 or args.grad_accum < 1:
        raise SystemExit("solar train: --steps, --batch, --seq and --grad-accum must be >= 1")
    if not 0.0 <= args.val_fraction < 1.0:
        raise SystemExit("solar train: --val-fraction must be in [0, 1)")
    model = solar.load(args.model, n_threads=args.threads)
    tokens = _load_corpus(Path(args.data), model)
    n_val = int(len(tokens) * args.val_fraction)
    if n_val and n_val < args.seq + 1:
        n_val = 0
    train, val = (tokens[:-n_val], tokens[-n_val:]) if n_val else (tokens, None)
    if len(train) < args.seq + 1:
        raise SystemExit(f"solar train: {len(train)} training tokens are too few for --seq {args.seq}")
    warmup = args.warmup if args.warmup is not None else min(100, args.steps // 10)
    trainer = Trainer(model, lr=args.lr, min_lr=args.lr / 10 if args.min_lr is None else args.min_lr,
                      warmup=warmup, total_steps=args.steps, weight_decay=args.weight_decay,
                      grad_clip=args.grad_clip or None, grad_accum=args.grad_accum, n_threads=args.threads)
    log = {"model": str(args.model), "data": str(args.data), "train_tokens": int(len(train)),
           "val_tokens": int(n_val), "args": {k: v for k, v in vars(args).items() if k != "func"},
           "train_loss": [], "val": []}
    _train_loop(trainer, args, train, val, log)
    out = trainer.save(args.output)
    (out / "train_log.json").write_text(json.dumps(log, indent=2))
    plotted = not args.no_plot and _plot(out, log)
    last = log["train_loss"][-1] if log["train_loss"] else math.nan
    msg = f"saved {out} ({trainer.step_count} updates, last loss {last:.4f}, {log['tokens_per_second']:,.0f} tok/s"
    print(msg + (", loss.png)" if plotted else ")"))
    return 0
