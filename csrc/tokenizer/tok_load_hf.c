/* tok_load_hf.c — HF tokenizers' tokenizer.json: a BPE model (vocab, merges, byte_fallback,
 * unk, ignore_merges), added_tokens, and the normalizer / pre_tokenizer / decoder /
 * post_processor combinations used by SentencePiece-style (Metaspace or Prepend+Replace) and
 * byte-level (ByteLevel, optionally after a known Split regex) tokenizers. Anything else is
 * refused with UnsupportedError rather than encoded differently from HF. */
#include <stdlib.h>
#include <string.h>

#include "runtime/runtime.h"
#include "tokenizer/tok_internal.h"

static const char META_S[] = "\xE2\x96\x81";
static const char RE_GPT2[] = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
static const char RE_LLAMA3[] = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?"
                                "[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

static bool is_type(const sl_json *n, const char *type)
{
    const char *t = n && n->type == SL_JSON_OBJECT ? sl_json_get_str(n, "type") : NULL;
    return t && strcmp(t, type) == 0;
}

static bool str_is(const sl_json *n, const char *s)
{
    return n && n->type == SL_JSON_STRING && n->len == strlen(s) && memcmp(n->str, s, n->len) == 0;
}

static sl_status unsupported(const char *path, const char *part, const sl_json *n)
{
    const char *t = n && n->type == SL_JSON_OBJECT ? sl_json_get_str(n, "type") : NULL;
    return sl_fail(SL_ERR_UNSUPPORTED, "%s: %s '%s' at byte %zu is not supported", path, part, sl_tok_quote(t ? t : "?", strlen(t ? t : "?")).s,
                   n ? n->offset : 0);
}

/* Items of a Sequence node (or the node itself as a one-item list). */
static const sl_json *seq_items(const sl_json *n, const char *key, size_t *count)
{
    const sl_json *arr = is_type(n, "Sequence") ? sl_json_get_type(n, key, SL_JSON_ARRAY) : NULL;
    if (arr) { *count = arr->len; return arr->items; }
    *count = n && n->type == SL_JSON_OBJECT ? 1 : 0;
    return n;
}

static bool has_byte_level(const sl_json *n, const char *key)
{
    size_t cnt;
    const sl_json *it = seq_items(n, key, &cnt);
    for (size_t i = 0; i < cnt; i++)
        if (is_type(&it[i], "ByteLevel")) return true;
    return false;
}

/* ---- normalizer / pre_tokenizer / decoder ---- */

static sl_status read_normalizer(sl_tokenizer *t, const sl_json *n, const char *path)
{
    size_t cnt;
    const sl_json *it = seq_items(n, "normalizers", &cnt);
    for (size_t i = 0; i < cnt; i++) {
        const sl_json *x = &it[i];
        const sl_json *pat = is_type(x, "Replace") ? sl_json_get_type(x, "pattern", SL_JSON_OBJECT) : NULL;
        if (is_type(x, "Prepend") && str_is(sl_json_get(x, "prepend"), META_S) && t->algo == SL_TOK_ALGO_SPM)
            t->prefix = SL_TOK_PREFIX_EACH;
        else if (pat && str_is(sl_json_get(pat, "String"), " ") && str_is(sl_json_get(x, "content"), META_S) &&
                 t->algo == SL_TOK_ALGO_SPM)
            t->escape_ws = true;
        else
            return unsupported(path, "normalizer", x);
    }
    return SL_OK;
}

static sl_status read_metaspace(sl_tokenizer *t, const sl_json *x, const char *path)
{
    if (!str_is(sl_json_get(x, "replacement"), META_S)) return unsupported(path, "Metaspace replacement of", x);
    const char *scheme = sl_json_get_str(x, "prepend_scheme");
    bool legacy_prefix = true;
    bool has_legacy = sl_json_get_bool(x, "add_prefix_space", &legacy_prefix);
    if (!scheme) scheme = !has_legacy || legacy_prefix ? "always" : "never";
    if (strcmp(scheme, "first") == 0) t->prefix = SL_TOK_PREFIX_FIRST;
    else if (strcmp(scheme, "always") == 0) t->prefix = SL_TOK_PREFIX_ALWAYS;
    else if (strcmp(scheme, "never") == 0) t->prefix = SL_TOK_PREFIX_NONE;
    else return unsupported(path, "Metaspace prepend_scheme of", x);
    bool split = true;
    sl_json_get_bool(x, "split", &split);
    t->meta_split = split;
    t->escape_ws = true;
    return SL_OK;
}

