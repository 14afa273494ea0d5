/* tok_bpe.c — the BPE merge loop on integer ids and the per-workspace word cache.
 *
 * A word's symbols are a doubly linked list over an array; candidate merges sit in a binary
 * min-heap keyed by (rank, position of the left symbol), so the best-ranked, left-most pair
 * merges first (the tie rule of sentencepiece and HF tokenizers). Stale heap entries are
 * dropped when popped (their left or right symbol changed), so a word of n symbols costs
 * O(n log n). Words are cached (text -> ids) in the workspace, which a tokenizer keeps for reuse. */
#include <stdlib.h>
#include <string.h>

#include "runtime/runtime.h"
#include "tokenizer/tok_internal.h"

#define CACHE_MAX_WORD 48
#define CACHE_MAX_CAP ((size_t)1 << 16)
#define DEAD (-2)

typedef struct sym { int32_t id, prev, next; uint32_t start, len; } sym;
typedef struct cand { uint64_t key; int32_t lid, rid, merged, pad_; } cand;   /* key = rank << 32 | pos */
typedef struct centry { uint64_t hash; uint32_t key_off, key_len, ids_off, n_ids; } centry;

struct sl_tok_ws {
    sym *syms;              /* owned (sym_cap) */
    size_t sym_cap;
    cand *heap;             /* owned (heap_cap) */
    size_t heap_cap, heap_n;
    char *buf, *buf2;       /* owned scratch text (caller's / ignore_merges lookups) */
    size_t buf_cap, buf2_cap;
    sl_span *spans;         /* owned, grown by sl_pretok_split with realloc */
    size_t span_cap;
    centry *cache;          /* owned (cache_cap), hash 0 = empty */
    size_t cache_cap, cache_n;
    char *ckeys;            /* owned word texts of cache entries */
    size_t ckeys_len, ckeys_cap;
    int32_t *cids;          /* owned ids of cache entries */
    size_t cids_len, cids_cap;
};

/* ---- workspace ---- */

sl_tok_ws *sl_tok_ws_take(const sl_tokenizer *t)
{
    /* The slot is a cache of scratch memory, not tokenizer state: taking it does not change
     * any result, so the tokenizer stays logically const. */
    _Atomic(sl_tok_ws *) *slots = (_Atomic(sl_tok_ws *) *)t->ws_slot;
    for (int i = 0; i < SL_TOK_WS_SLOTS; i++) {
        if (!atomic_load_explicit(&slots[i], memory_order_relaxed)) continue;
        sl_tok_ws *ws = atomic_exchange(&slots[i], NULL);
        if (ws) return ws;
    }
    return calloc(1, sizeof(sl_tok_ws));
}

void sl_tok_ws_free(sl_tok_ws *ws)
{
    if (!ws) return;
    free(ws->syms);
    free(ws->heap);
    free(ws->buf);
    free(ws->buf2);
    free(ws->spans);
    free(ws->cache);
    free(ws->ckeys);
    free(ws->cids);
    free(ws);
}

void sl_tok_ws_give(const sl_tokenizer *t, sl_tok_ws *ws)
{
    if (!ws) return;
    if (ws->buf_cap > ((size_t)1 << 22)) { free(ws->buf); ws->buf = NULL; ws->buf_cap = 0; }
    if (ws->sym_cap > ((size_t)1 << 16)) {
        free(ws->syms); ws->syms = NULL; ws->sym_cap = 0;
        free(ws->heap); ws->heap = NULL; ws->heap_cap = 0;
    }
    if (ws->span_cap > ((size_t)1 << 18)) { free(ws->spans); ws->spans = NULL; ws->span_cap = 0; }
    _Atomic(sl_tok_ws *) *slots = (_Atomic(sl_tok_ws *) *)t->ws_slot;
    for (int i = 0; i < SL_TOK_WS_SLOTS; i++) {
        sl_tok_ws *expected = NULL;
        if (atomic_compare_exchange_strong(&slots[i], &expected, ws)) return;
    }
    sl_tok_ws_free(ws);
}

static char *grow_buf(char **buf, size_t *cap, size_t bytes)
{
    if (bytes <= *cap) return *buf;
    size_t c = *cap ? *cap : 4096;
    while (c < bytes) c *= 2;
    char *p = realloc(*buf, c);
    if (!p) return NULL;
    *buf = p;
    *cap = c;
    return p;
}

char *sl_tok_ws_buf(sl_tok_ws *ws, size_t bytes) { return grow_buf(&ws->buf, &ws->buf_cap, bytes); }

sl_span **sl_tok_ws_spans(sl_tok_ws *ws, size_t **cap)
{
    *cap = &ws->span_cap;
    return &ws->spans;
}

static sl_status reserve_syms(sl_tok_ws *ws, size_t n)
{
    if (n <= ws->sym_cap) return SL_OK;
    size_t c = ws->sym_cap ? ws->sym_cap : 64;
    while (c < n) c *= 2;
    sym *s = realloc(ws->syms, c * sizeof *s);
    if (s) ws->syms = s;
    cand *h = realloc(ws->heap, c * 2 * sizeof *h);
    if (h) ws->heap = h;
    if (!s || !h) return SL_FAIL(SL_ERR_NOMEM, "out of memory for a word of %zu symbols", n);
    ws->sym_cap = c;
    ws->heap_cap = c * 2;
    return SL_OK;
}

