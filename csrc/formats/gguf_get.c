/* gguf_get.c — lookups in an opened GGUF file: the name hash index, typed metadata getters
 * (without copying) and tensor lookup. Parsing and validation live in gguf.c. */
#include <stdlib.h>
#include <string.h>

#include "formats/gguf_impl.h"

/* ---- value types ---- */

static const char *const TYPE_NAMES[SL_GGUF_TYPE_COUNT] = {
    "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "str", "array", "u64", "i64", "f64",
};
static const size_t TYPE_SIZES[SL_GGUF_TYPE_COUNT] = { 1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8 };

const char *sl_gguf_type_name(int type)
{
    return type >= 0 && type < SL_GGUF_TYPE_COUNT ? TYPE_NAMES[type] : NULL;
}

size_t sl_gguf_type_size(int type)
{
    return type >= 0 && type < SL_GGUF_TYPE_COUNT ? TYPE_SIZES[type] : 0;
}

/* ---- name index: open addressing with linear probing, load <= 1/2 ---- */

typedef struct slot {
    uint64_t hash;
    const char *name;          /* borrowed; NULL = empty */
    int64_t idx;
} slot;

struct sl_gguf_index {
    size_t mask;               /* capacity - 1, capacity a power of two */
    slot *slots;               /* owned */
};

static uint64_t hash_name(const char *s)
{
    uint64_t h = 1469598103934665603ull;      /* FNV-1a */
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

sl_gguf_index *sl_gguf_index_new(int64_t n)
{
    size_t cap = 8;
    while (cap / 2 < (size_t)n) {
        if (cap > SIZE_MAX / 4) return NULL;
        cap *= 2;
    }
    sl_gguf_index *ix = calloc(1, sizeof *ix);
    if (!ix) return NULL;
    ix->slots = calloc(cap, sizeof *ix->slots);
    if (!ix->slots) { free(ix); return NULL; }
    ix->mask = cap - 1;
    return ix;
}

void sl_gguf_index_free(sl_gguf_index *ix)
{
    if (!ix) return;
    free(ix->slots);
    free(ix);
}

int64_t sl_gguf_index_insert(sl_gguf_index *ix, const char *name, int64_t i)
{
    uint64_t h = hash_name(name);
    size_t k = (size_t)h & ix->mask;
    for (; ix->slots[k].name; k = (k + 1) & ix->mask)
        if (ix->slots[k].hash == h && strcmp(ix->slots[k].name, name) == 0) return ix->slots[k].idx;
    ix->slots[k] = (slot){ .hash = h, .name = name, .idx = i };
    return -1;
}

int64_t sl_gguf_index_find(const sl_gguf_index *ix, const char *name)
{
    if (!ix || !name) return -1;
    uint64_t h = hash_name(name);
    for (size_t k = (size_t)h & ix->mask; ix->slots[k].name; k = (k + 1) & ix->mask)
        if (ix->slots[k].hash == h && strcmp(ix->slots[k].name, name) == 0) return ix->slots[k].idx;
    return -1;
}

/* ---- metadata ---- */

int64_t sl_gguf_find_key(const sl_gguf *g, const char *key) { return sl_gguf_index_find(g->kv_index, key); }

const sl_gguf_value *sl_gguf_get_value(const sl_gguf *g, const char *key)
{
    int64_t i = sl_gguf_find_key(g, key);
    return i < 0 ? NULL : &g->kv[i].value;
}

static sl_status lookup(const sl_gguf *g, const char *key, const sl_gguf_value **v)
{
    *v = sl_gguf_get_value(g, key);
    if (!*v) return SL_FAIL(SL_ERR_NOT_FOUND, "%s: metadata key '%s' is missing", g->map.path, key);
    return SL_OK;
}

static sl_status wrong_type(const sl_gguf *g, const char *key, const sl_gguf_value *v, const char *expected)
{
    const char *elem = v->type == SL_GGUF_ARR ? sl_gguf_type_name(v->elem_type) : NULL;
    return sl_fail(SL_ERR_FORMAT, "%s: metadata key '%s' at byte %zu has type %s%s%s%s, expected %s",
                   g->map.path, key, v->offset, sl_gguf_type_name(v->type), elem ? "[" : "", elem ? elem : "",
                   elem ? "]" : "", expected);
}

static bool is_int_type(int t)
{
    return t == SL_GGUF_U8 || t == SL_GGUF_I8 || t == SL_GGUF_U16 || t == SL_GGUF_I16 || t == SL_GGUF_U32 ||
           t == SL_GGUF_I32 || t == SL_GGUF_U64 || t == SL_GGUF_I64;
}

/* Float -> int64 without undefined behaviour: truncates, saturates, NaN -> 0. */
static int64_t f64_to_i64(double d)
{
    if (d != d) return 0;
    if (d >= 9223372036854775807.0) return INT64_MAX;
    if (d <= -9223372036854775808.0) return INT64_MIN;
    return (int64_t)d;
}

/* Type of the elements v->data holds: the scalar's type, or an array's element type. */
static int data_type(const sl_gguf_value *v) { return v->type == SL_GGUF_ARR ? (int)v->elem_type : (int)v->type; }

int64_t sl_gguf_value_i64(const sl_gguf_value *v, uint64_t i)
{
    int t = data_type(v);
    const uint8_t *p = (const uint8_t *)v->data + i * sl_gguf_type_size(t);
    union { uint8_t u8; int8_t i8; uint16_t u16; int16_t i16; uint32_t u32; int32_t i32; float f32;
            uint64_t u64; int64_t i64; double f64; } x;
    memcpy(&x, p, sl_gguf_type_size(t));
    switch (t) {
    case SL_GGUF_U8: case SL_GGUF_BOOL: return x.u8;
    case SL_GGUF_I8: return x.i8;
    case SL_GGUF_U16: return x.u16;
    case SL_GGUF_I16: return x.i16;
    case SL_GGUF_U32: return x.u32;
    case SL_GGUF_I32: return x.i32;
    case SL_GGUF_U64: return x.u64 > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)x.u64;
    case SL_GGUF_I64: return x.i64;
    case SL_GGUF_F32: return f64_to_i64(x.f32);
    case SL_GGUF_F64: return f64_to_i64(x.f64);
    default: return 0;
    }
}

