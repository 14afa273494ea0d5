/* workspace.h — scratch memory for one micro-batch of stacked activation rows, and the row map
 * that says which sequence (KV cache) and position each row belongs to.
 *
 * A forward pass stacks the new tokens of one or several sequences into one (T, D) matrix so
 * every linear layer is one matmul over all T rows; only attention looks at the row map. A
 * session owns a workspace for its own forward calls; a multi-sequence forward takes one
 * owned by the caller (sessions' scratch is never borrowed). */
#ifndef SL_WORKSPACE_H
#define SL_WORKSPACE_H

#include "model/model.h"

struct sl_session;

typedef struct sl_workspace {
    const sl_model *model;      /* borrowed: must outlive the workspace */
    int64_t cap_T;              /* rows the buffers below hold */
    int64_t cap_ctx;            /* longest cache the scores buffer serves */
    int cap_threads;            /* threads the scores buffer serves */
    float *x;                   /* owned (T, D) residual stream */
    float *h;                   /* owned (T, H*Dh) attention output */
    float *q;                   /* owned (T, H*Dh) */
    float *k, *v;               /* owned (T, Hkv*Dh) */
    float *o;                   /* owned (T, D) normed input / block output */
    float *g, *u;               /* owned (T, F) */
    float *scores;              /* owned (cap_threads, cap_ctx) attention probabilities */
    void *qscratch;             /* owned, qscratch_bytes: activations converted for matmul */
    size_t qscratch_bytes;
    /* row map of the current micro-batch, filled by the caller before running layers */
    struct sl_session **row_seq; /* owned (T) array; entries borrowed: the cache row t uses */
    int64_t *row_pos;           /* owned (T) position of row t in its sequence */
    int64_t *sel;               /* owned (T) rows picked for the LM head */
} sl_workspace;

sl_status sl_workspace_init(sl_workspace **out, const sl_model *m);
void sl_workspace_free(sl_workspace *w);        /* accepts NULL */
/* Grow the buffers for micro-batches of T rows attending over caches of up to n_ctx tokens
 * with the model's current thread count (a no-op when they are big enough). */
sl_status sl_workspace_reserve(sl_workspace *w, int64_t T, int64_t n_ctx);

/* Rows per micro-batch of every forward pass. */
int64_t sl_workspace_ubatch(void);

#endif /* SL_WORKSPACE_H */
