/* session.c — solar._core.Session (KV cache of one sequence) and Model.forward, which runs
 * tokens through a session writing straight into caller-provided NumPy arrays. */
#include "python/py_model.h"
#include "runtime/dtype.h"

PyObject *sl_py_tensor_view(PyObject *owner, const sl_tensor *t);

static void session_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    sl_py_session *s = (sl_py_session *)self;
    sl_session_free(s->session);
    Py_CLEAR(s->model);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static int session_traverse(PyObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(((sl_py_session *)self)->model);
    return 0;
}

static PyObject *session_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"model", "n_ctx", "kv_dtype", NULL};
    PyObject *model;
    long long n_ctx;
    const char *kv_name = "f32";
    sl_py_state *st = sl_py_state_of_type(type);
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O!L|s", kwlist, st->types[SL_PY_MODEL], &model, &n_ctx, &kv_name))
        return NULL;
    int kv_dtype = sl_dtype_from_name(kv_name);
    if (kv_dtype != SL_DTYPE_F32 && kv_dtype != SL_DTYPE_F16)
        return PyErr_Format(PyExc_ValueError, "kv_dtype must be 'f32' or 'f16', got '%s'", kv_name);
    sl_session *sess = NULL;
    sl_status status = sl_session_init(&sess, ((sl_py_model *)model)->model, n_ctx, (sl_dtype)kv_dtype);
    if (status != SL_OK) return sl_py_raise(st, status);
    sl_py_session *o = (sl_py_session *)type->tp_alloc(type, 0);
    if (!o) { sl_session_free(sess); return NULL; }
    o->session = sess;
    o->model = Py_NewRef(model);
    return (PyObject *)o;
}

static int check_idle(sl_py_session *s)
{
    if (!s->busy) return 0;
    PyErr_SetString(PyExc_RuntimeError, "this session is being used by another thread");
    return -1;
}

static PyObject *session_reset(PyObject *self, PyObject *noargs)
{
    sl_py_session *s = (sl_py_session *)self;
    if (check_idle(s) < 0) return NULL;
    sl_session_reset(s->session);
    Py_RETURN_NONE;
}

static PyObject *session_truncate(PyObject *self, PyObject *arg)
{
    sl_py_session *s = (sl_py_session *)self;
    long long n = PyLong_AsLongLong(arg);
    if (n == -1 && PyErr_Occurred()) return NULL;
    if (check_idle(s) < 0) return NULL;
    sl_status st = sl_session_truncate(s->session, n);
    if (st != SL_OK) return sl_py_raise_for(self, st);
    Py_RETURN_NONE;
}

static PyObject *session_n_past(PyObject *self, void *c) { return PyLong_FromLongLong(((sl_py_session *)self)->session->n_past); }
static PyObject *session_n_ctx(PyObject *self, void *c) { return PyLong_FromLongLong(((sl_py_session *)self)->session->n_ctx); }
static PyObject *session_model(PyObject *self, void *c) { return Py_NewRef(((sl_py_session *)self)->model); }
static PyObject *session_kv_dtype(PyObject *self, void *c)
{
    return PyUnicode_FromString(sl_dtype_name(((sl_py_session *)self)->session->kv_dtype));
}

static int cache_npy_type(const sl_session *s) { return s->kv_dtype == SL_DTYPE_F16 ? NPY_FLOAT16 : NPY_FLOAT32; }

/* View of the K or V cache: (L, n_ctx, Hkv*Dh) float32 or float16; positions >= n_past are stale. */
static PyObject *cache_view(PyObject *self, void *data)
{
    const sl_session *s = ((sl_py_session *)self)->session;
    npy_intp dims[3] = {(npy_intp)s->model->hp.n_layers, (npy_intp)s->n_ctx, (npy_intp)s->kv_dim};
    PyObject *arr = PyArray_New(&PyArray_Type, 3, dims, cache_npy_type(s), NULL, data, 0,
                                NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED, NULL);
    if (!arr) return NULL;
    if (PyArray_SetBaseObject((PyArrayObject *)arr, Py_NewRef(self)) < 0) { Py_DECREF(arr); return NULL; }
    return arr;
}

