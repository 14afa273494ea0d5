/* gguf_py.c — solar._core.GGUFFile: an opened, validated GGUF file (csrc/formats/gguf.h) seen
 * from Python. Metadata values become Python scalars, str, lists, or read-only NumPy views of
 * numeric arrays; tensors become read-only NumPy views of the mapping. Every view's base is
 * the GGUFFile, which keeps the mapping alive. solar/gguf.py builds the public API on this. */
#include "python/py_common.h"

#include "formats/gguf.h"
#include "runtime/dtype.h"

typedef struct {
    PyObject_HEAD
    sl_gguf *g;                 /* owned */
} GGUFFileObject;

static int gguf_init(PyObject *op, PyObject *args, PyObject *kwds)
{
    GGUFFileObject *self = (GGUFFileObject *)op;
    static char *kwlist[] = {"path", NULL};
    PyObject *path = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O&:GGUFFile", kwlist, PyUnicode_FSConverter, &path)) return -1;
    if (self->g) {
        Py_DECREF(path);
        PyErr_SetString(PyExc_RuntimeError, "GGUFFile is already open");
        return -1;
    }
    sl_gguf *g = NULL;
    sl_status st;
    const char *cpath = PyBytes_AS_STRING(path);
    Py_BEGIN_ALLOW_THREADS
    st = sl_gguf_open(cpath, &g);
    Py_END_ALLOW_THREADS
    Py_DECREF(path);
    if (st != SL_OK) {
        sl_py_raise_for(op, st);
        return -1;
    }
    self->g = g;
    return 0;
}

static void gguf_dealloc(PyObject *op)
{
    GGUFFileObject *self = (GGUFFileObject *)op;
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    sl_gguf_free(self->g);
    self->g = NULL;
    tp->tp_free(op);
    Py_DECREF(tp);
}

static int gguf_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op));
    return 0;
}

static sl_gguf *opened(GGUFFileObject *self)
{
    if (!self->g) PyErr_SetString(PyExc_ValueError, "GGUFFile is not open");
    return self->g;
}

/* ---- values ---- */

/* A read-only NumPy view of `data` whose base is self. Steals descr. */
static PyObject *view_of(GGUFFileObject *self, PyArray_Descr *descr, int nd, npy_intp *dims, const void *data)
{
    PyObject *arr = PyArray_NewFromDescr(&PyArray_Type, descr, nd, dims, NULL, (void *)data, 0, NULL);
    if (!arr) return NULL;
    Py_INCREF(self);
    if (PyArray_SetBaseObject((PyArrayObject *)arr, (PyObject *)self) < 0) {
        Py_DECREF(arr);
        return NULL;
    }
    return arr;
}

static int npy_type_of_value(int t)
{
    switch (t) {
    case SL_GGUF_U8: return NPY_UINT8;
    case SL_GGUF_I8: return NPY_INT8;
    case SL_GGUF_U16: return NPY_UINT16;
    case SL_GGUF_I16: return NPY_INT16;
    case SL_GGUF_U32: return NPY_UINT32;
    case SL_GGUF_I32: return NPY_INT32;
    case SL_GGUF_F32: return NPY_FLOAT32;
    case SL_GGUF_BOOL: return NPY_BOOL;
    case SL_GGUF_U64: return NPY_UINT64;
    case SL_GGUF_I64: return NPY_INT64;
    case SL_GGUF_F64: return NPY_FLOAT64;
    default: return -1;
    }
}

static PyObject *str_to_py(sl_gguf_str s)
{
    /* GGUF strings should be UTF-8; stray bytes survive as lone surrogates (re-encode with
     * errors="surrogateescape" to get them back). */
    return PyUnicode_DecodeUTF8(s.ptr, (Py_ssize_t)s.len, "surrogateescape");
}

static PyObject *value_to_py(GGUFFileObject *self, const sl_gguf_value *v);

static PyObject *array_to_py(GGUFFileObject *self, const sl_gguf_value *v)
{
    int npy = npy_type_of_value(v->elem_type);
    if (npy >= 0) {
        npy_intp dims[1] = { (npy_intp)v->count };
        return view_of(self, PyArray_DescrFromType(npy), 1, dims, v->data);
    }
    PyObject *list = PyList_New((Py_ssize_t)v->count);
    if (!list) return NULL;
    for (uint64_t i = 0; i < v->count; i++) {
        PyObject *item = v->elem_type == SL_GGUF_STR ? str_to_py(v->strs[i]) : value_to_py(self, &v->items[i]);
        if (!item) { Py_DECREF(list); return NULL; }
        PyList_SET_ITEM(list, (Py_ssize_t)i, item);
    }
    return list;
}

