/* tok_load_config.c — choosing the files of a tokenizer (one file, or a model folder the way
 * transformers' AutoTokenizer does) and applying tokenizer_config.json on top of them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime/runtime.h"
#include "tokenizer/tok_internal.h"

bool sl_tok_file_exists(const char *path)
{
    struct stat st;
    return path && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

sl_status sl_tok_read_json(const char *path, sl_json_doc **doc)
{
    char *text;
    size_t len;
    SL_TRY(sl_read_file(path, &text, &len));
    sl_status st = sl_json_parse(text, len, path, doc);
    free(text);
    if (st == SL_OK && sl_json_root(*doc)->type != SL_JSON_OBJECT) {
        sl_json_free(*doc);
        *doc = NULL;
        return sl_fail(SL_ERR_FORMAT, "%s: expected a JSON object", path);
    }
    return st;
}

void sl_tok_set_template(sl_tokenizer *t, bool add_bos, bool add_eos)
{
    t->n_prefix_ids = t->n_suffix_ids = 0;
    if (add_bos && t->bos_id >= 0) t->prefix_ids[t->n_prefix_ids++] = t->bos_id;
    if (add_eos && t->eos_id >= 0) t->suffix_ids[t->n_suffix_ids++] = t->eos_id;
}

static bool get_flag(const sl_json *o, const char *key)
{
    bool b = false;
    return sl_json_get_bool(o, key, &b) && b;
}

/* One added_tokens_decoder entry: "<id>": {"content": ..., "special": ..., "lstrip": ...}. */
static sl_status apply_added_entry(sl_tokenizer *t, const char *key, size_t klen, const sl_json *v, const char *path)
{
    int64_t id = 0;
    bool digits = klen > 0 && klen <= 9;
    for (size_t i = 0; i < klen && digits; i++) {
        digits = key[i] >= '0' && key[i] <= '9';
        id = id * 10 + (key[i] - '0');
    }
    const sl_json *content = v->type == SL_JSON_OBJECT ? sl_json_get_type(v, "content", SL_JSON_STRING) : NULL;
    if (!digits || !content || content->len == 0)
        return sl_fail(SL_ERR_FORMAT, "%s: bad added_tokens_decoder entry '%s' at byte %zu", path,
                       sl_tok_quote(key, klen).s, v->offset);
    if (id >= t->n_vocab) SL_TRY(sl_tok_resize(t, id + 1));
    size_t plen;
    const char *cur = t->piece_off[id] == SL_TOK_NONE ? NULL : t->pool + t->piece_off[id];
    plen = t->piece_len[id];
    bool special = get_flag(v, "special");
    if (!cur || plen != content->len || memcmp(cur, content->str, plen) != 0)
        SL_TRY(sl_tok_set_piece(t, id, content->str, content->len,
                                special ? SL_TOK_TYPE_CONTROL : SL_TOK_TYPE_USER_DEFINED, 0.0f));
    unsigned fl = (special ? SL_TOKF_SPECIAL : 0) | (get_flag(v, "lstrip") ? SL_TOKF_LSTRIP : 0) |
                  (get_flag(v, "rstrip") ? SL_TOKF_RSTRIP : 0) | (get_flag(v, "single_word") ? SL_TOKF_SINGLE_WORD : 0);
    return sl_tok_add_added(t, (int32_t)id, fl);
}

/* "bos_token": "<s>" or {"content": "<s>", ...} -> id, or -1. */
static int32_t token_id(const sl_tokenizer *t, const sl_json *root, const char *key)
{
    const sl_json *v = sl_json_get(root, key);
    if (v && v->type == SL_JSON_OBJECT) v = sl_json_get_type(v, "content", SL_JSON_STRING);
    if (!v || v->type != SL_JSON_STRING) return -1;
    return sl_tok_lookup(t, v->str, v->len);
}

