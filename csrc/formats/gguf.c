/* gguf.c — parsing and validation of GGUF v2/v3 files: header, metadata values of every type
 * (nested arrays included), tensor infos and the data layout. Every count and length read
 * from the file is checked against the bytes that remain before anything is allocated or
 * read; after sl_gguf_open succeeds the whole index is consistent (see gguf.h). */
#include "formats/gguf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/gguf_impl.h"
#include "runtime/dtype.h"

#define MAX_NESTING 8          /* arrays of arrays nested deeper than this are rejected */
#define MIN_KV_BYTES 13        /* u64 key length + u32 type + a 1-byte value */
#define MIN_TENSOR_BYTES 24    /* u64 name length + u32 n_dims + u32 type + u64 offset */
#define MIN_NESTED_BYTES 12    /* u32 element type + u64 count */
#define ARENA_BLOCK ((size_t)64 * 1024)
#define NAME_CLIP 96           /* bytes of a key/name quoted in a message */

/* ---- arena: blocks freed together with the sl_gguf ---- */

typedef struct arena_block {
    struct arena_block *next;  /* owned */
    size_t used, cap;          /* bytes of the payload that follows the header */
} arena_block;

struct sl_gguf_arena { arena_block *head; /* owned list */ };

#define ARENA_HDR ((sizeof(arena_block) + 15) & ~(size_t)15)

static void *arena_alloc(sl_gguf_arena *a, size_t bytes)
{
    size_t need, total;
    if (!sl_add_ok(bytes, 15, &need)) return NULL;
    need &= ~(size_t)15;
    arena_block *b = a->head;
    if (!b || b->cap - b->used < need) {
        size_t cap = need > ARENA_BLOCK ? need : ARENA_BLOCK;
        if (!sl_add_ok(cap, ARENA_HDR, &total) || !(b = malloc(total))) return NULL;
        b->used = 0;
        b->cap = cap;
        if (a->head && need > ARENA_BLOCK) {    /* a big one-off: keep filling the current head */
            b->next = a->head->next;
            a->head->next = b;
        } else {
            b->next = a->head;
            a->head = b;
        }
    }
    void *p = (char *)b + ARENA_HDR + b->used;
    b->used += need;
    return p;
}

static void arena_free(sl_gguf_arena *a)
{
    if (!a) return;
    for (arena_block *b = a->head, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    free(a);
}

/* ---- cursor over the mapped bytes, with the context of error messages ---- */

typedef struct rd {
    const uint8_t *p;          /* borrowed from the mapping */
    size_t size, pos;
    const char *path;          /* borrowed */
    char what[160];            /* "key 'x'", "tensor 'y'": what is being read */
} rd;

static sl_status rd_fail_at(const rd *r, size_t at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static sl_status rd_fail_at(const rd *r, size_t at, const char *fmt, ...)
{
    char msg[640];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sl_fail(SL_ERR_FORMAT, "sl_gguf_open: %s: %s at byte %zu: %s", r->path, r->what, at, msg);
}

static sl_status rd_need(const rd *r, uint64_t n, const char *field)
{
    if (n <= r->size - r->pos) return SL_OK;
    return rd_fail_at(r, r->pos, "%s needs %llu bytes but only %zu remain (file size %zu, truncated?)",
                      field, (unsigned long long)n, r->size - r->pos, r->size);
}

static sl_status rd_u32(rd *r, uint32_t *v, const char *field)
{
    SL_TRY(rd_need(r, 4, field));
    memcpy(v, r->p + r->pos, 4);
    r->pos += 4;
    return SL_OK;
}

static sl_status rd_u64(rd *r, uint64_t *v, const char *field)
{
    SL_TRY(rd_need(r, 8, field));
    memcpy(v, r->p + r->pos, 8);
    r->pos += 8;
    return SL_OK;
}

static sl_status rd_str(rd *r, sl_gguf_str *s, const char *field)
{
    size_t at = r->pos;
    uint64_t len;
    SL_TRY(rd_u64(r, &len, field));
    if (len > r->size - r->pos)
        return rd_fail_at(r, at, "%s of %llu bytes runs past the end of the file (%zu bytes remain)",
                          field, (unsigned long long)len, r->size - r->pos);
    s->ptr = (const char *)r->p + r->pos;
    s->len = len;
    r->pos += len;
    return SL_OK;
}

static bool utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) { i++; continue; }
        size_t len;
        uint32_t cp, min;
        if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; min = 0x80; }
        else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; min = 0x800; }
        else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; min = 0x10000; }
        else return false;
        if (n - i < len) return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += len;
    }
    return true;
}

