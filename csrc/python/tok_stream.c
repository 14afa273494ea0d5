/* tok_stream.c — _core.TokenStream, the streaming decoder a TokenizerBase hands out: push ids,
 * get back only the complete UTF-8 characters they finish. */
#include "python/py_common.h"

#include <stdlib.h>

#include "tokenizer/tokenizer.h"

typedef struct {
    PyObject_HEAD
    PyObject *owner;        /* strong reference to the PyTok whose tokenizer s borrows */
    sl_tok_stream s;
    sl_tok_text buf;        /* owned scratch output */
} PyStream;

/* A stream over owner's tokenizer t (owner keeps t alive). */
PyObject *sl_py_tok_stream_new(PyObject *owner, sl_tokenizer *t, int skip_special)
{
    sl_py_state *st = sl_py_state_of_type(Py_TYPE(owner));
    if (!st) return NULL;
    PyTypeObject *tp = st->types[SL_PY_STREAM];
    PyStream *s = (PyStream *)tp->tp_alloc(tp, 0);
    if (!s) return NULL;
    s->owner = Py_NewRef(owner);
    sl_tok_stream_init(&s->s, t, skip_special ? SL_TOK_SKIP_SPECIAL : 0);
    return (PyObject *)s;
}

static PyObject *stream_result(PyObject *self, sl_status st)
{
    PyStream *s = (PyStream *)self;
    if (st != SL_OK) return sl_py_raise_for(self, st);
    return PyUnicode_DecodeUTF8(s->buf.data ? s->buf.data : "", (Py_ssize_t)s->buf.n, "strict");
}

static PyObject *stream_push(PyObject *self, PyObject *arg)
{
    PyStream *s = (PyStream *)self;
    if (!s->owner) return PyErr_Format(PyExc_ValueError, "stream is closed");
    long long id = PyLong_AsLongLong(arg);
    if (id == -1 && PyErr_Occurred()) return NULL;
    if (id < 0 || id >= sl_tokenizer_vocab_size(s->s.tok))
        return PyErr_Format(PyExc_ValueError, "token id %lld out of range [0, %lld)", id,
                            (long long)sl_tokenizer_vocab_size(s->s.tok));
    s->buf.n = 0;
    return stream_result(self, sl_tok_stream_push(&s->s, (int32_t)id, &s->buf));
}

static PyObject *stream_flush(PyObject *self, PyObject *noargs)
{
    PyStream *s = (PyStream *)self;
    if (!s->owner) return PyErr_Format(PyExc_ValueError, "stream is closed");
    s->buf.n = 0;
    return stream_result(self, sl_tok_stream_flush(&s->s, &s->buf));
}

static void stream_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    PyStream *s = (PyStream *)self;
    Py_CLEAR(s->owner);
    free(s->buf.data);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static int stream_traverse(PyObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(((PyStream *)self)->owner);
    return 0;
}

static int stream_clear(PyObject *self)
{
    Py_CLEAR(((PyStream *)self)->owner);
    return 0;
}

static PyMethodDef stream_methods[] = {
    {"push", stream_push, METH_O, "push(id) -> str: the complete characters this id finishes."},
    {"flush", stream_flush, METH_NOARGS, "flush() -> str: what is left (U+FFFD for an unfinished character)."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot stream_slots[] = {
    {Py_tp_dealloc, stream_dealloc},
    {Py_tp_traverse, stream_traverse},
    {Py_tp_clear, stream_clear},
    {Py_tp_methods, stream_methods},
    {Py_tp_doc, "Streaming decoder: push ids, get only complete UTF-8 characters."},
    {0, NULL},
};

static PyType_Spec stream_spec = {
    .name = "solar._core.TokenStream",
    .basicsize = sizeof(PyStream),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = stream_slots,
};

int sl_py_add_tok_stream(PyObject *module, sl_py_state *st)
{
    return sl_py_add_type(module, st, &stream_spec, SL_PY_STREAM) ? 0 : -1;
}
