/* surgery.h — Depth Up-Scaling in memory: a new model whose layers are borrowed, without
 * copying a byte, from slices of other models (mergekit's passthrough merge). */
#ifndef SL_SURGERY_H
#define SL_SURGERY_H

#include "model/model.h"

typedef struct sl_layer_slice {
    const sl_model *model;      /* borrowed */
    int64_t start, end;         /* half-open layer range [start, end) */
} sl_layer_slice;

/* Stack the slices' layers in order. Global tensors (embeddings, final norm, LM head) come
 * from the first slice's model. Every model must have the same architecture and shapes. */
sl_status sl_model_passthrough(sl_model **out, const sl_layer_slice *slices, int64_t n_slices, int n_threads);

#endif /* SL_SURGERY_H */
