/* gguf_impl.h — private helpers shared by gguf.c (parsing) and gguf_get.c (lookups):
 * the name -> index hash table. Not for use outside csrc/formats/gguf*.c. */
#ifndef SL_GGUF_IMPL_H
#define SL_GGUF_IMPL_H

#include "formats/gguf.h"

/* Open-addressing table of NUL-terminated names (borrowed) -> index. */
sl_gguf_index *sl_gguf_index_new(int64_t n);                 /* room for n names; NULL on NOMEM */
void sl_gguf_index_free(sl_gguf_index *ix);                   /* accepts NULL */
/* Insert name -> i; returns the index already stored under name, or -1 when it was new. */
int64_t sl_gguf_index_insert(sl_gguf_index *ix, const char *name, int64_t i);
int64_t sl_gguf_index_find(const sl_gguf_index *ix, const char *name);   /* -1 if absent */

#endif /* SL_GGUF_IMPL_H */
