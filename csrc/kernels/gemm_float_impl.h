/* gemm_float_impl.h — the gemm for float weights (f32 / f16 / bf16) against f32 activations,
 * written once over the sv_* vocabulary (include simd_avx2.h or simd_avx512.h first). The
 * ISA files instantiate it per weight type: gemm_f32_<isa>.c, gemm_f16_<isa>.c.
 *
 * Y[t*ldy + r] = sum_k W[r, k] * X[t, k] in "dot product" form, on the weights in place:
 *   - a register tile of R weight rows x C tokens keeps one vector accumulator per output
 *     (lane j sums k = j mod SV_LANES), so each weight vector is loaded once per C tokens and
 *     each activation vector once per R rows;
 *   - K is cut into blocks of SL_GEMM_KC; at the end of a block the accumulators are reduced
 *     (fixed tree, sv_reduce) and added to Y. Every output is therefore the same sequence of
 *     operations whatever the tile shape, the row range, T or the thread count: results are
 *     bit-identical across thread splits and between a token in a batch and the same token
 *     alone (for one ISA level);
 *   - cache blocking: a panel of TB tokens x KG columns of X (<= SL_GEMM_XPANEL bytes) stays
 *     in L2 while all rows [r0, r1) pass over it; for decode (small T) the whole of X fits and
 *     each row tile streams its K weights once;
 *   - with many tokens, a 16-bit K block of 8 rows is widened to f32 once (gemm_widen) and the
 *     token tiles read that copy from L1.
 */
#ifndef SL_GEMM_FLOAT_IMPL_H
#define SL_GEMM_FLOAT_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SL_GEMM_KC 512                 /* K block (elements): fixes the summation order */
/* X panel: up to SL_GEMM_TB_MAX tokens x the columns that fit SL_GEMM_XPANEL bytes (at least one K
 * block), kept in L2 while the rows pass over it; each panel re-reads the weights, so the more
 * tokens the fewer passes (f16 / f32 X8, A/B in one process, TB_MAX / XPANEL 24 / 192 KiB ->
 * 192 / 384 KiB: Ice Lake 1 thread 1.13-1.30x, 2 threads 1.15-1.29x, its AVX2 path 1.16-1.36x at
 * 5632x2048 T = 64, 512 and 14336x4096 T = 128; 96 / 192 KiB fell between). */
#define SL_GEMM_XPANEL (384 * 1024)
#define SL_GEMM_TB_MAX 192

enum { GW_F32, GW_F16, GW_BF16 };

/* Register tiles of SV_TILE_R rows x SV_TILE_C tokens: 4 x 3 with AVX2's 16 registers, 8 x 3 with
 * AVX-512's 32 (f16 gemm 5632x2048, 1 thread, Zen 5, GFLOP/s at T = 80 / 512, R x C: 4 x 3 158 /
 * 180, 6 x 4 169 / 187, 12 x 2 155 / 164, 8 x 3 185 / 205). Any tile gives every output the same
 * sums in the same order. */

/* The weight matrix: base, bytes per row, layout (x8: kernels.h; the rows past the last full
 * group of an X8 matrix are in the file's layout and come with x8 = 0). wide: one K block of 16-bit
 * weights widened to f32 by gemm_widen (x8 = 0, rows ws bytes apart). */
typedef struct gw_mat {
    const char *w;
    size_t ws;
    int x8, wide;
} gw_mat;

/* Value k of row r is at gw_row(m, r) + gw_koff(m, k): the row's start (ROWS) or its place in its
 * group (X8), and the offset of value k from there. */
SV_INLINE const char *gw_row(int wt, gw_mat m, int64_t r)
{
    const size_t e = wt == GW_F32 ? 4 : 2;
    return m.x8 ? sl_x8_float_row(m.w, m.ws, e, r) : m.w + (size_t)r * m.ws;
}

SV_INLINE size_t gw_koff(int wt, gw_mat m, int64_t k)
{
    const size_t e = wt == GW_F32 || m.wide ? 4 : 2;
    return m.x8 ? sl_x8_float_koff(e, k) : (size_t)k * e;
}

SV_INLINE sv_f32 gw_load(int wt, const char *p)
{
    switch (wt) {
    case GW_F16: return sv_load_f16((const uint16_t *)p);
    case GW_BF16: return sv_load_bf16((const uint16_t *)p);
    default: return sv_load((const float *)p);
    }
}

