/* gemm_x8_impl.h — q4_0 / q8_0 gemms on X8 weights (rows interleaved in groups of 8, see
 * pack_x8.c) against q8_0 activations. Included by gemm_q_avx2.c after gemm_q0_impl.h, whose
 * activation tables (q0_xtab, fill_xtab), tile sizes and ROWS kernels it reuses.
 *
 * One 32-byte load holds 4 quant bytes of each of the 8 rows (32-bit lane i = row i), so the 4
 * activation bytes they meet are one broadcast, maddubs + madd leave lane i = row i's partial
 * sum, and the 8 scales are one 16-byte load: no horizontal reductions, no scale gathers. Each
 * (row, token) result is the same chain as the ROWS kernels' — acc = fma(float(isum_b),
 * dw_b * dx_b, acc) over blocks in order, integer sums exact — so the two layouts give the same
 * bits. q4_0's int16 partial sums hold 8 products pairs of at most 2 * 15 * 127 (<= 30480).
 *
 * Entry points defined: static gemm_q4_0_x8_impl / gemm_q8_0_x8_impl (the sl_gemm_fn contract). */
#include "quant/pack_x8.h"

/* Bytes ahead of the block being read that the q4_0 / q8_0 tiles prefetch (15 q8_0 block groups,
 * 28 of q4_0). Isolated gemv, 16384x4096 in huge pages, idle machine, GB/s 1T / 2T, no prefetch ->
 * 4 KB ahead: q4_0 8.8 / 15 -> 12 / 22, q8_0 11 / 16 -> 11.5 / 20 (1, 2, 6, 8 KB measured too: 1-2 KB
 * gain less, 4-8 KB alike within the noise; benchmarks: /tmp gemv script in the issue 6 notes). */
#ifndef SL_X8_Q0_AHEAD
#define SL_X8_Q0_AHEAD 4096
#endif

SL_INLINE __m256i bcast4(const uint8_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

SL_INLINE void store8(__m256 acc, float *y, int accumulate)
{
    if (accumulate) acc = _mm256_add_ps(acc, _mm256_loadu_ps(y));
    _mm256_storeu_ps(y, acc);
}

/* 8 rows (one group) x TT tokens of one K chunk; wg: the group's first block of the chunk.
 * VNNI: one vpdpbusd per (chunk, token) with the activation dword broadcast from memory, int32
 * sums straight away; AVX2: maddubs pairs in int16, widened once per block. Same integer sums. */
SL_INLINE void x8_tile_q4_0(const int TT, int64_t nbc, const uint8_t *wg, const uint8_t *x, size_t xs,
                            const q0_xtab *xt, float *y, int64_t ldy, int accumulate)
{
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    __m256 acc[SL_Q_TT];
    SL_UNROLL
    for (int t = 0; t < TT; t++) acc[t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nbc; b++) {
        const uint8_t *blk = wg + (size_t)b * 8 * sizeof(sl_block_q4_0);
        sl_prefetch_bytes(blk + SL_X8_Q0_AHEAD, 8 * sizeof(sl_block_q4_0));
        __m256i s[SL_Q_TT];
        SL_UNROLL
        for (int t = 0; t < TT; t++) s[t] = _mm256_setzero_si256();
        SL_UNROLL
        for (int c = 0; c < 4; c++) {
            const __m256i v = _mm256_loadu_si256((const __m256i *)(blk + 16 + 32 * c));
            const __m256i lo = _mm256_and_si256(v, m4), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
            SL_UNROLL
            for (int t = 0; t < TT; t++) {
                const uint8_t *xb = x + t * xs + (size_t)b * sizeof(sl_block_q8_0) + 2;
#if SL_Q0_VNNI
                s[t] = _mm256_dpbusd_epi32(_mm256_dpbusd_epi32(s[t], lo, bcast4(xb + 4 * c)), hi, bcast4(xb + 16 + 4 * c));
#else
                s[t] = _mm256_add_epi16(s[t], _mm256_add_epi16(_mm256_maddubs_epi16(lo, bcast4(xb + 4 * c)),
                                                               _mm256_maddubs_epi16(hi, bcast4(xb + 16 + 4 * c))));
#endif
            }
        }
        const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)blk));
        SL_UNROLL
        for (int t = 0; t < TT; t++) {
#if SL_Q0_VNNI
            __m256i isum = _mm256_sub_epi32(s[t], _mm256_set1_epi32(xt->b[b].sx8[t]));
#else
            __m256i isum = _mm256_sub_epi32(_mm256_madd_epi16(s[t], _mm256_set1_epi16(1)),
                                            _mm256_set1_epi32(xt->b[b].sx8[t]));
#endif
            __m256 sc = _mm256_mul_ps(dw, _mm256_set1_ps(xt->b[b].dx[t]));
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), sc, acc[t]);
        }
    }
    SL_UNROLL
    for (int t = 0; t < TT; t++) store8(acc[t], y + t * ldy, accumulate);
}

/* VNNI: weights offset to unsigned (w + 128 = w ^ 0x80), the offset taken back through the
 * activation sums (sx128 = 128 * sum x); AVX2: |w| times x signed by w. Same integer sums. */
