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

#define SL_X8_Q4K_BYTES (8 * sizeof(sl_block_q4_k))   /* one super-block of 8 rows */
#define SL_X8_Q6K_BYTES (8 * sizeof(sl_block_q6_k))
/* Super-blocks of 8 rows to prefetch ahead. The hardware prefetcher alone left the T=1 stream short:
 * 16 matrices 5632x2048 in huge pages, 1 thread, q4_K 13.6 -> 16.5 GB/s, q6_K 13.1 -> 13.9 with 2
 * ahead (1 to 4 measured alike on a busy machine). */
#define SL_X8_PREFETCH 2

SL_INLINE __m256i x8_bcast4(const void *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

/* pshufb masks (the same in each 32-bit lane): byte j zero-extended to int16, twice; bytes j, j+1
 * zero-extended to an int16 pair; int16 i (0, 1) of the lane, twice. */
SL_INLINE __m256i dup_byte_mask(int j)
{
    return _mm256_setr_epi8(j, -1, j, -1, 4 + j, -1, 4 + j, -1, 8 + j, -1, 8 + j, -1, 12 + j, -1, 12 + j, -1,
                            j, -1, j, -1, 4 + j, -1, 4 + j, -1, 8 + j, -1, 8 + j, -1, 12 + j, -1, 12 + j, -1);
}

SL_INLINE __m256i pair_byte_mask(int j)
{
    return _mm256_setr_epi8(j, -1, j + 1, -1, 4 + j, -1, 5 + j, -1, 8 + j, -1, 9 + j, -1, 12 + j, -1, 13 + j, -1,
                            j, -1, j + 1, -1, 4 + j, -1, 5 + j, -1, 8 + j, -1, 9 + j, -1, 12 + j, -1, 13 + j, -1);
}

SL_INLINE __m256i dup_i16_mask(int i)
{
    const char a = (char)(2 * i), b = (char)(2 * i + 1);
    return _mm256_setr_epi8(a, b, a, b, 4 + a, 4 + b, 4 + a, 4 + b, 8 + a, 8 + b, 8 + a, 8 + b, 12 + a, 12 + b,
                            12 + a, 12 + b, a, b, a, b, 4 + a, 4 + b, 4 + a, 4 + b, 8 + a, 8 + b, 8 + a, 8 + b,
                            12 + a, 12 + b, 12 + a, 12 + b);
}

/* The 8 rows' q4_K scales and mins from their scales[12] bytes in 3 chunks of 4 (u0, u1, u2 of each
 * row, lane = row; see unpack_scale_min): sc[j] lane i = (scale j, scale j) of row i as int16,
 * mn[k] lane i = (min 2k, min 2k+1) of row i. */
SL_INLINE void x8_scales_q4k(const uint8_t *s, __m256i sc[8], __m256i mn[4])
{
    const __m256i u0 = _mm256_loadu_si256((const __m256i *)s), u1 = _mm256_loadu_si256((const __m256i *)(s + 32));
    const __m256i u2 = _mm256_loadu_si256((const __m256i *)(s + 64));
    const __m256i m6 = _mm256_set1_epi8(0x3f), m4 = _mm256_set1_epi8(0x0f), top = _mm256_set1_epi8((char)0xc0);
    const __m256i s03 = _mm256_and_si256(u0, m6), m03 = _mm256_and_si256(u1, m6);
    const __m256i s47 = _mm256_or_si256(_mm256_and_si256(u2, m4), _mm256_srli_epi16(_mm256_and_si256(u0, top), 2));
    const __m256i m47 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(u2, 4), m4),
                                        _mm256_srli_epi16(_mm256_and_si256(u1, top), 2));
    SL_UNROLL
    for (int j = 0; j < 4; j++) {
        sc[j] = _mm256_shuffle_epi8(s03, dup_byte_mask(j));
        sc[4 + j] = _mm256_shuffle_epi8(s47, dup_byte_mask(j));
    }
    mn[0] = _mm256_shuffle_epi8(m03, pair_byte_mask(0));
    mn[1] = _mm256_shuffle_epi8(m03, pair_byte_mask(2));
    mn[2] = _mm256_shuffle_epi8(m47, pair_byte_mask(0));
    mn[3] = _mm256_shuffle_epi8(m47, pair_byte_mask(2));
}

/* acc[t] (lane = row) gets one super-block: fma(isum, d*dx) then, q4_K, fnma(msum, dmin*dx). */
SL_INLINE __m256 x8_fold(__m256 acc, __m256i isum, __m256 d, const __m256i *msum, __m256 dmin, const float *dx)
{
    const __m256 vx = _mm256_broadcast_ss(dx);
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_mul_ps(d, vx), acc);
    if (msum) acc = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(*msum), _mm256_mul_ps(dmin, vx), acc);
    return acc;
}

