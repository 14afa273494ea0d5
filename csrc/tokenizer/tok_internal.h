/* tok_internal.h — the sl_tokenizer struct and the helpers shared by the tokenizer files:
 * vocabulary tables (tok_vocab.c), merge loop and word cache (tok_bpe.c), added-token matching
 * (tok_added.c), encoding (tok_encode.c), decoding (tok_decode.c) and the loaders (tok_load_*.c).
 *
 * Loaders build a tokenizer in this order: sl_tok_create -> sl_tok_set_piece for every id ->
 * sl_tok_add_merge (HF / GGUF merges, in rank order) -> sl_tok_add_added (added tokens) ->
 * options -> sl_tok_finalize. */
#ifndef SL_TOK_INTERNAL_H
#define SL_TOK_INTERNAL_H

#include <stdatomic.h>

#include "formats/json.h"
#include "tokenizer/pretok.h"
#include "tokenizer/tokenizer.h"
#include "runtime/runtime.h"

#define SL_TOK_NONE ((uint32_t)0xFFFFFFFFu)
#define SL_TOK_MAX_VOCAB ((int64_t)1 << 26)
#define SL_TOK_MAX_PIECE ((size_t)1 << 20)
#define SL_TOK_WS_SLOTS 8

/* How the dummy "▁" prefix of SentencePiece-style BPE is added to each text fragment
 * (fragments are the pieces of text between matched added tokens). */
typedef enum sl_tok_prefix {
    SL_TOK_PREFIX_NONE = 0,
    SL_TOK_PREFIX_EACH = 1,         /* every fragment, unconditionally (llama.cpp, HF Prepend normalizer) */
    SL_TOK_PREFIX_FIRST = 2,        /* HF Metaspace "first": fragment at offset 0 unless it starts with a space */
    SL_TOK_PREFIX_ALWAYS = 3,       /* HF Metaspace "always": every fragment unless it starts with a space */
    SL_TOK_PREFIX_ONCE = 4,         /* sentencepiece: once at the start of the text, even before an added token */
} sl_tok_prefix;

/* Per-token flag bits (sl_tokenizer.tflags). */
enum {
    SL_TOKF_SPECIAL = 1,            /* skipped by SL_TOK_SKIP_SPECIAL; matched only with PARSE_SPECIAL */
    SL_TOKF_ADDED = 2,              /* matched in text before BPE */
    SL_TOKF_LSTRIP = 4,             /* added token eats whitespace on its left */
    SL_TOKF_RSTRIP = 8,             /* ... and on its right */
    SL_TOKF_SINGLE_WORD = 16,       /* added token matches only as a whole word */
    SL_TOKF_BYTE = 32,              /* decodes to one raw byte (SPM "<0xNN>") */
    SL_TOKF_MERGEABLE = 64,         /* may be a BPE symbol (SPM: normal, user-defined, unused) */
};

/* Open-addressing map from token text to id (linear probing, power-of-two capacity). */
typedef struct sl_tok_slot { uint32_t tag; int32_t id; uint32_t off, len; } sl_tok_slot;  /* id -1 = empty */
typedef struct sl_tok_strmap {
    sl_tok_slot *slots;             /* (cap) owned; tag = hash >> 32, off/len copy the token's text */
    size_t cap, count;
} sl_tok_strmap;

/* Open-addressing map from (left id, right id) to (rank, merged id). */
typedef struct sl_tok_pair {
    uint64_t key;                   /* left << 32 | right; UINT64_MAX = empty */
    int32_t rank;                   /* lower merges first */
    int32_t merged;
} sl_tok_pair;

typedef struct sl_tok_pairmap {
    sl_tok_pair *slots;             /* (cap) owned */
    size_t cap, count;
} sl_tok_pairmap;

/* Trie of added-token texts: node n's children are found in edges (key node << 8 | byte). */
typedef struct sl_tok_trie {
    int32_t root[256];              /* child of the root per first byte, -1 = none */
    int32_t *term;                  /* (n_nodes) owned: token id ending at the node or -1 */
    uint64_t *edge_keys;            /* (edge_cap) owned: node << 8 | byte, UINT64_MAX = empty */
    int32_t *edge_child;            /* (edge_cap) owned */
    size_t n_nodes, node_cap, edge_cap, n_edges;
    bool any_special;               /* some added token is special */
    bool any_plain;                 /* some added token is not special (always matched) */
} sl_tok_trie;

typedef struct sl_tok_ws sl_tok_ws;

struct sl_tokenizer {
    sl_tok_algo algo;
    int64_t n_vocab;                /* V */
    char *pool;                     /* owned: all token texts */
    size_t pool_len, pool_cap;
    uint32_t *piece_off, *piece_len;/* (V) owned; piece_off = SL_TOK_NONE when unset */
    uint8_t *type;                  /* (V) owned: sl_tok_type */
    uint8_t *tflags;                /* (V) owned: SL_TOKF_* */
    float *score;                   /* (V) owned: SentencePiece scores (0 when absent) */
    sl_tok_strmap map;              /* text -> id (complete once indexed) */
    bool indexed;                   /* map holds every text set so far; sl_tok_index */

