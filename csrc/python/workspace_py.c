/* workspace_py.c — solar._core.Workspace: the scratch of multi-sequence forward passes, and
 * Workspace.forward, which runs the new tokens of several sessions in one pass (every weight
 * matrix read once for all of them), writing logits straight into a caller's NumPy array. */
#include "python/py_model.h"

typedef struct {
    PyObject_HEAD
    sl_workspace *ws;           /* owned */
    PyObject *model;            /* strong ref to the sl_py_model the workspace serves */
    int busy;                   /* a forward call is running (GIL released) */
} sl_py_workspace;

static void workspace_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    sl_py_workspace *w = (sl_py_workspace *)self;
    sl_workspace_free(w->ws);
    Py_CLEAR(w->model);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static int workspace_traverse(PyObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(((sl_py_workspace *)self)->model);
    return 0;
}

static PyObject *workspace_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"model", NULL};
    PyObject *model;
    sl_py_state *st = sl_py_state_of_type(type);
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O!", kwlist, st->types[SL_PY_MODEL], &model)) return NULL;
    sl_workspace *ws = NULL;
    sl_status status = sl_workspace_init(&ws, ((sl_py_model *)model)->model);
    if (status != SL_OK) return sl_py_raise(st, status);
    sl_py_workspace *o = (sl_py_workspace *)type->tp_alloc(type, 0);
    if (!o) { sl_workspace_free(ws); return NULL; }
    o->ws = ws;
    o->model = Py_NewRef(model);
    return (PyObject *)o;
}

/* The sessions of a tuple as core pointers: each a Session of this model, idle, given once. */
static sl_session **collect_sessions(sl_py_state *st, PyObject *tuple, const sl_model *m)
{
    Py_ssize_t B = PyTuple_GET_SIZE(tuple);
    sl_session **out = PyMem_Calloc(B > 0 ? (size_t)B : 1, sizeof *out);
    if (!out) { PyErr_NoMemory(); return NULL; }
    for (Py_ssize_t i = 0; i < B; i++) {
        PyObject *o = PyTuple_GET_ITEM(tuple, i);
        if (!PyObject_TypeCheck(o, st->types[SL_PY_SESSION])) {
            PyErr_Format(PyExc_TypeError, "sequence %zd: expected a Session, got %.80s", i, Py_TYPE(o)->tp_name);
            goto fail;
        }
        sl_py_session *ps = (sl_py_session *)o;
        if (ps->session->model != m) { PyErr_Format(PyExc_ValueError, "sequence %zd: the session belongs to another model", i); goto fail; }
        if (ps->busy) { PyErr_Format(PyExc_RuntimeError, "sequence %zd: the session is being used by another thread", i); goto fail; }
        for (Py_ssize_t j = 0; j < i; j++)
            if (out[j] == ps->session) { PyErr_Format(PyExc_ValueError, "sequences %zd and %zd are the same session", j, i); goto fail; }
        out[i] = ps->session;
    }
    return out;
fail:
    PyMem_Free(out);
    return NULL;
}

static void set_busy(PyObject *tuple, int busy)
{
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(tuple); i++) ((sl_py_session *)PyTuple_GET_ITEM(tuple, i))->busy = busy;
}

/* Token ids (int32, 1-D) and per-sequence counts (int64, B, each >= 1, summing to the ids). */
static int check_tokens(PyArrayObject *tok, PyArrayObject *cnt, Py_ssize_t B)
{
    if (PyArray_DIM(cnt, 0) != B)
        return PyErr_Format(PyExc_ValueError, "got %zd counts for %zd sequences", (Py_ssize_t)PyArray_DIM(cnt, 0), B), -1;
    const int64_t *c = PyArray_DATA(cnt);
    int64_t left = (int64_t)PyArray_DIM(tok, 0);
    for (Py_ssize_t i = 0; i < B; i++) {
        if (c[i] < 1) return PyErr_Format(PyExc_ValueError, "sequence %zd: no tokens to run", i), -1;
        if (c[i] > left) break;
        left -= c[i];
        if (i == B - 1 && left == 0) return 0;
    }
    return PyErr_Format(PyExc_ValueError, "the counts do not add up to the %zd token ids", (Py_ssize_t)PyArray_DIM(tok, 0)), -1;
}

/* logits must be None or a writeable, C-contiguous, aligned float32 array of shape (rows, V). */
static int check_logits(PyObject *o, npy_intp rows, npy_intp V)
{
    if (o == Py_None) return 0;
    if (!PyArray_Check(o)) return PyErr_SetString(PyExc_TypeError, "logits must be a NumPy array"), -1;
    PyArrayObject *a = (PyArrayObject *)o;
    if (PyArray_TYPE(a) != NPY_FLOAT32 || !PyArray_IS_C_CONTIGUOUS(a) || !PyArray_ISWRITEABLE(a) || !PyArray_ISALIGNED(a))
        return PyErr_SetString(PyExc_ValueError, "logits must be a writeable, C-contiguous float32 array"), -1;
    if (PyArray_NDIM(a) != 2 || PyArray_DIM(a, 0) != rows || PyArray_DIM(a, 1) != V)
        return PyErr_Format(PyExc_ValueError, "logits must have shape (%zd, %zd)", (Py_ssize_t)rows, (Py_ssize_t)V), -1;
    return 0;
}

