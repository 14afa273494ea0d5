/* gemm_x8_impl.h — q4_0 / q8_0 gemms on X8 weights (rows interleaved in groups of 8, see
 * pack_x8.c) against q8_0 activations. Included by gemm_q_avx2.c after gemm_q0_impl.h, whose
 * activation tables (q0_xent, fill_xtabs), tile sizes and ROWS kernels it reuses.
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
#include "quant/x8_vec.h"

/* Bytes ahead of the block being read that the q4_0 / q8_0 tiles prefetch (15 q8_0 block groups,
 * 28 of q4_0). Isolated gemv, 16384x4096 in huge pages, idle machine, GB/s 1T / 2T, no prefetch ->
 * 4 KB ahead: q4_0 8.8 / 15 -> 12 / 22, q8_0 11 / 16 -> 11.5 / 20 (1, 2, 6, 8 KB measured too: 1-2 KB
 * gain less, 4-8 KB alike within the noise; benchmarks: /tmp gemv script in the issue 6 notes). */
#ifndef SL_X8_Q0_AHEAD
#define SL_X8_Q0_AHEAD 4096
#endif

/* One tile: RV row vectors (v at wg + 2 * v * gs; RV = 2 only in the 512-bit build) of XV_GROUPS
 * groups of 8 rows (wg, and wg + gs when gs != 0) x TT tokens (tokens tx.. of the activation
 * table) of one K chunk; wg: the first group's first block of the chunk. VNNI: one vpdpbusd per
 * (chunk, token, vector) with the activation dword broadcast from memory, int32 sums starting at
 * -8 * sum x; AVX2: maddubs pairs in int16, widened once per block. Same integer sums. */
SL_INLINE void x8_tile_q4_0(const int RV, const int TT, int64_t nbc, const uint8_t *wg, size_t gs, const uint8_t *x,
                            size_t xs, const q0_xent *xt, int tx, float *y, int64_t ldy, int accumulate)
{
    const xv_i m4 = xv_set1_8(0x0F);
    xv_f acc[2][SL_Q_TT];
    SL_UNROLL
    for (int v = 0; v < RV; v++)
        SL_UNROLL
        for (int t = 0; t < TT; t++) acc[v][t] = xv_fzero();
    for (int64_t b = 0; b < nbc; b++) {
        const uint8_t *blk = wg + (size_t)b * 8 * sizeof(sl_block_q4_0);
        if (RV == 1) xv_prefetch(blk + SL_X8_Q0_AHEAD, gs, 8 * sizeof(sl_block_q4_0));
        xv_i s[2][SL_Q_TT];
        SL_UNROLL
        for (int t = 0; t < TT; t++)
            SL_UNROLL
            for (int v = 0; v < RV; v++) s[v][t] = SL_Q0_VNNI ? xv_set1_32(-xt[b].sx8[tx + t]) : xv_zero();
        SL_UNROLL
        for (int c = 0; c < 4; c++) {
            xv_i lo[2], hi[2];
            SL_UNROLL
            for (int v = 0; v < RV; v++) {
                const xv_i q = xv_load(blk + 2 * v * gs + 16 + 32 * c, gs);
                lo[v] = xv_and(q, m4), hi[v] = xv_and(xv_srli16(q, 4), m4);
            }
            SL_UNROLL
            for (int t = 0; t < TT; t++) {
                const uint8_t *xb = x + t * xs + (size_t)b * sizeof(sl_block_q8_0) + 2;
                const xv_i xl = xv_bcast4(xb + 4 * c), xh = xv_bcast4(xb + 16 + 4 * c);
                SL_UNROLL
                for (int v = 0; v < RV; v++)
#if SL_Q0_VNNI
                    s[v][t] = xv_dpbusd(xv_dpbusd(s[v][t], lo[v], xl), hi[v], xh);
#else
                    s[v][t] = xv_add16(s[v][t], xv_add16(xv_maddubs(lo[v], xl), xv_maddubs(hi[v], xh)));
#endif
            }
        }
        SL_UNROLL
        for (int v = 0; v < RV; v++) {
            const xv_f dw = xv_load_ph(blk + 2 * v * gs, gs);
            SL_UNROLL
            for (int t = 0; t < TT; t++) {
#if SL_Q0_VNNI
                const xv_i isum = s[v][t];
#else
                const xv_i isum = xv_sub32(xv_madd16(s[v][t], xv_set1_16(1)), xv_set1_32(xt[b].sx8[tx + t]));
#endif
                const xv_f sc = xv_mul_ps(dw, xv_bcast_ps(&xt[b].dx[tx + t]));
                acc[v][t] = xv_fmadd_ps(xv_cvt_ps(isum), sc, acc[v][t]);
            }
        }
    }
    SL_UNROLL
    for (int v = 0; v < RV; v++)
        SL_UNROLL
        for (int t = 0; t < TT; t++) xv_store(acc[v][t], y + t * ldy + 16 * v, gs != 0, accumulate);
}

