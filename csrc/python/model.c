/* model.c — solar._core.Model: loading, hyper-parameters, zero-copy weight views, forward. */
#include "python/py_model.h"

#include "kernels/kernels.h"
#include "quant/pack_x8.h"
#include "runtime/dtype.h"

static void model_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    sl_model_free(((sl_py_model *)self)->model);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static int model_traverse(PyObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    return 0;
}

PyObject *sl_py_model_wrap(PyTypeObject *type, sl_model *m)
{
    sl_py_model *o = (sl_py_model *)type->tp_alloc(type, 0);
    if (!o) { sl_model_free(m); return NULL; }
    o->model = m;
    return (PyObject *)o;
}

typedef sl_status (*model_loader)(sl_model **out, const char *path, int n_threads);

/* Shared body of the loaders: path conversion, the GIL released while loading, errors mapped. */
static PyObject *load_with(PyObject *cls, PyObject *args, PyObject *kw, model_loader loader)
{
    static char *kwlist[] = {"path", "n_threads", NULL};
    PyObject *path_obj = NULL;
    int n_threads = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O&|i", kwlist, PyUnicode_FSConverter, &path_obj, &n_threads)) return NULL;
    sl_model *m = NULL;
    sl_status st;
    const char *path = PyBytes_AS_STRING(path_obj);
    Py_BEGIN_ALLOW_THREADS
    st = loader(&m, path, n_threads);
    Py_END_ALLOW_THREADS
    Py_DECREF(path_obj);
    if (st != SL_OK) return sl_py_raise(sl_py_state_of_type((PyTypeObject *)cls), st);
    return sl_py_model_wrap((PyTypeObject *)cls, m);
}

static PyObject *model_load_hf(PyObject *cls, PyObject *args, PyObject *kw) { return load_with(cls, args, kw, sl_model_load_hf); }
static PyObject *model_load_gguf(PyObject *cls, PyObject *args, PyObject *kw) { return load_with(cls, args, kw, sl_model_load_gguf); }

static int set_item(PyObject *d, const char *k, PyObject *v)
{
    if (!v) return -1;
    int r = PyDict_SetItemString(d, k, v);
    Py_DECREF(v);
    return r;
}

static PyObject *rope_scaling_dict(const sl_hparams *hp)
{
    if (hp->rope_scaling == SL_ROPE_NONE) Py_RETURN_NONE;
    if (hp->rope_scaling == SL_ROPE_LINEAR) return Py_BuildValue("{s:s,s:d}", "type", "linear", "factor", hp->rope_factor);
    return Py_BuildValue("{s:s,s:d,s:d,s:d,s:L}", "type", "llama3", "factor", hp->rope_factor, "low_freq_factor",
                         hp->rope_low_freq_factor, "high_freq_factor", hp->rope_high_freq_factor,
                         "original_max_position_embeddings", (long long)hp->rope_orig_ctx);
}

static PyObject *layer_types_list(const sl_hparams *hp)
{
    if (hp->sliding_window <= 0) Py_RETURN_NONE;
    PyObject *l = PyList_New(hp->n_layers);
    for (int64_t i = 0; l && i < hp->n_layers; i++)
        PyList_SET_ITEM(l, i, PyUnicode_FromString(hp->layer_sliding[i] ? "sliding_attention" : "full_attention"));
    return l;
}

