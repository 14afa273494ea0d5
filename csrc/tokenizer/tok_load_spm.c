/* tok_load_spm.c — SentencePiece tokenizer.model: a small protobuf wire-format reader for
 * ModelProto (pieces with scores and types, the TrainerSpec and NormalizerSpec fields that change
 * encoding) and the tokenizer it describes (BPE only; unigram models are refused). */
#include <stdlib.h>
#include <string.h>

#include "runtime/runtime.h"
#include "tokenizer/tok_internal.h"

typedef struct pb {
    const uint8_t *p, *end;   /* borrowed from the file mapping */
    const uint8_t *base;      /* start of the file, for offsets in messages */
    const char *what;         /* file path */
} pb;

typedef struct spm_spec {
    int64_t model_type;       /* 1 unigram, 2 BPE, ... */
    bool byte_fallback, ws_suffix;
    int64_t unk_id, bos_id, eos_id;
    bool dummy_prefix, extra_ws, escape_ws;
    const uint8_t *norm_name;
    size_t norm_name_len, charsmap_len;
} spm_spec;

static sl_status pb_fail(const pb *r, const char *msg)
{
    return sl_fail(SL_ERR_FORMAT, "%s: invalid SentencePiece model at byte %zu: %s", r->what,
                   (size_t)(r->p - r->base), msg);
}

static sl_status pb_varint(pb *r, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end) return pb_fail(r, "truncated varint");
        uint8_t b = *r->p++;
        x |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) { *v = x; return SL_OK; }
    }
    return pb_fail(r, "varint longer than 10 bytes");
}

static sl_status pb_key(pb *r, uint32_t *field, uint32_t *wire)
{
    uint64_t k = 0;
    SL_TRY(pb_varint(r, &k));
    *field = (uint32_t)(k >> 3);
    *wire = (uint32_t)(k & 7);
    if (*field == 0 || k >> 32) return pb_fail(r, "bad field number");
    return SL_OK;
}

static sl_status pb_take(pb *r, size_t n, const uint8_t **data)
{
    if ((size_t)(r->end - r->p) < n) return pb_fail(r, "field runs past the end");
    *data = r->p;
    r->p += n;
    return SL_OK;
}

/* Read a length-delimited field as a sub-reader. */
static sl_status pb_sub(pb *r, pb *sub)
{
    uint64_t n = 0;
    SL_TRY(pb_varint(r, &n));
    if (n > (uint64_t)(r->end - r->p)) return pb_fail(r, "length-delimited field runs past the end");
    *sub = (pb){r->p, r->p + n, r->base, r->what};
    r->p += n;
    return SL_OK;
}

static sl_status pb_skip(pb *r, uint32_t wire)
{
    const uint8_t *d = NULL;
    uint64_t v = 0;
    pb sub = {0};
    switch (wire) {
    case 0: return pb_varint(r, &v);
    case 1: return pb_take(r, 8, &d);
    case 2: return pb_sub(r, &sub);
    case 5: return pb_take(r, 4, &d);
    default: return pb_fail(r, "unsupported wire type (groups)");
    }
}

static sl_status pb_expect(pb *r, uint32_t wire, uint32_t want)
{
    return wire == want ? SL_OK : pb_fail(r, "field has an unexpected wire type");
}

static sl_status parse_piece(pb *r, const uint8_t **s, size_t *len, float *score, int64_t *type)
{
    *s = NULL; *len = 0; *score = 0.0f; *type = SL_TOK_TYPE_NORMAL;
    while (r->p < r->end) {
        uint32_t f = 0, w = 0;
        SL_TRY(pb_key(r, &f, &w));
        if (f == 1) {
            pb sub = {0};
            SL_TRY(pb_expect(r, w, 2));
            SL_TRY(pb_sub(r, &sub));
            *s = sub.p;
            *len = (size_t)(sub.end - sub.p);
        } else if (f == 2) {
            const uint8_t *d = NULL;
            SL_TRY(pb_expect(r, w, 5));
            SL_TRY(pb_take(r, 4, &d));
            memcpy(score, d, 4);   /* protobuf fixed32 is little-endian, like every target we build for */
        } else if (f == 3) {
            uint64_t v = 0;
            SL_TRY(pb_expect(r, w, 0));
            SL_TRY(pb_varint(r, &v));
            if (v < 1 || v > 6) return pb_fail(r, "unknown piece type");
            *type = (int64_t)v;
        } else {
            SL_TRY(pb_skip(r, w));
        }
    }
    if (!*s || !*len) return pb_fail(r, "empty piece");
    return SL_OK;
}

