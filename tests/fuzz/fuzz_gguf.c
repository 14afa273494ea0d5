/* fuzz_gguf.c — libFuzzer harness for the GGUF reader (csrc/formats/gguf.c, gguf_get.c).
 * Not part of the extension or of CI: build and run it with tests/fuzz/run.sh. Each input is
 * written to a memfd and opened by path (the reader maps files); when it opens, every value,
 * string and tensor byte is read and every lookup is checked, so a bad pointer or length
 * shows up under AddressSanitizer. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "formats/gguf.h"

static volatile uint64_t sink;

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_gguf: invariant broken: %s\n", what);
        abort();
    }
}

static uint64_t visit_value(const sl_gguf_value *v)
{
    uint64_t h = v->type;
    if (v->type == SL_GGUF_STR) {
        for (uint64_t i = 0; i < v->str.len; i++) h += (uint8_t)v->str.ptr[i];
    } else if (v->type != SL_GGUF_ARR) {
        double d = sl_gguf_value_f64(v, 0);
        uint64_t bits;
        memcpy(&bits, &d, sizeof bits);
        h += (uint64_t)sl_gguf_value_i64(v, 0) + bits;
    } else if (v->elem_type == SL_GGUF_STR) {
        for (uint64_t i = 0; i < v->count; i++)
            for (uint64_t k = 0; k < v->strs[i].len; k++) h += (uint8_t)v->strs[i].ptr[k];
    } else if (v->elem_type == SL_GGUF_ARR) {
        for (uint64_t i = 0; i < v->count; i++) h += visit_value(&v->items[i]);
    } else {
        for (uint64_t i = 0; i < v->count; i++) h += (uint64_t)sl_gguf_value_i64(v, i);
    }
    return h;
}

static uint64_t visit(const sl_gguf *g)
{
    uint64_t h = g->alignment + g->data_offset;
    for (int64_t i = 0; i < g->n_kv; i++) {
        const sl_gguf_kv *kv = &g->kv[i];
        check(sl_gguf_find_key(g, kv->key) == i, "find_key");
        h += visit_value(&kv->value);
        int64_t x;
        double d;
        bool b;
        sl_gguf_str s;
        const sl_gguf_str *strs;
        const void *data;
        uint64_t n;
        sl_gguf_type t;
        h += sl_gguf_get_int(g, kv->key, &x) + sl_gguf_get_float(g, kv->key, &d) + sl_gguf_get_bool(g, kv->key, &b);
        h += sl_gguf_get_str(g, kv->key, &s) + sl_gguf_get_arr_str(g, kv->key, &strs, &n);
        h += sl_gguf_get_arr_num(g, kv->key, &data, &n, &t);
    }
    for (int64_t i = 0; i < g->n_tensors; i++) {
        const sl_gguf_tensor *t = &g->tensors[i];
        check(sl_gguf_find_tensor(g, t->name) == i, "find_tensor");
        check((const uint8_t *)t->data >= g->map.data + g->data_offset, "tensor data before the data section");
        check((const uint8_t *)t->data + t->nbytes <= g->map.data + g->map.size, "tensor data past the end");
        check(((uintptr_t)t->data & (g->alignment - 1)) == 0 || g->alignment > 4096, "tensor data alignment");
        const uint8_t *p = t->data;
        for (size_t k = 0; k < t->nbytes; k++) h += p[k];
    }
    return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("gguf-fuzz", 0);
        check(fd >= 0, "memfd_create");
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    check(ftruncate(fd, 0) == 0, "ftruncate");
    for (size_t done = 0; done < size;) {
        ssize_t w = pwrite(fd, data + done, size - done, (off_t)done);
        check(w > 0, "pwrite");
        done += (size_t)w;
    }
    sl_gguf *g = NULL;
    sl_status st = sl_gguf_open(path, &g);
    check((st == SL_OK) == (g != NULL), "status and handle agree");
    check(st == SL_OK || strlen(sl_last_error()) > 0, "failure has a message");
    if (g) sink += visit(g);
    sl_gguf_free(g);
    return 0;
}