static PyObject *model_hparams(PyObject *self, void *closure)
{
    const sl_hparams *hp = &((sl_py_model *)self)->model->hp;
    PyObject *d = PyDict_New();
    if (!d) return NULL;
    int e = 0;
    e |= set_item(d, "arch", PyUnicode_FromString(sl_arch_get(hp->arch)->name));
    e |= set_item(d, "n_layers", PyLong_FromLongLong(hp->n_layers));
    e |= set_item(d, "n_embd", PyLong_FromLongLong(hp->n_embd));
    e |= set_item(d, "n_head", PyLong_FromLongLong(hp->n_head));
    e |= set_item(d, "n_head_kv", PyLong_FromLongLong(hp->n_head_kv));
    e |= set_item(d, "head_dim", PyLong_FromLongLong(hp->head_dim));
    e |= set_item(d, "n_ff", PyLong_FromLongLong(hp->n_ff));
    e |= set_item(d, "n_vocab", PyLong_FromLongLong(hp->n_vocab));
    e |= set_item(d, "n_ctx_train", PyLong_FromLongLong(hp->n_ctx_train));
    e |= set_item(d, "rms_eps", PyFloat_FromDouble(hp->rms_eps));
    e |= set_item(d, "rope_theta", PyFloat_FromDouble(hp->rope_theta));
    e |= set_item(d, "rope_scaling", rope_scaling_dict(hp));
    e |= set_item(d, "sliding_window", hp->sliding_window > 0 ? PyLong_FromLongLong(hp->sliding_window) : Py_NewRef(Py_None));
    e |= set_item(d, "layer_types", layer_types_list(hp));
    e |= set_item(d, "tie_embeddings", PyBool_FromLong(hp->tie_embeddings));
    e |= set_item(d, "post_norm", PyBool_FromLong(hp->post_norm));
    e |= set_item(d, "rope_interleaved", PyBool_FromLong(hp->rope_interleaved));
    e |= set_item(d, "qk_norm", PyBool_FromLong(hp->qk_norm));
    e |= set_item(d, "bos_token_id", hp->bos_token_id >= 0 ? PyLong_FromLongLong(hp->bos_token_id) : Py_NewRef(Py_None));
    e |= set_item(d, "eos_token_id", hp->eos_token_id >= 0 ? PyLong_FromLongLong(hp->eos_token_id) : Py_NewRef(Py_None));
    if (e) { Py_DECREF(d); return NULL; }
    return d;
}

static PyObject *model_config_json(PyObject *self, void *closure)
{
    const char *j = ((sl_py_model *)self)->model->config_json;
    if (!j) Py_RETURN_NONE;
    return PyUnicode_FromString(j);
}

static PyObject *model_path(PyObject *self, void *closure) { return PyUnicode_DecodeFSDefault(((sl_py_model *)self)->model->path); }
static PyObject *model_n_threads(PyObject *self, void *closure) { return PyLong_FromLong(((sl_py_model *)self)->model->n_threads); }

static int model_set_n_threads(PyObject *self, PyObject *v, void *closure)
{
    long n = v ? PyLong_AsLong(v) : -1;
    if (n == -1 && PyErr_Occurred()) return -1;
    if (n < 1 || n > 512) { PyErr_SetString(PyExc_ValueError, "n_threads must be in [1, 512]"); return -1; }
    ((sl_py_model *)self)->model->n_threads = (int)n;
    return 0;
}

/* NumPy dtype of a tensor view: float types typed, everything else raw bytes. */
static int view_typenum(int dtype)
{
    switch (dtype) {
    case SL_DTYPE_F32: return NPY_FLOAT32;
    case SL_DTYPE_F16: return NPY_FLOAT16;
    case SL_DTYPE_BF16: return NPY_UINT16;
    default: return NPY_UINT8;
    }
}

/* A matrix packed for the kernels (SL_LAYOUT_X8) seen in the file's layout: a fresh read-only copy
 * (rows, values) of a float type, (rows, row bytes) of a quantized one, since its bytes are
 * interleaved in memory. */
static PyObject *unpacked_copy(const sl_tensor *t)
{
    const int typenum = view_typenum(t->dtype);
    const size_t row = sl_dtype_row_bytes(t->dtype, t->shape[1]);
    npy_intp dims[2] = {(npy_intp)t->shape[0], typenum == NPY_UINT8 ? (npy_intp)row : (npy_intp)t->shape[1]};
    PyObject *arr = PyArray_SimpleNew(2, dims, typenum);
    if (!arr) return NULL;
    Py_BEGIN_ALLOW_THREADS
    sl_unpack_x8(t->dtype, t->data, t->shape[0], t->shape[1], PyArray_DATA((PyArrayObject *)arr), row);
    Py_END_ALLOW_THREADS
    PyArray_CLEARFLAGS((PyArrayObject *)arr, NPY_ARRAY_WRITEABLE);
    return arr;
}

