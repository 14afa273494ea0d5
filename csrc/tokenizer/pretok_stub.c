/* pretok_stub.c — TEMPORARY stand-in for the pre-tokenizer (the `pretok` branch owns the real
 * one in pretok.c; delete this file when that branch is merged). ASCII classes only: every byte
 * >= 0x80 counts as a letter, so non-ASCII punctuation and digits are split wrongly. */
#include <stdlib.h>

#include "tokenizer/pretok.h"

enum { C_L, C_N, C_S, C_O };

static int cls(unsigned char c)
{
    if (c >= 0x80 || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')) return C_L;
    if (c >= '0' && c <= '9') return C_N;
    if (c == ' ' || (c >= '\t' && c <= '\r')) return C_S;
    return C_O;
}

static size_t contraction(const char *t, size_t n, size_t i)
{
    if (t[i] != '\'' || i + 1 >= n) return 0;
    char a = t[i + 1], b = i + 2 < n ? t[i + 2] : 0;
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
    return 0;
}

static size_t gpt2_token(const char *t, size_t n, size_t i)
{
    size_t c = contraction(t, n, i);
    if (c) return i + c;
    size_t j = i;
    int k = cls((unsigned char)t[i]);
    if (t[i] == ' ' && i + 1 < n && cls((unsigned char)t[i + 1]) != C_S) { j++; k = cls((unsigned char)t[j]); }
    if (k != C_S) {
        while (j < n && cls((unsigned char)t[j]) == k) j++;
        return j;
    }
    while (j < n && cls((unsigned char)t[j]) == C_S) j++;
    if (j < n && j - i > 1) j--;
    return j;
}

static sl_status push(sl_span **spans, size_t *n, size_t *cap, size_t start, size_t len)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        sl_span *s = realloc(*spans, c * sizeof *s);
        if (!s) return SL_ERR_NOMEM;
        *spans = s;
        *cap = c;
    }
    (*spans)[(*n)++] = (sl_span){start, len};
    return SL_OK;
}

sl_status sl_pretok_split(sl_pretok_kind kind, const char *text, size_t len, sl_span **spans, size_t *n, size_t *cap)
{
    *n = 0;
    if (kind == SL_PRETOK_NONE) return len ? push(spans, n, cap, 0, len) : SL_OK;
    size_t i = 0;
    while (i < len) {
        size_t seg_end = len;
        if (kind == SL_PRETOK_EXAONE3) {
            if (cls((unsigned char)text[i]) == C_N) {
                sl_status st = push(spans, n, cap, i, 1);
                if (st != SL_OK) return st;
                i++;
                continue;
            }
            for (seg_end = i; seg_end < len && cls((unsigned char)text[seg_end]) != C_N; seg_end++) {}
        }
        while (i < seg_end) {
            size_t j = gpt2_token(text, seg_end, i);
            sl_status st = push(spans, n, cap, i, j - i);
            if (st != SL_OK) return st;
            i = j;
        }
    }
    return SL_OK;
}
