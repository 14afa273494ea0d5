/* quant_api.c — the quant module's entry points: the generic kernel-table filler and checked
 * whole-tensor quantize / dequantize (argument checks, NaN / Inf rejection with the position). */
#include <math.h>

#include "quant/pack_x8.h"
#include "quant/quant.h"
#include "runtime/dtype.h"
#include "runtime/runtime.h"

void sl_quant_fill_generic(sl_kernel_table *t)
{
    t->from_float[SL_DTYPE_Q8_0] = sl_quant_from_float_q8_0;
    t->to_float[SL_DTYPE_Q8_0] = sl_quant_to_float_q8_0;
    t->from_float[SL_DTYPE_Q4_0] = sl_quant_from_float_q4_0;
    t->to_float[SL_DTYPE_Q4_0] = sl_quant_to_float_q4_0;
    t->from_float[SL_DTYPE_Q4_K] = sl_quant_from_float_q4_k;
    t->to_float[SL_DTYPE_Q4_K] = sl_quant_to_float_q4_k;
    t->from_float[SL_DTYPE_Q5_K] = sl_quant_from_float_q5_k;
    t->to_float[SL_DTYPE_Q5_K] = sl_quant_to_float_q5_k;
    t->from_float[SL_DTYPE_Q6_K] = sl_quant_from_float_q6_k;
    t->to_float[SL_DTYPE_Q6_K] = sl_quant_to_float_q6_k;
    t->from_float[SL_DTYPE_Q8_K] = sl_quant_from_float_q8_k;
    t->to_float[SL_DTYPE_Q8_K] = sl_quant_to_float_q8_k;
    t->gemm[SL_DTYPE_Q8_0] = sl_quant_gemm_q8_0_ref;
    t->gemm[SL_DTYPE_Q4_0] = sl_quant_gemm_q4_0_ref;
    t->gemm[SL_DTYPE_Q4_K] = sl_quant_gemm_q4_k_ref;
    t->gemm[SL_DTYPE_Q5_K] = sl_quant_gemm_q5_k_ref;
    t->gemm[SL_DTYPE_Q6_K] = sl_quant_gemm_q6_k_ref;
    sl_quant_fill_generic_x8(t);
}

int sl_quant_is_supported(int dtype)
{
    switch (dtype) {
    case SL_DTYPE_Q8_0: case SL_DTYPE_Q4_0: case SL_DTYPE_Q4_K: case SL_DTYPE_Q5_K:
    case SL_DTYPE_Q6_K: case SL_DTYPE_Q8_K:
        return 1;
    default:
        return 0;
    }
}

static sl_status check_shape(int dtype, int64_t rows, int64_t cols, size_t dst_stride, size_t src_stride,
                             int quantizing)
{
    const sl_dtype_traits *tr = sl_dtype_traits_of(dtype);
    if (!tr || !sl_quant_is_supported(dtype))
        return SL_FAIL(SL_ERR_UNSUPPORTED, "dtype %d (%s) is not a supported quantized type", dtype,
                       tr ? tr->name : "unknown");
    if (rows < 0 || cols < 0) return SL_FAIL(SL_ERR_ARG, "negative shape (%lld, %lld)", (long long)rows, (long long)cols);
    if (cols % tr->block_size != 0)
        return SL_FAIL(SL_ERR_ARG, "%s needs rows of a multiple of %lld elements, got %lld", tr->name,
                       (long long)tr->block_size, (long long)cols);
    size_t qbytes = sl_dtype_row_bytes(dtype, cols), fbytes;
    if (!sl_mul_ok((size_t)cols, sizeof(float), &fbytes) || (cols > 0 && qbytes == 0))
        return SL_FAIL(SL_ERR_ARG, "row of %lld elements is too large", (long long)cols);
    size_t need_src = quantizing ? fbytes : qbytes, need_dst = quantizing ? qbytes : fbytes;
    if (rows > 1 && (src_stride < need_src || dst_stride < need_dst))
        return SL_FAIL(SL_ERR_ARG, "row strides (%zu, %zu) shorter than rows (%zu, %zu)", src_stride,
                       dst_stride, need_src, need_dst);
    return SL_OK;
}

sl_status sl_quant_quantize_rows(const sl_kernel_table *kt, int dtype, int64_t rows, int64_t cols,
                                 const float *src, size_t src_stride, void *dst, size_t dst_stride, int n_threads)
{
    SL_TRY(check_shape(dtype, rows, cols, dst_stride, src_stride, 1));
    for (int64_t r = 0; r < rows; r++) {
        const float *x = (const float *)((const char *)src + (size_t)r * src_stride);
        for (int64_t c = 0; c < cols; c++)
            if (!isfinite(x[c]))
                return SL_FAIL(SL_ERR_ARG, "cannot quantize to %s: row %lld, element %lld is %s",
                               sl_dtype_name(dtype), (long long)r, (long long)c, isnan(x[c]) ? "NaN" : "infinite");
    }
    sl_from_float_fn fn = kt->from_float[dtype];
    if (!fn) return SL_FAIL(SL_ERR_UNSUPPORTED, "no quantizer for %s", sl_dtype_name(dtype));
    const int nt = sl_threads_resolve(n_threads);
    #pragma omp parallel for num_threads(nt) schedule(dynamic, 8) if (nt > 1 && rows * cols >= (1 << 16))
    for (int64_t r = 0; r < rows; r++)
        fn(cols, (const float *)((const char *)src + (size_t)r * src_stride), (char *)dst + (size_t)r * dst_stride);
    return SL_OK;
}

sl_status sl_quant_dequantize_rows(const sl_kernel_table *kt, int dtype, int64_t rows, int64_t cols,
                                   const void *src, size_t src_stride, float *dst, size_t dst_stride,
                                   int n_threads)
{
    SL_TRY(check_shape(dtype, rows, cols, dst_stride, src_stride, 0));
    sl_to_float_fn fn = kt->to_float[dtype];
    if (!fn) return SL_FAIL(SL_ERR_UNSUPPORTED, "no dequantizer for %s", sl_dtype_name(dtype));
    const int nt = sl_threads_resolve(n_threads);
    #pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && rows * cols >= (1 << 20))
    for (int64_t r = 0; r < rows; r++)
        fn(cols, (const char *)src + (size_t)r * src_stride, (float *)((char *)dst + (size_t)r * dst_stride));
    return SL_OK;
}