SL_INLINE void x8_store(const int TT, const __m256 *acc, float *y, int64_t ldy, int accumulate)
{
    SL_UNROLL
    for (int t = 0; t < TT; t++) {
        __m256 v = acc[t];
        if (accumulate) v = _mm256_add_ps(v, _mm256_loadu_ps(y + t * ldy));
        _mm256_storeu_ps(y + t * ldy, v);
    }
}

/* VNNI (AVX-512 build, tiles of 2+ tokens): a sub-block's int32 sums by vpdpbusd, times the scales
 * as int32; else maddubs pairs in int16, madd with the (scale, scale) pairs. The same exact
 * integers. One-token tiles take the maddubs path on AVX-512 too: their vpdpbusd chain is
 * latency-bound (14336x4096 gemv from huge pages, 1 thread: q4_K 25.3 GB/s VNNI, 27.5 maddubs;
 * q6_K 26.9 / 29.6; at 2 tokens VNNI is ahead, 21.9 vs 19.4 q4_K). */
#if SL_QK_VNNI
#define SL_X8_QK_VNNI(TT) ((TT) > 1)
SL_INLINE __m256i x8_dpbusd(__m256i acc, __m256i u, __m256i s) { return _mm256_dpbusd_epi32(acc, u, s); }
#else
#define SL_X8_QK_VNNI(TT) 0
SL_INLINE __m256i x8_dpbusd(__m256i acc, __m256i u, __m256i s) { (void)u; (void)s; return acc; }   /* unused */
#endif

/* isum[t] += the scaled dot of one q4_K super-block of 8 rows (blk) with token t's q8_K block. */
SL_INLINE void x8_dot_q4k(const int TT, const uint8_t *blk, const __m256i sc[8], const uint8_t *x, size_t xs,
                          int64_t b, __m256i *isum)
{
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const uint8_t *qs = blk + 128;
    const int vnni = SL_X8_QK_VNNI(TT);
    SL_UNROLL
    for (int j = 0; j < 8; j++) {   /* sub-block j: low (j even) or high nibbles of bytes 32 (j/2) .. +31 */
        __m256i s[SL_QK_X8_TT];
        SL_UNROLL
        for (int t = 0; t < TT; t++) s[t] = _mm256_setzero_si256();
        SL_UNROLL
        for (int k = 0; k < 8; k++) {
            const __m256i v = _mm256_loadu_si256((const __m256i *)(qs + 32 * (8 * (j / 2) + k)));
            const __m256i q = _mm256_and_si256(j & 1 ? _mm256_srli_epi16(v, 4) : v, m4);
            SL_UNROLL
            for (int t = 0; t < TT; t++) {
                const __m256i xv = x8_bcast4(xblock(x, xs, t, b)->qs + 32 * j + 4 * k);
                s[t] = vnni ? x8_dpbusd(s[t], q, xv) : _mm256_add_epi16(s[t], _mm256_maddubs_epi16(q, xv));
                SL_KEEP(s[t]);
            }
        }
        const __m256i sc32 = _mm256_and_si256(sc[j], _mm256_set1_epi32(0xFFFF));
        SL_UNROLL
        for (int t = 0; t < TT; t++)
            isum[t] = _mm256_add_epi32(isum[t], vnni ? _mm256_mullo_epi32(s[t], sc32) : _mm256_madd_epi16(s[t], sc[j]));
    }
}

/* 8 rows (one group) x TT tokens of one K chunk of nbc super-blocks; wg: the group's first one. */
SL_INLINE void x8_tile_q4k(const int TT, int64_t nbc, const uint8_t *wg, const uint8_t *x, size_t xs,
                           const qk_xtab *xt, float *y, int64_t ldy, int accumulate)
{
    __m256 acc[SL_QK_X8_TT];
    SL_UNROLL
    for (int t = 0; t < TT; t++) acc[t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nbc; b++) {
        const uint8_t *blk = wg + (size_t)b * SL_X8_Q4K_BYTES;
        sl_prefetch_bytes(blk + SL_X8_PREFETCH * SL_X8_Q4K_BYTES, SL_X8_Q4K_BYTES);
        __m256i sc[8], mn[4], isum[SL_QK_X8_TT];
        x8_scales_q4k(blk + 32, sc, mn);
        SL_UNROLL
        for (int t = 0; t < TT; t++) isum[t] = _mm256_setzero_si256();
        x8_dot_q4k(TT, blk, sc, x, xs, b, isum);
        const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)blk));
        const __m256 dmin = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(blk + 16)));
        SL_UNROLL
        for (int t = 0; t < TT; t++) {
            const int16_t *bs = xt->bs8[t][b];
            __m256i msum = _mm256_setzero_si256();
            SL_UNROLL
            for (int k = 0; k < 4; k++) msum = _mm256_add_epi32(msum, _mm256_madd_epi16(mn[k], x8_bcast4(bs + 2 * k)));
            acc[t] = x8_fold(acc[t], isum[t], d, &msum, dmin, &xt->dx[b][t]);
        }
    }
    x8_store(TT, acc, y, ldy, accumulate);
}

