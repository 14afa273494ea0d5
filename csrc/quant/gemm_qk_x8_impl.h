/* gemm_qk_x8_impl.h — q4_K / q6_K gemms on X8 weights (8 rows interleaved per super-block, byte
 * map in pack_x8.c) against q8_K activations. Included by gemm_qk_impl.h after its ROWS kernels,
 * whose activation table (qk_xtab, fill_qk_xtab), tile sizes and ROWS gemm (for the tail rows) it
 * reuses.
 *
 * One 32-byte load holds 4 quant bytes of each of the 8 rows (32-bit lane i = row i), so the
 * activation bytes they meet are one 4-byte broadcast per token, and a sub-block's scales are one
 * vector with lane i = row i's scale (6-bit q4_K scales unpacked for 8 rows at once from 3 loads,
 * q6_K's int8 scales from 4): no horizontal sums, no scale gathers. Integer sums are exact
 * (q4_K: 8 maddubs pairs of <= 2*15*128 per int16 lane; q6_K: 2 pairs of <= 2*63*128), so each
 * (row, token) gets the isum / msum of the ROWS kernel and follows its float chain (see
 * gemm_qk_avx2.c): the two layouts give the same bits.
 *
 * Entry points defined: static gemm_q4_k_x8_impl / gemm_q6_k_x8_impl (the sl_gemm_fn contract). */

#include "quant/x8_vec.h"

#define SL_X8_Q4K_BYTES (8 * sizeof(sl_block_q4_k))   /* one super-block of 8 rows */
#define SL_X8_Q6K_BYTES (8 * sizeof(sl_block_q6_k))
/* Super-blocks of 8 rows to prefetch ahead. The hardware prefetcher alone left the T=1 stream short:
 * 16 matrices 5632x2048 in huge pages, 1 thread, q4_K 13.6 -> 16.5 GB/s, q6_K 13.1 -> 13.9 with 2
 * ahead (1 to 4 measured alike on a busy machine). */
#define SL_X8_PREFETCH 2

/* pshufb masks (the same in each 32-bit lane): byte j zero-extended to int16, twice; bytes j, j+1
 * zero-extended to an int16 pair; int16 i (0, 1) of the lane, twice. */
SL_INLINE xv_i dup_byte_mask(int j)
{
    return xv_bcast128(_mm_setr_epi8(j, -1, j, -1, 4 + j, -1, 4 + j, -1, 8 + j, -1, 8 + j, -1, 12 + j, -1, 12 + j, -1));
}

SL_INLINE xv_i pair_byte_mask(int j)
{
    return xv_bcast128(_mm_setr_epi8(j, -1, j + 1, -1, 4 + j, -1, 5 + j, -1, 8 + j, -1, 9 + j, -1, 12 + j, -1,
                                     13 + j, -1));
}

SL_INLINE xv_i dup_i16_mask(int i)
{
    const char a = (char)(2 * i), b = (char)(2 * i + 1);
    return xv_bcast128(_mm_setr_epi8(a, b, a, b, 4 + a, 4 + b, 4 + a, 4 + b, 8 + a, 8 + b, 8 + a, 8 + b, 12 + a,
                                     12 + b, 12 + a, 12 + b));
}

/* The rows' q4_K scales and mins from their scales[12] bytes in 3 chunks of 4 (u0, u1, u2 of each
 * row, lane = row; see unpack_scale_min): sc[j] lane i = (scale j, scale j) of row i as int16,
 * mn[k] lane i = (min 2k, min 2k+1) of row i. */
SL_INLINE void x8_scales_q4k(const uint8_t *s, size_t gs, xv_i sc[8], xv_i mn[4])
{
    const xv_i u0 = xv_load(s, gs), u1 = xv_load(s + 32, gs), u2 = xv_load(s + 64, gs);
    const xv_i m6 = xv_set1_8(0x3f), m4 = xv_set1_8(0x0f), top = xv_set1_8((char)0xc0);
    const xv_i s03 = xv_and(u0, m6), m03 = xv_and(u1, m6);
    const xv_i s47 = xv_or(xv_and(u2, m4), xv_srli16(xv_and(u0, top), 2));
    const xv_i m47 = xv_or(xv_and(xv_srli16(u2, 4), m4), xv_srli16(xv_and(u1, top), 2));
    SL_UNROLL
    for (int j = 0; j < 4; j++) {
        sc[j] = xv_shuffle8(s03, dup_byte_mask(j));
        sc[4 + j] = xv_shuffle8(s47, dup_byte_mask(j));
    }
    mn[0] = xv_shuffle8(m03, pair_byte_mask(0));
    mn[1] = xv_shuffle8(m03, pair_byte_mask(2));
    mn[2] = xv_shuffle8(m47, pair_byte_mask(0));
    mn[3] = xv_shuffle8(m47, pair_byte_mask(2));
}