/* Length of at most `max` bytes of valid UTF-8 s that does not split a character. */
static int clip_utf8(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max) return (int)n;
    while (max > 0 && ((uint8_t)s[max] & 0xC0) == 0x80) max--;
    return (int)max;
}

/* A key or tensor name: valid UTF-8 without NUL, copied NUL-terminated into the arena. */
static sl_status rd_name(rd *r, sl_gguf_arena *a, const char *field, const char **out)
{
    size_t at = r->pos;
    sl_gguf_str s;
    SL_TRY(rd_str(r, &s, field));
    if (memchr(s.ptr, 0, s.len)) return rd_fail_at(r, at, "%s contains a NUL byte", field);
    if (!utf8_valid((const uint8_t *)s.ptr, s.len)) return rd_fail_at(r, at, "%s is not valid UTF-8", field);
    char *c = arena_alloc(a, s.len + 1);
    if (!c) return sl_fail(SL_ERR_NOMEM, "sl_gguf_open: %s: out of memory", r->path);
    memcpy(c, s.ptr, s.len);
    c[s.len] = '\0';
    *out = c;
    return SL_OK;
}

/* ---- metadata values ---- */

static sl_status parse_value(rd *r, sl_gguf *g, uint32_t type, int depth, sl_gguf_value *v);

static sl_status check_bools(const rd *r, const uint8_t *p, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        if (p[i] > 1) return rd_fail_at(r, (size_t)(p - r->p) + i, "bool value %u is neither 0 nor 1", p[i]);
    return SL_OK;
}

static sl_status parse_array_items(rd *r, sl_gguf *g, int depth, sl_gguf_value *v)
{
    size_t bytes, n = (size_t)v->count;
    if (v->elem_type == SL_GGUF_STR) {
        sl_gguf_str *strs = NULL;
        if (n && (!sl_mul_ok(n, sizeof *strs, &bytes) || !(strs = arena_alloc(g->arena, bytes))))
            return sl_fail(SL_ERR_NOMEM, "sl_gguf_open: %s: out of memory for %zu strings", r->path, n);
        for (size_t i = 0; i < n; i++) SL_TRY(rd_str(r, &strs[i], "string in array"));
        v->strs = strs;
    } else if (v->elem_type == SL_GGUF_ARR) {
        sl_gguf_value *items = NULL;
        if (n && (!sl_mul_ok(n, sizeof *items, &bytes) || !(items = arena_alloc(g->arena, bytes))))
            return sl_fail(SL_ERR_NOMEM, "sl_gguf_open: %s: out of memory for %zu nested arrays", r->path, n);
        for (size_t i = 0; i < n; i++) SL_TRY(parse_value(r, g, SL_GGUF_ARR, depth, &items[i]));
        v->items = items;
    } else {
        v->data = r->p + r->pos;
        if (v->elem_type == SL_GGUF_BOOL) SL_TRY(check_bools(r, v->data, n));
        r->pos += n * sl_gguf_type_size(v->elem_type);   /* fits: checked by the caller */
    }
    return SL_OK;
}

static sl_status parse_array(rd *r, sl_gguf *g, int depth, sl_gguf_value *v)
{
    size_t at = r->pos;
    uint32_t et;
    uint64_t n;
    if (depth > MAX_NESTING) return rd_fail_at(r, at, "arrays nested more than %d deep", MAX_NESTING);
    SL_TRY(rd_u32(r, &et, "array element type"));
    if (et >= SL_GGUF_TYPE_COUNT) return rd_fail_at(r, at, "unknown array element type %u", et);
    SL_TRY(rd_u64(r, &n, "array length"));
    size_t min = et == SL_GGUF_STR ? 8 : et == SL_GGUF_ARR ? MIN_NESTED_BYTES : sl_gguf_type_size(et);
    size_t rem = r->size - r->pos;
    if (n > rem / min)
        return rd_fail_at(r, at + 4, "array of %llu %s elements (at least %zu bytes each) does not fit in "
                          "the %zu bytes that remain", (unsigned long long)n, sl_gguf_type_name((int)et), min, rem);
    v->elem_type = (sl_gguf_type)et;
    v->count = n;
    return parse_array_items(r, g, depth, v);
}

/* type is a known value type (checked by the caller). */
static sl_status parse_value(rd *r, sl_gguf *g, uint32_t type, int depth, sl_gguf_value *v)
{
    memset(v, 0, sizeof *v);
    v->offset = r->pos;
    v->type = (sl_gguf_type)type;
    v->count = 1;
    if (type == SL_GGUF_STR) return rd_str(r, &v->str, "string value");
    if (type == SL_GGUF_ARR) return parse_array(r, g, depth + 1, v);
    size_t size = sl_gguf_type_size((int)type);
    SL_TRY(rd_need(r, size, sl_gguf_type_name((int)type)));
    v->data = r->p + r->pos;
    if (type == SL_GGUF_BOOL) SL_TRY(check_bools(r, v->data, 1));
    r->pos += size;
    return SL_OK;
}

