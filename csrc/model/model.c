/* model.c — model allocation, role tables, shape checks, norm conversion, RoPE frequencies. */
#include "model/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "runtime/dtype.h"

static int64_t role_index(sl_role role, int64_t il)
{
    return sl_role_is_layer(role) ? SL_ROLE_FIRST_LAYER + il * SL_LAYER_ROLES + (role - SL_ROLE_FIRST_LAYER) : role;
}

sl_tensor *sl_model_role_slot(sl_model *m, sl_role role, int64_t il) { return &m->roles[role_index(role, il)]; }

sl_tensor *sl_model_role_mut(sl_model *m, sl_role role, int64_t il)
{
    sl_tensor *t = sl_model_role_slot(m, role, il);
    return t->dtype < 0 ? NULL : t;
}

const sl_tensor *sl_model_role(const sl_model *m, sl_role role, int64_t il)
{
    return sl_model_role_mut((sl_model *)m, role, il);
}

sl_status sl_model_alloc(sl_model **out, const sl_hparams *hp, int n_threads)
{
    *out = NULL;
    sl_model *m = calloc(1, sizeof *m);
    if (!m) return SL_FAIL(SL_ERR_NOMEM, "out of memory");
    m->hp = *hp;
    m->n_threads = sl_threads_resolve(n_threads);
    int64_t n_roles = SL_ROLE_FIRST_LAYER + hp->n_layers * SL_LAYER_ROLES;
    m->roles = calloc((size_t)n_roles, sizeof *m->roles);
    m->inv_freq = calloc((size_t)(hp->head_dim / 2), sizeof(float));
    m->path = sl_strdup("");
    if (!m->roles || !m->inv_freq || !m->path) { sl_model_free(m); return SL_FAIL(SL_ERR_NOMEM, "out of memory"); }
    for (int64_t i = 0; i < n_roles; i++) m->roles[i].dtype = -1;
    sl_rope_inv_freq(hp, m->inv_freq);
    *out = m;
    return SL_OK;
}

void sl_tensor_clear(sl_tensor *t)
{
    free(t->name);
    sl_buffer_release(t->owner);
    memset(t, 0, sizeof *t);
    t->dtype = -1;
}

sl_status sl_tensor_copy(sl_tensor *dst, const sl_tensor *src, const char *new_name)
{
    *dst = *src;
    dst->name = sl_strdup(new_name ? new_name : src->name);
    if (!dst->name) { dst->owner = NULL; return SL_ERR_NOMEM; }
    sl_buffer_retain(dst->owner);
    return SL_OK;
}

void sl_model_free(sl_model *m)
{
    if (!m) return;
    if (m->roles) {
        int64_t n_roles = SL_ROLE_FIRST_LAYER + m->hp.n_layers * SL_LAYER_ROLES;
        for (int64_t i = 0; i < n_roles; i++) sl_tensor_clear(&m->roles[i]);
    }
    for (int64_t i = 0; i < m->n_named; i++) sl_tensor_clear(&m->named[i]);
    free(m->named);
    free(m->roles);
    free(m->inv_freq);
    free(m->path);
    free(m->config_json);
    free(m);
}

/* Expected (rows, cols) of a role; cols = 0 for vectors. */
static void role_shape(const sl_hparams *hp, sl_role r, int64_t *rows, int64_t *cols)
{
    int64_t D = hp->n_embd, F = hp->n_ff, V = hp->n_vocab, qd = hp->n_head * hp->head_dim, kvd = hp->n_head_kv * hp->head_dim;
    *cols = 0;
    switch (r) {
    case SL_ROLE_TOK_EMBD: case SL_ROLE_OUTPUT: *rows = V; *cols = D; break;
    case SL_ROLE_WQ: *rows = qd; *cols = D; break;
    case SL_ROLE_WK: case SL_ROLE_WV: *rows = kvd; *cols = D; break;
    case SL_ROLE_WO: *rows = D; *cols = qd; break;
    case SL_ROLE_W_GATE: case SL_ROLE_W_UP: *rows = F; *cols = D; break;
    case SL_ROLE_W_DOWN: *rows = D; *cols = F; break;
    case SL_ROLE_Q_NORM: case SL_ROLE_K_NORM: *rows = hp->head_dim; break;
    default: *rows = D; break;
    }
}

