"""Quantized gemm throughput: weight streaming (GB/s) at T=1 and GFLOP/s at T=64 / T=512, for
every quantized weight type, generic C vs the SIMD levels this CPU has, through the kernel table
(solar._core._qgemm, activations quantized to q8_0 / q8_K first, outside the timed region).

    python benchmarks/bench_quant.py                 # 1 thread, all types
    python benchmarks/bench_quant.py --threads 1,2 --types q4_0,q4_k

T=1 uses a weight matrix larger than the last-level cache (--stream-mb), so it measures streaming
from memory; T=64/512 use N=1024, K=4096 (N=64 for the slow generic kernels). Times are the
median of --repeats wall-clock runs; the load average is printed because other processes on a
shared machine lower every figure.
"""
import argparse
import os
import platform
import statistics
import time

import numpy as np

from solar import _core, quant
from bench_common import cpu_name  # noqa: E402

TYPES = ["q8_0", "q4_0", "q4_k", "q5_k", "q6_k"]
ISA_LEVEL = {"generic": 0, "avx2": 1, "avx512": 2}



def make_weights(qtype, N, K, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(0, N, 2048):   # quantize in slices to bound the float32 temporary
        n = min(2048, N - i)
        rows.append(quant.quantize(rng.standard_normal((n, K), dtype=np.float32), qtype))
    return np.concatenate(rows)


CLOCK = time.perf_counter


def time_gemm(qtype, w, N, K, T, isa, threads, repeats, min_seconds=0.2):
    x = np.random.default_rng(1).standard_normal((T, K), dtype=np.float32)
    t0 = CLOCK()
    _core._qgemm(qtype, w, N, K, x, isa, n_threads=threads)   # warm-up, and a first estimate
    once = max(CLOCK() - t0, 1e-6)
    rep = max(1, int(min_seconds / once))
    times = []
    for _ in range(repeats):
        t0 = CLOCK()
        _core._qgemm(qtype, w, N, K, x, isa, n_threads=threads, repeat=rep)
        times.append((CLOCK() - t0) / rep)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--types", default=",".join(TYPES))
    ap.add_argument("--threads", default="1")
    ap.add_argument("--isas", default=None, help="default: generic and every SIMD level of this CPU")
    ap.add_argument("--K", type=int, default=4096)
    ap.add_argument("--stream-mb", type=float, default=64.0, help="weight size for the T=1 streaming test")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--tokens", default="1,64,512")
    ap.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                    help="cpu: this process's CPU time (1 thread only), steadier on a loaded machine")
    args = ap.parse_args()
    global CLOCK
    if args.clock == "cpu":
        CLOCK = time.process_time

    top = ISA_LEVEL[_core.cpu_isa()]
    isas = args.isas.split(",") if args.isas else [i for i, lvl in ISA_LEVEL.items() if lvl <= top]
    threads = [int(t) for t in args.threads.split(",")]
    if args.clock == "cpu" and threads != [1]:
        ap.error("--clock cpu measures one thread only")
    tokens = [int(t) for t in args.tokens.split(",")]
    K = args.K
    print(f"# machine: {cpu_name()}, {os.cpu_count()} cpus, best ISA {_core.cpu_isa()}, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"# K={K}; T=1: weights of ~{args.stream_mb:.0f} MB (streamed from memory); "
          f"T>1: N=1024 (generic: N=64); median of {args.repeats}; {args.clock} clock")
    head = "| type | isa | threads | " + " | ".join(
        "T=1 GB/s (GFLOP/s)" if t == 1 else f"T={t} GFLOP/s" for t in tokens) + " |"
    print(head)
    print("|" + "---|" * (3 + len(tokens)))
    for qtype in args.types.split(","):
        row_bytes = quant.row_bytes(qtype, K)
        n_stream = max(64, int(args.stream_mb * 2**20 / row_bytes) // 64 * 64)
        w_stream = make_weights(qtype, n_stream, K) if 1 in tokens else None
        w_small = {1024: make_weights(qtype, 1024, K), 64: make_weights(qtype, 64, K)}
        for isa in isas:
            for th in threads:
                cells = []
                for T in tokens:
                    if T == 1:
                        dt = time_gemm(qtype, w_stream, n_stream, K, 1, isa, th, args.repeats)
                        cells.append(f"{w_stream.nbytes / dt / 1e9:.2f} ({2 * n_stream * K / dt / 1e9:.1f})")
                    else:
                        N = 64 if isa == "generic" else 1024
                        dt = time_gemm(qtype, w_small[N], N, K, T, isa, th, args.repeats, min_seconds=0.05)
                        cells.append(f"{2 * N * K * T / dt / 1e9:.1f}")
                print(f"| {qtype} | {isa} | {th} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
