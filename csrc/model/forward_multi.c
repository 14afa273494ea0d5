/* forward_multi.c — one forward pass over several sequences: the new tokens of B sessions
 * (counts may differ: one each while decoding, whole prompts in a first round) are stacked into
 * one activation matrix, so every weight matrix is read once per micro-batch for all of them;
 * attention runs per row against that row's session (its KV cache, its positions). Micro-batches
 * of sl_workspace_ubatch() rows may cut a sequence in two, like the single-sequence pass. */
#include "model/forward.h"

/* Every argument is checked before anything runs, so a failure leaves every session as it was. */
static sl_status check_batch(const sl_model *m, sl_session *const *seqs, int64_t B, const int32_t *tokens,
                             const int64_t *counts, int64_t *total, int64_t *max_ctx)
{
    if (B <= 0) return SL_FAIL(SL_ERR_ARG, "no sequences to run");
    int64_t sum = 0, ctx = 0;
    for (int64_t i = 0; i < B; i++) {
        const sl_session *s = seqs[i];
        if (!s) return SL_FAIL(SL_ERR_ARG, "sequence %lld: no session", (long long)i);
        if (s->model != m) return SL_FAIL(SL_ERR_ARG, "sequence %lld: the session belongs to another model", (long long)i);
        for (int64_t j = 0; j < i; j++)
            if (seqs[j] == s)
                return SL_FAIL(SL_ERR_ARG, "sequences %lld and %lld are the same session", (long long)j, (long long)i);
        if (counts[i] <= 0) return SL_FAIL(SL_ERR_ARG, "sequence %lld: no tokens to run", (long long)i);
        if (counts[i] > s->n_ctx - s->n_past)
            return SL_FAIL(SL_ERR_ARG, "sequence %lld: context overflow: %lld tokens in the session + %lld new > n_ctx %lld",
                           (long long)i, (long long)s->n_past, (long long)counts[i], (long long)s->n_ctx);
        if (counts[i] > INT64_MAX - sum) return SL_FAIL(SL_ERR_ARG, "sequence %lld: token counts overflow", (long long)i);
        sum += counts[i];
        ctx = s->n_ctx > ctx ? s->n_ctx : ctx;
    }
    const int32_t *tok = tokens;
    for (int64_t i = 0; i < B; i++) {
        for (int64_t t = 0; t < counts[i]; t++)
            if (tok[t] < 0 || tok[t] >= m->hp.n_vocab)
                return SL_FAIL(SL_ERR_ARG, "sequence %lld: token id %d at position %lld is out of range [0, %lld)",
                               (long long)i, tok[t], (long long)t, (long long)m->hp.n_vocab);
        tok += counts[i];
    }
    *total = sum;
    *max_ctx = ctx;
    return SL_OK;
}

/* Where the stacking has got to: sequence i, its token j. */
typedef struct cursor {
    int64_t i, j;
} cursor;

/* Fill the row map for the next n rows from the cursor; the rows that end a sequence go to
 * w->sel (in sequence order). Returns how many did. */
static int64_t map_rows(sl_workspace *w, sl_session *const *seqs, const int64_t *counts, cursor *c, int64_t n)
{
    int64_t n_sel = 0;
    for (int64_t r = 0; r < n; r++) {
        w->row_seq[r] = seqs[c->i];
        w->row_pos[r] = seqs[c->i]->n_past + c->j;
        if (++c->j == counts[c->i]) {
            w->sel[n_sel++] = r;
            c->i++;
            c->j = 0;
        }
    }
    return n_sel;
}

sl_status sl_model_forward_multi(const sl_model *m, sl_workspace *w, sl_session *const *seqs, int64_t B,
                                 const int32_t *tokens, const int64_t *counts, float *logits, bool logits_all)
{
    if (!w || w->model != m) return SL_FAIL(SL_ERR_ARG, "the workspace belongs to another model");
    int64_t total = 0, max_ctx = 0;
    SL_TRY(check_batch(m, seqs, B, tokens, counts, &total, &max_ctx));
    int64_t ub = sl_workspace_ubatch(), V = m->hp.n_vocab;
    SL_TRY(sl_workspace_reserve(w, total < ub ? total : ub, max_ctx));
    cursor c = {0, 0};
    int64_t seqs_done = 0;                      /* sequences whose last row has run */
    for (int64_t t0 = 0; t0 < total; t0 += ub) {
        int64_t n = total - t0 < ub ? total - t0 : ub;
        int64_t n_sel = map_rows(w, seqs, counts, &c, n);
        SL_TRY(sl_forward_layers(m, w, tokens + t0, n, NULL, total, t0));
        if (logits && logits_all) {
            for (int64_t r = 0; r < n; r++) w->sel[r] = r;
            SL_TRY(sl_forward_logits(m, w, n, logits + (size_t)t0 * (size_t)V));
        } else if (logits && n_sel > 0) {
            SL_TRY(sl_forward_logits(m, w, n_sel, logits + (size_t)seqs_done * (size_t)V));
        }
        seqs_done += n_sel;
    }
    for (int64_t i = 0; i < B; i++) seqs[i]->n_past += counts[i];
    return SL_OK;
}