/* ---- heap ---- */

static sl_status heap_push(sl_tok_ws *ws, cand c)
{
    if (ws->heap_n == ws->heap_cap) {
        cand *h = realloc(ws->heap, ws->heap_cap * 2 * sizeof *h);
        if (!h) return SL_FAIL(SL_ERR_NOMEM, "out of memory");
        ws->heap = h;
        ws->heap_cap *= 2;
    }
    cand *h = ws->heap;
    size_t i = ws->heap_n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (h[p].key <= c.key) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = c;
    return SL_OK;
}

static cand heap_pop(sl_tok_ws *ws)
{
    cand *h = ws->heap, top = h[0], last = h[--ws->heap_n];
    size_t n = ws->heap_n, i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && h[c + 1].key < h[c].key) c++;
        if (last.key <= h[c].key) break;
        h[i] = h[c];
        i = c;
    }
    h[i] = last;
    return top;
}

static sl_status try_pair(const sl_tokenizer *t, sl_tok_ws *ws, int32_t i)
{
    sym *s = ws->syms;
    int32_t j = s[i].next;
    if (j < 0 || s[i].id < 0 || s[j].id < 0) return SL_OK;
    const sl_tok_pair *p = sl_tok_pair_find(&t->pairs, s[i].id, s[j].id);
    if (!p) return SL_OK;
    return heap_push(ws, (cand){(uint64_t)(uint32_t)p->rank << 32 | (uint32_t)i, s[i].id, s[j].id, p->merged, 0});
}

/* ---- one word ---- */

static sl_status init_symbols(const sl_tokenizer *t, sl_tok_ws *ws, const uint8_t *w, size_t len, int32_t *n_out)
{
    SL_TRY(reserve_syms(ws, len + 1));
    sym *s = ws->syms;
    int32_t n = 0;
    for (size_t k = 0, cl = 1; k < len; k += cl) {
        int32_t id;
        if (t->algo == SL_TOK_ALGO_BYTE_BPE) {
            cl = 1;
            id = t->byte_id[w[k]];
        } else {
            uint32_t cp = w[k] < 0x80 ? (cl = 1, w[k]) : sl_tok_utf8_next(w + k, len - k, &cl);
            if (cp < 65536) id = t->char_id[cp];
            else if (cp == 0xFFFFFFFFu) id = -1;
            else {
                id = sl_tok_lookup(t, (const char *)w + k, cl);
                if (id >= 0 && !(t->tflags[id] & SL_TOKF_MERGEABLE)) id = -1;
            }
        }
        s[n] = (sym){id, n - 1, n + 1, (uint32_t)k, (uint32_t)cl};
        n++;
    }
    s[n - 1].next = -1;
    *n_out = n;
    return SL_OK;
}

static sl_status emit_symbols(const sl_tokenizer *t, sl_tok_ws *ws, const uint8_t *w, sl_tok_ids *out)
{
    const sym *s = ws->syms;
    bool last_unk = false;
    for (int32_t i = 0; i >= 0; i = s[i].next) {
        if (s[i].id >= 0) { SL_TRY(sl_tok_ids_push(out, s[i].id)); last_unk = false; continue; }
        if (t->byte_fallback) {
            bool all = true;
            for (uint32_t k = 0; k < s[i].len; k++) all = all && t->byte_id[w[s[i].start + k]] >= 0;
            if (all) {
                for (uint32_t k = 0; k < s[i].len; k++) SL_TRY(sl_tok_ids_push(out, t->byte_id[w[s[i].start + k]]));
                last_unk = false;
                continue;
            }
        }
        if (t->unk_id < 0 || (t->fuse_unk && last_unk)) continue;
        SL_TRY(sl_tok_ids_push(out, t->unk_id));
        last_unk = true;
    }
    return SL_OK;
}

/* HF ignore_merges: a word that is itself a token is that token. */
static int32_t whole_word_id(const sl_tokenizer *t, sl_tok_ws *ws, const uint8_t *w, size_t len)
{
    if (t->algo == SL_TOK_ALGO_SPM) return sl_tok_lookup(t, (const char *)w, len);
    char *b = grow_buf(&ws->buf2, &ws->buf2_cap, len * 2 + 1);
    if (!b) return -1;
    size_t n = 0;
    for (size_t k = 0; k < len; k++) n += sl_tok_utf8_put(b + n, sl_tok_byte_to_cp(w[k]));
    int32_t id = sl_tok_lookup(t, b, n);
    return id >= 0 && !(t->tflags[id] & SL_TOKF_ADDED) ? id : -1;
}