SL_INLINE void x8_tile_q8_0(const int TT, int64_t nbc, const uint8_t *wg, const uint8_t *x, size_t xs,
                            const q0_xtab *xt, float *y, int64_t ldy, int accumulate)
{
    __m256 acc[SL_Q_TT];
    SL_UNROLL
    for (int t = 0; t < TT; t++) acc[t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nbc; b++) {
        const uint8_t *blk = wg + (size_t)b * 8 * sizeof(sl_block_q8_0);
        sl_prefetch_bytes(blk + SL_X8_Q0_AHEAD, 8 * sizeof(sl_block_q8_0));
        __m256i s[SL_Q_TT];
        SL_UNROLL
        for (int t = 0; t < TT; t++) s[t] = _mm256_setzero_si256();
        SL_UNROLL
        for (int c = 0; c < 8; c++) {
            const __m256i v = _mm256_loadu_si256((const __m256i *)(blk + 16 + 32 * c));
#if SL_Q0_VNNI
            const __m256i uv = _mm256_xor_si256(v, _mm256_set1_epi8((char)0x80));
#else
            const __m256i av = _mm256_abs_epi8(v);
#endif
            SL_UNROLL
            for (int t = 0; t < TT; t++) {
                const __m256i xv = bcast4(x + t * xs + (size_t)b * sizeof(sl_block_q8_0) + 2 + 4 * c);
#if SL_Q0_VNNI
                s[t] = _mm256_dpbusd_epi32(s[t], uv, xv);
#else
                s[t] = _mm256_add_epi32(s[t], _mm256_madd_epi16(_mm256_maddubs_epi16(av, _mm256_sign_epi8(xv, v)),
                                                                _mm256_set1_epi16(1)));
#endif
            }
        }
        const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)blk));
        SL_UNROLL
        for (int t = 0; t < TT; t++) {
#if SL_Q0_VNNI
            const __m256i isum = _mm256_sub_epi32(s[t], _mm256_set1_epi32(xt->b[b].sx8[t]));
#else
            const __m256i isum = s[t];
#endif
            __m256 sc = _mm256_mul_ps(dw, _mm256_set1_ps(xt->b[b].dx[t]));
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), sc, acc[t]);
        }
    }
    SL_UNROLL
    for (int t = 0; t < TT; t++) store8(acc[t], y + t * ldy, accumulate);
}

/* Groups [rb, re) (multiples of 8) x tt tokens of one K chunk. */
SL_INLINE void x8_groups(const int is_q4, int tt, int64_t nbc, const uint8_t *wk, size_t ws, const uint8_t *x,
                         size_t xs, const q0_xtab *xt, float *y, int64_t ldy, int64_t rb, int64_t re, int accumulate)
{
    for (int64_t g = rb; g < re; g += 8) {
        const uint8_t *wg = wk + (size_t)g * ws;
        float *yg = y + g;
#define SL_X8_CASE(TT)                                                                              \
        if (is_q4) x8_tile_q4_0(TT, nbc, wg, x, xs, xt, yg, ldy, accumulate);                      \
        else x8_tile_q8_0(TT, nbc, wg, x, xs, xt, yg, ldy, accumulate)
        SL_TT_DISPATCH(SL_Q_TT, tt, SL_X8_CASE)
#undef SL_X8_CASE
    }
}

SL_INLINE void gemm_x8(const int is_q4, int64_t K, const void *w, size_t ws, const void *x, size_t xs, int64_t T,
                       float *y, int64_t ldy, int64_t r0, int64_t r1)
{
    const int64_t nb = K / SL_QK;
    const size_t bb = is_q4 ? sizeof(sl_block_q4_0) : sizeof(sl_block_q8_0);
    const int64_t rfull = r1 % 8 ? r1 / 8 * 8 : r1;     /* past it: tail rows in the file's layout */
    /* one token tile needs no cache blocking: walk all rows with one activation table */
    const int64_t rowblk = T <= SL_Q_TT ? (rfull - r0 > 8 ? rfull - r0 : 8) : SL_Q_ROWBLK;
    q0_xtab xt;
    for (int64_t kb0 = 0; kb0 < nb; kb0 += SL_Q_NBMAX) {
        const int64_t nbc = nb - kb0 < SL_Q_NBMAX ? nb - kb0 : SL_Q_NBMAX;
        const uint8_t *wk = (const uint8_t *)w + (size_t)kb0 * 8 * bb;   /* group-relative chunk offset */
        const uint8_t *xk = (const uint8_t *)x + (size_t)kb0 * sizeof(sl_block_q8_0);
        for (int64_t tc = 0; tc < T; tc += SL_Q_TCHUNK)
        for (int64_t rb = r0; rb < rfull; rb += rowblk) {
            const int64_t re = rb + rowblk < rfull ? rb + rowblk : rfull;
            const int64_t te = tc + SL_Q_TCHUNK < T ? tc + SL_Q_TCHUNK : T;
            for (int64_t t0 = tc; t0 < te; t0 += SL_Q_TT) {
                const int tt = te - t0 < SL_Q_TT ? (int)(te - t0) : SL_Q_TT;
                const uint8_t *xt0 = xk + (size_t)t0 * xs;
                fill_xtab(&xt, tt, nbc, xt0, xs, is_q4 ? 8 : SL_Q0_VNNI ? 128 : 0);
                x8_groups(is_q4, tt, nbc, wk, ws, xt0, xs, &xt, y + t0 * ldy, ldy, rb, re, kb0 > 0);
            }
        }
    }
    if (rfull < r1) gemm_q0(is_q4, K, w, ws, x, xs, T, y, ldy, rfull, r1);
}

static void gemm_q4_0_x8_impl(int64_t K, const void *w, size_t w_stride, const void *x, size_t x_stride, int64_t T,
                              float *y, int64_t ldy, int64_t r0, int64_t r1)
{
    gemm_x8(1, K, w, w_stride, x, x_stride, T, y, ldy, r0, r1);
}

static void gemm_q8_0_x8_impl(int64_t K, const void *w, size_t w_stride, const void *x, size_t x_stride, int64_t T,
                              float *y, int64_t ldy, int64_t r0, int64_t r1)
{
    gemm_x8(0, K, w, w_stride, x, x_stride, T, y, ldy, r0, r1);
}
