/* attention.h — the attention half of a block (see attention.c), one row or head at a time.
 * Rows may belong to different sequences: the workspace's row map gives each row its session
 * (KV cache) and position. */
#ifndef SL_ATTENTION_H
#define SL_ATTENTION_H

#include <string.h>

#include "model/session.h"

/* QK-norm (when the layer has it) and RoPE (when the layer uses it) of one row at position pos:
 * q (H*Dh), k (Hkv*Dh), in place. */
void sl_attn_prepare_row(const sl_model *m, int64_t il, float *q, float *k, int64_t pos);
/* Write row t of w->k, w->v (Hkv*Dh each) into layer il of the row's cache at its position. */
void sl_attn_store_row(const sl_workspace *w, int64_t il, int64_t t);
/* Head h of row t: w->h[t, h] = softmax(q k^T / sqrt(Dh)) v over the positions the row sees in
 * its cache (all <= its own; a sliding window on sliding layers). scores: (cap_ctx) scratch. */
void sl_attn_compute_head(const sl_workspace *w, int64_t il, int64_t t, int64_t h, float *scores);

#endif /* SL_ATTENTION_H */