static PyObject *value_to_py(GGUFFileObject *self, const sl_gguf_value *v)
{
    switch (v->type) {
    case SL_GGUF_STR: return str_to_py(v->str);
    case SL_GGUF_ARR: return array_to_py(self, v);
    case SL_GGUF_BOOL: return PyBool_FromLong(sl_gguf_value_i64(v, 0));
    case SL_GGUF_F32: case SL_GGUF_F64: return PyFloat_FromDouble(sl_gguf_value_f64(v, 0));
    case SL_GGUF_U64: {
        uint64_t u;
        memcpy(&u, v->data, 8);
        return PyLong_FromUnsignedLongLong(u);
    }
    default: return PyLong_FromLongLong(sl_gguf_value_i64(v, 0));
    }
}

static PyObject *type_string(const sl_gguf_value *v)
{
    if (v->type != SL_GGUF_ARR) return PyUnicode_FromString(sl_gguf_type_name(v->type));
    return PyUnicode_FromFormat("array[%s]", sl_gguf_type_name(v->elem_type));
}

static PyObject *gguf_kv(PyObject *op, PyObject *noargs)
{
    GGUFFileObject *self = (GGUFFileObject *)op;
    sl_gguf *g = opened(self);
    if (!g) return NULL;
    PyObject *list = PyList_New((Py_ssize_t)g->n_kv), *key = NULL, *type = NULL, *value = NULL;
    if (!list) return NULL;
    for (int64_t i = 0; i < g->n_kv; i++) {
        const sl_gguf_kv *kv = &g->kv[i];
        if (!(key = PyUnicode_FromString(kv->key)) || !(type = type_string(&kv->value)) ||
            !(value = value_to_py(self, &kv->value)))
            goto fail;
        PyObject *item = PyTuple_Pack(3, key, type, value);
        if (!item) goto fail;
        PyList_SET_ITEM(list, (Py_ssize_t)i, item);
        Py_CLEAR(key);
        Py_CLEAR(type);
        Py_CLEAR(value);
    }
    return list;
fail:
    Py_XDECREF(key);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_DECREF(list);
    return NULL;
}

/* ---- tensors ---- */

static int npy_type_of_dtype(int dtype)
{
    switch (dtype) {
    case SL_DTYPE_F32: return NPY_FLOAT32;
    case SL_DTYPE_F16: return NPY_FLOAT16;
    case SL_DTYPE_BF16: return NPY_UINT16;
    case SL_DTYPE_F64: return NPY_FLOAT64;
    case SL_DTYPE_I8: return NPY_INT8;
    case SL_DTYPE_I16: return NPY_INT16;
    case SL_DTYPE_I32: return NPY_INT32;
    case SL_DTYPE_I64: return NPY_INT64;
    default: return -1;       /* block-quantized: raw bytes */
    }
}

static PyObject *gguf_tensor_infos(PyObject *op, PyObject *noargs)
{
    sl_gguf *g = opened((GGUFFileObject *)op);
    if (!g) return NULL;
    PyObject *list = PyList_New((Py_ssize_t)g->n_tensors), *ne = NULL;
    if (!list) return NULL;
    for (int64_t i = 0; i < g->n_tensors; i++) {
        const sl_gguf_tensor *t = &g->tensors[i];
        if (!(ne = PyTuple_New(t->n_dims))) goto fail;
        for (int d = 0; d < t->n_dims; d++) {
            PyObject *x = PyLong_FromLongLong(t->ne[d]);
            if (!x) goto fail;
            PyTuple_SET_ITEM(ne, d, x);
        }
        PyObject *item = Py_BuildValue("(ssOKn)", t->name, sl_dtype_name(t->dtype), ne,
                                       (unsigned long long)(g->data_offset + t->offset), (Py_ssize_t)t->nbytes);
        if (!item) goto fail;
        PyList_SET_ITEM(list, (Py_ssize_t)i, item);
        Py_CLEAR(ne);
    }
    return list;
fail:
    Py_XDECREF(ne);
    Py_DECREF(list);
    return NULL;
}

