/* tok_added.c — added tokens ("<s>", "[|endofturn|]", "<think>", runs of spaces...): a byte trie
 * whose edges live in one open-addressing table, and the leftmost-longest match used before BPE. */
#include <stdlib.h>
#include <string.h>

#include "runtime/runtime.h"
#include "tokenizer/tok_internal.h"

static inline size_t edge_slot(uint64_t key, size_t mask) { return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 24) & mask; }

static int32_t edge_find(const sl_tok_trie *tr, int32_t node, uint8_t b)
{
    uint64_t key = (uint64_t)node << 8 | b;
    size_t mask = tr->edge_cap - 1;
    for (size_t i = edge_slot(key, mask);; i = (i + 1) & mask) {
        if (tr->edge_keys[i] == key) return tr->edge_child[i];
        if (tr->edge_keys[i] == UINT64_MAX) return -1;
    }
}

static sl_status edge_grow(sl_tok_trie *tr)
{
    size_t cap = tr->edge_cap ? tr->edge_cap * 2 : 256;
    uint64_t *keys = malloc(cap * sizeof *keys);
    int32_t *child = malloc(cap * sizeof *child);
    if (!keys || !child) { free(keys); free(child); return SL_FAIL(SL_ERR_NOMEM, "out of memory"); }
    for (size_t i = 0; i < cap; i++) keys[i] = UINT64_MAX;
    for (size_t i = 0; i < tr->edge_cap; i++) {
        if (tr->edge_keys[i] == UINT64_MAX) continue;
        size_t j = edge_slot(tr->edge_keys[i], cap - 1);
        while (keys[j] != UINT64_MAX) j = (j + 1) & (cap - 1);
        keys[j] = tr->edge_keys[i];
        child[j] = tr->edge_child[i];
    }
    free(tr->edge_keys);
    free(tr->edge_child);
    tr->edge_keys = keys;
    tr->edge_child = child;
    tr->edge_cap = cap;
    return SL_OK;
}

static sl_status new_node(sl_tok_trie *tr, int32_t *out)
{
    if (tr->n_nodes == tr->node_cap) {
        size_t cap = tr->node_cap ? tr->node_cap * 2 : 256;
        if (cap > INT32_MAX / 2) return SL_FAIL(SL_ERR_FORMAT, "added tokens are too long");
        int32_t *term = realloc(tr->term, cap * sizeof *term);
        if (!term) return SL_FAIL(SL_ERR_NOMEM, "out of memory");
        tr->term = term;
        tr->node_cap = cap;
    }
    tr->term[tr->n_nodes] = -1;
    *out = (int32_t)tr->n_nodes++;
    return SL_OK;
}

sl_status sl_tok_trie_insert(sl_tok_trie *tr, const char *s, size_t len, int32_t id)
{
    if (len == 0) return SL_OK;
    const uint8_t *u = (const uint8_t *)s;
    int32_t node = tr->root[u[0]];
    if (node < 0) {
        SL_TRY(new_node(tr, &node));
        tr->root[u[0]] = node;
    }
    for (size_t k = 1; k < len; k++) {
        if (tr->edge_cap == 0 || (tr->n_edges + 1) * 2 > tr->edge_cap) SL_TRY(edge_grow(tr));
        int32_t child = edge_find(tr, node, u[k]);
        if (child < 0) {
            SL_TRY(new_node(tr, &child));
            uint64_t key = (uint64_t)node << 8 | u[k];
            size_t mask = tr->edge_cap - 1, i = edge_slot(key, mask);
            while (tr->edge_keys[i] != UINT64_MAX) i = (i + 1) & mask;
            tr->edge_keys[i] = key;
            tr->edge_child[i] = child;
            tr->n_edges++;
        }
        node = child;
    }
    if (tr->term[node] < 0) tr->term[node] = id;
    return SL_OK;
}

void sl_tok_trie_free(sl_tok_trie *tr)
{
    free(tr->term);
    free(tr->edge_keys);
    free(tr->edge_child);
    tr->term = NULL;
    tr->edge_keys = NULL;
    tr->edge_child = NULL;
}

static bool is_word_byte(uint8_t c) { return c >= 0x80 || c == '_' || (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'); }

int32_t sl_tok_trie_match(const sl_tokenizer *t, const char *text, size_t len, size_t pos, unsigned flags,
                          size_t *end)
{
    const sl_tok_trie *tr = &t->trie;
    const uint8_t *u = (const uint8_t *)text;
    int32_t node = tr->root[u[pos]], best = -1;
    size_t k = pos + 1;
    bool parse_special = (flags & SL_TOK_PARSE_SPECIAL) != 0;
    while (node >= 0) {
        int32_t id = tr->term[node];
        if (id >= 0 && (parse_special || !(t->tflags[id] & SL_TOKF_SPECIAL))) { best = id; *end = k; }
        if (k >= len || !tr->edge_cap) break;
        node = edge_find(tr, node, u[k]);
        k++;
    }
    if (best >= 0 && (t->tflags[best] & SL_TOKF_SINGLE_WORD)) {
        bool left_ok = pos == 0 || !is_word_byte(u[pos - 1]);
        bool right_ok = *end >= len || !is_word_byte(u[*end]);
        if (!left_ok || !right_ok) return -1;
    }
    return best;
}
