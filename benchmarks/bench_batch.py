"""Decode throughput of Model.generate_batch (one weight pass per step for all sequences) against
the same prompts generated one by one, on a TinyLlama-shaped random model (the folder that
bench_eval.py builds; made here when missing).

    python benchmarks/bench_batch.py [--model-dir DIR] [--threads 2] [--dtype q8_0] [--batch 1,4,8]
                                     [--tokens 32] [--reps 3]

Greedy decoding with no EOS, so every sequence runs all --tokens steps; prompts are 8 random ids.
Prints generated tokens/s (all sequences together) per batch size, median of --reps runs.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")     # see bench_eval.py: a shared machine

import numpy as np  # noqa: E402
from bench_common import cpu_name  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model-dir", default=None, help="TinyLlama-shaped folder (bench_eval.py --model-dir)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--dtype", default=None)
    ap.add_argument("--batch", default="1,4,8")
    ap.add_argument("--tokens", type=int, default=32)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    import solar
    from bench_eval import build_model
    folder = args.model_dir or os.path.join(tempfile.gettempdir(), "solar-bench-tinyllama")
    if not os.path.exists(os.path.join(folder, "model.safetensors")):
        build_model(folder)
    m = solar.load(folder, n_threads=args.threads, dtype=args.dtype)
    m.config["eos_token_id"] = None                   # run every step
    rng = np.random.default_rng(0)
    print(f"machine: {cpu_name()}, threads {args.threads}, model TinyLlama shape, dtype {args.dtype or 'f16'}, "
          f"{args.tokens} tokens per sequence, median of {args.reps}\n")
    print("| sequences | one by one tok/s | generate_batch tok/s | ratio |")
    print("|---:|---:|---:|---:|")
    m.generate([1, 2, 3], max_tokens=2, temperature=0)                # page the weights in
    for b in (int(x) for x in args.batch.split(",")):
        prompts = [[1] + list(rng.integers(3, m.n_vocab, 7)) for _ in range(b)]
        alone, batched = [], []
        for _ in range(args.reps):
            t = time.perf_counter()
            one = [m.generate(p, max_tokens=args.tokens, temperature=0).tokens for p in prompts]
            alone.append(b * args.tokens / (time.perf_counter() - t))
            t = time.perf_counter()
            many = [r.tokens for r in m.generate_batch(prompts, max_tokens=args.tokens, temperature=0)]
            batched.append(b * args.tokens / (time.perf_counter() - t))
            assert many == one, "generate_batch differs from one-by-one generation"
        a, g = statistics.median(alone), statistics.median(batched)
        print(f"| {b} | {a:.2f} | {g:.2f} | {g / a:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
