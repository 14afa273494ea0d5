/* forward.c — the one forward pass of every architecture. Block flags from the arch table
 * (pre- or post-norm, QK-norm, sliding window, RoPE per layer) select the variant; tokens are
 * processed in micro-batches (matrix-matrix for prefill, matrix-vector for decode). */
#include <string.h>

#include "kernels/kernels.h"
#include "kernels/matmul.h"
#include "model/attention.h"
#include "runtime/dtype.h"

int64_t sl_session_ubatch(void);

/* y (T, rows of W) = x (T, cols of W) @ W^T */
static sl_status linear(const sl_session *s, const sl_tensor *w, const float *x, int64_t T, float *y)
{
    size_t stride = sl_dtype_row_bytes(w->dtype, w->shape[1]);
    return sl_matmul_with(sl_k, w->dtype, w->layout, w->data, stride, w->shape[0], w->shape[1], x, T, y,
                          s->model->n_threads, s->qscratch);
}

/* y[t] = rmsnorm(x[t]) * w for T rows of n */
static void rmsnorm_rows(const sl_model *m, const sl_tensor *w, const float *x, float *y, int64_t T, int64_t n)
{
    #pragma omp parallel for schedule(static) num_threads(m->n_threads) if (T > 4)
    for (int64_t t = 0; t < T; t++) sl_k->rmsnorm_f32(n, x + t * n, w->data, m->hp.rms_eps, y + t * n);
}

static void add_rows(float *x, const float *y, int64_t n) { sl_k->axpy_f32(n, 1.0f, y, x); }

static sl_status embed(const sl_model *m, const int32_t *tokens, int64_t T, float *x)
{
    const sl_tensor *e = sl_model_role(m, SL_ROLE_TOK_EMBD, 0);
    int64_t D = m->hp.n_embd;
    size_t row = sl_dtype_row_bytes(e->dtype, D);
    for (int64_t t = 0; t < T; t++) {
        if (tokens[t] < 0 || tokens[t] >= e->shape[0])
            return SL_FAIL(SL_ERR_ARG, "token id %d at position %lld is out of range [0, %lld)", tokens[t], (long long)t,
                           (long long)e->shape[0]);
        sl_k->to_float[e->dtype](D, (const char *)e->data + (size_t)tokens[t] * row, x + t * D);
    }
    return SL_OK;
}

static sl_status attention_block(sl_session *s, int64_t il, int64_t T)
{
    const sl_model *m = s->model;
    const sl_hparams *hp = &m->hp;
    int64_t D = hp->n_embd;
    const float *in = s->x;
    if (!hp->post_norm) { rmsnorm_rows(m, sl_model_role(m, SL_ROLE_ATTN_NORM, il), s->x, s->o, T, D); in = s->o; }
    SL_TRY(linear(s, sl_model_role(m, SL_ROLE_WQ, il), in, T, s->q));
    SL_TRY(linear(s, sl_model_role(m, SL_ROLE_WK, il), in, T, s->k));
    SL_TRY(linear(s, sl_model_role(m, SL_ROLE_WV, il), in, T, s->v));
    sl_attn_prepare(m, il, s->q, s->k, T, s->n_past);
    sl_attn_store_kv(s, il, s->k, s->v, T);
    sl_attn_compute(s, il, s->q, T, s->h);
    SL_TRY(linear(s, sl_model_role(m, SL_ROLE_WO, il), s->h, T, s->o));
    if (hp->post_norm) rmsnorm_rows(m, sl_model_role(m, SL_ROLE_POST_ATTN_NORM, il), s->o, s->o, T, D);
    add_rows(s->x, s->o, T * D);
    return SL_OK;
}

