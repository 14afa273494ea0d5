/* train_ops.h — the element-wise layers of training, forward and backward: embedding, RMSNorm
 * (over whole rows or per head), RoPE (HF rotate_half pairs (i, i + Dh/2)), SwiGLU. Each takes
 * the thread count and parallelises its outer loop with OpenMP. */
#ifndef SL_TRAIN_OPS_H
#define SL_TRAIN_OPS_H

#include <stdbool.h>
#include <stdint.h>

/* Element-wise work below this many elements runs on the calling thread: a parallel region costs
 * more than it saves there, most of all when the cores are shared. */
#define SL_TRAIN_PAR_MIN ((int64_t)1 << 18)

/* x (N, D) = E[ids[n]]; ids already validated in [0, V). */
void sl_train_embed_fwd(int nt, int64_t N, int64_t D, const int32_t *ids, const float *E, float *x);
/* dE[ids[n]] += dx[n] (threads own column ranges, so no two write the same element). */
void sl_train_embed_bwd(int nt, int64_t N, int64_t D, const int32_t *ids, const float *dx, float *dE);

/* Grouped rows: row (n, g) of width Dw starts at p + n*ld + g*Dw, for n < N, g < G.
 * RMSNorm: y = x * rstd * w with rstd = 1/sqrt(mean(x^2) + eps), saved at rstd[n*ldr + g]. */
typedef struct sl_train_rows {
    int64_t N, G, Dw;
} sl_train_rows;

void sl_train_rmsnorm_fwd(int nt, sl_train_rows r, const float *x, int64_t ldx, const float *w, float eps,
                          float *y, int64_t ldy, float *rstd, int64_t ldr);
/* dx = (or +=, when accumulate) d/dx of <dy, y>; dw += d/dw (dw may be NULL). dx must not alias x
 * unless accumulate is false. */
void sl_train_rmsnorm_bwd(int nt, sl_train_rows r, const float *x, int64_t ldx, const float *w,
                          const float *rstd, int64_t ldr, const float *dy, int64_t ldy, float *dx,
                          int64_t lddx, bool accumulate, float *dw);

/* RoPE on G heads of Dh per row (row n at position n % S), in place; cos/sin (S, Dh/2).
 * inverse applies the transposed rotation (the backward pass). */
void sl_train_rope(int nt, int64_t N, int64_t S, int64_t G, int64_t Dh, float *x, int64_t ld,
                   const float *cos_t, const float *sin_t, bool inverse);
/* cos/sin tables (S, Dh/2) for positions 0..S-1: angle = (float)pos * inv_freq[i]. */
void sl_train_rope_tables(int64_t S, int64_t Dh, const float *inv_freq, float *cos_t, float *sin_t);

/* act (N, F) = silu(g) * u where gu rows are g (F) | u (F). */
void sl_train_swiglu_fwd(int nt, int64_t N, int64_t F, const float *gu, float *act);
/* dgu (N, 2F) from dact (N, F). */
void sl_train_swiglu_bwd(int nt, int64_t N, int64_t F, const float *gu, const float *dact, float *dgu);

/* y += x over n elements, threaded. */
void sl_train_add(int nt, int64_t n, const float *x, float *y);

#endif /* SL_TRAIN_OPS_H */
