/* train_backward.c — the training backward pass: from dL/d(xf) (left in acts.dxn by the loss)
 * through the final norm, every block in reverse (MLP then attention, pre-norm or post-norm),
 * down to the embedding rows. Weight gradients accumulate (+=) into the gradient slab; acts.dx
 * carries dL/d(residual stream) between blocks. */
#include <string.h>

#include "runtime/runtime.h"
#include "train/train.h"
#include "train/train_attention.h"
#include "train/train_ops.h"

typedef struct dims {
    int64_t N, D, H, Hkv, Dh, Q, KV, W, F;
} dims;

static dims dims_of(const sl_trainer *t)
{
    const sl_train_hparams *hp = &t->hp;
    const int64_t Q = hp->n_head * hp->head_dim, KV = hp->n_head_kv * hp->head_dim;
    return (dims){t->acts.N, hp->n_embd, hp->n_head, hp->n_head_kv, hp->head_dim, Q, KV, Q + 2 * KV, hp->n_ff};
}

/* MLP part given dy = dL/d(mlp output) (N, D) and its input xin: weight grads, then
 * dL/d(xin) into dxin (beta 0: overwrite, 1: accumulate). */
static void mlp_bwd(sl_trainer *t, const sl_train_layer *w, sl_train_layer *g, const sl_train_layer_acts *la,
                    const float *dy, const float *xin, float *dxin, float beta)
{
    const dims d = dims_of(t);
    sl_train_acts *a = &t->acts;
    sl_tgemm(&t->ws, d.D, d.F, d.N, 1.0f, sl_tgemm_t(dy, d.D), sl_tgemm_n(la->act, d.F), 1.0f, g->w_down, d.F);
    sl_tgemm(&t->ws, d.N, d.F, d.D, 1.0f, sl_tgemm_n(dy, d.D), sl_tgemm_n(w->w_down, d.F), 0.0f, a->dact, d.F);
    sl_train_swiglu_bwd(t->n_threads, d.N, d.F, la->gu, a->dact, a->dgu);
    sl_tgemm(&t->ws, 2 * d.F, d.D, d.N, 1.0f, sl_tgemm_t(a->dgu, 2 * d.F), sl_tgemm_n(xin, d.D), 1.0f,
             g->w_gate_up, d.D);
    sl_tgemm(&t->ws, d.N, d.D, 2 * d.F, 1.0f, sl_tgemm_n(a->dgu, 2 * d.F), sl_tgemm_n(w->w_gate_up, d.D), beta,
             dxin, d.D);
}

/* Attention part given dy = dL/d(attention output after wo) and its input xin. */
static void attn_bwd(sl_trainer *t, int64_t l, const sl_train_layer *w, sl_train_layer *g,
                     const sl_train_layer_acts *la, const float *dy, const float *xin, float *dxin, float beta)
{
    const dims d = dims_of(t);
    sl_train_acts *a = &t->acts;
    const int nt = t->n_threads;
    sl_tgemm(&t->ws, d.D, d.Q, d.N, 1.0f, sl_tgemm_t(dy, d.D), sl_tgemm_n(la->att, d.Q), 1.0f, g->wo, d.Q);
    sl_tgemm(&t->ws, d.N, d.Q, d.D, 1.0f, sl_tgemm_n(dy, d.D), sl_tgemm_n(w->wo, d.Q), 0.0f, a->datt, d.Q);
    const sl_train_att_dims ad = {a->B, a->S, d.H, d.Hkv, d.Dh, t->window[l]};
    sl_train_attention_bwd(&t->ws, ad, la->qkv, la->att, la->lse, a->datt, a->dqkv, a->drow, a->att_scr);
    if (t->rope[l]) sl_train_rope(nt, d.N, a->S, d.H + d.Hkv, d.Dh, a->dqkv, d.W, a->rope_cos, a->rope_sin, true);
    if (t->hp.qk_norm) {       /* in place: d(normed q|k) -> d(raw q|k) */
        const int64_t G = d.H + d.Hkv;
        sl_train_rmsnorm_bwd(nt, (sl_train_rows){d.N, d.H, d.Dh}, la->qkv_raw, d.W, w->q_norm, la->qk_rstd, G,
                             a->dqkv, d.W, a->dqkv, d.W, false, g->q_norm);
        sl_train_rmsnorm_bwd(nt, (sl_train_rows){d.N, d.Hkv, d.Dh}, la->qkv_raw + d.Q, d.W, w->k_norm,
                             la->qk_rstd + d.H, G, a->dqkv + d.Q, d.W, a->dqkv + d.Q, d.W, false, g->k_norm);
    }
    sl_tgemm(&t->ws, d.W, d.D, d.N, 1.0f, sl_tgemm_t(a->dqkv, d.W), sl_tgemm_n(xin, d.D), 1.0f, g->wqkv, d.D);
    sl_tgemm(&t->ws, d.N, d.D, d.W, 1.0f, sl_tgemm_n(a->dqkv, d.W), sl_tgemm_n(w->wqkv, d.D), beta, dxin, d.D);
}

