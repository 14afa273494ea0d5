/* pack.c — the compute copies of a model's weight matrices, in huge pages, pointed at by the role
 * records: in the X8 layout (kernels.h, quant/pack_x8.c) for the types with X8 kernels (q4_0, q8_0,
 * q4_K, q6_K, f32, f16, bf16), and for the others (q5_K) read from a file mapping, the same rows
 * copied. Measured on this class of machine (benchmarks/bench_decode.py, notes on issue 6): the X8
 * decode kernels stream weights 1.4-1.7x faster than the file's layout (f16: TinyLlama tg128 1 / 2
 * threads 11.7 / 21.9 -> 16.4 / 28.0 tok/s), and anonymous huge pages beat the file mapping
 * (TinyLlama f16 decode, 1 / 2 threads: 17.7 / 27.4 GB/s from the mapping, 21.2 / 30.5 copied).
 *
 * Never two touched copies, one matrix at a time: a matrix read from a file mapping stays there
 * for the checkpoint's zero-copy views, but its pages are dropped from the process once packed (a
 * view faults them back from the page cache); a matrix in our own heap (converted or copied at
 * load) is replaced everywhere, checkpoint records included, and its old buffer freed. */
#include <string.h>

#include "kernels/kernels.h"
#include "model/model.h"
#include "quant/pack_x8.h"
#include "runtime/dtype.h"

static const sl_role MATMUL_ROLES[] = {SL_ROLE_WQ, SL_ROLE_WK, SL_ROLE_WV, SL_ROLE_WO, SL_ROLE_W_GATE,
                                       SL_ROLE_W_UP, SL_ROLE_W_DOWN, SL_ROLE_OUTPUT, SL_ROLE_TOK_EMBD};
#define N_MATMUL_ROLES (sizeof MATMUL_ROLES / sizeof MATMUL_ROLES[0])

/* The record of a role the kernels multiply with: the token embedding only when it is also the LM
 * head (tied: 16-20% of the weights of EXAONE 3.5 2.4B / 4.0 1.2B, read once per token); an
 * untied one is only looked up, a row per token, and stays as loaded. */
static sl_tensor *matrix_role(sl_model *m, sl_role r, int64_t il)
{
    if (r == SL_ROLE_TOK_EMBD && sl_model_role(m, SL_ROLE_OUTPUT, 0)) return NULL;
    return sl_model_role_mut(m, r, il);
}

/* A matrix gets the X8 layout when its type has X8 kernels here. */
static bool x8_able(const sl_tensor *t)
{
    return t->shape[0] >= 8 && sl_pack_x8_supported(t->dtype) && sl_k->gemm_x8[t->dtype] &&
           t->shape[1] % sl_pack_x8_block_elems(t->dtype) == 0;
}

/* X8-able, or read from a file mapping (then copied as it is). */
static bool packable(const sl_tensor *t)
{
    return t && t->dtype >= 0 && t->n_dims == 2 && t->layout == SL_LAYOUT_ROWS &&
           (x8_able(t) || sl_buffer_is_file(t->owner));
}

/* Pack t's rows into dst (X8, or copied as they are when x8 is false); threads take runs of 64
 * groups (the last run also takes the tail). */
static void pack_rows(const sl_tensor *t, bool x8, uint8_t *dst, int n_threads)
{
    const int64_t N = t->shape[0], K = t->shape[1], groups = N / 8, run = 64;
    const size_t row = sl_dtype_row_bytes(t->dtype, K);
    const int64_t n_runs = (groups + run - 1) / run;
    #pragma omp parallel for schedule(dynamic, 1) num_threads(n_threads) if (n_runs > 1)
    for (int64_t i = 0; i < n_runs; i++) {
        const int64_t r0 = i * run * 8, r1 = i == n_runs - 1 ? N : r0 + run * 8;
        const uint8_t *src = (const uint8_t *)t->data + (size_t)r0 * row;
        if (x8) sl_pack_x8(t->dtype, src, row, r1 - r0, K, dst + (size_t)r0 * row);
        else memcpy(dst + (size_t)r0 * row, src, (size_t)(r1 - r0) * row);
    }
}

