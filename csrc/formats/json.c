/* json.c — strict recursive-descent JSON parser into one arena. Children of a container are
 * gathered on a scratch stack and copied into the arena when the container closes, so the
 * parse is linear in the input. Nesting is limited (hostile input cannot blow the C stack). */
#include "formats/json.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/runtime.h"

#define JSON_MAX_DEPTH 200
#define ARENA_CHUNK (1u << 20)

typedef struct arena_chunk { struct arena_chunk *next; size_t used, cap; char data[]; } arena_chunk;

struct sl_json_doc {
    arena_chunk *chunks;   /* owned */
    sl_json root;
};

typedef struct parser {
    const char *s, *end, *begin;
    const char *what;
    sl_json_doc *doc;
    sl_json *stack;        /* owned scratch stack of finished children */
    const char **kstack;   /* owned scratch stack of keys (objects) */
    size_t *klstack;
    size_t top, cap;
    int depth;
} parser;

static void *arena_alloc(sl_json_doc *doc, size_t bytes)
{
    bytes = (bytes + 7) & ~(size_t)7;
    arena_chunk *c = doc->chunks;
    if (!c || c->cap - c->used < bytes) {
        size_t cap = bytes > ARENA_CHUNK ? bytes : ARENA_CHUNK;
        arena_chunk *n = malloc(sizeof *n + cap);
        if (!n) return NULL;
        n->next = doc->chunks; n->used = 0; n->cap = cap;
        doc->chunks = c = n;
    }
    void *p = c->data + c->used;
    c->used += bytes;
    return p;
}

static sl_status fail_at(parser *p, const char *msg)
{
    return sl_fail(SL_ERR_FORMAT, "%s: invalid JSON at byte %zu: %s", p->what, (size_t)(p->s - p->begin), msg);
}

static void skip_ws(parser *p)
{
    while (p->s < p->end && (*p->s == ' ' || *p->s == '\n' || *p->s == '\r' || *p->s == '\t')) p->s++;
}

static sl_status push(parser *p, const sl_json *v, const char *key, size_t klen)
{
    if (p->top == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 256;
        sl_json *s = realloc(p->stack, cap * sizeof *s);
        if (s) p->stack = s;
        const char **k = realloc(p->kstack, cap * sizeof *k);
        if (k) p->kstack = k;
        size_t *kl = realloc(p->klstack, cap * sizeof *kl);
        if (kl) p->klstack = kl;
        if (!s || !k || !kl) return SL_FAIL(SL_ERR_NOMEM, "out of memory parsing %s", p->what);
        p->cap = cap;
    }
    p->stack[p->top] = *v;
    p->kstack[p->top] = key;
    p->klstack[p->top] = klen;
    p->top++;
    return SL_OK;
}

static int hex4(const char *s)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

static size_t put_utf8(char *o, uint32_t cp)
{
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xc0 | cp >> 6); o[1] = (char)(0x80 | (cp & 63)); return 2; }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12); o[1] = (char)(0x80 | ((cp >> 6) & 63)); o[2] = (char)(0x80 | (cp & 63));
        return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18); o[1] = (char)(0x80 | ((cp >> 12) & 63));
    o[2] = (char)(0x80 | ((cp >> 6) & 63)); o[3] = (char)(0x80 | (cp & 63));
    return 4;
}

/* Parse a string at p->s (on the opening quote); result in arena (NUL-terminated). */
static sl_status parse_string(parser *p, const char **out, size_t *out_len)
{
    const char *s = ++p->s;
    const char *q = s;
    int has_escape = 0;
    while (q < p->end && *q != '"') {
        if ((unsigned char)*q < 0x20) { p->s = q; return fail_at(p, "control character in string"); }
        if (*q == '\\') { has_escape = 1; q++; }
        q++;
    }
    if (q >= p->end) return fail_at(p, "unterminated string");
    size_t raw = (size_t)(q - s);
    char *o = arena_alloc(p->doc, raw + 1);
    if (!o) return SL_FAIL(SL_ERR_NOMEM, "out of memory parsing %s", p->what);
    if (!has_escape) {
        memcpy(o, s, raw);
        o[raw] = '\0';
        *out = o; *out_len = raw;
        p->s = q + 1;
        return SL_OK;
    }
    size_t n = 0;
    while (s < q) {
        if (*s != '\\') { o[n++] = *s++; continue; }
        s++;
        char c = *s++;
        switch (c) {
        case '"': o[n++] = '"'; break;
        case '\\': o[n++] = '\\'; break;
        case '/': o[n++] = '/'; break;
        case 'b': o[n++] = '\b'; break;
        case 'f': o[n++] = '\f'; break;
        case 'n': o[n++] = '\n'; break;
        case 'r': o[n++] = '\r'; break;
        case 't': o[n++] = '\t'; break;
        case 'u': {
            if (q - s < 4 || hex4(s) < 0) { p->s = s; return fail_at(p, "bad \\u escape"); }
            uint32_t cp = (uint32_t)hex4(s);
            s += 4;
            if (cp >= 0xd800 && cp < 0xdc00 && q - s >= 6 && s[0] == '\\' && s[1] == 'u') {
                int lo = hex4(s + 2);
                if (lo >= 0xdc00 && lo < 0xe000) { cp = 0x10000 + ((cp - 0xd800) << 10) + ((uint32_t)lo - 0xdc00); s += 6; }
            }
            n += put_utf8(o + n, cp);   /* a lone surrogate is kept as WTF-8 (3 bytes) */
            break;
        }
        default: p->s = s - 1; return fail_at(p, "bad escape");
        }
    }
    o[n] = '\0';
    *out = o; *out_len = n;
    p->s = q + 1;
    return SL_OK;
}

