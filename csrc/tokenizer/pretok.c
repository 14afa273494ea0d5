/* pretok.c — the regex pre-tokenizers of pretok.h as hand-written state machines.
 *
 * Each loop step starts a match at byte i and finds where the regex's leftmost-first match ends,
 * trying the alternatives in the regex's order; code points are decoded on the fly (ASCII through a
 * 128-entry table, the rest through the range table with a one-range cache), so the work is linear
 * in the text. The two backtracking tricks of these regexes, written out:
 *  - \s+(?!\S): a whitespace run that is followed by a non-space loses its last code point, which
 *    then starts the next match (' ' + word via ' ?\p{L}+', or alone via \s+); a run that reaches
 *    the end of the text (or, for EXAONE 3, a digit: the end of its piece) is kept whole.
 *  - \s*[\r\n]+ (Llama 3): a whitespace run containing \r or \n matches up to its last \r/\n. */
#include "tokenizer/pretok.h"

#include <stdlib.h>

#include "runtime/runtime.h"
#include "tokenizer/unicode.h"

#define CLS(c) ((c) & SL_UCLS_MASK)
#define AT_END 0xFFu   /* "class" of the position past the text */

typedef struct scanner {
    const uint8_t *s;      /* borrowed: the text */
    size_t end;            /* bytes */
    sl_unicode_hint hint;  /* last non-ASCII range looked up */
} scanner;

typedef struct span_buf {
    sl_span *spans;        /* owned by the caller; grown with realloc */
    size_t n, cap;
} span_buf;

/* Class (with the ASCII flags) of the code point at byte i < end; *next = its end. */
static inline unsigned cls_at(scanner *sc, size_t i, size_t *next)
{
    uint8_t b = sc->s[i];
    if (b < 0x80) {
        *next = i + 1;
        return sl_unicode_ascii[b];
    }
    size_t n;
    uint32_t cp = sl_utf8_decode(sc->s + i, sc->end - i, &n);
    *next = i + n;
    return cp == SL_UTF8_INVALID ? SL_UCLS_OTHER : sl_unicode_class(cp, &sc->hint);
}

/* Class at byte i, or AT_END past the text. */
static inline unsigned cls_or_end(scanner *sc, size_t i, size_t *next)
{
    if (i >= sc->end) {
        *next = i;
        return AT_END;
    }
    return cls_at(sc, i, next);
}

/* End of the run of code points of class cls that starts at i (i itself when there is none). */
static inline size_t run_end(scanner *sc, size_t i, unsigned cls)
{
    while (i < sc->end) {
        uint8_t b = sc->s[i];
        if (b < 0x80) {
            if (CLS(sl_unicode_ascii[b]) != cls) break;
            i++;
            continue;
        }
        size_t next;
        if (CLS(cls_at(sc, i, &next)) != cls) break;
        i = next;
    }
    return i;
}

/* Same, at most max code points. */
static inline size_t run_end_max(scanner *sc, size_t i, unsigned cls, int max)
{
    for (int k = 0; k < max && i < sc->end; k++) {
        size_t next;
        if (CLS(cls_at(sc, i, &next)) != cls) break;
        i = next;
    }
    return i;
}

static inline size_t newline_run_end(const scanner *sc, size_t i)
{
    while (i < sc->end && (sc->s[i] == '\r' || sc->s[i] == '\n')) i++;
    return i;
}

static inline unsigned ascii_lower(unsigned b) { return b >= 'A' && b <= 'Z' ? b + 32 : b; }

/* Length in bytes of the contraction 's|'t|'re|'ve|'m|'ll|'d at i (s[i] == '\''), or 0.
 * fold: ASCII case-insensitive plus U+017F (long s, which case-folds to 's'), as (?i:...). */
