/* gemm_qk_impl.h — the gemms of the k-quants (q4_K, q5_K, q6_K) against q8_K activations, in the
 * file's layout (and, through gemm_qk_x8_impl.h, q4_K / q6_K in the X8 layout), written once and
 * compiled twice: by gemm_qk_avx2.c with SL_QK_VNNI 0 and by gemm_qk_avx512.c with SL_QK_VNNI 1
 * (the X8 kernels then take vpdpbusd and 8-token tiles; the file-layout kernels are the same code).
 *
 * Each weight super-block (256 values) is unpacked once per tile of TT tokens. Within a super-block
 * the sub-block scales are applied in the integer domain (madd of the maddubs pair sums with the
 * broadcast 6- or 8-bit scale); the q4_K/q5_K mins and the q6_K -32 offset use the activations'
 * group sums (bsums). All integer sums are exact (maddubs pairs <= 2*63*128), so a super-block
 * gives each (row, token) two exact integers, isum and msum (q6_K: isum only), and the float chain
 *     acc = fma(float(isum), d * dx, acc);  acc = fnma(float(msum), dmin * dx, acc)
 * over the super-blocks of a K chunk, in order, then y = acc (first chunk) or y + acc. Lanes of the
 * float vectors are tokens here and rows in the X8 kernels: the same chain, the same bits, for
 * every tile shape and thread split.
 */
#ifndef SL_QK_VNNI
#error "define SL_QK_VNNI before including gemm_qk_impl.h"
#endif

#include "quant/quant.h"
#include "quant/simd_x86.h"

#define SL_QK_TT 4       /* tokens per tile of the file-layout kernels (lane = token in 128 bits) */
/* Tokens per tile of the X8 kernels (lane = row): 8 with AVX-512's 32 vector registers. T=64 gemm,
 * 14336x4096, 1 thread, GFLOP/s, AVX2 -> VNNI 4 tokens -> VNNI 8 tokens: q4_K 207 -> 215 -> 247,
 * q6_K 152 -> 169 -> 194. */
#if SL_QK_VNNI
#define SL_QK_X8_TT 8
#else
#define SL_QK_X8_TT 4
#endif
#define SL_QK_NBMAX 128  /* super-blocks per K chunk (size of the per-token table) */

/* Per-token activation data of one K chunk, shared by all weight rows: the q8_K group sums added
 * in pairs, i.e. the sums over the 8 sub-blocks of 32 that q4_K / q5_K mins multiply, and the
 * scales dx (0 for the lanes past the tile's tokens). */
typedef struct qk_xtab {
    int16_t bs8[SL_QK_X8_TT][SL_QK_NBMAX][8];
    float dx[SL_QK_NBMAX][SL_QK_X8_TT];
} qk_xtab;

typedef struct qk_row {   /* one weight row's super-block, unpacked for the dot products */
    __m256i sc16;         /* q4_K/q5_K: 8 scales as int16 in both 128-bit halves; q6_K: 16 scales */
    __m128i mins8;        /* q4_K/q5_K: 8 mins as int16 */
    float d, dmin;
} qk_row;

/* pshufb masks broadcasting int16 lane j of a 128-bit half to all 8 lanes. */
SL_INLINE __m256i bcast16_mask(int j)
{
    return _mm256_set1_epi16((short)((2 * j) | ((2 * j + 1) << 8)));
}

/* q4_K / q5_K 6-bit scales and mins of a scales[12] array, as int16 vectors. Reads 16 bytes from
 * s12 (the 4 after the scales are the next field of the same block). With u0..u2 the scales'
 * little-endian words: scales 0-3 = u0 & 0x3f.., mins 0-3 = u1 & 0x3f.., scales 4-7 =
 * (u2 & 0x0f..) | ((u0 >> 6) & 0x03..) << 4, mins 4-7 = ((u2 >> 4) & 0x0f..) | ((u1 >> 6) & 0x03..) << 4. */