/* Byte-level pipelines: a signature of the steps, then the table of known ones. */
static sl_status read_byte_pretok(sl_tokenizer *t, const sl_json *n, const char *path)
{
    size_t cnt;
    const sl_json *it = seq_items(n, "pretokenizers", &cnt);
    char sig[16] = "";
    size_t k = 0;
    for (size_t i = 0; i < cnt && k + 2 < sizeof sig; i++) {
        const sl_json *x = &it[i];
        const sl_json *pat = sl_json_get_type(x, "pattern", SL_JSON_OBJECT);
        const sl_json *re = pat ? sl_json_get(pat, "Regex") : NULL;
        const char *beh = sl_json_get_str(x, "behavior");
        bool inv = false, digits = false;
        sl_json_get_bool(x, "invert", &inv);
        if (is_type(x, "ByteLevel")) {
            bool regex = true, aps = true;
            sl_json_get_bool(x, "use_regex", &regex);
            sl_json_get_bool(x, "add_prefix_space", &aps);
            t->add_prefix_space = aps;
            sig[k++] = regex ? 'B' : 'b';
        } else if (is_type(x, "Digits") && sl_json_get_bool(x, "individual_digits", &digits) && digits) {
            sig[k++] = 'D';
        } else if (is_type(x, "Split") && re && !inv && beh && strcmp(beh, "Isolated") == 0) {
            if (str_is(re, "\\p{N}")) sig[k++] = 'D';
            else if (str_is(re, RE_GPT2)) sig[k++] = 'G';
            else if (str_is(re, RE_LLAMA3)) sig[k++] = 'L';
            else return unsupported(path, "pre_tokenizer Split regex in", x);
        } else {
            return unsupported(path, "pre_tokenizer", x);
        }
    }
    sig[k] = '\0';
    static const struct { const char *sig; sl_pretok_kind kind; } known[] = {
        {"B", SL_PRETOK_GPT2}, {"b", SL_PRETOK_NONE}, {"Gb", SL_PRETOK_GPT2}, {"DB", SL_PRETOK_EXAONE3},
        {"DGb", SL_PRETOK_EXAONE3}, {"Lb", SL_PRETOK_LLAMA3},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(sig, known[i].sig) == 0) { t->pretok = known[i].kind; return SL_OK; }
    return sl_fail(SL_ERR_UNSUPPORTED, "%s: pre_tokenizer pipeline at byte %zu is not supported", path,
                   n ? n->offset : 0);
}

static sl_status read_pretok(sl_tokenizer *t, const sl_json *n, const char *path)
{
    if (!n || n->type == SL_JSON_NULL) return t->algo == SL_TOK_ALGO_SPM ? SL_OK : unsupported(path, "pre_tokenizer", n);
    if (t->algo == SL_TOK_ALGO_BYTE_BPE) return read_byte_pretok(t, n, path);
    size_t cnt;
    const sl_json *it = seq_items(n, "pretokenizers", &cnt);
    if (cnt != 1 || !is_type(&it[0], "Metaspace")) return unsupported(path, "pre_tokenizer", cnt ? &it[0] : n);
    return read_metaspace(t, &it[0], path);
}

static sl_status read_decoder(sl_tokenizer *t, const sl_json *n, const char *path)
{
    size_t cnt;
    const sl_json *it = seq_items(n, "decoders", &cnt);
    for (size_t i = 0; i < cnt; i++) {
        const sl_json *x = &it[i];
        int64_t start = 0;
        if (is_type(x, "ByteLevel") || is_type(x, "ByteFallback") || is_type(x, "Fuse")) continue;
        if (is_type(x, "Replace") && str_is(sl_json_get(x, "content"), " ")) continue;
        if (is_type(x, "Strip") && str_is(sl_json_get(x, "content"), " ") && sl_json_get_int(x, "start", &start)) {
            t->decode_strip = start > 0 ? 1 : 0;
            continue;
        }
        if (is_type(x, "Metaspace")) {
            const char *scheme = sl_json_get_str(x, "prepend_scheme");
            bool aps = true;
            sl_json_get_bool(x, "add_prefix_space", &aps);
            t->decode_strip = scheme ? strcmp(scheme, "never") != 0 : aps;
            continue;
        }
        return unsupported(path, "decoder", x);
    }
    return SL_OK;
}