static sl_status ffn_block(sl_session *s, int64_t il, int64_t T)
{
    const sl_model *m = s->model;
    const sl_hparams *hp = &m->hp;
    int64_t D = hp->n_embd, F = hp->n_ff;
    const float *in = s->x;
    if (!hp->post_norm) { rmsnorm_rows(m, sl_model_role(m, SL_ROLE_FFN_NORM, il), s->x, s->o, T, D); in = s->o; }
    SL_TRY(linear(s, sl_model_role(m, SL_ROLE_W_GATE, il), in, T, s->g));
    SL_TRY(linear(s, sl_model_role(m, SL_ROLE_W_UP, il), in, T, s->u));
    sl_k->silu_mul_f32(T * F, s->g, s->u, s->g);
    SL_TRY(linear(s, sl_model_role(m, SL_ROLE_W_DOWN, il), s->g, T, s->o));
    if (hp->post_norm) rmsnorm_rows(m, sl_model_role(m, SL_ROLE_POST_FFN_NORM, il), s->o, s->o, T, D);
    add_rows(s->x, s->o, T * D);
    return SL_OK;
}

static void save_hidden(float *hidden, int64_t layer, int64_t T_total, int64_t t0, const float *x, int64_t T, int64_t D)
{
    if (hidden) memcpy(hidden + ((size_t)layer * (size_t)T_total + (size_t)t0) * (size_t)D, x, (size_t)(T * D) * sizeof(float));
}

/* Final norm and LM head for rows [first, T) of the micro-batch into logits. */
static sl_status output_head(sl_session *s, int64_t first, int64_t T, float *logits)
{
    const sl_model *m = s->model;
    int64_t D = m->hp.n_embd;
    const sl_tensor *out = sl_model_role(m, SL_ROLE_OUTPUT, 0);
    if (!out) out = sl_model_role(m, SL_ROLE_TOK_EMBD, 0);
    rmsnorm_rows(m, sl_model_role(m, SL_ROLE_OUTPUT_NORM, 0), s->x + first * D, s->o, T - first, D);
    return linear(s, out, s->o, T - first, logits);
}

static sl_status forward_ubatch(const sl_model *m, sl_session *s, const int32_t *tokens, int64_t T, int64_t t0,
                                int64_t T_total, float *logits_rows, bool want_last_only, float *hidden)
{
    int64_t D = m->hp.n_embd;
    SL_TRY(embed(m, tokens, T, s->x));
    save_hidden(hidden, 0, T_total, t0, s->x, T, D);
    for (int64_t il = 0; il < m->hp.n_layers; il++) {
        SL_TRY(attention_block(s, il, T));
        SL_TRY(ffn_block(s, il, T));
        save_hidden(hidden, il + 1, T_total, t0, s->x, T, D);
    }
    if (logits_rows) SL_TRY(output_head(s, want_last_only ? T - 1 : 0, T, logits_rows));
    s->n_past += T;
    return SL_OK;
}

sl_status sl_model_forward(const sl_model *m, sl_session *s, const int32_t *tokens, int64_t T,
                           float *logits, bool logits_all, float *hidden)
{
    if (s->model != m) return SL_FAIL(SL_ERR_ARG, "the session belongs to another model");
    if (T <= 0) return SL_FAIL(SL_ERR_ARG, "no tokens to run");
    if (T > s->n_ctx - s->n_past)
        return SL_FAIL(SL_ERR_ARG, "context overflow: %lld tokens in the session + %lld new > n_ctx %lld",
                       (long long)s->n_past, (long long)T, (long long)s->n_ctx);
    for (int64_t t = 0; t < T; t++)
        if (tokens[t] < 0 || tokens[t] >= m->hp.n_vocab)
            return SL_FAIL(SL_ERR_ARG, "token id %d at position %lld is out of range [0, %lld)", tokens[t], (long long)t,
                           (long long)m->hp.n_vocab);
    int64_t ub = sl_session_ubatch();
    SL_TRY(sl_session_reserve(s, T < ub ? T : ub));
    int64_t start_past = s->n_past;
    for (int64_t t0 = 0; t0 < T; t0 += ub) {
        int64_t n = T - t0 < ub ? T - t0 : ub;
        bool last = t0 + n == T;
        float *rows = NULL;
        if (logits && logits_all) rows = logits + (size_t)t0 * (size_t)m->hp.n_vocab;
        else if (logits && last) rows = logits;
        sl_status st = forward_ubatch(m, s, tokens + t0, n, t0, T, rows, !logits_all, hidden);
        if (st != SL_OK) { s->n_past = start_past; return st; }
    }
    return SL_OK;
}