SL_INLINE void unpack_scale_min(const uint8_t *s12, qk_row *row)
{
    const __m128i v = _mm_loadu_si128((const __m128i *)s12);
    const __m128i lo = _mm_and_si128(v, _mm_set1_epi8(0x3f));
    const __m128i u2 = _mm_srlv_epi32(_mm_shuffle_epi32(v, _MM_SHUFFLE(2, 2, 2, 2)), _mm_setr_epi32(0, 4, 0, 0));
    const __m128i top = _mm_slli_epi32(_mm_and_si128(_mm_srli_epi32(v, 6), _mm_set1_epi8(0x03)), 4);
    const __m128i hi = _mm_or_si128(_mm_and_si128(u2, _mm_set1_epi8(0x0f)), top);
    const __m256i w = _mm256_cvtepu8_epi16(_mm_unpacklo_epi32(lo, hi));   /* sc0..7 | m0..7 */
    row->mins8 = _mm256_extracti128_si256(w, 1);
    row->sc16 = _mm256_permute2x128_si256(w, w, 0x00);
}

SL_INLINE const sl_block_q8_k *xblock(const uint8_t *x, size_t xs, int t, int64_t b)
{
    return (const sl_block_q8_k *)(x + t * xs) + b;
}

/* Lane t = the sum of the 8 lanes of s[t] for t < TT (lanes past TT: unspecified, finite); exact. */
SL_INLINE __m128i sum_per_token(const int TT, const __m256i *s)
{
    if (TT == 1) {
        __m128i v = _mm_add_epi32(_mm256_castsi256_si128(s[0]), _mm256_extracti128_si256(s[0], 1));
        v = _mm_add_epi32(v, _mm_unpackhi_epi64(v, v));
        return _mm_add_epi32(v, _mm_shuffle_epi32(v, 1));
    }
    const __m256i z = _mm256_setzero_si256();
    const __m256i a = _mm256_hadd_epi32(s[0], s[1]), b = _mm256_hadd_epi32(TT > 2 ? s[2] : z, TT > 3 ? s[3] : z);
    const __m256i c = _mm256_hadd_epi32(a, b);
    return _mm_add_epi32(_mm256_castsi256_si128(c), _mm256_extracti128_si256(c, 1));
}

/* Lane t = sum_j min_j * bs8[t][j] for t < TT (as sum_per_token): the q4_K / q5_K min sums. */
SL_INLINE __m128i min_sums(const int TT, const qk_row *row, const qk_xtab *xt, int64_t b)
{
    __m128i m[SL_QK_TT];
    SL_UNROLL
    for (int t = 0; t < SL_QK_TT; t++) {
        m[t] = _mm_setzero_si128();
        if (t < TT) m[t] = _mm_madd_epi16(row->mins8, _mm_loadu_si128((const __m128i *)xt->bs8[t][b]));
    }
    if (TT == 1) {
        const __m128i v = _mm_add_epi32(m[0], _mm_unpackhi_epi64(m[0], m[0]));
        return _mm_add_epi32(v, _mm_shuffle_epi32(v, 1));
    }
    return _mm_hadd_epi32(_mm_hadd_epi32(m[0], m[1]), _mm_hadd_epi32(m[2], m[3]));
}

/* y[t*ldy] = lane t of acc (accumulate: added to y), t < TT. */
SL_INLINE void store_tokens(const int TT, __m128 acc, float *y, int64_t ldy, int accumulate)
{
    float v[4];
    _mm_storeu_ps(v, acc);
    SL_UNROLL
    for (int t = 0; t < TT; t++) y[t * ldy] = accumulate ? y[t * ldy] + v[t] : v[t];
}