/* VNNI: weights offset to unsigned (w + 128 = w ^ 0x80), the offset taken back through the
 * activation sums (the int32 sums start at -sx128 = -128 * sum x); AVX2: |w| times x signed by w.
 * Same integer sums. A one-token tile keeps two chains of vpdpbusd (even and odd chunks, added
 * exactly at the end): one chain of 8 is bound by their latency.
 * RV row vectors (wg + 2 * v * gs, 512-bit build only: RV * 16 rows) x TT tokens, tokens tx.. of
 * the activation table. Each activation broadcast feeds RV vpdpbusd: with RV = 1 a broadcast, a
 * weight insert and an xor per vpdpbusd pair kept ports 0 / 5 busy beside them (llvm-mca, Ice
 * Lake server); RV = 2 x 4 tokens, in-core (tile data in L1 / L2), 1 thread: 118 -> 156 GMAC/s. */
SL_INLINE void x8_tile_q8_0(const int RV, const int TT, int64_t nbc, const uint8_t *wg, size_t gs, const uint8_t *x,
                            size_t xs, const q0_xent *xt, int tx, float *y, int64_t ldy, int accumulate)
{
    xv_f acc[2][SL_Q_TT];
    SL_UNROLL
    for (int v = 0; v < RV; v++)
        SL_UNROLL
        for (int t = 0; t < TT; t++) acc[v][t] = xv_fzero();
    for (int64_t b = 0; b < nbc; b++) {
        const uint8_t *blk = wg + (size_t)b * 8 * sizeof(sl_block_q8_0);
        if (RV == 1) xv_prefetch(blk + SL_X8_Q0_AHEAD, gs, 8 * sizeof(sl_block_q8_0));
        xv_i s[2][SL_Q_TT], s1 = xv_zero();
        SL_UNROLL
        for (int t = 0; t < TT; t++)
            SL_UNROLL
            for (int v = 0; v < RV; v++) s[v][t] = SL_Q0_VNNI ? xv_set1_32(-xt[b].sx8[tx + t]) : xv_zero();
        SL_UNROLL
        for (int c = 0; c < 8; c++) {
            xv_i wv[2];
            SL_UNROLL
            for (int v = 0; v < RV; v++) {
                const xv_i q = xv_load(blk + 2 * v * gs + 16 + 32 * c, gs);
#if SL_Q0_VNNI
                wv[v] = xv_xor(q, xv_set1_8((char)0x80));
#else
                wv[v] = q;
#endif
            }
#if !SL_Q0_VNNI
            const __m256i av = _mm256_abs_epi8(wv[0]);
#endif
            SL_UNROLL
            for (int t = 0; t < TT; t++) {
                const xv_i xa = xv_bcast4(x + t * xs + (size_t)b * sizeof(sl_block_q8_0) + 2 + 4 * c);
#if SL_Q0_VNNI
                if (RV == 1 && TT == 1 && c % 2) s1 = xv_dpbusd(s1, wv[0], xa);
                else
                    SL_UNROLL
                    for (int v = 0; v < RV; v++) s[v][t] = xv_dpbusd(s[v][t], wv[v], xa);
#else
                s[0][t] = xv_add32(s[0][t], sl_dot_i8_pairs(av, _mm256_sign_epi8(xa, wv[0])));
#endif
            }
        }
        SL_UNROLL
        for (int v = 0; v < RV; v++) {
            const xv_f dw = xv_load_ph(blk + 2 * v * gs, gs);
            SL_UNROLL
            for (int t = 0; t < TT; t++) {
                const xv_i isum = RV == 1 && TT == 1 && SL_Q0_VNNI ? xv_add32(s[v][0], s1) : s[v][t];
                const xv_f sc = xv_mul_ps(dw, xv_bcast_ps(&xt[b].dx[tx + t]));
                acc[v][t] = xv_fmadd_ps(xv_cvt_ps(isum), sc, acc[v][t]);
            }
        }
        (void)s1;
    }
    SL_UNROLL
    for (int v = 0; v < RV; v++)
        SL_UNROLL
        for (int t = 0; t < TT; t++) xv_store(acc[v][t], y + t * ldy + 16 * v, gs != 0, accumulate);
}

