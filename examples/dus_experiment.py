"""Does Depth Up-Scaling beat training longer, or training the big shape from scratch?

    python examples/dus_experiment.py --steps 300 --more 150 --threads 1 --out /tmp/dus_exp [--data ../shared/data]

  base:  an n-layer model trained T steps
  (a)    base trained T' more steps
  (b)    DUS of base (2(n-m) layers, SOLAR's recipe) continued T' steps
  (c)    the 2(n-m)-layer shape trained from scratch for T + T' steps
(a) and (b) start a fresh AdamW with the same warmup + cosine schedule and see the same batches
(different from the base's). Validation loss on held-out English and Korean text (never trained
on) is measured every `--every` steps, and for (a) and (b) also at their step 0. Writes
curves.png (both languages), table.md and curves.json to --out, and prints the table. Uses the
data, vocabulary recipe and model family of the bundled solar-mini (solar/models/build_solar_mini.py).

Measured (2026-12-07, --steps 1000 --more 500 --threads 2, defaults otherwise: D 192, 4 -> 6 layers,
8 x 128 tokens a step; mean of en/ko held-out loss at step 1500, seeds 0 / 1 / 2):
  continued at lr 3e-3:  (a) 5.314 5.272 5.325   (b) 5.303 5.263 5.335   (c) 5.261 5.379 5.332
  --more-lr 1e-3:        (a) 5.319 5.288 5.326   (b) 5.314 5.286 5.321   (c) 5.277 5.268 5.381
Right after surgery the DUS model is 0.01-0.12 nats worse than its base (the dip SOLAR reports), and
recovers within ~100 steps; (b) ends 0.004 nats ahead of (a) on average for 11% more compute, well
inside the seed-to-seed spread (0.05); (c), with 20% more compute than (b), is better in 4 of the 6
runs (by up to 0.04) and worse in 2 (by up to 0.12). At this size and data (0.74 M training tokens)
depth is not what limits the loss.
"""
import argparse
import json
import os
import sys
import time

import solar
import solar.data
from solar.models import build_solar_mini as recipe


def flops_per_token(layers: int, a) -> float:
    """Training FLOPs per token, 6 x (matrix parameters touched per token), attention ignored."""
    dh = a.dim // a.heads
    per_layer = a.dim * dh * (2 * a.heads + 2 * a.kv_heads) + 3 * a.dim * a.ffn
    return 6.0 * (layers * per_layer + a.vocab * a.dim)