/* Values of 64-element chunk c of a q4_K / q5_K super-block: lo = elements 0..31, hi = 32..63. */
SL_INLINE void chunk_values(const int is_q5, const uint8_t *qs, __m256i *qh_cur, int c, __m256i *lo, __m256i *hi)
{
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const __m256i q = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
    *lo = _mm256_and_si256(q, m4);
    *hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
    if (is_q5) {   /* bits 2c, 2c+1 of qh are at bits 0, 1 of each byte of *qh_cur */
        const __m256i b4 = _mm256_set1_epi8(0x10);
        *lo = _mm256_or_si256(*lo, _mm256_and_si256(_mm256_slli_epi16(*qh_cur, 4), b4));
        *hi = _mm256_or_si256(*hi, _mm256_and_si256(_mm256_slli_epi16(*qh_cur, 3), b4));
        *qh_cur = _mm256_srli_epi16(*qh_cur, 2);
    }
}

/* One q4_K / q5_K row x TT tokens over nb super-blocks; y[t*ldy] = result. */
SL_INLINE void row_q45k(const int is_q5, const int TT, int64_t nb, const uint8_t *w, const uint8_t *x, size_t xs,
                        const qk_xtab *xt, float *y, int64_t ldy, int accumulate)
{
    const size_t bb = is_q5 ? sizeof(sl_block_q5_k) : sizeof(sl_block_q4_k);
    __m128 acc = _mm_setzero_ps();   /* lane t = token t */
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *wb = w + (size_t)b * bb;   /* d, dmin, scales[12] lead both layouts */
        const uint8_t *qs = wb + (is_q5 ? offsetof(sl_block_q5_k, qs) : offsetof(sl_block_q4_k, qs));
        __m256i qh = is_q5 ? _mm256_loadu_si256((const __m256i *)(wb + offsetof(sl_block_q5_k, qh)))
                           : _mm256_setzero_si256();
        qk_row row;
        uint16_t h[2];
        memcpy(h, wb, 4);
        row.d = sl_half_to_f32(h[0]);
        row.dmin = sl_half_to_f32(h[1]);
        unpack_scale_min(wb + 4, &row);
        __m256i sumi[SL_QK_TT];
        SL_UNROLL
        for (int t = 0; t < TT; t++) sumi[t] = _mm256_setzero_si256();
        SL_UNROLL
        for (int c = 0; c < 4; c++) {
            __m256i lo, hi;
            chunk_values(is_q5, qs, &qh, c, &lo, &hi);
            const __m256i sa = _mm256_shuffle_epi8(row.sc16, bcast16_mask(2 * c));
            const __m256i sb = _mm256_shuffle_epi8(row.sc16, bcast16_mask(2 * c + 1));
            SL_UNROLL
            for (int t = 0; t < TT; t++) {
                const int8_t *xq = xblock(x, xs, t, b)->qs + 64 * c;
                __m256i pa = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)xq)), sa);
                __m256i pb = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(xq + 32))), sb);
                sumi[t] = _mm256_add_epi32(sumi[t], _mm256_add_epi32(pa, pb));
                SL_KEEP(sumi[t]);
            }
        }
        const __m128 dx = _mm_loadu_ps(xt->dx[b]);
        acc = _mm_fmadd_ps(_mm_cvtepi32_ps(sum_per_token(TT, sumi)), _mm_mul_ps(_mm_set1_ps(row.d), dx), acc);
        acc = _mm_fnmadd_ps(_mm_cvtepi32_ps(min_sums(TT, &row, xt, b)), _mm_mul_ps(_mm_set1_ps(row.dmin), dx), acc);
    }
    store_tokens(TT, acc, y, ldy, accumulate);
}

/* The four 32-value groups of 128-element chunk c of a q6_K super-block (values 0..63). */
SL_INLINE void q6_chunk(const sl_block_q6_k *wb, int c, __m256i q[4])
{
    const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(0x30);
    const __m256i l0 = _mm256_loadu_si256((const __m256i *)(wb->ql + 64 * c));
    const __m256i l1 = _mm256_loadu_si256((const __m256i *)(wb->ql + 64 * c + 32));
    const __m256i h = _mm256_loadu_si256((const __m256i *)(wb->qh + 32 * c));
    q[0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_and_si256(_mm256_slli_epi16(h, 4), m2));
    q[1] = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(h, 2), m2));
    q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(h, m2));
    q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                           _mm256_and_si256(_mm256_srli_epi16(h, 2), m2));
}

