/* sampler.c (python) — `solar._core.Sampler`: the C sampler (csrc/sampler/) as a Python type.
 * Arguments are converted and checked with the GIL held; the GIL is released around the
 * O(V) work of sample / probs / logprobs. One call at a time per object (scratch is shared). */
#include "python/py_common.h"

#include <math.h>

#include "sampler/sampler.h"

typedef struct {
    PyObject_HEAD
    sl_sampler s;      /* owned C sampler */
    int busy;          /* a call is running with the GIL released */
} SamplerObject;

static int seed_from_object(PyObject *obj, uint64_t *seed)
{
    if (obj == NULL || obj == Py_None) {      /* fresh entropy from the OS */
        PyObject *os = PyImport_ImportModule("os");
        if (!os) return -1;
        PyObject *bytes = PyObject_CallMethod(os, "urandom", "i", 8);
        Py_DECREF(os);
        if (!bytes) return -1;
        uint64_t v = 0;
        const unsigned char *b = (const unsigned char *)PyBytes_AS_STRING(bytes);
        for (int i = 0; i < 8; i++) v = (v << 8) | b[i];
        Py_DECREF(bytes);
        *seed = v;
        return 0;
    }
    if (!PyLong_Check(obj) || PyBool_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "seed must be an int or None, not %.80s", Py_TYPE(obj)->tp_name);
        return -1;
    }
    /* Any int: reduce modulo 2^64 so negative and huge seeds are valid and reproducible. */
    unsigned long long v = PyLong_AsUnsignedLongLongMask(obj);
    if (v == (unsigned long long)-1 && PyErr_Occurred()) return -1;
    *seed = (uint64_t)v;
    return 0;
}

/* logit_bias: dict {token id: bias} -> C arrays (owned by the caller, free with PyMem_Free). */
static int bias_from_object(PyObject *obj, int32_t **ids, float **values, Py_ssize_t *n)
{
    *ids = NULL;
    *values = NULL;
    *n = 0;
    if (obj == NULL || obj == Py_None) return 0;
    if (!PyDict_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "logit_bias must be a dict {token id: bias}, not %.80s", Py_TYPE(obj)->tp_name);
        return -1;
    }
    Py_ssize_t count = PyDict_Size(obj), pos = 0, i = 0;
    *ids = PyMem_Calloc(count ? (size_t)count : 1, sizeof **ids);
    *values = PyMem_Calloc(count ? (size_t)count : 1, sizeof **values);
    if (!*ids || !*values) { PyErr_NoMemory(); goto fail; }
    PyObject *key, *val;
    while (PyDict_Next(obj, &pos, &key, &val)) {
        if (!PyLong_Check(key) || PyBool_Check(key)) {
            PyErr_Format(PyExc_ValueError, "logit_bias keys must be token ids (int), got %R", key);
            goto fail;
        }
        long id = PyLong_AsLong(key);
        if (id == -1 && PyErr_Occurred()) goto fail;
        if (id < 0 || id > INT32_MAX) {
            PyErr_Format(PyExc_ValueError, "logit_bias key %ld is not a valid token id", id);
            goto fail;
        }
        double v = PyFloat_AsDouble(val);
        if (v == -1.0 && PyErr_Occurred()) goto fail;
        (*ids)[i] = (int32_t)id;
        (*values)[i] = (float)v;
        i++;
    }
    *n = i;
    return 0;
fail:
    PyMem_Free(*ids);
    PyMem_Free(*values);
    *ids = NULL;
    *values = NULL;
    return -1;
}

static int sampler_init(PyObject *op, PyObject *args, PyObject *kwargs)
{
    SamplerObject *self = (SamplerObject *)op;
    static char *kwlist[] = {"n_vocab", "temperature", "top_k", "top_p", "min_p", "repeat_penalty",
                             "presence_penalty", "frequency_penalty", "penalty_last_n", "seed",
                             "logit_bias", NULL};
    sl_sampler_params p = sl_sampler_default_params();
    long long n_vocab;
    PyObject *seed_obj = Py_None, *bias_obj = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "L|$fifffffiOO:Sampler", kwlist, &n_vocab,
                                     &p.temperature, &p.top_k, &p.top_p, &p.min_p, &p.repeat_penalty,
                                     &p.presence_penalty, &p.frequency_penalty, &p.penalty_last_n,
                                     &seed_obj, &bias_obj))
        return -1;
    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError, "Sampler is in use by another thread");
        return -1;
    }
    if (seed_from_object(seed_obj, &p.seed) < 0) return -1;
    int32_t *ids = NULL;
    float *values = NULL;
    Py_ssize_t n_bias = 0;
    if (bias_from_object(bias_obj, &ids, &values, &n_bias) < 0) return -1;
    sl_sampler_free(&self->s);
    sl_status st = sl_sampler_init(&self->s, (int64_t)n_vocab, &p);
    if (st == SL_OK) st = sl_sampler_set_bias(&self->s, ids, values, (int64_t)n_bias);
    PyMem_Free(ids);
    PyMem_Free(values);
    if (st != SL_OK) {
        sl_sampler_free(&self->s);
        sl_py_raise_for(op, st);
        return -1;
    }
    return 0;
}

