/* tok_merges.c — the (left id, right id) -> (rank, merged id) table and how it is filled: HF /
 * GGUF merge lists in rank order, or SentencePiece piece scores. Loading a 100k-merge vocabulary
 * is dominated by cache misses in the hash tables, so lookups and inserts go in batches whose
 * memory accesses overlap (software prefetch). */
#include <stdlib.h>
#include <string.h>

#include "runtime/runtime.h"
#include "tokenizer/tok_internal.h"

static inline size_t pair_slot(uint64_t key, size_t mask) { return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 20) & mask; }

static sl_status pairmap_rehash(sl_tokenizer *t, size_t cap)
{
    sl_tok_pair *slots = malloc(cap * sizeof *slots);
    if (!slots) return SL_FAIL(SL_ERR_NOMEM, "out of memory for a %zu-slot merge table", cap);
    for (size_t i = 0; i < cap; i++) slots[i].key = UINT64_MAX;
    for (size_t i = 0; i < t->pairs.cap; i++) {
        sl_tok_pair p = t->pairs.slots[i];
        if (p.key == UINT64_MAX) continue;
        size_t j = pair_slot(p.key, cap - 1);
        while (slots[j].key != UINT64_MAX) j = (j + 1) & (cap - 1);
        slots[j] = p;
    }
    free(t->pairs.slots);
    t->pairs.slots = slots;
    t->pairs.cap = cap;
    return SL_OK;
}

sl_status sl_tok_pairs_reserve(sl_tokenizer *t, size_t n)
{
    size_t need = (t->pairs.count + n) * 2 + 2, cap = t->pairs.cap ? t->pairs.cap : 1024;
    while (cap < need) cap *= 2;
    return cap == t->pairs.cap ? SL_OK : pairmap_rehash(t, cap);
}

/* Insert or overwrite (a later duplicate merge wins, like HF tokenizers); room is reserved. */
static void pair_put(sl_tokenizer *t, uint64_t key, int32_t rank, int32_t merged)
{
    size_t mask = t->pairs.cap - 1, i = pair_slot(key, mask);
    while (t->pairs.slots[i].key != UINT64_MAX && t->pairs.slots[i].key != key) i = (i + 1) & mask;
    if (t->pairs.slots[i].key == UINT64_MAX) t->pairs.count++;
    t->pairs.slots[i] = (sl_tok_pair){key, rank, merged};
}

static sl_status pair_put_batch(sl_tokenizer *t, size_t n, const int32_t *l, const int32_t *r, const int32_t *rank,
                                const int32_t *merged)
{
    SL_TRY(sl_tok_pairs_reserve(t, n));
    uint64_t key[2 * SL_TOK_BATCH];
    for (size_t i = 0; i < n; i++) {
        key[i] = (uint64_t)(uint32_t)l[i] << 32 | (uint32_t)r[i];
        __builtin_prefetch(&t->pairs.slots[pair_slot(key[i], t->pairs.cap - 1)], 1);
    }
    for (size_t i = 0; i < n; i++) pair_put(t, key[i], rank[i], merged[i]);
    return SL_OK;
}

void sl_tok_lookup_batch(const sl_tokenizer *t, size_t n, const char *const *s, const size_t *len, int32_t *ids)
{
    uint64_t h[2 * SL_TOK_BATCH];
    size_t cand[2 * SL_TOK_BATCH], mask = t->map.cap - 1;
    for (size_t i = 0; i < n; i++) {
        h[i] = sl_tok_hash(s[i], len[i]);
        __builtin_prefetch(&t->map.slots[h[i] & mask]);
    }
    for (size_t i = 0; i < n; i++) {   /* first slot whose tag and length match; its text is prefetched */
        uint32_t tag = (uint32_t)(h[i] >> 32);
        cand[i] = SIZE_MAX;
        for (size_t j = h[i] & mask;; j = (j + 1) & mask) {
            const sl_tok_slot *e = &t->map.slots[j];
            if (e->id < 0) break;
            if (e->tag == tag && e->len == len[i]) { cand[i] = j; __builtin_prefetch(t->pool + e->off); break; }
        }
    }
    for (size_t i = 0; i < n; i++) {
        const sl_tok_slot *e = cand[i] == SIZE_MAX ? NULL : &t->map.slots[cand[i]];
        if (!e) ids[i] = -1;
        else if (memcmp(t->pool + e->off, s[i], len[i]) == 0) ids[i] = e->id;
        else ids[i] = sl_tok_lookup(t, s[i], len[i]);   /* a 32-bit tag collision: rare */
    }
}