/* Pre-norm block: x_mid = x_in + attn(norm(x_in)); out = x_mid + mlp(norm(x_mid)). dx: in d out,
 * out d x_in. */
static void layer_bwd_pre(sl_trainer *t, int64_t l)
{
    const dims d = dims_of(t);
    sl_train_acts *a = &t->acts;
    const sl_train_layer *w = &t->w.layers[l];
    sl_train_layer *g = &t->g.layers[l];
    const sl_train_layer_acts *la = &a->layers[l];
    const sl_train_rows rows = {d.N, 1, d.D};
    mlp_bwd(t, w, g, la, a->dx, la->xn2, a->dxn, 0.0f);
    sl_train_rmsnorm_bwd(t->n_threads, rows, la->x_mid, d.D, w->ffn_norm, la->rstd2, 1, a->dxn, d.D, a->dx, d.D,
                         true, g->ffn_norm);
    attn_bwd(t, l, w, g, la, a->dx, la->xn1, a->dxn, 0.0f);
    sl_train_rmsnorm_bwd(t->n_threads, rows, la->x_in, d.D, w->attn_norm, la->rstd1, 1, a->dxn, d.D, a->dx, d.D,
                         true, g->attn_norm);
}

/* Post-norm block: x_mid = x_in + norm(attn(x_in)); out = x_mid + norm(mlp(x_mid)). */
static void layer_bwd_post(sl_trainer *t, int64_t l)
{
    const dims d = dims_of(t);
    sl_train_acts *a = &t->acts;
    const sl_train_layer *w = &t->w.layers[l];
    sl_train_layer *g = &t->g.layers[l];
    const sl_train_layer_acts *la = &a->layers[l];
    const sl_train_rows rows = {d.N, 1, d.D};
    sl_train_rmsnorm_bwd(t->n_threads, rows, la->y_mlp, d.D, w->post_ffn_norm, la->rstd_pf, 1, a->dx, d.D, a->dtmp,
                         d.D, false, g->post_ffn_norm);
    mlp_bwd(t, w, g, la, a->dtmp, la->x_mid, a->dx, 1.0f);
    sl_train_rmsnorm_bwd(t->n_threads, rows, la->y_attn, d.D, w->post_attn_norm, la->rstd_pa, 1, a->dx, d.D,
                         a->dtmp, d.D, false, g->post_attn_norm);
    attn_bwd(t, l, w, g, la, a->dtmp, la->x_in, a->dx, 1.0f);
}

sl_status sl_train_backward(sl_trainer *t)
{
    sl_train_acts *a = &t->acts;
    const int64_t D = t->hp.n_embd;
    sl_train_rmsnorm_bwd(t->n_threads, (sl_train_rows){a->N, 1, D}, a->x_out, D, t->w.output_norm, a->rstd_f, 1,
                         a->dxn, D, a->dx, D, false, t->g.output_norm);
    for (int64_t l = t->hp.n_layers - 1; l >= 0; l--) {
        if (t->hp.post_norm) layer_bwd_post(t, l);
        else layer_bwd_pre(t, l);
    }
    sl_train_embed_bwd(t->n_threads, a->N, D, a->ids, a->dx, t->g.tok_embd);
    return SL_OK;
}
