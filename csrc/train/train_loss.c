/* train_loss.c — LM head and cross-entropy, fused and chunked over rows so that at most one
 * chunk of logits (NCH, V) exists at a time: logits = xf @ output^T, loss = mean over the N
 * targets of (logsumexp(logits) - logits[target]); with backward, the chunk becomes its gradient
 * (softmax - onehot) * grad_scale / N in place, then d output += dlogits^T xf and
 * dxf = dlogits @ output (dxf goes to acts.dxn). */
#include <math.h>

#include "runtime/runtime.h"
#include "train/train.h"
#include "train/train_ops.h"
#include "train/train_vec.h"

/* Per row of a chunk: its loss into row_loss, and (backward) its gradient in place. */
static void chunk_rows(int nt, float *logits, int64_t rows, int64_t V, const int32_t *targets, bool backward,
                       float coef, double *row_loss)
{
    const sl_train_vec *v = sl_train_vec_table();
#pragma omp parallel for num_threads(nt) schedule(static) if (rows * V >= SL_TRAIN_PAR_MIN)
    for (int64_t r = 0; r < rows; r++) {
        float *row = logits + r * V;
        const int32_t tg = targets[r];
        const float target_logit = row[tg];
        const float mx = v->max(V, row);
        const float s = v->exp_sum(V, row, mx, row);
        row_loss[r] = (double)mx + log((double)s) - (double)target_logit;
        if (backward) {
            const float k = coef / s;
            for (int64_t j = 0; j < V; j++) row[j] *= k;
            row[tg] -= coef;
        }
    }
}

sl_status sl_train_loss(sl_trainer *t, bool backward, float grad_scale, double *loss)
{
    sl_train_acts *a = &t->acts;
    const int64_t N = a->N, D = t->hp.n_embd, V = t->hp.n_vocab;
    const int32_t *targets = a->ids + N;
    double *row_loss = sl_alloc((size_t)a->n_chunk * sizeof(double));
    if (!row_loss) return SL_FAIL(SL_ERR_NOMEM, "out of memory");
    const float coef = grad_scale / (float)N;
    double total = 0.0;
    for (int64_t c0 = 0; c0 < N; c0 += a->n_chunk) {
        const int64_t rows = N - c0 < a->n_chunk ? N - c0 : a->n_chunk;
        const float *xf = a->xf + c0 * D;
        sl_tgemm(&t->ws, rows, V, D, 1.0f, sl_tgemm_n(xf, D), sl_tgemm_t(t->w.output, D), 0.0f, a->logits, V);
        chunk_rows(t->n_threads, a->logits, rows, V, targets + c0, backward, coef, row_loss);
        for (int64_t r = 0; r < rows; r++) total += row_loss[r];
        if (!backward) continue;
        sl_tgemm(&t->ws, V, D, rows, 1.0f, sl_tgemm_t(a->logits, V), sl_tgemm_n(xf, D), 1.0f, t->g.output, D);
        sl_tgemm(&t->ws, rows, D, V, 1.0f, sl_tgemm_n(a->logits, V), sl_tgemm_n(t->w.output, D), 0.0f,
                 a->dxn + c0 * D, D);
    }
    sl_free(row_loss);
    *loss = total / (double)N;
    return SL_OK;
}
