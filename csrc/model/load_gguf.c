/* load_gguf.c — load a GGUF model file (as llama.cpp's tools write it): hyper-parameters from
 * `<arch>.*` metadata, tensors bound by the arch table's GGUF names, data used in place.
 * llama.cpp's converter permutes the Q/K rows of "llama" models (Llama, Mistral) for its
 * interleaved RoPE; instead of undoing that, the model rotates interleaved pairs
 * (hp.rope_interleaved). "exaone" / "exaone4" keep HF's row order (NEOX RoPE in llama.cpp). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/gguf.h"
#include "model/model.h"

static sl_status get_arch_int(const sl_gguf *g, const char *arch, const char *key, int64_t *out, bool required)
{
    char full[128];
    snprintf(full, sizeof full, "%s.%s", arch, key);
    sl_status st = sl_gguf_get_int(g, full, out);
    if (st == SL_ERR_NOT_FOUND && !required) { sl_clear_error(); return SL_OK; }
    if (st == SL_ERR_NOT_FOUND) return sl_fail(SL_ERR_FORMAT, "%s: required key '%s' is missing", g->map.path, full);
    return st;
}

static sl_status get_arch_float(const sl_gguf *g, const char *arch, const char *key, double *out)
{
    char full[128];
    snprintf(full, sizeof full, "%s.%s", arch, key);
    sl_status st = sl_gguf_get_float(g, full, out);
    if (st == SL_ERR_NOT_FOUND) { sl_clear_error(); return SL_OK; }
    return st;
}

static sl_status read_sliding(const sl_gguf *g, const char *arch, sl_hparams *hp)
{
    int64_t window = 0, period = 0;
    SL_TRY(get_arch_int(g, arch, "attention.sliding_window", &window, false));
    if (window > 0 && hp->arch == SL_ARCH_LLAMA) hp->arch = SL_ARCH_MISTRAL;   /* Mistral travels as "llama" */
    if (window <= 0 || !sl_arch_get(hp->arch)->sliding_window) return SL_OK;
    hp->sliding_window = window;
    char key[128];
    snprintf(key, sizeof key, "%s.attention.sliding_window_pattern", arch);
    const sl_gguf_value *v = sl_gguf_get_value(g, key);
    if (v && v->type == SL_GGUF_ARR) {   /* llama.cpp's converter: one bool per layer, true = sliding */
        bool numeric = v->elem_type != SL_GGUF_STR && v->elem_type != SL_GGUF_ARR;
        if (!numeric || v->count != (uint64_t)hp->n_layers)
            return sl_fail(SL_ERR_FORMAT, "%s: '%s' at byte %zu is not one flag per layer", g->map.path, key, v->offset);
        for (int64_t i = 0; i < hp->n_layers; i++) hp->layer_sliding[i] = sl_gguf_value_i64(v, (uint64_t)i) != 0;
        return SL_OK;
    }
    SL_TRY(get_arch_int(g, arch, "attention.sliding_window_pattern", &period, false));   /* a period: last is global */
    for (int64_t i = 0; i < hp->n_layers; i++) hp->layer_sliding[i] = period > 0 ? (i + 1) % period != 0 : 1;
    return SL_OK;
}

static sl_status read_hparams(const sl_gguf *g, sl_hparams *hp)
{
    sl_gguf_str s;
    memset(hp, 0, sizeof *hp);
    SL_TRY(sl_gguf_get_str(g, "general.architecture", &s));
    char arch[64];
    if (s.len == 0 || s.len >= sizeof arch) return sl_fail(SL_ERR_FORMAT, "%s: bad general.architecture", g->map.path);
    memcpy(arch, s.ptr, s.len);
    arch[s.len] = '\0';
    int a = sl_arch_find_name(arch);
    if (a < 0) return sl_fail(SL_ERR_UNSUPPORTED, "%s: architecture '%s' is not supported", g->map.path, arch);
    hp->arch = (sl_arch_id)a;
    SL_TRY(get_arch_int(g, arch, "block_count", &hp->n_layers, true));
    SL_TRY(get_arch_int(g, arch, "embedding_length", &hp->n_embd, true));
    SL_TRY(get_arch_int(g, arch, "feed_forward_length", &hp->n_ff, true));
    SL_TRY(get_arch_int(g, arch, "attention.head_count", &hp->n_head, true));
    hp->n_head_kv = hp->n_head;
    SL_TRY(get_arch_int(g, arch, "attention.head_count_kv", &hp->n_head_kv, false));
    hp->head_dim = hp->n_head > 0 ? hp->n_embd / hp->n_head : 0;
    SL_TRY(get_arch_int(g, arch, "attention.key_length", &hp->head_dim, false));
    hp->n_ctx_train = 4096;
    SL_TRY(get_arch_int(g, arch, "context_length", &hp->n_ctx_train, false));
    double eps = 1e-5, theta = 10000.0, factor = 0.0;
    SL_TRY(get_arch_float(g, arch, "attention.layer_norm_rms_epsilon", &eps));
    SL_TRY(get_arch_float(g, arch, "rope.freq_base", &theta));
    SL_TRY(get_arch_float(g, arch, "rope.scaling.factor", &factor));
    hp->rms_eps = (float)eps;
    hp->rope_theta = theta;
    if (factor > 0 && factor != 1.0) { hp->rope_scaling = SL_ROPE_LINEAR; hp->rope_factor = factor; }
    const sl_arch *row = sl_arch_get(hp->arch);
    hp->post_norm = row->post_norm;
    hp->qk_norm = row->qk_norm;
    hp->nope_global = row->nope_global;
    hp->rope_interleaved = strcmp(arch, "llama") == 0;   /* NORM rope in llama.cpp; exaone(4): NEOX */
    hp->bos_token_id = hp->eos_token_id = -1;
    sl_gguf_get_int(g, "tokenizer.ggml.bos_token_id", &hp->bos_token_id);
    sl_gguf_get_int(g, "tokenizer.ggml.eos_token_id", &hp->eos_token_id);
    sl_clear_error();
    const sl_gguf_tensor *emb = sl_gguf_get_tensor(g, "token_embd.weight");
    if (!emb || emb->n_dims != 2) return sl_fail(SL_ERR_FORMAT, "%s: missing tensor 'token_embd.weight'", g->map.path);
    hp->n_vocab = emb->ne[1];
    SL_TRY(read_sliding(g, arch, hp));
    return sl_hparams_validate(hp, g->map.path);
}