static void sampler_dealloc(PyObject *op)
{
    SamplerObject *self = (SamplerObject *)op;
    PyTypeObject *tp = Py_TYPE(op);
    sl_sampler_free(&self->s);
    tp->tp_free(op);
    Py_DECREF(tp);
}

/* Checks the sampler is initialised and idle, then marks it busy. */
static int claim(SamplerObject *self)
{
    if (self->s.n_vocab == 0) {
        PyErr_SetString(PyExc_RuntimeError, "Sampler is not initialised");
        return -1;
    }
    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError, "Sampler is in use by another thread");
        return -1;
    }
    self->busy = 1;
    return 0;
}

/* logits -> contiguous float32 array of exactly V elements (new reference) or NULL. */
static PyArrayObject *logits_array(SamplerObject *self, PyObject *obj)
{
    PyArrayObject *a = (PyArrayObject *)PyArray_FROMANY(obj, NPY_FLOAT32, 1, 1,
                                                        NPY_ARRAY_IN_ARRAY | NPY_ARRAY_FORCECAST);
    if (!a) return NULL;
    if (PyArray_DIM(a, 0) != self->s.n_vocab) {
        PyErr_Format(PyExc_ValueError, "logits must have %lld elements (the vocabulary), got %lld",
                     (long long)self->s.n_vocab, (long long)PyArray_DIM(a, 0));
        Py_DECREF(a);
        return NULL;
    }
    return a;
}

static PyObject *sampler_sample(PyObject *op, PyObject *arg)
{
    SamplerObject *self = (SamplerObject *)op;
    if (claim(self) < 0) return NULL;
    PyArrayObject *a = logits_array(self, arg);
    PyObject *result = NULL;
    if (!a) goto fail;
    int32_t token = -1;
    sl_status st;
    Py_BEGIN_ALLOW_THREADS
    st = sl_sampler_sample(&self->s, (const float *)PyArray_DATA(a), &token);
    Py_END_ALLOW_THREADS
    if (st != SL_OK) { sl_py_raise_for(op, st); goto fail; }
    result = PyLong_FromLong(token);
fail:
    Py_XDECREF(a);
    self->busy = 0;
    return result;
}

static PyObject *sampler_probs(PyObject *op, PyObject *arg)
{
    SamplerObject *self = (SamplerObject *)op;
    if (claim(self) < 0) return NULL;
    PyArrayObject *a = logits_array(self, arg), *out = NULL;
    if (!a) goto fail;
    npy_intp dim = (npy_intp)self->s.n_vocab;
    out = (PyArrayObject *)PyArray_SimpleNew(1, &dim, NPY_FLOAT64);
    if (!out) goto fail;
    sl_status st;
    Py_BEGIN_ALLOW_THREADS
    st = sl_sampler_probs(&self->s, (const float *)PyArray_DATA(a), (double *)PyArray_DATA(out));
    Py_END_ALLOW_THREADS
    if (st != SL_OK) { sl_py_raise_for(op, st); Py_CLEAR(out); }
fail:
    Py_XDECREF(a);
    self->busy = 0;
    return (PyObject *)out;
}

