/* gemm_q0_impl.h — the q4_0 / q8_0 gemm kernels (against q8_0 activations), written once and
 * compiled twice: by gemm_q_avx2.c with SL_Q0_VNNI 0 (maddubs + madd) and by gemm_q_avx512.c with
 * SL_Q0_VNNI 1 (vpdpbusd, AVX-512 VNNI on 256-bit vectors). Both give identical integer sums.
 *
 * Tiles are 8 weight rows x TT tokens. The 8 rows' integer block dot products are reduced into
 * one vector (lane = row), so the per-block scale product and accumulation are one multiply and
 * one FMA for 8 rows, with no horizontal sums until the end. Each (row, token) result is the same
 * chain in every code path — acc = fma(float(isum_b), dw_b * dx_b, acc) over blocks b in order —
 * so the single-row tail gives the bits an 8-row tile would, and results do not depend on how rows
 * are split across threads. Integer dot products are exact (no maddubs saturation: q4_0 values
 * are 0..15 with the -8 offset applied through the activation sums; q8_0 uses |w| <= 128,
 * |x| <= 127). Rows are walked in cache blocks of SL_Q_ROWBLK so that during prefill a block of
 * weight rows stays in L2 while all token groups pass over it.
 *
 * Entry points defined: static gemm_q4_0_impl / gemm_q8_0_impl (the sl_gemm_fn contract).
 */
#ifndef SL_Q0_VNNI
#error "define SL_Q0_VNNI before including gemm_q0_impl.h"
#endif

#include <math.h>

#include "quant/quant.h"
#include "quant/simd_x86.h"

#define SL_Q_ROWBLK 64     /* weight rows per cache block (a multiple of 8) */
#define SL_Q_NBMAX 1024    /* blocks per K chunk (size of the per-token tables) */
/* Tokens per tile (and per activation table): 8 with AVX-512's 32 vector registers (weights loaded
 * once per 8 tokens: T=64 prefill gemm, 14336x4096, 1 thread, X8 q4_0 227 -> 271 GFLOP/s, q8_0
 * 208 -> 238), 4 with AVX2's 16. The 512-bit X8 tiles of 32 rows take a table's tokens 4 at a time
 * (gemm_x8_impl.h). */
#if SL_Q0_VNNI
#define SL_Q_TT 8
#else
#define SL_Q_TT 4
#endif

#define SL_Q_TCHUNK 32     /* tokens whose activations stay in L2 while a row block passes over them */

/* Per-token activation data of one block for the tokens of a tile; a tile's table holds the nbc
 * blocks of a K chunk. One buffer of SL_Q_NBMAX entries holds the tables of every tile of a token
 * chunk (when they fit), filled once and read by every row block. */
typedef struct q0_xent {
    float dx[SL_Q_TT];                 /* block scales as f32 */
    int32_t sx8[SL_Q_TT];              /* offset * (sum of the block's values): q4_0's -8 (offset 8), the
                                        * X8 VNNI q8_0 kernel's +128 (offset 128); 0: not needed */
} q0_xent;

SL_INLINE uint16_t load_half(const uint8_t *p)
{
    uint16_t h;
    memcpy(&h, p, 2);
    return h;
}

/* The 8 f16 at p[0..7] as f32. */
SL_INLINE __m256 load_halves8(const uint8_t *const p[8])
{
    __m128i h = _mm_setzero_si128();
    h = _mm_insert_epi16(h, load_half(p[0]), 0);
    h = _mm_insert_epi16(h, load_half(p[1]), 1);
    h = _mm_insert_epi16(h, load_half(p[2]), 2);
    h = _mm_insert_epi16(h, load_half(p[3]), 3);
    h = _mm_insert_epi16(h, load_half(p[4]), 4);
    h = _mm_insert_epi16(h, load_half(p[5]), 5);
    h = _mm_insert_epi16(h, load_half(p[6]), 6);
    h = _mm_insert_epi16(h, load_half(p[7]), 7);
    return _mm256_cvtph_ps(h);
}