PyObject *sl_py_tensor_view(PyObject *owner, const sl_tensor *t)
{
    if (t->layout == SL_LAYOUT_X8) return unpacked_copy(t);
    int typenum = view_typenum(t->dtype);
    npy_intp dims[SL_MAX_DIMS];
    int nd = t->n_dims;
    for (int d = 0; d < nd; d++) dims[d] = (npy_intp)t->shape[d];
    if (typenum == NPY_UINT8) {   /* quantized: (rows, row bytes) */
        nd = 2;
        dims[1] = (npy_intp)sl_dtype_row_bytes(t->dtype, t->shape[t->n_dims - 1]);
        dims[0] = dims[1] ? (npy_intp)(t->nbytes / (size_t)dims[1]) : 0;
    }
    PyArray_Descr *descr = PyArray_DescrFromType(typenum);
    if (!descr) return NULL;
    PyObject *arr = PyArray_NewFromDescr(&PyArray_Type, descr, nd, dims, NULL, (void *)t->data, 0, NULL);
    if (!arr) return NULL;
    if (PyArray_SetBaseObject((PyArrayObject *)arr, Py_NewRef(owner)) < 0) { Py_DECREF(arr); return NULL; }
    return arr;
}

static PyObject *model_tensors(PyObject *self, PyObject *noargs)
{
    const sl_model *m = ((sl_py_model *)self)->model;
    PyObject *d = PyDict_New();
    for (int64_t i = 0; d && i < m->n_named; i++) {
        PyObject *v = sl_py_tensor_view(self, &m->named[i]);
        if (!v || PyDict_SetItemString(d, m->named[i].name, v) < 0) { Py_XDECREF(v); Py_CLEAR(d); break; }
        Py_DECREF(v);
    }
    return d;
}

static PyObject *model_tensor_dtypes(PyObject *self, PyObject *noargs)
{
    const sl_model *m = ((sl_py_model *)self)->model;
    PyObject *d = PyDict_New();
    for (int64_t i = 0; d && i < m->n_named; i++) {
        const char *n = sl_dtype_name(m->named[i].dtype);
        PyObject *v = PyUnicode_FromString(n ? n : "?");
        if (!v || PyDict_SetItemString(d, m->named[i].name, v) < 0) { Py_XDECREF(v); Py_CLEAR(d); break; }
        Py_DECREF(v);
    }
    return d;
}

static PyObject *model_roles(PyObject *self, PyObject *noargs)
{
    const sl_model *m = ((sl_py_model *)self)->model;
    PyObject *l = PyList_New(0);
    for (int r = 0; l && r < SL_ROLE_COUNT; r++) {
        int64_t n = sl_role_is_layer((sl_role)r) ? m->hp.n_layers : 1;
        for (int64_t il = 0; il < n; il++) {
            const sl_tensor *t = sl_model_role(m, (sl_role)r, il);
            if (!t) continue;
            PyObject *row = Py_BuildValue("(ssL)", t->name, sl_role_name((sl_role)r), sl_role_is_layer((sl_role)r) ? (long long)il : -1LL);
            if (!row || PyList_Append(l, row) < 0) { Py_XDECREF(row); Py_CLEAR(l); break; }
            Py_DECREF(row);
        }
    }
    return l;
}

/* The compute record of (role name, layer) from args: 0 and *out (NULL: the model has none), or -1
 * with an exception set. */
static int role_arg(PyObject *self, PyObject *args, const sl_tensor **out)
{
    const char *role_name;
    long long il = 0;
    if (!PyArg_ParseTuple(args, "s|L", &role_name, &il)) return -1;
    const sl_model *m = ((sl_py_model *)self)->model;
    for (int r = 0; r < SL_ROLE_COUNT; r++) {
        if (strcmp(sl_role_name((sl_role)r), role_name) != 0) continue;
        if (sl_role_is_layer((sl_role)r) && (il < 0 || il >= m->hp.n_layers)) {
            PyErr_Format(PyExc_IndexError, "layer %lld out of range [0, %lld)", il, (long long)m->hp.n_layers);
            return -1;
        }
        *out = sl_model_role(m, (sl_role)r, il);
        return 0;
    }
    PyErr_Format(PyExc_ValueError, "unknown role '%s'", role_name);
    return -1;
}

/* A fresh view on the compute tensor of a role (e.g. the f32 copy of an f16 norm). */
static PyObject *model_role_view(PyObject *self, PyObject *args)
{
    const sl_tensor *t;
    if (role_arg(self, args, &t) < 0) return NULL;
    if (!t) Py_RETURN_NONE;
    return sl_py_tensor_view(self, t);
}

