/* sampler.h — picking the next token from a row of logits: logit bias, repetition /
 * presence / frequency penalties over a window of recent tokens, greedy, top-k, top-p,
 * min-p, temperature, and a seeded draw; plus log-probabilities for reporting.
 *
 * Semantics follow llama.cpp's default chain, in this order:
 *   1. logit bias:   l[t] += bias[t]  (-inf bans a token)
 *   2. penalties:    for every token t seen c > 0 times in the last `penalty_last_n` accepted
 *                    tokens: l[t] = l[t] <= 0 ? l[t] * repeat : l[t] / repeat;
 *                    then l[t] -= c * frequency + presence
 *   3. temperature <= 0: greedy — the largest logit (lowest id on ties); stop here.
 *   4. top-k (k > 0):  keep the k largest logits (ties broken by lower id)
 *   5. top-p (p < 1):  p_i = softmax of the kept logits (untempered); keep the shortest
 *                      prefix, by descending p_i, whose cumulative sum reaches p
 *   6. min-p (m > 0):  keep p_i >= m * max p  (untempered, order-independent)
 *   7. temperature T:  draw from softmax(l / T) over what is left.
 * Everything is scalar double-precision C with a fixed evaluation order, independent of
 * the kernel table and of threads, so a seed yields the same tokens on every ISA level.
 */
#ifndef SL_SAMPLER_H
#define SL_SAMPLER_H

#include <stdint.h>

#include "solar.h"
#include "sampler/rng.h"

typedef struct sl_sampler_params {
    float temperature;        /* <= 0: greedy */
    int32_t top_k;            /* <= 0 or >= V: off */
    float top_p;              /* in (0, 1]; 1: off */
    float min_p;              /* in [0, 1]; 0: off */
    float repeat_penalty;     /* > 0; 1: off */
    float presence_penalty;   /* 0: off */
    float frequency_penalty;  /* 0: off */
    int32_t penalty_last_n;   /* window of accepted tokens the penalties look at; 0: off */
    uint64_t seed;
} sl_sampler_params;

/* Defaults of llama.cpp: T 0.8, top-k 40, top-p 0.95, min-p 0.05, no penalties, window 64. */
sl_sampler_params sl_sampler_default_params(void);

typedef struct sl_token_logit {
    float logit;
    int32_t id;
} sl_token_logit;

typedef struct sl_sampler {
    sl_sampler_params params;
    int64_t n_vocab;          /* V */
    sl_rng rng;
    int32_t *history;         /* (penalty_last_n) ring of accepted tokens, owned */
    int64_t n_history;        /* tokens in the ring, <= penalty_last_n */
    int64_t history_head;     /* next slot to write */
    uint32_t *counts;         /* (V) occurrences of each token in the ring, owned */
    int32_t *bias_ids;        /* (n_bias) owned */
    float *bias_values;       /* (n_bias) owned */
    int64_t n_bias;
    float *work;              /* (V) scratch: biased + penalised logits, owned */
    sl_token_logit *cand;     /* (V) scratch: candidates, owned */
    double *weight;           /* (V) scratch: candidate weights, owned */
} sl_sampler;

/* Validate params and allocate scratch for a vocabulary of n_vocab tokens.
 * On failure the sampler is left zeroed (sl_sampler_free is still safe). */
sl_status sl_sampler_init(sl_sampler *s, int64_t n_vocab, const sl_sampler_params *params);
void sl_sampler_free(sl_sampler *s);   /* accepts a zeroed or freed sampler */

/* Replace the logit bias table (ids checked against V; values may be -inf, not NaN / +inf). */
sl_status sl_sampler_set_bias(sl_sampler *s, const int32_t *ids, const float *values, int64_t n);
/* Record tokens for the penalties (oldest first); ids checked against V. */
sl_status sl_sampler_accept(sl_sampler *s, const int32_t *ids, int64_t n);
/* Forget the penalty history and restart the random stream from `seed`. */
void sl_sampler_reset(sl_sampler *s, uint64_t seed);

/* Pick a token from logits (V), which are not modified. Fails (SL_ERR_ARG) on NaN or +inf
 * logits, or when bias / penalties leave no finite logit. Does not accept the token. */
sl_status sl_sampler_sample(sl_sampler *s, const float *logits, int32_t *out_token);
/* The distribution the sampler would draw from for these logits (V doubles summing to 1,
 * zero outside the kept set; one-hot when greedy). Does not touch the random stream. */
sl_status sl_sampler_probs(sl_sampler *s, const float *logits, double *out_probs);

/* Log-softmax of the raw logits (V): the chosen token's log-probability and the n_top
 * largest ones (descending, lower id first on ties; -inf logits are never listed, their
 * slots get id -1 and -inf). out_top_* have room for n_top. */
sl_status sl_logprobs_compute(const float *logits, int64_t n_vocab, int32_t token, int32_t n_top,
                              float *out_logprob, int32_t *out_top_ids, float *out_top_logprobs);

/* ---- internal steps (penalties.c, select.c), shared by sampler.c ---- */

/* work = logits + bias, then penalties from the history; checks logits for NaN / +inf. */
sl_status sl_sampler_apply_penalties(sl_sampler *s, const float *logits);
/* The k best finite entries of logits (V) into out (room for k), sorted (descending logit,
 * ascending id); returns how many (fewer than k when fewer are finite). */
int64_t sl_select_top_k(const float *logits, int64_t n_vocab, int64_t k, sl_token_logit *out);
/* Move the k best of cand[0..n) to cand[0..k), sorted; the rest stays in cand[k..n). */
void sl_select_top_k_inplace(sl_token_logit *cand, int64_t n, int64_t k);
/* Sort cand[0..n) by descending logit, ascending id. */
void sl_select_sort(sl_token_logit *cand, int64_t n);

#endif /* SL_SAMPLER_H */
