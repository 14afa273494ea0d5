/* tok_export.c — read-only queries for writers of GGUF tokenizer.ggml.* metadata: the options a
 * tokenizer encodes with (sl_tokenizer_describe), the GGUF type and score of every token, and the
 * merge table in rank order. */
#include <stdlib.h>
#include <string.h>

#include "runtime/runtime.h"
#include "tokenizer/tok_internal.h"

static const char *pretok_name(sl_pretok_kind k)
{
    switch (k) {
    case SL_PRETOK_GPT2: return "gpt2";
    case SL_PRETOK_EXAONE3: return "exaone3";
    case SL_PRETOK_LLAMA3: return "llama3";
    default: return "none";
    }
}

static const char *prefix_name(sl_tok_prefix p)
{
    switch (p) {
    case SL_TOK_PREFIX_EACH: return "each";
    case SL_TOK_PREFIX_FIRST: return "first";
    case SL_TOK_PREFIX_ALWAYS: return "always";
    case SL_TOK_PREFIX_ONCE: return "once";
    default: return "none";
    }
}

void sl_tokenizer_describe(const sl_tokenizer *t, sl_tokenizer_desc *d)
{
    memset(d, 0, sizeof *d);
    d->algo = t->algo;
    d->n_vocab = t->n_vocab;
    d->n_merges = t->n_merges;
    d->pretok = pretok_name(t->pretok);
    d->prepend_scheme = prefix_name(t->prefix);
    d->escape_ws = t->escape_ws;
    d->remove_extra_ws = t->remove_extra_ws;
    d->metaspace_split = t->meta_split;
    d->byte_fallback = t->byte_fallback;
    d->fuse_unk = t->fuse_unk;
    d->ignore_merges = t->ignore_merges;
    d->add_prefix_space = t->add_prefix_space;
    d->decode_strip = t->decode_strip;
    d->bos_id = t->bos_id;
    d->eos_id = t->eos_id;
    d->unk_id = t->unk_id;
    d->n_prefix_ids = t->n_prefix_ids;
    d->n_suffix_ids = t->n_suffix_ids;
    memcpy(d->prefix_ids, t->prefix_ids, sizeof d->prefix_ids);
    memcpy(d->suffix_ids, t->suffix_ids, sizeof d->suffix_ids);
}

void sl_tokenizer_token_table(const sl_tokenizer *t, int32_t *types, float *scores)
{
    for (int64_t id = 0; id < t->n_vocab; id++) {
        uint8_t ty = t->type[id], fl = t->tflags[id];
        /* loaders keep a vocabulary entry's type when a config marks it added; unknown and byte
         * pieces keep theirs (GGUF has one type per token, and byte fallback needs BYTE) */
        if ((fl & SL_TOKF_ADDED) && ty != SL_TOK_TYPE_UNKNOWN && ty != SL_TOK_TYPE_BYTE)
            ty = fl & SL_TOKF_SPECIAL ? SL_TOK_TYPE_CONTROL : SL_TOK_TYPE_USER_DEFINED;
        if (types) types[id] = ty;
        if (scores) scores[id] = t->score[id];
    }
}

int64_t sl_tokenizer_merge_count(const sl_tokenizer *t) { return (int64_t)t->pairs.count; }

static int cmp_row(const void *a, const void *b)
{
    const int32_t *x = a, *y = b;
    for (int k = 0; k < 3; k++)
        if (x[k] != y[k]) return x[k] < y[k] ? -1 : 1;
    return 0;
}

sl_status sl_tokenizer_merge_table(const sl_tokenizer *t, int32_t *rows, int64_t n)
{
    if (n != (int64_t)t->pairs.count) return SL_FAIL(SL_ERR_ARG, "%lld rows for %zu merges", (long long)n, t->pairs.count);
    int64_t k = 0;
    for (size_t i = 0; i < t->pairs.cap && k < n; i++) {
        const sl_tok_pair *p = &t->pairs.slots[i];
        if (p->key == UINT64_MAX) continue;
        int32_t *r = rows + 4 * k++;
        r[0] = p->rank;
        r[1] = (int32_t)(p->key >> 32);
        r[2] = (int32_t)(uint32_t)p->key;
        r[3] = p->merged;
    }
    qsort(rows, (size_t)k, 4 * sizeof *rows, cmp_row);
    return SL_OK;
}
