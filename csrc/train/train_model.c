/* train_model.c — the trainer's lifetime: hyper-parameter checks, the layout of the parameter,
 * gradient and AdamW-moment slabs (one tensor table, four identical slabs), the per-layer
 * pointer tables into them, zeroing and the global gradient norm. */
#include <math.h>
#include <string.h>

#include "runtime/runtime.h"
#include "train/train.h"
#include "train/train_vec.h"

static const char *const ROLE_NAMES[SL_TROLE_COUNT] = {
    "tok_embd", "output_norm", "output", "attn_norm", "wq", "wk", "wv", "wo", "q_norm", "k_norm",
    "post_attn_norm", "ffn_norm", "w_gate", "w_up", "w_down", "post_ffn_norm",
};

const char *sl_train_role_name(sl_train_role role)
{
    return (unsigned)role < SL_TROLE_COUNT ? ROLE_NAMES[role] : "?";
}

static sl_status check_hparams(const sl_train_hparams *hp)
{
    const int64_t dims[7] = {hp->n_layers, hp->n_embd, hp->n_head, hp->n_head_kv, hp->head_dim, hp->n_ff, hp->n_vocab};
    static const char *const names[7] = {"n_layers", "n_embd", "n_head", "n_head_kv", "head_dim", "n_ff", "n_vocab"};
    for (int i = 0; i < 7; i++)
        if (dims[i] <= 0 || dims[i] > ((int64_t)1 << 24))
            return SL_FAIL(SL_ERR_ARG, "%s = %lld is out of range [1, 2^24]", names[i], (long long)dims[i]);
    if (hp->n_head % hp->n_head_kv != 0)
        return SL_FAIL(SL_ERR_ARG, "n_head %lld is not a multiple of n_head_kv %lld", (long long)hp->n_head,
                       (long long)hp->n_head_kv);
    if (hp->head_dim % 2 != 0)
        return SL_FAIL(SL_ERR_ARG, "head_dim %lld must be even for RoPE", (long long)hp->head_dim);
    if (!(hp->rms_eps >= 0.0f) || !isfinite(hp->rms_eps))
        return SL_FAIL(SL_ERR_ARG, "rms_eps must be a finite non-negative number");
    return SL_OK;
}

/* Append one tensor (or just count it when t->tensors is NULL). */
static sl_status add_tensor(sl_trainer *t, sl_train_role role, int64_t layer, int64_t rows, int64_t cols, size_t *off)
{
    size_t n, end;
    if (!sl_mul_ok((size_t)rows, (size_t)cols, &n) || !sl_add_ok(*off, n, &end))
        return SL_FAIL(SL_ERR_ARG, "model too large: tensor %s of layer %lld overflows", ROLE_NAMES[role],
                       (long long)layer);
    if (t->tensors)
        t->tensors[t->n_tensors] = (sl_train_tensor){role, layer, rows, cols, *off, rows > 1 && cols > 1 ? 1.0f : 0.0f};
    t->n_tensors++;
    *off = end;
    return SL_OK;
}

