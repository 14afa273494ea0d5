/* session.h — a sequence being run: its KV cache, position, and scratch memory. Sessions
 * borrow their model; many sessions can share one model. */
#ifndef SL_SESSION_H
#define SL_SESSION_H

#include "model/model.h"

typedef struct sl_session {
    const sl_model *model;      /* borrowed: must outlive the session */
    int64_t n_ctx;              /* capacity in tokens */
    int64_t n_past;             /* tokens in the cache */
    int64_t kv_dim;             /* Hkv*Dh */
    float *k_cache;             /* owned (L, n_ctx, Hkv*Dh) */
    float *v_cache;             /* owned (L, n_ctx, Hkv*Dh) */
    /* scratch for one micro-batch of up to cap_T tokens, owned */
    int64_t cap_T;
    float *x;                   /* (T, D) residual stream */
    float *h;                   /* (T, max(D, H*Dh)) normed input / attention output */
    float *q;                   /* (T, H*Dh) */
    float *k, *v;               /* (T, Hkv*Dh) */
    float *o;                   /* (T, D) block output */
    float *g, *u;               /* (T, F) */
    float *scores;              /* (threads, n_ctx) */
    void *qscratch;             /* quantized activations, qscratch_bytes */
    size_t qscratch_bytes;
} sl_session;

sl_status sl_session_init(sl_session **out, const sl_model *m, int64_t n_ctx);
void sl_session_free(sl_session *s);           /* accepts NULL */
void sl_session_reset(sl_session *s);
sl_status sl_session_truncate(sl_session *s, int64_t n_past);
/* Grow scratch for micro-batches of T tokens. */
sl_status sl_session_reserve(sl_session *s, int64_t T);

/* Run T tokens through the model at positions n_past.. and advance n_past.
 *   logits: NULL, or (T, V) when logits_all, else (1, V) for the last token
 *   hidden: NULL, or (L+1, T, D) residual stream after the embedding and every layer */
sl_status sl_model_forward(const sl_model *m, sl_session *s, const int32_t *tokens, int64_t T,
                           float *logits, bool logits_all, float *hidden);

#endif /* SL_SESSION_H */
