/* dtype.c — the element-type traits table: name, block size, block bytes, and the activation
 * type a weight of this type is multiplied with. Values match GGML's type ids. */
#include "runtime/dtype.h"

#include <string.h>

#define ROW(id, nm, blk, bytes, act) [id] = { .name = nm, .block_size = blk, .block_bytes = bytes, .act_type = act }

static const sl_dtype_traits TRAITS[SL_DTYPE_COUNT] = {
    ROW(SL_DTYPE_F32, "f32", 1, 4, SL_DTYPE_F32),
    ROW(SL_DTYPE_F16, "f16", 1, 2, SL_DTYPE_F32),
    ROW(SL_DTYPE_BF16, "bf16", 1, 2, SL_DTYPE_F32),
    ROW(SL_DTYPE_Q4_0, "q4_0", 32, 18, SL_DTYPE_Q8_0),
    ROW(SL_DTYPE_Q4_1, "q4_1", 32, 20, SL_DTYPE_Q8_1),
    ROW(SL_DTYPE_Q5_0, "q5_0", 32, 22, SL_DTYPE_Q8_0),
    ROW(SL_DTYPE_Q5_1, "q5_1", 32, 24, SL_DTYPE_Q8_1),
    ROW(SL_DTYPE_Q8_0, "q8_0", 32, 34, SL_DTYPE_Q8_0),
    ROW(SL_DTYPE_Q8_1, "q8_1", 32, 36, SL_DTYPE_Q8_1),
    ROW(SL_DTYPE_Q2_K, "q2_k", 256, 84, SL_DTYPE_Q8_K),
    ROW(SL_DTYPE_Q3_K, "q3_k", 256, 110, SL_DTYPE_Q8_K),
    ROW(SL_DTYPE_Q4_K, "q4_k", 256, 144, SL_DTYPE_Q8_K),
    ROW(SL_DTYPE_Q5_K, "q5_k", 256, 176, SL_DTYPE_Q8_K),
    ROW(SL_DTYPE_Q6_K, "q6_k", 256, 210, SL_DTYPE_Q8_K),
    ROW(SL_DTYPE_Q8_K, "q8_k", 256, 292, SL_DTYPE_Q8_K),
    ROW(SL_DTYPE_I8, "i8", 1, 1, SL_DTYPE_I8),
    ROW(SL_DTYPE_I16, "i16", 1, 2, SL_DTYPE_I16),
    ROW(SL_DTYPE_I32, "i32", 1, 4, SL_DTYPE_I32),
    ROW(SL_DTYPE_I64, "i64", 1, 8, SL_DTYPE_I64),
    ROW(SL_DTYPE_F64, "f64", 1, 8, SL_DTYPE_F64),
};

const sl_dtype_traits *sl_dtype_traits_of(int dtype)
{
    if (dtype < 0 || dtype >= SL_DTYPE_COUNT || !TRAITS[dtype].name) return NULL;
    return &TRAITS[dtype];
}

const char *sl_dtype_name(int dtype)
{
    const sl_dtype_traits *t = sl_dtype_traits_of(dtype);
    return t ? t->name : NULL;
}

int sl_dtype_from_name(const char *name)
{
    for (int i = 0; i < SL_DTYPE_COUNT; i++)
        if (TRAITS[i].name && strcmp(TRAITS[i].name, name) == 0) return i;
    return -1;
}

int64_t sl_dtype_block_size(int dtype)
{
    const sl_dtype_traits *t = sl_dtype_traits_of(dtype);
    return t ? t->block_size : 0;
}

size_t sl_dtype_block_bytes(int dtype)
{
    const sl_dtype_traits *t = sl_dtype_traits_of(dtype);
    return t ? t->block_bytes : 0;
}

size_t sl_dtype_row_bytes(int dtype, int64_t n)
{
    const sl_dtype_traits *t = sl_dtype_traits_of(dtype);
    if (!t || n < 0 || n % t->block_size != 0) return 0;
    size_t bytes;
    if (!sl_mul_ok((size_t)(n / t->block_size), t->block_bytes, &bytes)) return 0;
    return bytes;
}

bool sl_dtype_is_float(int dtype)
{
    return dtype == SL_DTYPE_F32 || dtype == SL_DTYPE_F16 || dtype == SL_DTYPE_BF16;
}
