/* session.c — KV cache and scratch memory of one sequence. */
#include "model/session.h"

#include <stdlib.h>
#include <string.h>

sl_status sl_session_init(sl_session **out, const sl_model *m, int64_t n_ctx, sl_dtype kv_dtype)
{
    *out = NULL;
    if (n_ctx <= 0 || n_ctx > ((int64_t)1 << 24))
        return SL_FAIL(SL_ERR_ARG, "n_ctx must be in [1, %lld], got %lld", (long long)1 << 24, (long long)n_ctx);
    if (kv_dtype != SL_DTYPE_F32 && kv_dtype != SL_DTYPE_F16)
        return SL_FAIL(SL_ERR_ARG, "the KV cache type must be f32 or f16, got %s", sl_dtype_name(kv_dtype));
    sl_session *s = calloc(1, sizeof *s);
    if (!s) return SL_FAIL(SL_ERR_NOMEM, "out of memory");
    s->model = m;
    s->n_ctx = n_ctx;
    s->kv_dim = m->hp.n_head_kv * m->hp.head_dim;
    s->kv_dtype = kv_dtype;
    s->kv_esize = kv_dtype == SL_DTYPE_F16 ? 2 : 4;
    size_t per_layer, total;
    if (!sl_mul_ok((size_t)n_ctx, (size_t)s->kv_dim, &per_layer) || !sl_mul_ok(per_layer, (size_t)m->hp.n_layers, &total)) {
        free(s);
        return SL_FAIL(SL_ERR_ARG, "KV cache for n_ctx %lld overflows", (long long)n_ctx);
    }
    s->k_cache = sl_calloc(total, s->kv_esize);
    s->v_cache = sl_calloc(total, s->kv_esize);
    if (s->k_cache && s->v_cache && sl_workspace_init(&s->ws, m) != SL_OK) {
        sl_session_free(s);
        return SL_FAIL(SL_ERR_NOMEM, "out of memory");
    }
    if (!s->k_cache || !s->v_cache) {
        sl_session_free(s);
        return SL_FAIL(SL_ERR_NOMEM, "out of memory for a KV cache of %lld tokens (%zu MiB)", (long long)n_ctx,
                       2 * total * s->kv_esize >> 20);
    }
    *out = s;
    return SL_OK;
}

void sl_session_free(sl_session *s)
{
    if (!s) return;
    sl_workspace_free(s->ws);
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
