/* forward.h — the layer stack shared by the single-sequence (forward.c) and multi-sequence
 * (forward_multi.c) forward passes. Both run micro-batches of stacked rows whose row map
 * (w->row_seq, w->row_pos) the caller fills first. */
#ifndef SL_FORWARD_H
#define SL_FORWARD_H

#include "model/session.h"

/* Run the T rows of one micro-batch (ids checked by the caller) through the embedding and
 * every layer, writing each row's keys/values into its own cache at its position; w->x then
 * holds the final residual stream (T, D).
 *   hidden: NULL, or (L+1, T_total, D) receiving these rows at t0.. after the embedding and
 *   every layer. */
sl_status sl_forward_layers(const sl_model *m, sl_workspace *w, const int32_t *tokens, int64_t T,
                            float *hidden, int64_t T_total, int64_t t0);

/* Final norm and LM head of rows w->sel[0..n) of the micro-batch: logits (n, V). */
sl_status sl_forward_logits(const sl_model *m, sl_workspace *w, int64_t n, float *logits);

#endif /* SL_FORWARD_H */
