/* dtype.h — element-type traits (internal view of the table in dtype.c). */
#ifndef SL_DTYPE_H
#define SL_DTYPE_H

#include <stdbool.h>

#include "runtime/runtime.h"

typedef struct sl_dtype_traits {
    const char *name;      /* "f32", "q8_0", ... */
    int64_t block_size;    /* elements per block */
    size_t block_bytes;    /* bytes per block */
    int act_type;          /* activation type used by this weight type's gemm */
} sl_dtype_traits;

const sl_dtype_traits *sl_dtype_traits_of(int dtype);   /* NULL for unknown ids */
int sl_dtype_from_name(const char *name);               /* -1 if unknown */
bool sl_dtype_is_float(int dtype);                      /* f32, f16, bf16 */

#endif /* SL_DTYPE_H */