/* ---- merge lists ---- */

void sl_tok_merge_batch_init(sl_tok_merge_batch *mb, sl_tokenizer *t, const char *what)
{
    mb->t = t;
    mb->what = what;
    mb->n = 0;
}

sl_status sl_tok_merge_batch_add(sl_tok_merge_batch *mb, const char *a, size_t alen, const char *b, size_t blen,
                                 size_t where)
{
    int i = mb->n++;
    mb->a[i] = a; mb->alen[i] = alen;
    mb->b[i] = b; mb->blen[i] = blen;
    mb->where[i] = where;
    return mb->n == SL_TOK_BATCH ? sl_tok_merge_batch_flush(mb) : SL_OK;
}

/* The merged token: merge lists usually create consecutive ids, so try the next id first. */
static sl_status merged_ids(sl_tok_merge_batch *mb, int32_t *m)
{
    sl_tokenizer *t = mb->t;
    char *cat[SL_TOK_BATCH];
    size_t len[SL_TOK_BATCH], miss[SL_TOK_BATCH], n_miss = 0, total = 0;
    for (int i = 0; i < mb->n; i++) total += mb->alen[i] + mb->blen[i];
    char *buf = malloc(total ? total : 1);
    if (!buf) return SL_FAIL(SL_ERR_NOMEM, "out of memory");
    int32_t prev = t->last_merged;
    size_t off = 0;
    for (int i = 0; i < mb->n; i++) {
        cat[i] = buf + off;
        memcpy(cat[i], mb->a[i], mb->alen[i]);
        memcpy(cat[i] + mb->alen[i], mb->b[i], mb->blen[i]);
        len[i] = mb->alen[i] + mb->blen[i];
        off += len[i];
        int32_t g = prev >= 0 ? prev + 1 : -1;
        if (g > 0 && g < t->n_vocab && t->piece_len[g] == len[i] && memcmp(t->pool + t->piece_off[g], cat[i], len[i]) == 0)
            m[i] = g;
        else { m[i] = -1; miss[n_miss++] = (size_t)i; }
        prev = m[i];
    }
    const char *ms[SL_TOK_BATCH];
    size_t ml[SL_TOK_BATCH];
    int32_t mi[SL_TOK_BATCH];
    for (size_t k = 0; k < n_miss; k++) { ms[k] = cat[miss[k]]; ml[k] = len[miss[k]]; }
    sl_tok_lookup_batch(t, n_miss, ms, ml, mi);
    for (size_t k = 0; k < n_miss; k++) m[miss[k]] = mi[k];
    free(buf);
    t->last_merged = m[mb->n - 1];
    return SL_OK;
}

sl_status sl_tok_merge_batch_flush(sl_tok_merge_batch *mb)
{
    sl_tokenizer *t = mb->t;
    int n = mb->n;
    if (!n) return SL_OK;
    SL_TRY(sl_tok_index(t));
    const char *s[2 * SL_TOK_BATCH];
    size_t len[2 * SL_TOK_BATCH];
    int32_t ids[2 * SL_TOK_BATCH], l[SL_TOK_BATCH], r[SL_TOK_BATCH], m[SL_TOK_BATCH], rank[SL_TOK_BATCH];
    for (int i = 0; i < n; i++) {
        s[2 * i] = mb->a[i]; len[2 * i] = mb->alen[i];
        s[2 * i + 1] = mb->b[i]; len[2 * i + 1] = mb->blen[i];
    }
    sl_tok_lookup_batch(t, (size_t)(2 * n), s, len, ids);
    SL_TRY(merged_ids(mb, m));
    for (int i = 0; i < n; i++) {
        l[i] = ids[2 * i];
        r[i] = ids[2 * i + 1];
        if (l[i] < 0 || r[i] < 0)
            return sl_fail(SL_ERR_FORMAT, "%s: merge %zu: '%s' is not in the vocabulary", mb->what, mb->where[i],
                           (l[i] < 0 ? sl_tok_quote(mb->a[i], mb->alen[i]) : sl_tok_quote(mb->b[i], mb->blen[i])).s);
        if (m[i] < 0)
            return sl_fail(SL_ERR_FORMAT, "%s: merge %zu: '%s' + '%s' is not in the vocabulary", mb->what, mb->where[i],
                           sl_tok_quote(mb->a[i], mb->alen[i]).s, sl_tok_quote(mb->b[i], mb->blen[i]).s);
        if (t->n_merges >= INT32_MAX) return sl_fail(SL_ERR_FORMAT, "%s: too many merges", mb->what);
        rank[i] = (int32_t)t->n_merges++;
    }
    mb->n = 0;
    return pair_put_batch(t, (size_t)n, l, r, rank, m);
}