/* Walk the layout: global tensors, then each layer; wq|wk|wv and w_gate|w_up adjacent. */
static sl_status layout(sl_trainer *t)
{
    const sl_train_hparams *hp = &t->hp;
    const int64_t D = hp->n_embd, Q = hp->n_head * hp->head_dim, KV = hp->n_head_kv * hp->head_dim;
    size_t off = 0;
    t->n_tensors = 0;
    SL_TRY(add_tensor(t, SL_TROLE_TOK_EMBD, -1, hp->n_vocab, D, &off));
    if (!hp->tie_embeddings) SL_TRY(add_tensor(t, SL_TROLE_OUTPUT, -1, hp->n_vocab, D, &off));
    SL_TRY(add_tensor(t, SL_TROLE_OUTPUT_NORM, -1, D, 1, &off));
    for (int64_t l = 0; l < hp->n_layers; l++) {
        if (!hp->post_norm) SL_TRY(add_tensor(t, SL_TROLE_ATTN_NORM, l, D, 1, &off));
        SL_TRY(add_tensor(t, SL_TROLE_WQ, l, Q, D, &off));
        SL_TRY(add_tensor(t, SL_TROLE_WK, l, KV, D, &off));
        SL_TRY(add_tensor(t, SL_TROLE_WV, l, KV, D, &off));
        SL_TRY(add_tensor(t, SL_TROLE_WO, l, D, Q, &off));
        if (hp->qk_norm) {
            SL_TRY(add_tensor(t, SL_TROLE_Q_NORM, l, hp->head_dim, 1, &off));
            SL_TRY(add_tensor(t, SL_TROLE_K_NORM, l, hp->head_dim, 1, &off));
        }
        SL_TRY(add_tensor(t, hp->post_norm ? SL_TROLE_POST_ATTN_NORM : SL_TROLE_FFN_NORM, l, D, 1, &off));
        SL_TRY(add_tensor(t, SL_TROLE_W_GATE, l, hp->n_ff, D, &off));
        SL_TRY(add_tensor(t, SL_TROLE_W_UP, l, hp->n_ff, D, &off));
        SL_TRY(add_tensor(t, SL_TROLE_W_DOWN, l, D, hp->n_ff, &off));
        if (hp->post_norm) SL_TRY(add_tensor(t, SL_TROLE_POST_FFN_NORM, l, D, 1, &off));
    }
    t->n_params = off;
    return SL_OK;
}

/* Point a weights table at a slab, following the tensor table. */
static void bind(const sl_trainer *t, float *slab, sl_train_weights *w)
{
    for (int64_t i = 0; i < t->n_tensors; i++) {
        const sl_train_tensor *x = &t->tensors[i];
        float *p = slab + x->offset;
        sl_train_layer *ly = x->layer >= 0 ? &w->layers[x->layer] : NULL;
        switch (x->role) {
        case SL_TROLE_TOK_EMBD: w->tok_embd = p; break;
        case SL_TROLE_OUTPUT: w->output = p; break;
        case SL_TROLE_OUTPUT_NORM: w->output_norm = p; break;
        case SL_TROLE_ATTN_NORM: ly->attn_norm = p; break;
        case SL_TROLE_WQ: ly->wqkv = p; break;
        case SL_TROLE_WO: ly->wo = p; break;
        case SL_TROLE_Q_NORM: ly->q_norm = p; break;
        case SL_TROLE_K_NORM: ly->k_norm = p; break;
        case SL_TROLE_POST_ATTN_NORM: ly->post_attn_norm = p; break;
        case SL_TROLE_FFN_NORM: ly->ffn_norm = p; break;
        case SL_TROLE_W_GATE: ly->w_gate_up = p; break;
        case SL_TROLE_W_DOWN: ly->w_down = p; break;
        case SL_TROLE_POST_FFN_NORM: ly->post_ffn_norm = p; break;
        default: break;   /* wk, wv, w_up: reached through wqkv / w_gate_up */
        }
    }
    if (t->hp.tie_embeddings) w->output = w->tok_embd;
}

static sl_status alloc_slabs(sl_trainer *t)
{
    float **slabs[4] = {&t->params, &t->grads, &t->adam_m, &t->adam_v};
    for (int i = 0; i < 4; i++) {
        *slabs[i] = sl_calloc(t->n_params, sizeof(float));
        if (!*slabs[i]) return SL_FAIL(SL_ERR_NOMEM, "out of memory for %zu trainable floats", t->n_params);
    }
    t->w.layers = sl_calloc((size_t)t->hp.n_layers, sizeof(sl_train_layer));
    t->g.layers = sl_calloc((size_t)t->hp.n_layers, sizeof(sl_train_layer));
    if (!t->w.layers || !t->g.layers) return SL_FAIL(SL_ERR_NOMEM, "out of memory");
    bind(t, t->params, &t->w);
    bind(t, t->grads, &t->g);
    return SL_OK;
}

