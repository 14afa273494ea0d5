/* train_acts.c — the activation slab: every buffer the forward pass saves and the backward pass
 * uses, carved out of one allocation sized for a (B, S) batch and reused while the shape holds. */
#include <string.h>

#include "runtime/runtime.h"
#include "train/train.h"
#include "train/train_attention.h"
#include "train/train_ops.h"

#define LOGIT_CHUNK_FLOATS ((int64_t)1 << 24)   /* at most 64 MiB of logits at a time: fewer passes over d(output) */

typedef struct carver {
    float *base;      /* NULL while counting */
    size_t off;       /* floats used so far */
    bool overflow;
} carver;

/* Reserve a (a, b) block of floats, 64-byte aligned. */
static float *take(carver *c, int64_t a, int64_t b)
{
    size_t n, end;
    if (c->overflow || !sl_mul_ok((size_t)a, (size_t)b, &n) || !sl_add_ok(n, 15, &n)) {
        c->overflow = true;
        return NULL;
    }
    n &= ~(size_t)15;
    float *p = c->base ? c->base + c->off : NULL;
    if (!sl_add_ok(c->off, n, &end)) c->overflow = true;
    c->off = end;
    return p;
}

static void carve_layer(carver *c, const sl_train_hparams *hp, int64_t B, int64_t S, sl_train_layer_acts *a)
{
    const int64_t N = B * S, D = hp->n_embd, Q = hp->n_head * hp->head_dim, KV = hp->n_head_kv * hp->head_dim;
    const int64_t W = Q + 2 * KV, F = hp->n_ff;
    memset(a, 0, sizeof *a);
    a->x_in = take(c, N, D);
    a->xn1 = hp->post_norm ? NULL : take(c, N, D);
    a->rstd1 = hp->post_norm ? NULL : take(c, N, 1);
    if (hp->qk_norm) {
        a->qkv_raw = take(c, N, W);
        a->qk_rstd = take(c, N, hp->n_head + hp->n_head_kv);
    }
    a->qkv = take(c, N, W);
    a->att = take(c, N, Q);
    a->lse = take(c, B * hp->n_head, S);
    if (hp->post_norm) {
        a->y_attn = take(c, N, D);
        a->rstd_pa = take(c, N, 1);
        a->y_mlp = take(c, N, D);
        a->rstd_pf = take(c, N, 1);
    }
    a->x_mid = take(c, N, D);
    a->xn2 = hp->post_norm ? NULL : take(c, N, D);
    a->rstd2 = hp->post_norm ? NULL : take(c, N, 1);
    a->gu = take(c, N, 2 * F);
    a->act = take(c, N, F);
}

static void carve_all(carver *c, const sl_trainer *t, int64_t B, int64_t S, sl_train_acts *a)
{
    const sl_train_hparams *hp = &t->hp;
    const int64_t N = B * S, D = hp->n_embd, Q = hp->n_head * hp->head_dim, KV = hp->n_head_kv * hp->head_dim;
    for (int64_t l = 0; l < hp->n_layers; l++) carve_layer(c, hp, B, S, &a->layers[l]);
    a->x_out = take(c, N, D);
    a->rstd_f = take(c, N, 1);
    a->xf = take(c, N, D);
    a->rope_cos = take(c, S, hp->head_dim / 2);
    a->rope_sin = take(c, S, hp->head_dim / 2);
    a->dx = take(c, N, D);
    a->dxn = take(c, N, D);
    a->dtmp = take(c, N, D);
    a->dqkv = take(c, N, Q + 2 * KV);
    a->datt = take(c, N, Q);
    a->dgu = take(c, N, 2 * hp->n_ff);
    a->dact = take(c, N, hp->n_ff);
    a->drow = take(c, B * hp->n_head, S);
    a->n_chunk = LOGIT_CHUNK_FLOATS / hp->n_vocab;
    if (a->n_chunk < 8) a->n_chunk = 8;
    if (a->n_chunk > N) a->n_chunk = N;
    a->logits = take(c, a->n_chunk, hp->n_vocab);
    a->att_scr = take(c, (int64_t)t->n_threads * 2 * SL_TRAIN_ATT_BR, S);
}

void sl_train_acts_free(sl_train_acts *a)
{
    if (!a) return;
    sl_free(a->slab);
    sl_free(a->layers);
    sl_free(a->ids);
    memset(a, 0, sizeof *a);
}

sl_status sl_train_acts_ensure(sl_trainer *t, int64_t B, int64_t S)
{
    sl_train_acts *a = &t->acts;
    if (a->slab && a->B == B && a->S == S) return SL_OK;
    sl_train_acts_free(a);
    a->layers = sl_calloc((size_t)t->hp.n_layers, sizeof(sl_train_layer_acts));
    a->ids = sl_calloc((size_t)(2 * B * S), sizeof(int32_t));
    if (!a->layers || !a->ids) {
        sl_train_acts_free(a);
        return SL_FAIL(SL_ERR_NOMEM, "out of memory");
    }
    carver c = {0};
    carve_all(&c, t, B, S, a);
    if (c.overflow) {
        sl_train_acts_free(a);
        return SL_FAIL(SL_ERR_ARG, "activation memory for batch %lld x %lld overflows", (long long)B, (long long)S);
    }
    a->slab = sl_calloc(c.off, sizeof(float));
    if (!a->slab) {
        sl_train_acts_free(a);
        return SL_FAIL(SL_ERR_NOMEM, "out of memory for the activations of batch %lld x %lld (%zu MiB)",
                       (long long)B, (long long)S, c.off * sizeof(float) >> 20);
    }
    c = (carver){.base = a->slab};
    carve_all(&c, t, B, S, a);
    a->B = B;
    a->S = S;
    a->N = B * S;
    sl_train_rope_tables(S, t->hp.head_dim, t->inv_freq, a->rope_cos, a->rope_sin);
    return SL_OK;
}