static sl_status parse_kvs(rd *r, sl_gguf *g)
{
    for (int64_t i = 0; i < g->n_kv; i++) {
        sl_gguf_kv *kv = &g->kv[i];
        snprintf(r->what, sizeof r->what, "metadata entry #%lld", (long long)i);
        kv->offset = r->pos;
        SL_TRY(rd_name(r, g->arena, "key", &kv->key));
        snprintf(r->what, sizeof r->what, "key '%.*s'", clip_utf8(kv->key, NAME_CLIP), kv->key);
        size_t at = r->pos;
        uint32_t type;
        SL_TRY(rd_u32(r, &type, "value type"));
        if (type >= SL_GGUF_TYPE_COUNT) return rd_fail_at(r, at, "unknown value type %u", type);
        SL_TRY(parse_value(r, g, type, 0, &kv->value));
        int64_t prev = sl_gguf_index_insert(g->kv_index, kv->key, i);
        if (prev >= 0)
            return rd_fail_at(r, kv->offset, "duplicate key (first defined at byte %zu)", g->kv[prev].offset);
    }
    return SL_OK;
}

static sl_status read_alignment(rd *r, sl_gguf *g)
{
    g->alignment = SL_GGUF_DEFAULT_ALIGNMENT;
    int64_t i = sl_gguf_index_find(g->kv_index, "general.alignment");
    if (i < 0) return SL_OK;
    const sl_gguf_value *v = &g->kv[i].value;
    snprintf(r->what, sizeof r->what, "key 'general.alignment'");
    if (v->type != SL_GGUF_U32)
        return rd_fail_at(r, v->offset, "type is %s, expected u32", sl_gguf_type_name(v->type));
    uint32_t a;
    memcpy(&a, v->data, 4);
    if (a == 0 || (a & (a - 1)) != 0) return rd_fail_at(r, v->offset, "alignment %u is not a power of two", a);
    g->alignment = a;
    return SL_OK;
}

/* ---- tensor infos ---- */

/* Element count and bytes. Zero dims count as 1 in the overflow checks, so every dim product
 * (the NumPy shape, row strides) fits in int64 even for empty tensors. */
static sl_status check_tensor_size(rd *r, sl_gguf_tensor *t, const sl_dtype_traits *tr, size_t at)
{
    if (t->ne[0] % tr->block_size != 0)
        return rd_fail_at(r, at, "ne[0] = %lld is not a multiple of the %s block size %lld",
                          (long long)t->ne[0], tr->name, (long long)tr->block_size);
    bool zero = false;
    int64_t n = 1;
    size_t bytes = sl_dtype_row_bytes(t->dtype, t->ne[0] ? t->ne[0] : tr->block_size);
    for (int d = 0; d < SL_GGUF_MAX_DIMS; d++) {
        zero |= t->ne[d] == 0;
        int64_t ne = t->ne[d] ? t->ne[d] : 1;
        if (__builtin_mul_overflow(n, ne, &n) || (d > 0 && !sl_mul_ok(bytes, (size_t)ne, &bytes)) ||
            bytes == 0 || bytes > (size_t)INT64_MAX)
            return rd_fail_at(r, at, "size of %lld x %lld x %lld x %lld %s elements overflows", (long long)t->ne[0],
                              (long long)t->ne[1], (long long)t->ne[2], (long long)t->ne[3], tr->name);
    }
    t->n_elements = zero ? 0 : n;
    t->row_bytes = sl_dtype_row_bytes(t->dtype, t->ne[0]);
    t->nbytes = zero ? 0 : bytes;
    return SL_OK;
}

static sl_status parse_dims(rd *r, sl_gguf_tensor *t)
{
    size_t at = r->pos;
    uint32_t n_dims;
    SL_TRY(rd_u32(r, &n_dims, "n_dims"));
    if (n_dims > SL_GGUF_MAX_DIMS) return rd_fail_at(r, at, "n_dims %u is above %d", n_dims, SL_GGUF_MAX_DIMS);
    t->n_dims = (int)n_dims;
    for (int d = 0; d < SL_GGUF_MAX_DIMS; d++) t->ne[d] = 1;
    for (int d = 0; d < t->n_dims; d++) {
        at = r->pos;
        uint64_t ne;
        SL_TRY(rd_u64(r, &ne, "dimension"));
        if (ne > (uint64_t)INT64_MAX)
            return rd_fail_at(r, at, "dimension %d is %llu (above 2^63-1)", d, (unsigned long long)ne);
        t->ne[d] = (int64_t)ne;
    }
    return SL_OK;
}