static sl_status check_shape(const sl_model *m, const sl_tensor *t, sl_role r)
{
    int64_t rows, cols;
    role_shape(&m->hp, r, &rows, &cols);
    bool ok = cols ? (t->n_dims == 2 && t->shape[0] == rows && t->shape[1] == cols) : (t->n_dims == 1 && t->shape[0] == rows);
    if (!ok) {
        char got[96] = "";
        for (int d = 0; d < t->n_dims; d++)
            snprintf(got + strlen(got), sizeof got - strlen(got), d ? ", %lld" : "%lld", (long long)t->shape[d]);
        if (cols) return sl_fail(SL_ERR_FORMAT, "%s: tensor '%s' has shape (%s), expected (%lld, %lld) for %s",
                                 m->path, t->name, got, (long long)rows, (long long)cols, sl_role_name(r));
        return sl_fail(SL_ERR_FORMAT, "%s: tensor '%s' has shape (%s), expected (%lld) for %s", m->path, t->name, got,
                       (long long)rows, sl_role_name(r));
    }
    if (t->dtype < 0 || !sl_dtype_traits_of(t->dtype) || (!sl_role_is_norm(r) && !sl_k->gemm[t->dtype]) ||
        (sl_role_is_norm(r) && !sl_k->to_float[t->dtype]))
        return sl_fail(SL_ERR_UNSUPPORTED, "%s: tensor '%s' has an element type solar cannot compute with", m->path, t->name);
    return SL_OK;
}

/* Norm weights are tiny: keep an f32 copy when the file holds f16/bf16. */
static sl_status norm_to_f32(sl_tensor *t)
{
    if (t->dtype == SL_DTYPE_F32) return SL_OK;
    int64_t n = t->shape[0];
    sl_buffer *b = sl_buffer_new_heap((size_t)n * sizeof(float));
    if (!b) return SL_ERR_NOMEM;
    sl_k->to_float[t->dtype](n, t->data, b->heap);
    sl_buffer_release(t->owner);
    t->owner = b;
    t->data = b->heap;
    t->dtype = SL_DTYPE_F32;
    t->nbytes = (size_t)n * sizeof(float);
    return SL_OK;
}

static bool role_required(const sl_model *m, sl_role r)
{
    const sl_arch *a = sl_arch_get(m->hp.arch);
    if (r == SL_ROLE_OUTPUT) return !m->hp.tie_embeddings;
    return a->hf_names[r] != NULL;
}

sl_status sl_model_bind_check(sl_model *m)
{
    for (int r = 0; r < SL_ROLE_COUNT; r++) {
        int64_t n = sl_role_is_layer((sl_role)r) ? m->hp.n_layers : 1;
        for (int64_t il = 0; il < n; il++) {
            sl_tensor *t = sl_model_role_mut(m, (sl_role)r, il);
            if (!t) {
                if (!role_required(m, (sl_role)r)) continue;
                return sl_fail(SL_ERR_FORMAT, "%s: missing tensor for %s of layer %lld", m->path, sl_role_name((sl_role)r), (long long)il);
            }
            SL_TRY(check_shape(m, t, (sl_role)r));
            if (sl_role_is_norm((sl_role)r)) SL_TRY(norm_to_f32(t));
        }
    }
    return SL_OK;
}

void sl_rope_inv_freq(const sl_hparams *hp, float *inv_freq)
{
    int64_t half = hp->head_dim / 2;
    for (int64_t i = 0; i < half; i++) {
        /* HF computes base ** (2i / Dh) in float32 */
        float expo = (float)(2 * i) / (float)hp->head_dim;
        float f = 1.0f / powf((float)hp->rope_theta, expo);
        if (hp->rope_scaling == SL_ROPE_LINEAR) f = (float)(f / hp->rope_factor);
        else if (hp->rope_scaling == SL_ROPE_LLAMA3) {
            double ctx = (double)hp->rope_orig_ctx;
            double low_wl = ctx / hp->rope_low_freq_factor, high_wl = ctx / hp->rope_high_freq_factor;
            double wl = 2.0 * M_PI / f;
            if (wl > low_wl) f = (float)(f / hp->rope_factor);
            else if (wl >= high_wl) {
                double smooth = (ctx / wl - hp->rope_low_freq_factor) / (hp->rope_high_freq_factor - hp->rope_low_freq_factor);
                f = (float)((1.0 - smooth) * f / hp->rope_factor + smooth * f);
            }
        }
        inv_freq[i] = f;
    }
}