sl_status sl_tok_apply_config(sl_tokenizer *t, const char *config_path, sl_tok_config *cfg)
{
    if (cfg) { cfg->add_prefix_space = -1; cfg->tokenizer_class[0] = '\0'; }
    if (!config_path || !sl_tok_file_exists(config_path)) return SL_OK;
    SL_TRY(sl_tok_index(t));
    sl_json_doc *doc;
    SL_TRY(sl_tok_read_json(config_path, &doc));
    const sl_json *root = sl_json_root(doc);
    sl_status st = SL_OK;
    const sl_json *added = sl_json_get_type(root, "added_tokens_decoder", SL_JSON_OBJECT);
    for (size_t i = 0; added && i < added->len && st == SL_OK; i++)
        st = apply_added_entry(t, added->keys[i], added->key_lens[i], &added->items[i], config_path);
    if (st == SL_OK) {
        int32_t id;
        if ((id = token_id(t, root, "bos_token")) >= 0) t->bos_id = id;
        if ((id = token_id(t, root, "eos_token")) >= 0) t->eos_id = id;
        if ((id = token_id(t, root, "unk_token")) >= 0) t->unk_id = id;
        bool add_bos = false, add_eos = false;
        bool has_bos = sl_json_get_bool(root, "add_bos_token", &add_bos);
        bool has_eos = sl_json_get_bool(root, "add_eos_token", &add_eos);
        if (has_bos || has_eos) sl_tok_set_template(t, add_bos, add_eos);
        bool aps;
        if (cfg && sl_json_get_bool(root, "add_prefix_space", &aps)) cfg->add_prefix_space = aps;
        const char *cls = sl_json_get_str(root, "tokenizer_class");
        if (cfg && cls) snprintf(cfg->tokenizer_class, sizeof cfg->tokenizer_class, "%s", cls);
    }
    sl_json_free(doc);
    return st;
}

/* ---- choosing files ---- */

static char *join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p) return NULL;
    memcpy(p, dir, a);
    size_t n = a;
    if (n && p[n - 1] != '/') p[n++] = '/';
    memcpy(p + n, name, b + 1);
    return p;
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) return sl_strdup(".");
    size_t n = (size_t)(slash - path);
    char *d = malloc(n + 2);
    if (!d) return NULL;
    memcpy(d, path, n ? n : 1);
    d[n ? n : 1] = '\0';
    return d;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static sl_status load_vocab_in(const char *dir, const char *vocab, sl_tokenizer **out)
{
    char *merges = join(dir, "merges.txt"), *config = join(dir, "tokenizer_config.json");
    sl_status st = SL_ERR_NOMEM;
    if (merges && config)
        st = sl_tok_load_vocab_merges(vocab, merges, sl_tok_file_exists(config) ? config : NULL, out);
    else
        sl_fail(st, "out of memory");
    free(merges);
    free(config);
    return st;
}

sl_status sl_tokenizer_load_file(const char *path, sl_tokenizer **out)
{
    *out = NULL;
    if (!path) return SL_FAIL(SL_ERR_ARG, "NULL path");
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) return sl_tokenizer_load_dir(path, out);
    if (ends_with(path, ".model")) return sl_tok_load_spm_model(path, NULL, out);
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (strcmp(base, "vocab.json") == 0) {
        char *dir = dir_of(path);
        if (!dir) return SL_FAIL(SL_ERR_NOMEM, "out of memory");
        sl_status st = load_vocab_in(dir, path, out);
        free(dir);
        return st;
    }
    if (ends_with(path, ".json")) return sl_tok_load_hf_json(path, NULL, out);
    return sl_fail(SL_ERR_ARG, "%s: unknown tokenizer file (expected tokenizer.model, tokenizer.json or vocab.json)",
                   path);
}

sl_status sl_tokenizer_load_dir(const char *dir, sl_tokenizer **out)
{
    *out = NULL;
    if (!dir) return SL_FAIL(SL_ERR_ARG, "NULL path");
    char *json = join(dir, "tokenizer.json"), *vocab = join(dir, "vocab.json");
    char *merges = join(dir, "merges.txt"), *model = join(dir, "tokenizer.model");
    char *config = join(dir, "tokenizer_config.json");
    sl_status st;
    if (!json || !vocab || !merges || !model || !config) st = SL_FAIL(SL_ERR_NOMEM, "out of memory");
    else {
        const char *cfg = sl_tok_file_exists(config) ? config : NULL;
        if (sl_tok_file_exists(json)) st = sl_tok_load_hf_json(json, cfg, out);
        else if (sl_tok_file_exists(vocab) && sl_tok_file_exists(merges)) st = sl_tok_load_vocab_merges(vocab, merges, cfg, out);
        else if (sl_tok_file_exists(model)) st = sl_tok_load_spm_model(model, cfg, out);
        else st = sl_fail(SL_ERR_NOT_FOUND, "%s: no tokenizer.json, vocab.json + merges.txt or tokenizer.model", dir);
    }
    free(json);
    free(vocab);
    free(merges);
    free(model);
    free(config);
    return st;
}