/* ---- post_processor: BOS/EOS template ---- */

static sl_status template_ids(sl_tokenizer *t, const sl_json *pp, const sl_json *item, bool after_a, const char *path)
{
    const sl_json *sp = sl_json_get_type(item, "SpecialToken", SL_JSON_OBJECT);
    const sl_json *name = sp ? sl_json_get_type(sp, "id", SL_JSON_STRING) : NULL;
    if (!name) return sl_fail(SL_ERR_FORMAT, "%s: bad template item at byte %zu", path, item->offset);
    const sl_json *specials = sl_json_get_type(pp, "special_tokens", SL_JSON_OBJECT);
    const sl_json *entry = specials ? sl_json_get_type(specials, name->str, SL_JSON_OBJECT) : NULL;
    const sl_json *ids = entry ? sl_json_get_type(entry, "ids", SL_JSON_ARRAY) : NULL;
    int32_t one = sl_tok_lookup(t, name->str, name->len);
    size_t n = ids ? ids->len : 1;
    for (size_t i = 0; i < n; i++) {
        int64_t id = ids ? (ids->items[i].is_int ? ids->items[i].i : -1) : one;
        int *cnt = after_a ? &t->n_suffix_ids : &t->n_prefix_ids;
        if (id < 0 || id >= t->n_vocab || *cnt >= 4)
            return sl_fail(SL_ERR_FORMAT, "%s: template token '%s' at byte %zu is unknown or too many", path,
                           sl_tok_quote(name->str, name->len).s, item->offset);
        (after_a ? t->suffix_ids : t->prefix_ids)[(*cnt)++] = (int32_t)id;
    }
    return SL_OK;
}

static sl_status read_post(sl_tokenizer *t, const sl_json *n, const char *path)
{
    if (!n || n->type == SL_JSON_NULL || is_type(n, "ByteLevel")) return SL_OK;
    if (is_type(n, "Sequence")) {
        const sl_json *arr = sl_json_get_type(n, "processors", SL_JSON_ARRAY);
        for (size_t i = 0; arr && i < arr->len; i++) SL_TRY(read_post(t, &arr->items[i], path));
        return SL_OK;
    }
    if (!is_type(n, "TemplateProcessing")) return unsupported(path, "post_processor", n);
    const sl_json *single = sl_json_get_type(n, "single", SL_JSON_ARRAY);
    if (!single) return sl_fail(SL_ERR_FORMAT, "%s: TemplateProcessing without 'single' at byte %zu", path, n->offset);
    t->n_prefix_ids = t->n_suffix_ids = 0;
    bool after_a = false;
    for (size_t i = 0; i < single->len; i++) {
        const sl_json *item = &single->items[i];
        if (sl_json_get(item, "Sequence")) { after_a = true; continue; }
        SL_TRY(template_ids(t, n, item, after_a, path));
    }
    if (t->n_prefix_ids) t->bos_id = t->prefix_ids[0];
    if (t->n_suffix_ids) t->eos_id = t->suffix_ids[t->n_suffix_ids - 1];
    return SL_OK;
}

/* ---- model ---- */

static sl_status vocab_size(const sl_json *vocab, const sl_json *added, const char *path, int64_t *v)
{
    int64_t max = -1;
    for (size_t i = 0; i < vocab->len; i++) {
        const sl_json *x = &vocab->items[i];
        if (!x->is_int || x->i < 0 || x->i >= SL_TOK_MAX_VOCAB)
            return sl_fail(SL_ERR_FORMAT, "%s: bad token id at byte %zu", path, x->offset);
        if (x->i > max) max = x->i;
    }
    for (size_t i = 0; added && i < added->len; i++) {
        int64_t id;
        if (!sl_json_get_int(&added->items[i], "id", &id) || id < 0 || id >= SL_TOK_MAX_VOCAB)
            return sl_fail(SL_ERR_FORMAT, "%s: bad added token at byte %zu", path, added->items[i].offset);
        if (id > max) max = id;
    }
    *v = max + 1;
    return SL_OK;
}

