/* hparams.c — config.json -> sl_hparams: config-key aliases, RoPE settings in either the
 * `rope_theta`/`rope_scaling` or the `rope_parameters` form, sliding-window layer patterns. */
#include "model/hparams.h"

#include <string.h>

#include "runtime/runtime.h"

/* First present integer among aliases. */
static bool get_int_alias(const sl_json *cfg, const char *const *keys, int64_t *out)
{
    for (int i = 0; keys[i]; i++)
        if (sl_json_get_int(cfg, keys[i], out)) return true;
    return false;
}

static bool get_num_alias(const sl_json *cfg, const char *const *keys, double *out)
{
    for (int i = 0; keys[i]; i++)
        if (sl_json_get_num(cfg, keys[i], out)) return true;
    return false;
}

static sl_status require_int(const sl_json *cfg, const char *const *keys, int64_t *out, const char *what)
{
    if (get_int_alias(cfg, keys, out)) return SL_OK;
    return sl_fail(SL_ERR_FORMAT, "%s: required key '%s' is missing or not an integer", what, keys[0]);
}

static sl_status read_rope(sl_hparams *hp, const sl_json *cfg, const char *what)
{
    const sl_json *params = sl_json_get_type(cfg, "rope_parameters", SL_JSON_OBJECT);
    const sl_json *scaling = sl_json_get_type(cfg, "rope_scaling", SL_JSON_OBJECT);
    hp->rope_theta = 10000.0;
    if (!sl_json_get_num(cfg, "rope_theta", &hp->rope_theta) && params)
        sl_json_get_num(params, "rope_theta", &hp->rope_theta);
    const sl_json *s = scaling ? scaling : params;
    hp->rope_scaling = SL_ROPE_NONE;
    if (!s) return SL_OK;
    const char *type = sl_json_get_str(s, "rope_type");
    if (!type) type = sl_json_get_str(s, "type");
    if (!type || strcmp(type, "default") == 0) return SL_OK;
    hp->rope_factor = 1.0;
    sl_json_get_num(s, "factor", &hp->rope_factor);
    if (strcmp(type, "linear") == 0) { hp->rope_scaling = SL_ROPE_LINEAR; return SL_OK; }
    if (strcmp(type, "llama3") == 0) {
        hp->rope_scaling = SL_ROPE_LLAMA3;
        hp->rope_low_freq_factor = 1.0; hp->rope_high_freq_factor = 4.0;
        sl_json_get_num(s, "low_freq_factor", &hp->rope_low_freq_factor);
        sl_json_get_num(s, "high_freq_factor", &hp->rope_high_freq_factor);
        hp->rope_orig_ctx = hp->n_ctx_train;
        sl_json_get_int(s, "original_max_position_embeddings", &hp->rope_orig_ctx);
        if (hp->rope_high_freq_factor == hp->rope_low_freq_factor || hp->rope_factor <= 0)
            return sl_fail(SL_ERR_FORMAT, "%s: invalid llama3 rope scaling parameters", what);
        return SL_OK;
    }
    return sl_fail(SL_ERR_UNSUPPORTED, "%s: RoPE scaling type '%s' is not supported", what, type);
}

