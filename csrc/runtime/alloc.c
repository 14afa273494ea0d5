/* alloc.c — aligned allocation with messages on failure. */
#include <stdlib.h>
#include <string.h>

#include "runtime/runtime.h"

void *sl_alloc(size_t bytes)
{
    size_t padded;
    if (!sl_add_ok(bytes ? bytes : 1, SL_ALIGN - 1, &padded)) {
        SL_FAIL(SL_ERR_NOMEM, "allocation of %zu bytes overflows", bytes);
        return NULL;
    }
    padded &= ~(size_t)(SL_ALIGN - 1);
    void *p = aligned_alloc(SL_ALIGN, padded);
    if (!p) SL_FAIL(SL_ERR_NOMEM, "out of memory allocating %zu bytes", bytes);
    return p;
}

void *sl_calloc(size_t count, size_t size)
{
    size_t bytes;
    if (!sl_mul_ok(count, size, &bytes)) {
        SL_FAIL(SL_ERR_NOMEM, "allocation of %zu x %zu bytes overflows", count, size);
        return NULL;
    }
    void *p = sl_alloc(bytes);
    if (p) memset(p, 0, bytes);
    return p;
}

void sl_free(void *p) { free(p); }

char *sl_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    else SL_FAIL(SL_ERR_NOMEM, "out of memory");
    return d;
}
