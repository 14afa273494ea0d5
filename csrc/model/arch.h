/* arch.h — architectures as data: one table row per architecture with its tensor-name
 * templates (HF and GGUF), config-key aliases and block flags. One forward pass reads the
 * flags; nothing else in the core switches on the architecture. */
#ifndef SL_ARCH_H
#define SL_ARCH_H

#include <stdbool.h>

typedef enum sl_arch_id {      /* append-only */
    SL_ARCH_LLAMA = 0,
    SL_ARCH_MISTRAL = 1,
    SL_ARCH_EXAONE = 2,
    SL_ARCH_EXAONE4 = 3,
    SL_ARCH_COUNT
} sl_arch_id;

typedef enum sl_role {         /* tensor roles; global first, then per layer. Append-only. */
    SL_ROLE_TOK_EMBD = 0,      /* (V, D) */
    SL_ROLE_OUTPUT_NORM,       /* (D) */
    SL_ROLE_OUTPUT,            /* (V, D), absent when tied */
    SL_ROLE_ATTN_NORM,         /* (D)         first per-layer role */
    SL_ROLE_WQ,                /* (H*Dh, D) */
    SL_ROLE_WK,                /* (Hkv*Dh, D) */
    SL_ROLE_WV,                /* (Hkv*Dh, D) */
    SL_ROLE_WO,                /* (D, H*Dh) */
    SL_ROLE_Q_NORM,            /* (Dh) */
    SL_ROLE_K_NORM,            /* (Dh) */
    SL_ROLE_POST_ATTN_NORM,    /* (D) */
    SL_ROLE_FFN_NORM,          /* (D) */
    SL_ROLE_W_GATE,            /* (F, D) */
    SL_ROLE_W_UP,              /* (F, D) */
    SL_ROLE_W_DOWN,            /* (D, F) */
    SL_ROLE_POST_FFN_NORM,     /* (D) */
    SL_ROLE_COUNT
} sl_role;

#define SL_ROLE_FIRST_LAYER SL_ROLE_ATTN_NORM
#define SL_LAYER_ROLES (SL_ROLE_COUNT - SL_ROLE_FIRST_LAYER)

typedef struct sl_arch {
    const char *name;                       /* "llama" */
    const char *hf_classes[4];              /* architectures[] values that select this row */
    const char *model_types[4];             /* config "model_type" values */
    const char *hf_names[SL_ROLE_COUNT];    /* HF tensor names; "%d" = layer; NULL = unused */
    const char *gguf_names[SL_ROLE_COUNT];  /* GGUF tensor names */
    const char *gguf_arch;                  /* general.architecture in GGUF */
    bool post_norm;          /* norm after attention / FFN (EXAONE 4) instead of before */
    bool qk_norm;            /* per-head RMSNorm on q and k */
    bool sliding_window;     /* honours config sliding_window */
    bool nope_global;        /* with a sliding window: full-attention layers skip RoPE */
    bool tie_default;        /* tie_word_embeddings when the config does not say */
} sl_arch;

const sl_arch *sl_arch_get(sl_arch_id id);
/* Find a row from config.json's architectures[0] or model_type; -1 if unknown. */
int sl_arch_find_hf(const char *hf_class, const char *model_type);
int sl_arch_find_name(const char *name);           /* "llama", ... or GGUF arch; -1 */
const char *sl_role_name(sl_role role);            /* "wq", "attn_norm", ... */
bool sl_role_is_norm(sl_role role);
bool sl_role_is_layer(sl_role role);

#endif /* SL_ARCH_H */
