/* trainer.c — solar._core.Trainer: the Python face of the C trainer (csrc/train/). Holds the
 * parameter / gradient / AdamW slabs; exposes each tensor as a NumPy view whose base keeps the
 * trainer alive; runs forward + backward and the AdamW update with the GIL released.
 * solar/train.py builds the user-facing Trainer on top of it. */
#include "python/py_common.h"

#include "train/train.h"

typedef struct {
    PyObject_HEAD
    sl_trainer t;      /* owned */
    int ready;         /* sl_trainer_init succeeded */
    int busy;          /* a call with the GIL released is running */
} TrainerObject;

/* An optional per-layer table (None, or L entries) as a C-contiguous array of `type`. */
static int layer_table(PyObject *obj, int type, int64_t L, const char *what, PyArrayObject **out)
{
    *out = NULL;
    if (!obj || obj == Py_None) return 0;
    *out = (PyArrayObject *)PyArray_FROMANY(obj, type, 1, 1, NPY_ARRAY_IN_ARRAY | NPY_ARRAY_FORCECAST);
    if (!*out) return -1;
    if (PyArray_DIM(*out, 0) != L) {
        PyErr_Format(PyExc_ValueError, "%s must have n_layers = %lld entries", what, (long long)L);
        Py_CLEAR(*out);
        return -1;
    }
    return 0;
}

static int trainer_init(TrainerObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"n_layers", "n_embd", "n_head", "n_head_kv", "head_dim", "n_ff", "n_vocab", "rms_eps",
                             "tie_embeddings", "post_norm", "qk_norm", "inv_freq", "n_threads", "layer_window",
                             "layer_rope", NULL};
    sl_train_hparams hp = {0};
    int tie = 0, post = 0, qkn = 0, n_threads = 0, rc = -1;
    PyObject *inv_obj = NULL, *win_obj = NULL, *rope_obj = NULL;
    PyArrayObject *inv = NULL, *win = NULL, *rope = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|$LLLLLLLfpppOiOO", kwlist, &hp.n_layers, &hp.n_embd, &hp.n_head,
                                     &hp.n_head_kv, &hp.head_dim, &hp.n_ff, &hp.n_vocab, &hp.rms_eps, &tie, &post,
                                     &qkn, &inv_obj, &n_threads, &win_obj, &rope_obj))
        return -1;
    if (self->ready) { PyErr_SetString(PyExc_RuntimeError, "Trainer already initialised"); return -1; }
    if (!inv_obj) { PyErr_SetString(PyExc_TypeError, "Trainer() needs every keyword argument"); return -1; }
    hp.tie_embeddings = tie;
    hp.post_norm = post;
    hp.qk_norm = qkn;
    inv = (PyArrayObject *)PyArray_FROMANY(inv_obj, NPY_FLOAT32, 1, 1, NPY_ARRAY_IN_ARRAY);
    if (!inv) goto fail;
    if (hp.head_dim <= 0 || PyArray_DIM(inv, 0) != hp.head_dim / 2) {
        PyErr_Format(PyExc_ValueError, "inv_freq must have head_dim/2 = %lld entries", (long long)(hp.head_dim / 2));
        goto fail;
    }
    if (layer_table(win_obj, NPY_INT64, hp.n_layers, "layer_window", &win) < 0 ||
        layer_table(rope_obj, NPY_UINT8, hp.n_layers, "layer_rope", &rope) < 0)
        goto fail;
    hp.layer_window = win ? (const int64_t *)PyArray_DATA(win) : NULL;
    hp.layer_rope = rope ? (const uint8_t *)PyArray_DATA(rope) : NULL;
    sl_status st;
    Py_BEGIN_ALLOW_THREADS
    st = sl_trainer_init(&self->t, &hp, (const float *)PyArray_DATA(inv), n_threads);
    Py_END_ALLOW_THREADS
    if (st != SL_OK) { sl_py_raise_for((PyObject *)self, st); goto fail; }
    self->ready = 1;
    rc = 0;
fail:
    Py_XDECREF(inv);
    Py_XDECREF(win);
    Py_XDECREF(rope);
    return rc;
}

