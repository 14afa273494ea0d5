/* load_hf.c — load a Hugging Face model folder: config.json, then model.safetensors or the
 * shards named by model.safetensors.index.json, then bind tensors to roles by the arch table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/model.h"

#define MAX_SHARDS 4096

static char *join_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    else SL_FAIL(SL_ERR_NOMEM, "out of memory");
    return p;
}

static bool file_exists(const char *path) { return access(path, F_OK) == 0; }

/* Append every tensor of one safetensors file to m->named. */
static sl_status add_file(sl_model *m, const char *path, int64_t *cap)
{
    sl_buffer *b = calloc(1, sizeof *b);
    if (!b) return SL_FAIL(SL_ERR_NOMEM, "out of memory");
    b->refs = 1;
    sl_status st = sl_st_file_open(&b->st, path);
    if (st != SL_OK) { free(b); return st; }
    b->size = b->st.map.size;
    for (int64_t i = 0; i < b->st.n_tensors && st == SL_OK; i++) {
        const sl_st_tensor *s = &b->st.tensors[i];
        if (m->n_named == *cap) {
            int64_t nc = *cap ? *cap * 2 : 256;
            sl_tensor *n = realloc(m->named, (size_t)nc * sizeof *n);
            if (!n) { st = SL_FAIL(SL_ERR_NOMEM, "out of memory"); break; }
            m->named = n; *cap = nc;
        }
        sl_tensor *t = &m->named[m->n_named];
        memset(t, 0, sizeof *t);
        t->name = sl_strdup(s->name);
        if (!t->name) { st = SL_ERR_NOMEM; break; }
        t->dtype = s->dtype;
        t->n_dims = s->n_dims;
        memcpy(t->shape, s->shape, sizeof t->shape);
        t->data = s->data;
        t->nbytes = s->nbytes;
        t->owner = sl_buffer_retain(b);
        m->n_named++;
    }
    sl_buffer_release(b);
    return st;
}

static bool safe_shard_name(const char *s)
{
    return *s && !strchr(s, '/') && !strchr(s, '\\') && strcmp(s, "..") != 0 && strcmp(s, ".") != 0;
}

static sl_status load_index(sl_model *m, const char *dir, const char *index_path, int64_t *cap)
{
    char *text = NULL;
    size_t len = 0;
    SL_TRY(sl_read_file(index_path, &text, &len));
    sl_json_doc *doc = NULL;
    sl_status st = sl_json_parse(text, len, index_path, &doc);
    free(text);
    if (st != SL_OK) return st;
    const sl_json *map = sl_json_get_type(sl_json_root(doc), "weight_map", SL_JSON_OBJECT);
    const char *files[MAX_SHARDS];
    int n_files = 0;
    if (!map) st = sl_fail(SL_ERR_FORMAT, "%s: missing 'weight_map' object", index_path);
    for (size_t i = 0; st == SL_OK && i < map->len; i++) {
        const sl_json *f = &map->items[i];
        if (f->type != SL_JSON_STRING || !safe_shard_name(f->str)) {
            st = sl_fail(SL_ERR_FORMAT, "%s: weight_map['%s'] is not a file name in the folder", index_path, map->keys[i]);
            break;
        }
        int seen = 0;
        for (int j = 0; j < n_files && !seen; j++) seen = strcmp(files[j], f->str) == 0;
        if (seen) continue;
        if (n_files == MAX_SHARDS) { st = sl_fail(SL_ERR_FORMAT, "%s: too many shards", index_path); break; }
        files[n_files++] = f->str;
    }
    for (int j = 0; st == SL_OK && j < n_files; j++) {
        char *p = join_path(dir, files[j]);
        st = p ? add_file(m, p, cap) : SL_ERR_NOMEM;
        free(p);
    }
    for (size_t i = 0; st == SL_OK && i < map->len; i++) {
        int64_t k = 0;
        while (k < m->n_named && strcmp(m->named[k].name, map->keys[i]) != 0) k++;
        if (k == m->n_named)
            st = sl_fail(SL_ERR_FORMAT, "%s: tensor '%s' is listed in the index but missing from %s", index_path,
                         map->keys[i], map->items[i].str);
    }
    sl_json_free(doc);
    return st;
}

static const sl_tensor *find_named(const sl_model *m, const char *name)
{
    for (int64_t i = 0; i < m->n_named; i++)
        if (strcmp(m->named[i].name, name) == 0) return &m->named[i];
    return NULL;
}

static sl_status bind_roles(sl_model *m)
{
    const sl_arch *a = sl_arch_get(m->hp.arch);
    char name[256];
    for (int r = 0; r < SL_ROLE_COUNT; r++) {
        if (!a->hf_names[r]) continue;
        int64_t n = sl_role_is_layer((sl_role)r) ? m->hp.n_layers : 1;
        for (int64_t il = 0; il < n; il++) {
            snprintf(name, sizeof name, a->hf_names[r], (int)il);
            const sl_tensor *t = find_named(m, name);
            if (!t) {
                if (r == SL_ROLE_OUTPUT) continue;
                return sl_fail(SL_ERR_FORMAT, "%s: missing tensor '%s'", m->path, name);
            }
            if (t->dtype < 0)
                return sl_fail(SL_ERR_UNSUPPORTED, "%s: tensor '%s' has an element type solar cannot compute with",
                               m->path, name);
            SL_TRY(sl_tensor_copy(sl_model_role_slot(m, (sl_role)r, il), t, NULL));
        }
    }
    if (!sl_model_role(m, SL_ROLE_OUTPUT, 0)) m->hp.tie_embeddings = true;
    return sl_model_bind_check(m);
}

static sl_status read_config(const char *dir, sl_hparams *hp, char **json_text)
{
    char *path = join_path(dir, "config.json");
    if (!path) return SL_ERR_NOMEM;
    size_t len = 0;
    sl_status st = sl_read_file(path, json_text, &len);
    sl_json_doc *doc = NULL;
    if (st == SL_OK) st = sl_json_parse(*json_text, len, path, &doc);
    if (st == SL_OK) st = sl_hparams_from_hf_json(hp, sl_json_root(doc), path);
    sl_json_free(doc);
    free(path);
    return st;
}

static sl_status load_weights(sl_model *m, const char *dir)
{
    int64_t cap = 0;
    char *index = join_path(dir, "model.safetensors.index.json");
    char *single = join_path(dir, "model.safetensors");
    sl_status st = SL_OK;
    if (!index || !single) st = SL_ERR_NOMEM;
    else if (file_exists(index)) st = load_index(m, dir, index, &cap);
    else if (file_exists(single)) st = add_file(m, single, &cap);
    else st = sl_fail(SL_ERR_NOT_FOUND, "%s: no model.safetensors or model.safetensors.index.json", dir);
    free(index);
    free(single);
    return st;
}

sl_status sl_model_load_hf(sl_model **out, const char *dir, int n_threads)
{
    *out = NULL;
    sl_hparams hp;
    char *cfg_text = NULL;
    sl_status st = read_config(dir, &hp, &cfg_text);
    if (st != SL_OK) { free(cfg_text); return st; }
    sl_model *m = NULL;
    st = sl_model_alloc(&m, &hp, n_threads);
    if (st != SL_OK) { free(cfg_text); return st; }
    m->config_json = cfg_text;
    free(m->path);
    m->path = sl_strdup(dir);
    if (!m->path) st = SL_ERR_NOMEM;
    if (st == SL_OK) st = load_weights(m, dir);
    if (st == SL_OK) st = bind_roles(m);
    if (st != SL_OK) { sl_model_free(m); return st; }
    *out = m;
    return SL_OK;
}