/* The first n < SV_LANES values of a 16-bit weight type at p. */
SV_INLINE sv_f32 gw_load_part(int wt, const uint16_t *p, int n)
{
    return wt == GW_F16 ? sv_load_f16_part(p, n) : sv_load_bf16_part(p, n);
}

/* acc[i][c] += W[row i, k..k+SV_LANES) * X[c, k..k+SV_LANES) (rows at rw[i] + ko, token rows at
 * x + c*xs + k; wide: the rows hold f32 from gemm_widen). A step never leaves an X8 block
 * (SV_LANES divides SL_X8_FLOAT_BLOCK). Each weight vector is held in a register for its C FMAs. */
SV_INLINE void gemm_step(int wt, int wide, int R, int C, int64_t k, const char *const rw[8], size_t ko,
                         const char *x, size_t xs, sv_f32 acc[8][SV_TILE_C])
{
    sv_f32 xv[SV_TILE_C];
    for (int c = 0; c < C; c++) xv[c] = sv_load((const float *)(x + c * xs) + k);
    for (int i = 0; i < R; i++) {
        const char *p = rw[i] + ko;
        sv_f32 wv = sv_in_reg(wide ? sv_load((const float *)p) : gw_load(wt, p));
        for (int c = 0; c < C; c++) acc[i][c] = sv_fma(wv, xv[c], acc[i][c]);
    }
}

/* The last n < SV_LANES columns (file layout only: X8 needs K a multiple of its block; never
 * wide): copied into zero-padded buffers, then one ordinary step. */
SV_INLINE void gemm_step_tail(int wt, int R, int C, int64_t k, int n, const char *const rw[8], size_t ko,
                              const char *x, size_t xs, sv_f32 acc[8][SV_TILE_C])
{
    float xb[SV_TILE_C][SV_LANES];
    uint32_t wb[8][SV_LANES];   /* room for SV_LANES values of any weight type */
    const char *wbr[8];
    size_t esize = wt == GW_F32 ? 4 : 2;
    memset(xb, 0, sizeof xb);
    memset(wb, 0, sizeof wb);
    for (int c = 0; c < C; c++) memcpy(xb[c], (const float *)(x + c * xs) + k, (size_t)n * 4);
    for (int i = 0; i < R; i++) {
        memcpy(wb[i], rw[i] + ko, (size_t)n * esize);
        wbr[i] = (const char *)wb[i];
    }
    gemm_step(wt, 0, R, C, 0, wbr, 0, (const char *)xb, sizeof xb[0], acc);
}

/* One register tile over k in [k0, k1) (k1 - k0 <= SL_GEMM_KC): R rows from row r of m x C tokens
 * from x (xs bytes apart); sums go to y[c*ldy + i] (stored when first). */
SV_INLINE void gemm_tile(int wt, int R, int C, int64_t k0, int64_t k1, gw_mat m, int64_t r, const char *x,
                         size_t xs, float *y, int64_t ldy, int first)
{
    sv_f32 acc[8][SV_TILE_C];
    const char *rw[8];
    for (int i = 0; i < R; i++) {
        rw[i] = gw_row(wt, m, r + i);
        for (int c = 0; c < C; c++) acc[i][c] = sv_zero();
    }
    int64_t k = k0;
    for (; k + SV_LANES <= k1; k += SV_LANES)
        gemm_step(wt, m.wide, R, C, k, rw, gw_koff(wt, m, k), x, xs, acc);
    if (k < k1) gemm_step_tail(wt, R, C, k, (int)(k1 - k), rw, gw_koff(wt, m, k), x, xs, acc);
    for (int c = 0; c < C; c++) {
        float *yc = y + c * ldy;
        int i = 0;
        for (; i + 8 <= R; i += 8) {
            const sv_f32 v[8] = {acc[i][c], acc[i + 1][c], acc[i + 2][c], acc[i + 3][c],
                                 acc[i + 4][c], acc[i + 5][c], acc[i + 6][c], acc[i + 7][c]};
            sv_reduce8_into(v, yc + i, first);
        }
        for (; i + 4 <= R; i += 4)
            sv_reduce4_into(acc[i][c], acc[i + 1][c], acc[i + 2][c], acc[i + 3][c], yc + i, first);
        for (; i < R; i++) {
            float s = sv_reduce(acc[i][c]);
            yc[i] = first ? s : yc[i] + s;
        }
    }
}