static void rebind_packed(sl_tensor *t, sl_buffer *b, const void *data, sl_layout layout)
{
    sl_buffer_release(t->owner);
    t->owner = sl_buffer_retain(b);
    t->data = data;
    t->layout = layout;
}

/* Every record holding the bytes at old follows them to their packed copy: the roles (a DUS model
 * may hold a layer twice), and for heap bytes the checkpoint records too, so the old buffer is
 * freed now rather than after the whole model is packed. */
static void rebind_all(sl_model *m, const void *old, sl_buffer *b, const void *data, sl_layout layout,
                       bool named_too)
{
    int64_t n_roles = SL_ROLE_FIRST_LAYER + m->hp.n_layers * SL_LAYER_ROLES;
    for (int64_t i = 0; i < n_roles; i++)
        if (m->roles[i].dtype >= 0 && m->roles[i].data == old) rebind_packed(&m->roles[i], b, data, layout);
    for (int64_t i = 0; named_too && i < m->n_named; i++)
        if (m->named[i].data == old && m->named[i].layout == SL_LAYOUT_ROWS) rebind_packed(&m->named[i], b, data, layout);
}

/* Calls fn(m, t, ctx) on every packable role record, each matrix once (first record holding it). */
typedef sl_status (*matrix_fn)(sl_model *m, sl_tensor *t, void *ctx);

static bool seen_before(sl_model *m, size_t r_end, int64_t il_end, const void *data)
{
    for (size_t r = 0; r <= r_end; r++) {
        int64_t n = sl_role_is_layer(MATMUL_ROLES[r]) ? m->hp.n_layers : 1;
        for (int64_t il = 0; il < n && (r < r_end || il < il_end); il++) {
            const sl_tensor *t = matrix_role(m, MATMUL_ROLES[r], il);
            if (t && t->data == data) return true;
        }
    }
    return false;
}

static sl_status each_matrix(sl_model *m, matrix_fn fn, void *ctx)
{
    for (size_t r = 0; r < N_MATMUL_ROLES; r++) {
        int64_t n = sl_role_is_layer(MATMUL_ROLES[r]) ? m->hp.n_layers : 1;
        for (int64_t il = 0; il < n; il++) {
            sl_tensor *t = matrix_role(m, MATMUL_ROLES[r], il);
            if (packable(t) && !seen_before(m, r, il, t->data)) SL_TRY(fn(m, t, ctx));
        }
    }
    return SL_OK;
}

static size_t aligned(size_t n) { return (n + SL_ALIGN - 1) & ~(size_t)(SL_ALIGN - 1); }

static sl_status add_size(sl_model *m, sl_tensor *t, void *ctx)
{
    (void)m;
    size_t *total = ctx;
    if (!sl_add_ok(*total, aligned(t->nbytes), total)) return SL_FAIL(SL_ERR_ARG, "packed weights overflow");
    return SL_OK;
}

typedef struct pack_cursor {
    sl_buffer *b;          /* borrowed: one huge-page buffer for every packed matrix (little padding) */
    size_t at;             /* next free byte */
} pack_cursor;

static sl_status pack_matrix(sl_model *m, sl_tensor *t, void *ctx)
{
    pack_cursor *c = ctx;
    const void *old = t->data;
    size_t bytes = t->nbytes;
    bool from_file = sl_buffer_is_file(t->owner), x8 = x8_able(t);
    uint8_t *dst = (uint8_t *)c->b->heap + c->at;
    pack_rows(t, x8, dst, m->n_threads);
    c->at += aligned(bytes);
    if (from_file) sl_mapping_forget(old, bytes);
    rebind_all(m, old, c->b, dst, x8 ? SL_LAYOUT_X8 : SL_LAYOUT_ROWS, !from_file);
    return SL_OK;
}

sl_status sl_model_pack(sl_model *m)
{
    size_t total = 0;
    SL_TRY(each_matrix(m, add_size, &total));
    if (total == 0) return SL_OK;
    pack_cursor c = {sl_buffer_new_large(total), 0};
    if (!c.b) return SL_ERR_NOMEM;
    sl_status st = each_matrix(m, pack_matrix, &c);
    sl_buffer_release(c.b);
    return st;
}