static sl_status parse_tensor_info(rd *r, sl_gguf *g, int64_t i)
{
    sl_gguf_tensor *t = &g->tensors[i];
    snprintf(r->what, sizeof r->what, "tensor info #%lld", (long long)i);
    t->info_offset = r->pos;
    SL_TRY(rd_name(r, g->arena, "tensor name", &t->name));
    snprintf(r->what, sizeof r->what, "tensor '%.*s'", clip_utf8(t->name, NAME_CLIP), t->name);
    SL_TRY(parse_dims(r, t));
    size_t at = r->pos;
    uint32_t type;
    SL_TRY(rd_u32(r, &type, "tensor type"));
    const sl_dtype_traits *tr = type < SL_DTYPE_COUNT ? sl_dtype_traits_of((int)type) : NULL;
    if (!tr) return rd_fail_at(r, at, "unknown or unsupported tensor type %u", type);
    t->dtype = (int)type;
    SL_TRY(check_tensor_size(r, t, tr, at));
    at = r->pos;
    SL_TRY(rd_u64(r, &t->offset, "data offset"));
    if (t->offset % g->alignment != 0)
        return rd_fail_at(r, at, "data offset %llu is not a multiple of the alignment %u",
                          (unsigned long long)t->offset, g->alignment);
    int64_t prev = sl_gguf_index_insert(g->tensor_index, t->name, i);
    if (prev >= 0)
        return rd_fail_at(r, t->info_offset, "duplicate tensor name (first defined at byte %zu)",
                          g->tensors[prev].info_offset);
    return SL_OK;
}

/* ---- data layout: in bounds, not overlapping ---- */

static int cmp_tensor_offset(const void *a, const void *b)
{
    const sl_gguf_tensor *x = *(const sl_gguf_tensor *const *)a, *y = *(const sl_gguf_tensor *const *)b;
    if (x->offset != y->offset) return x->offset < y->offset ? -1 : 1;
    return x->nbytes < y->nbytes ? -1 : x->nbytes > y->nbytes;
}

static sl_status check_overlaps(rd *r, sl_gguf *g)
{
    const sl_gguf_tensor **order = sl_calloc((size_t)g->n_tensors, sizeof *order);
    if (!order) return sl_fail(SL_ERR_NOMEM, "sl_gguf_open: %s: out of memory", r->path);
    for (int64_t i = 0; i < g->n_tensors; i++) order[i] = &g->tensors[i];
    qsort(order, (size_t)g->n_tensors, sizeof *order, cmp_tensor_offset);
    const sl_gguf_tensor *last = NULL;   /* the tensor whose data ends furthest so far */
    sl_status st = SL_OK;
    for (int64_t i = 0; i < g->n_tensors && st == SL_OK; i++) {
        const sl_gguf_tensor *t = order[i];
        if (t->nbytes == 0) continue;
        if (last && t->offset < last->offset + last->nbytes) {
            snprintf(r->what, sizeof r->what, "tensor '%.*s'", clip_utf8(t->name, NAME_CLIP), t->name);
            st = rd_fail_at(r, t->info_offset, "data [%llu, %llu) overlaps the data [%llu, %llu) of tensor '%.*s'",
                            (unsigned long long)t->offset, (unsigned long long)(t->offset + t->nbytes),
                            (unsigned long long)last->offset, (unsigned long long)(last->offset + last->nbytes),
                            clip_utf8(last->name, NAME_CLIP), last->name);
        }
        if (!last || t->offset + t->nbytes > last->offset + last->nbytes) last = t;
    }
    sl_free((void *)order);
    return st;
}

static sl_status check_layout(rd *r, sl_gguf *g)
{
    size_t data;
    if (!sl_add_ok(r->pos, g->alignment - 1, &data)) return rd_fail_at(r, r->pos, "data offset overflows");
    data &= ~((size_t)g->alignment - 1);
    g->data_offset = data;
    if (g->n_tensors == 0) return SL_OK;
    snprintf(r->what, sizeof r->what, "data section");
    if (data > r->size)
        return rd_fail_at(r, r->pos, "the data section would start at byte %zu, past the end of the file "
                          "(%zu bytes, truncated?)", data, r->size);
    size_t avail = r->size - data;
    for (int64_t i = 0; i < g->n_tensors; i++) {
        sl_gguf_tensor *t = &g->tensors[i];
        if (t->offset > avail || t->nbytes > avail - t->offset) {
            snprintf(r->what, sizeof r->what, "tensor '%.*s'", clip_utf8(t->name, NAME_CLIP), t->name);
            return rd_fail_at(r, t->info_offset, "data [%llu, +%zu) past the data section start %zu runs beyond "
                              "the end of the file (%zu bytes, truncated?)",
                              (unsigned long long)t->offset, t->nbytes, data, r->size);
        }
        t->data = r->p + data + t->offset;
    }
    return check_overlaps(r, g);
}