static void trainer_dealloc(TrainerObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    sl_trainer_free(&self->t);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static int trainer_traverse(TrainerObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    return 0;
}

static int check_usable(TrainerObject *self)
{
    if (!self->ready) { PyErr_SetString(PyExc_RuntimeError, "Trainer is not initialised"); return -1; }
    if (self->busy) { PyErr_SetString(PyExc_RuntimeError, "Trainer is in use by another thread"); return -1; }
    return 0;
}

static int tensor_index(TrainerObject *self, PyObject *arg, int64_t *out)
{
    long long i = PyLong_AsLongLong(arg);
    if (i == -1 && PyErr_Occurred()) return -1;
    if (i < 0 || i >= self->t.n_tensors) {
        PyErr_Format(PyExc_IndexError, "tensor index %lld out of range [0, %lld)", i, (long long)self->t.n_tensors);
        return -1;
    }
    *out = i;
    return 0;
}

/* A float32 view of tensor i of a slab; the base keeps the trainer alive. */
static PyObject *slab_view(TrainerObject *self, float *slab, int64_t i, int writable)
{
    const sl_train_tensor *x = &self->t.tensors[i];
    npy_intp dims[2] = {(npy_intp)x->rows, (npy_intp)x->cols};
    int nd = x->cols == 1 ? 1 : 2;
    int flags = NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED | (writable ? NPY_ARRAY_WRITEABLE : 0);
    PyObject *arr = PyArray_NewFromDescr(&PyArray_Type, PyArray_DescrFromType(NPY_FLOAT32), nd, dims, NULL,
                                         slab + x->offset, flags, NULL);
    if (!arr) return NULL;
    Py_INCREF(self);
    if (PyArray_SetBaseObject((PyArrayObject *)arr, (PyObject *)self) < 0) { Py_DECREF(arr); return NULL; }
    return arr;
}

static PyObject *trainer_tensors(TrainerObject *self, PyObject *noargs)
{
    if (check_usable(self) < 0) return NULL;
    PyObject *list = PyList_New(self->t.n_tensors);
    if (!list) return NULL;
    for (int64_t i = 0; i < self->t.n_tensors; i++) {
        const sl_train_tensor *x = &self->t.tensors[i];
        PyObject *item = x->cols == 1
            ? Py_BuildValue("(sL(L))", sl_train_role_name(x->role), (long long)x->layer, (long long)x->rows)
            : Py_BuildValue("(sL(LL))", sl_train_role_name(x->role), (long long)x->layer, (long long)x->rows,
                            (long long)x->cols);
        if (!item) { Py_DECREF(list); return NULL; }
        PyList_SET_ITEM(list, i, item);
    }
    return list;
}

static PyObject *trainer_param(TrainerObject *self, PyObject *args)
{
    PyObject *idx;
    int writable = 0;
    int64_t i;
    if (!PyArg_ParseTuple(args, "O|p", &idx, &writable) || check_usable(self) < 0 || tensor_index(self, idx, &i) < 0)
        return NULL;
    return slab_view(self, self->t.params, i, writable);
}

static PyObject *trainer_grad(TrainerObject *self, PyObject *idx)
{
    int64_t i;
    if (check_usable(self) < 0 || tensor_index(self, idx, &i) < 0) return NULL;
    return slab_view(self, self->t.grads, i, 0);
}

static PyObject *trainer_set_decay(TrainerObject *self, PyObject *args)
{
    PyObject *idx;
    float v;
    int64_t i;
    if (!PyArg_ParseTuple(args, "Of", &idx, &v) || check_usable(self) < 0 || tensor_index(self, idx, &i) < 0)
        return NULL;
    if (!(v >= 0.0f && v <= 1.0f)) return PyErr_Format(PyExc_ValueError, "decay multiplier must be in [0, 1]");
    self->t.tensors[i].decay = v;
    Py_RETURN_NONE;
}

/* forward (+ backward) over a (B, S+1) int32 batch; returns the mean loss. */
static PyObject *run_batch(TrainerObject *self, PyObject *tokens_obj, int backward, float grad_scale)
{
    if (check_usable(self) < 0) return NULL;
    PyArrayObject *tok = (PyArrayObject *)PyArray_FROMANY(tokens_obj, NPY_INT32, 2, 2, NPY_ARRAY_IN_ARRAY);
    if (!tok) return NULL;
    PyObject *res = NULL;
    double loss = 0.0;
    sl_status st;
    const int64_t B = PyArray_DIM(tok, 0), S1 = PyArray_DIM(tok, 1);
    if (S1 < 2) {
        PyErr_Format(PyExc_ValueError, "tokens must have shape (batch, seq+1) with seq >= 1, got (%lld, %lld)",
                     (long long)B, (long long)S1);
        goto fail;
    }
    self->busy = 1;
    Py_BEGIN_ALLOW_THREADS
    st = sl_trainer_step_fb(&self->t, (const int32_t *)PyArray_DATA(tok), B, S1 - 1, backward, grad_scale, &loss);
    Py_END_ALLOW_THREADS
    self->busy = 0;
    if (st != SL_OK) { sl_py_raise_for((PyObject *)self, st); goto fail; }
    res = PyFloat_FromDouble(loss);
fail:
    Py_DECREF(tok);
    return res;
}

static PyObject *trainer_forward_backward(TrainerObject *self, PyObject *args)
{
    PyObject *tokens;
    float grad_scale = 1.0f;
    if (!PyArg_ParseTuple(args, "O|f", &tokens, &grad_scale)) return NULL;
    return run_batch(self, tokens, 1, grad_scale);
}

static PyObject *trainer_loss(TrainerObject *self, PyObject *tokens) { return run_batch(self, tokens, 0, 1.0f); }

static PyObject *trainer_zero_grad(TrainerObject *self, PyObject *noargs)
{
    if (check_usable(self) < 0) return NULL;
    Py_BEGIN_ALLOW_THREADS
    sl_trainer_zero_grad(&self->t);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

static PyObject *trainer_grad_norm(TrainerObject *self, PyObject *noargs)
{
    if (check_usable(self) < 0) return NULL;
    double n;
    Py_BEGIN_ALLOW_THREADS
    n = sl_trainer_grad_norm(&self->t);
    Py_END_ALLOW_THREADS
    return PyFloat_FromDouble(n);
}

static PyObject *trainer_adamw(TrainerObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"lr", "beta1", "beta2", "eps", "weight_decay", "grad_scale", "step", NULL};
    sl_adamw_opts o = {0};
    long long step = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|$ffffffL", kwlist, &o.lr, &o.beta1, &o.beta2, &o.eps,
                                     &o.weight_decay, &o.grad_scale, &step) || check_usable(self) < 0)
        return NULL;
    o.step = step;
    sl_status st;
    self->busy = 1;
    Py_BEGIN_ALLOW_THREADS
    st = sl_trainer_adamw(&self->t, &o);
    Py_END_ALLOW_THREADS
    self->busy = 0;
    if (st != SL_OK) return sl_py_raise_for((PyObject *)self, st);
    Py_RETURN_NONE;
}

