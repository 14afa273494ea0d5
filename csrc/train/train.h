/* train.h — continued pretraining of Llama-family models in f32: the trainer (parameters,
 * gradients, AdamW moments in one slab each), the activations a forward pass saves for the
 * backward pass, and the entry points (forward + backward, loss only, AdamW update).
 *
 * Block types: pre-norm (llama, mistral, exaone: x + attn(norm(x)), x + mlp(norm(x))) and
 * post-norm with per-head Q/K RMSNorm (exaone4: x + norm(attn(x)), x + norm(mlp(x))).
 * Letters: L layers, B batch, S sequence, N = B*S rows, D hidden, H / Hkv heads, Dh head dim,
 * Q = H*Dh, KV = Hkv*Dh, W = Q + 2*KV (fused q|k|v width), F FFN width, V vocabulary. */
#ifndef SL_TRAIN_H
#define SL_TRAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "solar.h"
#include "train/train_gemm.h"

typedef enum sl_train_role {        /* tensor roles, named as in the Model's tensor_roles() */
    SL_TROLE_TOK_EMBD, SL_TROLE_OUTPUT_NORM, SL_TROLE_OUTPUT,
    SL_TROLE_ATTN_NORM, SL_TROLE_WQ, SL_TROLE_WK, SL_TROLE_WV, SL_TROLE_WO,
    SL_TROLE_Q_NORM, SL_TROLE_K_NORM, SL_TROLE_POST_ATTN_NORM, SL_TROLE_FFN_NORM,
    SL_TROLE_W_GATE, SL_TROLE_W_UP, SL_TROLE_W_DOWN, SL_TROLE_POST_FFN_NORM,
    SL_TROLE_COUNT
} sl_train_role;

const char *sl_train_role_name(sl_train_role role);

typedef struct sl_train_hparams {
    int64_t n_layers, n_embd, n_head, n_head_kv, head_dim, n_ff, n_vocab;   /* L D H Hkv Dh F V */
    float rms_eps;
    bool tie_embeddings;   /* output = tok_embd */
    bool post_norm;        /* exaone4 block: post_attn_norm / post_ffn_norm, no attn_norm/ffn_norm */
    bool qk_norm;          /* per-head RMSNorm on q and k before RoPE */
    const int64_t *layer_window;   /* (L) 0: full causal, w: sliding window of w keys; NULL: all full.
                                    * Borrowed for sl_trainer_init only (copied). */
    const uint8_t *layer_rope;     /* (L) 1: RoPE on q, k; 0: none (NoPE); NULL: all RoPE. Same. */
} sl_train_hparams;

/* One trainable tensor: a (rows, cols) block of the slabs at `offset` floats. */
typedef struct sl_train_tensor {
    sl_train_role role;
    int64_t layer;         /* -1 for global tensors */
    int64_t rows, cols;    /* cols == 1 for vectors */
    size_t offset;         /* floats from the start of the slab */
    float decay;           /* weight-decay multiplier (1: decayed, 0: not) */
} sl_train_tensor;

/* Pointers of one layer into a slab (parameters or gradients). wq|wk|wv and w_gate|w_up are
 * adjacent so that each group is one matrix. NULL for roles the block type lacks. */
typedef struct sl_train_layer {
    float *attn_norm;      /* (D) */
    float *wqkv;           /* (W, D): wq (Q, D) then wk (KV, D) then wv (KV, D) */
    float *wo;             /* (D, Q) */
    float *q_norm, *k_norm;               /* (Dh) each */
    float *post_attn_norm, *ffn_norm;     /* (D) */
    float *w_gate_up;      /* (2F, D): w_gate (F, D) then w_up (F, D) */
    float *w_down;         /* (D, F) */
    float *post_ffn_norm;  /* (D) */
} sl_train_layer;

typedef struct sl_train_weights {
    float *tok_embd;       /* (V, D) */
    float *output_norm;    /* (D) */
    float *output;         /* (V, D); == tok_embd when tied */
    sl_train_layer *layers;  /* owned (L) */
} sl_train_weights;

