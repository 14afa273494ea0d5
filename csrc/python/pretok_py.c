/* pretok_py.c — test hook for the regex pre-tokenizers (csrc/tokenizer/pretok.h):
 * _core._pretokenize(kind, text) -> [(start, end), ...] byte offsets into text. */
#include "python/py_common.h"

#include <stdlib.h>

#include "tokenizer/pretok.h"

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

static PyMethodDef pretok_methods[] = {
    {"_pretokenize", py_pretokenize, METH_VARARGS,
     "_pretokenize(kind, text: bytes) -> list of (start, end) byte offsets.\n"
     "kind: 0 none, 1 GPT-2, 2 EXAONE 3 (digits isolated + GPT-2), 3 Llama 3. Test hook."},
    {NULL, NULL, 0, NULL},
};

int sl_py_add_pretok(PyObject *module, sl_py_state *st) { return PyModule_AddFunctions(module, pretok_methods); }