/* accept(token) or accept(sequence of tokens): ids are checked before anything is recorded. */
static PyObject *sampler_accept(PyObject *op, PyObject *arg)
{
    SamplerObject *self = (SamplerObject *)op;
    if (claim(self) < 0) return NULL;
    PyArrayObject *a = NULL;
    int32_t *ids = NULL;
    PyObject *result = NULL;
    if (PyBool_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "accept() takes a token id or a sequence of token ids, not bool");
        goto fail;
    }
    PyArrayObject *any = (PyArrayObject *)PyArray_FROM_O(arg);
    if (!any) goto fail;
    if (!PyArray_ISINTEGER(any) && PyArray_SIZE(any) > 0) {
        PyErr_Format(PyExc_TypeError, "accept() takes integer token ids, got an array of %S", PyArray_DESCR(any));
        Py_DECREF(any);
        goto fail;
    }
    a = (PyArrayObject *)PyArray_FROMANY((PyObject *)any, NPY_INT64, 0, 1,
                                         NPY_ARRAY_IN_ARRAY | (PyArray_SIZE(any) == 0 ? NPY_ARRAY_FORCECAST : 0));
    Py_DECREF(any);
    if (!a) goto fail;
    npy_intp n = PyArray_SIZE(a);
    const int64_t *v = (const int64_t *)PyArray_DATA(a);
    ids = PyMem_Calloc(n ? (size_t)n : 1, sizeof *ids);
    if (!ids) { PyErr_NoMemory(); goto fail; }
    for (npy_intp i = 0; i < n; i++) {
        if (v[i] < 0 || v[i] >= self->s.n_vocab) {
            PyErr_Format(PyExc_ValueError, "token id %lld is outside the vocabulary [0, %lld)",
                         (long long)v[i], (long long)self->s.n_vocab);
            goto fail;
        }
        ids[i] = (int32_t)v[i];
    }
    sl_status st = sl_sampler_accept(&self->s, ids, (int64_t)n);
    if (st != SL_OK) { sl_py_raise_for(op, st); goto fail; }
    result = Py_NewRef(Py_None);
fail:
    PyMem_Free(ids);
    Py_XDECREF(a);
    self->busy = 0;
    return result;
}

static PyObject *sampler_reset(PyObject *op, PyObject *args, PyObject *kwargs)
{
    SamplerObject *self = (SamplerObject *)op;
    static char *kwlist[] = {"seed", NULL};
    PyObject *seed_obj = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:reset", kwlist, &seed_obj)) return NULL;
    if (claim(self) < 0) return NULL;
    uint64_t seed = self->s.params.seed;
    if (seed_obj && seed_obj != Py_None && seed_from_object(seed_obj, &seed) < 0) {
        self->busy = 0;
        return NULL;
    }
    sl_sampler_reset(&self->s, seed);
    self->busy = 0;
    Py_RETURN_NONE;
}

/* logprobs(logits, token, top_n=0) -> (logprob, [(id, logprob), ...]) from the raw logits. */
static PyObject *sampler_logprobs(PyObject *op, PyObject *args, PyObject *kwargs)
{
    SamplerObject *self = (SamplerObject *)op;
    static char *kwlist[] = {"logits", "token", "top_n", NULL};
    PyObject *logits_obj, *result = NULL;
    int token, top_n = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "Oi|i:logprobs", kwlist, &logits_obj, &token, &top_n))
        return NULL;
    if (claim(self) < 0) return NULL;
    int32_t *ids = NULL;
    float *lps = NULL, lp = 0.0f;
    PyArrayObject *a = logits_array(self, logits_obj);
    if (!a) goto fail;
    if (top_n < 0 || top_n > self->s.n_vocab) {
        PyErr_Format(PyExc_ValueError, "top_n must be in [0, %lld], got %d", (long long)self->s.n_vocab, top_n);
        goto fail;
    }
    ids = PyMem_Calloc(top_n ? (size_t)top_n : 1, sizeof *ids);
    lps = PyMem_Calloc(top_n ? (size_t)top_n : 1, sizeof *lps);
    if (!ids || !lps) { PyErr_NoMemory(); goto fail; }
    sl_status st;
    Py_BEGIN_ALLOW_THREADS
    st = sl_logprobs_compute((const float *)PyArray_DATA(a), self->s.n_vocab, token, top_n, &lp, ids, lps);
    Py_END_ALLOW_THREADS
    if (st != SL_OK) { sl_py_raise_for(op, st); goto fail; }
    PyObject *top = PyList_New(0);
    if (!top) goto fail;
    for (int i = 0; i < top_n && ids[i] >= 0; i++) {
        PyObject *pair = Py_BuildValue("(id)", ids[i], (double)lps[i]);
        if (!pair || PyList_Append(top, pair) < 0) { Py_XDECREF(pair); Py_DECREF(top); goto fail; }
        Py_DECREF(pair);
    }
    result = Py_BuildValue("(dN)", (double)lp, top);
fail:
    PyMem_Free(ids);
    PyMem_Free(lps);
    Py_XDECREF(a);
    self->busy = 0;
    return result;
}

/* random(n) -> float64 array: the next n uniforms of the sampler's stream (advances it). */
static PyObject *sampler_random(PyObject *op, PyObject *arg)
{
    SamplerObject *self = (SamplerObject *)op;
    Py_ssize_t n = PyNumber_AsSsize_t(arg, PyExc_OverflowError);
    if (n == -1 && PyErr_Occurred()) return NULL;
    if (n < 0) return PyErr_Format(PyExc_ValueError, "random() count must be >= 0, got %zd", n);
    if (claim(self) < 0) return NULL;
    npy_intp dim = (npy_intp)n;
    PyArrayObject *out = (PyArrayObject *)PyArray_SimpleNew(1, &dim, NPY_FLOAT64);
    if (out) {
        double *d = (double *)PyArray_DATA(out);
        for (npy_intp i = 0; i < dim; i++) d[i] = sl_rng_next_uniform(&self->s.rng);
    }
    self->busy = 0;
    return (PyObject *)out;
}

