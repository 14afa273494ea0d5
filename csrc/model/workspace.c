/* workspace.c — scratch buffers of a micro-batch of stacked rows (see workspace.h). */
#include "model/workspace.h"

#include <stdlib.h>

#include "kernels/matmul.h"

#define UBATCH_MAX 512

int64_t sl_workspace_ubatch(void) { return UBATCH_MAX; }

int64_t sl_workspace_layer_steps(const sl_model *m) { return 2 + m->hp.n_layers * SL_WS_STEPS_PER_LAYER; }

sl_status sl_workspace_init(sl_workspace **out, const sl_model *m)
{
    *out = NULL;
    sl_workspace *w = calloc(1, sizeof *w);
    if (!w) return SL_FAIL(SL_ERR_NOMEM, "out of memory");
    w->model = m;
    *out = w;
    return SL_OK;
}

static void free_buffers(sl_workspace *w)
{
    sl_free(w->x); sl_free(w->h); sl_free(w->q); sl_free(w->k); sl_free(w->v);
    sl_free(w->o); sl_free(w->g); sl_free(w->u); sl_free(w->scores); sl_free(w->qscratch);
    sl_free(w->row_seq); sl_free(w->row_pos); sl_free(w->sel); sl_free(w->jobs); sl_free(w->steps);
    w->jobs = NULL;
    w->steps = NULL;
    w->x = w->h = w->q = w->k = w->v = w->o = w->g = w->u = w->scores = NULL;
    w->qscratch = NULL;
    w->row_seq = NULL;
    w->row_pos = w->sel = NULL;
    w->qscratch_bytes = 0;
    w->cap_T = w->cap_ctx = 0;
    w->cap_threads = 0;
}

void sl_workspace_free(sl_workspace *w)
{
    if (!w) return;
    free_buffers(w);
    free(w);
}

/* Largest activation scratch any weight matrix wants for T rows of any input width. */
static size_t max_scratch_q(const sl_model *m, int64_t T)
{
    const sl_hparams *hp = &m->hp;
    int64_t widths[3] = {hp->n_embd, hp->n_head * hp->head_dim, hp->n_ff};
    size_t best = 0;
    for (int r = 0; r < SL_ROLE_COUNT; r++) {
        const sl_tensor *t = sl_model_role(m, (sl_role)r, 0);
        if (!t || t->n_dims != 2) continue;
        for (int i = 0; i < 3; i++) {
            size_t b = sl_matmul_scratch_bytes(t->dtype, widths[i], T);
            best = b > best ? b : best;
        }
    }
    return best;
}

sl_status sl_workspace_reserve(sl_workspace *w, int64_t T, int64_t n_ctx)
{
    const sl_model *m = w->model;
    int threads = m->n_threads > 0 ? m->n_threads : 1;
    if (T <= w->cap_T && n_ctx <= w->cap_ctx && threads <= w->cap_threads) return SL_OK;
    /* never shrink a dimension: alternating callers would reallocate every time */
    if (T < w->cap_T) T = w->cap_T;
    if (n_ctx < w->cap_ctx) n_ctx = w->cap_ctx;
    if (threads < w->cap_threads) threads = w->cap_threads;
    free_buffers(w);
    const sl_hparams *hp = &m->hp;
    size_t t = (size_t)T, qd = (size_t)(hp->n_head * hp->head_dim), kvd = (size_t)(hp->n_head_kv * hp->head_dim);
    size_t n_scores;
    if (!sl_mul_ok((size_t)threads, (size_t)n_ctx, &n_scores))
        return SL_FAIL(SL_ERR_ARG, "attention scratch for %d threads x %lld positions overflows", threads, (long long)n_ctx);
    w->x = sl_calloc(t * (size_t)hp->n_embd, sizeof(float));
    w->h = sl_calloc(t * qd, sizeof(float));
    w->q = sl_calloc(t * qd, sizeof(float));
    w->k = sl_calloc(t * kvd, sizeof(float));
    w->v = sl_calloc(t * kvd, sizeof(float));
    w->o = sl_calloc(t * (size_t)hp->n_embd, sizeof(float));
    w->g = sl_calloc(t * (size_t)hp->n_ff, sizeof(float));
    w->u = sl_calloc(t * (size_t)hp->n_ff, sizeof(float));
    w->scores = sl_calloc(n_scores, sizeof(float));
    w->row_seq = sl_calloc(t, sizeof *w->row_seq);
    w->row_pos = sl_calloc(t, sizeof *w->row_pos);
    w->sel = sl_calloc(t, sizeof *w->sel);
    w->qscratch_bytes = (max_scratch_q(m, T) + SL_ALIGN - 1) & ~(size_t)(SL_ALIGN - 1);
    w->qscratch = w->qscratch_bytes ? sl_alloc(SL_WS_QSLOTS * w->qscratch_bytes) : NULL;
    w->jobs = sl_calloc((size_t)(m->hp.n_layers * SL_WS_JOBS_PER_LAYER), sizeof *w->jobs);
    w->steps = sl_calloc((size_t)(sl_workspace_layer_steps(m) + 2), sizeof *w->steps);
    if (!w->x || !w->h || !w->q || !w->k || !w->v || !w->o || !w->g || !w->u || !w->scores || !w->row_seq ||
        !w->row_pos || !w->sel || (w->qscratch_bytes && !w->qscratch) || !w->jobs || !w->steps) {
        free_buffers(w);
        return SL_FAIL(SL_ERR_NOMEM, "out of memory for scratch of %lld rows", (long long)T);
    }
    w->cap_T = T;
    w->cap_ctx = n_ctx;
    w->cap_threads = threads;
    return SL_OK;
}