static PyObject *session_k(PyObject *self, void *c) { return cache_view(self, ((sl_py_session *)self)->session->k_cache); }
static PyObject *session_v(PyObject *self, void *c) { return cache_view(self, ((sl_py_session *)self)->session->v_cache); }

/* An output array must be float32, C-contiguous, writeable, of exactly this shape. */
static int check_out(PyObject *o, const char *what, int nd, const npy_intp *dims)
{
    if (!PyArray_Check(o)) { PyErr_Format(PyExc_TypeError, "%s must be a NumPy array", what); return -1; }
    PyArrayObject *a = (PyArrayObject *)o;
    if (PyArray_TYPE(a) != NPY_FLOAT32 || !PyArray_IS_C_CONTIGUOUS(a) || !PyArray_ISWRITEABLE(a) || !PyArray_ISALIGNED(a)) {
        PyErr_Format(PyExc_ValueError, "%s must be a writeable, C-contiguous float32 array", what);
        return -1;
    }
    int ok = PyArray_NDIM(a) == nd;
    for (int d = 0; ok && d < nd; d++) ok = PyArray_DIM(a, d) == dims[d];
    if (!ok) { PyErr_Format(PyExc_ValueError, "%s has the wrong shape", what); return -1; }
    return 0;
}

PyObject *sl_py_model_forward(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"tokens", "session", "logits", "logits_all", "hidden", NULL};
    PyObject *tok_obj, *sess_obj, *logits = Py_None, *hidden = Py_None;
    int logits_all = 1;
    sl_py_state *st = sl_py_state_of_type(Py_TYPE(self));
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO!|OpO", kwlist, &tok_obj, st->types[SL_PY_SESSION], &sess_obj,
                                     &logits, &logits_all, &hidden))
        return NULL;
    sl_py_session *ps = (sl_py_session *)sess_obj;
    const sl_model *m = ((sl_py_model *)self)->model;
    if (ps->session->model != m) return PyErr_Format(PyExc_ValueError, "the session belongs to another model");
    if (check_idle(ps) < 0) return NULL;
    PyArrayObject *tok = (PyArrayObject *)PyArray_FROMANY(tok_obj, NPY_INT32, 1, 1, NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED);
    if (!tok) return NULL;
    npy_intp T = PyArray_DIM(tok, 0);
    npy_intp ldims[2] = {logits_all ? T : 1, (npy_intp)m->hp.n_vocab};
    npy_intp hdims[3] = {(npy_intp)m->hp.n_layers + 1, T, (npy_intp)m->hp.n_embd};
    if ((logits != Py_None && check_out(logits, "logits", 2, ldims) < 0) ||
        (hidden != Py_None && check_out(hidden, "hidden", 3, hdims) < 0)) {
        Py_DECREF(tok);
        return NULL;
    }
    float *lp = logits != Py_None ? PyArray_DATA((PyArrayObject *)logits) : NULL;
    float *hp = hidden != Py_None ? PyArray_DATA((PyArrayObject *)hidden) : NULL;
    const int32_t *ids = PyArray_DATA(tok);
    sl_status status;
    ps->busy = 1;
    Py_BEGIN_ALLOW_THREADS
    status = sl_model_forward(m, ps->session, ids, (int64_t)T, lp, logits_all != 0, hp);
    Py_END_ALLOW_THREADS
    ps->busy = 0;
    Py_DECREF(tok);
    if (status != SL_OK) return sl_py_raise(st, status);
    Py_RETURN_NONE;
}

