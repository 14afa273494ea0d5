/* convert_impl.h — f16 / bf16 <-> f32 array conversion, written once over sv_* (include
 * simd_<isa>.h and gemm_float_impl.h first). Round to nearest even, like the scalar fp16.h. */
#ifndef SL_CONVERT_IMPL_H
#define SL_CONVERT_IMPL_H

#include "kernels/fp16.h"

SV_INLINE void convert_to_f32(int wt, int64_t n, const void *src, float *dst)
{
    const uint16_t *s = src;
    int64_t i = 0;
    for (; i + SV_LANES <= n; i += SV_LANES) sv_store(dst + i, gw_load(wt, (const char *)(s + i)));
    if (i < n) sv_store_part(dst + i, (int)(n - i), gw_load_part(wt, s + i, (int)(n - i)));
}

SV_INLINE void convert_from_f32(int wt, int64_t n, const float *src, void *dst)
{
    uint16_t *d = dst;
    int64_t i = 0;
    for (; i + SV_LANES <= n; i += SV_LANES) {
        if (wt == GW_F16) sv_store_f16(d + i, sv_load(src + i));
        else sv_store_bf16(d + i, sv_load(src + i));
    }
    for (; i < n; i++) d[i] = wt == GW_F16 ? sl_f32_to_f16(src[i]) : sl_f32_to_bf16(src[i]);
}

#endif /* SL_CONVERT_IMPL_H */
