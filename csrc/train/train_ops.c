/* train_ops.c — forward and backward of the element-wise training layers (embedding, RMSNorm,
 * RoPE, SwiGLU, residual add). Contracts in train_ops.h. */
#include <math.h>
#include <string.h>

#include "train/train_ops.h"
#include "train/train_vec.h"

static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

void sl_train_embed_fwd(int nt, int64_t N, int64_t D, const int32_t *ids, const float *E, float *x)
{
#pragma omp parallel for num_threads(nt) schedule(static) if (N * D >= SL_TRAIN_PAR_MIN)
    for (int64_t n = 0; n < N; n++) memcpy(x + n * D, E + (int64_t)ids[n] * D, (size_t)D * sizeof(float));
}

void sl_train_embed_bwd(int nt, int64_t N, int64_t D, const int32_t *ids, const float *dx, float *dE)
{
#pragma omp parallel num_threads(nt) if (N * D >= SL_TRAIN_PAR_MIN)
    {
        const int tid = omp_get_thread_num(), n_t = omp_get_num_threads();
        const int64_t per = (D + n_t - 1) / n_t, d0 = tid * per, d1 = min64(D, d0 + per);
        for (int64_t n = 0; n < N; n++) {
            float *dst = dE + (int64_t)ids[n] * D;
            const float *src = dx + n * D;
            for (int64_t d = d0; d < d1; d++) dst[d] += src[d];
        }
    }
}

void sl_train_rmsnorm_fwd(int nt, sl_train_rows r, const float *x, int64_t ldx, const float *w, float eps,
                          float *y, int64_t ldy, float *rstd, int64_t ldr)
{
    const int64_t Dw = r.Dw;
#pragma omp parallel for num_threads(nt) schedule(static) if (r.N * r.G * r.Dw >= SL_TRAIN_PAR_MIN)
    for (int64_t n = 0; n < r.N; n++)
        for (int64_t g = 0; g < r.G; g++) {
            const float *xr = x + n * ldx + g * Dw;
            float *yr = y + n * ldy + g * Dw;
            double ss = 0.0;
            for (int64_t d = 0; d < Dw; d++) ss += (double)xr[d] * xr[d];
            const float rs = (float)(1.0 / sqrt((double)(float)(ss / (double)Dw) + (double)eps));
            rstd[n * ldr + g] = rs;
            for (int64_t d = 0; d < Dw; d++) yr[d] = w[d] * (xr[d] * rs);
        }
}

/* dw[d] += sum over rows of dy * x * rstd; threads own column ranges. */
static void rmsnorm_bwd_weight(int nt, sl_train_rows r, const float *x, int64_t ldx, const float *rstd,
                               int64_t ldr, const float *dy, int64_t ldy, float *dw)
{
    const int64_t Dw = r.Dw;
#pragma omp parallel num_threads(nt) if (r.N * r.G * r.Dw >= SL_TRAIN_PAR_MIN)
    {
        const int tid = omp_get_thread_num(), n_t = omp_get_num_threads();
        const int64_t per = (Dw + n_t - 1) / n_t, d0 = tid * per, d1 = min64(Dw, d0 + per);
        for (int64_t n = 0; n < r.N; n++)
            for (int64_t g = 0; g < r.G; g++) {
                const float *xr = x + n * ldx + g * Dw, *dyr = dy + n * ldy + g * Dw;
                const float rs = rstd[n * ldr + g];
                for (int64_t d = d0; d < d1; d++) dw[d] += dyr[d] * xr[d] * rs;
            }
    }
}

void sl_train_rmsnorm_bwd(int nt, sl_train_rows r, const float *x, int64_t ldx, const float *w,
                          const float *rstd, int64_t ldr, const float *dy, int64_t ldy, float *dx,
                          int64_t lddx, bool accumulate, float *dw)
{
    const int64_t Dw = r.Dw;
    if (dw) rmsnorm_bwd_weight(nt, r, x, ldx, rstd, ldr, dy, ldy, dw);
#pragma omp parallel for num_threads(nt) schedule(static) if (r.N * r.G * r.Dw >= SL_TRAIN_PAR_MIN)
    for (int64_t n = 0; n < r.N; n++)
        for (int64_t g = 0; g < r.G; g++) {
            const float *xr = x + n * ldx + g * Dw, *dyr = dy + n * ldy + g * Dw;
            float *dxr = dx + n * lddx + g * Dw;
            const float rs = rstd[n * ldr + g];
            double dot = 0.0;
            for (int64_t d = 0; d < Dw; d++) dot += (double)dyr[d] * w[d] * xr[d];
            const float c = (float)(dot / (double)Dw) * rs * rs * rs;
            if (accumulate)
                for (int64_t d = 0; d < Dw; d++) dxr[d] += rs * w[d] * dyr[d] - c * xr[d];
            else
                for (int64_t d = 0; d < Dw; d++) dxr[d] = rs * w[d] * dyr[d] - c * xr[d];
        }
}

void sl_train_rope_tables(int64_t S, int64_t Dh, const float *inv_freq, float *cos_t, float *sin_t)
{
    const int64_t half = Dh / 2;
    for (int64_t p = 0; p < S; p++)
        for (int64_t i = 0; i < half; i++) {
            const float ang = (float)p * inv_freq[i];   /* f32 product, as transformers computes it */
            cos_t[p * half + i] = (float)cos((double)ang);
            sin_t[p * half + i] = (float)sin((double)ang);
        }
}

void sl_train_rope(int nt, int64_t N, int64_t S, int64_t G, int64_t Dh, float *x, int64_t ld,
                   const float *cos_t, const float *sin_t, bool inverse)
{
    const int64_t half = Dh / 2;
    const float sgn = inverse ? -1.0f : 1.0f;
#pragma omp parallel for num_threads(nt) schedule(static) if (N * G * Dh >= SL_TRAIN_PAR_MIN)
    for (int64_t n = 0; n < N; n++) {
        const float *c = cos_t + (n % S) * half, *s = sin_t + (n % S) * half;
        for (int64_t g = 0; g < G; g++) {
            float *a = x + n * ld + g * Dh, *b = a + half;
            for (int64_t i = 0; i < half; i++) {
                const float ai = a[i], bi = b[i], si = sgn * s[i];
                a[i] = ai * c[i] - bi * si;
                b[i] = bi * c[i] + ai * si;
            }
        }
    }
}

void sl_train_swiglu_fwd(int nt, int64_t N, int64_t F, const float *gu, float *act)
{
    const sl_train_vec *v = sl_train_vec_table();
#pragma omp parallel for num_threads(nt) schedule(static) if (N * F >= SL_TRAIN_PAR_MIN)
    for (int64_t n = 0; n < N; n++) v->swiglu_fwd(F, gu + n * 2 * F, gu + n * 2 * F + F, act + n * F);
}

void sl_train_swiglu_bwd(int nt, int64_t N, int64_t F, const float *gu, const float *dact, float *dgu)
{
    const sl_train_vec *v = sl_train_vec_table();
#pragma omp parallel for num_threads(nt) schedule(static) if (N * F >= SL_TRAIN_PAR_MIN)
    for (int64_t n = 0; n < N; n++)
        v->swiglu_bwd(F, gu + n * 2 * F, gu + n * 2 * F + F, dact + n * F, dgu + n * 2 * F, dgu + n * 2 * F + F);
}

void sl_train_add(int nt, int64_t n, const float *x, float *y)
{
#pragma omp parallel for num_threads(nt) schedule(static) if (n >= SL_TRAIN_PAR_MIN)
    for (int64_t i = 0; i < n; i++) y[i] += x[i];
}