    /* BPE */
    sl_tok_pairmap pairs;           /* (left, right) -> (rank, merged) */
    int64_t n_merges;               /* merges added with sl_tok_add_merge; 0 = ranks from scores */
    int32_t last_merged;            /* load-time hint: merges usually create consecutive ids */
    int32_t byte_id[256];           /* SPM: "<0xNN>" ids; byte-level: id of the byte's alphabet char */
    int32_t *char_id;               /* (65536) owned, SPM: id of the piece that is this BMP char, -1 */
    bool word_split;                /* SPM: fragments may be cut before each "▁" that follows a non-"▁" */

    /* encoding options */
    sl_tok_prefix prefix;           /* SPM dummy prefix */
    bool escape_ws;                 /* SPM: ' ' -> "▁" */
    bool remove_extra_ws;           /* SPM normalizer: strip and squeeze spaces */
    bool meta_split;                /* HF Metaspace split=true: every "▁" starts a word */
    bool byte_fallback;
    bool fuse_unk;
    bool ignore_merges;             /* HF: a word that is a token is not merged */
    bool add_prefix_space;          /* byte-level: ' ' before each fragment not starting with one */
    sl_pretok_kind pretok;
    int32_t unk_id, bos_id, eos_id;
    int32_t prefix_ids[4], suffix_ids[4];   /* added around the ids with SL_TOK_ADD_SPECIAL */
    int n_prefix_ids, n_suffix_ids;
    sl_tok_trie trie;               /* added tokens */

    /* decoding */
    char *dec_pool;                 /* owned: decoded bytes of every token */
    uint32_t *dec_off, *dec_len;    /* (V) owned */
    int decode_strip;               /* leading spaces the decoder removes (0 or 1) */
    bool dec_per_byte;              /* invalid UTF-8 -> one U+FFFD per byte (SPM) or per maximal subpart */

    _Atomic(sl_tok_ws *) ws_slot[SL_TOK_WS_SLOTS];  /* owned: spare workspaces (and their word caches) */
};

/* ---- tok_vocab.c ---- */
uint64_t sl_tok_hash(const void *data, size_t len);
sl_status sl_tok_create(sl_tok_algo algo, int64_t n_vocab, sl_tokenizer **out);
/* Grow the vocabulary to n ids (new ids unset). */
sl_status sl_tok_resize(sl_tokenizer *t, int64_t n);
/* Set the text of id (first text wins in the text -> id map unless replace). */
sl_status sl_tok_set_piece(sl_tokenizer *t, int64_t id, const char *s, size_t len, sl_tok_type type, float score);
/* Build the text -> id map for the texts set so far (once); later texts are mapped as set. */
sl_status sl_tok_index(sl_tokenizer *t);
/* Id of a text, -1 if absent (the map must be indexed). */
int32_t sl_tok_lookup(const sl_tokenizer *t, const char *s, size_t len);
/* Mark id as an added token (it must have its text already); flags are SL_TOKF_* bits. */
sl_status sl_tok_add_added(sl_tokenizer *t, int32_t id, unsigned flags);
/* Check every id has a text, build lookup tables (chars, bytes, merges from scores, decode
 * table, added-token trie). `what` names the source in messages. */
sl_status sl_tok_finalize(sl_tokenizer *t, const char *what);
/* The GPT-2 byte alphabet: code point of byte b; byte of code point cp or -1. */
uint32_t sl_tok_byte_to_cp(uint8_t b);
int sl_tok_cp_to_byte(uint32_t cp);
/* Decode one UTF-8 character at s[0:n]: code point (or 0xFFFFFFFF if invalid) and its length (>= 1). */
uint32_t sl_tok_utf8_next(const uint8_t *s, size_t n, size_t *len);
size_t sl_tok_utf8_put(char *out, uint32_t cp);
/* A short printable copy of text for error messages (invalid UTF-8 and controls as \xNN). */
typedef struct sl_tok_quoted { char s[100]; } sl_tok_quoted;
sl_tok_quoted sl_tok_quote(const char *text, size_t len);

static inline size_t sl_tok_pair_home(const sl_tok_pairmap *m, int32_t l, int32_t r)
{
    uint64_t key = (uint64_t)(uint32_t)l << 32 | (uint32_t)r;
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 20) & (m->cap - 1);
}

static inline const sl_tok_pair *sl_tok_pair_find(const sl_tok_pairmap *m, int32_t l, int32_t r)
{
    uint64_t key = (uint64_t)(uint32_t)l << 32 | (uint32_t)r;
    size_t mask = m->cap - 1, i = sl_tok_pair_home(m, l, r);
    for (;; i = (i + 1) & mask) {
        const sl_tok_pair *p = &m->slots[i];
        if (p->key == key) return p;
        if (p->key == UINT64_MAX) return NULL;
    }
}

