/* train_attention.h — causal softmax attention with grouped K/V heads (GQA), forward and
 * backward, on the fused q|k|v rows of training. The forward saves only the log-sum-exp of each
 * softmax row; the backward recomputes the probabilities block by block (BR query rows at a time),
 * so memory stays O(S) per thread instead of O(S^2) per head. */
#ifndef SL_TRAIN_ATTENTION_H
#define SL_TRAIN_ATTENTION_H

#include <stdint.h>

#include "train/train_gemm.h"

#define SL_TRAIN_ATT_BR 64     /* query rows per block */

typedef struct sl_train_att_dims {
    int64_t B, S, H, Hkv, Dh;
    int64_t window;        /* 0: full causal; w > 0: query i sees keys (i - w, i] */
} sl_train_att_dims;

/* qkv (B*S, W) with W = (H + 2*Hkv)*Dh: q heads, then k heads, then v heads per row.
 * att (B*S, H*Dh) = softmax(q k^T / sqrt(Dh) + causal (sliding-window) mask) v; lse (B*H, S).
 * scr: (ws->n_threads, 2, BR, S) scratch. */
void sl_train_attention_fwd(const sl_tgemm_ws *ws, sl_train_att_dims d, const float *qkv, float *att,
                            float *lse, float *scr);
/* From datt (B*S, H*Dh) = dL/d(att): writes dqkv (B*S, W) = dL/d(q|k|v) (every element).
 * drow (B*H, S) scratch. */
void sl_train_attention_bwd(const sl_tgemm_ws *ws, sl_train_att_dims d, const float *qkv, const float *att,
                            const float *lse, const float *datt, float *dqkv, float *drow, float *scr);

#endif /* SL_TRAIN_ATTENTION_H */
