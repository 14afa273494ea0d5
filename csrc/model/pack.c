/* pack.c — the compute copies of a model's weight matrices in the X8 layout (kernels.h,
 * quant/pack_x8.c): one huge-page buffer holds every packed matrix, and the role records point
 * at it. Measured on this class of machine (benchmarks/bench_decode.py, notes on issue 6): the
 * X8 decode kernels stream weights 1.4-1.7x faster than the file's layout, and anonymous huge
 * pages beat the file mapping.
 *
 * Never two touched copies: a matrix read from a file mapping stays there for the checkpoint's
 * zero-copy views, but its pages are dropped from the process once packed (a view faults them
 * back from the page cache); a matrix in our own heap (converted at load) is replaced everywhere,
 * checkpoint records included, and its old buffer freed. */
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "model/model.h"
#include "quant/pack_x8.h"
#include "runtime/dtype.h"

static const sl_role MATMUL_ROLES[] = {SL_ROLE_WQ, SL_ROLE_WK, SL_ROLE_WV, SL_ROLE_WO, SL_ROLE_W_GATE,
                                       SL_ROLE_W_UP, SL_ROLE_W_DOWN, SL_ROLE_OUTPUT};
#define N_MATMUL_ROLES (sizeof MATMUL_ROLES / sizeof MATMUL_ROLES[0])

static bool packable(const sl_tensor *t)
{
    return t && t->dtype >= 0 && t->n_dims == 2 && t->layout == SL_LAYOUT_ROWS && t->shape[0] >= 8 &&
           sl_pack_x8_supported(t->dtype) && sl_k->gemm_x8[t->dtype] &&
           t->shape[1] % sl_dtype_block_size(t->dtype) == 0;
}

/* The packable role records, each distinct matrix once (a DUS model may hold a layer twice). */
typedef struct pack_plan {
    sl_tensor **roles;     /* owned array of borrowed records: every record to rebind */
    int64_t *slot;         /* owned: index of the record's matrix in the distinct list */
    int64_t n_roles;
    const sl_tensor **distinct;   /* owned array of borrowed records, one per matrix */
    size_t *offset;        /* owned: byte offset of each distinct matrix in the packed buffer */
    int64_t n_distinct;
    size_t total;
} pack_plan;

static void plan_free(pack_plan *p)
{
    free(p->roles); free(p->slot); free(p->distinct); free(p->offset);
    memset(p, 0, sizeof *p);
}

static sl_status plan_add(pack_plan *p, sl_tensor *t)
{
    int64_t j = 0;
    while (j < p->n_distinct && p->distinct[j]->data != t->data) j++;
    if (j == p->n_distinct) {
        size_t at = (p->total + SL_ALIGN - 1) & ~(size_t)(SL_ALIGN - 1);
        if (!sl_add_ok(at, t->nbytes, &p->total)) return SL_FAIL(SL_ERR_ARG, "packed weights overflow");
        p->distinct[j] = t;
        p->offset[j] = at;
        p->n_distinct++;
    }
    p->roles[p->n_roles] = t;
    p->slot[p->n_roles++] = j;
    return SL_OK;
}

static sl_status plan_init(pack_plan *p, sl_model *m)
{
    memset(p, 0, sizeof *p);
    int64_t cap = (int64_t)N_MATMUL_ROLES * (m->hp.n_layers + 1);
    p->roles = calloc((size_t)cap, sizeof *p->roles);
    p->slot = calloc((size_t)cap, sizeof *p->slot);
    p->distinct = calloc((size_t)cap, sizeof *p->distinct);
    p->offset = calloc((size_t)cap, sizeof *p->offset);
    if (!p->roles || !p->slot || !p->distinct || !p->offset) { plan_free(p); return SL_FAIL(SL_ERR_NOMEM, "out of memory"); }
    for (size_t r = 0; r < N_MATMUL_ROLES; r++) {
        int64_t n = sl_role_is_layer(MATMUL_ROLES[r]) ? m->hp.n_layers : 1;
        for (int64_t il = 0; il < n; il++) {
            sl_tensor *t = sl_model_role_mut(m, MATMUL_ROLES[r], il);
            if (!packable(t)) continue;
            sl_status st = plan_add(p, t);
            if (st != SL_OK) { plan_free(p); return st; }
        }
    }
    return SL_OK;
}

static void rebind_packed(sl_tensor *t, sl_buffer *b, const void *data)
{
    sl_buffer_release(t->owner);
    t->owner = sl_buffer_retain(b);
    t->data = data;
    t->layout = SL_LAYOUT_X8;
}

/* Pack every distinct matrix of the plan into b (threads split the matrices). */
static void pack_all(const pack_plan *p, sl_buffer *b, int n_threads)
{
    #pragma omp parallel for schedule(dynamic, 1) num_threads(n_threads)
    for (int64_t j = 0; j < p->n_distinct; j++) {
        const sl_tensor *t = p->distinct[j];
        size_t row = sl_dtype_row_bytes(t->dtype, t->shape[1]);
        sl_pack_x8(t->dtype, t->data, row, t->shape[0], t->shape[1], (uint8_t *)b->heap + p->offset[j]);
    }
}

sl_status sl_model_pack(sl_model *m)
{
    pack_plan p;
    SL_TRY(plan_init(&p, m));
    if (p.n_distinct == 0) { plan_free(&p); return SL_OK; }
    sl_buffer *b = sl_buffer_new_large(p.total);
    if (!b) { plan_free(&p); return SL_ERR_NOMEM; }
    pack_all(&p, b, m->n_threads);
    for (int64_t j = 0; j < p.n_distinct; j++) {        /* records elsewhere that share the bytes */
        const sl_tensor *t = p.distinct[j];
        const void *old = t->data, *packed = (uint8_t *)b->heap + p.offset[j];
        if (sl_buffer_is_file(t->owner)) { sl_mapping_forget(old, t->nbytes); continue; }
        for (int64_t i = 0; i < m->n_named; i++)
            if (m->named[i].data == old && m->named[i].layout == SL_LAYOUT_ROWS) rebind_packed(&m->named[i], b, packed);
    }
    for (int64_t i = 0; i < p.n_roles; i++) rebind_packed(p.roles[i], b, (uint8_t *)b->heap + p.offset[p.slot[i]]);
    sl_buffer_release(b);
    plan_free(&p);
    return SL_OK;
}