/* Trainer.gemm(a, b, c, trans_a, trans_b, alpha, beta, n_threads): c = alpha op(a) op(b) + beta c in
 * place on float32 C-contiguous 2-D arrays, with the training GEMM (for tests and benchmarks). */
static PyObject *trainer_gemm(PyObject *cls, PyObject *args)
{
    PyArrayObject *a, *b, *c;
    int ta, tb, nt;
    float alpha, beta;
    if (!PyArg_ParseTuple(args, "O!O!O!ppffi", &PyArray_Type, &a, &PyArray_Type, &b, &PyArray_Type, &c, &ta, &tb,
                          &alpha, &beta, &nt))
        return NULL;
    PyArrayObject *arrs[3] = {a, b, c};
    for (int i = 0; i < 3; i++)
        if (PyArray_TYPE(arrs[i]) != NPY_FLOAT32 || PyArray_NDIM(arrs[i]) != 2 || !PyArray_IS_C_CONTIGUOUS(arrs[i]) ||
            (i == 2 && !PyArray_ISWRITEABLE(arrs[i])))
            return PyErr_Format(PyExc_ValueError, "gemm needs C-contiguous 2-D float32 arrays (c writable)");
    const int64_t M = PyArray_DIM(c, 0), N = PyArray_DIM(c, 1), K = PyArray_DIM(a, ta ? 0 : 1);
    if (PyArray_DIM(a, ta ? 1 : 0) != M || PyArray_DIM(b, tb ? 1 : 0) != K || PyArray_DIM(b, tb ? 0 : 1) != N)
        return PyErr_Format(PyExc_ValueError, "gemm: shapes do not match");
    if (nt < 1 || nt > 512) return PyErr_Format(PyExc_ValueError, "n_threads must be in [1, 512]");
    sl_tgemm_ws ws;
    sl_status st;
    Py_BEGIN_ALLOW_THREADS
    st = sl_tgemm_ws_init(&ws, nt);
    if (st == SL_OK)
        sl_tgemm(&ws, M, N, K, alpha, (sl_tgemm_mat){PyArray_DATA(a), PyArray_DIM(a, 1), ta},
                 (sl_tgemm_mat){PyArray_DATA(b), PyArray_DIM(b, 1), tb}, beta, PyArray_DATA(c), N);
    sl_tgemm_ws_free(&ws);
    Py_END_ALLOW_THREADS
    if (st != SL_OK) return sl_py_raise(sl_py_state_of_type((PyTypeObject *)cls), st);
    Py_RETURN_NONE;
}