static sl_status parse_number(parser *p, sl_json *v)
{
    const char *s = p->s;
    const char *q = s;
    if (q < p->end && *q == '-') q++;
    if (q >= p->end || !(*q >= '0' && *q <= '9')) return fail_at(p, "bad number");
    if (*q == '0') q++;
    else while (q < p->end && *q >= '0' && *q <= '9') q++;
    int is_int = 1;
    if (q < p->end && *q == '.') {
        is_int = 0; q++;
        if (q >= p->end || !(*q >= '0' && *q <= '9')) return fail_at(p, "bad fraction");
        while (q < p->end && *q >= '0' && *q <= '9') q++;
    }
    if (q < p->end && (*q == 'e' || *q == 'E')) {
        is_int = 0; q++;
        if (q < p->end && (*q == '+' || *q == '-')) q++;
        if (q >= p->end || !(*q >= '0' && *q <= '9')) return fail_at(p, "bad exponent");
        while (q < p->end && *q >= '0' && *q <= '9') q++;
    }
    char buf[64];
    size_t n = (size_t)(q - s);
    if (n >= sizeof buf) {  /* very long literal: parse as double via a heap copy */
        char *tmp = malloc(n + 1);
        if (!tmp) return SL_FAIL(SL_ERR_NOMEM, "out of memory");
        memcpy(tmp, s, n); tmp[n] = '\0';
        v->num = strtod(tmp, NULL);
        free(tmp);
        is_int = 0;
    } else {
        memcpy(buf, s, n); buf[n] = '\0';
        v->num = strtod(buf, NULL);
        if (is_int) {
            errno = 0;
            long long ll = strtoll(buf, NULL, 10);
            if (errno == ERANGE) is_int = 0; else v->i = (int64_t)ll;
        }
    }
    v->type = SL_JSON_NUMBER;
    v->is_int = is_int;
    p->s = q;
    return SL_OK;
}

static sl_status parse_value(parser *p, sl_json *v);

static sl_status finish_container(parser *p, sl_json *v, size_t base, int is_object)
{
    size_t n = p->top - base;
    v->len = n;
    v->items = arena_alloc(p->doc, n * sizeof(sl_json) + 1);
    if (!v->items) return SL_FAIL(SL_ERR_NOMEM, "out of memory parsing %s", p->what);
    memcpy(v->items, p->stack + base, n * sizeof(sl_json));
    if (is_object) {
        v->keys = arena_alloc(p->doc, n * sizeof(char *) + 1);
        v->key_lens = arena_alloc(p->doc, n * sizeof(size_t) + 1);
        if (!v->keys || !v->key_lens) return SL_FAIL(SL_ERR_NOMEM, "out of memory parsing %s", p->what);
        memcpy(v->keys, p->kstack + base, n * sizeof(char *));
        memcpy(v->key_lens, p->klstack + base, n * sizeof(size_t));
    }
    p->top = base;
    return SL_OK;
}

