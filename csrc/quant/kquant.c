/* kquant.c — the scale searches shared by the k-quant quantizers (q4_K, q5_K, q6_K).
 *
 * These follow ggml's reference quantizers (no importance matrix) operation for operation, in
 * float, in the same order, so the bytes they produce equal llama.cpp's: an asymmetric fit
 * x ~ scale*L - min over a 32-element sub-block with a grid search over the inverse scale, a
 * symmetric fit x ~ scale*(L - nmax) weighted by x^2 with a search over 18 perturbed scales, and
 * the 6-bit packing of q4_K/q5_K sub-block scales and mins. */
#include <math.h>

#include "kernels/fp16.h"
#include "quant/quant.h"

#define SL_KQ_GROUP_MAX_EPS 1e-15f

static inline int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Weighted squared error of x ~ scale*L + min. */
static float fit_error(int n, const float *x, const float *w, const uint8_t *L, float scale, float min)
{
    float err = 0.0f;
    for (int i = 0; i < n; i++) {
        float diff = scale * (float)L[i] + min - x[i];
        err += w[i] * (diff * diff);
    }
    return err;
}

float sl_kq_fit_scale_min(int n, int nmax, const float *x, const float *w, uint8_t *L, float *the_min,
                          uint8_t *Laux, float rmin, float rdelta, int nstep)
{
    float min = x[0], max = x[0], sum_w = w[0], sum_x = sum_w * x[0];
    for (int i = 1; i < n; i++) {
        if (x[i] < min) min = x[i];
        if (x[i] > max) max = x[i];
        sum_w += w[i];
        sum_x += w[i] * x[i];
    }
    if (min > 0.0f) min = 0.0f;
    if (max == min) {
        memset(L, 0, (size_t)n);
        *the_min = -min;
        return 0.0f;
    }
    float iscale = (float)nmax / (max - min), scale = 1.0f / iscale;
    for (int i = 0; i < n; i++) L[i] = (uint8_t)clampi(sl_kq_nearest_int(iscale * (x[i] - min)), 0, nmax);
    float best = fit_error(n, x, w, L, scale, min);
    for (int is = 0; is <= nstep; is++) {
        iscale = (rmin + rdelta * (float)is + (float)nmax) / (max - min);
        float sum_l = 0.0f, sum_l2 = 0.0f, sum_xl = 0.0f;
        for (int i = 0; i < n; i++) {
            int l = clampi(sl_kq_nearest_int(iscale * (x[i] - min)), 0, nmax);
            Laux[i] = (uint8_t)l;
            sum_l += w[i] * (float)l;
            sum_l2 += w[i] * (float)l * (float)l;
            sum_xl += w[i] * (float)l * x[i];
        }
        float D = sum_w * sum_l2 - sum_l * sum_l;
        if (D > 0.0f) {
            float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
            float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
            if (this_min > 0.0f) {
                this_min = 0.0f;
                this_scale = sum_xl / sum_l2;
            }
            float err = fit_error(n, x, w, Laux, this_scale, this_min);
            if (err < best) {
                memcpy(L, Laux, (size_t)n);
                best = err;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    *the_min = -min;
    return scale;
}

/* Sums of w*x*l and w*l*l (w = x^2) for levels round(iscale*x) clamped to [-nmax, nmax-1];
 * writes L = l + nmax when L is not NULL. */
static void sym_sums(int n, int nmax, const float *x, float iscale, int8_t *L, float *sumlx, float *suml2)
{
    float slx = 0.0f, sl2 = 0.0f;
    for (int i = 0; i < n; i++) {
        int l = clampi(sl_kq_nearest_int(iscale * x[i]), -nmax, nmax - 1);
        if (L) L[i] = (int8_t)(l + nmax);
        float w = x[i] * x[i];
        slx += w * x[i] * (float)l;
        sl2 += w * (float)l * (float)l;
    }
    *sumlx = slx;
    *suml2 = sl2;
}

float sl_kq_fit_scale_sym(int n, int nmax, const float *x, int8_t *L)
{
    float max = 0.0f, amax = 0.0f;
    for (int i = 0; i < n; i++) {
        float ax = fabsf(x[i]);
        if (ax > amax) {
            amax = ax;
            max = x[i];
        }
    }
    if (amax < SL_KQ_GROUP_MAX_EPS) {
        memset(L, 0, (size_t)n);
        return 0.0f;
    }
    float sumlx, suml2;
    sym_sums(n, nmax, x, (float)-nmax / max, L, &sumlx, &suml2);
    float scale = suml2 != 0.0f ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    for (int is = -9; is <= 9; is++) {
        if (is == 0) continue;
        float iscale = -((float)nmax + 0.1f * (float)is) / max;
        sym_sums(n, nmax, x, iscale, NULL, &sumlx, &suml2);
        if (suml2 > 0.0f && sumlx * sumlx > best * suml2) {
            sym_sums(n, nmax, x, iscale, L, &sumlx, &suml2);
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

void sl_kq_pack_scale_min(const uint8_t ls[8], const uint8_t lm[8], uint8_t out[12])
{
    for (int j = 0; j < 4; j++) {
        out[j] = ls[j];
        out[j + 4] = lm[j];
    }
    for (int j = 4; j < 8; j++) {
        out[j + 4] = (uint8_t)((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
        out[j - 4] |= (uint8_t)((ls[j] >> 4) << 6);
        out[j] |= (uint8_t)((lm[j] >> 4) << 6);
    }
}

/* Quantize a sub-block scale (or min) to 6 bits the way ggml does: round, wrap to a byte, cap at 63. */
static uint8_t six_bits(float v)
{
    uint8_t l = (uint8_t)sl_kq_nearest_int(v);
    return l < 63 ? l : 63;
}

void sl_kq_quantize_4_5(const float *x, int nmax, float rmin, float rdelta, int nstep, sl_half *d,
                        sl_half *dmin, uint8_t scales[12], uint8_t L[SL_QK_K])
{
    float sc[8], mn[8], w[32], max_scale = 0.0f, max_min = 0.0f;
    uint8_t Laux[32], ls[8], lm[8];
    for (int j = 0; j < 8; j++) {
        const float *xs = x + 32 * j;
        float sum_x2 = 0.0f;
        for (int l = 0; l < 32; l++) sum_x2 += xs[l] * xs[l];
        float av_x = sqrtf(sum_x2 / 32.0f);
        for (int l = 0; l < 32; l++) w[l] = av_x + fabsf(xs[l]);
        sc[j] = sl_kq_fit_scale_min(32, nmax, xs, w, L + 32 * j, &mn[j], Laux, rmin, rdelta, nstep);
        if (sc[j] > max_scale) max_scale = sc[j];
        if (mn[j] > max_min) max_min = mn[j];
    }
    float inv_scale = max_scale > 0.0f ? 63.0f / max_scale : 0.0f;
    float inv_min = max_min > 0.0f ? 63.0f / max_min : 0.0f;
    for (int j = 0; j < 8; j++) {
        ls[j] = six_bits(inv_scale * sc[j]);
        lm[j] = six_bits(inv_min * mn[j]);
    }
    sl_kq_pack_scale_min(ls, lm, scales);
    *d = sl_f32_to_f16(max_scale / 63.0f);
    *dmin = sl_f32_to_f16(max_min / 63.0f);
    /* requantize every sub-block with the scales as stored */
    const float fd = sl_f16_to_f32(*d), fm = sl_f16_to_f32(*dmin);
    for (int j = 0; j < 8; j++) {
        uint8_t s, m;
        sl_kq_scale_min(j, scales, &s, &m);
        const float dj = fd * (float)s;
        if (dj == 0.0f) continue;
        const float mj = fm * (float)m;
        for (int i = 0; i < 32; i++)
            L[32 * j + i] = (uint8_t)clampi(sl_kq_nearest_int((x[32 * j + i] + mj) / dj), 0, nmax);
    }
}