static sl_status parse_trainer(pb *r, spm_spec *sp)
{
    while (r->p < r->end) {
        uint32_t f = 0, w = 0;
        uint64_t v = 0;
        SL_TRY(pb_key(r, &f, &w));
        bool known = f == 3 || f == 24 || f == 35 || f == 40 || f == 41 || f == 42;
        if (!known) { SL_TRY(pb_skip(r, w)); continue; }
        SL_TRY(pb_expect(r, w, 0));
        SL_TRY(pb_varint(r, &v));
        int64_t i = (int64_t)(int32_t)(uint32_t)v;   /* int32 fields: negatives are sign-extended */
        if (f == 3) sp->model_type = i;
        else if (f == 24) sp->ws_suffix = v != 0;
        else if (f == 35) sp->byte_fallback = v != 0;
        else if (f == 40) sp->unk_id = i;
        else if (f == 41) sp->bos_id = i;
        else sp->eos_id = i;
    }
    return SL_OK;
}

static sl_status parse_normalizer(pb *r, spm_spec *sp)
{
    while (r->p < r->end) {
        uint32_t f = 0, w = 0;
        SL_TRY(pb_key(r, &f, &w));
        if (f == 1 || f == 2) {
            pb sub = {0};
            SL_TRY(pb_expect(r, w, 2));
            SL_TRY(pb_sub(r, &sub));
            if (f == 1) { sp->norm_name = sub.p; sp->norm_name_len = (size_t)(sub.end - sub.p); }
            else sp->charsmap_len = (size_t)(sub.end - sub.p);
        } else if (f >= 3 && f <= 5) {
            uint64_t v = 0;
            SL_TRY(pb_expect(r, w, 0));
            SL_TRY(pb_varint(r, &v));
            if (f == 3) sp->dummy_prefix = v != 0;
            else if (f == 4) sp->extra_ws = v != 0;
            else sp->escape_ws = v != 0;
        } else {
            SL_TRY(pb_skip(r, w));
        }
    }
    return SL_OK;
}

/* Pass over ModelProto: count pieces, read the specs. */
static sl_status scan_model(pb r, spm_spec *sp, int64_t *n_pieces)
{
    *n_pieces = 0;
    while (r.p < r.end) {
        uint32_t f = 0, w = 0;
        SL_TRY(pb_key(&r, &f, &w));
        if (f >= 1 && f <= 3) {
            pb sub = {0};
            SL_TRY(pb_expect(&r, w, 2));
            SL_TRY(pb_sub(&r, &sub));
            if (f == 1) (*n_pieces)++;
            else if (f == 2) SL_TRY(parse_trainer(&sub, sp));
            else SL_TRY(parse_normalizer(&sub, sp));
        } else {
            SL_TRY(pb_skip(&r, w));
        }
    }
    if (*n_pieces == 0) return sl_fail(SL_ERR_FORMAT, "%s: SentencePiece model has no pieces", r.what);
    if (*n_pieces > SL_TOK_MAX_VOCAB) return sl_fail(SL_ERR_FORMAT, "%s: too many pieces", r.what);
    return SL_OK;
}

