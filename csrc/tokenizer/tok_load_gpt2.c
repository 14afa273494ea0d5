/* tok_load_gpt2.c — byte-level BPE from vocab.json + merges.txt (+ tokenizer_config.json), as
 * transformers' GPT2Tokenizer builds it, and the constructor from vocabulary arrays that GGUF
 * tokenizer.ggml.* metadata provides (llama.cpp semantics for both "llama" and "gpt2" models). */
#include <stdlib.h>
#include <string.h>

#include "runtime/runtime.h"
#include "tokenizer/tok_internal.h"

/* merges.txt: one "left right" per line; "#version" lines and empty lines are skipped. */
static sl_status read_merges_txt(sl_tokenizer *t, const char *path)
{
    sl_mapping m = {0};
    SL_TRY(sl_mapping_open(&m, path));
    const char *s = (const char *)m.data, *end = s + m.size;
    size_t lines = 0;
    for (const char *q = s; q < end && (q = memchr(q, '\n', (size_t)(end - q))); q++) lines++;
    sl_status st = sl_tok_pairs_reserve(t, lines + 1);
    sl_tok_merge_batch mb;
    sl_tok_merge_batch_init(&mb, t, path);
    for (size_t line = 1; s < end && st == SL_OK; line++) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *e = nl ? nl : end;
        const char *next = nl ? nl + 1 : end;
        if (e > s && e[-1] == '\r') e--;
        size_t n = (size_t)(e - s);
        if (n == 0 || (n >= 8 && memcmp(s, "#version", 8) == 0)) { s = next; continue; }
        const char *sp = memchr(s, ' ', n);
        if (!sp || sp == s || sp + 1 == e || memchr(sp + 1, ' ', (size_t)(e - sp - 1)))
            st = sl_fail(SL_ERR_FORMAT, "%s: line %zu is not 'left right'", path, line);
        else
            st = sl_tok_merge_batch_add(&mb, s, (size_t)(sp - s), sp + 1, (size_t)(e - sp - 1), line);
        s = next;
    }
    if (st == SL_OK) st = sl_tok_merge_batch_flush(&mb);   /* before the texts are unmapped */
    sl_mapping_close(&m);
    return st;
}

static sl_status read_vocab_json(const char *path, sl_tokenizer **out)
{
    sl_json_doc *doc;
    SL_TRY(sl_tok_read_json(path, &doc));
    const sl_json *v = sl_json_root(doc);
    int64_t max = -1;
    sl_status st = SL_OK;
    for (size_t i = 0; i < v->len && st == SL_OK; i++) {
        const sl_json *x = &v->items[i];
        if (!x->is_int || x->i < 0 || x->i >= SL_TOK_MAX_VOCAB)
            st = sl_fail(SL_ERR_FORMAT, "%s: bad token id at byte %zu", path, x->offset);
        else if (x->i > max) max = x->i;
    }
    if (st == SL_OK) st = sl_tok_create(SL_TOK_ALGO_BYTE_BPE, max + 1, out);
    for (size_t i = 0; i < v->len && st == SL_OK; i++) {
        int64_t id = v->items[i].i;
        if ((*out)->piece_off[id] != SL_TOK_NONE)
            st = sl_fail(SL_ERR_FORMAT, "%s: token id %lld used twice (byte %zu)", path, (long long)id, v->items[i].offset);
        else
            st = sl_tok_set_piece(*out, id, v->keys[i], v->key_lens[i], SL_TOK_TYPE_NORMAL, 0.0f);
    }
    sl_json_free(doc);
    return st;
}

static sl_status vocab_merges(const char *vocab_path, const char *merges_path, const char *config_path, sl_tokenizer **t)
{
    SL_TRY(read_vocab_json(vocab_path, t));
    SL_TRY(read_merges_txt(*t, merges_path));
    sl_tok_config cfg;
    SL_TRY(sl_tok_apply_config(*t, config_path, &cfg));
    const char *cls = cfg.tokenizer_class;
    if (*cls && strcmp(cls, "GPT2Tokenizer") != 0 && strcmp(cls, "GPT2TokenizerFast") != 0)
        return sl_fail(SL_ERR_UNSUPPORTED, "%s: tokenizer_class '%s' with vocab.json + merges.txt is not supported "
                       "(only GPT2Tokenizer)", config_path, sl_tok_quote(cls, strlen(cls)).s);
    (*t)->pretok = SL_PRETOK_GPT2;
    (*t)->add_prefix_space = cfg.add_prefix_space == 1;
    return sl_tok_finalize(*t, vocab_path);
}