def validate(tr, held, a) -> dict:
    """Mean loss over the first ~a.val_tokens held-out tokens of each language."""
    n = max(1, -(-a.val_tokens // (a.batch * a.seq)))
    return {k: recipe._eval_loss(tr, v, a, n) for k, v in held.items()}


def curve(model, tokens, held, steps, a, label, seed, start=0, lr=None):
    """Train `model` for `steps` (peak learning rate `lr`, default a.lr), validating every
    `a.every` (and before the first step when `start` > 0); returns (trainer, [{step, en, ko}],
    wall seconds)."""
    import solar.train
    lr = a.lr if lr is None else lr
    tr = solar.train.Trainer(model, lr=lr, weight_decay=0.1, warmup=min(50, max(1, steps // 10)),
                             total_steps=steps, grad_clip=1.0, min_lr=lr / 10, n_threads=a.threads)
    sampler = solar.data.BatchSampler(tokens, batch=a.batch, seq=a.seq, seed=seed)
    points, t0 = [], time.time()
    if start:
        points.append({"step": start, **validate(tr, held, a)})
    for step in range(steps):
        tr.step(sampler.sample())
        if (step + 1) % a.every == 0 or step == steps - 1:
            points.append({"step": start + step + 1, **validate(tr, held, a)})
            print(f"[{label}] step {start + step + 1}: val en {points[-1]['en']:.3f} ko {points[-1]['ko']:.3f}",
                  file=sys.stderr, flush=True)
    return tr, points, time.time() - t0


def prepare(a):
    """Tokenizer, training tokens and held-out tokens {en, ko} under a.out."""
    docs, held_text = recipe.split_holdout(recipe.read_corpora(a.data))
    a.tok_dir = os.path.join(a.out, "tok")
    os.makedirs(a.tok_dir, exist_ok=True)
    recipe.train_tokenizer(docs, a.vocab, a.tok_dir)
    tok = solar.Tokenizer.from_pretrained_dir(a.tok_dir)
    solar.data.tokenize_to_file(docs, tok, os.path.join(a.out, "train.tok"))
    held = {}
    for k, text in held_text.items():
        solar.data.tokenize_to_file([text], tok, os.path.join(a.out, f"held-{k}.tok"))
        held[k] = solar.data.load_tokens(os.path.join(a.out, f"held-{k}.tok"))
    return tok, solar.data.load_tokens(os.path.join(a.out, "train.tok")), held


def table(runs, a) -> str:
    lines = ["| run | layers | steps | train TFLOP | wall s | val loss en | val loss ko | mean |",
             "|---|---|---|---|---|---|---|---|"]
    for r in runs:
        last = r["points"][-1]
        lines.append(f"| {r['name']} | {r['layers']} | {last['step']} | {r['tflop']:.1f} | {r['wall']:.0f} | "
                     f"{last['en']:.3f} | {last['ko']:.3f} | {(last['en'] + last['ko']) / 2:.3f} |")
    dus = next(r for r in runs if r["key"] == "dus")
    first = dus["points"][0]
    lines.append(f"\nDUS model right after surgery (step {first['step']}, before training): "
                 f"val en {first['en']:.3f}, ko {first['ko']:.3f}")
    return "\n".join(lines)


def plot(runs, a, path) -> bool:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(matplotlib not installed: no plot)", file=sys.stderr)
        return False
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), dpi=110, sharex=True)
    for ax, lang in zip(axes, ("en", "ko")):
        for r in runs:
            ax.plot([p["step"] for p in r["points"]], [p[lang] for p in r["points"]], label=r["name"],
                    marker="." if r["key"] != "scratch" else None)
        ax.axvline(a.steps, color="gray", lw=0.8, ls="--")
        ax.set_title(f"held-out {'English' if lang == 'en' else 'Korean'}")
        ax.set_xlabel("training step")
        ax.set_ylabel("validation loss (nats/token)")
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.suptitle(f"DUS {a.layers} -> {2 * (a.layers - a.m)} layers (m={a.m}), D={a.dim}, T={a.steps}, "
                 f"T'={a.more} (lr {a.more_lr:g}), batch {a.batch}x{a.seq}")
    fig.tight_layout()
    fig.savefig(path)
    return True


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))
    ap.add_argument("--out", default="dus-exp", help="output folder (tokenizer, checkpoints, plot, table)")
    ap.add_argument("--steps", type=int, default=300, help="T: base training steps")
    ap.add_argument("--more", type=int, default=150, help="T': continued steps")
    ap.add_argument("--layers", type=int, default=4, help="n: base layers")
    ap.add_argument("-m", type=int, default=1, help="layers dropped from each copy (DUS makes 2(n-m))")
    ap.add_argument("--every", type=int, default=25, help="validate every this many steps")
    ap.add_argument("--val-tokens", type=int, default=4096, help="held-out tokens per language per validation")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--vocab", type=int, default=4096)
    ap.add_argument("--dim", type=int, default=192)
    ap.add_argument("--ffn", type=int, default=512)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-3, help="peak learning rate of base and (c)")
    ap.add_argument("--more-lr", type=float, default=None,
                    help="peak learning rate of the continued runs (a) and (b) (default: --lr; re-warming to the "
                         "base's peak first costs both of them loss)")
    ap.add_argument("--threads", type=int, default=None, help="trainer threads (default: all physical cores)")
    a = ap.parse_args(argv)
    a.more_lr = a.lr if a.more_lr is None else a.more_lr
    if not 0 < a.m < a.layers or a.steps < 1 or a.more < 1 or a.every < 1:
        ap.error("need 0 < m < layers, and steps, more, every >= 1")
    os.makedirs(a.out, exist_ok=True)
    tok, tokens, held = prepare(a)
    a.vocab = tok.vocab_size
    big = argparse.Namespace(**{**vars(a), "layers": 2 * (a.layers - a.m)})
    T, T2 = a.steps, a.more
    tok_per_step = a.batch * a.seq / 1e12

    recipe.init_model(os.path.join(a.out, "init"), a.vocab, a)
    tr, base_pts, base_wall = curve(solar.load(os.path.join(a.out, "init"), n_threads=a.threads), tokens, held,
                                    T, a, "base", a.seed)
    tr.save(os.path.join(a.out, "base"))
    trained = solar.load(os.path.join(a.out, "base"), n_threads=a.threads)
    _, more_pts, more_wall = curve(trained, tokens, held, T2, a, "(a) longer", a.seed + 1, start=T, lr=a.more_lr)
    _, dus_pts, dus_wall = curve(solar.dus.depth_up_scale(trained, a.m), tokens, held, T2, a, "(b) DUS",
                                 a.seed + 1, start=T, lr=a.more_lr)
    recipe.init_model(os.path.join(a.out, "init-big"), a.vocab, big)
    _, scratch_pts, scratch_wall = curve(solar.load(os.path.join(a.out, "init-big"), n_threads=a.threads), tokens,
                                         held, T + T2, a, "(c) scratch", a.seed)
    fl_small, fl_big = flops_per_token(a.layers, a) * tok_per_step, flops_per_token(big.layers, a) * tok_per_step
    runs = [
        {"key": "base", "name": f"base ({a.layers} layers)", "layers": a.layers, "points": base_pts,
         "tflop": fl_small * T, "wall": base_wall},
        {"key": "longer", "name": "(a) base, trained longer", "layers": a.layers, "points": more_pts,
         "tflop": fl_small * (T + T2), "wall": base_wall + more_wall},
        {"key": "dus", "name": f"(b) DUS m={a.m}, continued", "layers": big.layers, "points": dus_pts,
         "tflop": fl_small * T + fl_big * T2, "wall": base_wall + dus_wall},
        {"key": "scratch", "name": f"(c) {big.layers} layers from scratch", "layers": big.layers,
         "points": scratch_pts, "tflop": fl_big * (T + T2), "wall": scratch_wall},
    ]
    text = table(runs, a)
    print(text)
    with open(os.path.join(a.out, "table.md"), "w", encoding="utf-8") as f:
        f.write(text + "\n")
    with open(os.path.join(a.out, "curves.json"), "w", encoding="utf-8") as f:
        json.dump({"args": {k: v for k, v in vars(a).items() if k != "tok_dir"}, "runs": runs}, f, indent=1)
    if plot(runs, a, os.path.join(a.out, "curves.png")):
        print(f"plot: {os.path.join(a.out, 'curves.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
