/* tok_finalize.c — turn a loaded vocabulary into the tables encoding and decoding use: token
 * flags, byte tables, the BMP char -> id table (SPM), SentencePiece merge ranks from scores, the
 * "may cut words at ▁" check, the decode table and the added-token trie. */
#include <stdlib.h>
#include <string.h>

#include "runtime/runtime.h"
#include "tokenizer/tok_internal.h"

static const char META[3] = {(char)0xE2, (char)0x96, (char)0x81};   /* "▁" U+2581 */

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* "<0xNN>" -> NN, else -1. */
static int byte_piece_value(const char *s, size_t n)
{
    if (n != 6 || s[0] != '<' || s[1] != '0' || s[2] != 'x' || s[5] != '>') return -1;
    int hi = hexval(s[3]), lo = hexval(s[4]);
    return hi < 0 || lo < 0 ? -1 : hi << 4 | lo;
}

static const char *piece(const sl_tokenizer *t, int64_t id) { return t->pool + t->piece_off[id]; }

static sl_status set_flags_and_bytes(sl_tokenizer *t, const char *what)
{
    for (int64_t id = 0; id < t->n_vocab; id++) {
        if (t->piece_off[id] == SL_TOK_NONE)
            return SL_FAIL(SL_ERR_FORMAT, "%s: token id %lld has no text", what, (long long)id);
        uint8_t ty = t->type[id], *fl = &t->tflags[id];
        bool normal = ty == SL_TOK_TYPE_NORMAL || ty == SL_TOK_TYPE_UNUSED || ty == SL_TOK_TYPE_USER_DEFINED;
        if (normal && !(*fl & SL_TOKF_ADDED)) *fl |= SL_TOKF_MERGEABLE;
        if (ty == SL_TOK_TYPE_UNKNOWN && t->unk_id < 0) t->unk_id = (int32_t)id;
        if (t->algo == SL_TOK_ALGO_SPM && ty == SL_TOK_TYPE_BYTE) {
            int b = byte_piece_value(piece(t, id), t->piece_len[id]);
            if (b < 0)
                return SL_FAIL(SL_ERR_FORMAT, "%s: byte token %lld is '%s', not <0xNN>", what, (long long)id,
                               sl_tok_quote(piece(t, id), t->piece_len[id]).s);
            *fl |= SL_TOKF_BYTE;
            if (t->byte_id[b] < 0) t->byte_id[b] = (int32_t)id;
        }
    }
    if (t->algo == SL_TOK_ALGO_BYTE_BPE) {
        for (int b = 0; b < 256; b++) {
            char u[4];
            size_t n = sl_tok_utf8_put(u, sl_tok_byte_to_cp((uint8_t)b));
            t->byte_id[b] = sl_tok_lookup(t, u, n);
        }
    }
    return SL_OK;
}

static sl_status build_char_table(sl_tokenizer *t)
{
    t->char_id = malloc(65536 * sizeof *t->char_id);
    if (!t->char_id) return SL_FAIL(SL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < 65536; i++) t->char_id[i] = -1;
    for (int64_t id = 0; id < t->n_vocab; id++) {
        if (!(t->tflags[id] & SL_TOKF_MERGEABLE)) continue;
        size_t n = t->piece_len[id], cl;
        if (n == 0 || n > 3) continue;
        uint32_t cp = sl_tok_utf8_next((const uint8_t *)piece(t, id), n, &cl);
        if (cl == n && cp < 65536 && t->char_id[cp] < 0) t->char_id[cp] = (int32_t)id;
    }
    return SL_OK;
}

/* Words may be encoded separately when no merge joins a symbol ending in a non-"▁" character
 * with a symbol starting with "▁" (true of every SentencePiece vocabulary split by whitespace). */
static bool check_word_split(const sl_tokenizer *t)
{
    for (size_t i = 0; i < t->pairs.cap; i++) {
        const sl_tok_pair *p = &t->pairs.slots[i];
        if (p->key == UINT64_MAX) continue;
        int32_t l = (int32_t)(p->key >> 32), r = (int32_t)(uint32_t)p->key;
        const char *ls = piece(t, l), *rs = piece(t, r);
        size_t ln = t->piece_len[l], rn = t->piece_len[r];
        bool l_meta_end = ln >= 3 && memcmp(ls + ln - 3, META, 3) == 0;
        bool r_meta_start = rn >= 3 && memcmp(rs, META, 3) == 0;
        if (!l_meta_end && r_meta_start) return false;
    }
    return true;
}

