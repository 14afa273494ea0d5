/* train_attention.c — causal GQA attention forward (saving log-sum-exp) and backward
 * (recomputing probabilities per block of BR query rows). Contract in train_attention.h.
 * The forward runs one task per (batch, head); the backward one task per (batch, kv head), so
 * that the K/V gradients of a group of query heads are written by one thread only. */
#include <math.h>
#include <string.h>

#include "train/train_attention.h"
#include "train/train_vec.h"

#define BR SL_TRAIN_ATT_BR

static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* Pointers of one (batch, head) into the fused rows. */
typedef struct head_view {
    int64_t W, Q;         /* row strides of qkv and att */
    int64_t q_off, k_off, v_off, o_off;
} head_view;

static head_view head_at(sl_train_att_dims d, int64_t b, int64_t h)
{
    const int64_t Q = d.H * d.Dh, KV = d.Hkv * d.Dh, W = Q + 2 * KV, hk = h / (d.H / d.Hkv);
    const int64_t row0 = b * d.S;
    return (head_view){W, Q, row0 * W + h * d.Dh, row0 * W + Q + hk * d.Dh, row0 * W + Q + KV + hk * d.Dh,
                       row0 * Q + h * d.Dh};
}

/* Softmax of the causal part of rows i0..i0+rows of a score block (ld = ncols), zeroing the
 * masked tail; lse[i] receives the log-sum-exp of row i. */
static void softmax_block(const sl_train_vec *v, float *P, int64_t rows, int64_t ncols, int64_t i0, float *lse)
{
    for (int64_t r = 0; r < rows; r++) {
        float *row = P + r * ncols;
        const int64_t n = i0 + r + 1;
        const float mx = v->max(n, row);
        const float s = v->exp_sum(n, row, mx, row);
        const float inv = 1.0f / s;
        for (int64_t j = 0; j < n; j++) row[j] *= inv;
        for (int64_t j = n; j < ncols; j++) row[j] = 0.0f;
        lse[i0 + r] = mx + logf(s);
    }
}

static void head_fwd(const sl_tgemm_ws *ws, int tid, sl_train_att_dims d, const float *qkv, float *att,
                     float *lse, float *P, int64_t b, int64_t h)
{
    const sl_train_vec *v = sl_train_vec_table();
    const head_view hv = head_at(d, b, h);
    const float scale = 1.0f / sqrtf((float)d.Dh);
    for (int64_t i0 = 0; i0 < d.S; i0 += BR) {
        const int64_t rows = min64(BR, d.S - i0), ncols = i0 + rows;
        sl_tgemm_serial(ws, tid, rows, ncols, d.Dh, scale, sl_tgemm_n(qkv + hv.q_off + i0 * hv.W, hv.W),
                        sl_tgemm_t(qkv + hv.k_off, hv.W), 0.0f, P, ncols);
        softmax_block(v, P, rows, ncols, i0, lse);
        sl_tgemm_serial(ws, tid, rows, d.Dh, ncols, 1.0f, sl_tgemm_n(P, ncols), sl_tgemm_n(qkv + hv.v_off, hv.W),
                        0.0f, att + hv.o_off + i0 * hv.Q, hv.Q);
    }
}

void sl_train_attention_fwd(const sl_tgemm_ws *ws, sl_train_att_dims d, const float *qkv, float *att,
                            float *lse, float *scr)
{
    const int64_t tasks = d.B * d.H;
#pragma omp parallel num_threads(ws->n_threads)
    {
        const int tid = omp_get_thread_num();
        float *P = scr + (size_t)tid * 2 * BR * d.S;
#pragma omp for schedule(dynamic, 1)
        for (int64_t task = 0; task < tasks; task++) {
            const int64_t b = task / d.H, h = task % d.H;
            head_fwd(ws, tid, d, qkv, att, lse + task * d.S, P, b, h);
        }
    }
}

/* P = exp(scale * q k^T - lse) on the causal part (0 above the diagonal). */
static void recompute_probs(const sl_train_vec *v, float *P, int64_t rows, int64_t ncols, int64_t i0,
                            const float *lse)
{
    for (int64_t r = 0; r < rows; r++) {
        float *row = P + r * ncols;
        const int64_t n = i0 + r + 1;
        v->exp_sum(n, row, lse[i0 + r], row);
        for (int64_t j = n; j < ncols; j++) row[j] = 0.0f;
    }
}