static PyObject *workspace_forward(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"sessions", "tokens", "counts", "logits", "logits_all", NULL};
    PyObject *sess_obj, *tok_obj, *cnt_obj, *logits = Py_None;
    int logits_all = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOO|Op", kwlist, &sess_obj, &tok_obj, &cnt_obj, &logits, &logits_all))
        return NULL;
    sl_py_workspace *pw = (sl_py_workspace *)self;
    sl_py_state *st = sl_py_state_of_type(Py_TYPE(self));
    const sl_model *m = pw->ws->model;
    PyArrayObject *tok = NULL, *cnt = NULL;
    sl_session **seqs = NULL;
    PyObject *result = NULL;
    /* a tuple snapshot keeps every session alive and the list fixed while we run */
    PyObject *tuple = PySequence_Check(sess_obj) ? PySequence_Tuple(sess_obj) : NULL;
    if (!tuple) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "sessions must be a list of Session objects");
        return NULL;
    }
    Py_ssize_t B = PyTuple_GET_SIZE(tuple);
    tok = (PyArrayObject *)PyArray_FROMANY(tok_obj, NPY_INT32, 1, 1, NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED);
    cnt = tok ? (PyArrayObject *)PyArray_FROMANY(cnt_obj, NPY_INT64, 1, 1, NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED) : NULL;
    if (!tok || !cnt) goto fail;
    /* checked after the conversions above, which may run Python code */
    if (pw->busy) { PyErr_SetString(PyExc_RuntimeError, "this workspace is being used by another thread"); goto fail; }
    if (B == 0) { PyErr_SetString(PyExc_ValueError, "no sequences to run"); goto fail; }
    if (!(seqs = collect_sessions(st, tuple, m)) || check_tokens(tok, cnt, B) < 0) goto fail;
    if (check_logits(logits, logits_all ? PyArray_DIM(tok, 0) : (npy_intp)B, (npy_intp)m->hp.n_vocab) < 0) goto fail;
    float *lp = logits != Py_None ? PyArray_DATA((PyArrayObject *)logits) : NULL;
    const int32_t *ids = PyArray_DATA(tok);
    const int64_t *counts = PyArray_DATA(cnt);
    sl_status status;
    pw->busy = 1;
    set_busy(tuple, 1);
    Py_BEGIN_ALLOW_THREADS
    status = sl_model_forward_multi(m, pw->ws, seqs, (int64_t)B, ids, counts, lp, logits_all != 0);
    Py_END_ALLOW_THREADS
    set_busy(tuple, 0);
    pw->busy = 0;
    if (status != SL_OK) { sl_py_raise(st, status); goto fail; }
    result = Py_NewRef(Py_None);
fail:
    Py_DECREF(tuple);
    Py_XDECREF(tok);
    Py_XDECREF(cnt);
    PyMem_Free(seqs);
    return result;
}

static PyObject *workspace_model(PyObject *self, void *c) { return Py_NewRef(((sl_py_workspace *)self)->model); }

static PyMethodDef workspace_methods[] = {
    {"forward", (PyCFunction)(void (*)(void))workspace_forward, METH_VARARGS | METH_KEYWORDS,
     "forward(sessions, tokens, counts, logits=None, logits_all=False): run counts[i] stacked token ids "
     "through sessions[i] for every i in one pass; logits (B, V) of each sequence's last row, or "
     "(sum(counts), V) with logits_all."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef workspace_getset[] = {
    {"model", workspace_model, NULL, "the core model this workspace serves", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot workspace_slots[] = {
    {Py_tp_new, workspace_new},
    {Py_tp_dealloc, workspace_dealloc},
    {Py_tp_traverse, workspace_traverse},
    {Py_tp_methods, workspace_methods},
    {Py_tp_getset, workspace_getset},
    {Py_tp_doc, "Workspace(model): scratch memory of multi-sequence forward passes of one model."},
    {0, NULL},
};

static PyType_Spec workspace_spec = {
    .name = "solar._core.Workspace",
    .basicsize = sizeof(sl_py_workspace),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = workspace_slots,
};

int sl_py_add_workspace(PyObject *module, sl_py_state *st)
{
    return sl_py_add_type(module, st, &workspace_spec, SL_PY_WORKSPACE) ? 0 : -1;
}