/* Own copies of the per-layer window / RoPE tables; the borrowed pointers are dropped. */
static sl_status copy_layer_flags(sl_trainer *t)
{
    const int64_t L = t->hp.n_layers;
    t->window = sl_calloc((size_t)L, sizeof(int64_t));
    t->rope = sl_calloc((size_t)L, sizeof(uint8_t));
    if (!t->window || !t->rope) return SL_FAIL(SL_ERR_NOMEM, "out of memory");
    for (int64_t l = 0; l < L; l++) {
        const int64_t w = t->hp.layer_window ? t->hp.layer_window[l] : 0;
        if (w < 0) return SL_FAIL(SL_ERR_ARG, "layer %lld: negative sliding window %lld", (long long)l, (long long)w);
        t->window[l] = w;
        t->rope[l] = t->hp.layer_rope ? t->hp.layer_rope[l] != 0 : 1;
    }
    t->hp.layer_window = NULL;
    t->hp.layer_rope = NULL;
    return SL_OK;
}

static sl_status trainer_build(sl_trainer *t, const float *inv_freq)
{
    SL_TRY(check_hparams(&t->hp));
    SL_TRY(layout(t));                       /* count */
    t->tensors = sl_calloc((size_t)t->n_tensors, sizeof(sl_train_tensor));
    if (!t->tensors) return SL_FAIL(SL_ERR_NOMEM, "out of memory");
    SL_TRY(layout(t));                       /* fill */
    SL_TRY(alloc_slabs(t));
    const int64_t half = t->hp.head_dim / 2;
    t->inv_freq = sl_alloc((size_t)half * sizeof(float));
    if (!t->inv_freq) return SL_FAIL(SL_ERR_NOMEM, "out of memory");
    for (int64_t i = 0; i < half; i++) {
        if (!isfinite(inv_freq[i]))
            return SL_FAIL(SL_ERR_ARG, "RoPE inverse frequency %lld is not finite", (long long)i);
        t->inv_freq[i] = inv_freq[i];
    }
    SL_TRY(copy_layer_flags(t));
    return sl_tgemm_ws_init(&t->ws, t->n_threads);
}

sl_status sl_trainer_init(sl_trainer *t, const sl_train_hparams *hp, const float *inv_freq, int n_threads)
{
    memset(t, 0, sizeof *t);
    t->hp = *hp;
    t->n_threads = sl_threads_resolve(n_threads);
    sl_status st = trainer_build(t, inv_freq);
    if (st != SL_OK) sl_trainer_free(t);
    return st;
}

void sl_trainer_free(sl_trainer *t)
{
    if (!t) return;
    sl_train_acts_free(&t->acts);
    sl_tgemm_ws_free(&t->ws);
    sl_free(t->tensors);
    sl_free(t->params);
    sl_free(t->grads);
    sl_free(t->adam_m);
    sl_free(t->adam_v);
    sl_free(t->w.layers);
    sl_free(t->g.layers);
    sl_free(t->inv_freq);
    sl_free(t->window);
    sl_free(t->rope);
    memset(t, 0, sizeof *t);
}

void sl_trainer_zero_grad(sl_trainer *t)
{
    const int64_t n = (int64_t)t->n_params;
    float *g = t->grads;
#pragma omp parallel for num_threads(t->n_threads) schedule(static)
    for (int64_t i = 0; i < n; i++) g[i] = 0.0f;
}

/* Sum of squares per fixed block of 2^16 floats, then the blocks in order: the result does not
 * depend on the thread count. */
double sl_trainer_grad_norm(const sl_trainer *t)
{
    const int64_t n = (int64_t)t->n_params, block = (int64_t)1 << 16, n_blocks = (n + block - 1) / block;
    const float *g = t->grads;
    const sl_train_vec *vec = sl_train_vec_table();
    double *part = sl_alloc((size_t)(n_blocks > 0 ? n_blocks : 1) * sizeof(double));
    double ss = 0.0;
    if (!part) {                              /* no scratch: one thread, same blocks */
        for (int64_t b = 0; b < n_blocks; b++)
            ss += vec->sumsq((b + 1) * block < n ? block : n - b * block, g + b * block);
        return sqrt(ss);
    }
#pragma omp parallel for num_threads(t->n_threads) schedule(static)
    for (int64_t b = 0; b < n_blocks; b++)
        part[b] = vec->sumsq((b + 1) * block < n ? block : n - b * block, g + b * block);
    for (int64_t b = 0; b < n_blocks; b++) ss += part[b];
    sl_free(part);
    return sqrt(ss);
}