static sl_status check_spec(const spm_spec *sp, const char *what)
{
    if (sp->model_type != 2)
        return sl_fail(SL_ERR_UNSUPPORTED, "%s: SentencePiece model type %lld is not supported (only BPE = 2)", what,
                       (long long)sp->model_type);
    if (sp->ws_suffix)
        return sl_fail(SL_ERR_UNSUPPORTED, "%s: treat_whitespace_as_suffix is not supported", what);
    bool identity = sp->norm_name_len == 8 && memcmp(sp->norm_name, "identity", 8) == 0;
    if (sp->charsmap_len && !identity)
        return sl_fail(SL_ERR_UNSUPPORTED, "%s: normalizer '%s' (precompiled charsmap) is not supported", what,
                       sl_tok_quote((const char *)sp->norm_name, sp->norm_name_len).s);
    return SL_OK;
}

static sl_status read_pieces(pb r, sl_tokenizer *t)
{
    int64_t id = 0;
    while (r.p < r.end) {
        uint32_t f = 0, w = 0;
        SL_TRY(pb_key(&r, &f, &w));
        if (f != 1) { SL_TRY(pb_skip(&r, w)); continue; }
        pb sub = {0};
        SL_TRY(pb_sub(&r, &sub));
        const uint8_t *s;
        size_t len;
        float score;
        int64_t type;
        SL_TRY(parse_piece(&sub, &s, &len, &score, &type));
        SL_TRY(sl_tok_set_piece(t, id, (const char *)s, len, (sl_tok_type)type, score));
        if (type == SL_TOK_TYPE_CONTROL || type == SL_TOK_TYPE_UNKNOWN) SL_TRY(sl_tok_add_added(t, (int32_t)id, SL_TOKF_SPECIAL));
        else if (type == SL_TOK_TYPE_USER_DEFINED) SL_TRY(sl_tok_add_added(t, (int32_t)id, 0));
        id++;
    }
    return SL_OK;
}

static void set_options(sl_tokenizer *t, const spm_spec *sp)
{
    t->prefix = sp->dummy_prefix ? SL_TOK_PREFIX_ONCE : SL_TOK_PREFIX_NONE;
    t->escape_ws = sp->escape_ws;
    t->remove_extra_ws = sp->extra_ws;
    t->byte_fallback = sp->byte_fallback;
    t->fuse_unk = true;
    t->decode_strip = sp->dummy_prefix ? 1 : 0;
    int64_t v = t->n_vocab;
    t->unk_id = sp->unk_id >= 0 && sp->unk_id < v ? (int32_t)sp->unk_id : -1;
    t->bos_id = sp->bos_id >= 0 && sp->bos_id < v ? (int32_t)sp->bos_id : -1;
    t->eos_id = sp->eos_id >= 0 && sp->eos_id < v ? (int32_t)sp->eos_id : -1;
    if (t->bos_id >= 0) { t->prefix_ids[0] = t->bos_id; t->n_prefix_ids = 1; }
}

sl_status sl_tok_load_spm_model(const char *path, const char *config_path, sl_tokenizer **out)
{
    *out = NULL;
    sl_mapping m = {0};
    SL_TRY(sl_mapping_open(&m, path));
    pb r = {m.data, m.data + m.size, m.data, path};
    spm_spec sp = {.model_type = 1, .unk_id = 0, .bos_id = 1, .eos_id = 2,
                   .dummy_prefix = true, .extra_ws = true, .escape_ws = true};
    int64_t n = 0;
    sl_tokenizer *t = NULL;
    sl_status st = m.size ? scan_model(r, &sp, &n) : sl_fail(SL_ERR_FORMAT, "%s: empty file", path);
    if (st == SL_OK) st = check_spec(&sp, path);
    if (st == SL_OK) st = sl_tok_create(SL_TOK_ALGO_SPM, n, &t);
    if (st == SL_OK) st = read_pieces(r, t);
    if (st == SL_OK) {
        set_options(t, &sp);
        if (config_path) st = sl_tok_apply_config(t, config_path, NULL);
    }
    if (st == SL_OK) st = sl_tok_finalize(t, path);
    sl_mapping_close(&m);
    if (st != SL_OK) { sl_tokenizer_free(t); return st; }
    *out = t;
    return SL_OK;
}