/* ---- SentencePiece scores ---- */

typedef struct scored { float score; int32_t id; } scored;

static int cmp_score_desc(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* Every split of a piece into two mergeable pieces is a merge of that piece's rank. A batch
 * holds up to SL_TOK_BATCH splits (prefix and suffix lookups). */
typedef struct split_batch { const char *s[2 * SL_TOK_BATCH]; size_t len[2 * SL_TOK_BATCH]; int32_t piece[SL_TOK_BATCH]; int n; } split_batch;

static sl_status flush_splits(sl_tokenizer *t, split_batch *b, const int32_t *rank)
{
    int32_t ids[2 * SL_TOK_BATCH], l[SL_TOK_BATCH], r[SL_TOK_BATCH], rk[SL_TOK_BATCH], m[SL_TOK_BATCH];
    sl_tok_lookup_batch(t, (size_t)(2 * b->n), b->s, b->len, ids);
    size_t k = 0;
    for (int i = 0; i < b->n; i++) {
        int32_t a = ids[2 * i], c = ids[2 * i + 1];
        if (a < 0 || c < 0 || !(t->tflags[a] & SL_TOKF_MERGEABLE) || !(t->tflags[c] & SL_TOKF_MERGEABLE)) continue;
        l[k] = a; r[k] = c; m[k] = b->piece[i]; rk[k] = rank[b->piece[i]];
        k++;
    }
    b->n = 0;
    return pair_put_batch(t, k, l, r, rk, m);
}

static sl_status add_splits(sl_tokenizer *t, const scored *ids, size_t n, const int32_t *rank)
{
    split_batch b;
    b.n = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t id = ids[i].id;
        const char *s = t->pool + t->piece_off[id];
        size_t len = t->piece_len[id], k = 0, cl;
        for (;;) {
            sl_tok_utf8_next((const uint8_t *)s + k, len - k, &cl);
            k += cl;
            if (k >= len) break;
            b.s[2 * b.n] = s; b.len[2 * b.n] = k;
            b.s[2 * b.n + 1] = s + k; b.len[2 * b.n + 1] = len - k;
            b.piece[b.n++] = id;
            if (b.n == SL_TOK_BATCH) SL_TRY(flush_splits(t, &b, rank));
        }
    }
    return flush_splits(t, &b, rank);
}

sl_status sl_tok_pairs_from_scores(sl_tokenizer *t)
{
    SL_TRY(sl_tok_index(t));
    size_t v = (size_t)(t->n_vocab ? t->n_vocab : 1);
    scored *ids = malloc(v * sizeof *ids);
    int32_t *rank = malloc(v * sizeof *rank);
    if (!ids || !rank) { free(ids); free(rank); return SL_FAIL(SL_ERR_NOMEM, "out of memory"); }
    size_t n = 0;
    for (int64_t id = 0; id < t->n_vocab; id++)
        if ((t->tflags[id] & SL_TOKF_MERGEABLE) && t->piece_len[id] > 1) ids[n++] = (scored){t->score[id], (int32_t)id};
    qsort(ids, n, sizeof *ids, cmp_score_desc);
    int32_t r = -1;
    for (size_t i = 0; i < n; i++) {   /* equal scores share a rank: then the left-most pair wins */
        if (i == 0 || ids[i].score != ids[i - 1].score) r++;
        rank[ids[i].id] = r;
    }
    sl_status st = sl_tok_pairs_reserve(t, n * 2);
    if (st == SL_OK) st = add_splits(t, ids, n, rank);
    free(ids);
    free(rank);
    return st;
}