/* 512-bit VNNI, more than one token: tiles of 32 rows x 4 tokens from group g while they last;
 * returns the first group left. */
SL_INLINE int64_t x8_quads(const int is_q4, int tt, int64_t nbc, const uint8_t *wk, size_t ws, const uint8_t *x,
                           size_t xs, const q0_xent *xt, float *y, int64_t ldy, int64_t g, int64_t re, int accumulate)
{
#if SL_Q0_VNNI && XV_GROUPS == 2
    for (; g + 32 <= re; g += 32)
        for (int t4 = 0; t4 < tt; t4 += 4) {
            const uint8_t *wg = wk + (size_t)g * ws, *xq = x + t4 * xs;
            float *yq = y + t4 * ldy + g;
#define SL_X8_QUAD(TT)                                                                                \
            if (is_q4) x8_tile_q4_0(2, TT, nbc, wg, 8 * ws, xq, xs, xt, t4, yq, ldy, accumulate);  \
            else x8_tile_q8_0(2, TT, nbc, wg, 8 * ws, xq, xs, xt, t4, yq, ldy, accumulate)
            SL_TT_DISPATCH(4, tt - t4, SL_X8_QUAD)
#undef SL_X8_QUAD
        }
#endif
    return g;
}

/* Groups [rb, re) (multiples of 8) x tt tokens of one K chunk, XV_GROUPS groups per tile. */
SL_INLINE void x8_groups(const int is_q4, int tt, int64_t nbc, const uint8_t *wk, size_t ws, const uint8_t *x,
                         size_t xs, const q0_xent *xt, float *y, int64_t ldy, int64_t rb, int64_t re, int accumulate)
{
    const int pair = XV_GROUPS == 2 && tt > 1;
    int64_t g = rb;
    if (tt > 1) g = x8_quads(is_q4, tt, nbc, wk, ws, x, xs, xt, y, ldy, g, re, accumulate);
    for (; g < re; g += pair ? 16 : 8) {
        const uint8_t *wg = wk + (size_t)g * ws;
        const size_t gs = pair && g + 8 < re ? 8 * ws : 0;
        float *yg = y + g;
#define SL_X8_CASE(TT)                                                                              \
        if (is_q4) x8_tile_q4_0(1, TT, nbc, wg, gs, x, xs, xt, 0, yg, ldy, accumulate);            \
        else x8_tile_q8_0(1, TT, nbc, wg, gs, x, xs, xt, 0, yg, ldy, accumulate)
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
    q0_xent xt[SL_Q_NBMAX];
    for (int64_t kb0 = 0; kb0 < nb; kb0 += SL_Q_NBMAX) {
        const int64_t nbc = nb - kb0 < SL_Q_NBMAX ? nb - kb0 : SL_Q_NBMAX, tchunk = xtab_tokens(nbc);
        const uint8_t *wk = (const uint8_t *)w + (size_t)kb0 * 8 * bb;   /* group-relative chunk offset */
        const uint8_t *xk = (const uint8_t *)x + (size_t)kb0 * sizeof(sl_block_q8_0);
        for (int64_t tc = 0; tc < T; tc += tchunk) {
            const int64_t te = tc + tchunk < T ? tc + tchunk : T;
            fill_xtabs(xt, tc, te, nbc, xk + (size_t)tc * xs, xs, is_q4 ? 8 : SL_Q0_VNNI ? 128 : 0);
            for (int64_t rb = r0; rb < rfull; rb += rowblk) {
                const int64_t re = rb + rowblk < rfull ? rb + rowblk : rfull;
                for (int64_t t0 = tc, i = 0; t0 < te; t0 += SL_Q_TT, i++) {
                    const int tt = te - t0 < SL_Q_TT ? (int)(te - t0) : SL_Q_TT;
                    x8_groups(is_q4, tt, nbc, wk, ws, xk + (size_t)t0 * xs, xs, xt + i * nbc, y + t0 * ldy, ldy, rb, re,
                              kb0 > 0);
                }
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
