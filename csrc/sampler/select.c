/* select.c — ordering candidates for the sampler: a total order (descending logit, then
 * ascending id, so results never depend on the sort algorithm), streaming top-k selection
 * with a bounded heap (O(V log k)), and a full sort. */
#include <math.h>
#include <stdlib.h>

#include "sampler/sampler.h"

/* a ranks before b. */
static int better(const sl_token_logit *a, const sl_token_logit *b)
{
    return a->logit > b->logit || (a->logit == b->logit && a->id < b->id);
}

static int compare_rank(const void *pa, const void *pb)
{
    const sl_token_logit *a = pa, *b = pb;
    if (better(a, b)) return -1;
    if (better(b, a)) return 1;
    return 0;
}

void sl_select_sort(sl_token_logit *cand, int64_t n)
{
    if (n > 1) qsort(cand, (size_t)n, sizeof *cand, compare_rank);
}

/* Heap whose root is the worst kept candidate. */
static void sift_down(sl_token_logit *h, int64_t n, int64_t i)
{
    for (;;) {
        int64_t l = 2 * i + 1, r = l + 1, worst = i;
        if (l < n && better(&h[worst], &h[l])) worst = l;
        if (r < n && better(&h[worst], &h[r])) worst = r;
        if (worst == i) return;
        sl_token_logit t = h[i];
        h[i] = h[worst];
        h[worst] = t;
        i = worst;
    }
}

int64_t sl_select_top_k(const float *logits, int64_t n_vocab, int64_t k, sl_token_logit *out)
{
    int64_t n = 0;
    if (k <= 0) return 0;
    for (int64_t i = 0; i < n_vocab; i++) {
        if (isinf(logits[i]) && logits[i] < 0) continue;   /* banned tokens are never candidates */
        sl_token_logit c = {logits[i], (int32_t)i};
        if (n < k) {
            out[n++] = c;
            if (n == k)
                for (int64_t j = k / 2; j-- > 0;) sift_down(out, k, j);
        } else if (better(&c, &out[0])) {
            out[0] = c;
            sift_down(out, k, 0);
        }
    }
    sl_select_sort(out, n);
    return n;
}

void sl_select_top_k_inplace(sl_token_logit *cand, int64_t n, int64_t k)
{
    if (k >= n) {
        sl_select_sort(cand, n);
        return;
    }
    if (k <= 0) return;
    for (int64_t j = k / 2; j-- > 0;) sift_down(cand, k, j);
    for (int64_t i = k; i < n; i++) {
        if (better(&cand[i], &cand[0])) {      /* swap, so cand stays a permutation */
            sl_token_logit t = cand[0];
            cand[0] = cand[i];
            cand[i] = t;
            sift_down(cand, k, 0);
        }
    }
    sl_select_sort(cand, k);
}
