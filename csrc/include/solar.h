/* solar.h — the public C API of the solar core.
 *
 * A plain C11 library: opaque handles, status codes, a thread-local error message.
 * Nothing here knows about Python. Every fallible function returns sl_status; on failure
 * sl_last_error() says what was wrong and where (file, tensor, offset).
 *
 * Shape letters used in comments across the core: L layers, T tokens, D hidden, H / Hkv
 * heads, Dh head dim, F FFN width, V vocabulary.
 */
#ifndef SOLAR_H
#define SOLAR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- status ------------------------------------------------------------------------- */

typedef enum sl_status {            /* append-only */
    SL_OK = 0,
    SL_ERR_IO = 1,                  /* file missing / unreadable */
    SL_ERR_FORMAT = 2,              /* a file's content is invalid */
    SL_ERR_ARG = 3,                 /* bad argument from the caller */
    SL_ERR_NOMEM = 4,
    SL_ERR_UNSUPPORTED = 5,         /* valid but not supported (dtype, architecture) */
    SL_ERR_INTERRUPTED = 6,
    SL_ERR_NOT_FOUND = 7,           /* a file or a tensor that must exist does not */
    SL_ERR_INTERNAL = 8,
} sl_status;

/* Message of the last failure on this thread ("" if none). */
const char *sl_last_error(void);

/* ---- element types ------------------------------------------------------------------- */

/* Values equal GGML's type ids so GGUF files map without translation. Append-only. */
typedef enum sl_dtype {
    SL_DTYPE_F32 = 0,
    SL_DTYPE_F16 = 1,
    SL_DTYPE_Q4_0 = 2,
    SL_DTYPE_Q4_1 = 3,
    SL_DTYPE_Q5_0 = 6,
    SL_DTYPE_Q5_1 = 7,
    SL_DTYPE_Q8_0 = 8,
    SL_DTYPE_Q8_1 = 9,
    SL_DTYPE_Q2_K = 10,
    SL_DTYPE_Q3_K = 11,
    SL_DTYPE_Q4_K = 12,
    SL_DTYPE_Q5_K = 13,
    SL_DTYPE_Q6_K = 14,
    SL_DTYPE_Q8_K = 15,
    SL_DTYPE_I8 = 24,
    SL_DTYPE_I16 = 25,
    SL_DTYPE_I32 = 26,
    SL_DTYPE_I64 = 27,
    SL_DTYPE_F64 = 28,
    SL_DTYPE_BF16 = 30,
    SL_DTYPE_COUNT = 31,
} sl_dtype;

/* Name ("f32", "q8_0", ...) or NULL for an id we do not know. */
const char *sl_dtype_name(int dtype);
/* Elements per block (1 for plain types) and bytes per block; 0 for unknown ids. */
int64_t sl_dtype_block_size(int dtype);
size_t sl_dtype_block_bytes(int dtype);
/* Bytes of a row of n elements; 0 if n is not a multiple of the block size or overflow. */
size_t sl_dtype_row_bytes(int dtype, int64_t n);

/* ---- runtime ------------------------------------------------------------------------- */

typedef enum sl_isa { SL_ISA_GENERIC = 0, SL_ISA_AVX2 = 1, SL_ISA_AVX512 = 2 } sl_isa;

/* Detect the CPU once (honours SOLAR_ISA=generic|avx2|avx512) and install kernels. */
sl_status sl_runtime_init(void);
sl_isa sl_runtime_isa(void);
const char *sl_isa_name(sl_isa isa);
/* Force an ISA level (no higher than the CPU supports); for tests. */
sl_status sl_runtime_set_isa(sl_isa isa);
/* Best ISA level this CPU supports. */
sl_isa sl_runtime_cpu_isa(void);
/* Physical cores (default thread count). */
int sl_runtime_physical_cores(void);

#ifdef __cplusplus
}
#endif
#endif /* SOLAR_H */
