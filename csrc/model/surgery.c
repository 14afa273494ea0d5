/* surgery.c — passthrough layer stacking (see surgery.h). Tensor records are copied with
 * their owners retained, so the new model shares the sources' memory and outlives them. */
#include "model/surgery.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool same_shape(const sl_hparams *a, const sl_hparams *b)
{
    return a->arch == b->arch && a->n_embd == b->n_embd && a->n_head == b->n_head && a->n_head_kv == b->n_head_kv &&
           a->head_dim == b->head_dim && a->n_ff == b->n_ff && a->n_vocab == b->n_vocab &&
           a->post_norm == b->post_norm && a->qk_norm == b->qk_norm && a->rope_interleaved == b->rope_interleaved;
}

static sl_status check_slices(const sl_layer_slice *slices, int64_t n, int64_t *total)
{
    if (n <= 0) return SL_FAIL(SL_ERR_ARG, "no slices given");
    *total = 0;
    for (int64_t i = 0; i < n; i++) {
        const sl_layer_slice *s = &slices[i];
        if (!s->model) return SL_FAIL(SL_ERR_ARG, "slice %lld has no model", (long long)i);
        if (s->start < 0 || s->end > s->model->hp.n_layers || s->start >= s->end)
            return SL_FAIL(SL_ERR_ARG, "slice %lld [%lld, %lld) is empty or outside the model's %lld layers", (long long)i,
                           (long long)s->start, (long long)s->end, (long long)s->model->hp.n_layers);
        if (!same_shape(&s->model->hp, &slices[0].model->hp))
            return SL_FAIL(SL_ERR_ARG, "slice %lld: its model's architecture or shapes differ from slice 0's", (long long)i);
        *total += s->end - s->start;
    }
    if (*total > SL_MAX_LAYERS) return SL_FAIL(SL_ERR_ARG, "%lld layers is more than the limit %d", (long long)*total, SL_MAX_LAYERS);
    return SL_OK;
}

/* The number in a name's layer component ("...layers.12." / "...h.12." / "blk.12."). */
static bool layer_name_parts(const char *name, int64_t layer, const char **num_at, size_t *num_len)
{
    char needle[32];
    int n = snprintf(needle, sizeof needle, ".%lld.", (long long)layer);
    const char *p = strstr(name, needle);
    if (!p) return false;
    *num_at = p + 1;
    *num_len = (size_t)n - 2;
    return true;
}

static sl_status rename_layer(const char *name, int64_t from, int64_t to, char *out, size_t cap)
{
    const char *at;
    size_t len;
    if (!layer_name_parts(name, from, &at, &len)) return SL_FAIL(SL_ERR_INTERNAL, "tensor '%s' has no layer %lld in its name", name, (long long)from);
    int n = snprintf(out, cap, "%.*s%lld%s", (int)(at - name), name, (long long)to, at + len);
    return n > 0 && (size_t)n < cap ? SL_OK : SL_FAIL(SL_ERR_ARG, "tensor name too long: '%s'", name);
}

static sl_status push_named(sl_model *m, int64_t *cap, const sl_tensor *t, const char *name)
{
    if (m->n_named == *cap) {
        int64_t nc = *cap ? *cap * 2 : 64;
        sl_tensor *n = realloc(m->named, (size_t)nc * sizeof *n);
        if (!n) return SL_FAIL(SL_ERR_NOMEM, "out of memory");
        m->named = n;
        *cap = nc;
    }
    SL_TRY(sl_tensor_copy(&m->named[m->n_named], t, name));
    m->n_named++;
    return SL_OK;
}

/* Roles and checkpoint tensors of source layer `src` of `from` become layer `dst` of m. */
static sl_status copy_layer(sl_model *m, int64_t *cap, const sl_model *from, int64_t src, int64_t dst)
{
    char name[512];
    for (int r = SL_ROLE_FIRST_LAYER; r < SL_ROLE_COUNT; r++) {
        const sl_tensor *t = sl_model_role(from, (sl_role)r, src);
        if (!t) continue;
        SL_TRY(rename_layer(t->name, src, dst, name, sizeof name));
        SL_TRY(sl_tensor_copy(sl_model_role_slot(m, (sl_role)r, dst), t, name));
    }
    for (int64_t i = 0; i < from->n_named; i++) {
        const sl_tensor *t = &from->named[i];
        const char *at;
        size_t len;
        bool of_layer = false;
        for (int r = SL_ROLE_FIRST_LAYER; r < SL_ROLE_COUNT && !of_layer; r++) {
            const sl_tensor *rt = sl_model_role(from, (sl_role)r, src);
            of_layer = rt && strcmp(rt->name, t->name) == 0;
        }
        if (!of_layer || !layer_name_parts(t->name, src, &at, &len)) continue;
        SL_TRY(rename_layer(t->name, src, dst, name, sizeof name));
        SL_TRY(push_named(m, cap, t, name));
    }
    return SL_OK;
}

static sl_status copy_globals(sl_model *m, int64_t *cap, const sl_model *from)
{
    for (int r = 0; r < SL_ROLE_FIRST_LAYER; r++) {
        const sl_tensor *t = sl_model_role(from, (sl_role)r, 0);
        if (t) SL_TRY(sl_tensor_copy(sl_model_role_slot(m, (sl_role)r, 0), t, NULL));
    }
    for (int64_t i = 0; i < from->n_named; i++) {
        bool global = false;
        for (int r = 0; r < SL_ROLE_FIRST_LAYER && !global; r++) {
            const sl_tensor *t = sl_model_role(from, (sl_role)r, 0);
            global = t && strcmp(t->name, from->named[i].name) == 0;
        }
        if (global) SL_TRY(push_named(m, cap, &from->named[i], NULL));
    }
    return SL_OK;
}

sl_status sl_model_passthrough(sl_model **out, const sl_layer_slice *slices, int64_t n_slices, int n_threads)
{
    *out = NULL;
    int64_t total = 0;
    SL_TRY(check_slices(slices, n_slices, &total));
    sl_hparams hp = slices[0].model->hp;
    hp.n_layers = total;
    memset(hp.layer_sliding, 0, sizeof hp.layer_sliding);
    int64_t dst = 0;
    for (int64_t i = 0; i < n_slices; i++)
        for (int64_t l = slices[i].start; l < slices[i].end; l++) hp.layer_sliding[dst++] = slices[i].model->hp.layer_sliding[l];
    sl_model *m = NULL;
    SL_TRY(sl_model_alloc(&m, &hp, n_threads));
    int64_t cap = 0;
    sl_status st = copy_globals(m, &cap, slices[0].model);
    dst = 0;
    for (int64_t i = 0; st == SL_OK && i < n_slices; i++)
        for (int64_t l = slices[i].start; st == SL_OK && l < slices[i].end; l++)
            st = copy_layer(m, &cap, slices[i].model, l, dst++);
    if (st == SL_OK && slices[0].model->config_json) {
        m->config_json = sl_strdup(slices[0].model->config_json);
        if (!m->config_json) st = SL_ERR_NOMEM;
    }
    if (st != SL_OK) { sl_model_free(m); return st; }
    *out = m;
    return SL_OK;
}
