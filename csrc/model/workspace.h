/* workspace.h — scratch memory for one micro-batch of stacked activation rows, and the row map
 * that says which sequence (KV cache) and position each row belongs to.
 *
 * A forward pass stacks the new tokens of one or several sequences into one (T, D) matrix so
 * every linear layer is one matmul over all T rows; only attention looks at the row map. A
 * session owns a workspace for its own forward calls; a multi-sequence forward takes one
 * owned by the caller (sessions' scratch is never borrowed). */
#ifndef SL_WORKSPACE_H
#define SL_WORKSPACE_H

#include "kernels/matmul.h"
#include "model/model.h"
#include "runtime/steps.h"

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
    void *qscratch;             /* owned, SL_WS_QSLOTS x qscratch_bytes: activations converted for matmul
                                 * (one slot per matmul of a group that reads the same input) */
    size_t qscratch_bytes;
    /* row map of the current micro-batch, filled by the caller before running layers */
    struct sl_session **row_seq; /* owned (T) array; entries borrowed: the cache row t uses */
    int64_t *row_pos;           /* owned (T) position of row t in its sequence */
    int64_t *sel;               /* owned (T) rows picked for the LM head */
    /* the forward program (forward.c): matmul jobs and steps of one micro-batch */
    sl_matmul_job *jobs;        /* owned (L * SL_WS_JOBS_PER_LAYER) */
    sl_matmul_job head_job;     /* the LM head */
    sl_step *steps;             /* owned (sl_workspace_n_steps) */
    /* seconds per row of recent micro-batches run with 1 thread [0] and with all [1], for
     * decode-sized [0] and larger [1] batches (forward.c: choose_threads); 0 = not measured */
    double sec_per_row[2][2];
    int64_t n_runs[2];
} sl_workspace;

sl_status sl_workspace_init(sl_workspace **out, const sl_model *m);
void sl_workspace_free(sl_workspace *w);        /* accepts NULL */
/* Grow the buffers for micro-batches of T rows attending over caches of up to n_ctx tokens
 * with the model's current thread count (a no-op when they are big enough). */
sl_status sl_workspace_reserve(sl_workspace *w, int64_t T, int64_t n_ctx);

#define SL_WS_QSLOTS 3              /* matmuls sharing one input: Q, K, V */
#define SL_WS_JOBS_PER_LAYER 7      /* Q K V O gate up down */
#define SL_WS_STEPS_PER_LAYER 10    /* see forward.c */
/* Steps of the layer program (embedding, every layer, last residual), then 2 of the LM head. */
int64_t sl_workspace_layer_steps(const sl_model *m);

/* Rows per micro-batch of every forward pass. */
int64_t sl_workspace_ubatch(void);

#endif /* SL_WORKSPACE_H */
