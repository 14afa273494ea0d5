"""Float matmul kernels: decode (T=1) weight streaming against the machine's measured read
bandwidth, prefill (T=64, 512) GFLOP/s, generic vs the best ISA level, NumPy (OpenBLAS,
f32) as the peer. Prints a markdown table to paste into an issue. Medians of repeated runs.

    python benchmarks/bench_kernels.py [--threads 1,2] [--repeats 7] [--quick]
"""
import argparse
import os
import platform
import statistics
import subprocess
import sys

import numpy as np

from solar import _core
from bench_common import cpu_name  # noqa: E402

SHAPES = [(4096, 4096), (14336, 4096)]          # (N, K): attention / FFN up-gate projections
DTYPES = ["f32", "f16", "bf16"]



def to_dtype(w32, dtype):
    if dtype == "f32":
        return w32
    if dtype == "f16":
        return w32.astype(np.float16)
    u = w32.view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def time_matmul(dtype, ws, N, K, x, threads, repeats, isa):
    """Median seconds per call; calls alternate between the weight copies (no cache reuse)."""
    times = []
    for i in range(repeats):
        times += _core._bench_matmul(dtype, ws[i % len(ws)], N, K, x, threads, 1, isa)
    return statistics.median(times)


NUMPY_SNIPPET = """
import statistics, sys, time, numpy as np
N, K, T, reps = map(int, sys.argv[1:5])
rng = np.random.default_rng(0)
ws = [rng.standard_normal((N, K), dtype=np.float32) for _ in range(2 if T == 1 else 1)]
x = rng.standard_normal((T, K), dtype=np.float32)
ts = []
for i in range(reps + 1):
    t0 = time.perf_counter(); x @ ws[i % len(ws)].T; ts.append(time.perf_counter() - t0)
print(statistics.median(ts[1:]))
"""


def time_numpy(N, K, T, threads, repeats):
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    out = subprocess.run([sys.executable, "-c", NUMPY_SNIPPET, str(N), str(K), str(T), str(repeats)],
                         env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def row(cells):
    return "| " + " | ".join(str(c) for c in cells) + " |"


def rate_cells(N, K, T, nbytes, sec, bw):
    if T == 1:
        gbs = nbytes / sec / 1e9
        return [f"{sec * 1e3:.2f}", f"{gbs:.1f}", f"{100 * gbs / bw:.0f}%", f"{2 * N * K / sec / 1e9:.1f}"]
    return [f"{sec * 1e3:.1f}", "", "", f"{2 * N * K * T / sec / 1e9:.1f}"]


def measure_bandwidth(threads):
    """Median of 5 best-of-3 read passes over 256 MiB, taken right before the rows it scales."""
    return statistics.median(_core._bench_bandwidth(256, threads, 3) for _ in range(5))


def bench_shape(N, K, threads, args, best):
    bw = measure_bandwidth(threads)
    print(row([threads, f"{N}x{K}", "-", "-", "read bandwidth", "", f"{bw:.1f}", "100%", ""]), flush=True)
    rng = np.random.default_rng(N + K)
    # three copies, used in turn, so T=1 streams > 2x the 32 MiB L3 instead of re-reading cache
    w32 = [rng.standard_normal((N, K), dtype=np.float32) for _ in range(3)]
    for T in args.tokens:
        x = rng.standard_normal((T, K), dtype=np.float32)
        for dtype in DTYPES:
            ws = [to_dtype(w, dtype) for w in w32]
            for isa in ["generic", best]:
                if isa == "generic" and (T > 64 or (args.quick and T > 1) or (T > 1 and N > 4096)):
                    continue
                reps = args.repeats if isa != "generic" or T == 1 else 1
                sec = time_matmul(dtype, ws, N, K, x, threads, reps, isa)
                print(row([threads, f"{N}x{K}", dtype, T, isa] + rate_cells(N, K, T, ws[0].nbytes, sec, bw)),
                      flush=True)
        sec = time_numpy(N, K, T, threads, args.repeats)
        print(row([threads, f"{N}x{K}", "f32", T, "numpy"] + rate_cells(N, K, T, N * K * 4, sec, bw)), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--tokens", default="1,64,512", help="comma-separated T values")
    ap.add_argument("--quick", action="store_true", help="first shape only, generic for decode only")
    args = ap.parse_args()
    args.tokens = [int(t) for t in args.tokens.split(",")]
    best = _core.cpu_isa()
    threads_list = [int(t) for t in args.threads.split(",")]
    print(f"machine: {cpu_name()}, {_core.physical_cores()} physical cores, ISA {best}, "
          f"load average {os.getloadavg()[0]:.1f}, numpy {np.__version__} (OpenBLAS, f32 weights)")
    print("times: median of repeated calls; % of bw: decode weight bytes/s over the read bandwidth "
          "measured just before\n")
    print(row(["threads", "N x K", "dtype", "T", "kernel", "ms", "GB/s", "% of bw", "GFLOP/s"]))
    print(row(["---"] * 9))
    for threads in threads_list:
        for N, K in SHAPES[:1] if args.quick else SHAPES:
            bench_shape(N, K, threads, args, best)
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