/* acc[t] (lane = row) gets one super-block: fma(isum, d*dx) then, q4_K, fnma(msum, dmin*dx). */
SL_INLINE xv_f x8_fold(xv_f acc, xv_i isum, xv_f d, const xv_i *msum, xv_f dmin, const float *dx)
{
    const xv_f vx = xv_bcast_ps(dx);
    acc = xv_fmadd_ps(xv_cvt_ps(isum), xv_mul_ps(d, vx), acc);
    if (msum) acc = xv_fnmadd_ps(xv_cvt_ps(*msum), xv_mul_ps(dmin, vx), acc);
    return acc;
}

SL_INLINE void x8_store(const int TT, const xv_f *acc, float *y, int64_t ldy, size_t gs, int accumulate)
{
    SL_UNROLL
    for (int t = 0; t < TT; t++) xv_store(acc[t], y + t * ldy, gs != 0, accumulate);
}

/* VNNI (AVX-512 build, tiles of 2+ tokens): a sub-block's int32 sums by vpdpbusd, times the scales
 * as int32; else maddubs pairs in int16, madd with the (scale, scale) pairs. The same exact
 * integers. One-token tiles take the maddubs path on AVX-512 too: their vpdpbusd chain is
 * latency-bound (14336x4096 gemv from huge pages, 1 thread: q4_K 25.3 GB/s VNNI, 27.5 maddubs;
 * q6_K 26.9 / 29.6; at 2 tokens VNNI is ahead, 21.9 vs 19.4 q4_K). */
#if SL_QK_VNNI
#define SL_X8_QK_VNNI(TT) ((TT) > 1)
SL_INLINE xv_i x8_dpbusd(xv_i acc, xv_i u, xv_i s) { return xv_dpbusd(acc, u, s); }
#else
#define SL_X8_QK_VNNI(TT) 0
SL_INLINE xv_i x8_dpbusd(xv_i acc, xv_i u, xv_i s) { (void)u; (void)s; return acc; }   /* unused */
#endif

/* isum[t] += the scaled dot of one q4_K super-block of the rows (blk, blk + gs) with token t's q8_K block. */
SL_INLINE void x8_dot_q4k(const int TT, const uint8_t *blk, size_t gs, const xv_i sc[8], const uint8_t *x,
                          size_t xs, int64_t b, xv_i *isum)
{
    const xv_i m4 = xv_set1_8(0x0F);
    const uint8_t *qs = blk + 128;
    const int vnni = SL_X8_QK_VNNI(TT);
    SL_UNROLL
    for (int j = 0; j < 8; j++) {   /* sub-block j: low (j even) or high nibbles of bytes 32 (j/2) .. +31 */
        xv_i s[SL_QK_X8_TT];
        SL_UNROLL
        for (int t = 0; t < TT; t++) s[t] = xv_zero();
        SL_UNROLL
        for (int k = 0; k < 8; k++) {
            const xv_i v = xv_load(qs + 32 * (8 * (j / 2) + k), gs);
            const xv_i q = xv_and(j & 1 ? xv_srli16(v, 4) : v, m4);
            SL_UNROLL
            for (int t = 0; t < TT; t++) {
                const xv_i xa = xv_bcast4(xblock(x, xs, t, b)->qs + 32 * j + 4 * k);
                s[t] = vnni ? x8_dpbusd(s[t], q, xa) : xv_add16(s[t], xv_maddubs(q, xa));
                SL_KEEP(s[t]);
            }
        }
        const xv_i sc32 = xv_and(sc[j], xv_set1_32(0xFFFF));
        SL_UNROLL
        for (int t = 0; t < TT; t++)
            isum[t] = xv_add32(isum[t], vnni ? xv_mullo32(s[t], sc32) : xv_madd16(s[t], sc[j]));
    }
}

/* XV_GROUPS groups of 8 rows (wg, wg + gs) x TT tokens of one K chunk of nbc super-blocks; wg: the
 * first group's first one. */