/* layer_types list, or an EXAONE 4 sliding_window_pattern (int or "LLLG" string). */
static sl_status read_sliding(sl_hparams *hp, const sl_json *cfg, const char *what)
{
    const sl_arch *arch = sl_arch_get(hp->arch);
    memset(hp->layer_sliding, 0, sizeof hp->layer_sliding);
    hp->sliding_window = 0;
    int64_t w = 0;
    if (!arch->sliding_window || !sl_json_get_int(cfg, "sliding_window", &w) || w <= 0) return SL_OK;
    hp->sliding_window = w;
    const sl_json *types = sl_json_get_type(cfg, "layer_types", SL_JSON_ARRAY);
    if (types) {
        if ((int64_t)types->len != hp->n_layers)
            return sl_fail(SL_ERR_FORMAT, "%s: layer_types has %zu entries for %lld layers", what, types->len,
                           (long long)hp->n_layers);
        for (size_t i = 0; i < types->len; i++) {
            const sl_json *t = &types->items[i];
            if (t->type != SL_JSON_STRING) return sl_fail(SL_ERR_FORMAT, "%s: layer_types[%zu] is not a string", what, i);
            hp->layer_sliding[i] = strcmp(t->str, "sliding_attention") == 0;
        }
        return SL_OK;
    }
    int64_t period = 0;
    const char *pattern = sl_json_get_str(cfg, "sliding_window_pattern");
    if (pattern) {
        size_t n = strlen(pattern);
        for (int64_t i = 0; i < hp->n_layers && n; i++) hp->layer_sliding[i] = pattern[i % n] == 'L';
        return SL_OK;
    }
    if (hp->arch == SL_ARCH_EXAONE4 && sl_json_get_int(cfg, "sliding_window_pattern", &period) && period > 0) {
        for (int64_t i = 0; i < hp->n_layers; i++) hp->layer_sliding[i] = (i + 1) % period != 0;
        return SL_OK;
    }
    for (int64_t i = 0; i < hp->n_layers; i++) hp->layer_sliding[i] = 1;   /* Mistral: every layer */
    return SL_OK;
}

static void read_special_ids(sl_hparams *hp, const sl_json *cfg)
{
    hp->bos_token_id = hp->eos_token_id = -1;
    sl_json_get_int(cfg, "bos_token_id", &hp->bos_token_id);
    if (!sl_json_get_int(cfg, "eos_token_id", &hp->eos_token_id)) {
        const sl_json *e = sl_json_get_type(cfg, "eos_token_id", SL_JSON_ARRAY);
        if (e && e->len > 0 && e->items[0].type == SL_JSON_NUMBER) hp->eos_token_id = e->items[0].i;
    }
}

static sl_status read_activation(const sl_json *cfg, const char *what)
{
    const char *act = sl_json_get_str(cfg, "hidden_act");
    if (!act) act = sl_json_get_str(cfg, "activation_function");
    if (act && strcmp(act, "silu") != 0 && strcmp(act, "swish") != 0)
        return sl_fail(SL_ERR_UNSUPPORTED, "%s: activation '%s' is not supported (only silu)", what, act);
    return SL_OK;
}

static sl_status find_arch(sl_hparams *hp, const sl_json *cfg, const char *what)
{
    const char *hf_class = NULL;
    const sl_json *archs = sl_json_get_type(cfg, "architectures", SL_JSON_ARRAY);
    if (archs && archs->len > 0 && archs->items[0].type == SL_JSON_STRING) hf_class = archs->items[0].str;
    int a = sl_arch_find_hf(hf_class, sl_json_get_str(cfg, "model_type"));
    if (a < 0)
        return sl_fail(SL_ERR_UNSUPPORTED, "%s: architecture '%s' (model_type '%s') is not supported", what,
                       hf_class ? hf_class : "?", sl_json_get_str(cfg, "model_type") ? sl_json_get_str(cfg, "model_type") : "?");
    hp->arch = (sl_arch_id)a;
    return SL_OK;
}

