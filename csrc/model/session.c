/* session.c — KV cache and scratch memory of one sequence. */
#include "model/session.h"

#include <stdlib.h>
#include <string.h>

#include "kernels/matmul.h"

#define UBATCH_MAX 512

sl_status sl_session_init(sl_session **out, const sl_model *m, int64_t n_ctx)
{
    *out = NULL;
    if (n_ctx <= 0 || n_ctx > ((int64_t)1 << 24))
        return SL_FAIL(SL_ERR_ARG, "n_ctx must be in [1, %lld], got %lld", (long long)1 << 24, (long long)n_ctx);
    sl_session *s = calloc(1, sizeof *s);
    if (!s) return SL_FAIL(SL_ERR_NOMEM, "out of memory");
    s->model = m;
    s->n_ctx = n_ctx;
    s->kv_dim = m->hp.n_head_kv * m->hp.head_dim;
    size_t per_layer, total;
    if (!sl_mul_ok((size_t)n_ctx, (size_t)s->kv_dim, &per_layer) || !sl_mul_ok(per_layer, (size_t)m->hp.n_layers, &total)) {
        free(s);
        return SL_FAIL(SL_ERR_ARG, "KV cache for n_ctx %lld overflows", (long long)n_ctx);
    }
    s->k_cache = sl_calloc(total, sizeof(float));
    s->v_cache = sl_calloc(total, sizeof(float));
    if (!s->k_cache || !s->v_cache) {
        sl_session_free(s);
        return SL_FAIL(SL_ERR_NOMEM, "out of memory for a KV cache of %lld tokens (%zu MiB)", (long long)n_ctx,
                       2 * total * sizeof(float) >> 20);
    }
    *out = s;
    return SL_OK;
}

static void free_scratch(sl_session *s)
{
    sl_free(s->x); sl_free(s->h); sl_free(s->q); sl_free(s->k); sl_free(s->v);
    sl_free(s->o); sl_free(s->g); sl_free(s->u); sl_free(s->scores); sl_free(s->qscratch);
    s->x = s->h = s->q = s->k = s->v = s->o = s->g = s->u = s->scores = NULL;
    s->qscratch = NULL;
    s->cap_T = 0;
}

void sl_session_free(sl_session *s)
{
    if (!s) return;
    free_scratch(s);
    sl_free(s->k_cache);
    sl_free(s->v_cache);
    free(s);
}

void sl_session_reset(sl_session *s) { s->n_past = 0; }

sl_status sl_session_truncate(sl_session *s, int64_t n_past)
{
    if (n_past < 0 || n_past > s->n_past)
        return SL_FAIL(SL_ERR_ARG, "cannot truncate a session of %lld tokens to %lld", (long long)s->n_past, (long long)n_past);
    s->n_past = n_past;
    return SL_OK;
}

static size_t max_scratch_q(const sl_model *m, int64_t T)
{
    const sl_hparams *hp = &m->hp;
    int64_t widths[3] = {hp->n_embd, hp->n_head * hp->head_dim, hp->n_ff};
    size_t best = 0;
    for (int r = 0; r < SL_ROLE_COUNT; r++) {
        const sl_tensor *t = sl_model_role(m, (sl_role)r, 0);
        if (!t || t->n_dims != 2) continue;
        for (int w = 0; w < 3; w++) {
            size_t b = sl_matmul_scratch_bytes(t->dtype, widths[w], T);
            best = b > best ? b : best;
        }
    }
    return best;
}

sl_status sl_session_reserve(sl_session *s, int64_t T)
{
    if (T <= s->cap_T) return SL_OK;
    free_scratch(s);
    const sl_hparams *hp = &s->model->hp;
    int64_t qd = hp->n_head * hp->head_dim;
    int64_t hw = qd > hp->n_embd ? qd : hp->n_embd;
    size_t t = (size_t)T;
    s->x = sl_calloc(t * (size_t)hp->n_embd, sizeof(float));
    s->h = sl_calloc(t * (size_t)hw, sizeof(float));
    s->q = sl_calloc(t * (size_t)qd, sizeof(float));
    s->k = sl_calloc(t * (size_t)s->kv_dim, sizeof(float));
    s->v = sl_calloc(t * (size_t)s->kv_dim, sizeof(float));
    s->o = sl_calloc(t * (size_t)hp->n_embd, sizeof(float));
    s->g = sl_calloc(t * (size_t)hp->n_ff, sizeof(float));
    s->u = sl_calloc(t * (size_t)hp->n_ff, sizeof(float));
    s->scores = sl_calloc((size_t)s->model->n_threads * (size_t)s->n_ctx, sizeof(float));
    s->qscratch_bytes = max_scratch_q(s->model, T);
    s->qscratch = s->qscratch_bytes ? sl_alloc(s->qscratch_bytes) : NULL;
    if (!s->x || !s->h || !s->q || !s->k || !s->v || !s->o || !s->g || !s->u || !s->scores ||
        (s->qscratch_bytes && !s->qscratch)) {
        free_scratch(s);
        return SL_FAIL(SL_ERR_NOMEM, "out of memory for scratch of %lld tokens", (long long)T);
    }
    s->cap_T = T;
    return SL_OK;
}

int64_t sl_session_ubatch(void) { return UBATCH_MAX; }
