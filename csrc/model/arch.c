/* arch.c — the architecture table (see arch.h). */
#include "model/arch.h"

#include <string.h>

#define LLAMA_HF_NAMES                                                      \
    [SL_ROLE_TOK_EMBD] = "model.embed_tokens.weight",                       \
    [SL_ROLE_OUTPUT_NORM] = "model.norm.weight",                            \
    [SL_ROLE_OUTPUT] = "lm_head.weight",                                    \
    [SL_ROLE_WQ] = "model.layers.%d.self_attn.q_proj.weight",               \
    [SL_ROLE_WK] = "model.layers.%d.self_attn.k_proj.weight",               \
    [SL_ROLE_WV] = "model.layers.%d.self_attn.v_proj.weight",               \
    [SL_ROLE_WO] = "model.layers.%d.self_attn.o_proj.weight",               \
    [SL_ROLE_W_GATE] = "model.layers.%d.mlp.gate_proj.weight",              \
    [SL_ROLE_W_UP] = "model.layers.%d.mlp.up_proj.weight",                  \
    [SL_ROLE_W_DOWN] = "model.layers.%d.mlp.down_proj.weight"

#define GGUF_NAMES                                                          \
    [SL_ROLE_TOK_EMBD] = "token_embd.weight",                               \
    [SL_ROLE_OUTPUT_NORM] = "output_norm.weight",                           \
    [SL_ROLE_OUTPUT] = "output.weight",                                     \
    [SL_ROLE_WQ] = "blk.%d.attn_q.weight",                                  \
    [SL_ROLE_WK] = "blk.%d.attn_k.weight",                                  \
    [SL_ROLE_WV] = "blk.%d.attn_v.weight",                                  \
    [SL_ROLE_WO] = "blk.%d.attn_output.weight",                             \
    [SL_ROLE_W_GATE] = "blk.%d.ffn_gate.weight",                            \
    [SL_ROLE_W_UP] = "blk.%d.ffn_up.weight",                                \
    [SL_ROLE_W_DOWN] = "blk.%d.ffn_down.weight"

#define LLAMA_PRE_NORMS                                                     \
    [SL_ROLE_ATTN_NORM] = "model.layers.%d.input_layernorm.weight",         \
    [SL_ROLE_FFN_NORM] = "model.layers.%d.post_attention_layernorm.weight"

#define GGUF_PRE_NORMS                                                      \
    [SL_ROLE_ATTN_NORM] = "blk.%d.attn_norm.weight",                        \
    [SL_ROLE_FFN_NORM] = "blk.%d.ffn_norm.weight"

#define GGUF_POST_NORMS                                                     \
    [SL_ROLE_Q_NORM] = "blk.%d.attn_q_norm.weight",                         \
    [SL_ROLE_K_NORM] = "blk.%d.attn_k_norm.weight",                         \
    [SL_ROLE_POST_ATTN_NORM] = "blk.%d.post_attention_norm.weight",         \
    [SL_ROLE_POST_FFN_NORM] = "blk.%d.post_ffw_norm.weight"

