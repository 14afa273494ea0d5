/* surgery.c — solar._core.passthrough: zero-copy layer stacking across models. */
#include "python/py_model.h"

#include "model/surgery.h"

static PyObject *py_passthrough(PyObject *module, PyObject *args)
{
    PyObject *seq;
    int n_threads = 0;
    if (!PyArg_ParseTuple(args, "O|i", &seq, &n_threads)) return NULL;
    sl_py_state *st = sl_py_state_of_module(module);
    PyObject *fast = PySequence_Fast(seq, "slices must be a sequence of (model, start, end)");
    if (!fast) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    sl_layer_slice *slices = PyMem_Calloc(n ? (size_t)n : 1, sizeof *slices);
    PyObject *result = NULL;
    if (!slices) { PyErr_NoMemory(); goto fail; }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *model;
        long long a, b;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(fast, i), "O!LL;each slice is (core model, start, end)",
                              st->types[SL_PY_MODEL], &model, &a, &b))
            goto fail;
        slices[i] = (sl_layer_slice){((sl_py_model *)model)->model, a, b};
    }
    sl_model *m = NULL;
    sl_status status;
    Py_BEGIN_ALLOW_THREADS
    status = sl_model_passthrough(&m, slices, n, n_threads);
    Py_END_ALLOW_THREADS
    if (status != SL_OK) { sl_py_raise(st, status); goto fail; }
    result = sl_py_model_wrap(st->types[SL_PY_MODEL], m);
fail:
    PyMem_Free(slices);
    Py_DECREF(fast);
    return result;
}

static PyMethodDef surgery_functions[] = {
    {"passthrough", py_passthrough, METH_VARARGS,
     "passthrough([(model, start, end), ...], n_threads=0) -> Model sharing the slices' layers."},
    {NULL, NULL, 0, NULL},
};

int sl_py_add_surgery(PyObject *module, sl_py_state *st)
{
    return PyModule_AddFunctions(module, surgery_functions);
}