/* One q6_K row x TT tokens over nb super-blocks. */
SL_INLINE void row_q6k(const int TT, int64_t nb, const uint8_t *w, const uint8_t *x, size_t xs, const qk_xtab *xt,
                       float *y, int64_t ldy, int accumulate)
{
    __m128 acc = _mm_setzero_ps();   /* lane t = token t */
    for (int64_t b = 0; b < nb; b++) {
        const sl_block_q6_k *wb = (const sl_block_q6_k *)w + b;
        const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)wb->scales));
        const float d = sl_half_to_f32(wb->d);
        __m256i sumi[SL_QK_TT];
        SL_UNROLL
        for (int t = 0; t < TT; t++)   /* the -32 offset: -32 * sum_j sc_j * bsum_j */
            sumi[t] = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(_mm256_madd_epi16(sc16,
                          _mm256_loadu_si256((const __m256i *)xblock(x, xs, t, b)->bsums)), 5));
        SL_UNROLL
        for (int c = 0; c < 2; c++) {
            __m256i q[4];
            q6_chunk(wb, c, q);
            const __m256i half = _mm256_permute2x128_si256(sc16, sc16, c ? 0x11 : 0x00);
            SL_UNROLL
            for (int k = 0; k < 4; k++) {   /* sub-blocks 8c+2k (low 16 values), 8c+2k+1 (high) */
                const __m256i sk = _mm256_shuffle_epi8(half, _mm256_setr_epi8(
                    4 * k, 4 * k + 1, 4 * k, 4 * k + 1, 4 * k, 4 * k + 1, 4 * k, 4 * k + 1, 4 * k, 4 * k + 1,
                    4 * k, 4 * k + 1, 4 * k, 4 * k + 1, 4 * k, 4 * k + 1, 4 * k + 2, 4 * k + 3, 4 * k + 2, 4 * k + 3,
                    4 * k + 2, 4 * k + 3, 4 * k + 2, 4 * k + 3, 4 * k + 2, 4 * k + 3, 4 * k + 2, 4 * k + 3,
                    4 * k + 2, 4 * k + 3, 4 * k + 2, 4 * k + 3));
                SL_UNROLL
                for (int t = 0; t < TT; t++) {
                    const int8_t *xq = xblock(x, xs, t, b)->qs + 128 * c + 32 * k;
                    __m256i p = _mm256_maddubs_epi16(q[k], _mm256_loadu_si256((const __m256i *)xq));
                    sumi[t] = _mm256_add_epi32(sumi[t], _mm256_madd_epi16(p, sk));
                    SL_KEEP(sumi[t]);
                }
            }
        }
        const __m128 dx = _mm_loadu_ps(xt->dx[b]);
        acc = _mm_fmadd_ps(_mm_cvtepi32_ps(sum_per_token(TT, sumi)), _mm_mul_ps(_mm_set1_ps(d), dx), acc);
    }
    store_tokens(TT, acc, y, ldy, accumulate);
}

/* kind: 4 = q4_K, 5 = q5_K, 6 = q6_K. */
SL_INLINE void row_qk(const int kind, const int TT, int64_t nb, const uint8_t *w, const uint8_t *x, size_t xs,
                      const qk_xtab *xt, float *y, int64_t ldy, int accumulate)
{
    if (kind == 6) row_q6k(TT, nb, w, x, xs, xt, y, ldy, accumulate);
    else row_q45k(kind == 5, TT, nb, w, x, xs, xt, y, ldy, accumulate);
}