/* The R rows from row r x C tokens from token t of one K block, as tiles of RT rows; yr: Y's
 * column of row r. */
SV_INLINE void gemm_tiles(int wt, int R, int RT, int C, int64_t kc, int64_t ke, gw_mat m, int64_t r, int64_t t,
                          const char *x, size_t xs, float *yr, int64_t ldy, int first)
{
    for (int h = 0; h < R; h += RT)
        gemm_tile(wt, RT, C, kc, ke, m, r + h, x + (size_t)t * xs, xs, yr + t * ldy + h, ldy, first);
}

/* The R rows from row r of one K block over tokens [t0, t1): tiles of RT rows x SV_TILE_C tokens,
 * then the 2 or 1 tokens left. */
SV_INLINE void gemm_tokens(int wt, int R, int RT, int64_t kc, int64_t ke, gw_mat m, int64_t r, int64_t t0,
                           int64_t t1, const char *x, size_t xs, float *yr, int64_t ldy, int first)
{
    int64_t t = t0;
    for (; t + SV_TILE_C <= t1; t += SV_TILE_C)
        gemm_tiles(wt, R, RT, SV_TILE_C, kc, ke, m, r, t, x, xs, yr, ldy, first);
    if (t1 - t == 2) gemm_tiles(wt, R, RT, 2, kc, ke, m, r, t, x, xs, yr, ldy, first);
    else if (t1 - t == 1) gemm_tiles(wt, R, RT, 1, kc, ke, m, r, t, x, xs, yr, ldy, first);
}

/* Tokens from which a 16-bit K block is widened to f32 once and its tiles read that copy, so the
 * conversions are paid once per R rows and K block instead of once per token tile (Ice Lake
 * AVX-512, 1 thread, f16 / bf16 2048x2048: T = 6 0.84x, T = 12 1.0x, T = 24-512 1.17-1.27x). */
#define GW_WIDEN_MIN_T (4 * SV_TILE_C)

/* Rows [r, r + R) x columns [kc, ke) of m (16-bit) as f32 into buf (row i at buf + i*SL_GEMM_KC).
 * Exact, so the sums and their order are those of reading the 16-bit weights. */
SV_INLINE void gemm_widen(int wt, int R, gw_mat m, int64_t r, int64_t kc, int64_t ke, float *buf)
{
    for (int i = 0; i < R; i++) {
        const char *row = gw_row(wt, m, r + i);
        float *b = buf + (size_t)i * SL_GEMM_KC;
        for (int64_t k = kc; k < ke; k += SV_LANES) sv_store(b + (k - kc), gw_load(wt, row + gw_koff(wt, m, k)));
    }
}

/* Tiles of R rows starting at row r, over tokens [t0, t1) and k in [k0, k1) in KC blocks. R may be
 * 8 on a 4-row ISA: one token runs as one 8-row tile (8 rows in flight hide the FMA latency), more
 * as both 4-row halves per token tile, so an X8 group's K block is read whole while it is in L1.
 * Many tokens of 16-bit weights: each K block is widened once (gemm_widen) and the tiles read it. */
SV_INLINE void gemm_rows(int wt, int R, int64_t r, int64_t t0, int64_t t1, int64_t k0, int64_t k1, gw_mat m,
                         const char *x, size_t xs, float *y, int64_t ldy)
{
    const int RT = R < SV_TILE_R ? R : SV_TILE_R;    /* a constant: R and RT must fold for the registers */
    _Alignas(64) float wbuf[wt == GW_F32 ? 1 : 8 * SL_GEMM_KC];
    for (int64_t kc = k0; kc < k1; kc += SL_GEMM_KC) {
        int64_t ke = k1 - kc < SL_GEMM_KC ? k1 : kc + SL_GEMM_KC;
        int first = kc == 0;
        if (t1 - t0 == 1 && R > SV_TILE_R) {
            gemm_tiles(wt, R, R, 1, kc, ke, m, r, t0, x, xs, y + r, ldy, first);
        } else if (wt != GW_F32 && t1 - t0 >= GW_WIDEN_MIN_T && (ke - kc) % SV_LANES == 0) {
            const gw_mat wm = {(const char *)wbuf, SL_GEMM_KC * sizeof(float), 0, 1};
            gemm_widen(wt, R, m, r, kc, ke, wbuf);
            gemm_tokens(wt, R, RT, 0, ke - kc, wm, 0, t0, t1, x + (size_t)kc * sizeof(float), xs, y + r, ldy,
                        first);
        } else {
            gemm_tokens(wt, R, RT, kc, ke, m, r, t0, t1, x, xs, y + r, ldy, first);
        }
    }
}

