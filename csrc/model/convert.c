/* convert.c — convert a model's weights at load: to another element type (f16, bf16, q8_0, ...)
 * or into aligned anonymous memory in the same type. The model then owns its new buffers and
 * drops its references to the file, so no two touched copies are kept. */
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "model/model.h"
#include "runtime/dtype.h"

/* Matrices take the target type; vectors (norms) become f32; the embedding too unless it can
 * be read row by row in the target type. */
static int target_type(const sl_tensor *t, int dtype)
{
    if (t->n_dims != 2) return SL_DTYPE_F32;
    if (dtype < 0) return t->dtype;
    if (t->shape[1] % sl_dtype_block_size(dtype) != 0) return t->dtype;   /* keep rows the block cannot tile */
    return dtype;
}

static sl_status convert_tensor(sl_tensor *t, int to, int n_threads, sl_buffer **out)
{
    int64_t rows = t->n_dims == 2 ? t->shape[0] : 1, cols = t->shape[t->n_dims - 1];
    size_t src_row = sl_dtype_row_bytes(t->dtype, cols), dst_row = sl_dtype_row_bytes(to, cols), total;
    sl_to_float_fn to_f = sl_k->to_float[t->dtype];
    sl_from_float_fn from_f = sl_k->from_float[to];
    if (t->layout != SL_LAYOUT_ROWS)
        return SL_FAIL(SL_ERR_UNSUPPORTED, "tensor '%s' is packed for the kernels; convert before packing", t->name);
    if (!to_f || !from_f || !dst_row)
        return SL_FAIL(SL_ERR_UNSUPPORTED, "cannot convert tensor '%s' from %s to %s", t->name, sl_dtype_name(t->dtype),
                       sl_dtype_name(to));
    if (!sl_mul_ok(dst_row, (size_t)rows, &total)) return SL_FAIL(SL_ERR_ARG, "tensor '%s' is too large", t->name);
    sl_buffer *b = sl_buffer_new_large(total);
    if (!b) return SL_ERR_NOMEM;
    if (t->dtype == to) {                    /* an aligned copy: the bytes as they are */
        #pragma omp parallel for schedule(static) num_threads(n_threads)
        for (int64_t r = 0; r < rows; r++)
            memcpy((char *)b->heap + (size_t)r * dst_row, (const char *)t->data + (size_t)r * src_row, dst_row);
        *out = b;
        return SL_OK;
    }
    int failed = 0;
    #pragma omp parallel num_threads(n_threads)
    {
        float *tmp = malloc((size_t)cols * sizeof(float));
        if (!tmp) failed = 1;
        #pragma omp for schedule(static)
        for (int64_t r = 0; r < rows; r++) {
            if (!tmp) continue;
            to_f(cols, (const char *)t->data + (size_t)r * src_row, tmp);
            from_f(cols, tmp, (char *)b->heap + (size_t)r * dst_row);
        }
        free(tmp);
    }
    if (failed) { sl_buffer_release(b); return SL_FAIL(SL_ERR_NOMEM, "out of memory converting '%s'", t->name); }
    *out = b;
    return SL_OK;
}

static void rebind(sl_tensor *t, sl_buffer *b, int to)
{
    int64_t cols = t->shape[t->n_dims - 1];
    int64_t rows = t->n_dims == 2 ? t->shape[0] : 1;
    sl_buffer_release(t->owner);
    t->owner = sl_buffer_retain(b);
    t->data = b->heap;
    t->dtype = to;
    t->layout = SL_LAYOUT_ROWS;
    t->nbytes = sl_dtype_row_bytes(to, cols) * (size_t)rows;
}

/* Every role record that points at the same bytes as `old` follows it to the new buffer. */
static void rebind_roles(sl_model *m, const void *old, sl_buffer *b, int to)
{
    int64_t n_roles = SL_ROLE_FIRST_LAYER + m->hp.n_layers * SL_LAYER_ROLES;
    for (int64_t i = 0; i < n_roles; i++)
        if (m->roles[i].dtype >= 0 && m->roles[i].data == old) rebind(&m->roles[i], b, to);
}

/* The role record of a vector whose f32 copy was made at bind time (same name, other bytes). */
static const sl_tensor *norm_copy_of(const sl_model *m, const sl_tensor *t)
{
    int64_t n_roles = SL_ROLE_FIRST_LAYER + m->hp.n_layers * SL_LAYER_ROLES;
    for (int64_t i = 0; i < n_roles; i++) {
        const sl_tensor *r = &m->roles[i];
        if (r->dtype >= 0 && r->n_dims == 1 && r->data != t->data && strcmp(r->name, t->name) == 0) return r;
    }
    return NULL;
}

sl_status sl_model_convert(sl_model *m, int dtype)
{
    if (dtype >= 0 && (!sl_dtype_traits_of(dtype) || !sl_k->gemm[dtype] || !sl_k->from_float[dtype]))
        return SL_FAIL(SL_ERR_UNSUPPORTED, "cannot compute with weights of type %s", sl_dtype_name(dtype) ? sl_dtype_name(dtype) : "?");
    for (int64_t i = 0; i < m->n_named; i++) {
        sl_tensor *t = &m->named[i];
        if (t->dtype < 0) continue;
        const sl_tensor *copy = norm_copy_of(m, t);
        if (copy) {                              /* a norm already copied to f32 at bind time */
            sl_buffer_release(t->owner);
            t->owner = sl_buffer_retain(copy->owner);
            t->data = copy->data;
            t->dtype = SL_DTYPE_F32;
            t->nbytes = copy->nbytes;
            continue;
        }
        int to = target_type(t, dtype);
        const void *old = t->data;
        sl_buffer *b = NULL;
        SL_TRY(convert_tensor(t, to, m->n_threads, &b));
        if (sl_buffer_is_file(t->owner)) sl_mapping_forget(old, t->nbytes);   /* one touched copy at a time */
        rebind_roles(m, old, b, to);
        for (int64_t j = i + 1; j < m->n_named; j++)     /* a DUS model may hold one layer twice */
            if (m->named[j].data == old) rebind(&m->named[j], b, to);
        rebind(t, b, to);
        sl_buffer_release(b);
    }
    return SL_OK;
}
