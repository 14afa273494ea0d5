/* sampler.c — the sampler's life cycle and its filter chain (greedy, top-k, top-p, min-p,
 * temperature, seeded draw), and log-probabilities of the raw logits. The order of the steps
 * and their exact semantics are documented in sampler.h. */
#include <math.h>
#include <string.h>

#include "runtime/runtime.h"
#include "sampler/sampler.h"

/* Largest window the penalties may look at (keeps the ring and counts small and sane). */
#define SL_PENALTY_WINDOW_MAX (INT32_C(1) << 24)

sl_sampler_params sl_sampler_default_params(void)
{
    sl_sampler_params p = {
        .temperature = 0.8f, .top_k = 40, .top_p = 0.95f, .min_p = 0.05f,
        .repeat_penalty = 1.0f, .presence_penalty = 0.0f, .frequency_penalty = 0.0f,
        .penalty_last_n = 64, .seed = 0,
    };
    return p;
}

static sl_status check_params(const sl_sampler_params *p)
{
    if (!(p->temperature >= 0.0f) || isinf(p->temperature))
        return SL_FAIL(SL_ERR_ARG, "temperature must be finite and >= 0, got %g", (double)p->temperature);
    if (p->top_k < 0) return SL_FAIL(SL_ERR_ARG, "top_k must be >= 0, got %d", p->top_k);
    if (!(p->top_p > 0.0f && p->top_p <= 1.0f))
        return SL_FAIL(SL_ERR_ARG, "top_p must be in (0, 1], got %g", (double)p->top_p);
    if (!(p->min_p >= 0.0f && p->min_p <= 1.0f))
        return SL_FAIL(SL_ERR_ARG, "min_p must be in [0, 1], got %g", (double)p->min_p);
    if (!(p->repeat_penalty > 0.0f) || isinf(p->repeat_penalty))
        return SL_FAIL(SL_ERR_ARG, "repeat_penalty must be finite and > 0, got %g", (double)p->repeat_penalty);
    if (!isfinite(p->presence_penalty) || !isfinite(p->frequency_penalty))
        return SL_FAIL(SL_ERR_ARG, "presence_penalty and frequency_penalty must be finite");
    if (p->penalty_last_n < 0 || p->penalty_last_n > SL_PENALTY_WINDOW_MAX)
        return SL_FAIL(SL_ERR_ARG, "penalty_last_n must be in [0, %d], got %d", SL_PENALTY_WINDOW_MAX,
                       p->penalty_last_n);
    return SL_OK;
}

sl_status sl_sampler_init(sl_sampler *s, int64_t n_vocab, const sl_sampler_params *params)
{
    memset(s, 0, sizeof *s);
    if (n_vocab <= 0 || n_vocab > INT32_MAX)
        return SL_FAIL(SL_ERR_ARG, "vocabulary size must be in [1, %d], got %lld", INT32_MAX, (long long)n_vocab);
    SL_TRY(check_params(params));
    s->params = *params;
    s->n_vocab = n_vocab;
    size_t v = (size_t)n_vocab;
    s->counts = sl_calloc(v, sizeof *s->counts);
    s->work = sl_calloc(v, sizeof *s->work);
    s->cand = sl_calloc(v, sizeof *s->cand);
    s->weight = sl_calloc(v, sizeof *s->weight);
    s->history = sl_calloc(params->penalty_last_n > 0 ? (size_t)params->penalty_last_n : 1, sizeof *s->history);
    if (!s->counts || !s->work || !s->cand || !s->weight || !s->history) {
        sl_sampler_free(s);
        return SL_ERR_NOMEM;
    }
    sl_rng_seed(&s->rng, params->seed);
    return SL_OK;
}

void sl_sampler_free(sl_sampler *s)
{
    if (!s) return;
    sl_free(s->history);
    sl_free(s->counts);
    sl_free(s->bias_ids);
    sl_free(s->bias_values);
    sl_free(s->work);
    sl_free(s->cand);
    sl_free(s->weight);
    memset(s, 0, sizeof *s);
}

void sl_sampler_reset(sl_sampler *s, uint64_t seed)
{
    for (int64_t i = 0; i < s->n_history; i++) s->counts[s->history[i]] = 0;
    s->n_history = 0;
    s->history_head = 0;
    s->params.seed = seed;
    sl_rng_seed(&s->rng, seed);
}

/* Greedy pick over s->work: the largest logit, lowest id on ties. */
static sl_status argmax_work(const sl_sampler *s, int32_t *out)
{
    int64_t best = 0;
    for (int64_t i = 1; i < s->n_vocab; i++)
        if (s->work[i] > s->work[best]) best = i;
    if (isinf(s->work[best]))
        return SL_FAIL(SL_ERR_ARG, "no token left to sample: every logit is -inf after bias and penalties");
    *out = (int32_t)best;
    return SL_OK;
}

/* Candidates in s->cand[0..n): the top k (sorted) or every finite logit (id order). */
static int64_t gather_candidates(sl_sampler *s, int *sorted)
{
    const sl_sampler_params *p = &s->params;
    int64_t n = 0, V = s->n_vocab;
    *sorted = p->top_k > 0 && p->top_k < V;
    if (*sorted) return sl_select_top_k(s->work, V, p->top_k, s->cand);
    for (int64_t i = 0; i < V; i++)
        if (!(isinf(s->work[i]) && s->work[i] < 0)) s->cand[n++] = (sl_token_logit){s->work[i], (int32_t)i};
    return n;
}

/* top-p over cand[0..n) (weights w = exp(l - lmax), total z over the pre-min-p set): the
 * shortest rank prefix whose mass reaches top_p. Unsorted candidates are ranked lazily: the
 * best k are selected (k growing 4x) until their mass reaches top_p, which gives the same
 * prefix as a full sort at O(n log k) instead of O(n log n). */
