/* attention.c — RoPE, per-head QK RMSNorm, KV-cache writes and causal (optionally sliding
 * window) softmax attention, one row (or one row's head) at a time: the forward pass hands them
 * out to threads as step items. Each row reads and writes the cache of its own sequence at its
 * own position (the workspace's row map). */
#include "model/attention.h"

#include <math.h>

#include "kernels/kernels.h"

/* cos/sin of every frequency at position pos, formed in float32 exactly like transformers. */
static void rope_angles(const float *inv_freq, int64_t half, int64_t pos, float *c, float *s)
{
    for (int64_t i = 0; i < half; i++) {
        float ang = (float)pos * inv_freq[i];
        c[i] = cosf(ang);
        s[i] = sinf(ang);
    }
}

/* GGUF's interleaved pairs (2i, 2i + 1); the HF rotate-half pairing goes through sl_k->rope_f32. */
static void rope_interleaved(float *x, int64_t half, const float *c, const float *s)
{
    for (int64_t i = 0; i < half; i++) {
        float x0 = x[2 * i], x1 = x[2 * i + 1];
        x[2 * i] = x0 * c[i] - x1 * s[i];
        x[2 * i + 1] = x1 * c[i] + x0 * s[i];
    }
}

void sl_attn_prepare_row(const sl_model *m, int64_t il, float *q, float *k, int64_t pos)
{
    const sl_hparams *hp = &m->hp;
    int64_t H = hp->n_head, Hkv = hp->n_head_kv, Dh = hp->head_dim, half = Dh / 2;
    const sl_tensor *qn = sl_model_role(m, SL_ROLE_Q_NORM, il), *kn = sl_model_role(m, SL_ROLE_K_NORM, il);
    bool rope = sl_hparams_layer_rope(hp, il);
    float c[SL_MAX_HEAD_DIM / 2], s[SL_MAX_HEAD_DIM / 2];
    if (rope) rope_angles(m->inv_freq, half, pos, c, s);
    for (int64_t h = 0; h < H + Hkv; h++) {
        float *x = h < H ? q + h * Dh : k + (h - H) * Dh;
        const sl_tensor *nw = h < H ? qn : kn;
        if (nw) sl_k->rmsnorm_f32(Dh, x, nw->data, hp->rms_eps, x);
        if (!rope) continue;
        if (hp->rope_interleaved) rope_interleaved(x, half, c, s);
        else sl_k->rope_f32(half, x, c, s);
    }
}

void sl_attn_store_row(const sl_workspace *w, int64_t il, int64_t t)
{
    const sl_session *s = w->row_seq[t];
    size_t kvd = (size_t)s->kv_dim;
    size_t at = (((size_t)il * (size_t)s->n_ctx + (size_t)w->row_pos[t]) * kvd) * s->kv_esize;
    const float *k = w->k + (size_t)t * kvd, *v = w->v + (size_t)t * kvd;
    if (s->kv_dtype == SL_DTYPE_F16) {
        sl_k->from_float[SL_DTYPE_F16]((int64_t)kvd, k, (char *)s->k_cache + at);
        sl_k->from_float[SL_DTYPE_F16]((int64_t)kvd, v, (char *)s->v_cache + at);
    } else {
        memcpy((char *)s->k_cache + at, k, kvd * sizeof(float));
        memcpy((char *)s->v_cache + at, v, kvd * sizeof(float));
    }
}

void sl_attn_compute_head(const sl_workspace *w, int64_t il, int64_t t, int64_t h, float *scores)
{
    const sl_hparams *hp = &w->model->hp;
    int64_t H = hp->n_head, Dh = hp->head_dim, group = H / hp->n_head_kv;
    int64_t window = hp->sliding_window > 0 && hp->layer_sliding[il] ? hp->sliding_window : 0;
    const sl_session *s = w->row_seq[t];
    int64_t kvd = s->kv_dim;
    int64_t pos = w->row_pos[t];
    int64_t lo = window && pos - window + 1 > 0 ? pos - window + 1 : 0;
    /* element offset of (layer il, position lo, this head's KV head) in either cache */
    size_t at = ((size_t)il * (size_t)s->n_ctx + (size_t)lo) * (size_t)kvd + (size_t)((h / group) * Dh);
    const float *q = w->q + (t * H + h) * Dh;
    float *out = w->h + (t * H + h) * Dh, scale = 1.0f / sqrtf((float)Dh);
    if (s->kv_dtype == SL_DTYPE_F16)
        sl_k->attn_row_f16(Dh, pos - lo + 1, q, (const uint16_t *)s->k_cache + at, kvd,
                           (const uint16_t *)s->v_cache + at, kvd, scale, scores, out);
    else
        sl_k->attn_row_f32(Dh, pos - lo + 1, q, (const float *)s->k_cache + at, kvd,
                           (const float *)s->v_cache + at, kvd, scale, scores, out);
}