/* One query head's contribution: dq of its rows, += dk and dv of its kv head. */
static void head_bwd(const sl_tgemm_ws *ws, int tid, sl_train_att_dims d, const float *qkv, const float *att,
                     const float *lse, const float *datt, float *dqkv, float *drow, float *scr, int64_t b, int64_t h)
{
    const sl_train_vec *v = sl_train_vec_table();
    const head_view hv = head_at(d, b, h);
    const float scale = 1.0f / sqrtf((float)d.Dh);
    float *P = scr, *dP = scr + BR * d.S;
    for (int64_t i = 0; i < d.S; i++) {      /* drow[i] = <dO_i, O_i> */
        const float *o = att + hv.o_off + i * hv.Q, *dout = datt + hv.o_off + i * hv.Q;
        float s = 0.0f;
        for (int64_t k = 0; k < d.Dh; k++) s += o[k] * dout[k];
        drow[i] = s;
    }
    for (int64_t i0 = 0; i0 < d.S; i0 += BR) {
        const int64_t rows = min64(BR, d.S - i0), ncols = i0 + rows;
        const float *q_blk = qkv + hv.q_off + i0 * hv.W, *do_blk = datt + hv.o_off + i0 * hv.Q;
        sl_tgemm_serial(ws, tid, rows, ncols, d.Dh, scale, sl_tgemm_n(q_blk, hv.W), sl_tgemm_t(qkv + hv.k_off, hv.W),
                        0.0f, P, ncols);
        recompute_probs(v, P, rows, ncols, i0, lse);
        /* dV += P^T dO */
        sl_tgemm_serial(ws, tid, ncols, d.Dh, rows, 1.0f, sl_tgemm_t(P, ncols), sl_tgemm_n(do_blk, hv.Q), 1.0f,
                        dqkv + hv.v_off, hv.W);
        /* dP = dO V^T; dS = P * (dP - drow) */
        sl_tgemm_serial(ws, tid, rows, ncols, d.Dh, 1.0f, sl_tgemm_n(do_blk, hv.Q), sl_tgemm_t(qkv + hv.v_off, hv.W),
                        0.0f, dP, ncols);
        for (int64_t r = 0; r < rows; r++) {
            float *ds = dP + r * ncols;
            const float *p = P + r * ncols, dr = drow[i0 + r];
            for (int64_t j = 0; j < ncols; j++) ds[j] = p[j] * (ds[j] - dr);
        }
        /* dQ = scale dS K; dK += scale dS^T Q */
        sl_tgemm_serial(ws, tid, rows, d.Dh, ncols, scale, sl_tgemm_n(dP, ncols), sl_tgemm_n(qkv + hv.k_off, hv.W),
                        0.0f, dqkv + hv.q_off + i0 * hv.W, hv.W);
        sl_tgemm_serial(ws, tid, ncols, d.Dh, rows, scale, sl_tgemm_t(dP, ncols), sl_tgemm_n(q_blk, hv.W), 1.0f,
                        dqkv + hv.k_off, hv.W);
    }
}

void sl_train_attention_bwd(const sl_tgemm_ws *ws, sl_train_att_dims d, const float *qkv, const float *att,
                            const float *lse, const float *datt, float *dqkv, float *drow, float *scr)
{
    const int64_t tasks = d.B * d.Hkv, group = d.H / d.Hkv;
#pragma omp parallel num_threads(ws->n_threads)
    {
        const int tid = omp_get_thread_num();
        float *my_scr = scr + (size_t)tid * 2 * BR * d.S;
#pragma omp for schedule(dynamic, 1)
        for (int64_t task = 0; task < tasks; task++) {
            const int64_t b = task / d.Hkv, hk = task % d.Hkv;
            const head_view hv = head_at(d, b, hk * group);
            for (int64_t i = 0; i < d.S; i++) {     /* this kv head's dk, dv rows start at zero */
                memset(dqkv + hv.k_off + i * hv.W, 0, (size_t)d.Dh * sizeof(float));
                memset(dqkv + hv.v_off + i * hv.W, 0, (size_t)d.Dh * sizeof(float));
            }
            for (int64_t h = hk * group; h < (hk + 1) * group; h++)
                head_bwd(ws, tid, d, qkv, att, lse + (b * d.H + h) * d.S, datt, dqkv, drow + (b * d.H + h) * d.S,
                         my_scr, b, h);
        }
    }
}
