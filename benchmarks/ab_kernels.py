"""A/B of matmul kernels between builds of solar's core, in one process.

On a shared VM the speed of the same binary moves by up to 2x within minutes, so timing two builds
in two processes compares two moments, not two builds. This script loads every given `_core`
shared object under the same module name, then alternates calls (build 0, 1, ... per round) and
reports, per shape and weight type, each build's median GFLOP/s and the median over rounds of
its speed ratio against build 0. X8-packed weights, as the model runs them.

    python benchmarks/ab_kernels.py OLD.so NEW.so [--dtypes f16,q8_0] [--shapes 5632x2048x64,...]
        [--threads 1] [--isa avx2] [--rounds 9]

Keep a build with `cp solar/_core*.so /tmp/old.so` before changing the C, rebuild, then compare.
"""
import argparse
import importlib.util
import statistics

import numpy as np

SHAPES = "1024x2048x1,1024x2048x24,5632x2048x64,2048x2048x512"   # N x K x T


def load_core(path: str):
    spec = importlib.util.spec_from_file_location("solar._core", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def packed_weights(core, dtype: str, w32: np.ndarray) -> np.ndarray:
    """The (N, K) matrix in dtype's X8 layout, in a page-aligned buffer."""
    from solar.quant import quantize
    N, K = w32.shape
    rows = core._from_float(dtype, "generic", w32.ravel()) if dtype in ("f32", "f16", "bf16") \
        else quantize(w32, dtype).tobytes()
    packed = core._pack_x8(dtype, rows, N, K)
    raw = np.empty(len(packed) + 4096, np.uint8)
    off = (-raw.ctypes.data) % 4096
    buf = raw[off:off + len(packed)]
    buf[:] = np.frombuffer(packed, np.uint8)
    return buf


def compare(cores, dtype, shape, threads, isa, rounds, rng):
    N, K, T = shape
    x = rng.standard_normal((T, K)).astype(np.float32)
    w = packed_weights(cores[0], dtype, rng.standard_normal((N, K)).astype(np.float32))
    calls = 3 if T < 256 else 1
    best = [[] for _ in cores]                      # per build: best seconds of each round
    for _ in range(rounds):
        for j, core in enumerate(cores):
            best[j].append(min(core._bench_matmul(dtype, w, N, K, x, threads, calls, isa, "x8")))
    flops = 2.0 * N * K * T
    cells = []
    for j in range(len(cores)):
        ratio = statistics.median(b0 / bj for b0, bj in zip(best[0], best[j]))
        cells.append(f"{flops / statistics.median(best[j]) / 1e9:7.1f} GF/s x{ratio:.2f}")
    return f"| {N}x{K} | {T} | {dtype} | " + " | ".join(cells) + " |"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("builds", nargs="+", help="_core shared objects; the first is the reference")
    ap.add_argument("--dtypes", default="f32,f16,bf16")
    ap.add_argument("--shapes", default=SHAPES)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--isa", default=None, help="generic / avx2 / avx512 (default: the best this CPU has)")
    ap.add_argument("--rounds", type=int, default=9)
    args = ap.parse_args()
    cores = [load_core(p) for p in args.builds]
    rng = np.random.default_rng(0)
    print(f"# {args.threads} thread(s), ISA {args.isa or 'best'}, median of {args.rounds} alternating rounds; "
          "x = speed against build 0, median of per-round ratios")
    print("| shape | T | dtype | " + " | ".join(f"build {j}" for j in range(len(cores))) + " |")
    print("|---|---|---|" + "---|" * len(cores))
    for s in args.shapes.split(","):
        shape = tuple(int(v) for v in s.split("x"))
        for dtype in args.dtypes.split(","):
            print(compare(cores, dtype, shape, args.threads, args.isa, args.rounds, rng), flush=True)


if __name__ == "__main__":
    main()