static int64_t keep_top_p(sl_sampler *s, int64_t n, int sorted, double lmax, double z)
{
    const double top_p = (double)s->params.top_p;
    int64_t k = sorted ? n : (n < 256 ? n : 256);
    for (;;) {
        if (!sorted) sl_select_top_k_inplace(s->cand, n, k);
        double cum = 0.0;
        for (int64_t i = 0; i < k; i++) {
            cum += exp((double)s->cand[i].logit - lmax) / z;
            if (cum >= top_p) return i + 1;
        }
        if (k == n) return n;
        k = k > n / 4 ? n : 4 * k;
    }
}

/* Fill s->cand[0..n) with the kept set after top-k / min-p / top-p (on untempered logits)
 * and s->weight with exp((l - lmax) / T); returns the weights' sum in *total. */
static sl_status build_kept(sl_sampler *s, int64_t *n_out, double *total)
{
    const sl_sampler_params *p = &s->params;
    int sorted;
    int64_t n = gather_candidates(s, &sorted);
    if (n == 0) return SL_FAIL(SL_ERR_ARG, "no token left to sample: every logit is -inf after bias and penalties");
    double lmax = s->cand[0].logit, z = 0.0;
    for (int64_t i = 1; i < n; i++) if (s->cand[i].logit > lmax) lmax = s->cand[i].logit;
    if (p->min_p > 0.0f || p->top_p < 1.0f) {
        for (int64_t i = 0; i < n; i++) {
            s->weight[i] = exp((double)s->cand[i].logit - lmax);
            z += s->weight[i];
        }
    }
    if (p->min_p > 0.0f) {              /* p_i >= min_p * p_max  <=>  exp(l_i - lmax) >= min_p */
        int64_t m = 0;
        for (int64_t i = 0; i < n; i++)
            if (s->weight[i] >= (double)p->min_p) s->cand[m++] = s->cand[i];
        n = m;
    }
    if (p->top_p < 1.0f)                /* min-p keeps a rank prefix, so cutting its prefix is exact */
        n = keep_top_p(s, n, sorted, lmax, z);
    double t = p->temperature, sum = 0.0;
    for (int64_t i = 0; i < n; i++) {
        s->weight[i] = exp(((double)s->cand[i].logit - lmax) / t);
        sum += s->weight[i];
    }
    *n_out = n;
    *total = sum;
    return SL_OK;
}

sl_status sl_sampler_sample(sl_sampler *s, const float *logits, int32_t *out_token)
{
    SL_TRY(sl_sampler_apply_penalties(s, logits));
    if (s->params.temperature <= 0.0f) return argmax_work(s, out_token);
    int64_t n;
    double total;
    SL_TRY(build_kept(s, &n, &total));
    double r = sl_rng_next_uniform(&s->rng) * total, cum = 0.0;
    for (int64_t i = 0; i < n; i++) {
        cum += s->weight[i];
        if (r < cum) { *out_token = s->cand[i].id; return SL_OK; }
    }
    *out_token = s->cand[n - 1].id;     /* r rounded up to the total */
    return SL_OK;
}

sl_status sl_sampler_probs(sl_sampler *s, const float *logits, double *out_probs)
{
    SL_TRY(sl_sampler_apply_penalties(s, logits));
    memset(out_probs, 0, (size_t)s->n_vocab * sizeof *out_probs);
    if (s->params.temperature <= 0.0f) {
        int32_t t = 0;
        SL_TRY(argmax_work(s, &t));
        out_probs[t] = 1.0;
        return SL_OK;
    }
    int64_t n;
    double total;
    SL_TRY(build_kept(s, &n, &total));
    for (int64_t i = 0; i < n; i++) out_probs[s->cand[i].id] = s->weight[i] / total;
    return SL_OK;
}

sl_status sl_logprobs_compute(const float *logits, int64_t n_vocab, int32_t token, int32_t n_top,
                              float *out_logprob, int32_t *out_top_ids, float *out_top_logprobs)
{
    if (n_vocab <= 0) return SL_FAIL(SL_ERR_ARG, "empty logits");
    if (token < 0 || token >= n_vocab)
        return SL_FAIL(SL_ERR_ARG, "token id %d is outside the vocabulary [0, %lld)", token, (long long)n_vocab);
    if (n_top < 0 || n_top > n_vocab)
        return SL_FAIL(SL_ERR_ARG, "number of top log-probabilities must be in [0, %lld], got %d",
                       (long long)n_vocab, n_top);
    double m = -INFINITY;
    for (int64_t i = 0; i < n_vocab; i++) {
        if (isnan(logits[i]) || (isinf(logits[i]) && logits[i] > 0))
            return SL_FAIL(SL_ERR_ARG, "logit of token %lld is %g", (long long)i, (double)logits[i]);
        if (logits[i] > m) m = logits[i];
    }
    if (isinf(m)) return SL_FAIL(SL_ERR_ARG, "every logit is -inf");
    double z = 0.0;
    for (int64_t i = 0; i < n_vocab; i++) z += exp((double)logits[i] - m);
    double lse = m + log(z);
    *out_logprob = (float)((double)logits[token] - lse);
    if (n_top == 0) return SL_OK;
    sl_token_logit *top = sl_calloc((size_t)n_top, sizeof *top);
    if (!top) return SL_ERR_NOMEM;
    int64_t count = sl_select_top_k(logits, n_vocab, n_top, top);
    for (int64_t i = 0; i < n_top; i++) {    /* past count: only -inf logits remain */
        out_top_ids[i] = i < count ? top[i].id : -1;
        out_top_logprobs[i] = i < count ? (float)((double)top[i].logit - lse) : -INFINITY;
    }
    sl_free(top);
    return SL_OK;
}
