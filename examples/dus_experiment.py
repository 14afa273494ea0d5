"""Does Depth Up-Scaling beat training longer, or training the big shape from scratch?

    python examples/dus_experiment.py --steps 300 --more 150 [--data ../shared/data] [--out dus-exp]

  base:  an n-layer model trained T steps
  (a)    base trained T' more steps
  (b)    DUS of base (2(n-m) layers, SOLAR's recipe) continued T' steps
  (c)    the 2(n-m)-layer shape trained from scratch for T + T' steps
Validation-loss curves of all four go into one PNG, and a table is printed. Uses the same data,
vocabulary and model family as the bundled solar-mini (solar/models/build_solar_mini.py).
"""
import argparse
import os
import sys

import numpy as np

import solar
import solar.data
from solar.models import build_solar_mini as recipe


def curve(model, tokens, held, steps, a, label):
    """Train `model` for `steps`, validating every `a.every`; returns (trainer, [(step, val loss)])."""
    import solar.train
    tr = solar.train.Trainer(model, lr=a.lr, warmup=min(50, max(1, steps // 10)), total_steps=steps,
                             grad_clip=1.0, min_lr=a.lr / 10)
    sampler = solar.data.BatchSampler(tokens, batch=a.batch, seq=a.seq, seed=a.seed)
    points = []
    for step in range(steps):
        tr.step(sampler.sample())
        if (step + 1) % a.every == 0 or step == steps - 1:
            points.append((step + 1, recipe._eval_loss(tr, held, a)))
            print(f"[{label}] step {step + 1}: val loss {points[-1][1]:.3f}", file=sys.stderr, flush=True)
    return tr, points


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))
    ap.add_argument("--out", default="dus-exp")
    ap.add_argument("--steps", type=int, default=300, help="T: base training steps")
    ap.add_argument("--more", type=int, default=150, help="T': continued steps")
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("-m", type=int, default=1)
    ap.add_argument("--every", type=int, default=25)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dim", type=int, default=192)
    ap.add_argument("--ffn", type=int, default=512)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-3)
    a = ap.parse_args()
    a.heads, a.kv_heads, a.vocab = 4, 2, 4096
    os.makedirs(a.out, exist_ok=True)
    docs, held_text = recipe.split_holdout(recipe.read_corpora(a.data))
    a.tok_dir = os.path.join(a.out, "tok")
    os.makedirs(a.tok_dir, exist_ok=True)
    recipe.train_tokenizer(docs, a.vocab, a.tok_dir)
    tok = solar.Tokenizer.from_pretrained_dir(a.tok_dir)
    solar.data.tokenize_to_file(docs, tok, os.path.join(a.out, "train.tok"))
    solar.data.tokenize_to_file([held_text["en"] + "\n" + held_text["ko"]], tok, os.path.join(a.out, "held.tok"))
    tokens = solar.data.load_tokens(os.path.join(a.out, "train.tok"))
    held = solar.data.load_tokens(os.path.join(a.out, "held.tok"))

    recipe.init_model(os.path.join(a.out, "init"), tok.vocab_size, a)
    tr, base = curve(solar.load(os.path.join(a.out, "init")), tokens, held, a.steps, a, "base")
    tr.save(os.path.join(a.out, "base"))
    trained = solar.load(os.path.join(a.out, "base"))
    _, more = curve(trained, tokens, held, a.more, a, "(a) longer")
    _, dus = curve(solar.dus.depth_up_scale(trained, a.m), tokens, held, a.more, a, "(b) DUS")
    big = argparse.Namespace(**{**vars(a), "layers": 2 * (a.layers - a.m)})
    recipe.init_model(os.path.join(a.out, "init-big"), tok.vocab_size, big)
    _, scratch = curve(solar.load(os.path.join(a.out, "init-big")), tokens, held, a.steps + a.more, a, "(c) scratch")

    shift = lambda pts: [(s + a.steps, v) for s, v in pts]  # noqa: E731
    series = {"base": base, "(a) base, longer": shift(more), f"(b) DUS m={a.m}": shift(dus),
              f"(c) {big.layers} layers from scratch": scratch}
    print(f"| run | layers | steps | final val loss |\n|---|---|---|---|")
    for name, pts in series.items():
        n = big.layers if ("DUS" in name or "scratch" in name) else a.layers
        print(f"| {name} | {n} | {pts[-1][0]} | {pts[-1][1]:.3f} |")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
        for name, pts in series.items():
            ax.plot([s for s, _ in pts], [v for _, v in pts], label=name)
        ax.axvline(a.steps, color="gray", lw=0.8, ls="--")
        ax.set_xlabel("training step")
        ax.set_ylabel("validation loss")
        ax.legend()
        fig.tight_layout()
        fig.savefig(os.path.join(a.out, "curves.png"))
        print(f"plot: {os.path.join(a.out, 'curves.png')}")
    except ImportError:
        print("(matplotlib not installed: no plot)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