/* Scales of 8 rows' block (at byte offset off) as f32, lanes in the order given by rows[8]. */
SL_INLINE __m256 load_dw8(const uint8_t *w, size_t w_stride, size_t off, const int rows[8])
{
    const uint8_t *p[8];
    SL_UNROLL
    for (int i = 0; i < 8; i++) p[i] = w + rows[i] * w_stride + off;
    return load_halves8(p);
}

/* Lane order of the 8-row reductions: q4_0's tree leaves rows as 0,2,4,6,1,3,5,7. */
static const int Q4_LANE_ROWS[8] = {0, 2, 4, 6, 1, 3, 5, 7};
static const int Q8_LANE_ROWS[8] = {0, 1, 2, 3, 4, 5, 6, 7};

/* Write (or add) the 8 lanes of acc to y[lane_rows[i]]. */
SL_INLINE void store_rows(__m256 acc, float *y, const int lane_rows[8], int accumulate)
{
    float v[8];
    _mm256_storeu_ps(v, acc);
    for (int i = 0; i < 8; i++) y[lane_rows[i]] = accumulate ? y[lane_rows[i]] + v[i] : v[i];
}

/* ---- q4_0: 8 rows x TT tokens ---- */

SL_INLINE void tile_q4_0(const int TT, int64_t nbc, const uint8_t *w, size_t ws, const uint8_t *x, size_t xs,
                         const q0_xent *xt, float *y, int64_t ldy, int accumulate)
{
    __m256 acc[SL_Q_TT];
    SL_UNROLL
    for (int t = 0; t < TT; t++) acc[t] = _mm256_setzero_ps();
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    for (int64_t b = 0; b < nbc; b++) {
        const size_t off = (size_t)b * sizeof(sl_block_q4_0);
        __m256i lo[4], hi[4];   /* row pair p: rows 2p (low 128 bits) and 2p+1 (high) */
        SL_UNROLL
        for (int p = 0; p < 4; p++) {
            __m256i v = _mm256_loadu2_m128i((const __m128i *)(w + (2 * p + 1) * ws + off + 2),
                                            (const __m128i *)(w + (2 * p) * ws + off + 2));
            lo[p] = _mm256_and_si256(v, m4);
            hi[p] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
        }
        const __m256 dw = load_dw8(w, ws, off, Q4_LANE_ROWS);
        SL_UNROLL
        for (int t = 0; t < TT; t++) {
            const uint8_t *xb = x + t * xs + (size_t)b * sizeof(sl_block_q8_0) + 2;
            const __m256i xl = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)xb));
            const __m256i xh = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(xb + 16)));
            __m256i s[4];
#if SL_Q0_VNNI   /* int32 sums of 4 products per lane; pairwise adds leave lane = row sum */
            SL_UNROLL
            for (int p = 0; p < 4; p++)
                s[p] = _mm256_dpbusd_epi32(_mm256_dpbusd_epi32(_mm256_setzero_si256(), lo[p], xl), hi[p], xh);
            __m256i h = _mm256_hadd_epi32(_mm256_hadd_epi32(s[0], s[1]), _mm256_hadd_epi32(s[2], s[3]));
#else
            SL_UNROLL
            for (int p = 0; p < 4; p++)   /* int16 sums of 4 products: <= 4*15*127 */
                s[p] = _mm256_add_epi16(_mm256_maddubs_epi16(lo[p], xl), _mm256_maddubs_epi16(hi[p], xh));
            /* two pairwise adds keep int16 (<= 16*15*127), the madd widens: lane = row sum */
            __m256i h = _mm256_madd_epi16(_mm256_hadd_epi16(_mm256_hadd_epi16(s[0], s[1]), _mm256_hadd_epi16(s[2], s[3])),
                                          _mm256_set1_epi16(1));
#endif
            __m256i isum = _mm256_sub_epi32(h, _mm256_set1_epi32(xt[b].sx8[t]));
            __m256 sc = _mm256_mul_ps(dw, _mm256_broadcast_ss(&xt[b].dx[t]));
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), sc, acc[t]);
        }
    }
    SL_UNROLL
    for (int t = 0; t < TT; t++) store_rows(acc[t], y + t * ldy, Q4_LANE_ROWS, accumulate);
}