static PyObject *model_role_layout(PyObject *self, PyObject *args)
{
    const sl_tensor *t;
    if (role_arg(self, args, &t) < 0) return NULL;
    if (!t) Py_RETURN_NONE;
    return PyUnicode_FromString(t->layout == SL_LAYOUT_X8 ? "x8" : "rows");
}

PyObject *sl_py_model_forward(PyObject *self, PyObject *args, PyObject *kw);

/* A fresh float32 copy of a checkpoint tensor, dequantized/widened by the kernel table. */
static PyObject *model_tensor_f32(PyObject *self, PyObject *arg)
{
    const char *name = PyUnicode_AsUTF8(arg);
    if (!name) return NULL;
    const sl_model *m = ((sl_py_model *)self)->model;
    for (int64_t i = 0; i < m->n_named; i++) {
        const sl_tensor *t = &m->named[i];
        if (strcmp(t->name, name) != 0) continue;
        sl_to_float_fn conv = t->dtype >= 0 ? sl_k->to_float[t->dtype] : NULL;
        if (!conv) return PyErr_Format(PyExc_ValueError, "tensor '%s' cannot be converted to float32", name);
        npy_intp dims[SL_MAX_DIMS];
        for (int d = 0; d < t->n_dims; d++) dims[d] = (npy_intp)t->shape[d];
        PyObject *out = PyArray_SimpleNew(t->n_dims, dims, NPY_FLOAT32);
        if (!out) return NULL;
        int64_t cols = t->shape[t->n_dims - 1], rows = t->n_dims == 2 ? t->shape[0] : 1;
        size_t row = sl_dtype_row_bytes(t->dtype, cols);
        float *dst = PyArray_DATA((PyArrayObject *)out);
        PyObject *rows_copy = t->layout == SL_LAYOUT_X8 ? unpacked_copy(t) : NULL;
        if (t->layout == SL_LAYOUT_X8 && !rows_copy) { Py_DECREF(out); return NULL; }
        const char *src = rows_copy ? PyArray_DATA((PyArrayObject *)rows_copy) : t->data;
        Py_BEGIN_ALLOW_THREADS
        for (int64_t r = 0; r < rows; r++) conv(cols, src + (size_t)r * row, dst + r * cols);
        Py_END_ALLOW_THREADS
        Py_XDECREF(rows_copy);
        return out;
    }
    return PyErr_Format(PyExc_KeyError, "no tensor named '%s'", name);
}

static PyObject *py_arch_tensor_names(PyObject *cls, PyObject *args)
{
    const char *arch, *kind;
    if (!PyArg_ParseTuple(args, "ss", &arch, &kind)) return NULL;
    int a = sl_arch_find_name(arch);
    if (a < 0) return PyErr_Format(PyExc_ValueError, "unknown architecture '%s'", arch);
    const sl_arch *row = sl_arch_get((sl_arch_id)a);
    const char *const *names = strcmp(kind, "gguf") == 0 ? row->gguf_names : row->hf_names;
    PyObject *d = PyDict_New();
    for (int r = 0; d && r < SL_ROLE_COUNT; r++) {
        if (!names[r]) continue;
        PyObject *v = PyUnicode_FromString(names[r]);
        if (!v || PyDict_SetItemString(d, sl_role_name((sl_role)r), v) < 0) { Py_XDECREF(v); Py_CLEAR(d); }
        else Py_DECREF(v);
    }
    return d;
}

static PyObject *model_convert(PyObject *self, PyObject *arg)
{
    int dtype = -1;
    if (arg != Py_None) {
        const char *name = PyUnicode_AsUTF8(arg);
        if (!name) return NULL;
        dtype = sl_dtype_from_name(name);
        if (dtype < 0) return PyErr_Format(PyExc_ValueError, "unknown dtype '%s'", name);
    }
    sl_status st;
    sl_model *m = ((sl_py_model *)self)->model;
    Py_BEGIN_ALLOW_THREADS
    st = sl_model_convert(m, dtype);
    Py_END_ALLOW_THREADS
    if (st != SL_OK) return sl_py_raise_for(self, st);
    Py_RETURN_NONE;
}

