/* buffer.c — reference-counted owners of tensor bytes. */
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

sl_buffer *sl_buffer_new_heap(size_t bytes)
{
    sl_buffer *b = calloc(1, sizeof *b);
    if (!b) { SL_FAIL(SL_ERR_NOMEM, "out of memory"); return NULL; }
    b->heap = sl_alloc(bytes);
    if (!b->heap) { free(b); return NULL; }
    b->size = bytes;
    b->refs = 1;
    return b;
}

sl_buffer *sl_buffer_retain(sl_buffer *b)
{
    if (b) __atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED);
    return b;
}

void sl_buffer_release(sl_buffer *b)
{
    if (!b || __atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) != 0) return;
    sl_st_file_close(&b->st);
    sl_free(b->heap);
    if (b->ext_free) b->ext_free(b->ext);
    free(b);
}