static sl_status read_vocab(sl_tokenizer *t, const sl_json *vocab, const char *unk, const char *path)
{
    for (size_t i = 0; i < vocab->len; i++) {
        const char *s = vocab->keys[i];
        size_t len = vocab->key_lens[i];
        int64_t id = vocab->items[i].i;
        if (t->piece_off[id] != SL_TOK_NONE)
            return sl_fail(SL_ERR_FORMAT, "%s: token id %lld used twice (byte %zu)", path, (long long)id,
                           vocab->items[i].offset);
        sl_tok_type type = SL_TOK_TYPE_NORMAL;
        if (unk && strlen(unk) == len && memcmp(unk, s, len) == 0) type = SL_TOK_TYPE_UNKNOWN;
        else if (t->byte_fallback && len == 6 && memcmp(s, "<0x", 3) == 0 && s[5] == '>') type = SL_TOK_TYPE_BYTE;
        SL_TRY(sl_tok_set_piece(t, id, s, len, type, 0.0f));
    }
    return SL_OK;
}

static sl_status read_merges(sl_tokenizer *t, const sl_json *merges, const char *path)
{
    if (!merges) return SL_OK;
    SL_TRY(sl_tok_pairs_reserve(t, merges->len));
    sl_tok_merge_batch mb;
    sl_tok_merge_batch_init(&mb, t, path);
    for (size_t i = 0; i < merges->len; i++) {
        const sl_json *m = &merges->items[i];
        if (m->type == SL_JSON_STRING) {
            const char *sp = memchr(m->str, ' ', m->len);
            if (!sp || memchr(sp + 1, ' ', m->len - (size_t)(sp + 1 - m->str)))
                return sl_fail(SL_ERR_FORMAT, "%s: merge %zu at byte %zu is not 'a b'", path, i, m->offset);
            SL_TRY(sl_tok_merge_batch_add(&mb, m->str, (size_t)(sp - m->str), sp + 1, m->len - (size_t)(sp + 1 - m->str), i));
        } else if (m->type == SL_JSON_ARRAY && m->len == 2 && m->items[0].type == SL_JSON_STRING &&
                   m->items[1].type == SL_JSON_STRING) {
            SL_TRY(sl_tok_merge_batch_add(&mb, m->items[0].str, m->items[0].len, m->items[1].str, m->items[1].len, i));
        } else {
            return sl_fail(SL_ERR_FORMAT, "%s: merge %zu at byte %zu is not 'a b' or [a, b]", path, i, m->offset);
        }
    }
    return sl_tok_merge_batch_flush(&mb);
}

static sl_status read_added(sl_tokenizer *t, const sl_json *added, const char *path)
{
    for (size_t i = 0; added && i < added->len; i++) {
        const sl_json *a = &added->items[i];
        const sl_json *c = sl_json_get_type(a, "content", SL_JSON_STRING);
        int64_t id = 0;
        sl_json_get_int(a, "id", &id);
        if (!c || !c->len) return sl_fail(SL_ERR_FORMAT, "%s: added token at byte %zu has no content", path, a->offset);
        bool special = false, l = false, r = false, w = false;
        sl_json_get_bool(a, "special", &special);
        sl_json_get_bool(a, "lstrip", &l);
        sl_json_get_bool(a, "rstrip", &r);
        sl_json_get_bool(a, "single_word", &w);
        bool same = t->piece_off[id] != SL_TOK_NONE && t->piece_len[id] == c->len &&
                    memcmp(t->pool + t->piece_off[id], c->str, c->len) == 0;
        if (!same)
            SL_TRY(sl_tok_set_piece(t, id, c->str, c->len, special ? SL_TOK_TYPE_CONTROL : SL_TOK_TYPE_USER_DEFINED, 0));
        SL_TRY(sl_tok_add_added(t, (int32_t)id, (special ? SL_TOKF_SPECIAL : 0u) | (l ? SL_TOKF_LSTRIP : 0u) |
                                                     (r ? SL_TOKF_RSTRIP : 0u) | (w ? SL_TOKF_SINGLE_WORD : 0u)));
    }
    return SL_OK;
}

