/* matmul.c — sl_matmul: argument checks, activation conversion into the weight type's
 * activation type (sl_dtype_traits.act_type) and the OpenMP split of weight rows.
 *
 * Rows are cut into chunks whose size depends only on N (never on the thread count) and
 * handed out dynamically, so both threads finish together even when one core is busy with
 * something else, and the partition of the work cannot change any result. */
#include "kernels/matmul.h"

#include <string.h>

#include "runtime/dtype.h"
#include "runtime/runtime.h"

/* Rows per work item: a multiple of 16 (64 bytes of a Y row, so threads never share a cache
 * line of Y), about N/32 so the last item is a small share of the work, 64 to 256 rows. */
static int64_t chunk_rows(int64_t N)
{
    int64_t c = (N / 32 + 15) / 16 * 16;
    if (c < 64) c = 64;
    if (c > 256) c = 256;
    return c;
}

/* Bytes between activation rows in scratch. f32 rows of a batch (T >= SL_MATMUL_PAD_T) are
 * copied with a padded stride that is not a multiple of 1 KiB, so the rows of an X panel
 * do not all fall into the same cache sets (power-of-two K otherwise thrashes L1 and L2). */
#define SL_MATMUL_PAD_T 4
static size_t act_row_bytes(int act_type, int64_t K, int64_t T)
{
    if (act_type != SL_DTYPE_F32) return sl_dtype_row_bytes(act_type, K);
    if (T < SL_MATMUL_PAD_T || K > INT64_MAX / 8) return 0;
    int64_t floats = (K + 15) / 16 * 16 + 16;
    if (floats % 256 == 0) floats += 16;
    return (size_t)floats * sizeof(float);
}

size_t sl_matmul_scratch_bytes(int w_dtype, int64_t K, int64_t T)
{
    const sl_dtype_traits *tr = sl_dtype_traits_of(w_dtype);
    if (!tr || K < 0 || T < 0) return 0;
    size_t row = act_row_bytes(tr->act_type, K, T), bytes;
    if (row == 0 || !sl_mul_ok(row, (size_t)T, &bytes)) return 0;
    return bytes;
}

static sl_gemm_fn gemm_of(const sl_kernel_table *k, int w_dtype, int layout)
{
    if (layout == SL_LAYOUT_ROWS) return k->gemm[w_dtype];
    if (layout == SL_LAYOUT_X8) return k->gemm_x8[w_dtype];
    return NULL;
}

static sl_status check_args(const sl_kernel_table *k, int w_dtype, int layout, const void *w, size_t w_stride,
                            int64_t N, int64_t K, const float *x, int64_t T, float *y, void *scratch)
{
    const sl_dtype_traits *tr = sl_dtype_traits_of(w_dtype);
    if (!tr) return SL_FAIL(SL_ERR_ARG, "unknown weight dtype id %d", w_dtype);
    if (!gemm_of(k, w_dtype, layout))
        return SL_FAIL(SL_ERR_UNSUPPORTED, "no matmul kernel for %s weights in layout %d", tr->name, layout);
    if (N < 0 || K < 0 || T < 0) return SL_FAIL(SL_ERR_ARG, "negative shape N=%lld K=%lld T=%lld",
                                                (long long)N, (long long)K, (long long)T);
    if (K % tr->block_size != 0)
        return SL_FAIL(SL_ERR_ARG, "K=%lld is not a multiple of the %s block size %lld", (long long)K,
                       tr->name, (long long)tr->block_size);
    size_t row = sl_dtype_row_bytes(w_dtype, K);
    if (row == 0 && K > 0) return SL_FAIL(SL_ERR_ARG, "a %s row of K=%lld overflows", tr->name, (long long)K);
    if (N > 0 && w_stride < row)
        return SL_FAIL(SL_ERR_ARG, "weight row stride %zu < row bytes %zu", w_stride, row);
    if (N == 0 || T == 0) return SL_OK;
    if (!w || !x || !y) return SL_FAIL(SL_ERR_ARG, "NULL weight, input or output");
    if (tr->act_type != SL_DTYPE_F32) {
        if (!scratch) return SL_FAIL(SL_ERR_ARG, "%s weights need scratch for activations", tr->name);
        if (!k->from_float[tr->act_type])
            return SL_FAIL(SL_ERR_UNSUPPORTED, "no conversion to %s activations", sl_dtype_name(tr->act_type));
    }
    return SL_OK;
}

