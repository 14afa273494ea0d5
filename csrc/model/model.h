/* model.h — the model: hyper-parameters plus tensors bound to roles. Tensor bytes live in
 * reference-counted buffers (a file mapping or a heap block), so a model made by surgery can
 * borrow another model's layers without copying and without dangling. */
#ifndef SL_MODEL_H
#define SL_MODEL_H

#include <stdbool.h>

#include "formats/safetensors.h"
#include "model/arch.h"
#include "model/hparams.h"

typedef struct sl_buffer {
    int refs;                   /* atomic reference count */
    sl_st_file st;              /* owned, when the bytes are a safetensors file */
    void *heap;                 /* owned, when the bytes are our own allocation */
    size_t size;
    bool large;                 /* heap came from sl_alloc_large (huge pages) */
    void *ext;                  /* owned by ext_free, for other file kinds (GGUF) */
    void (*ext_free)(void *);
} sl_buffer;

sl_buffer *sl_buffer_new_heap(size_t bytes);            /* NULL + message on failure */
sl_buffer *sl_buffer_new_large(size_t bytes);           /* huge-page backed, zero-filled; for weights */
bool sl_buffer_is_file(const sl_buffer *b);             /* bytes are a read-only file mapping */
sl_buffer *sl_buffer_retain(sl_buffer *b);
void sl_buffer_release(sl_buffer *b);                    /* accepts NULL */

typedef struct sl_tensor {
    char *name;                 /* owned: the checkpoint's own name */
    int dtype;                  /* sl_dtype */
    int n_dims;
    int64_t shape[SL_MAX_DIMS]; /* NumPy order: (rows, row length) for matrices */
    const void *data;           /* borrowed from owner */
    int layout;                 /* sl_layout: SL_LAYOUT_ROWS (the file's) or a packed compute layout */
    size_t nbytes;
    sl_buffer *owner;           /* retained */
} sl_tensor;

typedef struct sl_model {
    sl_hparams hp;
    char *path;                 /* owned; the folder or file it came from ("" if made in memory) */
    char *config_json;          /* owned raw config.json text, or NULL */
    sl_tensor *named;           /* owned (n_named): every checkpoint tensor, for views */
    int64_t n_named;
    sl_tensor *roles;           /* owned (3 + L * SL_LAYER_ROLES): compute tensors; dtype -1 = absent */
    float *inv_freq;            /* owned (Dh/2): RoPE inverse frequencies after scaling */
    int n_threads;
    bool fixed_threads;         /* false: the forward may run with 1 thread when that is measured faster */
} sl_model;

/* Role tensor of layer il (il ignored for global roles). NULL when absent. */
const sl_tensor *sl_model_role(const sl_model *m, sl_role role, int64_t il);
sl_tensor *sl_model_role_mut(sl_model *m, sl_role role, int64_t il);
/* The record slot of a role, present or not (for binding). */
sl_tensor *sl_model_role_slot(sl_model *m, sl_role role, int64_t il);

/* Allocate an empty model for hp (role tables sized, RoPE computed). */
sl_status sl_model_alloc(sl_model **out, const sl_hparams *hp, int n_threads);
void sl_model_free(sl_model *m);                                /* accepts NULL */
/* Copy a tensor record (retaining its owner, duplicating its name). */
sl_status sl_tensor_copy(sl_tensor *dst, const sl_tensor *src, const char *new_name);
void sl_tensor_clear(sl_tensor *t);
/* Check shapes of every role against hp; convert norms to f32 (owned). */
sl_status sl_model_bind_check(sl_model *m);

/* Load an HF folder (config.json + model.safetensors or a sharded index). */
sl_status sl_model_load_hf(sl_model **out, const char *dir, int n_threads);
/* Load a GGUF file. */
sl_status sl_model_load_gguf(sl_model **out, const char *path, int n_threads);

/* Convert every weight matrix to dtype (-1: same type, aligned anonymous copy); the model
 * stops referencing its files. */
sl_status sl_model_convert(sl_model *m, int dtype);
/* Give the weight matrices that have X8 kernels a packed compute copy (pack.c); run after any
 * conversion. Idempotent. */
sl_status sl_model_pack(sl_model *m);

void sl_rope_inv_freq(const sl_hparams *hp, float *inv_freq);

#endif /* SL_MODEL_H */