static sl_status check_model(const sl_json *model, const char *path)
{
    const char *type = sl_json_get_str(model, "type");
    if (type && strcmp(type, "BPE") != 0)
        return sl_fail(SL_ERR_UNSUPPORTED, "%s: model type '%s' is not supported (only BPE)", path, sl_tok_quote(type, strlen(type)).s);
    double dropout = 0;
    if (sl_json_get_num(model, "dropout", &dropout) && dropout > 0)
        return sl_fail(SL_ERR_UNSUPPORTED, "%s: BPE dropout is not supported", path);
    const char *p = sl_json_get_str(model, "continuing_subword_prefix"), *s = sl_json_get_str(model, "end_of_word_suffix");
    if ((p && *p) || (s && *s))
        return sl_fail(SL_ERR_UNSUPPORTED, "%s: continuing_subword_prefix / end_of_word_suffix are not supported", path);
    if (!sl_json_get_type(model, "vocab", SL_JSON_OBJECT))
        return sl_fail(SL_ERR_FORMAT, "%s: model has no vocab object", path);
    return SL_OK;
}

/* Special tokens when no config names them: the template's, else well-known texts. */
static void guess_bos_eos(sl_tokenizer *t)
{
    static const char *const bos[] = {"<s>", "<|begin_of_text|>", "[BOS]", "<bos>"};
    static const char *const eos[] = {"</s>", "<|end_of_text|>", "<|endoftext|>", "[EOS]", "<eos>"};
    for (size_t i = 0; t->bos_id < 0 && i < sizeof bos / sizeof bos[0]; i++) t->bos_id = sl_tok_lookup(t, bos[i], strlen(bos[i]));
    for (size_t i = 0; t->eos_id < 0 && i < sizeof eos / sizeof eos[0]; i++) t->eos_id = sl_tok_lookup(t, eos[i], strlen(eos[i]));
}

static sl_status build(sl_tokenizer **out, const sl_json *root, const char *path, const char *config)
{
    const sl_json *model = sl_json_get_type(root, "model", SL_JSON_OBJECT);
    if (!model) return sl_fail(SL_ERR_FORMAT, "%s: no 'model' object", path);
    SL_TRY(check_model(model, path));
    const sl_json *vocab = sl_json_get(model, "vocab"), *added = sl_json_get_type(root, "added_tokens", SL_JSON_ARRAY);
    const sl_json *pre = sl_json_get(root, "pre_tokenizer"), *dec = sl_json_get(root, "decoder");
    bool byte_level = has_byte_level(pre, "pretokenizers") || has_byte_level(dec, "decoders");
    int64_t v = 0;
    SL_TRY(vocab_size(vocab, added, path, &v));
    SL_TRY(sl_tok_create(byte_level ? SL_TOK_ALGO_BYTE_BPE : SL_TOK_ALGO_SPM, v, out));
    sl_tokenizer *t = *out;
    sl_json_get_bool(model, "byte_fallback", &t->byte_fallback);
    sl_json_get_bool(model, "fuse_unk", &t->fuse_unk);
    sl_json_get_bool(model, "ignore_merges", &t->ignore_merges);
    const char *unk = sl_json_get_str(model, "unk_token");
    SL_TRY(read_vocab(t, vocab, unk, path));
    SL_TRY(sl_tok_index(t));
    SL_TRY(read_merges(t, sl_json_get_type(model, "merges", SL_JSON_ARRAY), path));
    SL_TRY(read_added(t, added, path));
    const sl_json *norm = sl_json_get(root, "normalizer");
    if (norm && norm->type != SL_JSON_NULL) SL_TRY(read_normalizer(t, norm, path));
    SL_TRY(read_pretok(t, pre, path));
    if (dec && dec->type != SL_JSON_NULL) SL_TRY(read_decoder(t, dec, path));
    SL_TRY(read_post(t, sl_json_get(root, "post_processor"), path));
    t->unk_id = unk ? sl_tok_lookup(t, unk, strlen(unk)) : -1;
    if (config) SL_TRY(sl_tok_apply_config(t, config, NULL));
    guess_bos_eos(t);
    return sl_tok_finalize(t, path);
}

sl_status sl_tok_load_hf_json(const char *path, const char *config_path, sl_tokenizer **out)
{
    *out = NULL;
    sl_json_doc *doc;
    SL_TRY(sl_tok_read_json(path, &doc));
    sl_tokenizer *t = NULL;
    sl_status st = build(&t, sl_json_root(doc), path, config_path);
    sl_json_free(doc);
    if (st != SL_OK) { sl_tokenizer_free(t); return st; }
    *out = t;
    return SL_OK;
}