/* One q4_0 row x TT tokens, the same per-(row, token) arithmetic as tile_q4_0. */
SL_INLINE void row_q4_0(const int TT, int64_t nbc, const uint8_t *w, const uint8_t *x, size_t xs,
                        const q0_xent *xt, float *y, int64_t ldy, int accumulate)
{
    float acc[SL_Q_TT] = {0};
    for (int64_t b = 0; b < nbc; b++) {
        const uint8_t *wb = w + (size_t)b * sizeof(sl_block_q4_0);
        const __m256i q = sl_unpack_nibbles(wb + 2);
        const float dw = sl_half_to_f32(load_half(wb));
        for (int t = 0; t < TT; t++) {
            const uint8_t *xb = x + t * xs + (size_t)b * sizeof(sl_block_q8_0) + 2;
            __m256i p = sl_dot_i8_pairs(q, _mm256_loadu_si256((const __m256i *)xb));
            int32_t isum = sl_hsum_i32x8(p) - xt[b].sx8[t];
            acc[t] = fmaf((float)isum, dw * xt[b].dx[t], acc[t]);
        }
    }
    for (int t = 0; t < TT; t++) y[t * ldy] = accumulate ? y[t * ldy] + acc[t] : acc[t];
}

/* ---- q8_0: 8 rows x TT tokens ---- */

/* Sums of the 8 int32 lanes of p[0..7], as one vector with lane i = sum of p[i]. */
SL_INLINE __m256i reduce8_i32(const __m256i p[8])
{
    __m256i a = _mm256_hadd_epi32(_mm256_hadd_epi32(p[0], p[1]), _mm256_hadd_epi32(p[2], p[3]));
    __m256i b = _mm256_hadd_epi32(_mm256_hadd_epi32(p[4], p[5]), _mm256_hadd_epi32(p[6], p[7]));
    return _mm256_add_epi32(_mm256_permute2x128_si256(a, b, 0x20), _mm256_permute2x128_si256(a, b, 0x31));
}

SL_INLINE void tile_q8_0(const int TT, int64_t nbc, const uint8_t *w, size_t ws, const uint8_t *x, size_t xs,
                         const q0_xent *xt, float *y, int64_t ldy, int accumulate)
{
    __m256 acc[SL_Q_TT];
    SL_UNROLL
    for (int t = 0; t < TT; t++) acc[t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nbc; b++) {
        const size_t off = (size_t)b * sizeof(sl_block_q8_0);
        const __m256 dw = load_dw8(w, ws, off, Q8_LANE_ROWS);
        SL_UNROLL
        for (int t = 0; t < TT; t++) {
            const __m256i xq = _mm256_loadu_si256((const __m256i *)(x + t * xs + off + 2));
            __m256i p[8];
            SL_UNROLL
            for (int r = 0; r < 8; r++) {
                const __m256i wq = _mm256_loadu_si256((const __m256i *)(w + r * ws + off + 2));
#if SL_Q0_VNNI
                p[r] = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_abs_epi8(wq), _mm256_sign_epi8(xq, wq));
#else
                p[r] = sl_dot_i8_pairs(_mm256_abs_epi8(wq), _mm256_sign_epi8(xq, wq));
#endif
            }
            __m256 sc = _mm256_mul_ps(dw, _mm256_broadcast_ss(&xt[b].dx[t]));
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(reduce8_i32(p)), sc, acc[t]);
        }
    }
    SL_UNROLL
    for (int t = 0; t < TT; t++) store_rows(acc[t], y + t * ldy, Q8_LANE_ROWS, accumulate);
}