/* The 8 rows' q6_K scales (4 chunks of 4 int8 at s, lane = row) as int16: sv[j] lane i = (scale j,
 * scale j) of row i; and isum[t] = -32 * sum_j scale_j * bsum_j of token t (the q6_K offset). */
SL_INLINE void x8_scales_q6k(const int TT, const uint8_t *s, const uint8_t *x, size_t xs, int64_t b, __m256i sv[16],
                             __m256i *isum)
{
    __m256i pr[8];   /* lane i = (scale 2m, scale 2m+1) of row i */
    SL_UNROLL
    for (int k = 0; k < 4; k++) {
        const __m256i v = _mm256_loadu_si256((const __m256i *)(s + 32 * k));
        const __m256i lo = _mm256_srai_epi16(_mm256_slli_epi16(v, 8), 8);   /* scales 4k, 4k+2 */
        const __m256i hi = _mm256_srai_epi16(v, 8);                          /* scales 4k+1, 4k+3 */
        sv[4 * k] = _mm256_shuffle_epi8(lo, dup_i16_mask(0));
        sv[4 * k + 1] = _mm256_shuffle_epi8(hi, dup_i16_mask(0));
        sv[4 * k + 2] = _mm256_shuffle_epi8(lo, dup_i16_mask(1));
        sv[4 * k + 3] = _mm256_shuffle_epi8(hi, dup_i16_mask(1));
        pr[2 * k] = _mm256_blend_epi16(lo, _mm256_slli_epi32(hi, 16), 0xAA);
        pr[2 * k + 1] = _mm256_blend_epi16(_mm256_srli_epi32(lo, 16), hi, 0xAA);
    }
    SL_UNROLL
    for (int t = 0; t < TT; t++) {
        const int16_t *bs = xblock(x, xs, t, b)->bsums;
        __m256i o = _mm256_setzero_si256();
        SL_UNROLL
        for (int m = 0; m < 8; m++) o = _mm256_add_epi32(o, _mm256_madd_epi16(pr[m], x8_bcast4(bs + 2 * m)));
        isum[t] = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(o, 5));
    }
}

/* Values of group g (0..3) of one 96-byte step: 4 values of each of the 8 rows. */
SL_INLINE __m256i x8_q6_values(const uint8_t *step, int g)
{
    const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(0x30);
    const __m256i l = _mm256_loadu_si256((const __m256i *)(step + 32 * (g & 1)));
    const __m256i hb = _mm256_loadu_si256((const __m256i *)(step + 64));
    const __m256i lo = _mm256_and_si256(g >= 2 ? _mm256_srli_epi16(l, 4) : l, m4);
    __m256i hi = hb;   /* group g's high bits are bits 2g, 2g+1 of each qh byte: move them to 4, 5 */
    if (g == 0) hi = _mm256_slli_epi16(hb, 4);
    else if (g == 1) hi = _mm256_slli_epi16(hb, 2);
    else if (g == 3) hi = _mm256_srli_epi16(hb, 2);
    return _mm256_or_si256(lo, _mm256_and_si256(hi, m2));
}

/* The VNNI form: p = 2u, 2u + 1 share sub-block 8c + 2g + u, so their four vpdpbusd sums meet the
 * scale (as int32) once. */
SL_INLINE void x8_dot_q6k_vnni(const int TT, const uint8_t *blk, const __m256i sv[16], const uint8_t *x, size_t xs,
                               int64_t b, __m256i *isum)
{
    SL_UNROLL
    for (int c = 0; c < 2; c++) {
        SL_UNROLL
        for (int g = 0; g < 4; g++) {
            SL_UNROLL
            for (int u = 0; u < 2; u++) {
                __m256i s[SL_QK_X8_TT];
                SL_UNROLL
                for (int t = 0; t < TT; t++) s[t] = _mm256_setzero_si256();
                SL_UNROLL
                for (int p = 2 * u; p < 2 * u + 2; p++) {
                    const uint8_t *step = blk + 144 + 96 * (8 * c + 2 * p);
                    const __m256i qa = x8_q6_values(step, g), qb = x8_q6_values(step + 96, g);
                    SL_UNROLL
                    for (int t = 0; t < TT; t++) {
                        const int8_t *xq = xblock(x, xs, t, b)->qs + 128 * c + 32 * g + 8 * p;
                        s[t] = x8_dpbusd(x8_dpbusd(s[t], qa, x8_bcast4(xq)), qb, x8_bcast4(xq + 4));
                        SL_KEEP(s[t]);
                    }
                }
                const __m256i sv32 = _mm256_srai_epi32(_mm256_slli_epi32(sv[8 * c + 2 * g + u], 16), 16);
                SL_UNROLL
                for (int t = 0; t < TT; t++) isum[t] = _mm256_add_epi32(isum[t], _mm256_mullo_epi32(s[t], sv32));
            }
        }
    }
}