sl_status sl_hparams_from_hf_json(sl_hparams *hp, const sl_json *cfg, const char *what)
{
    static const char *K_LAYERS[] = {"num_hidden_layers", "num_layers", "n_layer", NULL};
    static const char *K_EMBD[] = {"hidden_size", "n_embd", "d_model", NULL};
    static const char *K_HEAD[] = {"num_attention_heads", "n_head", NULL};
    static const char *K_HEAD_KV[] = {"num_key_value_heads", "n_head_kv", NULL};
    static const char *K_FF[] = {"intermediate_size", "n_inner", NULL};
    static const char *K_VOCAB[] = {"vocab_size", NULL};
    static const char *K_CTX[] = {"max_position_embeddings", "n_positions", NULL};
    static const char *K_EPS[] = {"rms_norm_eps", "layer_norm_epsilon", NULL};
    static const char *K_HEAD_DIM[] = {"head_dim", NULL};
    memset(hp, 0, sizeof *hp);
    if (!cfg || cfg->type != SL_JSON_OBJECT) return sl_fail(SL_ERR_FORMAT, "%s: not a JSON object", what);
    SL_TRY(find_arch(hp, cfg, what));
    SL_TRY(read_activation(cfg, what));
    const sl_arch *arch = sl_arch_get(hp->arch);
    SL_TRY(require_int(cfg, K_LAYERS, &hp->n_layers, what));
    SL_TRY(require_int(cfg, K_EMBD, &hp->n_embd, what));
    SL_TRY(require_int(cfg, K_HEAD, &hp->n_head, what));
    SL_TRY(require_int(cfg, K_FF, &hp->n_ff, what));
    SL_TRY(require_int(cfg, K_VOCAB, &hp->n_vocab, what));
    if (!get_int_alias(cfg, K_HEAD_KV, &hp->n_head_kv)) hp->n_head_kv = hp->n_head;
    if (!get_int_alias(cfg, K_HEAD_DIM, &hp->head_dim) && hp->n_head > 0) hp->head_dim = hp->n_embd / hp->n_head;
    if (!get_int_alias(cfg, K_CTX, &hp->n_ctx_train)) hp->n_ctx_train = 4096;
    double eps = 1e-6;
    get_num_alias(cfg, K_EPS, &eps);
    hp->rms_eps = (float)eps;
    bool tie = arch->tie_default;
    sl_json_get_bool(cfg, "tie_word_embeddings", &tie);
    hp->tie_embeddings = tie;
    hp->post_norm = arch->post_norm;
    hp->qk_norm = arch->qk_norm;
    hp->nope_global = arch->nope_global;
    SL_TRY(sl_hparams_validate(hp, what));
    SL_TRY(read_rope(hp, cfg, what));
    SL_TRY(read_sliding(hp, cfg, what));
    read_special_ids(hp, cfg);
    return SL_OK;
}

sl_status sl_hparams_validate(const sl_hparams *hp, const char *what)
{
    const int64_t lim = (int64_t)1 << 24;
    if (hp->n_layers <= 0 || hp->n_layers > SL_MAX_LAYERS)
        return sl_fail(SL_ERR_FORMAT, "%s: number of layers %lld is out of range [1, %d]", what, (long long)hp->n_layers, SL_MAX_LAYERS);
    if (hp->n_embd <= 0 || hp->n_embd > lim || hp->n_ff <= 0 || hp->n_ff > lim * 4 || hp->n_vocab <= 0 ||
        hp->n_vocab > lim * 4)
        return sl_fail(SL_ERR_FORMAT, "%s: hidden/FFN/vocab sizes out of range (%lld, %lld, %lld)", what,
                       (long long)hp->n_embd, (long long)hp->n_ff, (long long)hp->n_vocab);
    if (hp->n_head <= 0 || hp->n_head_kv <= 0 || hp->n_head > 4096 || hp->n_head % hp->n_head_kv != 0)
        return sl_fail(SL_ERR_FORMAT, "%s: %lld attention heads cannot be grouped over %lld key/value heads", what,
                       (long long)hp->n_head, (long long)hp->n_head_kv);
    if (hp->head_dim <= 0 || hp->head_dim % 2 != 0 || hp->head_dim > SL_MAX_HEAD_DIM)
        return sl_fail(SL_ERR_FORMAT, "%s: head_dim %lld must be even and positive", what, (long long)hp->head_dim);
    return SL_OK;
}

bool sl_hparams_layer_rope(const sl_hparams *hp, int64_t il)
{
    if (hp->nope_global && hp->sliding_window > 0) return hp->layer_sliding[il] != 0;
    return true;
}
