/* attention.h — the attention half of a block (see attention.c). */
#ifndef SL_ATTENTION_H
#define SL_ATTENTION_H

#include <string.h>

#include "model/session.h"

/* QK-norm (when the layer has it) and RoPE (when the layer uses it) on q (T, H*Dh), k (T, Hkv*Dh). */
void sl_attn_prepare(const sl_model *m, int64_t il, float *q, float *k, int64_t T, int64_t pos0);
/* Write k, v (T, Hkv*Dh) at positions n_past.. of layer il. */
void sl_attn_store_kv(sl_session *s, int64_t il, const float *k, const float *v, int64_t T);
/* Attention of T new tokens over the cache (n_past + T positions valid). */
void sl_attn_compute(sl_session *s, int64_t il, const float *q, int64_t T, float *out);

#endif /* SL_ATTENTION_H */