double sl_gguf_value_f64(const sl_gguf_value *v, uint64_t i)
{
    int t = data_type(v);
    if (t == SL_GGUF_F32 || t == SL_GGUF_F64) {
        const uint8_t *p = (const uint8_t *)v->data + i * sl_gguf_type_size(t);
        if (t == SL_GGUF_F64) { double d; memcpy(&d, p, 8); return d; }
        float f;
        memcpy(&f, p, 4);
        return f;
    }
    if (t == SL_GGUF_U64) {
        uint64_t u;
        memcpy(&u, (const uint8_t *)v->data + i * 8, 8);
        return (double)u;
    }
    return (double)sl_gguf_value_i64(v, i);
}

sl_status sl_gguf_get_int(const sl_gguf *g, const char *key, int64_t *out)
{
    const sl_gguf_value *v;
    SL_TRY(lookup(g, key, &v));
    if (!is_int_type(v->type)) return wrong_type(g, key, v, "an integer");
    if (v->type == SL_GGUF_U64) {
        uint64_t u;
        memcpy(&u, v->data, 8);
        if (u > (uint64_t)INT64_MAX)
            return sl_fail(SL_ERR_FORMAT, "%s: metadata key '%s' at byte %zu: value %llu is out of range",
                           g->map.path, key, v->offset, (unsigned long long)u);
    }
    *out = sl_gguf_value_i64(v, 0);
    return SL_OK;
}

sl_status sl_gguf_get_float(const sl_gguf *g, const char *key, double *out)
{
    const sl_gguf_value *v;
    SL_TRY(lookup(g, key, &v));
    if (v->type != SL_GGUF_F32 && v->type != SL_GGUF_F64) return wrong_type(g, key, v, "f32 or f64");
    *out = sl_gguf_value_f64(v, 0);
    return SL_OK;
}

sl_status sl_gguf_get_bool(const sl_gguf *g, const char *key, bool *out)
{
    const sl_gguf_value *v;
    SL_TRY(lookup(g, key, &v));
    if (v->type != SL_GGUF_BOOL) return wrong_type(g, key, v, "bool");
    *out = *(const uint8_t *)v->data != 0;
    return SL_OK;
}

sl_status sl_gguf_get_str(const sl_gguf *g, const char *key, sl_gguf_str *out)
{
    const sl_gguf_value *v;
    SL_TRY(lookup(g, key, &v));
    if (v->type != SL_GGUF_STR) return wrong_type(g, key, v, "str");
    *out = v->str;
    return SL_OK;
}

sl_status sl_gguf_get_arr_str(const sl_gguf *g, const char *key, const sl_gguf_str **strs, uint64_t *count)
{
    const sl_gguf_value *v;
    SL_TRY(lookup(g, key, &v));
    if (v->type != SL_GGUF_ARR || v->elem_type != SL_GGUF_STR) return wrong_type(g, key, v, "array[str]");
    *strs = v->strs;
    *count = v->count;
    return SL_OK;
}

sl_status sl_gguf_get_arr_num(const sl_gguf *g, const char *key, const void **data, uint64_t *count,
                              sl_gguf_type *elem_type)
{
    const sl_gguf_value *v;
    SL_TRY(lookup(g, key, &v));
    if (v->type != SL_GGUF_ARR || sl_gguf_type_size(v->elem_type) == 0)
        return wrong_type(g, key, v, "an array of numbers");
    *data = v->data;
    *count = v->count;
    *elem_type = v->elem_type;
    return SL_OK;
}

/* ---- tensors ---- */

int64_t sl_gguf_find_tensor(const sl_gguf *g, const char *name) { return sl_gguf_index_find(g->tensor_index, name); }

const sl_gguf_tensor *sl_gguf_get_tensor(const sl_gguf *g, const char *name)
{
    int64_t i = sl_gguf_find_tensor(g, name);
    return i < 0 ? NULL : &g->tensors[i];
}
