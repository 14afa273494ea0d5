/* tok_decode.c — ids -> UTF-8 text, whole or streamed.
 *
 * Each token's bytes come from the decode table (tok_finalize.c). They pass through one
 * incremental UTF-8 decoder that holds back an unfinished character and replaces invalid bytes
 * with U+FFFD: one per maximal invalid subpart for byte-level BPE (like Rust's
 * String::from_utf8_lossy in HF's ByteLevel decoder and Python's 'replace'), one per byte for
 * SentencePiece byte-fallback pieces (like sentencepiece and HF's ByteFallback decoder). The
 * SentencePiece decoders' removal of the dummy-prefix space applies to the first character.
 * Decoding whole = streaming every id then flushing, so both always agree. */
#include <stdlib.h>
#include <string.h>

#include "runtime/runtime.h"
#include "tokenizer/tok_internal.h"

static const uint8_t FFFD[3] = {0xEF, 0xBF, 0xBD};

sl_status sl_tok_text_reserve(sl_tok_text *out, size_t extra)
{
    size_t need;
    if (!sl_add_ok(out->n, extra, &need) || !sl_add_ok(need, 1, &need))
        return SL_FAIL(SL_ERR_ARG, "decoded text too long");
    if (need <= out->cap) return SL_OK;
    size_t cap = out->cap ? out->cap : 256;
    while (cap < need) cap *= 2;
    char *d = realloc(out->data, cap);
    if (!d) return SL_FAIL(SL_ERR_NOMEM, "out of memory for %zu bytes of text", cap);
    out->data = d;
    out->cap = cap;
    return SL_OK;
}

/* Room is reserved by the caller (at most 3 output bytes per input byte + 12). */
static void put(sl_tok_stream *s, sl_tok_text *out, const uint8_t *c, size_t n)
{
    if (!s->started) {
        s->started = true;
        if (s->tok->decode_strip && n == 1 && c[0] == ' ') return;
    }
    memcpy(out->data + out->n, c, n);
    out->n += n;
}

static size_t seq_len(uint8_t lead) { return lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2; }

static void drop_pending(sl_tok_stream *s, sl_tok_text *out)
{
    int k = s->n_pending;
    if (!k) return;
    for (int i = 0; i < (s->tok->dec_per_byte ? k : 1); i++) put(s, out, FFFD, 3);
    s->n_pending = 0;
}

static void feed_byte(sl_tok_stream *s, sl_tok_text *out, uint8_t c)
{
    int k = s->n_pending;
    if (k == 0) {
        if (c < 0x80) put(s, out, &c, 1);
        else if (c >= 0xC2 && c <= 0xF4) { s->pending[0] = c; s->n_pending = 1; }
        else put(s, out, FFFD, 3);
        return;
    }
    uint8_t lead = s->pending[0], lo = 0x80, hi = 0xBF;
    if (k == 1) {
        if (lead == 0xE0) lo = 0xA0;
        else if (lead == 0xED) hi = 0x9F;
        else if (lead == 0xF0) lo = 0x90;
        else if (lead == 0xF4) hi = 0x8F;
    }
    if (c < lo || c > hi) {
        drop_pending(s, out);
        feed_byte(s, out, c);   /* c starts afresh: recursion depth is 1 */
        return;
    }
    s->pending[k] = c;
    s->n_pending = ++k;
    if ((size_t)k == seq_len(lead)) {
        s->n_pending = 0;
        put(s, out, s->pending, (size_t)k);
    }
}

static void feed(sl_tok_stream *s, sl_tok_text *out, const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (s->n_pending == 0 && s->started) {   /* fast path: ASCII run */
            size_t j = i;
            while (j < n && p[j] < 0x80) j++;
            memcpy(out->data + out->n, p + i, j - i);
            out->n += j - i;
            i = j;
            if (i == n) break;
        }
        feed_byte(s, out, p[i++]);
    }
}

void sl_tok_stream_init(sl_tok_stream *s, const sl_tokenizer *t, unsigned flags)
{
    memset(s, 0, sizeof *s);
    s->tok = t;
    s->flags = flags;
}

static sl_status push_id(sl_tok_stream *s, int32_t id, sl_tok_text *out)
{
    const sl_tokenizer *t = s->tok;
    if ((s->flags & SL_TOK_SKIP_SPECIAL) && (t->tflags[id] & SL_TOKF_SPECIAL)) return SL_OK;
    size_t n = t->dec_len[id];
    SL_TRY(sl_tok_text_reserve(out, n * 3 + 16));
    feed(s, out, (const uint8_t *)t->dec_pool + t->dec_off[id], n);
    out->data[out->n] = '\0';
    return SL_OK;
}

sl_status sl_tok_stream_push(sl_tok_stream *s, int32_t id, sl_tok_text *out)
{
    if (id < 0 || id >= s->tok->n_vocab)
        return SL_FAIL(SL_ERR_ARG, "token id %d out of range [0, %lld)", (int)id, (long long)s->tok->n_vocab);
    return push_id(s, id, out);
}

sl_status sl_tok_stream_flush(sl_tok_stream *s, sl_tok_text *out)
{
    SL_TRY(sl_tok_text_reserve(out, 16));
    drop_pending(s, out);
    out->data[out->n] = '\0';
    return SL_OK;
}

sl_status sl_tokenizer_decode(const sl_tokenizer *t, const int32_t *ids, size_t n, unsigned flags, sl_tok_text *out)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= t->n_vocab)
            return SL_FAIL(SL_ERR_ARG, "token id %d at position %zu out of range [0, %lld)", (int)ids[i], i,
                           (long long)t->n_vocab);
        total += t->dec_len[ids[i]];
    }
    size_t need;
    if (!sl_mul_ok(total, 3, &need)) return SL_FAIL(SL_ERR_ARG, "decoded text too long");
    SL_TRY(sl_tok_text_reserve(out, need + 16));
    sl_tok_stream s;
    sl_tok_stream_init(&s, t, flags);
    for (size_t i = 0; i < n; i++) {
        if ((flags & SL_TOK_SKIP_SPECIAL) && (t->tflags[ids[i]] & SL_TOKF_SPECIAL)) continue;
        feed(&s, out, (const uint8_t *)t->dec_pool + t->dec_off[ids[i]], t->dec_len[ids[i]]);
    }
    drop_pending(&s, out);
    out->data[out->n] = '\0';
    return SL_OK;
}