SL_INLINE void row_q8_0(const int TT, int64_t nbc, const uint8_t *w, const uint8_t *x, size_t xs,
                        const q0_xent *xt, float *y, int64_t ldy, int accumulate)
{
    float acc[SL_Q_TT] = {0};
    for (int64_t b = 0; b < nbc; b++) {
        const uint8_t *wb = w + (size_t)b * sizeof(sl_block_q8_0);
        const __m256i wq = _mm256_loadu_si256((const __m256i *)(wb + 2)), aw = _mm256_abs_epi8(wq);
        const float dw = sl_half_to_f32(load_half(wb));
        for (int t = 0; t < TT; t++) {
            const uint8_t *xb = x + t * xs + (size_t)b * sizeof(sl_block_q8_0) + 2;
            __m256i p = sl_dot_i8_pairs(aw, _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)xb), wq));
            acc[t] = fmaf((float)sl_hsum_i32x8(p), dw * xt[b].dx[t], acc[t]);
        }
    }
    for (int t = 0; t < TT; t++) y[t * ldy] = accumulate ? y[t * ldy] + acc[t] : acc[t];
}

/* ---- driver ---- */

/* Rows [r0, r1) x TT tokens of one K chunk: 8-row tiles, then single rows. */
SL_INLINE void rows_q0(const int is_q4, const int TT, int64_t nbc, const uint8_t *w, size_t ws, const uint8_t *x,
                       size_t xs, const q0_xent *xt, float *y, int64_t ldy, int64_t r0, int64_t r1, int accumulate)
{
    int64_t r = r0;
    for (; r + 8 <= r1; r += 8) {
        if (is_q4) tile_q4_0(TT, nbc, w + r * ws, ws, x, xs, xt, y + r, ldy, accumulate);
        else tile_q8_0(TT, nbc, w + r * ws, ws, x, xs, xt, y + r, ldy, accumulate);
    }
    for (; r < r1; r++) {
        if (is_q4) row_q4_0(TT, nbc, w + r * ws, x, xs, xt, y + r, ldy, accumulate);
        else row_q8_0(TT, nbc, w + r * ws, x, xs, xt, y + r, ldy, accumulate);
    }
}

/* The 32 int8 values of the q8_0 block at p summed into 8 int32 lanes (4 values each). */
SL_INLINE __m256i block_sum_lanes(const uint8_t *p)
{
    return sl_dot_i8_pairs(_mm256_set1_epi8(1), _mm256_loadu_si256((const __m256i *)(p + 2)));
}

/* Sums of the 32 int8 values of the blocks at p[0..7], as 8 int32 lanes. */
SL_INLINE __m256i block_sums8(const uint8_t *const p[8])
{
    __m256i s[8];
    SL_UNROLL
    for (int i = 0; i < 8; i++) s[i] = block_sum_lanes(p[i]);
    return reduce8_i32(s);
}

/* Activation scales (and, offset != 0, offset sums) of tt tokens, nbc blocks from x. A full tile
 * fills 8 entries (8 / SL_Q_TT blocks x its tokens) from one cvtph and one 8-way sum reduction
 * (one scalar entry: 2.6 ns, so that filling took a fifth of the q8_0 tile work over 64 rows). */
static void fill_xtab(q0_xent *xt, int tt, int64_t nbc, const uint8_t *x, size_t xs, int offset)
{
    enum { BPS = 8 / SL_Q_TT };   /* blocks per step of 8 entries */
    int64_t b0 = 0;
    if (tt == SL_Q_TT)
        for (; b0 + BPS <= nbc; b0 += BPS) {
            const uint8_t *p[8];
            SL_UNROLL
            for (int i = 0; i < 8; i++) p[i] = x + (i % SL_Q_TT) * xs + (size_t)(b0 + i / SL_Q_TT) * sizeof(sl_block_q8_0);
            float d[8];
            int32_t sx[8];
            _mm256_storeu_ps(d, load_halves8(p));
            if (offset) _mm256_storeu_si256((__m256i *)sx, _mm256_mullo_epi32(block_sums8(p), _mm256_set1_epi32(offset)));
            SL_UNROLL
            for (int k = 0; k < BPS; k++) {
                memcpy(xt[b0 + k].dx, d + k * SL_Q_TT, sizeof xt->dx);
                if (offset) memcpy(xt[b0 + k].sx8, sx + k * SL_Q_TT, sizeof xt->sx8);
            }
        }
    for (int t = 0; t < tt; t++)
        for (int64_t b = b0; b < nbc; b++) {
            const uint8_t *xb = x + t * xs + (size_t)b * sizeof(sl_block_q8_0);
            xt[b].dx[t] = sl_half_to_f32(load_half(xb));
            if (offset) xt[b].sx8[t] = offset * sl_hsum_i32x8(block_sum_lanes(xb));
        }
}