SL_INLINE void x8_tile_q4k(const int TT, int64_t nbc, const uint8_t *wg, size_t gs, const uint8_t *x, size_t xs,
                           const qk_xtab *xt, float *y, int64_t ldy, int accumulate)
{
    xv_f acc[SL_QK_X8_TT];
    SL_UNROLL
    for (int t = 0; t < TT; t++) acc[t] = xv_fzero();
    for (int64_t b = 0; b < nbc; b++) {
        const uint8_t *blk = wg + (size_t)b * SL_X8_Q4K_BYTES;
        xv_prefetch(blk + SL_X8_PREFETCH * SL_X8_Q4K_BYTES, gs, SL_X8_Q4K_BYTES);
        xv_i sc[8], mn[4], isum[SL_QK_X8_TT];
        x8_scales_q4k(blk + 32, gs, sc, mn);
        SL_UNROLL
        for (int t = 0; t < TT; t++) isum[t] = xv_zero();
        x8_dot_q4k(TT, blk, gs, sc, x, xs, b, isum);
        const xv_f d = xv_load_ph(blk, gs), dmin = xv_load_ph(blk + 16, gs);
        SL_UNROLL
        for (int t = 0; t < TT; t++) {
            const int16_t *bs = xt->bs8[t][b];
            xv_i msum = xv_zero();
            SL_UNROLL
            for (int k = 0; k < 4; k++) msum = xv_add32(msum, xv_madd16(mn[k], xv_bcast4(bs + 2 * k)));
            acc[t] = x8_fold(acc[t], isum[t], d, &msum, dmin, &xt->dx[b][t]);
        }
    }
    x8_store(TT, acc, y, ldy, gs, accumulate);
}

/* The rows' q6_K scales (4 chunks of 4 int8 at s, lane = row) as int16: sv[j] lane i = (scale j,
 * scale j) of row i; and isum[t] = -32 * sum_j scale_j * bsum_j of token t (the q6_K offset). */
SL_INLINE void x8_scales_q6k(const int TT, const uint8_t *s, size_t gs, const uint8_t *x, size_t xs, int64_t b,
                             xv_i sv[16], xv_i *isum)
{
    xv_i pr[8];   /* lane i = (scale 2m, scale 2m+1) of row i */
    SL_UNROLL
    for (int k = 0; k < 4; k++) {
        const xv_i v = xv_load(s + 32 * k, gs);
        const xv_i lo = xv_srai16(xv_slli16(v, 8), 8);   /* scales 4k, 4k+2 */
        const xv_i hi = xv_srai16(v, 8);                 /* scales 4k+1, 4k+3 */
        sv[4 * k] = xv_shuffle8(lo, dup_i16_mask(0));
        sv[4 * k + 1] = xv_shuffle8(hi, dup_i16_mask(0));
        sv[4 * k + 2] = xv_shuffle8(lo, dup_i16_mask(1));
        sv[4 * k + 3] = xv_shuffle8(hi, dup_i16_mask(1));
        pr[2 * k] = xv_blend_odd16(lo, xv_slli32(hi, 16));
        pr[2 * k + 1] = xv_blend_odd16(xv_srli32(lo, 16), hi);
    }
    SL_UNROLL
    for (int t = 0; t < TT; t++) {
        const int16_t *bs = xblock(x, xs, t, b)->bsums;
        xv_i o = xv_zero();
        SL_UNROLL
        for (int m = 0; m < 8; m++) o = xv_add32(o, xv_madd16(pr[m], xv_bcast4(bs + 2 * m)));
        isum[t] = xv_sub32(xv_zero(), xv_slli32(o, 5));
    }
}

/* Values of group g (0..3) of one 96-byte step: 4 values of each row. */
SL_INLINE xv_i x8_q6_values(const uint8_t *step, size_t gs, int g)
{
    const xv_i m4 = xv_set1_8(0x0F), m2 = xv_set1_8(0x30);
    const xv_i l = xv_load(step + 32 * (g & 1), gs);
    const xv_i hb = xv_load(step + 64, gs);
    const xv_i lo = xv_and(g >= 2 ? xv_srli16(l, 4) : l, m4);
    xv_i hi = hb;   /* group g's high bits are bits 2g, 2g+1 of each qh byte: move them to 4, 5 */
    if (g == 0) hi = xv_slli16(hb, 4);
    else if (g == 1) hi = xv_slli16(hb, 2);
    else if (g == 3) hi = xv_srli16(hb, 2);
    return xv_or(lo, xv_and(hi, m2));
}

/* The VNNI form: p = 2u, 2u + 1 share sub-block 8c + 2g + u, so their four vpdpbusd sums meet the
 * scale (as int32) once. */