static sl_status parse_container(parser *p, sl_json *v, int is_object)
{
    if (++p->depth > JSON_MAX_DEPTH) return fail_at(p, "nesting too deep");
    char close = is_object ? '}' : ']';
    v->type = is_object ? SL_JSON_OBJECT : SL_JSON_ARRAY;
    p->s++;
    size_t base = p->top;
    skip_ws(p);
    if (p->s < p->end && *p->s == close) { p->s++; p->depth--; return finish_container(p, v, base, is_object); }
    for (;;) {
        const char *key = NULL;
        size_t klen = 0;
        skip_ws(p);
        if (is_object) {
            if (p->s >= p->end || *p->s != '"') return fail_at(p, "expected a string key");
            SL_TRY(parse_string(p, &key, &klen));
            skip_ws(p);
            if (p->s >= p->end || *p->s != ':') return fail_at(p, "expected ':'");
            p->s++;
            skip_ws(p);
        }
        sl_json child;
        SL_TRY(parse_value(p, &child));
        SL_TRY(push(p, &child, key, klen));
        skip_ws(p);
        if (p->s < p->end && *p->s == ',') { p->s++; continue; }
        if (p->s < p->end && *p->s == close) { p->s++; break; }
        return fail_at(p, is_object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
    p->depth--;
    return finish_container(p, v, base, is_object);
}

static sl_status parse_literal(parser *p, const char *lit, sl_json *v, sl_json_type type, bool b)
{
    size_t n = strlen(lit);
    if ((size_t)(p->end - p->s) < n || memcmp(p->s, lit, n) != 0) return fail_at(p, "unexpected token");
    p->s += n;
    v->type = type;
    v->boolean = b;
    return SL_OK;
}

static sl_status parse_value(parser *p, sl_json *v)
{
    memset(v, 0, sizeof *v);
    skip_ws(p);
    if (p->s >= p->end) return fail_at(p, "unexpected end of input");
    v->offset = (size_t)(p->s - p->begin);
    switch (*p->s) {
    case '{': return parse_container(p, v, 1);
    case '[': return parse_container(p, v, 0);
    case '"': v->type = SL_JSON_STRING; return parse_string(p, &v->str, &v->len);
    case 't': return parse_literal(p, "true", v, SL_JSON_BOOL, true);
    case 'f': return parse_literal(p, "false", v, SL_JSON_BOOL, false);
    case 'n': return parse_literal(p, "null", v, SL_JSON_NULL, false);
    default: return parse_number(p, v);
    }
}

sl_status sl_json_parse(const char *text, size_t len, const char *what, sl_json_doc **out)
{
    *out = NULL;
    sl_json_doc *doc = calloc(1, sizeof *doc);
    if (!doc) return SL_FAIL(SL_ERR_NOMEM, "out of memory");
    parser p = { .s = text, .end = text + len, .begin = text, .what = what ? what : "JSON", .doc = doc };
    sl_status st = parse_value(&p, &doc->root);
    if (st == SL_OK) {
        skip_ws(&p);
        if (p.s != p.end) st = fail_at(&p, "trailing data after the JSON value");
    }
    free(p.stack); free(p.kstack); free(p.klstack);
    if (st != SL_OK) { sl_json_free(doc); return st; }
    *out = doc;
    return SL_OK;
}

void sl_json_free(sl_json_doc *doc)
{
    if (!doc) return;
    for (arena_chunk *c = doc->chunks; c;) { arena_chunk *n = c->next; free(c); c = n; }
    free(doc);
}

const sl_json *sl_json_root(const sl_json_doc *doc) { return &doc->root; }

const sl_json *sl_json_get(const sl_json *obj, const char *key)
{
    if (!obj || obj->type != SL_JSON_OBJECT) return NULL;
    size_t kl = strlen(key);
    for (size_t i = 0; i < obj->len; i++)   /* last duplicate wins, like Python's json */
        if (obj->key_lens[obj->len - 1 - i] == kl && memcmp(obj->keys[obj->len - 1 - i], key, kl) == 0)
            return &obj->items[obj->len - 1 - i];
    return NULL;
}

const sl_json *sl_json_get_type(const sl_json *obj, const char *key, sl_json_type type)
{
    const sl_json *v = sl_json_get(obj, key);
    return v && v->type == type ? v : NULL;
}

bool sl_json_get_int(const sl_json *obj, const char *key, int64_t *out)
{
    const sl_json *v = sl_json_get_type(obj, key, SL_JSON_NUMBER);
    if (!v) return false;
    if (v->is_int) { *out = v->i; return true; }
    if (v->num != floor(v->num) || fabs(v->num) > 9.0e15) return false;
    *out = (int64_t)v->num;
    return true;
}

bool sl_json_get_num(const sl_json *obj, const char *key, double *out)
{
    const sl_json *v = sl_json_get_type(obj, key, SL_JSON_NUMBER);
    if (v) *out = v->num;
    return v != NULL;
}

bool sl_json_get_bool(const sl_json *obj, const char *key, bool *out)
{
    const sl_json *v = sl_json_get_type(obj, key, SL_JSON_BOOL);
    if (v) *out = v->boolean;
    return v != NULL;
}

const char *sl_json_get_str(const sl_json *obj, const char *key)
{
    const sl_json *v = sl_json_get_type(obj, key, SL_JSON_STRING);
    return v ? v->str : NULL;
}
