/* bandwidth.c — a STREAM-style memory read-bandwidth probe: the yardstick for the decode
 * gemm, which should stream its weights at close to this rate. Portable C (the sum of a
 * uint64 array vectorises on any target); OpenMP splits the array evenly across threads,
 * each thread first-touches its own part. */
#include <stdint.h>

#include <omp.h>

#include "kernels/bandwidth.h"
#include "runtime/runtime.h"

/* Sum words [i0, i1) with eight independent partial sums so loads stay in flight. */
static uint64_t sum_words(const uint64_t *a, size_t i0, size_t i1)
{
    uint64_t s[8] = {0};
    size_t i = i0;
    for (; i + 8 <= i1; i += 8)
        for (int j = 0; j < 8; j++) s[j] += a[i + j];
    for (; i < i1; i++) s[0] += a[i];
    return s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7];
}

static double one_pass(const uint64_t *a, size_t n, int nth, uint64_t *sink)
{
    uint64_t total = 0;
    double t0 = omp_get_wtime();
#pragma omp parallel num_threads(nth) reduction(+ : total)
    {
        int id = omp_get_thread_num(), nt = omp_get_num_threads();
        total += sum_words(a, n * (size_t)id / (size_t)nt, n * (size_t)(id + 1) / (size_t)nt);
    }
    double dt = omp_get_wtime() - t0;
    *sink += total;
    return dt;
}

sl_status sl_bench_read_bandwidth(size_t mbytes, int n_threads, int repeats, double *gbps)
{
    size_t bytes;
    if (mbytes == 0 || repeats <= 0 || !sl_mul_ok(mbytes, (size_t)1 << 20, &bytes))
        return SL_FAIL(SL_ERR_ARG, "bad size %zu MiB or repeats %d", mbytes, repeats);
    size_t n = bytes / sizeof(uint64_t);
    uint64_t *a = sl_alloc_large(n * sizeof(uint64_t));   /* huge pages, like the packed weights */
    if (!a) return SL_ERR_NOMEM;
    int nth = sl_threads_resolve(n_threads);
#pragma omp parallel num_threads(nth)
    {
        int id = omp_get_thread_num(), nt = omp_get_num_threads();
        for (size_t i = n * (size_t)id / (size_t)nt; i < n * (size_t)(id + 1) / (size_t)nt; i++) a[i] = i;
    }
    uint64_t sink = 0;
    double best = 0.0;
    one_pass(a, n, nth, &sink);   /* warm up: page tables, thread pool */
    for (int r = 0; r < repeats; r++) {
        double dt = one_pass(a, n, nth, &sink);
        if (dt > 0 && (double)bytes / dt > best) best = (double)bytes / dt;
    }
    sl_free_large(a, n * sizeof(uint64_t));
    /* sum of 0..n-1, checked so the compiler cannot drop the reads */
    uint64_t expect = (uint64_t)n * (uint64_t)(n - 1) / 2 * (uint64_t)(repeats + 1);
    if (sink != expect) return SL_FAIL(SL_ERR_INTERNAL, "bandwidth probe read wrong data");
    *gbps = best / 1e9;
    return SL_OK;
}
