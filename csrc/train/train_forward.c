/* train_forward.c — the training forward pass: embedding, the blocks (pre-norm or post-norm,
 * optional QK-norm), the final norm, saving every activation the backward pass needs; and
 * sl_trainer_step_fb, which validates a token batch and runs forward, loss and backward. */
#include <string.h>

#include "runtime/runtime.h"
#include "train/train.h"
#include "train/train_attention.h"
#include "train/train_ops.h"

typedef struct dims {
    int64_t N, S, D, H, Hkv, Dh, Q, KV, W, F;
} dims;

static dims dims_of(const sl_trainer *t)
{
    const sl_train_hparams *hp = &t->hp;
    const int64_t Q = hp->n_head * hp->head_dim, KV = hp->n_head_kv * hp->head_dim;
    return (dims){t->acts.N, t->acts.S, hp->n_embd, hp->n_head, hp->n_head_kv, hp->head_dim, Q, KV,
                  Q + 2 * KV, hp->n_ff};
}

/* q|k|v = x wqkv^T, then QK-norm (optional) and RoPE; attention; returns with la->att filled. */
static void attn_core_fwd(sl_trainer *t, int64_t l, const sl_train_layer *w, sl_train_layer_acts *la,
                          const float *x)
{
    const dims d = dims_of(t);
    const int nt = t->n_threads;
    float *qkv_out = t->hp.qk_norm ? la->qkv_raw : la->qkv;
    sl_tgemm(&t->ws, d.N, d.W, d.D, 1.0f, sl_tgemm_n(x, d.D), sl_tgemm_t(w->wqkv, d.D), 0.0f, qkv_out, d.W);
    if (t->hp.qk_norm) {
        const int64_t G = d.H + d.Hkv;
        sl_train_rmsnorm_fwd(nt, (sl_train_rows){d.N, d.H, d.Dh}, la->qkv_raw, d.W, w->q_norm, t->hp.rms_eps,
                             la->qkv, d.W, la->qk_rstd, G);
        sl_train_rmsnorm_fwd(nt, (sl_train_rows){d.N, d.Hkv, d.Dh}, la->qkv_raw + d.Q, d.W, w->k_norm,
                             t->hp.rms_eps, la->qkv + d.Q, d.W, la->qk_rstd + d.H, G);
        for (int64_t n = 0; n < d.N; n++)
            memcpy(la->qkv + n * d.W + d.Q + d.KV, la->qkv_raw + n * d.W + d.Q + d.KV, (size_t)d.KV * sizeof(float));
    }
    if (t->rope[l])
        sl_train_rope(nt, d.N, d.S, d.H + d.Hkv, d.Dh, la->qkv, d.W, t->acts.rope_cos, t->acts.rope_sin, false);
    const sl_train_att_dims ad = {t->acts.B, d.S, d.H, d.Hkv, d.Dh, t->window[l]};
    sl_train_attention_fwd(&t->ws, ad, la->qkv, la->att, la->lse, t->acts.att_scr);
}

static void layer_fwd_pre(sl_trainer *t, int64_t l, const sl_train_layer *w, sl_train_layer_acts *la, float *out)
{
    const dims d = dims_of(t);
    const int nt = t->n_threads;
    const sl_train_rows rows = {d.N, 1, d.D};
    sl_train_rmsnorm_fwd(nt, rows, la->x_in, d.D, w->attn_norm, t->hp.rms_eps, la->xn1, d.D, la->rstd1, 1);
    attn_core_fwd(t, l, w, la, la->xn1);
    memcpy(la->x_mid, la->x_in, (size_t)(d.N * d.D) * sizeof(float));
    sl_tgemm(&t->ws, d.N, d.D, d.Q, 1.0f, sl_tgemm_n(la->att, d.Q), sl_tgemm_t(w->wo, d.Q), 1.0f, la->x_mid, d.D);
    sl_train_rmsnorm_fwd(nt, rows, la->x_mid, d.D, w->ffn_norm, t->hp.rms_eps, la->xn2, d.D, la->rstd2, 1);
    sl_tgemm(&t->ws, d.N, 2 * d.F, d.D, 1.0f, sl_tgemm_n(la->xn2, d.D), sl_tgemm_t(w->w_gate_up, d.D), 0.0f,
             la->gu, 2 * d.F);
    sl_train_swiglu_fwd(nt, d.N, d.F, la->gu, la->act);
    memcpy(out, la->x_mid, (size_t)(d.N * d.D) * sizeof(float));
    sl_tgemm(&t->ws, d.N, d.D, d.F, 1.0f, sl_tgemm_n(la->act, d.F), sl_tgemm_t(w->w_down, d.F), 1.0f, out, d.D);
}