/* The table of tt tokens (rows xs bytes apart from x) over nbc super-blocks; bs8 only if with_mins. */
static void fill_qk_xtab(qk_xtab *xt, int tt, int64_t nbc, const uint8_t *x, size_t xs, int with_mins)
{
    for (int64_t b = 0; b < nbc; b++)
        for (int t = 0; t < SL_QK_X8_TT; t++) xt->dx[b][t] = t < tt ? xblock(x, xs, t, b)->d : 0.0f;
    for (int t = 0; with_mins && t < tt; t++)
        for (int64_t b = 0; b < nbc; b++) {
            const sl_block_q8_k *xb = xblock(x, xs, t, b);
            _mm_storeu_si128((__m128i *)xt->bs8[t][b], _mm_hadd_epi16(_mm_loadu_si128((const __m128i *)xb->bsums),
                                                                      _mm_loadu_si128((const __m128i *)(xb->bsums + 8))));
        }
}

#define SL_QK_ROWBLK 16   /* weight rows per cache block: 16 rows of K=16384 q6_K fit in L2 */
#define SL_QK_TCHUNK 32   /* tokens whose activations stay in L2 while a row block passes over them */

/* K in chunks of SL_QK_NBMAX super-blocks; rows in cache blocks; tokens in groups of SL_QK_TT. */
SL_INLINE void gemm_qk(const int kind, int64_t K, const void *w, size_t ws, const void *x, size_t xs, int64_t T,
                       float *y, int64_t ldy, int64_t r0, int64_t r1)
{
    const int64_t nb = K / SL_QK_K;
    const size_t bb = kind == 4 ? sizeof(sl_block_q4_k) : kind == 5 ? sizeof(sl_block_q5_k) : sizeof(sl_block_q6_k);
    qk_xtab xt;
    for (int64_t kb0 = 0; kb0 < nb; kb0 += SL_QK_NBMAX) {
        const int64_t nbc = nb - kb0 < SL_QK_NBMAX ? nb - kb0 : SL_QK_NBMAX;
        const uint8_t *wk = (const uint8_t *)w + (size_t)kb0 * bb;
        const uint8_t *xk = (const uint8_t *)x + (size_t)kb0 * sizeof(sl_block_q8_k);
        for (int64_t tc = 0; tc < T; tc += SL_QK_TCHUNK)
        for (int64_t rb = r0; rb < r1; rb += SL_QK_ROWBLK) {
            const int64_t re = rb + SL_QK_ROWBLK < r1 ? rb + SL_QK_ROWBLK : r1;
            const int64_t te = tc + SL_QK_TCHUNK < T ? tc + SL_QK_TCHUNK : T;
            for (int64_t t0 = tc; t0 < te; t0 += SL_QK_TT) {
                const int tt = te - t0 < SL_QK_TT ? (int)(te - t0) : SL_QK_TT;
                const uint8_t *xt0 = xk + (size_t)t0 * xs;
                fill_qk_xtab(&xt, tt, nbc, xt0, xs, kind != 6);
                for (int64_t r = rb; r < re; r++) {
                    const uint8_t *wr = wk + (size_t)r * ws;
                    float *yr = y + t0 * ldy + r;
#define SL_QK_ROW_CASE(TT) row_qk(kind, TT, nbc, wr, xt0, xs, &xt, yr, ldy, kb0 > 0)
                    SL_TT_DISPATCH(4, tt, SL_QK_ROW_CASE)
#undef SL_QK_ROW_CASE
                }
            }
        }
    }
}

#include "quant/gemm_qk_x8_impl.h"

static void gemm_q4_k_impl(int64_t K, const void *w, size_t ws, const void *x, size_t xs, int64_t T, float *y,
                           int64_t ldy, int64_t r0, int64_t r1)
{
    gemm_qk(4, K, w, ws, x, xs, T, y, ldy, r0, r1);
}

static void gemm_q5_k_impl(int64_t K, const void *w, size_t ws, const void *x, size_t xs, int64_t T, float *y,
                           int64_t ldy, int64_t r0, int64_t r1)
{
    gemm_qk(5, K, w, ws, x, xs, T, y, ldy, r0, r1);
}

static void gemm_q6_k_impl(int64_t K, const void *w, size_t ws, const void *x, size_t xs, int64_t T, float *y,
                           int64_t ldy, int64_t r0, int64_t r1)
{
    gemm_qk(6, K, w, ws, x, xs, T, y, ldy, r0, r1);
}
