/* pretok.h — regex pre-tokenizers of byte-level BPE tokenizers (GPT-2, EXAONE 3, Llama 3) as
 * hand-written linear-time state machines that give the same spans as HF `tokenizers`. */
#ifndef SL_PRETOK_H
#define SL_PRETOK_H

#include <stddef.h>

#include "solar.h"

typedef enum sl_pretok_kind {  /* append-only */
    SL_PRETOK_NONE = 0,    /* the whole text is one span (no span for empty text) */
    /* 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ (HF ByteLevel) */
    SL_PRETOK_GPT2 = 1,
    SL_PRETOK_EXAONE3 = 2, /* each digit (\p{N}) isolated, then GPT-2 on the pieces between */
    /* (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|
     * \s*[\r\n]+|\s+(?!\S)|\s+ */
    SL_PRETOK_LLAMA3 = 3,
} sl_pretok_kind;

typedef struct sl_span { size_t start, len; } sl_span;   /* byte offsets into the text */

/* Split UTF-8 text into pre-token spans that cover it in order (non-empty, contiguous).
 * (*spans, *cap) is a reusable buffer grown with realloc (may start as NULL/0; the caller frees it
 * with free()); *n is set to the number of spans. Invalid UTF-8 bytes count as single "other"
 * code points. Errors: SL_ERR_ARG (unknown kind, NULL pointers), SL_ERR_NOMEM (then *spans
 * and *cap still describe a valid buffer). */
sl_status sl_pretok_split(sl_pretok_kind kind, const char *text, size_t len, sl_span **spans, size_t *n,
                          size_t *cap);

#endif /* SL_PRETOK_H */
