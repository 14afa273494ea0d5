/* pretok_py.c — test hooks for the regex pre-tokenizers (csrc/tokenizer/pretok.h):
 *   _core._pretokenize(kind, text) -> [(start, end), ...] byte offsets into text
 *   _core._pretokenize_count(kind, text, repeat=1) -> number of spans (timing without Python objects)
 *   _core._unicode_classes(text) -> bytes, the class of each code point (unicode.h; 0 for an invalid byte) */
#include "python/py_common.h"

#include <stdlib.h>

#include "tokenizer/pretok.h"
#include "tokenizer/unicode.h"

static PyObject *spans_to_list(const sl_span *spans, size_t n)
{
    PyObject *list = PyList_New((Py_ssize_t)n);
    if (!list) return NULL;
    for (size_t k = 0; k < n; k++) {
        PyObject *t = Py_BuildValue("(nn)", (Py_ssize_t)spans[k].start, (Py_ssize_t)(spans[k].start + spans[k].len));
        if (!t) { Py_DECREF(list); return NULL; }
        PyList_SET_ITEM(list, (Py_ssize_t)k, t);
    }
    return list;
}

static PyObject *py_pretokenize(PyObject *m, PyObject *args)
{
    int kind;
    Py_buffer buf = {0};
    sl_span *spans = NULL;
    size_t n = 0, cap = 0;
    PyObject *result = NULL;
    if (!PyArg_ParseTuple(args, "iy*:_pretokenize", &kind, &buf)) return NULL;
    sl_status st;
    Py_BEGIN_ALLOW_THREADS
    st = sl_pretok_split((sl_pretok_kind)kind, buf.buf, (size_t)buf.len, &spans, &n, &cap);
    Py_END_ALLOW_THREADS
    if (st != SL_OK) {
        sl_py_raise(sl_py_state_of_module(m), st);
        goto fail;
    }
    result = spans_to_list(spans, n);
fail:
    free(spans);
    PyBuffer_Release(&buf);
    return result;
}

static PyObject *py_pretokenize_count(PyObject *m, PyObject *args)
{
    int kind, repeat = 1;
    Py_buffer buf = {0};
    sl_span *spans = NULL;
    size_t n = 0, cap = 0;
    PyObject *result = NULL;
    if (!PyArg_ParseTuple(args, "iy*|i:_pretokenize_count", &kind, &buf, &repeat)) return NULL;
    sl_status st = SL_OK;
    Py_BEGIN_ALLOW_THREADS
    for (int r = 0; r < repeat && st == SL_OK; r++)
        st = sl_pretok_split((sl_pretok_kind)kind, buf.buf, (size_t)buf.len, &spans, &n, &cap);
    Py_END_ALLOW_THREADS
    if (st != SL_OK) {
        sl_py_raise(sl_py_state_of_module(m), st);
        goto fail;
    }
    result = PyLong_FromSize_t(n);
fail:
    free(spans);
    PyBuffer_Release(&buf);
    return result;
}

static PyObject *py_unicode_classes(PyObject *m, PyObject *arg)
{
    Py_buffer buf = {0};
    if (PyObject_GetBuffer(arg, &buf, PyBUF_SIMPLE) < 0) return NULL;
    PyObject *out = PyBytes_FromStringAndSize(NULL, buf.len);   /* at most one class per byte */
    if (!out) goto fail;
    const uint8_t *s = buf.buf;
    char *dst = PyBytes_AS_STRING(out);
    size_t len = (size_t)buf.len, i = 0, k = 0;
    sl_unicode_hint hint = {0, 0, 0};
    while (i < len) {
        size_t n;
        uint32_t cp = sl_utf8_decode(s + i, len - i, &n);
        dst[k++] = (char)(cp == SL_UTF8_INVALID ? SL_UCLS_OTHER : sl_unicode_class(cp, &hint));
        i += n;
    }
    if (_PyBytes_Resize(&out, (Py_ssize_t)k) < 0) out = NULL;
fail:
    PyBuffer_Release(&buf);
    return out;
}

static PyMethodDef pretok_methods[] = {
    {"_pretokenize", py_pretokenize, METH_VARARGS,
     "_pretokenize(kind, text: bytes) -> list of (start, end) byte offsets.\n"
     "kind: 0 none, 1 GPT-2, 2 EXAONE 3 (digits isolated + GPT-2), 3 Llama 3. Test hook."},
    {"_pretokenize_count", py_pretokenize_count, METH_VARARGS,
     "_pretokenize_count(kind, text: bytes, repeat=1) -> number of spans (splits repeat times; for timing)."},
    {"_unicode_classes", py_unicode_classes, METH_O,
     "_unicode_classes(text: bytes) -> bytes: per code point 0 other, 1 \\p{L}, 2 \\p{N}, 3 \\s. Test hook."},
    {NULL, NULL, 0, NULL},
};

int sl_py_add_pretok(PyObject *module, sl_py_state *st) { return PyModule_AddFunctions(module, pretok_methods); }
