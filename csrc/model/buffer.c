/* buffer.c — reference-counted owners of tensor bytes. */
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

static sl_buffer *new_owned(size_t bytes, bool large)
{
    sl_buffer *b = calloc(1, sizeof *b);
    if (!b) { SL_FAIL(SL_ERR_NOMEM, "out of memory"); return NULL; }
    b->heap = large ? sl_alloc_large(bytes) : sl_alloc(bytes);
    if (!b->heap) { free(b); return NULL; }
    b->size = bytes;
    b->large = large;
    b->refs = 1;
    return b;
}

sl_buffer *sl_buffer_new_heap(size_t bytes) { return new_owned(bytes, false); }

/* Below 4 MiB huge pages save nothing and waste up to 2 MiB of padding. */
sl_buffer *sl_buffer_new_large(size_t bytes) { return new_owned(bytes, bytes >= ((size_t)4 << 20)); }

bool sl_buffer_is_file(const sl_buffer *b) { return b && !b->heap; }

sl_buffer *sl_buffer_retain(sl_buffer *b)
{
    if (b) __atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED);
    return b;
}

void sl_buffer_release(sl_buffer *b)
{
    if (!b || __atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) != 0) return;
    sl_st_file_close(&b->st);
    if (b->large) sl_free_large(b->heap, b->size);
    else sl_free(b->heap);
    if (b->ext_free) b->ext_free(b->ext);
    free(b);
}
