/* tokenizer.h — the tokenizer of the core: one object for SentencePiece-style BPE (Llama 2,
 * Mistral, SOLAR) and byte-level BPE (GPT-2, EXAONE, Llama 3), loaded from tokenizer.model,
 * tokenizer.json, vocab.json + merges.txt (+ tokenizer_config.json), or from vocabulary arrays
 * (GGUF tokenizer.ggml.* metadata). Encoding gives the same ids as the format's reference
 * implementation (sentencepiece, HF tokenizers / transformers, llama.cpp); decoding replaces invalid
 * UTF-8 with U+FFFD; the streaming decoder never returns part of a character.
 *
 * A tokenizer is immutable after loading: encode/decode may run concurrently from many threads. */
#ifndef SL_TOKENIZER_H
#define SL_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "solar.h"

typedef struct sl_tokenizer sl_tokenizer;

typedef enum sl_tok_algo {          /* append-only */
    SL_TOK_ALGO_SPM = 0,            /* SentencePiece BPE over "▁"-escaped text, byte fallback */
    SL_TOK_ALGO_BYTE_BPE = 1,       /* byte-level BPE (GPT-2 byte alphabet) over pre-token spans */
} sl_tok_algo;

/* Token types; values equal SentencePiece's and llama.cpp's (GGUF tokenizer.ggml.token_type). */
typedef enum sl_tok_type {
    SL_TOK_TYPE_NORMAL = 1,
    SL_TOK_TYPE_UNKNOWN = 2,
    SL_TOK_TYPE_CONTROL = 3,        /* special: matched in text only with SL_TOK_PARSE_SPECIAL */
    SL_TOK_TYPE_USER_DEFINED = 4,   /* non-special added token: always matched in text */
    SL_TOK_TYPE_UNUSED = 5,
    SL_TOK_TYPE_BYTE = 6,           /* "<0xNN>" byte-fallback piece */
} sl_tok_type;

/* Flags of sl_tokenizer_encode / decode. */
enum {
    SL_TOK_ADD_SPECIAL = 1,         /* encode: add BOS/EOS as the tokenizer's config says */
    SL_TOK_PARSE_SPECIAL = 2,       /* encode: match special tokens in the text (else they are text) */
    SL_TOK_SKIP_SPECIAL = 4,        /* decode: drop special tokens */
};

/* ---- loading ---- */

/* Load one file: *.model (SentencePiece), vocab.json (with merges.txt and, when present,
 * tokenizer_config.json beside it) or tokenizer.json (HF tokenizers semantics, no config). */
sl_status sl_tokenizer_load_file(const char *path, sl_tokenizer **out);
/* Load a model folder like transformers' AutoTokenizer: tokenizer.json wins, then
 * vocab.json + merges.txt, then tokenizer.model; tokenizer_config.json applied on top. */
sl_status sl_tokenizer_load_dir(const char *dir, sl_tokenizer **out);

/* Vocabulary arrays, as in GGUF tokenizer.ggml.* metadata. All pointers are borrowed for the call. */
typedef struct sl_tokenizer_arrays {
    const char *model;              /* "llama" (SentencePiece BPE) | "gpt2" (byte-level BPE) */
    const char *pre;                /* pre-tokenizer name ("default", "gpt-2", "llama3", "exaone"...); NULL = default */
    int64_t n_vocab;                /* V */
    const char *const *pieces;      /* (V) token texts */
    const size_t *piece_lens;       /* (V) bytes of each text */
    const float *scores;            /* (V) or NULL; merge priority for "llama" */
    const int32_t *types;           /* (V) sl_tok_type values or NULL (all normal) */
    int64_t n_merges;
    const char *const *merges;      /* (n_merges) "left right" for "gpt2" */
    const size_t *merge_lens;       /* (n_merges) */
    int32_t bos_id, eos_id, unk_id; /* -1 = none */
    int add_bos, add_eos;           /* 0/1, or -1 for the model's default */
    int add_space_prefix;           /* "llama": 0/1, or -1 for the default (1) */
    int remove_extra_ws;            /* "llama": 0/1 (strip and squeeze spaces), -1 = 0 */
    /* Options llama.cpp has no key for (GGUF solar.tokenizer.*); NULL / -1 = llama.cpp's behaviour. */
    const char *prepend_scheme;     /* "llama": "none" | "each" (llama.cpp) | "first" | "always" | "once" */
    int metaspace_split;            /* "llama": 0/1, HF Metaspace split (every "▁" starts a word) */
    int decode_strip;               /* "llama": leading spaces decode removes (0/1); -1 = 1 with a dummy prefix */
    int ignore_merges;              /* "gpt2": 0/1; -1 = 1 for the llama3 pre-tokenizer, else 0 */
    int bpe_add_prefix_space;       /* "gpt2": 0/1, a space before each fragment (HF ByteLevel) */
} sl_tokenizer_arrays;

sl_status sl_tokenizer_init_arrays(const sl_tokenizer_arrays *a, sl_tokenizer **out);
void sl_tokenizer_free(sl_tokenizer *t);                 /* accepts NULL */

/* ---- queries ---- */

