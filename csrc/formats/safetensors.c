/* safetensors.c — safetensors header parsing and validation.
 * Layout: u64 little-endian header length N, N bytes of JSON, then the data section; every
 * tensor's data_offsets [begin, end) are relative to the data section. */
#include "formats/safetensors.h"

#include <stdlib.h>
#include <string.h>

#include "formats/json.h"
#include "runtime/dtype.h"

#define ST_MAX_HEADER (100u << 20)   /* the format's own limit: 100 MB */

typedef struct { const char *name; int dtype; size_t elem; } st_dtype_row;

static const st_dtype_row ST_DTYPES[] = {
    {"F32", SL_DTYPE_F32, 4}, {"F16", SL_DTYPE_F16, 2}, {"BF16", SL_DTYPE_BF16, 2},
    {"F64", -1, 8}, {"I64", -1, 8}, {"I32", -1, 4}, {"I16", -1, 2}, {"I8", -1, 1},
    {"U8", -1, 1}, {"BOOL", -1, 1}, {"U16", -1, 2}, {"U32", -1, 4}, {"U64", -1, 8},
    {"F8_E4M3", -1, 1}, {"F8_E5M2", -1, 1},
};

static const st_dtype_row *find_dtype(const char *s)
{
    for (size_t i = 0; i < sizeof ST_DTYPES / sizeof ST_DTYPES[0]; i++)
        if (strcmp(ST_DTYPES[i].name, s) == 0) return &ST_DTYPES[i];
    return NULL;
}

static sl_status parse_shape(const sl_json *shape, sl_st_tensor *t, size_t elem, size_t *bytes, const char *path)
{
    if (!shape || shape->type != SL_JSON_ARRAY || shape->len > SL_MAX_DIMS)
        return sl_fail(SL_ERR_FORMAT, "%s: tensor '%s': shape must be an array of at most %d integers", path, t->name, SL_MAX_DIMS);
    size_t total = elem;
    t->n_dims = (int)shape->len;
    for (size_t d = 0; d < shape->len; d++) {
        const sl_json *v = &shape->items[d];
        if (v->type != SL_JSON_NUMBER || !v->is_int || v->i < 0)
            return sl_fail(SL_ERR_FORMAT, "%s: tensor '%s': shape[%zu] is not a non-negative integer", path, t->name, d);
        t->shape[d] = v->i;
        if (!sl_mul_ok(total, (size_t)v->i, &total))
            return sl_fail(SL_ERR_FORMAT, "%s: tensor '%s': shape overflows", path, t->name);
    }
    *bytes = total;
    return SL_OK;
}

static sl_status parse_offsets(const sl_json *offs, size_t *begin, size_t *end, const sl_st_tensor *t, const char *path)
{
    if (!offs || offs->type != SL_JSON_ARRAY || offs->len != 2 || offs->items[0].type != SL_JSON_NUMBER ||
        offs->items[1].type != SL_JSON_NUMBER || !offs->items[0].is_int || !offs->items[1].is_int ||
        offs->items[0].i < 0 || offs->items[1].i < offs->items[0].i)
        return sl_fail(SL_ERR_FORMAT, "%s: tensor '%s': data_offsets must be [begin, end] with 0 <= begin <= end", path, t->name);
    *begin = (size_t)offs->items[0].i;
    *end = (size_t)offs->items[1].i;
    return SL_OK;
}

static sl_status parse_tensor(sl_st_file *f, const char *key, const sl_json *v, size_t data_start, sl_st_tensor *t)
{
    const char *path = f->map.path;
    t->name = sl_strdup(key);
    if (!t->name) return SL_ERR_NOMEM;
    if (v->type != SL_JSON_OBJECT) return sl_fail(SL_ERR_FORMAT, "%s: tensor '%s': entry is not an object", path, key);
    const char *ds = sl_json_get_str(v, "dtype");
    const st_dtype_row *row = ds ? find_dtype(ds) : NULL;
    if (!row) return sl_fail(SL_ERR_FORMAT, "%s: tensor '%s': unknown dtype '%s'", path, key, ds ? ds : "(missing)");
    t->dtype = row->dtype;
    t->st_dtype = row->name;
    size_t bytes = 0, begin = 0, end = 0;
    SL_TRY(parse_shape(sl_json_get(v, "shape"), t, row->elem, &bytes, path));
    SL_TRY(parse_offsets(sl_json_get(v, "data_offsets"), &begin, &end, t, path));
    if (end - begin != bytes)
        return sl_fail(SL_ERR_FORMAT, "%s: tensor '%s': shape and dtype need %zu bytes but data_offsets span %zu",
                       path, key, bytes, end - begin);
    size_t data_size = f->map.size - data_start;
    if (end > data_size)
        return sl_fail(SL_ERR_FORMAT, "%s: tensor '%s': data [%zu, %zu) runs past the end of the file (data section is %zu bytes, at offset %zu)",
                       path, key, begin, end, data_size, data_start);
    t->offset = data_start + begin;
    t->nbytes = bytes;
    t->data = f->map.data + t->offset;
    return SL_OK;
}