/* Saved activations of one layer for the backward pass (all owned by sl_train_acts.slab). */
typedef struct sl_train_layer_acts {
    float *x_in;           /* (N, D) residual stream entering the layer */
    float *xn1;            /* (N, D) attention input (normed for pre-norm, == x_in for post-norm) */
    float *rstd1;          /* (N) 1/rms of x_in (pre-norm) */
    float *qkv_raw;        /* (N, W) q|k before QK-norm (qk_norm only) */
    float *qk_rstd;        /* (N, H + Hkv) per-head 1/rms of q, k (qk_norm only) */
    float *qkv;            /* (N, W) q, k after norm + RoPE; v */
    float *att;            /* (N, Q) attention output before wo */
    float *lse;            /* (B, H, S) log-sum-exp of each softmax row */
    float *y_attn;         /* (N, D) att @ wo^T before post_attn_norm (post-norm only) */
    float *rstd_pa;        /* (N) (post-norm only) */
    float *x_mid;          /* (N, D) residual stream after attention */
    float *xn2;            /* (N, D) MLP input */
    float *rstd2;          /* (N) (pre-norm) */
    float *gu;             /* (N, 2F) gate | up pre-activation */
    float *act;            /* (N, F) silu(gate) * up */
    float *y_mlp;          /* (N, D) act @ w_down^T before post_ffn_norm (post-norm only) */
    float *rstd_pf;        /* (N) (post-norm only) */
} sl_train_layer_acts;

typedef struct sl_train_acts {
    int64_t B, S, N;
    float *slab;                  /* owned: every buffer below points into it */
    sl_train_layer_acts *layers;  /* owned (L) */
    float *x_out;          /* (N, D) residual stream after the last layer */
    float *rstd_f;         /* (N) */
    float *xf;             /* (N, D) final-normed hidden states */
    float *rope_cos, *rope_sin;   /* (S, Dh/2) */
    int32_t *ids;          /* owned (2, N): inputs then targets */
    /* backward scratch */
    float *dx, *dxn, *dtmp;        /* (N, D) */
    float *dqkv;           /* (N, W) */
    float *datt;           /* (N, Q) */
    float *dgu;            /* (N, 2F) */
    float *dact;           /* (N, F) */
    float *drow;           /* (B, H, S) rowsum(dO * O) */
    float *logits;         /* (NCH, V) one chunk of logits / their gradient */
    int64_t n_chunk;       /* NCH rows per logits chunk */
    float *att_scr;        /* (threads, 2, BR, S) attention score blocks */
} sl_train_acts;

typedef struct sl_trainer {
    sl_train_hparams hp;
    int n_threads;
    sl_train_tensor *tensors;     /* owned (n_tensors), in slab order */
    int64_t n_tensors;
    size_t n_params;              /* floats per slab */
    float *params, *grads, *adam_m, *adam_v;   /* owned slabs (n_params) */
    sl_train_weights w, g;        /* views of params / grads */
    float *inv_freq;              /* owned (Dh/2) RoPE inverse frequencies (scaling applied) */
    int64_t *window;              /* owned (L) per-layer sliding window, 0 = full */
    uint8_t *rope;                /* owned (L) per-layer RoPE flag */
    sl_train_acts acts;           /* sized for the last (B, S) seen */
    sl_tgemm_ws ws;
} sl_trainer;

/* Build a trainer with zeroed parameters (the caller copies weights in through the tensors).
 * inv_freq (Dh/2) is copied. */
sl_status sl_trainer_init(sl_trainer *t, const sl_train_hparams *hp, const float *inv_freq, int n_threads);
void sl_trainer_free(sl_trainer *t);   /* accepts a zeroed or freed trainer */

/* tokens (B, S+1): inputs tokens[:, :S], targets tokens[:, 1:]. Computes the mean cross-entropy
 * over the B*S targets into *loss; when backward, adds grad_scale * d(loss)/d(param) to the
 * gradient slab (gradients accumulate until sl_trainer_zero_grad). */
sl_status sl_trainer_step_fb(sl_trainer *t, const int32_t *tokens, int64_t B, int64_t S, bool backward,
                             float grad_scale, double *loss);
void sl_trainer_zero_grad(sl_trainer *t);
/* Global L2 norm of the gradient slab. */
double sl_trainer_grad_norm(const sl_trainer *t);

typedef struct sl_adamw_opts {
    float lr, beta1, beta2, eps, weight_decay;
    float grad_scale;      /* gradients are multiplied by this first (global-norm clipping) */
    int64_t step;          /* 1-based step number for bias correction */
} sl_adamw_opts;

/* One AdamW update of every parameter from the gradient slab (the slab is left unchanged). */
sl_status sl_trainer_adamw(sl_trainer *t, const sl_adamw_opts *o);

/* ---- pieces shared by the train_*.c files ---- */

sl_status sl_train_acts_ensure(sl_trainer *t, int64_t B, int64_t S);
void sl_train_acts_free(sl_train_acts *a);
sl_status sl_train_forward(sl_trainer *t);
sl_status sl_train_loss(sl_trainer *t, bool backward, float grad_scale, double *loss);
sl_status sl_train_backward(sl_trainer *t);

#endif /* SL_TRAIN_H */