/* All rows [r0, r1) of m over one X panel: tokens [t0, t1), columns [k0, k1). Groups of 8 rows
 * where the tile has 8, for one token, and for an X8 matrix (whose group is one block stream). */
SV_INLINE void gemm_panel(int wt, int64_t r0, int64_t r1, int64_t t0, int64_t t1, int64_t k0, int64_t k1,
                          gw_mat m, const char *x, size_t xs, float *y, int64_t ldy)
{
    int64_t r = r0;
    if (t1 - t0 == 1 || SV_TILE_R == 8 || m.x8)
        for (; r + 8 <= r1; r += 8) gemm_rows(wt, 8, r, t0, t1, k0, k1, m, x, xs, y, ldy);
    for (; r + 4 <= r1; r += 4) gemm_rows(wt, 4, r, t0, t1, k0, k1, m, x, xs, y, ldy);
    for (; r < r1; r++) gemm_rows(wt, 1, r, t0, t1, k0, k1, m, x, xs, y, ldy);
}

/* The sl_gemm_fn contract (kernels.h) for weight type wt, in the file's layout or (x8) X8. */
SV_INLINE void gemm_float_run(int wt, int x8, int64_t K, const void *w, size_t w_stride, const void *x,
                              size_t x_stride, int64_t T, float *y, int64_t ldy, int64_t r0, int64_t r1)
{
    const gw_mat m = {(const char *)w, w_stride, x8, 0}, tail = {(const char *)w, w_stride, 0, 0};
    const int64_t full = !x8 ? r1 : r1 % 8 ? r1 / 8 * 8 : r1;   /* X8: the rows in full groups */
    if (T <= 0 || r1 <= r0) return;
    if (K <= 0) {
        for (int64_t t = 0; t < T; t++)
            for (int64_t r = r0; r < r1; r++) y[t * ldy + r] = 0.0f;
        return;
    }
    /* X panel: tb tokens x kg columns within SL_GEMM_XPANEL; few tokens, long columns (W is
     * re-read once per panel of tokens, Y is updated once per group of columns). */
    int64_t tb = T, kg = K;
    if ((size_t)T * (size_t)K * 4 > SL_GEMM_XPANEL) {
        int64_t panels = (T + SL_GEMM_TB_MAX - 1) / SL_GEMM_TB_MAX;
        tb = (T + panels - 1) / panels;
        tb = (tb + 5) / 6 * 6;   /* whole 3- and 2-token tiles */
        kg = (int64_t)(SL_GEMM_XPANEL / ((size_t)tb * 4)) / SL_GEMM_KC * SL_GEMM_KC;
        if (kg < SL_GEMM_KC) kg = SL_GEMM_KC;
    }
    for (int64_t t0 = 0; t0 < T; t0 += tb) {
        int64_t t1 = T - t0 < tb ? T : t0 + tb;
        for (int64_t k0 = 0; k0 < K; k0 += kg) {
            int64_t k1 = K - k0 < kg ? K : k0 + kg;
            gemm_panel(wt, r0, full, t0, t1, k0, k1, m, (const char *)x, x_stride, y, ldy);
            if (full < r1) gemm_panel(wt, full, r1, t0, t1, k0, k1, tail, (const char *)x, x_stride, y, ldy);
        }
    }
}

/* The sl_gemm_fn entry points NAME (file layout) and NAME##_x8 (X8) for weight type WT. */
#define GW_DEFINE_GEMMS(NAME, WT)                                                                         \
    static void NAME(int64_t K, const void *w, size_t ws, const void *x, size_t xs, int64_t T, float *y,  \
                     int64_t ldy, int64_t r0, int64_t r1)                                                 \
    {                                                                                                     \
        gemm_float_run(WT, 0, K, w, ws, x, xs, T, y, ldy, r0, r1);                                        \
    }                                                                                                     \
    static void NAME##_x8(int64_t K, const void *w, size_t ws, const void *x, size_t xs, int64_t T,       \
                          float *y, int64_t ldy, int64_t r0, int64_t r1)                                  \
    {                                                                                                     \
        gemm_float_run(WT, 1, K, w, ws, x, xs, T, y, ldy, r0, r1);                                        \
    }

#endif /* SL_GEMM_FLOAT_IMPL_H */
