/* attention.c — RoPE, per-head QK RMSNorm, KV-cache writes and causal (optionally sliding
 * window) softmax attention for one micro-batch of T stacked rows; each row reads and writes
 * the cache of its own sequence at its own position (the workspace's row map). */
#include "model/attention.h"

#include <math.h>
#include <omp.h>

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

void sl_attn_prepare(const sl_model *m, int64_t il, float *q, float *k, int64_t T, const int64_t *pos)
{
    const sl_hparams *hp = &m->hp;
    int64_t H = hp->n_head, Hkv = hp->n_head_kv, Dh = hp->head_dim, half = Dh / 2;
    const sl_tensor *qn = sl_model_role(m, SL_ROLE_Q_NORM, il), *kn = sl_model_role(m, SL_ROLE_K_NORM, il);
    bool rope = sl_hparams_layer_rope(hp, il);
    #pragma omp parallel for schedule(static) num_threads(m->n_threads) if (T * H > 64)
    for (int64_t t = 0; t < T; t++) {
        float c[SL_MAX_HEAD_DIM / 2], s[SL_MAX_HEAD_DIM / 2];
        if (rope) rope_angles(m->inv_freq, half, pos[t], c, s);
        for (int64_t h = 0; h < H + Hkv; h++) {
            float *x = h < H ? q + (t * H + h) * Dh : k + (t * Hkv + (h - H)) * Dh;
            const sl_tensor *nw = h < H ? qn : kn;
            if (nw) sl_k->rmsnorm_f32(Dh, x, nw->data, hp->rms_eps, x);
            if (!rope) continue;
            if (hp->rope_interleaved) rope_interleaved(x, half, c, s);
            else sl_k->rope_f32(half, x, c, s);
        }
    }
}

void sl_attn_store_kv(const sl_workspace *w, int64_t il, int64_t T)
{
    for (int64_t t = 0; t < T; t++) {
        const sl_session *s = w->row_seq[t];
        size_t kvd = (size_t)s->kv_dim;
        size_t at = ((size_t)il * (size_t)s->n_ctx + (size_t)w->row_pos[t]) * kvd;
        memcpy(s->k_cache + at, w->k + (size_t)t * kvd, kvd * sizeof(float));
        memcpy(s->v_cache + at, w->v + (size_t)t * kvd, kvd * sizeof(float));
    }
}

/* out (T, H*Dh) = softmax(q k^T / sqrt(Dh)) v over the cached positions each row may see. */
void sl_attn_compute(sl_workspace *w, int64_t il, int64_t T)
{
    const sl_model *m = w->model;
    const sl_hparams *hp = &m->hp;
    int64_t H = hp->n_head, Dh = hp->head_dim, group = H / hp->n_head_kv;
    int64_t window = hp->sliding_window > 0 && hp->layer_sliding[il] ? hp->sliding_window : 0;
    float scale = 1.0f / sqrtf((float)Dh);
    const float *q = w->q;
    float *out = w->h;
    /* never more threads than score rows, even if n_threads grew since the workspace was sized */
    int nth = m->n_threads < w->cap_threads ? m->n_threads : w->cap_threads;
    #pragma omp parallel for collapse(2) schedule(dynamic, 1) num_threads(nth) if (T * H > 1)
    for (int64_t t = 0; t < T; t++) {
        for (int64_t h = 0; h < H; h++) {
            const sl_session *s = w->row_seq[t];
            int64_t kvd = s->kv_dim;
            const float *kc = s->k_cache + (size_t)il * (size_t)s->n_ctx * (size_t)kvd;
            const float *vc = s->v_cache + (size_t)il * (size_t)s->n_ctx * (size_t)kvd;
            float *sc = w->scores + (size_t)omp_get_thread_num() * (size_t)w->cap_ctx;
            int64_t pos = w->row_pos[t];
            int64_t lo = window && pos - window + 1 > 0 ? pos - window + 1 : 0;
            const float *qh = q + (t * H + h) * Dh;
            int64_t off = (h / group) * Dh;
            sl_k->attn_row_f32(Dh, pos - lo + 1, qh, kc + lo * kvd + off, kvd, vc + lo * kvd + off, kvd, scale, sc,
                               out + (t * H + h) * Dh);
        }
    }
}