/* _restore(k, v): copy (L, n, Hkv*Dh) arrays into the cache (cast to its type) and set n_past = n. */
static PyObject *session_restore(PyObject *self, PyObject *args)
{
    PyObject *ko, *vo;
    if (!PyArg_ParseTuple(args, "OO", &ko, &vo)) return NULL;
    sl_py_session *ps = (sl_py_session *)self;
    if (check_idle(ps) < 0) return NULL;
    sl_session *s = ps->session;
    int npt = cache_npy_type(s);
    int flags = NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED | NPY_ARRAY_FORCECAST;
    PyArrayObject *k = (PyArrayObject *)PyArray_FROMANY(ko, npt, 3, 3, flags);
    PyArrayObject *v = k ? (PyArrayObject *)PyArray_FROMANY(vo, npt, 3, 3, flags) : NULL;
    if (!k || !v) { Py_XDECREF(k); Py_XDECREF(v); return NULL; }
    npy_intp n = PyArray_DIM(k, 1);
    int ok = PyArray_DIM(k, 0) == s->model->hp.n_layers && PyArray_DIM(k, 2) == s->kv_dim && n <= s->n_ctx &&
             PyArray_NDIM(v) == 3 && PyArray_DIM(v, 0) == PyArray_DIM(k, 0) && PyArray_DIM(v, 1) == n &&
             PyArray_DIM(v, 2) == s->kv_dim;
    if (!ok) {
        Py_DECREF(k); Py_DECREF(v);
        return PyErr_Format(PyExc_ValueError, "cache arrays must be (%lld, n <= %lld, %lld)",
                            (long long)s->model->hp.n_layers, (long long)s->n_ctx, (long long)s->kv_dim);
    }
    size_t row = (size_t)n * (size_t)s->kv_dim * s->kv_esize;          /* bytes of one layer's n rows */
    size_t layer = (size_t)s->n_ctx * (size_t)s->kv_dim * s->kv_esize;
    for (int64_t l = 0; l < s->model->hp.n_layers; l++) {
        memcpy((char *)s->k_cache + (size_t)l * layer, (const char *)PyArray_DATA(k) + (size_t)l * row, row);
        memcpy((char *)s->v_cache + (size_t)l * layer, (const char *)PyArray_DATA(v) + (size_t)l * row, row);
    }
    s->n_past = n;
    Py_DECREF(k); Py_DECREF(v);
    Py_RETURN_NONE;
}

static PyMethodDef session_methods[] = {
    {"_restore", session_restore, METH_VARARGS, "_restore(k, v): load cached keys/values (L, n, Hkv*Dh)."},
    {"reset", session_reset, METH_NOARGS, "Forget every cached token."},
    {"truncate", session_truncate, METH_O, "truncate(n): keep the first n cached tokens."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef session_getset[] = {
    {"n_past", session_n_past, NULL, "tokens in the cache", NULL},
    {"n_ctx", session_n_ctx, NULL, "capacity in tokens", NULL},
    {"model", session_model, NULL, "the core model this session runs", NULL},
    {"kv_dtype", session_kv_dtype, NULL, "element type of the KV cache: 'f32' or 'f16'", NULL},
    {"k_cache", session_k, NULL, "view (L, n_ctx, Hkv*Dh) of the key cache, float32 or float16", NULL},
    {"v_cache", session_v, NULL, "view (L, n_ctx, Hkv*Dh) of the value cache, float32 or float16", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot session_slots[] = {
    {Py_tp_new, session_new},
    {Py_tp_dealloc, session_dealloc},
    {Py_tp_traverse, session_traverse},
    {Py_tp_methods, session_methods},
    {Py_tp_getset, session_getset},
    {Py_tp_doc, "Session(model, n_ctx, kv_dtype='f32'): the KV cache of one sequence."},
    {0, NULL},
};

static PyType_Spec session_spec = {
    .name = "solar._core.Session",
    .basicsize = sizeof(sl_py_session),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = session_slots,
};

int sl_py_add_session(PyObject *module, sl_py_state *st)
{
    return sl_py_add_type(module, st, &session_spec, SL_PY_SESSION) ? 0 : -1;
}
