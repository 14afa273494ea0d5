/* py_common.h — shared CPython glue: module state, status -> exception mapping, helpers.
 * The only C outside the core that knows about Python lives in csrc/python/. */
#ifndef SL_PY_COMMON_H
#define SL_PY_COMMON_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define PY_ARRAY_UNIQUE_SYMBOL sl_numpy_api
#ifndef SL_PY_NUMPY_MAIN
#define NO_IMPORT_ARRAY
#endif
#include <numpy/arrayobject.h>

#include "solar.h"

typedef struct sl_py_state {
    PyObject *SolarError;       /* solar.SolarError(Exception) */
    PyObject *FormatError;      /* solar.FormatError(SolarError, ValueError) */
    PyObject *UnsupportedError; /* solar.UnsupportedError(SolarError) */
    PyTypeObject *types[16];    /* heap types created at exec, by registration order */
} sl_py_state;

extern PyModuleDef sl_py_module_def;

sl_py_state *sl_py_state_of_module(PyObject *module);
/* State of the module that defined `type` (for methods of our heap types). */
sl_py_state *sl_py_state_of_type(PyTypeObject *type);

/* Raise the exception for `status` with sl_last_error() as message; returns NULL. */
PyObject *sl_py_raise(sl_py_state *st, sl_status status);
/* Same, from a method of one of our types. */
PyObject *sl_py_raise_for(PyObject *self, sl_status status);

/* A type's registration: creates the heap type, adds it to the module; 0 ok, -1 error. */
typedef int (*sl_py_add_fn)(PyObject *module, sl_py_state *st);
/* Create a heap type from spec, store it in st->types, add it to module under its name. */
PyTypeObject *sl_py_add_type(PyObject *module, sl_py_state *st, PyType_Spec *spec, int slot);

/* Slots in sl_py_state.types. */
enum { SL_PY_TENSOR_FILE = 0, SL_PY_MODEL = 1, SL_PY_SESSION = 2, SL_PY_TOKENIZER = 3, SL_PY_STREAM = 4,
       SL_PY_SAMPLER = 5, SL_PY_TRAINER = 6, SL_PY_GGUF = 7, SL_PY_WORKSPACE = 8 };

/* Registrations, one per Python type file. */
int sl_py_add_model(PyObject *module, sl_py_state *st);
int sl_py_add_tokenizer(PyObject *module, sl_py_state *st);
int sl_py_add_tok_stream(PyObject *module, sl_py_state *st);
int sl_py_add_surgery(PyObject *module, sl_py_state *st);
int sl_py_add_pretok(PyObject *module, sl_py_state *st);
int sl_py_add_gguf(PyObject *module, sl_py_state *st);
int sl_py_add_sampler(PyObject *module, sl_py_state *st);
int sl_py_add_kernels(PyObject *module, sl_py_state *st);
int sl_py_add_quant(PyObject *module, sl_py_state *st);
int sl_py_add_trainer(PyObject *module, sl_py_state *st);
int sl_py_add_workspace(PyObject *module, sl_py_state *st);

#endif /* SL_PY_COMMON_H */