static size_t contraction_len(const scanner *sc, size_t i, int fold)
{
    size_t left = sc->end - i;
    if (left < 2) return 0;
    unsigned c1 = sc->s[i + 1], c2 = left >= 3 ? sc->s[i + 2] : 0;
    if (fold) {
        if (c1 == 0xC5 && c2 == 0xBF) return 3;
        c1 = ascii_lower(c1);
        c2 = ascii_lower(c2);
    }
    if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return 2;
    if (((c1 == 'r' || c1 == 'v') && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return 3;
    return 0;
}

static sl_status span_push(span_buf *o, size_t start, size_t end)
{
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap : 32, bytes;
        if (!sl_mul_ok(cap, 2, &cap) || !sl_mul_ok(cap, sizeof(sl_span), &bytes))
            return SL_FAIL(SL_ERR_NOMEM, "span buffer size overflows (%zu spans)", o->cap);
        sl_span *p = realloc(o->spans, bytes);
        if (!p) return SL_FAIL(SL_ERR_NOMEM, "out of memory for %zu pre-token spans", cap);
        o->spans = p;
        o->cap = cap;
    }
    o->spans[o->n].start = start;
    o->spans[o->n].len = end - start;
    o->n++;
    return SL_OK;
}

/* A whitespace run starting at i (a space code point ending at next): where the first match of
 * \s+(?!\S)|\s+ ends. hard_stop: the class after the run that acts as the end of the text. */
static size_t space_match_end(scanner *sc, size_t i, size_t next, unsigned hard_stop)
{
    size_t last = i, k = next, after;
    unsigned c;
    while ((c = cls_or_end(sc, k, &after)) != AT_END && CLS(c) == SL_UCLS_SPACE) {
        last = k;
        k = after;
    }
    if (c == AT_END || (hard_stop != AT_END && CLS(c) == hard_stop) || last == i) return k;
    return last;
}

/* GPT-2's regex; with isolate_digits every \p{N} code point is its own span and ends the
 * piece before it (EXAONE 3's Split(\p{N}, isolated) in front of the same regex). */
static sl_status split_gpt2(scanner *sc, span_buf *o, int isolate_digits)
{
    unsigned digit_stop = isolate_digits ? SL_UCLS_NUMBER : AT_END;
    size_t i = 0;
    while (i < sc->end) {
        size_t n1, n2, j, clen;
        unsigned c = cls_at(sc, i, &n1), base = CLS(c);
        if ((c & SL_UCLS_F_APOS) && (clen = contraction_len(sc, i, 0)) != 0) {
            j = i + clen;
        } else if (base == SL_UCLS_NUMBER && isolate_digits) {
            j = n1;
        } else if (base != SL_UCLS_SPACE) {
            j = run_end(sc, n1, base);
        } else {
            unsigned c2 = cls_or_end(sc, n1, &n2);
            if ((c & SL_UCLS_F_BLANK) && c2 != AT_END && CLS(c2) != SL_UCLS_SPACE && CLS(c2) != digit_stop)
                j = run_end(sc, n2, CLS(c2));       /* ' ?\p{L}+' and friends take the space */
            else
                j = space_match_end(sc, i, n1, digit_stop);
        }
        SL_TRY(span_push(o, i, j));
        i = j;
    }
    return SL_OK;
}

/* A Llama-3 whitespace run at i: \s*[\r\n]+ up to the run's last \r/\n, else \s+(?!\S)|\s+. */
static size_t llama3_space_match_end(scanner *sc, size_t i)
{
    size_t last = i, k = i, after, nl_end = 0;
    unsigned c;
    while ((c = cls_or_end(sc, k, &after)) != AT_END && CLS(c) == SL_UCLS_SPACE) {
        if (c & SL_UCLS_F_NEWLINE) nl_end = after;
        last = k;
        k = after;
    }
    if (nl_end) return nl_end;
    if (c == AT_END || last == i) return k;
    return last;
}

static sl_status split_llama3(scanner *sc, span_buf *o)
{
    size_t i = 0;
    while (i < sc->end) {
        size_t n1, n2, j, clen;
        unsigned c = cls_at(sc, i, &n1), base = CLS(c);
        if ((c & SL_UCLS_F_APOS) && (clen = contraction_len(sc, i, 1)) != 0) {
            j = i + clen;
        } else if (base == SL_UCLS_LETTER) {
            j = run_end(sc, n1, SL_UCLS_LETTER);
        } else if (base == SL_UCLS_NUMBER) {
            j = run_end_max(sc, n1, SL_UCLS_NUMBER, 2);
        } else {
            unsigned c2 = cls_or_end(sc, n1, &n2);
            if (!(c & SL_UCLS_F_NEWLINE) && c2 != AT_END && CLS(c2) == SL_UCLS_LETTER)
                j = run_end(sc, n2, SL_UCLS_LETTER);                    /* [^\r\n\p{L}\p{N}]?\p{L}+ */
            else if (base == SL_UCLS_OTHER)
                j = newline_run_end(sc, run_end(sc, n1, SL_UCLS_OTHER)); /* [^\s\p{L}\p{N}]+[\r\n]* */
            else if ((c & SL_UCLS_F_BLANK) && c2 != AT_END && CLS(c2) == SL_UCLS_OTHER)
                j = newline_run_end(sc, run_end(sc, n2, SL_UCLS_OTHER)); /* ' ' + the same */
            else
                j = llama3_space_match_end(sc, i);
        }
        SL_TRY(span_push(o, i, j));
        i = j;
    }
    return SL_OK;
}

sl_status sl_pretok_split(sl_pretok_kind kind, const char *text, size_t len, sl_span **spans, size_t *n,
                          size_t *cap)
{
    if (!spans || !n || !cap || (!text && len))
        return SL_FAIL(SL_ERR_ARG, "NULL argument (text=%p spans=%p n=%p cap=%p)", (const void *)text,
                       (void *)spans, (void *)n, (void *)cap);
    span_buf o = {*spans, 0, *spans ? *cap : 0};
    scanner sc = {(const uint8_t *)text, len, {0, 0, 0}};
    sl_status st;
    switch (kind) {
    case SL_PRETOK_NONE: st = len ? span_push(&o, 0, len) : SL_OK; break;
    case SL_PRETOK_GPT2: st = split_gpt2(&sc, &o, 0); break;
    case SL_PRETOK_EXAONE3: st = split_gpt2(&sc, &o, 1); break;
    case SL_PRETOK_LLAMA3: st = split_llama3(&sc, &o); break;
    default: st = SL_FAIL(SL_ERR_ARG, "unknown pre-tokenizer kind %d", (int)kind); break;
    }
    *spans = o.spans;
    *cap = o.cap;
    *n = st == SL_OK ? o.n : 0;
    return st;
}
