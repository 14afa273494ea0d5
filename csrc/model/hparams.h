/* hparams.h — normalised hyper-parameters of a model, read from config.json (HF) or GGUF
 * metadata. Every architecture fills the same struct. */
#ifndef SL_HPARAMS_H
#define SL_HPARAMS_H

#include <stdbool.h>
#include <stdint.h>

#include "formats/json.h"
#include "model/arch.h"
#include "solar.h"

typedef enum sl_rope_scaling { SL_ROPE_NONE = 0, SL_ROPE_LINEAR = 1, SL_ROPE_LLAMA3 = 2 } sl_rope_scaling;

#define SL_MAX_LAYERS 1024
#define SL_MAX_HEAD_DIM 1024

typedef struct sl_hparams {
    sl_arch_id arch;
    int64_t n_layers;        /* L */
    int64_t n_embd;          /* D */
    int64_t n_head;          /* H */
    int64_t n_head_kv;       /* Hkv */
    int64_t head_dim;        /* Dh */
    int64_t n_ff;            /* F */
    int64_t n_vocab;         /* V */
    int64_t n_ctx_train;
    float rms_eps;
    double rope_theta;
    sl_rope_scaling rope_scaling;
    double rope_factor, rope_low_freq_factor, rope_high_freq_factor;
    int64_t rope_orig_ctx;
    bool rope_interleaved;   /* GGUF llama layout: rotate pairs (2i, 2i+1) instead of (i, i+Dh/2) */
    int64_t sliding_window;  /* 0: none */
    uint8_t layer_sliding[SL_MAX_LAYERS];  /* 1: this layer uses the sliding window */
    bool tie_embeddings;
    bool post_norm, qk_norm, nope_global;
    int64_t bos_token_id, eos_token_id;     /* -1 when unknown */
} sl_hparams;

/* Fill hp from a parsed config.json; `what` names the file in messages. */
sl_status sl_hparams_from_hf_json(sl_hparams *hp, const sl_json *cfg, const char *what);
/* Check consistency (positive sizes, H % Hkv == 0, layer count limits...). */
sl_status sl_hparams_validate(const sl_hparams *hp, const char *what);
/* Whether layer il applies RoPE. */
bool sl_hparams_layer_rope(const sl_hparams *hp, int64_t il);

#endif /* SL_HPARAMS_H */