static void gguf_free_ext(void *p) { sl_gguf_free(p); }

static sl_status add_tensors(sl_model *m, sl_gguf *g, sl_buffer *b)
{
    m->named = calloc((size_t)(g->n_tensors ? g->n_tensors : 1), sizeof *m->named);
    if (!m->named) return SL_FAIL(SL_ERR_NOMEM, "out of memory");
    for (int64_t i = 0; i < g->n_tensors; i++) {
        const sl_gguf_tensor *s = &g->tensors[i];
        sl_tensor *t = &m->named[m->n_named];
        if (s->n_dims > 2) continue;
        t->name = sl_strdup(s->name);
        if (!t->name) return SL_ERR_NOMEM;
        t->dtype = s->dtype;
        t->n_dims = s->n_dims < 1 ? 1 : s->n_dims;
        if (t->n_dims == 2) { t->shape[0] = s->ne[1]; t->shape[1] = s->ne[0]; }
        else t->shape[0] = s->ne[0];
        t->data = s->data;
        t->nbytes = s->nbytes;
        t->owner = sl_buffer_retain(b);
        m->n_named++;
    }
    return SL_OK;
}

static sl_status bind_gguf_roles(sl_model *m)
{
    const sl_arch *a = sl_arch_get(m->hp.arch);
    char name[256];
    for (int r = 0; r < SL_ROLE_COUNT; r++) {
        if (!a->gguf_names[r]) continue;
        int64_t n = sl_role_is_layer((sl_role)r) ? m->hp.n_layers : 1;
        for (int64_t il = 0; il < n; il++) {
            snprintf(name, sizeof name, a->gguf_names[r], (int)il);
            int64_t k = 0;
            while (k < m->n_named && strcmp(m->named[k].name, name) != 0) k++;
            if (k == m->n_named) {
                if (r == SL_ROLE_OUTPUT) continue;
                return sl_fail(SL_ERR_FORMAT, "%s: missing tensor '%s'", m->path, name);
            }
            SL_TRY(sl_tensor_copy(sl_model_role_slot(m, (sl_role)r, il), &m->named[k], NULL));
        }
    }
    if (!sl_model_role(m, SL_ROLE_OUTPUT, 0)) m->hp.tie_embeddings = true;
    return sl_model_bind_check(m);
}

/* llama3-style RoPE scaling travels as per-frequency divisors in rope_freqs.weight. */
static sl_status apply_rope_freqs(sl_model *m, const sl_gguf *g)
{
    const sl_gguf_tensor *t = sl_gguf_get_tensor(g, "rope_freqs.weight");
    if (!t) return SL_OK;
    if (t->dtype != SL_DTYPE_F32 || t->n_elements != m->hp.head_dim / 2)
        return sl_fail(SL_ERR_FORMAT, "%s: rope_freqs.weight must be f32 with %lld elements", g->map.path,
                       (long long)(m->hp.head_dim / 2));
    for (int64_t i = 0; i < t->n_elements; i++) {
        float f;
        memcpy(&f, (const char *)t->data + 4 * i, 4);
        if (!(f > 0)) return sl_fail(SL_ERR_FORMAT, "%s: rope_freqs.weight[%lld] is not positive", g->map.path, (long long)i);
        m->inv_freq[i] /= f;
    }
    return SL_OK;
}

sl_status sl_model_load_gguf(sl_model **out, const char *path, int n_threads)
{
    *out = NULL;
    sl_gguf *g = NULL;
    SL_TRY(sl_gguf_open(path, &g));
    sl_hparams hp;
    sl_status st = read_hparams(g, &hp);
    if (st != SL_OK) { sl_gguf_free(g); return st; }
    sl_model *m = NULL;
    st = sl_model_alloc(&m, &hp, n_threads);
    if (st != SL_OK) { sl_gguf_free(g); return st; }
    sl_buffer *b = calloc(1, sizeof *b);
    if (!b) { sl_gguf_free(g); sl_model_free(m); return SL_FAIL(SL_ERR_NOMEM, "out of memory"); }
    b->refs = 1; b->ext = g; b->ext_free = gguf_free_ext; b->size = g->map.size;
    free(m->path);
    m->path = sl_strdup(path);
    st = m->path ? add_tensors(m, g, b) : SL_ERR_NOMEM;
    if (st == SL_OK) st = apply_rope_freqs(m, g);
    if (st == SL_OK) st = bind_gguf_roles(m);
    sl_buffer_release(b);
    if (st != SL_OK) { sl_model_free(m); return st; }
    *out = m;
    return SL_OK;
}