static sl_status bpe_compute(const sl_tokenizer *t, sl_tok_ws *ws, const uint8_t *w, size_t len, sl_tok_ids *out)
{
    if (t->ignore_merges) {
        int32_t id = whole_word_id(t, ws, w, len);
        if (id >= 0) return sl_tok_ids_push(out, id);
    }
    int32_t n;
    SL_TRY(init_symbols(t, ws, w, len, &n));
    sym *s = ws->syms;
    ws->heap_n = 0;
    for (int32_t i = 0; i + 1 < n; i++)   /* overlap the table's cache misses */
        if (s[i].id >= 0 && s[i + 1].id >= 0) __builtin_prefetch(&t->pairs.slots[sl_tok_pair_home(&t->pairs, s[i].id, s[i + 1].id)]);
    for (int32_t i = 0; i + 1 < n; i++) SL_TRY(try_pair(t, ws, i));
    while (ws->heap_n) {
        cand c = heap_pop(ws);
        int32_t i = (int32_t)(uint32_t)c.key, j = s[i].next;
        if (s[i].id != c.lid || j < 0 || s[j].id != c.rid) continue;   /* stale */
        s[i].id = c.merged;
        s[i].len += s[j].len;
        s[j].id = DEAD;
        s[i].next = s[j].next;
        int32_t p = s[i].prev, nx = s[i].next;
        if (nx >= 0) {
            s[nx].prev = i;
            if (s[nx].id >= 0) __builtin_prefetch(&t->pairs.slots[sl_tok_pair_home(&t->pairs, c.merged, s[nx].id)]);
        }
        if (p >= 0) SL_TRY(try_pair(t, ws, p));
        SL_TRY(try_pair(t, ws, i));
    }
    return emit_symbols(t, ws, w, out);
}

/* ---- word cache ---- */

static const centry *cache_find(const sl_tok_ws *ws, uint64_t h, const char *w, size_t len)
{
    if (!ws->cache_cap) return NULL;
    size_t mask = ws->cache_cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        const centry *e = &ws->cache[i];
        if (!e->hash) return NULL;
        if (e->hash == h && e->key_len == len && memcmp(ws->ckeys + e->key_off, w, len) == 0) return e;
    }
}

static void cache_clear(sl_tok_ws *ws)
{
    memset(ws->cache, 0, ws->cache_cap * sizeof *ws->cache);
    ws->cache_n = ws->ckeys_len = ws->cids_len = 0;
}

static bool cache_make_room(sl_tok_ws *ws)
{
    if ((ws->cache_n + 1) * 2 <= ws->cache_cap) return true;
    if (ws->cache_cap >= CACHE_MAX_CAP) { cache_clear(ws); return true; }
    size_t cap = ws->cache_cap ? ws->cache_cap * 4 : 1024;
    centry *c = calloc(cap, sizeof *c);
    if (!c) return false;
    for (size_t i = 0; i < ws->cache_cap; i++) {
        centry e = ws->cache[i];
        if (!e.hash) continue;
        size_t j = (size_t)e.hash & (cap - 1);
        while (c[j].hash) j = (j + 1) & (cap - 1);
        c[j] = e;
    }
    free(ws->cache);
    ws->cache = c;
    ws->cache_cap = cap;
    return true;
}

/* Best effort: a failed allocation only means the word is not cached. */
static void cache_put(sl_tok_ws *ws, uint64_t h, const char *w, size_t len, const int32_t *ids, size_t n)
{
    if (!cache_make_room(ws)) return;
    if (!grow_buf(&ws->ckeys, &ws->ckeys_cap, ws->ckeys_len + len)) return;
    if (ws->cids_len + n > ws->cids_cap) {
        size_t c = ws->cids_cap ? ws->cids_cap : 4096;
        while (c < ws->cids_len + n) c *= 2;
        int32_t *p = realloc(ws->cids, c * sizeof *p);
        if (!p) return;
        ws->cids = p;
        ws->cids_cap = c;
    }
    size_t mask = ws->cache_cap - 1, i = (size_t)h & mask;
    while (ws->cache[i].hash) i = (i + 1) & mask;
    ws->cache[i] = (centry){h, (uint32_t)ws->ckeys_len, (uint32_t)len, (uint32_t)ws->cids_len, (uint32_t)n};
    memcpy(ws->ckeys + ws->ckeys_len, w, len);
    memcpy(ws->cids + ws->cids_len, ids, n * sizeof *ids);
    ws->ckeys_len += len;
    ws->cids_len += n;
    ws->cache_n++;
}

sl_status sl_tok_bpe_word(const sl_tokenizer *t, sl_tok_ws *ws, const char *w, size_t len, sl_tok_ids *out)
{
    if (len == 0) return SL_OK;
    bool cacheable = len <= CACHE_MAX_WORD;
    uint64_t h = 0;
    if (cacheable) {
        h = sl_tok_hash(w, len) | 1;
        const centry *e = cache_find(ws, h, w, len);
        if (e) {
            SL_TRY(sl_tok_ids_reserve(out, e->n_ids));
            memcpy(out->data + out->n, ws->cids + e->ids_off, e->n_ids * sizeof(int32_t));
            out->n += e->n_ids;
            return SL_OK;
        }
    }
    size_t n0 = out->n;
    SL_TRY(bpe_compute(t, ws, (const uint8_t *)w, len, out));
    if (cacheable) cache_put(ws, h, w, len, out->data + n0, out->n - n0);
    return SL_OK;
}