static void layer_fwd_post(sl_trainer *t, int64_t l, const sl_train_layer *w, sl_train_layer_acts *la, float *out)
{
    const dims d = dims_of(t);
    const int nt = t->n_threads;
    const sl_train_rows rows = {d.N, 1, d.D};
    attn_core_fwd(t, l, w, la, la->x_in);
    sl_tgemm(&t->ws, d.N, d.D, d.Q, 1.0f, sl_tgemm_n(la->att, d.Q), sl_tgemm_t(w->wo, d.Q), 0.0f, la->y_attn, d.D);
    sl_train_rmsnorm_fwd(nt, rows, la->y_attn, d.D, w->post_attn_norm, t->hp.rms_eps, la->x_mid, d.D, la->rstd_pa, 1);
    sl_train_add(nt, d.N * d.D, la->x_in, la->x_mid);
    sl_tgemm(&t->ws, d.N, 2 * d.F, d.D, 1.0f, sl_tgemm_n(la->x_mid, d.D), sl_tgemm_t(w->w_gate_up, d.D), 0.0f,
             la->gu, 2 * d.F);
    sl_train_swiglu_fwd(nt, d.N, d.F, la->gu, la->act);
    sl_tgemm(&t->ws, d.N, d.D, d.F, 1.0f, sl_tgemm_n(la->act, d.F), sl_tgemm_t(w->w_down, d.F), 0.0f, la->y_mlp, d.D);
    sl_train_rmsnorm_fwd(nt, rows, la->y_mlp, d.D, w->post_ffn_norm, t->hp.rms_eps, out, d.D, la->rstd_pf, 1);
    sl_train_add(nt, d.N * d.D, la->x_mid, out);
}

sl_status sl_train_forward(sl_trainer *t)
{
    sl_train_acts *a = &t->acts;
    const int64_t L = t->hp.n_layers, D = t->hp.n_embd;
    sl_train_embed_fwd(t->n_threads, a->N, D, a->ids, t->w.tok_embd, a->layers[0].x_in);
    for (int64_t l = 0; l < L; l++) {
        float *out = l + 1 < L ? a->layers[l + 1].x_in : a->x_out;
        if (t->hp.post_norm) layer_fwd_post(t, l, &t->w.layers[l], &a->layers[l], out);
        else layer_fwd_pre(t, l, &t->w.layers[l], &a->layers[l], out);
    }
    sl_train_rmsnorm_fwd(t->n_threads, (sl_train_rows){a->N, 1, D}, a->x_out, D, t->w.output_norm, t->hp.rms_eps,
                         a->xf, D, a->rstd_f, 1);
    return SL_OK;
}

/* Copy inputs / targets out of the (B, S+1) batch, checking every id. */
static sl_status load_ids(sl_trainer *t, const int32_t *tokens, int64_t B, int64_t S)
{
    int32_t *in = t->acts.ids, *tg = t->acts.ids + B * S;
    const int64_t V = t->hp.n_vocab;
    for (int64_t b = 0; b < B; b++)
        for (int64_t s = 0; s <= S; s++) {
            const int32_t id = tokens[b * (S + 1) + s];
            if (id < 0 || id >= V)
                return SL_FAIL(SL_ERR_ARG, "token id %d at [%lld, %lld] is out of range [0, %lld)", (int)id,
                               (long long)b, (long long)s, (long long)V);
            if (s < S) in[b * S + s] = id;
            if (s > 0) tg[b * S + s - 1] = id;
        }
    return SL_OK;
}

sl_status sl_trainer_step_fb(sl_trainer *t, const int32_t *tokens, int64_t B, int64_t S, bool backward,
                             float grad_scale, double *loss)
{
    if (B < 1 || S < 1 || B > (1 << 20) || S > (1 << 20) || B * S > ((int64_t)1 << 26))
        return SL_FAIL(SL_ERR_ARG, "batch shape (%lld, %lld) is out of range", (long long)B, (long long)S + 1);
    SL_TRY(sl_train_acts_ensure(t, B, S));
    SL_TRY(load_ids(t, tokens, B, S));
    SL_TRY(sl_train_forward(t));
    SL_TRY(sl_train_loss(t, backward, grad_scale, loss));
    if (backward) SL_TRY(sl_train_backward(t));
    return SL_OK;
}