SL_INLINE void x8_dot_q6k_vnni(const int TT, const uint8_t *blk, size_t gs, const xv_i sv[16], const uint8_t *x,
                               size_t xs, int64_t b, xv_i *isum)
{
    SL_UNROLL
    for (int c = 0; c < 2; c++) {
        SL_UNROLL
        for (int g = 0; g < 4; g++) {
            SL_UNROLL
            for (int u = 0; u < 2; u++) {
                xv_i s[SL_QK_X8_TT];
                SL_UNROLL
                for (int t = 0; t < TT; t++) s[t] = xv_zero();
                SL_UNROLL
                for (int p = 2 * u; p < 2 * u + 2; p++) {
                    const uint8_t *step = blk + 144 + 96 * (8 * c + 2 * p);
                    const xv_i qa = x8_q6_values(step, gs, g), qb = x8_q6_values(step + 96, gs, g);
                    SL_UNROLL
                    for (int t = 0; t < TT; t++) {
                        const int8_t *xq = xblock(x, xs, t, b)->qs + 128 * c + 32 * g + 8 * p;
                        s[t] = x8_dpbusd(x8_dpbusd(s[t], qa, xv_bcast4(xq)), qb, xv_bcast4(xq + 4));
                        SL_KEEP(s[t]);
                    }
                }
                const xv_i sv32 = xv_srai32(xv_slli32(sv[8 * c + 2 * g + u], 16), 16);
                SL_UNROLL
                for (int t = 0; t < TT; t++) isum[t] = xv_add32(isum[t], xv_mullo32(s[t], sv32));
            }
        }
    }
}

/* The maddubs form: int16 pair sums of two value groups, madd with the (scale, scale) pairs. */
SL_INLINE void x8_dot_q6k_pairs(const int TT, const uint8_t *blk, size_t gs, const xv_i sv[16], const uint8_t *x,
                                size_t xs, int64_t b, xv_i *isum)
{
    SL_UNROLL
    for (int c = 0; c < 2; c++) {
        SL_UNROLL
        for (int p = 0; p < 4; p++) {
            const uint8_t *step = blk + 144 + 96 * (8 * c + 2 * p);
            SL_UNROLL
            for (int g = 0; g < 4; g++) {
                const xv_i qa = x8_q6_values(step, gs, g), qb = x8_q6_values(step + 96, gs, g);
                SL_UNROLL
                for (int t = 0; t < TT; t++) {
                    const int8_t *xq = xblock(x, xs, t, b)->qs + 128 * c + 32 * g + 8 * p;
                    const xv_i s16 = xv_add16(xv_maddubs(qa, xv_bcast4(xq)), xv_maddubs(qb, xv_bcast4(xq + 4)));
                    isum[t] = xv_add32(isum[t], xv_madd16(s16, sv[8 * c + 2 * g + p / 2]));
                    SL_KEEP(isum[t]);
                }
            }
        }
    }
}

/* isum[t] += the scaled dot of one q6_K super-block of the rows (blk, blk + gs) with token t's q8_K
 * block. For value chunk c (128 values) and p (values 8p .. 8p+7 of each group of 32): steps
 * 8c + 2p + h (h = 0, 1; ql chunks 16c + 2p + h, 16c + 8 + 2p + h, qh chunk 8c + 2p + h) give the
 * values of groups g = 0..3, which meet activations 128c + 32g + 8p + 4h and are in sub-block
 * 8c + 2g + p/2. Both forms give the same exact integers. */
SL_INLINE void x8_dot_q6k(const int TT, const uint8_t *blk, size_t gs, const xv_i sv[16], const uint8_t *x,
                          size_t xs, int64_t b, xv_i *isum)
{
    if (SL_X8_QK_VNNI(TT)) x8_dot_q6k_vnni(TT, blk, gs, sv, x, xs, b, isum);
    else x8_dot_q6k_pairs(TT, blk, gs, sv, x, xs, b, isum);
}

SL_INLINE void x8_tile_q6k(const int TT, int64_t nbc, const uint8_t *wg, size_t gs, const uint8_t *x, size_t xs,
                           const qk_xtab *xt, float *y, int64_t ldy, int accumulate)
{
    xv_f acc[SL_QK_X8_TT];
    SL_UNROLL
    for (int t = 0; t < TT; t++) acc[t] = xv_fzero();
    for (int64_t b = 0; b < nbc; b++) {
        const uint8_t *blk = wg + (size_t)b * SL_X8_Q6K_BYTES;
        xv_prefetch(blk + SL_X8_PREFETCH * SL_X8_Q6K_BYTES, gs, SL_X8_Q6K_BYTES);
        xv_i sv[16], isum[SL_QK_X8_TT];
        x8_scales_q6k(TT, blk + 16, gs, x, xs, b, sv, isum);
        x8_dot_q6k(TT, blk, gs, sv, x, xs, b, isum);
        const xv_f d = xv_load_ph(blk, gs);
        SL_UNROLL
        for (int t = 0; t < TT; t++) acc[t] = x8_fold(acc[t], isum[t], d, NULL, d, &xt->dx[b][t]);
    }
    x8_store(TT, acc, y, ldy, gs, accumulate);
}

