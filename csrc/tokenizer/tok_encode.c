/* tok_encode.c — text -> ids: added tokens matched first (leftmost-longest, HF semantics),
 * then each fragment between them is normalized (SPM: dummy "▁" prefix, spaces -> "▁") or
 * pre-tokenized (byte-level: regex spans), cut into words and merged by tok_bpe.c. BOS/EOS are
 * added around the result on request. The batch API runs texts in parallel with OpenMP. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/runtime.h"
#include "tokenizer/tok_internal.h"

static const char META[3] = {(char)0xE2, (char)0x96, (char)0x81};   /* "▁" U+2581 */

sl_status sl_tok_ids_reserve(sl_tok_ids *out, size_t extra)
{
    if (out->n + extra <= out->cap) return SL_OK;
    size_t cap = out->cap ? out->cap : 64;
    while (cap < out->n + extra) cap *= 2;
    int32_t *d = realloc(out->data, cap * sizeof *d);
    if (!d) return SL_FAIL(SL_ERR_NOMEM, "out of memory for %zu token ids", cap);
    out->data = d;
    out->cap = cap;
    return SL_OK;
}

static bool is_meta(const char *s) { return memcmp(s, META, 3) == 0; }

/* Cut "▁"-escaped text into words that BPE may treat separately (see tok_finalize.c). */
static sl_status spm_words(const sl_tokenizer *t, sl_tok_ws *ws, const char *buf, size_t m, sl_tok_ids *out)
{
    if (!t->meta_split && !t->word_split) return sl_tok_bpe_word(t, ws, buf, m, out);
    size_t start = 0;
    for (size_t p = 1; p + 3 <= m; p++) {
        if ((uint8_t)buf[p] != 0xE2 || !is_meta(buf + p)) continue;
        bool cut = t->meta_split || (p >= 3 && !is_meta(buf + p - 3));
        if (!cut || p == start) continue;
        SL_TRY(sl_tok_bpe_word(t, ws, buf + start, p - start, out));
        start = p;
        p += 2;
    }
    return sl_tok_bpe_word(t, ws, buf + start, m - start, out);
}

static sl_status encode_spm_fragment(const sl_tokenizer *t, sl_tok_ws *ws, const char *text, size_t a, size_t b,
                                     sl_tok_ids *out)
{
    const char *f = text + a;
    size_t n = b - a;
    bool starts_space = f[0] == ' ' || (n >= 3 && is_meta(f));
    bool prefix = t->prefix == SL_TOK_PREFIX_EACH || (t->prefix == SL_TOK_PREFIX_ALWAYS && !starts_space) ||
                  (t->prefix == SL_TOK_PREFIX_FIRST && a == 0 && !starts_space) ||
                  (t->prefix == SL_TOK_PREFIX_ONCE && a == 0);
    size_t cap;
    if (!sl_mul_ok(n, 3, &cap) || !sl_add_ok(cap, 4, &cap)) return SL_FAIL(SL_ERR_ARG, "text too long");
    char *buf = sl_tok_ws_buf(ws, cap);
    if (!buf) return SL_FAIL(SL_ERR_NOMEM, "out of memory for %zu bytes", cap);
    size_t m = 0;
    if (prefix) { memcpy(buf, META, 3); m = 3; }
    if (t->escape_ws) {
        for (size_t k = 0; k < n; k++) {
            if (f[k] == ' ') { memcpy(buf + m, META, 3); m += 3; }
            else buf[m++] = f[k];
        }
    } else {
        memcpy(buf + m, f, n);
        m += n;
    }
    return spm_words(t, ws, buf, m, out);
}

static sl_status encode_byte_fragment(const sl_tokenizer *t, sl_tok_ws *ws, const char *text, size_t a, size_t b,
                                      sl_tok_ids *out)
{
    const char *f = text + a;
    size_t n = b - a;
    if (t->add_prefix_space && f[0] != ' ') {
        char *buf = sl_tok_ws_buf(ws, n + 1);
        if (!buf) return SL_FAIL(SL_ERR_NOMEM, "out of memory for %zu bytes", n + 1);
        buf[0] = ' ';
        memcpy(buf + 1, f, n);
        f = buf;
        n++;
    }
    size_t *cap, n_spans = 0;
    sl_span **spans = sl_tok_ws_spans(ws, &cap);
    SL_TRY(sl_pretok_split(t->pretok, f, n, spans, &n_spans, cap));
    for (size_t i = 0; i < n_spans; i++) {
        sl_span s = (*spans)[i];
        if (s.start > n || s.len > n - s.start) return SL_FAIL(SL_ERR_INTERNAL, "pre-tokenizer span out of range");
        SL_TRY(sl_tok_bpe_word(t, ws, f + s.start, s.len, out));
    }
    return SL_OK;
}

static sl_status encode_fragment(const sl_tokenizer *t, sl_tok_ws *ws, const char *text, size_t a, size_t b,
                                 sl_tok_ids *out)
{
    if (a >= b) return SL_OK;
    if (t->algo == SL_TOK_ALGO_SPM) return encode_spm_fragment(t, ws, text, a, b, out);
    return encode_byte_fragment(t, ws, text, a, b, out);
}

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

