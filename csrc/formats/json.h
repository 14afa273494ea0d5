/* json.h — a small strict JSON reader (RFC 8259) for safetensors headers, config.json and
 * tokenizer files. The whole document lives in one arena; nodes are read-only after parse. */
#ifndef SL_JSON_H
#define SL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "solar.h"

typedef enum sl_json_type {
    SL_JSON_NULL, SL_JSON_BOOL, SL_JSON_NUMBER, SL_JSON_STRING, SL_JSON_ARRAY, SL_JSON_OBJECT
} sl_json_type;

typedef struct sl_json sl_json;
struct sl_json {
    sl_json_type type;
    bool is_int;          /* NUMBER written without fraction/exponent and fits int64 */
    bool boolean;
    int64_t i;            /* NUMBER: exact value when is_int */
    double num;           /* NUMBER */
    const char *str;      /* STRING: UTF-8, NUL-terminated (may contain NUL); OBJECT keys: see keys */
    size_t len;           /* STRING: bytes; ARRAY/OBJECT: number of items */
    sl_json *items;       /* ARRAY/OBJECT: children (borrowed from the arena) */
    const char **keys;    /* OBJECT: keys, parallel to items */
    size_t *key_lens;     /* OBJECT */
    size_t offset;        /* byte offset of this value in the text (for messages) */
};

typedef struct sl_json_doc sl_json_doc;

/* Parse text[0:len]. `what` names the source in error messages ("config.json"). */
sl_status sl_json_parse(const char *text, size_t len, const char *what, sl_json_doc **out);
void sl_json_free(sl_json_doc *doc);                  /* accepts NULL */
const sl_json *sl_json_root(const sl_json_doc *doc);

/* Lookups return NULL when absent or when the node is not of the needed type. */
const sl_json *sl_json_get(const sl_json *obj, const char *key);
const sl_json *sl_json_get_type(const sl_json *obj, const char *key, sl_json_type type);
bool sl_json_get_int(const sl_json *obj, const char *key, int64_t *out);
bool sl_json_get_num(const sl_json *obj, const char *key, double *out);
bool sl_json_get_bool(const sl_json *obj, const char *key, bool *out);
const char *sl_json_get_str(const sl_json *obj, const char *key);

#endif /* SL_JSON_H */