static const sl_arch ARCHS[SL_ARCH_COUNT] = {
    [SL_ARCH_LLAMA] = {
        .name = "llama", .gguf_arch = "llama",
        .hf_classes = {"LlamaForCausalLM"}, .model_types = {"llama"},
        .hf_names = {LLAMA_HF_NAMES, LLAMA_PRE_NORMS},
        .gguf_names = {GGUF_NAMES, GGUF_PRE_NORMS},
    },
    [SL_ARCH_MISTRAL] = {
        .name = "mistral", .gguf_arch = "llama", .sliding_window = true,
        .hf_classes = {"MistralForCausalLM"}, .model_types = {"mistral"},
        .hf_names = {LLAMA_HF_NAMES, LLAMA_PRE_NORMS},
        .gguf_names = {GGUF_NAMES, GGUF_PRE_NORMS},
    },
    [SL_ARCH_EXAONE] = {
        .name = "exaone", .gguf_arch = "exaone", .tie_default = true,
        .hf_classes = {"ExaoneForCausalLM"}, .model_types = {"exaone"},
        .hf_names = {
            [SL_ROLE_TOK_EMBD] = "transformer.wte.weight",
            [SL_ROLE_OUTPUT_NORM] = "transformer.ln_f.weight",
            [SL_ROLE_OUTPUT] = "lm_head.weight",
            [SL_ROLE_ATTN_NORM] = "transformer.h.%d.ln_1.weight",
            [SL_ROLE_WQ] = "transformer.h.%d.attn.attention.q_proj.weight",
            [SL_ROLE_WK] = "transformer.h.%d.attn.attention.k_proj.weight",
            [SL_ROLE_WV] = "transformer.h.%d.attn.attention.v_proj.weight",
            [SL_ROLE_WO] = "transformer.h.%d.attn.attention.out_proj.weight",
            [SL_ROLE_FFN_NORM] = "transformer.h.%d.ln_2.weight",
            [SL_ROLE_W_GATE] = "transformer.h.%d.mlp.c_fc_0.weight",
            [SL_ROLE_W_UP] = "transformer.h.%d.mlp.c_fc_1.weight",
            [SL_ROLE_W_DOWN] = "transformer.h.%d.mlp.c_proj.weight",
        },
        .gguf_names = {GGUF_NAMES, GGUF_PRE_NORMS},
    },
    [SL_ARCH_EXAONE4] = {
        .name = "exaone4", .gguf_arch = "exaone4",
        .post_norm = true, .qk_norm = true, .sliding_window = true, .nope_global = true,
        .hf_classes = {"Exaone4ForCausalLM"}, .model_types = {"exaone4"},
        .hf_names = {
            LLAMA_HF_NAMES,
            [SL_ROLE_Q_NORM] = "model.layers.%d.self_attn.q_norm.weight",
            [SL_ROLE_K_NORM] = "model.layers.%d.self_attn.k_norm.weight",
            [SL_ROLE_POST_ATTN_NORM] = "model.layers.%d.post_attention_layernorm.weight",
            [SL_ROLE_POST_FFN_NORM] = "model.layers.%d.post_feedforward_layernorm.weight",
        },
        .gguf_names = {GGUF_NAMES, GGUF_POST_NORMS},
    },
};

static const char *ROLE_NAMES[SL_ROLE_COUNT] = {
    "tok_embd", "output_norm", "output", "attn_norm", "wq", "wk", "wv", "wo", "q_norm", "k_norm",
    "post_attn_norm", "ffn_norm", "w_gate", "w_up", "w_down", "post_ffn_norm",
};

const sl_arch *sl_arch_get(sl_arch_id id)
{
    return (int)id >= 0 && id < SL_ARCH_COUNT ? &ARCHS[id] : NULL;
}

static bool in_list(const char *const *list, int n, const char *s)
{
    for (int i = 0; i < n && list[i]; i++)
        if (strcmp(list[i], s) == 0) return true;
    return false;
}

int sl_arch_find_hf(const char *hf_class, const char *model_type)
{
    for (int a = 0; a < SL_ARCH_COUNT; a++)
        if (hf_class && in_list(ARCHS[a].hf_classes, 4, hf_class)) return a;
    for (int a = 0; a < SL_ARCH_COUNT; a++)
        if (model_type && in_list(ARCHS[a].model_types, 4, model_type)) return a;
    return -1;
}

int sl_arch_find_name(const char *name)
{
    for (int a = 0; a < SL_ARCH_COUNT; a++)
        if (strcmp(ARCHS[a].name, name) == 0) return a;
    for (int a = 0; a < SL_ARCH_COUNT; a++)
        if (strcmp(ARCHS[a].gguf_arch, name) == 0) return a;
    return -1;
}

const char *sl_role_name(sl_role role) { return (int)role >= 0 && role < SL_ROLE_COUNT ? ROLE_NAMES[role] : "?"; }

bool sl_role_is_norm(sl_role r)
{
    return r == SL_ROLE_OUTPUT_NORM || r == SL_ROLE_ATTN_NORM || r == SL_ROLE_Q_NORM || r == SL_ROLE_K_NORM ||
           r == SL_ROLE_POST_ATTN_NORM || r == SL_ROLE_FFN_NORM || r == SL_ROLE_POST_FFN_NORM;
}

bool sl_role_is_layer(sl_role r) { return r >= SL_ROLE_FIRST_LAYER && r < SL_ROLE_COUNT; }