static PyObject *model_pack(PyObject *self, PyObject *noargs)
{
    sl_status st;
    sl_model *m = ((sl_py_model *)self)->model;
    Py_BEGIN_ALLOW_THREADS
    st = sl_model_pack(m);
    Py_END_ALLOW_THREADS
    if (st != SL_OK) return sl_py_raise_for(self, st);
    Py_RETURN_NONE;
}

static PyMethodDef model_methods[] = {
    {"pack", model_pack, METH_NOARGS,
     "pack(): give the weight matrices with X8 kernels an interleaved compute copy (after convert)."},
    {"load_hf", (PyCFunction)(void (*)(void))model_load_hf, METH_VARARGS | METH_KEYWORDS | METH_CLASS,
     "load_hf(path, n_threads=0) -> Model: load a Hugging Face folder."},
    {"convert", model_convert, METH_O,
     "convert(dtype or None): convert weights in place to dtype (None: aligned anonymous copy)."},
    {"load_gguf", (PyCFunction)(void (*)(void))model_load_gguf, METH_VARARGS | METH_KEYWORDS | METH_CLASS,
     "load_gguf(path, n_threads=0) -> Model: load a GGUF file."},
    {"tensor_f32", model_tensor_f32, METH_O, "tensor_f32(name) -> a float32 copy of a checkpoint tensor."},
    {"arch_tensor_names", py_arch_tensor_names, METH_VARARGS | METH_STATIC,
     "arch_tensor_names(arch, 'hf'|'gguf') -> {role: name template with %d for the layer}."},
    {"tensors", model_tensors, METH_NOARGS, "dict: checkpoint name -> read-only zero-copy view."},
    {"tensor_dtypes", model_tensor_dtypes, METH_NOARGS, "dict: checkpoint name -> solar dtype name."},
    {"roles", model_roles, METH_NOARGS, "list of (name, role, layer) of the tensors the forward pass uses."},
    {"role_view", model_role_view, METH_VARARGS, "role_view(role, layer=0): view of the compute tensor."},
    {"role_layout", model_role_layout, METH_VARARGS, "role_layout(role, layer=0): 'rows' or 'x8' (packed), or None."},
    {"forward", (PyCFunction)(void (*)(void))sl_py_model_forward, METH_VARARGS | METH_KEYWORDS,
     "forward(tokens, session, logits, logits_all, hidden): run tokens, fill arrays."},
    {NULL, NULL, 0, NULL},
};

static PyObject *model_adaptive(PyObject *self, void *closure)
{
    (void)closure;
    return PyBool_FromLong(!((sl_py_model *)self)->model->fixed_threads);
}

static int model_set_adaptive(PyObject *self, PyObject *v, void *closure)
{
    (void)closure;
    int on = v ? PyObject_IsTrue(v) : -1;
    if (on < 0) { if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "cannot delete adaptive_threads"); return -1; }
    ((sl_py_model *)self)->model->fixed_threads = !on;
    return 0;
}

static PyGetSetDef model_getset[] = {
    {"adaptive_threads", model_adaptive, model_set_adaptive,
     "True: run 1 thread instead of n_threads while that is measured faster (busy machine)", NULL},
    {"hparams", model_hparams, NULL, "normalised hyper-parameters", NULL},
    {"config_json", model_config_json, NULL, "raw config.json text or None", NULL},
    {"path", model_path, NULL, "where the model was loaded from", NULL},
    {"n_threads", model_n_threads, model_set_n_threads, "threads used by the forward pass", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot model_slots[] = {
    {Py_tp_dealloc, model_dealloc},
    {Py_tp_traverse, model_traverse},
    {Py_tp_methods, model_methods},
    {Py_tp_getset, model_getset},
    {Py_tp_doc, "A loaded model (C core). Use solar.load()."},
    {0, NULL},
};

static PyType_Spec model_spec = {
    .name = "solar._core.Model",
    .basicsize = sizeof(sl_py_model),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = model_slots,
};

int sl_py_add_model(PyObject *module, sl_py_state *st)
{
    if (!sl_py_add_type(module, st, &model_spec, SL_PY_MODEL)) return -1;
    return sl_py_add_session(module, st);
}