/* The maddubs form: int16 pair sums of two value groups, madd with the (scale, scale) pairs. */
SL_INLINE void x8_dot_q6k_pairs(const int TT, const uint8_t *blk, const __m256i sv[16], const uint8_t *x,
                                size_t xs, int64_t b, __m256i *isum)
{
    SL_UNROLL
    for (int c = 0; c < 2; c++) {
        SL_UNROLL
        for (int p = 0; p < 4; p++) {
            const uint8_t *step = blk + 144 + 96 * (8 * c + 2 * p);
            SL_UNROLL
            for (int g = 0; g < 4; g++) {
                const __m256i qa = x8_q6_values(step, g), qb = x8_q6_values(step + 96, g);
                SL_UNROLL
                for (int t = 0; t < TT; t++) {
                    const int8_t *xq = xblock(x, xs, t, b)->qs + 128 * c + 32 * g + 8 * p;
                    const __m256i s16 = _mm256_add_epi16(_mm256_maddubs_epi16(qa, x8_bcast4(xq)),
                                                         _mm256_maddubs_epi16(qb, x8_bcast4(xq + 4)));
                    isum[t] = _mm256_add_epi32(isum[t], _mm256_madd_epi16(s16, sv[8 * c + 2 * g + p / 2]));
                    SL_KEEP(isum[t]);
                }
            }
        }
    }
}

/* isum[t] += the scaled dot of one q6_K super-block of 8 rows (blk) with token t's q8_K block.
 * For value chunk c (128 values) and p (values 8p .. 8p+7 of each group of 32): steps 8c + 2p + h
 * (h = 0, 1; ql chunks 16c + 2p + h, 16c + 8 + 2p + h, qh chunk 8c + 2p + h) give the values of
 * groups g = 0..3, which meet activations 128c + 32g + 8p + 4h and are in sub-block 8c + 2g + p/2.
 * Both forms give the same exact integers. */
SL_INLINE void x8_dot_q6k(const int TT, const uint8_t *blk, const __m256i sv[16], const uint8_t *x, size_t xs,
                          int64_t b, __m256i *isum)
{
    if (SL_X8_QK_VNNI(TT)) x8_dot_q6k_vnni(TT, blk, sv, x, xs, b, isum);
    else x8_dot_q6k_pairs(TT, blk, sv, x, xs, b, isum);
}

SL_INLINE void x8_tile_q6k(const int TT, int64_t nbc, const uint8_t *wg, const uint8_t *x, size_t xs,
                           const qk_xtab *xt, float *y, int64_t ldy, int accumulate)
{
    __m256 acc[SL_QK_X8_TT];
    SL_UNROLL
    for (int t = 0; t < TT; t++) acc[t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nbc; b++) {
        const uint8_t *blk = wg + (size_t)b * SL_X8_Q6K_BYTES;
        sl_prefetch_bytes(blk + SL_X8_PREFETCH * SL_X8_Q6K_BYTES, SL_X8_Q6K_BYTES);
        __m256i sv[16], isum[SL_QK_X8_TT];
        x8_scales_q6k(TT, blk + 16, x, xs, b, sv, isum);
        x8_dot_q6k(TT, blk, sv, x, xs, b, isum);
        const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)blk));
        SL_UNROLL
        for (int t = 0; t < TT; t++) acc[t] = x8_fold(acc[t], isum[t], d, NULL, d, &xt->dx[b][t]);
    }
    x8_store(TT, acc, y, ldy, accumulate);
}

/* Groups [rb, re) (multiples of 8) x tt tokens of one K chunk. */
SL_INLINE void x8_qk_groups(const int kind, int tt, int64_t nbc, const uint8_t *wk, size_t ws, const uint8_t *x,
                            size_t xs, const qk_xtab *xt, float *y, int64_t ldy, int64_t rb, int64_t re, int accumulate)
{
    for (int64_t g = rb; g < re; g += 8) {
        const uint8_t *wg = wk + (size_t)g * ws;
#define SL_X8_QK_CASE(TT)                                                                         \
        if (kind == 4) x8_tile_q4k(TT, nbc, wg, x, xs, xt, y + g, ldy, accumulate);              \
        else x8_tile_q6k(TT, nbc, wg, x, xs, xt, y + g, ldy, accumulate)
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
