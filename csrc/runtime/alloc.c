/* alloc.c — aligned allocation with messages on failure. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

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

#define SL_HUGE_PAGE ((size_t)2 << 20)

void *sl_alloc_large(size_t bytes)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    size_t padded;
    if (!sl_add_ok(bytes ? bytes : 1, SL_HUGE_PAGE - 1, &padded)) {
        SL_FAIL(SL_ERR_NOMEM, "allocation of %zu bytes overflows", bytes);
        return NULL;
    }
    padded &= ~(SL_HUGE_PAGE - 1);
    /* over-allocate by one huge page and trim, so the start is 2 MiB aligned */
    size_t span = padded + SL_HUGE_PAGE;
    uint8_t *raw = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) {
        SL_FAIL(SL_ERR_NOMEM, "out of memory mapping %zu bytes", bytes);
        return NULL;
    }
    uint8_t *p = (uint8_t *)(((uintptr_t)raw + SL_HUGE_PAGE - 1) & ~(uintptr_t)(SL_HUGE_PAGE - 1));
    if (p > raw) munmap(raw, (size_t)(p - raw));
    size_t tail = (size_t)(raw + span - (p + padded));
    if (tail) munmap(p + padded, tail);
    madvise(p, padded, MADV_HUGEPAGE);   /* advice only: failure leaves normal pages */
    return p;
#else
    return sl_calloc(1, bytes);
#endif
}

void sl_free_large(void *p, size_t bytes)
{
    if (!p) return;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    size_t padded = ((bytes ? bytes : 1) + SL_HUGE_PAGE - 1) & ~(SL_HUGE_PAGE - 1);
    munmap(p, padded);
#else
    (void)bytes;
    sl_free(p);
#endif
}

char *sl_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    else SL_FAIL(SL_ERR_NOMEM, "out of memory");
    return d;
}