static PyObject *get_n_vocab(PyObject *op, void *c) { return PyLong_FromLongLong(((SamplerObject *)op)->s.n_vocab); }
static PyObject *get_seed(PyObject *op, void *c)
{
    return PyLong_FromUnsignedLongLong(((SamplerObject *)op)->s.params.seed);
}

/* The penalty window, oldest token first. */
static PyObject *get_history(PyObject *op, void *c)
{
    const sl_sampler *s = &((SamplerObject *)op)->s;
    PyObject *list = PyList_New((Py_ssize_t)s->n_history);
    if (!list) return NULL;
    int64_t cap = s->params.penalty_last_n;
    int64_t start = s->n_history == cap ? s->history_head : 0;
    for (int64_t i = 0; i < s->n_history; i++) {
        PyObject *v = PyLong_FromLong(s->history[(start + i) % (cap > 0 ? cap : 1)]);
        if (!v) { Py_DECREF(list); return NULL; }
        PyList_SET_ITEM(list, (Py_ssize_t)i, v);
    }
    return list;
}

static PyObject *get_params(PyObject *op, void *c)
{
    const sl_sampler_params *p = &((SamplerObject *)op)->s.params;
    return Py_BuildValue("{s:d,s:i,s:d,s:d,s:d,s:d,s:d,s:i}", "temperature", (double)p->temperature,
                         "top_k", p->top_k, "top_p", (double)p->top_p, "min_p", (double)p->min_p,
                         "repeat_penalty", (double)p->repeat_penalty, "presence_penalty",
                         (double)p->presence_penalty, "frequency_penalty", (double)p->frequency_penalty,
                         "penalty_last_n", p->penalty_last_n);
}

static PyMethodDef sampler_methods[] = {
    {"sample", sampler_sample, METH_O,
     "sample(logits) -> int: pick the next token from float32 logits (V,); the logits are not modified."},
    {"probs", sampler_probs, METH_O,
     "probs(logits) -> float64 (V,): the distribution sample() would draw from (no randomness used)."},
    {"accept", sampler_accept, METH_O,
     "accept(token | tokens): record tokens (oldest first) in the penalty window."},
    {"reset", (PyCFunction)(void (*)(void))sampler_reset, METH_VARARGS | METH_KEYWORDS,
     "reset(seed=None): forget the penalty window and restart the random stream (same seed if None)."},
    {"logprobs", (PyCFunction)(void (*)(void))sampler_logprobs, METH_VARARGS | METH_KEYWORDS,
     "logprobs(logits, token, top_n=0) -> (logprob, [(id, logprob), ...]) of the raw log-softmax."},
    {"random", sampler_random, METH_O,
     "random(n) -> float64 (n,): the next n uniforms in [0, 1) of the sampler's PCG64 stream."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef sampler_getset[] = {
    {"n_vocab", get_n_vocab, NULL, "Vocabulary size V.", NULL},
    {"seed", get_seed, NULL, "The seed of the random stream (as an unsigned 64-bit int).", NULL},
    {"history", get_history, NULL, "Tokens in the penalty window, oldest first.", NULL},
    {"params", get_params, NULL, "The sampling parameters, as a dict.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot sampler_slots[] = {
    {Py_tp_doc, "Sampler(n_vocab, *, temperature=0.8, top_k=40, top_p=0.95, min_p=0.05, repeat_penalty=1.0,\n"
                "        presence_penalty=0.0, frequency_penalty=0.0, penalty_last_n=64, seed=None, logit_bias=None)\n"
                "--\n\n"
                "Token sampler in C (llama.cpp semantics; temperature 0 = greedy). A seed gives the same\n"
                "tokens on every machine, ISA level and thread count."},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_init, sampler_init},
    {Py_tp_dealloc, sampler_dealloc},
    {Py_tp_methods, sampler_methods},
    {Py_tp_getset, sampler_getset},
    {0, NULL},
};

static PyType_Spec sampler_spec = {
    .name = "solar._core.Sampler",
    .basicsize = sizeof(SamplerObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = sampler_slots,
};

int sl_py_add_sampler(PyObject *module, sl_py_state *st)
{
    return sl_py_add_type(module, st, &sampler_spec, SL_PY_SAMPLER) ? 0 : -1;
}
