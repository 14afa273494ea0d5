/* attention.h — the attention half of a block (see attention.c). Functions work on T stacked
 * rows that may belong to different sequences: the workspace's row map gives each row its
 * session (KV cache) and position. */
#ifndef SL_ATTENTION_H
#define SL_ATTENTION_H

#include <string.h>

#include "model/session.h"

/* QK-norm (when the layer has it) and RoPE (when the layer uses it) on q (T, H*Dh), k (T, Hkv*Dh);
 * row t is at position pos[t]. */
void sl_attn_prepare(const sl_model *m, int64_t il, float *q, float *k, int64_t T, const int64_t *pos);
/* Write w->k, w->v rows (T, Hkv*Dh) into layer il of each row's cache at its position. */
void sl_attn_store_kv(const sl_workspace *w, int64_t il, int64_t T);
/* w->h (T, H*Dh) = attention of the T rows of w->q over their caches (positions <= own valid). */
void sl_attn_compute(sl_workspace *w, int64_t il, int64_t T);

#endif /* SL_ATTENTION_H */
