/* gguf.h — a validating reader of GGUF v2/v3 files (llama.cpp's model format).
 *
 * sl_gguf_open maps the file read-only and checks every count, length, type, dimension and
 * offset before anything is used: after it returns SL_OK, every pointer below lies inside the
 * mapping and every size is consistent. Nothing is copied except keys and tensor names (as
 * NUL-terminated strings) and the small index tables for string arrays and nested arrays.
 *
 * Layout of a file (all little-endian):
 *   "GGUF" u32 version, u64 n_tensors, u64 n_kv,
 *   n_kv x { str key, u32 type, value },
 *   n_tensors x { str name, u32 n_dims, u64 ne[n_dims], u32 ggml type, u64 offset },
 *   padding to `alignment`, then the data section (tensor offsets are relative to it).
 * A str is u64 length + bytes; an array value is u32 element type + u64 count + elements.
 *
 * The structs are read-only views for the model loader; all memory belongs to the sl_gguf.
 */
#ifndef SL_GGUF_H
#define SL_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/runtime.h"

#define SL_GGUF_MAX_DIMS 4
#define SL_GGUF_DEFAULT_ALIGNMENT 32

/* Metadata value types, numbered as in the file. Append-only. */
typedef enum sl_gguf_type {
    SL_GGUF_U8 = 0, SL_GGUF_I8 = 1, SL_GGUF_U16 = 2, SL_GGUF_I16 = 3,
    SL_GGUF_U32 = 4, SL_GGUF_I32 = 5, SL_GGUF_F32 = 6, SL_GGUF_BOOL = 7,
    SL_GGUF_STR = 8, SL_GGUF_ARR = 9, SL_GGUF_U64 = 10, SL_GGUF_I64 = 11, SL_GGUF_F64 = 12,
    SL_GGUF_TYPE_COUNT = 13,
} sl_gguf_type;

/* A string in the file: not NUL-terminated, may hold any bytes (GGUF says UTF-8). */
typedef struct sl_gguf_str {
    const char *ptr;              /* borrowed from the mapping */
    uint64_t len;                 /* bytes */
} sl_gguf_str;

typedef struct sl_gguf_value sl_gguf_value;
struct sl_gguf_value {
    sl_gguf_type type;
    sl_gguf_type elem_type;       /* ARR: type of the elements */
    uint64_t count;               /* ARR: number of elements; 1 for scalars */
    const void *data;             /* numeric/bool scalar or ARR of numbers/bools: the little-endian
                                     bytes in the mapping, NOT necessarily aligned (read with
                                     memcpy or sl_gguf_value_i64/f64); borrowed from the mapping */
    sl_gguf_str str;              /* STR */
    const sl_gguf_str *strs;      /* ARR of STR: count entries; owned by the sl_gguf */
    const sl_gguf_value *items;   /* ARR of ARR: count entries; owned by the sl_gguf */
    size_t offset;                /* byte offset of the value in the file (for messages) */
};

typedef struct sl_gguf_kv {
    const char *key;              /* NUL-terminated valid UTF-8; owned by the sl_gguf */
    sl_gguf_value value;
    size_t offset;                /* byte offset of the key in the file */
} sl_gguf_kv;

typedef struct sl_gguf_tensor {
    const char *name;             /* NUL-terminated valid UTF-8; owned by the sl_gguf */
    int dtype;                    /* sl_dtype (GGML type id), known to the dtype table */
    int n_dims;                   /* 0..SL_GGUF_MAX_DIMS as stored in the file */
    int64_t ne[SL_GGUF_MAX_DIMS]; /* elements per dim, ne[0] fastest; 1 past n_dims */
    int64_t n_elements;
    size_t row_bytes;             /* bytes of one row of ne[0] elements */
    uint64_t offset;              /* relative to the data section, a multiple of the alignment */
    const void *data;             /* nbytes bytes, borrowed from the mapping; aligned to the file's
                                     alignment (power of two, 32 unless general.alignment says) */
    size_t nbytes;
    size_t info_offset;           /* byte offset of this tensor's info record in the file */
} sl_gguf_tensor;

typedef struct sl_gguf_index sl_gguf_index;   /* hash index for names, private */
typedef struct sl_gguf_arena sl_gguf_arena;   /* block allocator, private */

typedef struct sl_gguf {
    sl_mapping map;               /* owned: the file (map.data, map.size, map.path) */
    uint32_t version;             /* 2 or 3 */
    uint32_t alignment;           /* power of two */
    size_t data_offset;           /* start of the data section (aligned) */
    int64_t n_kv;
    sl_gguf_kv *kv;               /* (n_kv) owned, in file order */
    int64_t n_tensors;
    sl_gguf_tensor *tensors;      /* (n_tensors) owned, in file order */
    sl_gguf_index *kv_index;      /* owned */
    sl_gguf_index *tensor_index;  /* owned */
    sl_gguf_arena *arena;         /* owned: keys, names, string tables, nested arrays */
} sl_gguf;

/* Open and validate a GGUF file. Errors: SL_ERR_NOT_FOUND / SL_ERR_IO (file), SL_ERR_FORMAT (any
 * invalid content, including a version other than 2 or 3; the message names the file, the key
 * or tensor, and the byte offset), SL_ERR_NOMEM. */
sl_status sl_gguf_open(const char *path, sl_gguf **out);
void sl_gguf_free(sl_gguf *g);                                    /* accepts NULL */

/* "u8", "i32", "str", "array", ... or NULL for an unknown id. */
const char *sl_gguf_type_name(int type);
/* Bytes of one element of a numeric/bool type; 0 for STR, ARR and unknown ids. */
size_t sl_gguf_type_size(int type);

/* ---- metadata ---- */

int64_t sl_gguf_find_key(const sl_gguf *g, const char *key);      /* index or -1 */
const sl_gguf_value *sl_gguf_get_value(const sl_gguf *g, const char *key);   /* NULL if absent */

/* Typed getters: SL_ERR_NOT_FOUND when the key is absent, SL_ERR_FORMAT when its type does not
 * fit (message names key and type). get_int accepts every integer type (range-checked into
 * int64), get_float f32 and f64, get_str returns the bytes without copying. */
sl_status sl_gguf_get_int(const sl_gguf *g, const char *key, int64_t *out);
sl_status sl_gguf_get_float(const sl_gguf *g, const char *key, double *out);
sl_status sl_gguf_get_bool(const sl_gguf *g, const char *key, bool *out);
sl_status sl_gguf_get_str(const sl_gguf *g, const char *key, sl_gguf_str *out);
/* Arrays without copying: strings as a table of (ptr, len); numbers as the raw elements in the
 * mapping (possibly unaligned) with their type. */
sl_status sl_gguf_get_arr_str(const sl_gguf *g, const char *key, const sl_gguf_str **strs, uint64_t *count);
sl_status sl_gguf_get_arr_num(const sl_gguf *g, const char *key, const void **data, uint64_t *count,
                              sl_gguf_type *elem_type);

/* Element i of a numeric/bool scalar (i = 0) or array, converted; caller ensures i < count and
 * a numeric type (_i64 truncates floats and saturates out-of-range values, NaN gives 0). */
int64_t sl_gguf_value_i64(const sl_gguf_value *v, uint64_t i);
double sl_gguf_value_f64(const sl_gguf_value *v, uint64_t i);

/* ---- tensors ---- */

int64_t sl_gguf_find_tensor(const sl_gguf *g, const char *name);  /* index or -1 */
const sl_gguf_tensor *sl_gguf_get_tensor(const sl_gguf *g, const char *name);  /* NULL if absent */

#endif /* SL_GGUF_H */