static PyObject *gguf_tensor(PyObject *op, PyObject *arg)
{
    GGUFFileObject *self = (GGUFFileObject *)op;
    sl_gguf *g = opened(self);
    if (!g) return NULL;
    Py_ssize_t i = PyNumber_AsSsize_t(arg, PyExc_IndexError);
    if (i == -1 && PyErr_Occurred()) return NULL;
    if (i < 0 || i >= (Py_ssize_t)g->n_tensors)
        return PyErr_Format(PyExc_IndexError, "tensor index %zd out of range (%lld tensors)", i,
                            (long long)g->n_tensors);
    const sl_gguf_tensor *t = &g->tensors[i];
    npy_intp dims[SL_GGUF_MAX_DIMS];
    for (int d = 0; d < t->n_dims; d++) dims[d] = (npy_intp)t->ne[t->n_dims - 1 - d];
    int npy = npy_type_of_dtype(t->dtype);
    if (npy < 0) {
        npy = NPY_UINT8;
        dims[t->n_dims - 1] = (npy_intp)t->row_bytes;   /* n_dims >= 1: ne[0] is a block multiple */
    }
    return view_of(self, PyArray_DescrFromType(npy), t->n_dims, dims, t->data);
}

static PyObject *gguf_dtype_table(PyObject *unused, PyObject *noargs)
{
    PyObject *list = PyList_New(0);
    if (!list) return NULL;
    for (int id = 0; id < SL_DTYPE_COUNT; id++) {
        const sl_dtype_traits *t = sl_dtype_traits_of(id);
        if (!t) continue;
        PyObject *row = Py_BuildValue("(isLn)", id, t->name, (long long)t->block_size, (Py_ssize_t)t->block_bytes);
        if (!row || PyList_Append(list, row) < 0) {
            Py_XDECREF(row);
            Py_DECREF(list);
            return NULL;
        }
        Py_DECREF(row);
    }
    return list;
}

/* ---- attributes ---- */

static PyObject *get_version(PyObject *op, void *c)
{
    sl_gguf *g = opened((GGUFFileObject *)op);
    return g ? PyLong_FromUnsignedLong(g->version) : NULL;
}

static PyObject *get_alignment(PyObject *op, void *c)
{
    sl_gguf *g = opened((GGUFFileObject *)op);
    return g ? PyLong_FromUnsignedLong(g->alignment) : NULL;
}

static PyObject *get_data_offset(PyObject *op, void *c)
{
    sl_gguf *g = opened((GGUFFileObject *)op);
    return g ? PyLong_FromSize_t(g->data_offset) : NULL;
}

static PyObject *get_file_size(PyObject *op, void *c)
{
    sl_gguf *g = opened((GGUFFileObject *)op);
    return g ? PyLong_FromSize_t(g->map.size) : NULL;
}

static PyObject *get_path(PyObject *op, void *c)
{
    sl_gguf *g = opened((GGUFFileObject *)op);
    return g ? PyUnicode_DecodeFSDefault(g->map.path) : NULL;
}

static PyGetSetDef gguf_getset[] = {
    {"version", get_version, NULL, "GGUF version (2 or 3).", NULL},
    {"alignment", get_alignment, NULL, "Alignment of the tensor data in bytes.", NULL},
    {"data_offset", get_data_offset, NULL, "Byte offset of the data section.", NULL},
    {"file_size", get_file_size, NULL, "Size of the file in bytes.", NULL},
    {"path", get_path, NULL, "Path the file was opened from.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMethodDef gguf_methods[] = {
    {"kv", gguf_kv, METH_NOARGS,
     "kv() -> list of (key, type, value) in file order; type is 'u32', 'str', 'array[f32]', ...; numeric "
     "arrays are read-only NumPy views of the file, string arrays lists of str."},
    {"tensor_infos", gguf_tensor_infos, METH_NOARGS,
     "tensor_infos() -> list of (name, dtype, ne, file_offset, nbytes) in file order; ne in GGUF order "
     "(ne[0] fastest), file_offset absolute."},
    {"tensor", gguf_tensor, METH_O,
     "tensor(i) -> read-only NumPy view of tensor i, dims reversed into NumPy order; block-quantized "
     "types as uint8 with the last dim in bytes, bf16 as uint16."},
    {"dtype_table", gguf_dtype_table, METH_NOARGS | METH_STATIC,
     "dtype_table() -> list of (ggml type id, name, block size, block bytes) of the tensor types solar knows."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot gguf_slots[] = {
    {Py_tp_doc, "GGUFFile(path): an opened, validated GGUF v2/v3 file (raises FormatError if invalid)."},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_init, gguf_init},
    {Py_tp_dealloc, gguf_dealloc},
    {Py_tp_traverse, gguf_traverse},
    {Py_tp_methods, gguf_methods},
    {Py_tp_getset, gguf_getset},
    {0, NULL},
};

static PyType_Spec gguf_spec = {
    .name = "solar._core.GGUFFile",
    .basicsize = sizeof(GGUFFileObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = gguf_slots,
};

int sl_py_add_gguf(PyObject *module, sl_py_state *st)
{
    return sl_py_add_type(module, st, &gguf_spec, SL_PY_GGUF) ? 0 : -1;
}