/* ---- tok_merges.c ---- */
#define SL_TOK_BATCH 32
/* Make room for n more merges. */
sl_status sl_tok_pairs_reserve(sl_tokenizer *t, size_t n);
/* Look up n <= 2 * SL_TOK_BATCH texts with overlapping memory accesses (prefetch). */
void sl_tok_lookup_batch(const sl_tokenizer *t, size_t n, const char *const *s, const size_t *len, int32_t *ids);
/* Merges arrive in rank order through a batch that resolves them SL_TOK_BATCH at a time; the
 * texts must stay valid until the next flush. */
typedef struct sl_tok_merge_batch {
    sl_tokenizer *t;                /* borrowed */
    const char *what;               /* source, for messages */
    int n;
    const char *a[SL_TOK_BATCH], *b[SL_TOK_BATCH];
    size_t alen[SL_TOK_BATCH], blen[SL_TOK_BATCH], where[SL_TOK_BATCH];
} sl_tok_merge_batch;
void sl_tok_merge_batch_init(sl_tok_merge_batch *mb, sl_tokenizer *t, const char *what);
sl_status sl_tok_merge_batch_add(sl_tok_merge_batch *mb, const char *a, size_t alen, const char *b, size_t blen,
                                 size_t where);
sl_status sl_tok_merge_batch_flush(sl_tok_merge_batch *mb);
/* SentencePiece: merges from piece scores (pair l, r -> piece l+r, ranked by score). */
sl_status sl_tok_pairs_from_scores(sl_tokenizer *t);

/* ---- tok_added.c ---- */
sl_status sl_tok_trie_insert(sl_tok_trie *tr, const char *s, size_t len, int32_t id);
void sl_tok_trie_free(sl_tok_trie *tr);
/* Longest added token starting at text[pos]; returns its id (-1 none) and sets *end. */
int32_t sl_tok_trie_match(const sl_tokenizer *t, const char *text, size_t len, size_t pos, unsigned flags,
                          size_t *end);

/* ---- tok_bpe.c ---- */
sl_tok_ws *sl_tok_ws_take(const sl_tokenizer *t);          /* NULL on out of memory */
void sl_tok_ws_give(const sl_tokenizer *t, sl_tok_ws *ws); /* return or free */
void sl_tok_ws_free(sl_tok_ws *ws);
/* Scratch bytes owned by the workspace (valid until the next call). */
char *sl_tok_ws_buf(sl_tok_ws *ws, size_t bytes);
sl_span **sl_tok_ws_spans(sl_tok_ws *ws, size_t **cap);
/* BPE one word (SPM: "▁"-escaped UTF-8; byte-level: raw bytes) and append its ids. */
sl_status sl_tok_bpe_word(const sl_tokenizer *t, sl_tok_ws *ws, const char *w, size_t len, sl_tok_ids *out);

/* ---- tok_encode.c ---- */
sl_status sl_tok_ids_reserve(sl_tok_ids *out, size_t extra);
static inline sl_status sl_tok_ids_push(sl_tok_ids *out, int32_t id)
{
    if (out->n == out->cap) SL_TRY(sl_tok_ids_reserve(out, 1));
    out->data[out->n++] = id;
    return SL_OK;
}

/* ---- tok_decode.c ---- */
sl_status sl_tok_text_reserve(sl_tok_text *out, size_t extra);

/* ---- tok_load_config.c ---- */
typedef struct sl_tok_config {
    int add_prefix_space;           /* -1 absent, else 0/1 */
    char tokenizer_class[64];       /* "" absent */
} sl_tok_config;

bool sl_tok_file_exists(const char *path);
/* Read and parse a JSON file (`what` in messages is the path). */
sl_status sl_tok_read_json(const char *path, sl_json_doc **doc);
/* Apply tokenizer_config.json to a tokenizer being built (before sl_tok_finalize):
 * added_tokens_decoder, bos/eos/unk tokens, explicit add_bos_token/add_eos_token (which
 * replace the BOS/EOS template, as transformers does). split_special_tokens is the caller's
 * (solar/tokenizer.py) business: it only changes the parse_special default. cfg may be NULL. */
sl_status sl_tok_apply_config(sl_tokenizer *t, const char *config_path, sl_tok_config *cfg);
/* BOS/EOS template from explicit flags. */
void sl_tok_set_template(sl_tokenizer *t, bool add_bos, bool add_eos);

/* ---- loaders ---- */
sl_status sl_tok_load_spm_model(const char *path, const char *config_path, sl_tokenizer **out);
sl_status sl_tok_load_hf_json(const char *path, const char *config_path, sl_tokenizer **out);
sl_status sl_tok_load_vocab_merges(const char *vocab_path, const char *merges_path, const char *config_path,
                                   sl_tokenizer **out);

#endif /* SL_TOK_INTERNAL_H */