static PyObject *get_n_params(TrainerObject *self, void *c) { return PyLong_FromSize_t(self->t.n_params); }
static PyObject *get_n_threads(TrainerObject *self, void *c) { return PyLong_FromLong(self->t.n_threads); }

static PyMethodDef trainer_methods[] = {
    {"tensors", (PyCFunction)trainer_tensors, METH_NOARGS, "[(role, layer, shape)] in slab order."},
    {"param", (PyCFunction)trainer_param, METH_VARARGS, "param(i, writable=False) -> float32 view of tensor i."},
    {"grad", (PyCFunction)trainer_grad, METH_O, "grad(i) -> read-only float32 view of tensor i's gradient."},
    {"set_decay", (PyCFunction)trainer_set_decay, METH_VARARGS,
     "set_decay(i, m): weight-decay multiplier of tensor i."},
    {"forward_backward", (PyCFunction)trainer_forward_backward, METH_VARARGS,
     "forward_backward(tokens (B, S+1) int32, grad_scale=1) -> mean loss; grads += grad_scale * dloss."},
    {"loss", (PyCFunction)trainer_loss, METH_O, "loss(tokens) -> mean loss (forward only)."},
    {"zero_grad", (PyCFunction)trainer_zero_grad, METH_NOARGS, "Set every gradient to zero."},
    {"grad_norm", (PyCFunction)trainer_grad_norm, METH_NOARGS, "Global L2 norm of the gradients."},
    {"adamw", (PyCFunction)(void (*)(void))trainer_adamw, METH_VARARGS | METH_KEYWORDS,
     "adamw(*, lr, beta1, beta2, eps, weight_decay, grad_scale, step): one AdamW update."},
    {"gemm", (PyCFunction)trainer_gemm, METH_VARARGS | METH_CLASS,
     "gemm(a, b, c, trans_a, trans_b, alpha, beta, n_threads): c = alpha op(a) op(b) + beta c (test hook)."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef trainer_getset[] = {
    {"n_params", (getter)get_n_params, NULL, "Number of trainable floats.", NULL},
    {"n_threads", (getter)get_n_threads, NULL, "OpenMP threads used.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot trainer_slots[] = {
    {Py_tp_doc, "Trainer(*, n_layers, n_embd, ..., inv_freq, n_threads=0): f32 training state (low level)."},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_init, trainer_init},
    {Py_tp_dealloc, trainer_dealloc},
    {Py_tp_traverse, trainer_traverse},
    {Py_tp_methods, trainer_methods},
    {Py_tp_getset, trainer_getset},
    {0, NULL},
};

static PyType_Spec trainer_spec = {
    .name = "solar._core.Trainer",
    .basicsize = sizeof(TrainerObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = trainer_slots,
};

int sl_py_add_trainer(PyObject *module, sl_py_state *st)
{
    return sl_py_add_type(module, st, &trainer_spec, SL_PY_TRAINER) ? 0 : -1;
}
