/* simd_exp.h — exp(x) on float lanes, written once over the sv_* vocabulary (included by
 * simd_avx2.h / simd_avx512.h after they define sv_round_ and sv_scale_pow2_).
 *
 * x = n*ln2 + r with n = round(x*log2(e)) and |r| <= ln2/2 (two-constant Cody-Waite
 * reduction), e^r by a degree-7 Taylor polynomial (truncation < 1e-8 relative), then scaled
 * by 2^n in two normal factors so overflow gives inf and underflow is gradual. Inputs are
 * clamped to [-104, 89] first (NaN kept): exp(-inf) = 0, exp(+inf) = inf. Error <= ~2 ulp
 * against expf. */
#ifndef SL_SIMD_EXP_H
#define SL_SIMD_EXP_H

SV_INLINE sv_f32 sv_exp(sv_f32 x)
{
    x = sv_max(sv_set1(-104.0f), x);
    x = sv_min(sv_set1(89.0f), x);
    sv_f32 n = sv_round_(sv_mul(x, sv_set1(1.44269504088896341f)));
    sv_f32 r = sv_fma(n, sv_set1(-0.693359375f), x);        /* ln2 high part, exact n*hi */
    r = sv_fma(n, sv_set1(2.12194440e-4f), r);               /* minus ln2 low part */
    sv_f32 p = sv_set1(1.0f / 5040.0f);
    p = sv_fma(p, r, sv_set1(1.0f / 720.0f));
    p = sv_fma(p, r, sv_set1(1.0f / 120.0f));
    p = sv_fma(p, r, sv_set1(1.0f / 24.0f));
    p = sv_fma(p, r, sv_set1(1.0f / 6.0f));
    p = sv_fma(p, r, sv_set1(0.5f));
    p = sv_fma(p, r, sv_set1(1.0f));
    p = sv_fma(p, r, sv_set1(1.0f));
    return sv_scale_pow2_(p, n);
}

#endif /* SL_SIMD_EXP_H */
