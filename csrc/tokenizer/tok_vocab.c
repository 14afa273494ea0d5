/* tok_vocab.c — the vocabulary of a tokenizer being built: token texts in one pool, the
 * text -> id hash table (open addressing, our own), UTF-8 and the
 * GPT-2 byte alphabet helpers, create/free. */
#include <stdlib.h>
#include <string.h>

#include "runtime/runtime.h"
#include "tokenizer/tok_internal.h"

/* ---- hashing, UTF-8, byte alphabet ---- */

static inline uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

uint64_t sl_tok_hash(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t h = 0x9E3779B97F4A7C15ull ^ ((uint64_t)len * 0xff51afd7ed558ccdull);
    while (len >= 8) {
        h = (h ^ rd64(p)) * 0xbf58476d1ce4e5b9ull;
        h ^= h >> 29;
        p += 8;
        len -= 8;
    }
    uint64_t tail = 0;
    memcpy(&tail, p, len);
    h = (h ^ tail) * 0x94d049bb133111ebull;
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 32);
}

uint32_t sl_tok_utf8_next(const uint8_t *s, size_t n, size_t *len)
{
    uint8_t c = s[0];
    *len = 1;
    if (c < 0x80) return c;
    size_t need;
    uint32_t cp;
    uint8_t lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) { need = 2; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { need = 3; cp = c & 0x0F; if (c == 0xE0) lo = 0xA0; if (c == 0xED) hi = 0x9F; }
    else if (c >= 0xF0 && c <= 0xF4) { need = 4; cp = c & 0x07; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
    else return 0xFFFFFFFFu;
    if (n < need) return 0xFFFFFFFFu;
    for (size_t i = 1; i < need; i++) {
        uint8_t b = s[i];
        if (b < lo || b > hi) return 0xFFFFFFFFu;
        lo = 0x80; hi = 0xBF;
        cp = cp << 6 | (b & 0x3F);
    }
    *len = need;
    return cp;
}

size_t sl_tok_utf8_put(char *out, uint32_t cp)
{
    uint8_t *o = (uint8_t *)out;
    if (cp < 0x80) { o[0] = (uint8_t)cp; return 1; }
    if (cp < 0x800) { o[0] = (uint8_t)(0xC0 | cp >> 6); o[1] = (uint8_t)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        o[0] = (uint8_t)(0xE0 | cp >> 12); o[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (uint8_t)(0xF0 | cp >> 18); o[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F)); o[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

sl_tok_quoted sl_tok_quote(const char *text, size_t len)
{
    sl_tok_quoted q;
    size_t o = 0, cap = sizeof q.s - 8;
    const uint8_t *u = (const uint8_t *)text;
    for (size_t k = 0, cl; k < len && o < cap; k += cl) {
        uint32_t cp = sl_tok_utf8_next(u + k, len - k, &cl);
        if (cp == 0xFFFFFFFFu || cp < 0x20 || cp == 0x7F) {
            static const char hex[] = "0123456789abcdef";
            q.s[o++] = '\\'; q.s[o++] = 'x'; q.s[o++] = hex[u[k] >> 4]; q.s[o++] = hex[u[k] & 15];
            cl = 1;
        } else {
            memcpy(q.s + o, u + k, cl);
            o += cl;
        }
    }
    if (o >= cap) { memcpy(q.s + o, "...", 3); o += 3; }
    q.s[o] = '\0';
    return q;
}

/* GPT-2's bytes_to_unicode: printable bytes stand for themselves, the other 68 bytes map to
 * U+0100.. in byte order (0..32, 127..160, 173). */
uint32_t sl_tok_byte_to_cp(uint8_t b)
{
    if (b <= 32) return 256u + b;
    if (b >= 127 && b <= 160) return 256u + 33u + (uint32_t)(b - 127);
    if (b == 173) return 256u + 67u;
    return b;
}

int sl_tok_cp_to_byte(uint32_t cp)
{
    if ((cp >= 33 && cp <= 126) || (cp >= 161 && cp <= 255 && cp != 173)) return (int)cp;
    if (cp >= 256 && cp <= 288) return (int)(cp - 256);
    if (cp >= 289 && cp <= 322) return (int)(cp - 289 + 127);
    if (cp == 323) return 173;
    return -1;
}

/* ---- text -> id map ---- */

static sl_status strmap_grow(sl_tokenizer *t)
{
    size_t cap = t->map.cap ? t->map.cap * 2 : 1024;
    sl_tok_slot *slots = malloc(cap * sizeof *slots);
    if (!slots) return SL_FAIL(SL_ERR_NOMEM, "out of memory for a %zu-slot token map", cap);
    memset(slots, 0xFF, cap * sizeof *slots);
    for (size_t i = 0; i < t->map.cap; i++) {
        sl_tok_slot e = t->map.slots[i];
        if (e.id < 0) continue;
        size_t j = (size_t)sl_tok_hash(t->pool + e.off, e.len) & (cap - 1);
        while (slots[j].id >= 0) j = (j + 1) & (cap - 1);
        slots[j] = e;
    }
    free(t->map.slots);
    t->map.slots = slots;
    t->map.cap = cap;
    return SL_OK;
}

static int32_t strmap_find(const sl_tokenizer *t, const char *s, size_t len, uint64_t h, size_t *slot)
{
    size_t mask = t->map.cap - 1, i = (size_t)h & mask;
    uint32_t tag = (uint32_t)(h >> 32);
    for (;; i = (i + 1) & mask) {
        const sl_tok_slot *e = &t->map.slots[i];
        if (e->id < 0) { *slot = i; return -1; }
        if (e->tag == tag && e->len == len && memcmp(t->pool + e->off, s, len) == 0) { *slot = i; return e->id; }
    }
}

/* Map the text of id unless an earlier id has the same text; room is reserved. */
static void map_insert(sl_tokenizer *t, int32_t id, uint64_t h)
{
    size_t slot;
    const char *s = t->pool + t->piece_off[id];
    size_t len = t->piece_len[id];
    int32_t old = strmap_find(t, s, len, h, &slot);
    if (old >= 0 && old != id) return;
    t->map.slots[slot] = (sl_tok_slot){(uint32_t)(h >> 32), id, t->piece_off[id], (uint32_t)len};
    if (old < 0) t->map.count++;
}

int32_t sl_tok_lookup(const sl_tokenizer *t, const char *s, size_t len)
{
    if (!t->map.cap) return -1;
    size_t slot;
    return strmap_find(t, s, len, sl_tok_hash(s, len), &slot);
}

/* ---- create / free ---- */


static sl_status alloc_arrays(sl_tokenizer *t, int64_t n)
{
    size_t old = (size_t)t->n_vocab, cnt = (size_t)n;
    uint32_t *off = realloc(t->piece_off, cnt * sizeof *off);
    if (off) t->piece_off = off;
    uint32_t *len = realloc(t->piece_len, cnt * sizeof *len);
    if (len) t->piece_len = len;
    uint8_t *type = realloc(t->type, cnt);
    if (type) t->type = type;
    uint8_t *fl = realloc(t->tflags, cnt);
    if (fl) t->tflags = fl;
    float *sc = realloc(t->score, cnt * sizeof *sc);
    if (sc) t->score = sc;
    if (!off || !len || !type || !fl || !sc) return SL_FAIL(SL_ERR_NOMEM, "out of memory for %lld tokens", (long long)n);
    for (size_t i = old; i < cnt; i++) {
        t->piece_off[i] = SL_TOK_NONE;
        t->piece_len[i] = 0;
        t->type[i] = SL_TOK_TYPE_NORMAL;
        t->tflags[i] = 0;
        t->score[i] = 0.0f;
    }
    t->n_vocab = n;
    return SL_OK;
}

sl_status sl_tok_resize(sl_tokenizer *t, int64_t n)
{
    if (n <= t->n_vocab) return SL_OK;
    if (n > SL_TOK_MAX_VOCAB) return SL_FAIL(SL_ERR_FORMAT, "vocabulary of %lld tokens is too large", (long long)n);
    return alloc_arrays(t, n);
}

sl_status sl_tok_create(sl_tok_algo algo, int64_t n_vocab, sl_tokenizer **out)
{
    *out = NULL;
    if (n_vocab < 0 || n_vocab > SL_TOK_MAX_VOCAB)
        return SL_FAIL(SL_ERR_FORMAT, "vocabulary size %lld out of range", (long long)n_vocab);
    sl_tokenizer *t = calloc(1, sizeof *t);
    if (!t) return SL_FAIL(SL_ERR_NOMEM, "out of memory");
    t->algo = algo;
    t->unk_id = t->bos_id = t->eos_id = -1;
    t->fuse_unk = false;
    t->pretok = SL_PRETOK_NONE;
    for (int i = 0; i < 256; i++) { t->byte_id[i] = -1; t->trie.root[i] = -1; }
    for (int i = 0; i < SL_TOK_WS_SLOTS; i++) atomic_init(&t->ws_slot[i], NULL);
    sl_status st = alloc_arrays(t, n_vocab > 0 ? n_vocab : 1);
    if (st == SL_OK) t->n_vocab = n_vocab;
    if (st == SL_OK) st = strmap_grow(t);
    if (st == SL_OK) st = sl_tok_pairs_reserve(t, 1024);
    if (st != SL_OK) { sl_tokenizer_free(t); return st; }
    *out = t;
    return SL_OK;
}

void sl_tokenizer_free(sl_tokenizer *t)
{
    if (!t) return;
    for (int i = 0; i < SL_TOK_WS_SLOTS; i++) sl_tok_ws_free(atomic_load(&t->ws_slot[i]));
    free(t->pool);
    free(t->piece_off);
    free(t->piece_len);
    free(t->type);
    free(t->tflags);
    free(t->score);
    free(t->map.slots);
    free(t->pairs.slots);
    free(t->char_id);
    free(t->dec_pool);
    free(t->dec_off);
    free(t->dec_len);
    sl_tok_trie_free(&t->trie);
    free(t);
}

/* ---- pieces ---- */

static sl_status pool_append(sl_tokenizer *t, const char *s, size_t len, uint32_t *off)
{
    if (len > SL_TOK_MAX_PIECE) return SL_FAIL(SL_ERR_FORMAT, "token text of %zu bytes is too long", len);
    if (t->pool_len + len + 1 > t->pool_cap) {
        size_t cap = t->pool_cap ? t->pool_cap : 1 << 16;
        while (cap < t->pool_len + len + 1) cap *= 2;
        if (cap > UINT32_MAX) return SL_FAIL(SL_ERR_FORMAT, "token texts exceed 4 GiB");
        char *p = realloc(t->pool, cap);
        if (!p) return SL_FAIL(SL_ERR_NOMEM, "out of memory for token texts");
        t->pool = p;
        t->pool_cap = cap;
    }
    memcpy(t->pool + t->pool_len, s, len);
    t->pool[t->pool_len + len] = '\0';
    *off = (uint32_t)t->pool_len;
    t->pool_len += len + 1;
    return SL_OK;
}

sl_status sl_tok_set_piece(sl_tokenizer *t, int64_t id, const char *s, size_t len, sl_tok_type type, float score)
{
    if (id < 0 || id >= t->n_vocab)
        return SL_FAIL(SL_ERR_FORMAT, "token id %lld out of range [0, %lld)", (long long)id, (long long)t->n_vocab);
    t->type[id] = (uint8_t)type;
    t->score[id] = score;
    if (t->piece_off[id] != SL_TOK_NONE && t->piece_len[id] == len && memcmp(t->pool + t->piece_off[id], s, len) == 0)
        return SL_OK;
    uint32_t off = 0;
    SL_TRY(pool_append(t, s, len, &off));
    t->piece_off[id] = off;
    t->piece_len[id] = (uint32_t)len;
    if (!t->indexed) return SL_OK;   /* sl_tok_index inserts the bulk of the vocabulary later */
    if ((t->map.count + 1) * 2 > t->map.cap) SL_TRY(strmap_grow(t));
    map_insert(t, (int32_t)id, sl_tok_hash(s, len));
    return SL_OK;
}

sl_status sl_tok_index(sl_tokenizer *t)
{
    if (t->indexed) return SL_OK;
    while (t->map.cap < (size_t)t->n_vocab * 2 + 2) SL_TRY(strmap_grow(t));
    uint64_t h[32];
    for (int64_t base = 0; base < t->n_vocab; base += 32) {
        int64_t n = t->n_vocab - base < 32 ? t->n_vocab - base : 32;
        for (int64_t i = 0; i < n; i++) {
            int64_t id = base + i;
            if (t->piece_off[id] == SL_TOK_NONE) continue;
            h[i] = sl_tok_hash(t->pool + t->piece_off[id], t->piece_len[id]);
            __builtin_prefetch(&t->map.slots[h[i] & (t->map.cap - 1)], 1);
        }
        for (int64_t i = 0; i < n; i++)
            if (t->piece_off[base + i] != SL_TOK_NONE) map_insert(t, (int32_t)(base + i), h[i]);
    }
    t->indexed = true;
    return SL_OK;
}

sl_status sl_tok_add_added(sl_tokenizer *t, int32_t id, unsigned flags)
{
    if (id < 0 || id >= t->n_vocab || t->piece_off[id] == SL_TOK_NONE)
        return SL_FAIL(SL_ERR_FORMAT, "added token id %d has no text", (int)id);
    if (t->piece_len[id] == 0) return SL_FAIL(SL_ERR_FORMAT, "added token id %d is empty", (int)id);
    t->tflags[id] = (uint8_t)((t->tflags[id] & ~(SL_TOKF_SPECIAL | SL_TOKF_LSTRIP | SL_TOKF_RSTRIP |
                                                  SL_TOKF_SINGLE_WORD)) | flags | SL_TOKF_ADDED);
    return SL_OK;
}