static int cmp_offset(const void *a, const void *b)
{
    const sl_st_tensor *x = a, *y = b;
    return x->offset < y->offset ? -1 : x->offset > y->offset ? 1 : (x->nbytes > y->nbytes) - (x->nbytes < y->nbytes);
}

static sl_status check_layout(sl_st_file *f)
{
    qsort(f->tensors, (size_t)f->n_tensors, sizeof *f->tensors, cmp_offset);
    for (int64_t i = 1; i < f->n_tensors; i++) {
        const sl_st_tensor *a = &f->tensors[i - 1], *b = &f->tensors[i];
        if (a->nbytes && b->nbytes && a->offset + a->nbytes > b->offset)
            return sl_fail(SL_ERR_FORMAT, "%s: tensors '%s' and '%s' overlap at file offset %zu", f->map.path, a->name, b->name, b->offset);
        if (strcmp(a->name, b->name) == 0)
            return sl_fail(SL_ERR_FORMAT, "%s: tensor '%s' appears twice", f->map.path, a->name);
    }
    return SL_OK;
}

static sl_status parse_header(sl_st_file *f, const sl_json *root, size_t data_start)
{
    if (root->type != SL_JSON_OBJECT) return sl_fail(SL_ERR_FORMAT, "%s: header is not a JSON object", f->map.path);
    f->tensors = calloc(root->len ? root->len : 1, sizeof *f->tensors);
    if (!f->tensors) return SL_FAIL(SL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < root->len; i++) {
        if (strcmp(root->keys[i], "__metadata__") == 0) continue;
        sl_st_tensor *t = &f->tensors[f->n_tensors++];
        SL_TRY(parse_tensor(f, root->keys[i], &root->items[i], data_start, t));
    }
    return check_layout(f);
}

sl_status sl_st_file_open(sl_st_file *f, const char *path)
{
    memset(f, 0, sizeof *f);
    SL_TRY(sl_mapping_open(&f->map, path));
    sl_status st;
    if (f->map.size < 8) { st = sl_fail(SL_ERR_FORMAT, "%s: file is %zu bytes, too short for a safetensors header", path, f->map.size); goto fail; }
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = (n << 8) | f->map.data[i];
    if (n > ST_MAX_HEADER || n > f->map.size - 8) {
        st = sl_fail(SL_ERR_FORMAT, "%s: header length %llu at offset 0 runs past the end of the file (%zu bytes)",
                     path, (unsigned long long)n, f->map.size);
        goto fail;
    }
    sl_json_doc *doc = NULL;
    st = sl_json_parse((const char *)f->map.data + 8, (size_t)n, path, &doc);
    if (st != SL_OK) goto fail;
    st = parse_header(f, sl_json_root(doc), 8 + (size_t)n);
    sl_json_free(doc);
    if (st != SL_OK) goto fail;
    return SL_OK;
fail:
    sl_st_file_close(f);
    return st;
}

void sl_st_file_close(sl_st_file *f)
{
    if (!f) return;
    for (int64_t i = 0; i < f->n_tensors; i++) free(f->tensors[i].name);
    free(f->tensors);
    free(f->metadata_json);
    sl_mapping_close(&f->map);
    memset(f, 0, sizeof *f);
}

const sl_st_tensor *sl_st_file_find(const sl_st_file *f, const char *name)
{
    for (int64_t i = 0; i < f->n_tensors; i++)
        if (strcmp(f->tensors[i].name, name) == 0) return &f->tensors[i];
    return NULL;
}