/* Tokens per chunk: SL_Q_TCHUNK, or fewer when that many tiles' tables of nbc blocks overflow the
 * buffer. Filling the tables once per chunk instead of once per row block: the fill cost a fifth of
 * the tile work (8 tokens x 64 blocks, 1.3 us, against 6.7 us of q8_0 tiles over 64 rows). */
SL_INLINE int64_t xtab_tokens(int64_t nbc)
{
    const int64_t tiles = SL_Q_NBMAX / nbc;
    return tiles * SL_Q_TT < SL_Q_TCHUNK ? tiles * SL_Q_TT : SL_Q_TCHUNK;
}

/* The tables of tokens [t0, te) (x: token t0's first block), one tile after another. */
static void fill_xtabs(q0_xent *buf, int64_t t0, int64_t te, int64_t nbc, const uint8_t *x, size_t xs, int offset)
{
    for (int64_t t = t0, i = 0; t < te; t += SL_Q_TT, i++)
        fill_xtab(buf + i * nbc, te - t < SL_Q_TT ? (int)(te - t) : SL_Q_TT, nbc, x + (size_t)(t - t0) * xs, xs, offset);
}

SL_INLINE void gemm_q0(const int is_q4, int64_t K, const void *w, size_t ws, const void *x, size_t xs, int64_t T,
                       float *y, int64_t ldy, int64_t r0, int64_t r1)
{
    const int64_t nb = K / SL_QK;
    const size_t bb = is_q4 ? sizeof(sl_block_q4_0) : sizeof(sl_block_q8_0);
    q0_xent xt[SL_Q_NBMAX];
    for (int64_t kb0 = 0; kb0 < nb; kb0 += SL_Q_NBMAX) {
        const int64_t nbc = nb - kb0 < SL_Q_NBMAX ? nb - kb0 : SL_Q_NBMAX, tchunk = xtab_tokens(nbc);
        const uint8_t *wk = (const uint8_t *)w + (size_t)kb0 * bb;
        const uint8_t *xk = (const uint8_t *)x + (size_t)kb0 * sizeof(sl_block_q8_0);
        for (int64_t tc = 0; tc < T; tc += tchunk) {
            const int64_t te = tc + tchunk < T ? tc + tchunk : T;
            fill_xtabs(xt, tc, te, nbc, xk + (size_t)tc * xs, xs, is_q4 ? 8 : 0);
            for (int64_t rb = r0; rb < r1; rb += SL_Q_ROWBLK) {
                const int64_t re = rb + SL_Q_ROWBLK < r1 ? rb + SL_Q_ROWBLK : r1;
                for (int64_t t0 = tc, i = 0; t0 < te; t0 += SL_Q_TT, i++) {
                    const int tt = te - t0 < SL_Q_TT ? (int)(te - t0) : SL_Q_TT;
                    const uint8_t *xt0 = xk + (size_t)t0 * xs;
                    float *yt = y + t0 * ldy;
#define SL_Q0_CASE(TT) rows_q0(is_q4, TT, nbc, wk, ws, xt0, xs, xt + i * nbc, yt, ldy, rb, re, kb0 > 0)
                    SL_TT_DISPATCH(SL_Q_TT, tt, SL_Q0_CASE)
#undef SL_Q0_CASE
                }
            }
        }
    }
}

static void gemm_q4_0_impl(int64_t K, const void *w, size_t w_stride, const void *x, size_t x_stride, int64_t T,
                           float *y, int64_t ldy, int64_t r0, int64_t r1)
{
    gemm_q0(1, K, w, w_stride, x, x_stride, T, y, ldy, r0, r1);
}

static void gemm_q8_0_impl(int64_t K, const void *w, size_t w_stride, const void *x, size_t x_stride, int64_t T,
                           float *y, int64_t ldy, int64_t r0, int64_t r1)
{
    gemm_q0(0, K, w, w_stride, x, x_stride, T, y, ldy, r0, r1);
}