sl_status sl_matmul_job_init(sl_matmul_job *j, const sl_kernel_table *k, int w_dtype, int layout, const void *w,
                             size_t w_stride, int64_t N, int64_t K, const float *x, int64_t T, float *y, void *scratch)
{
    memset(j, 0, sizeof *j);
    SL_TRY(check_args(k, w_dtype, layout, w, w_stride, N, K, x, T, y, scratch));
    const sl_dtype_traits *tr = sl_dtype_traits_of(w_dtype);
    j->gemm = gemm_of(k, w_dtype, layout);
    j->quant = k->from_float[tr->act_type];
    j->w = w; j->ws = w_stride; j->N = N; j->K = K; j->x = x; j->T = T; j->y = y;
    j->xa = x;
    j->xs = act_row_bytes(tr->act_type, K, T);
    if (j->xs && scratch) j->xa = scratch;
    else { j->quant = NULL; j->xs = (size_t)K * sizeof(float); }   /* f32 used in place */
    j->rc = chunk_rows(N);
    j->n_chunks = N == 0 || T == 0 ? 0 : (N + j->rc - 1) / j->rc;
    if (j->n_chunks == 0) j->quant = NULL;
    return SL_OK;
}

void sl_matmul_job_quant(const sl_matmul_job *j, int64_t t)
{
    j->quant(j->K, j->x + t * j->K, (char *)j->xa + (size_t)t * j->xs);
}

void sl_matmul_job_gemm(const sl_matmul_job *j, int64_t c)
{
    int64_t r0 = c * j->rc, r1 = r0 + j->rc < j->N ? r0 + j->rc : j->N;
    j->gemm(j->K, j->w, j->ws, j->xa, j->xs, j->T, j->y, j->N, r0, r1);
}

sl_status sl_matmul_with(const sl_kernel_table *k, int w_dtype, int layout, const void *w, size_t w_stride,
                         int64_t N, int64_t K, const float *x, int64_t T, float *y, int n_threads,
                         void *scratch)
{
    sl_matmul_job j;
    SL_TRY(sl_matmul_job_init(&j, k, w_dtype, layout, w, w_stride, N, K, x, T, y, scratch));
    int nth = sl_threads_resolve(n_threads);
    if (nth > j.n_chunks) nth = j.n_chunks > 0 ? (int)j.n_chunks : 1;
    if (nth == 1) {
        for (int64_t t = 0; j.quant && t < T; t++) sl_matmul_job_quant(&j, t);
        for (int64_t c = 0; c < j.n_chunks; c++) sl_matmul_job_gemm(&j, c);
        return SL_OK;
    }
#pragma omp parallel num_threads(nth)
    {
        if (j.quant) {
#pragma omp for schedule(static)
            for (int64_t t = 0; t < T; t++) sl_matmul_job_quant(&j, t);
        }
#pragma omp for schedule(dynamic, 1)
        for (int64_t c = 0; c < j.n_chunks; c++) sl_matmul_job_gemm(&j, c);
    }
    return SL_OK;
}

sl_status sl_matmul(int w_dtype, const void *w, size_t w_stride, int64_t N, int64_t K,
                    const float *x, int64_t T, float *y, int n_threads, void *scratch)
{
    return sl_matmul_with(sl_k, w_dtype, SL_LAYOUT_ROWS, w, w_stride, N, K, x, T, y, n_threads, scratch);
}
