/* matmul.c — the threaded driver around the per-dtype gemm kernels (kernels.h). */
#include "kernels/matmul.h"

#include "kernels/kernels.h"
#include "runtime/dtype.h"

#define ROW_BLOCK 16

size_t sl_matmul_scratch_bytes(int w_dtype, int64_t K, int64_t T)
{
    const sl_dtype_traits *tr = sl_dtype_traits_of(w_dtype);
    if (!tr || tr->act_type == SL_DTYPE_F32) return 0;
    size_t row = sl_dtype_row_bytes(tr->act_type, K), total;
    return sl_mul_ok(row, (size_t)T, &total) ? total : 0;
}

sl_status sl_matmul(int w_dtype, const void *w, size_t w_stride, int64_t N, int64_t K,
                    const float *x, int64_t T, float *y, int n_threads, void *scratch)
{
    const sl_dtype_traits *tr = sl_dtype_traits_of(w_dtype);
    sl_gemm_fn gemm = tr ? sl_k->gemm[w_dtype] : NULL;
    if (!gemm) return SL_FAIL(SL_ERR_UNSUPPORTED, "no matrix kernel for weight type %s", tr ? tr->name : "?");
    const void *act = x;
    size_t act_stride = (size_t)K * sizeof(float);
    if (tr->act_type != SL_DTYPE_F32) {
        sl_from_float_fn quant = sl_k->from_float[tr->act_type];
        if (!quant || !scratch) return SL_FAIL(SL_ERR_UNSUPPORTED, "no activation converter for %s", tr->name);
        act_stride = sl_dtype_row_bytes(tr->act_type, K);
        if (act_stride == 0) return SL_FAIL(SL_ERR_ARG, "row length %lld is not a multiple of the %s block", (long long)K, tr->name);
        for (int64_t t = 0; t < T; t++) quant(K, x + t * K, (char *)scratch + (size_t)t * act_stride);
        act = scratch;
    }
    int64_t n_blocks = (N + ROW_BLOCK - 1) / ROW_BLOCK;
    #pragma omp parallel for schedule(static) num_threads(n_threads) if (n_threads > 1 && N * K * T > 32768)
    for (int64_t b = 0; b < n_blocks; b++) {
        int64_t r0 = b * ROW_BLOCK, r1 = r0 + ROW_BLOCK < N ? r0 + ROW_BLOCK : N;
        gemm(K, w, w_stride, act, act_stride, T, y, N, r0, r1);
    }
    return SL_OK;
}