/* Split at added tokens, encode what lies between. */
static sl_status encode_text(const sl_tokenizer *t, sl_tok_ws *ws, const char *text, size_t len, unsigned flags,
                             sl_tok_ids *out)
{
    size_t frag = 0;
    bool scan = t->trie.n_nodes && ((flags & SL_TOK_PARSE_SPECIAL) || t->trie.any_plain);
    for (size_t i = 0; scan && i < len;) {
        if (t->trie.root[(uint8_t)text[i]] < 0) { i++; continue; }
        size_t end;
        int32_t id = sl_tok_trie_match(t, text, len, i, flags, &end);
        if (id < 0) { i++; continue; }
        size_t ms = i, me = end;
        if (t->tflags[id] & SL_TOKF_LSTRIP) while (ms > frag && is_ws(text[ms - 1])) ms--;
        if (t->tflags[id] & SL_TOKF_RSTRIP) while (me < len && is_ws(text[me])) me++;
        if (ms == 0 && t->prefix == SL_TOK_PREFIX_ONCE) SL_TRY(spm_words(t, ws, META, 3, out));
        SL_TRY(encode_fragment(t, ws, text, frag, ms, out));
        SL_TRY(sl_tok_ids_push(out, id));
        frag = i = me;
    }
    return encode_fragment(t, ws, text, frag, len, out);
}

/* SentencePiece's remove_extra_whitespaces: drop leading and trailing spaces, squeeze runs. */
static sl_status squeeze_spaces(const char *text, size_t len, char **out, size_t *out_len)
{
    char *b = malloc(len ? len : 1);
    if (!b) return SL_FAIL(SL_ERR_NOMEM, "out of memory for %zu bytes", len);
    size_t m = 0;
    for (size_t k = 0; k < len; k++) {
        if (text[k] == ' ' && (m == 0 || b[m - 1] == ' ')) continue;
        b[m++] = text[k];
    }
    while (m && b[m - 1] == ' ') m--;
    *out = b;
    *out_len = m;
    return SL_OK;
}

static sl_status encode_with(const sl_tokenizer *t, sl_tok_ws *ws, const char *text, size_t len, unsigned flags,
                             sl_tok_ids *out)
{
    if (!text && len) return SL_FAIL(SL_ERR_ARG, "NULL text");
    if (flags & SL_TOK_ADD_SPECIAL)
        for (int i = 0; i < t->n_prefix_ids; i++) SL_TRY(sl_tok_ids_push(out, t->prefix_ids[i]));
    sl_status st;
    if (t->remove_extra_ws && len) {
        char *norm = NULL;
        size_t nlen = 0;
        SL_TRY(squeeze_spaces(text, len, &norm, &nlen));
        st = encode_text(t, ws, norm, nlen, flags, out);
        free(norm);
    } else {
        st = encode_text(t, ws, text ? text : "", len, flags, out);
    }
    if (st != SL_OK) return st;
    if (flags & SL_TOK_ADD_SPECIAL)
        for (int i = 0; i < t->n_suffix_ids; i++) SL_TRY(sl_tok_ids_push(out, t->suffix_ids[i]));
    return SL_OK;
}

sl_status sl_tokenizer_encode(const sl_tokenizer *t, const char *text, size_t len, unsigned flags, sl_tok_ids *out)
{
    sl_tok_ws *ws = sl_tok_ws_take(t);
    if (!ws) return SL_FAIL(SL_ERR_NOMEM, "out of memory");
    sl_status st = encode_with(t, ws, text, len, flags, out);
    sl_tok_ws_give(t, ws);
    return st;
}

sl_status sl_tokenizer_encode_batch(const sl_tokenizer *t, size_t n, const char *const *texts, const size_t *lens,
                                    unsigned flags, int n_threads, sl_tok_ids *outs)
{
    int nt = sl_threads_resolve(n_threads);
    if ((size_t)nt > n) nt = n ? (int)n : 1;
    if (nt <= 1) {
        for (size_t i = 0; i < n; i++) SL_TRY(sl_tokenizer_encode(t, texts[i], lens[i], flags, &outs[i]));
        return SL_OK;
    }
    sl_status first = SL_OK;
    char msg[1024] = "";
    #pragma omp parallel num_threads(nt)
    {
        sl_tok_ws *ws = sl_tok_ws_take(t);
        #pragma omp for schedule(dynamic, 4)
        for (size_t i = 0; i < n; i++) {
            sl_tok_ids local = outs[i];   /* a private copy: outs[] entries share cache lines */
            sl_status st = ws ? encode_with(t, ws, texts[i], lens[i], flags, &local)
                              : SL_FAIL(SL_ERR_NOMEM, "out of memory");
            outs[i] = local;
            if (st != SL_OK) {
                #pragma omp critical(sl_tok_batch_error)
                if (first == SL_OK) { first = st; snprintf(msg, sizeof msg, "%s", sl_last_error()); }
            }
        }
        sl_tok_ws_give(t, ws);
    }
    return first == SL_OK ? SL_OK : sl_fail(first, "%s", msg);
}

/* ---- small queries ---- */

sl_tok_algo sl_tokenizer_algo(const sl_tokenizer *t) { return t->algo; }
int64_t sl_tokenizer_vocab_size(const sl_tokenizer *t) { return t->n_vocab; }
int32_t sl_tokenizer_bos_id(const sl_tokenizer *t) { return t->bos_id; }
int32_t sl_tokenizer_eos_id(const sl_tokenizer *t) { return t->eos_id; }
bool sl_tokenizer_adds_bos(const sl_tokenizer *t) { return t->n_prefix_ids > 0; }
bool sl_tokenizer_adds_eos(const sl_tokenizer *t) { return t->n_suffix_ids > 0; }

const char *sl_tokenizer_piece(const sl_tokenizer *t, int32_t id, size_t *len)
{
    if (id < 0 || id >= t->n_vocab) return NULL;
    *len = t->piece_len[id];
    return t->pool + t->piece_off[id];
}

int32_t sl_tokenizer_find_piece(const sl_tokenizer *t, const char *text, size_t len) { return sl_tok_lookup(t, text, len); }

bool sl_tokenizer_is_special(const sl_tokenizer *t, int32_t id)
{
    return id >= 0 && id < t->n_vocab && (t->tflags[id] & SL_TOKF_SPECIAL);
}
