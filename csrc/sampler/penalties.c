/* penalties.c — the logit-editing steps of the sampler: input checks, logit bias, and the
 * llama.cpp-style repetition / presence / frequency penalties over the accepted-token window,
 * plus the ring that remembers that window. */
#include <math.h>
#include <string.h>

#include "runtime/runtime.h"
#include "sampler/sampler.h"

/* Marks a token whose penalty was already applied during one pass (high bit of its count). */
#define SL_COUNT_MARK UINT32_C(0x80000000)

sl_status sl_sampler_accept(sl_sampler *s, const int32_t *ids, int64_t n)
{
    if (n < 0 || (n > 0 && !ids)) return SL_FAIL(SL_ERR_ARG, "bad token array (n=%lld)", (long long)n);
    for (int64_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= s->n_vocab)
            return SL_FAIL(SL_ERR_ARG, "token id %d at position %lld is outside the vocabulary [0, %lld)",
                           ids[i], (long long)i, (long long)s->n_vocab);
    int64_t cap = s->params.penalty_last_n;
    if (cap <= 0) return SL_OK;
    for (int64_t i = 0; i < n; i++) {
        if (s->n_history == cap) s->counts[s->history[s->history_head]]--;   /* evict the oldest */
        else s->n_history++;
        s->history[s->history_head] = ids[i];
        s->counts[ids[i]]++;
        s->history_head = (s->history_head + 1) % cap;
    }
    return SL_OK;
}

static sl_status check_logits(const float *logits, int64_t n_vocab)
{
    for (int64_t i = 0; i < n_vocab; i++) {
        if (isnan(logits[i])) return SL_FAIL(SL_ERR_ARG, "logit of token %lld is NaN", (long long)i);
        if (isinf(logits[i]) && logits[i] > 0)
            return SL_FAIL(SL_ERR_ARG, "logit of token %lld is +inf", (long long)i);
    }
    return SL_OK;
}

static sl_status apply_bias(sl_sampler *s)
{
    for (int64_t i = 0; i < s->n_bias; i++) {
        float *l = &s->work[s->bias_ids[i]];
        *l += s->bias_values[i];
        if (isinf(*l) && *l > 0)
            return SL_FAIL(SL_ERR_ARG, "logit bias %g on token %d overflows to +inf",
                           (double)s->bias_values[i], s->bias_ids[i]);
    }
    return SL_OK;
}

/* One pass over the ring: each distinct token is penalised once with its count. */
static void apply_window(sl_sampler *s)
{
    const float repeat = s->params.repeat_penalty;
    const float freq = s->params.frequency_penalty, presence = s->params.presence_penalty;
    for (int64_t i = 0; i < s->n_history; i++) {
        int32_t t = s->history[i];
        uint32_t c = s->counts[t];
        if (c & SL_COUNT_MARK) continue;
        s->counts[t] = c | SL_COUNT_MARK;
        float l = s->work[t];
        if (repeat != 1.0f) l = l <= 0.0f ? l * repeat : l / repeat;
        l -= (float)c * freq + presence;
        s->work[t] = l;
    }
    for (int64_t i = 0; i < s->n_history; i++) s->counts[s->history[i]] &= ~SL_COUNT_MARK;
}

sl_status sl_sampler_apply_penalties(sl_sampler *s, const float *logits)
{
    SL_TRY(check_logits(logits, s->n_vocab));
    memcpy(s->work, logits, (size_t)s->n_vocab * sizeof *s->work);
    SL_TRY(apply_bias(s));
    const sl_sampler_params *p = &s->params;
    if (p->repeat_penalty != 1.0f || p->frequency_penalty != 0.0f || p->presence_penalty != 0.0f)
        apply_window(s);
    return SL_OK;
}

sl_status sl_sampler_set_bias(sl_sampler *s, const int32_t *ids, const float *values, int64_t n)
{
    if (n < 0 || (n > 0 && (!ids || !values)))
        return SL_FAIL(SL_ERR_ARG, "bad logit bias arrays (n=%lld)", (long long)n);
    for (int64_t i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= s->n_vocab)
            return SL_FAIL(SL_ERR_ARG, "logit bias token id %d is outside the vocabulary [0, %lld)",
                           ids[i], (long long)s->n_vocab);
        if (isnan(values[i]) || (isinf(values[i]) && values[i] > 0))
            return SL_FAIL(SL_ERR_ARG, "logit bias of token %d is %g (only finite values or -inf)",
                           ids[i], (double)values[i]);
    }
    int32_t *new_ids = NULL;
    float *new_values = NULL;
    if (n > 0) {
        new_ids = sl_calloc((size_t)n, sizeof *new_ids);
        new_values = sl_calloc((size_t)n, sizeof *new_values);
        if (!new_ids || !new_values) {
            sl_free(new_ids);
            sl_free(new_values);
            return SL_ERR_NOMEM;
        }
        memcpy(new_ids, ids, (size_t)n * sizeof *ids);
        memcpy(new_values, values, (size_t)n * sizeof *values);
    }
    sl_free(s->bias_ids);
    sl_free(s->bias_values);
    s->bias_ids = new_ids;
    s->bias_values = new_values;
    s->n_bias = n;
    return SL_OK;
}