sl_status sl_tok_load_vocab_merges(const char *vocab_path, const char *merges_path, const char *config_path,
                                   sl_tokenizer **out)
{
    *out = NULL;
    sl_tokenizer *t = NULL;
    sl_status st = vocab_merges(vocab_path, merges_path, config_path, &t);
    if (st != SL_OK) { sl_tokenizer_free(t); return st; }
    *out = t;
    return SL_OK;
}

/* ---- vocabulary arrays (GGUF) ---- */

static sl_status pretok_by_name(const char *pre, sl_pretok_kind *kind)
{
    static const struct { const char *name; sl_pretok_kind kind; } names[] = {
        {"default", SL_PRETOK_GPT2}, {"gpt-2", SL_PRETOK_GPT2}, {"gpt2", SL_PRETOK_GPT2},
        {"exaone4", SL_PRETOK_GPT2}, {"exaone", SL_PRETOK_EXAONE3}, {"llama3", SL_PRETOK_LLAMA3},
        {"llama-bpe", SL_PRETOK_LLAMA3}, {"llama-v3", SL_PRETOK_LLAMA3},
    };
    if (!pre || !*pre) { *kind = SL_PRETOK_GPT2; return SL_OK; }
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(pre, names[i].name) == 0) { *kind = names[i].kind; return SL_OK; }
    return SL_FAIL(SL_ERR_UNSUPPORTED, "pre-tokenizer '%s' is not supported", sl_tok_quote(pre, strlen(pre)).s);
}

static sl_status arrays_pieces(sl_tokenizer *t, const sl_tokenizer_arrays *a)
{
    for (int64_t i = 0; i < a->n_vocab; i++) {
        int32_t ty = a->types ? a->types[i] : SL_TOK_TYPE_NORMAL;
        if (ty == 0) ty = SL_TOK_TYPE_NORMAL;   /* llama.cpp's "undefined" */
        if (ty < SL_TOK_TYPE_NORMAL || ty > SL_TOK_TYPE_BYTE)
            return SL_FAIL(SL_ERR_FORMAT, "token %lld has unknown type %d", (long long)i, (int)ty);
        if (!a->pieces[i] && a->piece_lens[i]) return SL_FAIL(SL_ERR_ARG, "token %lld has no text", (long long)i);
        if (t->algo == SL_TOK_ALGO_BYTE_BPE && ty == SL_TOK_TYPE_BYTE) ty = SL_TOK_TYPE_NORMAL;
        SL_TRY(sl_tok_set_piece(t, i, a->pieces[i] ? a->pieces[i] : "", a->piece_lens[i], (sl_tok_type)ty,
                                a->scores ? a->scores[i] : 0.0f));
        if (a->piece_lens[i] == 0) continue;
        if (ty == SL_TOK_TYPE_CONTROL || ty == SL_TOK_TYPE_UNKNOWN) SL_TRY(sl_tok_add_added(t, (int32_t)i, SL_TOKF_SPECIAL));
        else if (ty == SL_TOK_TYPE_USER_DEFINED) SL_TRY(sl_tok_add_added(t, (int32_t)i, 0));
    }
    return SL_OK;
}

static sl_status arrays_merges(sl_tokenizer *t, const sl_tokenizer_arrays *a)
{
    if (a->n_merges < 0 || (a->n_merges && (!a->merges || !a->merge_lens))) return SL_FAIL(SL_ERR_ARG, "bad merges");
    SL_TRY(sl_tok_pairs_reserve(t, (size_t)a->n_merges));
    sl_tok_merge_batch mb;
    sl_tok_merge_batch_init(&mb, t, "tokenizer.ggml.merges");
    for (int64_t i = 0; i < a->n_merges; i++) {
        const char *s = a->merges[i];
        size_t n = a->merge_lens[i];
        const char *sp = s && n > 1 ? memchr(s + 1, ' ', n - 1) : NULL;   /* llama.cpp: first space after byte 0 */
        if (!sp || sp + 1 == s + n)
            return SL_FAIL(SL_ERR_FORMAT, "merge %lld is not 'left right'", (long long)i);
        SL_TRY(sl_tok_merge_batch_add(&mb, s, (size_t)(sp - s), sp + 1, n - (size_t)(sp + 1 - s), (size_t)i));
    }
    return sl_tok_merge_batch_flush(&mb);
}

