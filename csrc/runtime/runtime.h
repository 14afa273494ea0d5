/* runtime.h — internal runtime services shared by the whole core: status messages,
 * aligned allocation, overflow-checked arithmetic, read-only file mappings, CPU features,
 * thread counts. */
#ifndef SL_RUNTIME_H
#define SL_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "solar.h"

/* ---- status + message (status.c) ---- */

/* Store a printf-style message in this thread's buffer and return st. */
sl_status sl_fail(sl_status st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Same, prefixed with the calling function's name. */
#define SL_FAIL(st, ...) sl_fail_in(__func__, (st), __VA_ARGS__)
sl_status sl_fail_in(const char *func, sl_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prepend context ("while loading x: ") to the current message, keep st. */
sl_status sl_fail_context(sl_status st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sl_clear_error(void);

#define SL_TRY(expr) do { sl_status sl_try_st_ = (expr); if (sl_try_st_ != SL_OK) return sl_try_st_; } while (0)

/* ---- memory (alloc.c) ---- */

#define SL_ALIGN 64
/* 64-byte aligned allocation; NULL (with message) on failure or size 0 overflow. */
void *sl_alloc(size_t bytes);
void *sl_calloc(size_t count, size_t size);
void sl_free(void *p);                       /* accepts NULL */
char *sl_strdup(const char *s);              /* plain malloc; free with free() */
/* Large weight buffers: anonymous pages aligned to 2 MiB and advised as transparent huge pages
 * (fewer TLB misses when a kernel streams hundreds of MB), zero-filled. Free with
 * sl_free_large(p, bytes) using the same byte count. */
void *sl_alloc_large(size_t bytes);
void sl_free_large(void *p, size_t bytes);   /* accepts NULL */

static inline bool sl_mul_ok(size_t a, size_t b, size_t *out) { return !__builtin_mul_overflow(a, b, out); }
static inline bool sl_add_ok(size_t a, size_t b, size_t *out) { return !__builtin_add_overflow(a, b, out); }

/* ---- read-only file mapping (mapping.c) ---- */

typedef struct sl_mapping {
    const uint8_t *data;  /* owned mapping (NULL for an empty file) */
    size_t size;          /* bytes */
    char *path;           /* owned copy of the path, for messages */
} sl_mapping;

/* Map a whole file read-only. Missing file -> SL_ERR_IO with errno text. */
sl_status sl_mapping_open(sl_mapping *m, const char *path);
void sl_mapping_close(sl_mapping *m);        /* accepts a zeroed or closed mapping */
/* Drop the resident pages of [p, p + n) of a read-only mapping from this process (the whole
 * pages inside the range); a later read faults them back in from the page cache. */
void sl_mapping_forget(const void *p, size_t n);
/* Read a whole (small) file into a NUL-terminated malloc buffer. */
sl_status sl_read_file(const char *path, char **out, size_t *len);

/* ---- threads (threads.c) ---- */

/* Threads to use for n_threads <= 0 (physical cores), clamped to [1, 512]. */
int sl_threads_resolve(int n_threads);

#endif /* SL_RUNTIME_H */