sl_tok_algo sl_tokenizer_algo(const sl_tokenizer *t);
int64_t sl_tokenizer_vocab_size(const sl_tokenizer *t);  /* V: valid ids are [0, V) */
int32_t sl_tokenizer_bos_id(const sl_tokenizer *t);      /* -1 if none */
int32_t sl_tokenizer_eos_id(const sl_tokenizer *t);      /* -1 if none */
bool sl_tokenizer_adds_bos(const sl_tokenizer *t);
bool sl_tokenizer_adds_eos(const sl_tokenizer *t);
/* The text of token id (borrowed; NULL for an id out of range). */
const char *sl_tokenizer_piece(const sl_tokenizer *t, int32_t id, size_t *len);
/* The id of a token text (added tokens first, then the model vocabulary); -1 if absent. */
int32_t sl_tokenizer_find_piece(const sl_tokenizer *t, const char *text, size_t len);
bool sl_tokenizer_is_special(const sl_tokenizer *t, int32_t id);

/* ---- export (what a GGUF writer needs; tok_export.c) ---- */

/* Every option that changes how the tokenizer encodes or decodes. Strings are static. */
typedef struct sl_tokenizer_desc {
    sl_tok_algo algo;
    int64_t n_vocab;                /* V */
    int64_t n_merges;               /* explicit merges (HF / GGUF lists); 0 = SPM ranks from scores */
    const char *pretok;             /* byte-level pre-tokenizer: "none" | "gpt2" | "exaone3" | "llama3" */
    const char *prepend_scheme;     /* SPM dummy prefix: "none" | "each" | "first" | "always" | "once" */
    bool escape_ws, remove_extra_ws, metaspace_split, byte_fallback, fuse_unk;
    bool ignore_merges, add_prefix_space;
    int decode_strip;               /* leading spaces decode removes (0 or 1) */
    int32_t bos_id, eos_id, unk_id; /* -1 = none */
    int n_prefix_ids, n_suffix_ids; /* ids encode(add_special) puts before / after the text */
    int32_t prefix_ids[4], suffix_ids[4];
} sl_tokenizer_desc;

void sl_tokenizer_describe(const sl_tokenizer *t, sl_tokenizer_desc *d);
/* types (V): the GGUF token type of each id (sl_tok_type; added tokens are CONTROL when special,
 * USER_DEFINED otherwise; UNKNOWN and BYTE pieces keep their type); scores (V): SentencePiece
 * scores (0 if none). Either pointer may be NULL. */
void sl_tokenizer_token_table(const sl_tokenizer *t, int32_t *types, float *scores);
/* Number of rows sl_tokenizer_merge_table writes. */
int64_t sl_tokenizer_merge_count(const sl_tokenizer *t);
/* rows (n, 4): rank, left id, right id, merged id of every merge, sorted by (rank, left, right);
 * n must equal sl_tokenizer_merge_count. */
sl_status sl_tokenizer_merge_table(const sl_tokenizer *t, int32_t *rows, int64_t n);

/* ---- encoding ---- */

/* A growable id buffer; the caller owns data (free with free()). */
typedef struct sl_tok_ids { int32_t *data; size_t n, cap; } sl_tok_ids;

/* Append the ids of text[0:len] (any bytes; invalid UTF-8 never fails) to out. */
sl_status sl_tokenizer_encode(const sl_tokenizer *t, const char *text, size_t len, unsigned flags,
                              sl_tok_ids *out);
/* Encode n texts with up to n_threads OpenMP threads (<= 0: default). outs[i] receive the ids. */
sl_status sl_tokenizer_encode_batch(const sl_tokenizer *t, size_t n, const char *const *texts,
                                    const size_t *lens, unsigned flags, int n_threads, sl_tok_ids *outs);

/* ---- decoding ---- */

/* A growable byte buffer; the caller owns data (free with free()). Always NUL-terminated. */
typedef struct sl_tok_text { char *data; size_t n, cap; } sl_tok_text;

/* Decode ids to UTF-8 (invalid byte sequences -> U+FFFD). Out-of-range id -> SL_ERR_ARG. */
sl_status sl_tokenizer_decode(const sl_tokenizer *t, const int32_t *ids, size_t n, unsigned flags,
                              sl_tok_text *out);

/* Streaming decoder: push ids one at a time; each call appends only complete characters, and
 * the concatenation of all outputs plus flush equals sl_tokenizer_decode of all ids. */
typedef struct sl_tok_stream {
    const sl_tokenizer *tok;        /* borrowed */
    unsigned flags;                 /* SL_TOK_SKIP_SPECIAL */
    uint8_t pending[4];             /* bytes of an unfinished character */
    int n_pending;
    bool started;                   /* a character has been produced (leading-space rule done) */
} sl_tok_stream;

void sl_tok_stream_init(sl_tok_stream *s, const sl_tokenizer *t, unsigned flags);
sl_status sl_tok_stream_push(sl_tok_stream *s, int32_t id, sl_tok_text *out);
sl_status sl_tok_stream_flush(sl_tok_stream *s, sl_tok_text *out);

#endif /* SL_TOKENIZER_H */
