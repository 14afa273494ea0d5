/* module.c — solar._core: multi-phase init, module state, exceptions, runtime functions.
 * Each Python type lives in its own file and registers itself through ADDERS below. */
#define SL_PY_NUMPY_MAIN
#include "python/py_common.h"

#include "runtime/runtime.h"

static const sl_py_add_fn ADDERS[] = {
    sl_py_add_model,
    sl_py_add_tokenizer,
    sl_py_add_tok_stream,
    sl_py_add_surgery,
    sl_py_add_pretok,
    sl_py_add_gguf,
    sl_py_add_sampler,
    sl_py_add_kernels,
    sl_py_add_quant,
    sl_py_add_trainer,
    sl_py_add_workspace,
};

sl_py_state *sl_py_state_of_module(PyObject *module) { return (sl_py_state *)PyModule_GetState(module); }

sl_py_state *sl_py_state_of_type(PyTypeObject *type)
{
    PyObject *m = PyType_GetModuleByDef(type, &sl_py_module_def);
    return m ? sl_py_state_of_module(m) : NULL;
}

PyObject *sl_py_raise(sl_py_state *st, sl_status status)
{
    const char *msg = sl_last_error();
    if (!msg || !*msg) msg = "unknown error";
    PyObject *exc;
    switch (status) {
    case SL_ERR_IO: exc = PyExc_OSError; break;
    case SL_ERR_NOT_FOUND: exc = PyExc_FileNotFoundError; break;
    case SL_ERR_FORMAT: exc = st ? st->FormatError : PyExc_ValueError; break;
    case SL_ERR_ARG: exc = PyExc_ValueError; break;
    case SL_ERR_NOMEM: exc = PyExc_MemoryError; break;
    case SL_ERR_UNSUPPORTED: exc = st ? st->UnsupportedError : PyExc_NotImplementedError; break;
    case SL_ERR_INTERRUPTED: exc = PyExc_KeyboardInterrupt; break;
    default: exc = st ? st->SolarError : PyExc_RuntimeError; break;
    }
    /* messages quote paths and names from files: never let a stray byte turn into UnicodeDecodeError */
    PyObject *text = PyUnicode_DecodeUTF8(msg, (Py_ssize_t)strlen(msg), "backslashreplace");
    if (!text) return NULL;
    PyErr_SetObject(exc, text);
    Py_DECREF(text);
    return NULL;
}

PyObject *sl_py_raise_for(PyObject *self, sl_status status)
{
    return sl_py_raise(sl_py_state_of_type(Py_TYPE(self)), status);
}

PyTypeObject *sl_py_add_type(PyObject *module, sl_py_state *st, PyType_Spec *spec, int slot)
{
    PyTypeObject *t = (PyTypeObject *)PyType_FromModuleAndSpec(module, spec, NULL);
    if (!t) return NULL;
    if (PyModule_AddType(module, t) < 0) { Py_DECREF(t); return NULL; }
    st->types[slot] = t;   /* the state owns this reference */
    return t;
}

/* ---- module functions ---- */

static PyObject *py_isa(PyObject *m, PyObject *noargs) { return PyUnicode_FromString(sl_isa_name(sl_runtime_isa())); }
static PyObject *py_cpu_isa(PyObject *m, PyObject *noargs) { return PyUnicode_FromString(sl_isa_name(sl_runtime_cpu_isa())); }
static PyObject *py_physical_cores(PyObject *m, PyObject *noargs) { return PyLong_FromLong(sl_runtime_physical_cores()); }

static PyObject *py_set_isa(PyObject *m, PyObject *arg)
{
    const char *name = PyUnicode_AsUTF8(arg);
    if (!name) return NULL;
    for (int i = 0; i <= SL_ISA_AVX512; i++) {
        if (strcmp(name, sl_isa_name((sl_isa)i)) == 0) {
            sl_status s = sl_runtime_set_isa((sl_isa)i);
            if (s != SL_OK) return sl_py_raise(sl_py_state_of_module(m), s);
            Py_RETURN_NONE;
        }
    }
    return PyErr_Format(PyExc_ValueError, "unknown ISA level '%s' (expected generic, avx2 or avx512)", name);
}

static PyMethodDef module_methods[] = {
    {"isa", py_isa, METH_NOARGS, "The kernel ISA level in use: 'generic', 'avx2' or 'avx512'."},
    {"cpu_isa", py_cpu_isa, METH_NOARGS, "The best ISA level this CPU supports."},
    {"set_isa", py_set_isa, METH_O, "Force an ISA level (not above the CPU's)."},
    {"physical_cores", py_physical_cores, METH_NOARGS, "Number of physical cores (default thread count)."},
    {NULL, NULL, 0, NULL},
};

static int add_exceptions(PyObject *m, sl_py_state *st)
{
    st->SolarError = PyErr_NewExceptionWithDoc("solar.SolarError", "Base class of solar's errors.", NULL, NULL);
    if (!st->SolarError) return -1;
    PyObject *bases = PyTuple_Pack(2, st->SolarError, PyExc_ValueError);
    if (!bases) return -1;
    st->FormatError = PyErr_NewExceptionWithDoc("solar.FormatError",
        "A model, tokenizer or data file is invalid (the message names the file, tensor and offset).", bases, NULL);
    Py_DECREF(bases);
    if (!st->FormatError) return -1;
    st->UnsupportedError = PyErr_NewExceptionWithDoc("solar.UnsupportedError",
        "Valid input that this version does not support (a dtype, an architecture).", st->SolarError, NULL);
    if (!st->UnsupportedError) return -1;
    if (PyModule_AddObjectRef(m, "SolarError", st->SolarError) < 0) return -1;
    if (PyModule_AddObjectRef(m, "FormatError", st->FormatError) < 0) return -1;
    if (PyModule_AddObjectRef(m, "UnsupportedError", st->UnsupportedError) < 0) return -1;
    return 0;
}

static int module_exec(PyObject *m)
{
    sl_py_state *st = sl_py_state_of_module(m);
    if (_import_array() < 0) return -1;
    sl_status s = sl_runtime_init();
    if (s != SL_OK) { sl_py_raise(NULL, s); return -1; }
    if (add_exceptions(m, st) < 0) return -1;
    for (size_t i = 0; i < sizeof ADDERS / sizeof ADDERS[0]; i++)
        if (ADDERS[i](m, st) < 0) return -1;
    return 0;
}

static int module_traverse(PyObject *m, visitproc visit, void *arg)
{
    sl_py_state *st = sl_py_state_of_module(m);
    Py_VISIT(st->SolarError);
    Py_VISIT(st->FormatError);
    Py_VISIT(st->UnsupportedError);
    for (int i = 0; i < 16; i++) Py_VISIT(st->types[i]);
    return 0;
}

static int module_clear(PyObject *m)
{
    sl_py_state *st = sl_py_state_of_module(m);
    Py_CLEAR(st->SolarError);
    Py_CLEAR(st->FormatError);
    Py_CLEAR(st->UnsupportedError);
    for (int i = 0; i < 16; i++) Py_CLEAR(st->types[i]);
    return 0;
}

static void module_free(void *m) { module_clear((PyObject *)m); }

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, module_exec},
    {0, NULL},
};

PyModuleDef sl_py_module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "solar._core",
    .m_doc = "The C core of solar.",
    .m_size = sizeof(sl_py_state),
    .m_methods = module_methods,
    .m_slots = module_slots,
    .m_traverse = module_traverse,
    .m_clear = module_clear,
    .m_free = module_free,
};

PyMODINIT_FUNC PyInit__core(void) { return PyModuleDef_Init(&sl_py_module_def); }