static sl_status prefix_by_name(const char *name, sl_tok_prefix *p)
{
    static const char *const names[] = {"none", "each", "first", "always", "once"};   /* sl_tok_prefix order */
    for (int i = 0; i < 5; i++)
        if (strcmp(name, names[i]) == 0) { *p = (sl_tok_prefix)i; return SL_OK; }
    return SL_FAIL(SL_ERR_UNSUPPORTED, "prepend scheme '%s' is not supported", sl_tok_quote(name, strlen(name)).s);
}

/* llama.cpp's semantics, then the options it has no key for (solar.tokenizer.* in GGUF). */
static sl_status arrays_options(sl_tokenizer *t, const sl_tokenizer_arrays *a, bool llama)
{
    if (llama) {
        t->prefix = a->add_space_prefix != 0 ? SL_TOK_PREFIX_EACH : SL_TOK_PREFIX_NONE;
        if (a->prepend_scheme && a->add_space_prefix != 0) SL_TRY(prefix_by_name(a->prepend_scheme, &t->prefix));
        t->escape_ws = true;
        t->byte_fallback = true;
        t->decode_strip = a->decode_strip < 0 ? t->prefix != SL_TOK_PREFIX_NONE : a->decode_strip > 0;
        t->remove_extra_ws = a->remove_extra_ws > 0;
        t->meta_split = a->metaspace_split > 0;
    } else {
        SL_TRY(arrays_merges(t, a));
        SL_TRY(pretok_by_name(a->pre, &t->pretok));
        t->ignore_merges = a->ignore_merges < 0 ? t->pretok == SL_PRETOK_LLAMA3 : a->ignore_merges != 0;
        t->add_prefix_space = a->bpe_add_prefix_space > 0;
    }
    return SL_OK;
}

static sl_status arrays_build(sl_tokenizer *t, const sl_tokenizer_arrays *a, bool llama)
{
    SL_TRY(arrays_pieces(t, a));
    SL_TRY(arrays_options(t, a, llama));
    int64_t v = a->n_vocab;
    t->bos_id = a->bos_id >= 0 && a->bos_id < v ? a->bos_id : -1;
    t->eos_id = a->eos_id >= 0 && a->eos_id < v ? a->eos_id : -1;
    t->unk_id = a->unk_id >= 0 && a->unk_id < v ? a->unk_id : -1;
    sl_tok_set_template(t, a->add_bos < 0 ? llama : a->add_bos != 0, a->add_eos > 0);
    return sl_tok_finalize(t, "vocabulary arrays");
}

sl_status sl_tokenizer_init_arrays(const sl_tokenizer_arrays *a, sl_tokenizer **out)
{
    *out = NULL;
    if (!a || !a->model || !a->pieces || !a->piece_lens) return SL_FAIL(SL_ERR_ARG, "missing vocabulary arrays");
    bool llama = strcmp(a->model, "llama") == 0;
    if (!llama && strcmp(a->model, "gpt2") != 0)
        return SL_FAIL(SL_ERR_UNSUPPORTED, "tokenizer model '%s' is not supported (llama or gpt2)", sl_tok_quote(a->model, strlen(a->model)).s);
    if (a->n_vocab <= 0 || a->n_vocab > SL_TOK_MAX_VOCAB)
        return SL_FAIL(SL_ERR_ARG, "vocabulary size %lld out of range", (long long)a->n_vocab);
    sl_tokenizer *t;
    SL_TRY(sl_tok_create(llama ? SL_TOK_ALGO_SPM : SL_TOK_ALGO_BYTE_BPE, a->n_vocab, &t));
    sl_status st = arrays_build(t, a, llama);
    if (st != SL_OK) { sl_tokenizer_free(t); return st; }
    *out = t;
    return SL_OK;
}
