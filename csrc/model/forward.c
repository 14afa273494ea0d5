/* forward.c — the one forward pass of every architecture. Block flags from the arch table
 * (pre- or post-norm, QK-norm, sliding window, RoPE per layer) select the variant; tokens are
 * processed in micro-batches of stacked rows (matrix-matrix for prefill, matrix-vector for
 * decode). The layer stack here also serves forward_multi.c: only attention looks at which
 * sequence a row belongs to. */
#include "model/forward.h"

#include <string.h>

#include "kernels/kernels.h"
#include "kernels/matmul.h"
#include "model/attention.h"
#include "runtime/dtype.h"

/* y (T, rows of W) = x (T, cols of W) @ W^T */
static sl_status linear(const sl_workspace *w, const sl_tensor *wt, const float *x, int64_t T, float *y)
{
    size_t stride = sl_dtype_row_bytes(wt->dtype, wt->shape[1]);
    return sl_matmul_with(sl_k, wt->dtype, wt->layout, wt->data, stride, wt->shape[0], wt->shape[1], x, T, y,
                          w->model->n_threads, w->qscratch);
}

/* y[t] = rmsnorm(x[t]) * w for T rows of n */
static void rmsnorm_rows(const sl_model *m, const sl_tensor *w, const float *x, float *y, int64_t T, int64_t n)
{
    #pragma omp parallel for schedule(static) num_threads(m->n_threads) if (T > 4)
    for (int64_t t = 0; t < T; t++) sl_k->rmsnorm_f32(n, x + t * n, w->data, m->hp.rms_eps, y + t * n);
}

static void add_rows(float *x, const float *y, int64_t n) { sl_k->axpy_f32(n, 1.0f, y, x); }

static void embed(const sl_model *m, const int32_t *tokens, int64_t T, float *x)
{
    const sl_tensor *e = sl_model_role(m, SL_ROLE_TOK_EMBD, 0);
    int64_t D = m->hp.n_embd;
    size_t row = sl_dtype_row_bytes(e->dtype, D);
    for (int64_t t = 0; t < T; t++)
        sl_k->to_float[e->dtype](D, (const char *)e->data + (size_t)tokens[t] * row, x + t * D);
}

static sl_status attention_block(const sl_model *m, sl_workspace *w, int64_t il, int64_t T)
{
    const sl_hparams *hp = &m->hp;
    int64_t D = hp->n_embd;
    const float *in = w->x;
    if (!hp->post_norm) { rmsnorm_rows(m, sl_model_role(m, SL_ROLE_ATTN_NORM, il), w->x, w->o, T, D); in = w->o; }
    SL_TRY(linear(w, sl_model_role(m, SL_ROLE_WQ, il), in, T, w->q));
    SL_TRY(linear(w, sl_model_role(m, SL_ROLE_WK, il), in, T, w->k));
    SL_TRY(linear(w, sl_model_role(m, SL_ROLE_WV, il), in, T, w->v));
    sl_attn_prepare(m, il, w->q, w->k, T, w->row_pos);
    sl_attn_store_kv(w, il, T);
    sl_attn_compute(w, il, T);
    SL_TRY(linear(w, sl_model_role(m, SL_ROLE_WO, il), w->h, T, w->o));
    if (hp->post_norm) rmsnorm_rows(m, sl_model_role(m, SL_ROLE_POST_ATTN_NORM, il), w->o, w->o, T, D);
    add_rows(w->x, w->o, T * D);
    return SL_OK;
}

static sl_status ffn_block(const sl_model *m, sl_workspace *w, int64_t il, int64_t T)
{
    const sl_hparams *hp = &m->hp;
    int64_t D = hp->n_embd, F = hp->n_ff;
    const float *in = w->x;
    if (!hp->post_norm) { rmsnorm_rows(m, sl_model_role(m, SL_ROLE_FFN_NORM, il), w->x, w->o, T, D); in = w->o; }
    SL_TRY(linear(w, sl_model_role(m, SL_ROLE_W_GATE, il), in, T, w->g));
    SL_TRY(linear(w, sl_model_role(m, SL_ROLE_W_UP, il), in, T, w->u));
    sl_k->silu_mul_f32(T * F, w->g, w->u, w->g);
    SL_TRY(linear(w, sl_model_role(m, SL_ROLE_W_DOWN, il), w->g, T, w->o));
    if (hp->post_norm) rmsnorm_rows(m, sl_model_role(m, SL_ROLE_POST_FFN_NORM, il), w->o, w->o, T, D);
    add_rows(w->x, w->o, T * D);
    return SL_OK;
}

static void save_hidden(float *hidden, int64_t layer, int64_t T_total, int64_t t0, const float *x, int64_t T, int64_t D)
{
    if (hidden) memcpy(hidden + ((size_t)layer * (size_t)T_total + (size_t)t0) * (size_t)D, x, (size_t)(T * D) * sizeof(float));
}

sl_status sl_forward_layers(const sl_model *m, sl_workspace *w, const int32_t *tokens, int64_t T,
                            float *hidden, int64_t T_total, int64_t t0)
{
    int64_t D = m->hp.n_embd;
    embed(m, tokens, T, w->x);
    save_hidden(hidden, 0, T_total, t0, w->x, T, D);
    for (int64_t il = 0; il < m->hp.n_layers; il++) {
        SL_TRY(attention_block(m, w, il, T));
        SL_TRY(ffn_block(m, w, il, T));
        save_hidden(hidden, il + 1, T_total, t0, w->x, T, D);
    }
    return SL_OK;
}

sl_status sl_forward_logits(const sl_model *m, sl_workspace *w, int64_t n, float *logits)
{
    int64_t D = m->hp.n_embd;
    const sl_tensor *out = sl_model_role(m, SL_ROLE_OUTPUT, 0);
    if (!out) out = sl_model_role(m, SL_ROLE_TOK_EMBD, 0);
    const sl_tensor *norm = sl_model_role(m, SL_ROLE_OUTPUT_NORM, 0);
    #pragma omp parallel for schedule(static) num_threads(m->n_threads) if (n > 4)
    for (int64_t j = 0; j < n; j++) sl_k->rmsnorm_f32(D, w->x + w->sel[j] * D, norm->data, m->hp.rms_eps, w->o + j * D);
    return linear(w, out, w->o, n, logits);
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
    int64_t ub = sl_workspace_ubatch();
    sl_workspace *w = s->ws;
    SL_TRY(sl_workspace_reserve(w, T < ub ? T : ub, s->n_ctx));
    for (int64_t t0 = 0; t0 < T; t0 += ub) {
        int64_t n = T - t0 < ub ? T - t0 : ub;
        for (int64_t t = 0; t < n; t++) {
            w->row_seq[t] = s;
            w->row_pos[t] = s->n_past + t0 + t;
        }
        SL_TRY(sl_forward_layers(m, w, tokens + t0, n, hidden, T, t0));
        if (!logits || (!logits_all && t0 + n < T)) continue;
        int64_t first = logits_all ? 0 : n - 1;
        for (int64_t j = first; j < n; j++) w->sel[j - first] = j;
        SL_TRY(sl_forward_logits(m, w, n - first, logits_all ? logits + (size_t)t0 * (size_t)m->hp.n_vocab : logits));
    }
    s->n_past += T;
    return SL_OK;
}