/* Groups [rb, re) (multiples of 8) x tt tokens of one K chunk, XV_GROUPS groups per tile. */
SL_INLINE void x8_qk_groups(const int kind, int tt, int64_t nbc, const uint8_t *wk, size_t ws, const uint8_t *x,
                            size_t xs, const qk_xtab *xt, float *y, int64_t ldy, int64_t rb, int64_t re, int accumulate)
{
    const int pair = XV_GROUPS == 2 && tt > 1;
    for (int64_t g = rb; g < re; g += pair ? 16 : 8) {
        const uint8_t *wg = wk + (size_t)g * ws;
        const size_t gs = pair && g + 8 < re ? 8 * ws : 0;
#define SL_X8_QK_CASE(TT)                                                                         \
        if (kind == 4) x8_tile_q4k(TT, nbc, wg, gs, x, xs, xt, y + g, ldy, accumulate);          \
        else x8_tile_q6k(TT, nbc, wg, gs, x, xs, xt, y + g, ldy, accumulate)
        SL_TT_DISPATCH(SL_QK_X8_TT, tt, SL_X8_QK_CASE)
#undef SL_X8_QK_CASE
    }
}

/* The blocking of gemm_qk (K chunks of SL_QK_NBMAX, so the same chains), on groups of 8 rows; the
 * rows past r1's last full group are in the file's layout and go to gemm_qk. */
SL_INLINE void gemm_qk_x8(const int kind, int64_t K, const void *w, size_t ws, const void *x, size_t xs, int64_t T,
                          float *y, int64_t ldy, int64_t r0, int64_t r1)
{
    const int64_t nb = K / SL_QK_K;
    const size_t gb = kind == 4 ? SL_X8_Q4K_BYTES : SL_X8_Q6K_BYTES;
    const int64_t rfull = r1 % 8 ? r1 / 8 * 8 : r1;
    /* one token tile needs no cache blocking: walk all rows with one activation table */
    const int64_t rowblk = T <= SL_QK_X8_TT ? (rfull - r0 > 8 ? rfull - r0 : 8) : SL_QK_ROWBLK;
    qk_xtab xt;
    for (int64_t kb0 = 0; kb0 < nb; kb0 += SL_QK_NBMAX) {
        const int64_t nbc = nb - kb0 < SL_QK_NBMAX ? nb - kb0 : SL_QK_NBMAX;
        const uint8_t *wk = (const uint8_t *)w + (size_t)kb0 * gb;   /* group-relative chunk offset */
        const uint8_t *xk = (const uint8_t *)x + (size_t)kb0 * sizeof(sl_block_q8_k);
        for (int64_t tc = 0; tc < T; tc += SL_QK_TCHUNK)
        for (int64_t rb = r0; rb < rfull; rb += rowblk) {
            const int64_t re = rb + rowblk < rfull ? rb + rowblk : rfull;
            const int64_t te = tc + SL_QK_TCHUNK < T ? tc + SL_QK_TCHUNK : T;
            for (int64_t t0 = tc; t0 < te; t0 += SL_QK_X8_TT) {
                const int tt = te - t0 < SL_QK_X8_TT ? (int)(te - t0) : SL_QK_X8_TT;
                const uint8_t *xt0 = xk + (size_t)t0 * xs;
                fill_qk_xtab(&xt, tt, nbc, xt0, xs, kind == 4);
                x8_qk_groups(kind, tt, nbc, wk, ws, xt0, xs, &xt, y + t0 * ldy, ldy, rb, re, kb0 > 0);
            }
        }
    }
    if (rfull < r1) gemm_qk(kind, K, w, ws, x, xs, T, y, ldy, rfull, r1);
}

static void gemm_q4_k_x8_impl(int64_t K, const void *w, size_t ws, const void *x, size_t xs, int64_t T, float *y,
                              int64_t ldy, int64_t r0, int64_t r1)
{
    gemm_qk_x8(4, K, w, ws, x, xs, T, y, ldy, r0, r1);
}

static void gemm_q6_k_x8_impl(int64_t K, const void *w, size_t ws, const void *x, size_t xs, int64_t T, float *y,
                              int64_t ldy, int64_t r0, int64_t r1)
{
    gemm_qk_x8(6, K, w, ws, x, xs, T, y, ldy, r0, r1);
}
