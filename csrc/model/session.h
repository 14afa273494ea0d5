/* session.h — a sequence being run: its KV cache, position and scratch memory, and the forward
 * passes over sessions. Sessions borrow their model; many sessions can share one model. */
#ifndef SL_SESSION_H
#define SL_SESSION_H

#include "model/workspace.h"

typedef struct sl_session {
    const sl_model *model;      /* borrowed: must outlive the session */
    int64_t n_ctx;              /* capacity in tokens */
    int64_t n_past;             /* tokens in the cache */
    int64_t kv_dim;             /* Hkv*Dh */
    sl_dtype kv_dtype;          /* SL_DTYPE_F32 or SL_DTYPE_F16: the element type of both caches */
    size_t kv_esize;            /* bytes per cache element (4 or 2) */
    void *k_cache;              /* owned (L, n_ctx, Hkv*Dh) of kv_dtype */
    void *v_cache;              /* owned (L, n_ctx, Hkv*Dh) of kv_dtype */
    sl_workspace *ws;           /* owned: scratch of this session's own forward calls */
} sl_session;

/* kv_dtype: SL_DTYPE_F32 (exact) or SL_DTYPE_F16 (half the memory; keys and values rounded to
 * IEEE half when stored, as llama.cpp's default cache does). */
sl_status sl_session_init(sl_session **out, const sl_model *m, int64_t n_ctx, sl_dtype kv_dtype);
void sl_session_free(sl_session *s);           /* accepts NULL */
void sl_session_reset(sl_session *s);
sl_status sl_session_truncate(sl_session *s, int64_t n_past);

/* Run T tokens through the model at positions n_past.. and advance n_past.
 *   logits: NULL, or (T, V) when logits_all, else (1, V) for the last token
 *   hidden: NULL, or (L+1, T, D) residual stream after the embedding and every layer */
sl_status sl_model_forward(const sl_model *m, sl_session *s, const int32_t *tokens, int64_t T,
                           float *logits, bool logits_all, float *hidden);

/* Run B sequences together: sequence i's counts[i] >= 1 new tokens (stacked in tokens, sequence
 * after sequence) at positions seqs[i]->n_past.., every linear layer one matmul over all rows,
 * attention per sequence against its own cache; each n_past advances by counts[i].
 *   w: the caller's workspace for m (not used by another call at the same time)
 *   seqs: B distinct sessions of m;  tokens: (sum counts)
 *   logits: NULL, or (sum counts, V) when logits_all, else (B, V): the last row of each sequence
 * On failure every session keeps its n_past and the message names the sequence index. */
sl_status sl_model_forward_multi(const sl_model *m, sl_workspace *w, sl_session *const *seqs, int64_t B,
                                 const int32_t *tokens, const int64_t *counts, float *logits, bool logits_all);

#endif /* SL_SESSION_H */