/* The bytes each token decodes to: SPM "▁" -> ' ' and byte pieces -> their byte; byte-level
 * texts mapped back through the GPT-2 alphabet (texts with other characters are copied, as
 * HF's ByteLevel decoder does). */
static sl_status build_decode_table(sl_tokenizer *t)
{
    size_t v = (size_t)(t->n_vocab ? t->n_vocab : 1);
    t->dec_pool = malloc(t->pool_len ? t->pool_len : 1);
    t->dec_off = malloc(v * sizeof *t->dec_off);
    t->dec_len = malloc(v * sizeof *t->dec_len);
    if (!t->dec_pool || !t->dec_off || !t->dec_len) return SL_FAIL(SL_ERR_NOMEM, "out of memory");
    size_t pos = 0;
    for (int64_t id = 0; id < t->n_vocab; id++) {
        const uint8_t *s = (const uint8_t *)piece(t, id);
        size_t n = t->piece_len[id], start = pos;
        char *o = t->dec_pool;
        if (t->tflags[id] & SL_TOKF_BYTE) {
            o[pos++] = (char)byte_piece_value((const char *)s, n);
        } else if (t->algo == SL_TOK_ALGO_SPM) {
            for (size_t k = 0; k < n;) {
                if (k + 3 <= n && memcmp(s + k, META, 3) == 0) { o[pos++] = ' '; k += 3; }
                else o[pos++] = (char)s[k++];
            }
        } else {
            bool mapped = true;
            for (size_t k = 0, cl; k < n && mapped; k += cl) {
                int b = sl_tok_cp_to_byte(sl_tok_utf8_next(s + k, n - k, &cl));
                if (b < 0) mapped = false;
                else o[pos++] = (char)b;
            }
            if (!mapped) { pos = start; memcpy(o + pos, s, n); pos += n; }
        }
        t->dec_off[id] = (uint32_t)start;
        t->dec_len[id] = (uint32_t)(pos - start);
    }
    return SL_OK;
}

static sl_status build_trie(sl_tokenizer *t)
{
    for (int64_t id = 0; id < t->n_vocab; id++) {
        if (!(t->tflags[id] & SL_TOKF_ADDED)) continue;
        SL_TRY(sl_tok_trie_insert(&t->trie, piece(t, id), t->piece_len[id], (int32_t)id));
        if (t->tflags[id] & SL_TOKF_SPECIAL) t->trie.any_special = true;
        else t->trie.any_plain = true;
    }
    return SL_OK;
}

sl_status sl_tok_finalize(sl_tokenizer *t, const char *what)
{
    SL_TRY(sl_tok_index(t));
    SL_TRY(set_flags_and_bytes(t, what));
    if (t->algo == SL_TOK_ALGO_SPM) {
        SL_TRY(build_char_table(t));
        if (t->n_merges == 0) SL_TRY(sl_tok_pairs_from_scores(t));
    }
    t->word_split = t->algo == SL_TOK_ALGO_SPM && check_word_split(t);
    t->dec_per_byte = t->algo == SL_TOK_ALGO_SPM;
    SL_TRY(build_decode_table(t));
    SL_TRY(build_trie(t));
    for (int i = 0; i < t->n_prefix_ids; i++)
        if (t->prefix_ids[i] < 0 || t->prefix_ids[i] >= t->n_vocab) return SL_FAIL(SL_ERR_FORMAT, "%s: bad BOS id", what);
    for (int i = 0; i < t->n_suffix_ids; i++)
        if (t->suffix_ids[i] < 0 || t->suffix_ids[i] >= t->n_vocab) return SL_FAIL(SL_ERR_FORMAT, "%s: bad EOS id", what);
    if (t->bos_id >= t->n_vocab) t->bos_id = -1;
    if (t->eos_id >= t->n_vocab) t->eos_id = -1;
    if (t->unk_id >= t->n_vocab) t->unk_id = -1;
    return SL_OK;
}
