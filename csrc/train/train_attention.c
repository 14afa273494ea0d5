/* train_attention.c — causal GQA attention forward (saving log-sum-exp) and backward
 * (recomputing probabilities per block of BR query rows), causal with an optional sliding window.
 * Contract in train_attention.h.
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

/* A block of query rows [i0, i0+rows) sees key columns [c0, c0+ncols); row r's visible keys are
 * [lo, hi) relative to c0. */
typedef struct att_block {
    int64_t i0, rows, c0, ncols;
} att_block;

static att_block block_at(sl_train_att_dims d, int64_t i0)
{
    const int64_t rows = min64(BR, d.S - i0);
    const int64_t c0 = d.window > 0 && i0 - d.window + 1 > 0 ? i0 - d.window + 1 : 0;
    return (att_block){i0, rows, c0, i0 + rows - c0};
}

static void visible(sl_train_att_dims d, att_block bl, int64_t r, int64_t *lo, int64_t *hi)
{
    const int64_t i = bl.i0 + r;
    const int64_t first = d.window > 0 && i - d.window + 1 > bl.c0 ? i - d.window + 1 : bl.c0;
    *lo = first - bl.c0;
    *hi = i + 1 - bl.c0;
}

/* Zero the masked entries of a row outside [lo, hi). */
static void zero_outside(float *row, int64_t lo, int64_t hi, int64_t ncols)
{
    for (int64_t j = 0; j < lo; j++) row[j] = 0.0f;
    for (int64_t j = hi; j < ncols; j++) row[j] = 0.0f;
}

/* Softmax of the visible part of each row of a score block (ld = ncols), zero elsewhere;
 * lse[i] receives the log-sum-exp of row i. */
static void softmax_block(const sl_train_vec *v, sl_train_att_dims d, att_block bl, float *P, float *lse)
{
    for (int64_t r = 0; r < bl.rows; r++) {
        float *row = P + r * bl.ncols;
        int64_t lo, hi;
        visible(d, bl, r, &lo, &hi);
        const float mx = v->max(hi - lo, row + lo);
        const float s = v->exp_sum(hi - lo, row + lo, mx, row + lo);
        const float inv = 1.0f / s;
        for (int64_t j = lo; j < hi; j++) row[j] *= inv;
        zero_outside(row, lo, hi, bl.ncols);
        lse[bl.i0 + r] = mx + logf(s);
    }
}

static void head_fwd(const sl_tgemm_ws *ws, int tid, sl_train_att_dims d, const float *qkv, float *att,
                     float *lse, float *P, int64_t b, int64_t h)
{
    const sl_train_vec *v = sl_train_vec_table();
    const head_view hv = head_at(d, b, h);
    const float scale = 1.0f / sqrtf((float)d.Dh);
    for (int64_t i0 = 0; i0 < d.S; i0 += BR) {
        const att_block bl = block_at(d, i0);
        const float *k = qkv + hv.k_off + bl.c0 * hv.W, *vv = qkv + hv.v_off + bl.c0 * hv.W;
        sl_tgemm_serial(ws, tid, bl.rows, bl.ncols, d.Dh, scale, sl_tgemm_n(qkv + hv.q_off + i0 * hv.W, hv.W),
                        sl_tgemm_t(k, hv.W), 0.0f, P, bl.ncols);
        softmax_block(v, d, bl, P, lse);
        sl_tgemm_serial(ws, tid, bl.rows, d.Dh, bl.ncols, 1.0f, sl_tgemm_n(P, bl.ncols), sl_tgemm_n(vv, hv.W),
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

/* P = exp(scale * q k^T - lse) on the visible part, 0 elsewhere. */
static void recompute_probs(const sl_train_vec *v, sl_train_att_dims d, att_block bl, float *P, const float *lse)
{
    for (int64_t r = 0; r < bl.rows; r++) {
        float *row = P + r * bl.ncols;
        int64_t lo, hi;
        visible(d, bl, r, &lo, &hi);
        v->exp_sum(hi - lo, row + lo, lse[bl.i0 + r], row + lo);
        zero_outside(row, lo, hi, bl.ncols);
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
        const att_block bl = block_at(d, i0);
        const int64_t rows = bl.rows, ncols = bl.ncols;
        const float *q_blk = qkv + hv.q_off + i0 * hv.W, *do_blk = datt + hv.o_off + i0 * hv.Q;
        const float *k = qkv + hv.k_off + bl.c0 * hv.W, *vv = qkv + hv.v_off + bl.c0 * hv.W;
        float *dk = dqkv + hv.k_off + bl.c0 * hv.W, *dv = dqkv + hv.v_off + bl.c0 * hv.W;
        sl_tgemm_serial(ws, tid, rows, ncols, d.Dh, scale, sl_tgemm_n(q_blk, hv.W), sl_tgemm_t(k, hv.W), 0.0f, P,
                        ncols);
        recompute_probs(v, d, bl, P, lse);
        /* dV += P^T dO */
        sl_tgemm_serial(ws, tid, ncols, d.Dh, rows, 1.0f, sl_tgemm_t(P, ncols), sl_tgemm_n(do_blk, hv.Q), 1.0f, dv,
                        hv.W);
        /* dP = dO V^T; dS = P * (dP - drow) */
        sl_tgemm_serial(ws, tid, rows, ncols, d.Dh, 1.0f, sl_tgemm_n(do_blk, hv.Q), sl_tgemm_t(vv, hv.W), 0.0f, dP,
                        ncols);
        for (int64_t r = 0; r < rows; r++) {
            float *ds = dP + r * ncols;
            const float *p = P + r * ncols, dr = drow[i0 + r];
            for (int64_t j = 0; j < ncols; j++) ds[j] = p[j] * (ds[j] - dr);
        }
        /* dQ = scale dS K; dK += scale dS^T Q */
        sl_tgemm_serial(ws, tid, rows, d.Dh, ncols, scale, sl_tgemm_n(dP, ncols), sl_tgemm_n(k, hv.W), 0.0f,
                        dqkv + hv.q_off + i0 * hv.W, hv.W);
        sl_tgemm_serial(ws, tid, ncols, d.Dh, rows, scale, sl_tgemm_t(dP, ncols), sl_tgemm_n(q_blk, hv.W), 1.0f, dk,
                        hv.W);
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