/* ---- header and driver ---- */

static sl_status parse_header(rd *r, sl_gguf *g)
{
    snprintf(r->what, sizeof r->what, "header");
    if (r->size < 4 || memcmp(r->p, "GGUF", 4) != 0) {
        char seen[16] = "";
        for (size_t i = 0; i < 4 && i < r->size; i++)
            snprintf(seen + 3 * i, sizeof seen - 3 * i, "%02x ", r->p[i]);
        return rd_fail_at(r, 0, "not a GGUF file (magic %s%s, expected 47 47 55 46 \"GGUF\")",
                          r->size ? seen : "", r->size < 4 ? "(file too short)" : "");
    }
    r->pos = 4;
    SL_TRY(rd_u32(r, &g->version, "version"));
    if (g->version != 2 && g->version != 3) {
        if (__builtin_bswap32(g->version) == 2 || __builtin_bswap32(g->version) == 3)
            return rd_fail_at(r, 4, "big-endian GGUF files are not supported");
        return rd_fail_at(r, 4, "unsupported GGUF version %u (this reader handles versions 2 and 3)", g->version);
    }
    uint64_t nt, nkv;
    SL_TRY(rd_u64(r, &nt, "tensor count"));
    SL_TRY(rd_u64(r, &nkv, "metadata count"));
    size_t rem = r->size - r->pos;
    if (nt > rem / MIN_TENSOR_BYTES || nkv > rem / MIN_KV_BYTES || nt * MIN_TENSOR_BYTES + nkv * MIN_KV_BYTES > rem)
        return rd_fail_at(r, 8, "the header claims %llu tensors and %llu metadata entries, more than the %zu "
                          "bytes that follow can hold", (unsigned long long)nt, (unsigned long long)nkv, rem);
    g->n_tensors = (int64_t)nt;
    g->n_kv = (int64_t)nkv;
    return SL_OK;
}

static sl_status parse_file(sl_gguf *g)
{
    rd r = { .p = g->map.data, .size = g->map.size, .pos = 0, .path = g->map.path };
    SL_TRY(parse_header(&r, g));
    g->arena = calloc(1, sizeof *g->arena);
    g->kv = sl_calloc((size_t)g->n_kv, sizeof *g->kv);
    g->tensors = sl_calloc((size_t)g->n_tensors, sizeof *g->tensors);
    g->kv_index = sl_gguf_index_new(g->n_kv);
    g->tensor_index = sl_gguf_index_new(g->n_tensors);
    if (!g->arena || !g->kv || !g->tensors || !g->kv_index || !g->tensor_index)
        return sl_fail(SL_ERR_NOMEM, "sl_gguf_open: %s: out of memory for %lld keys and %lld tensors",
                       r.path, (long long)g->n_kv, (long long)g->n_tensors);
    SL_TRY(parse_kvs(&r, g));
    SL_TRY(read_alignment(&r, g));
    for (int64_t i = 0; i < g->n_tensors; i++) SL_TRY(parse_tensor_info(&r, g, i));
    return check_layout(&r, g);
}

sl_status sl_gguf_open(const char *path, sl_gguf **out)
{
    *out = NULL;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return SL_FAIL(SL_ERR_UNSUPPORTED, "%s: GGUF reading needs a little-endian CPU", path);
#endif
    sl_gguf *g = calloc(1, sizeof *g);
    if (!g) return SL_FAIL(SL_ERR_NOMEM, "%s: out of memory", path);
    sl_status st = sl_mapping_open(&g->map, path);
    if (st == SL_OK) st = parse_file(g);
    if (st != SL_OK) {
        sl_gguf_free(g);
        return st;
    }
    *out = g;
    return SL_OK;
}

void sl_gguf_free(sl_gguf *g)
{
    if (!g) return;
    sl_gguf_index_free(g->kv_index);
    sl_gguf_index_free(g->tensor_index);
    sl_free(g->kv);
    sl_free(g->tensors);
    arena_free(g->arena);
    sl_mapping_close(&g->map);
    free(g);
}
