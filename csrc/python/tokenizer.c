/* tokenizer.c — _core.TokenizerBase, the Python type over csrc/tokenizer (subclassed by
 * solar.Tokenizer in solar/tokenizer.py); its streaming decoder is in tok_stream.c.
 * Validation happens with the GIL held; encoding and decoding run with it released. Encoded
 * ids are handed to NumPy without a copy (the array owns the C buffer through a capsule). */
#include "python/py_common.h"

#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer.h"

PyObject *sl_py_tok_stream_new(PyObject *owner, sl_tokenizer *t, int skip_special);

typedef struct {
    PyObject_HEAD
    sl_tokenizer *tok;      /* owned; NULL until a _from_* constructor filled it */
} PyTok;

static sl_tokenizer *tok_of(PyObject *self)
{
    sl_tokenizer *t = ((PyTok *)self)->tok;
    if (!t) PyErr_SetString(PyExc_ValueError, "tokenizer is not loaded (use Tokenizer.from_file / from_pretrained_dir)");
    return t;
}

static void tok_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    sl_tokenizer_free(((PyTok *)self)->tok);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static int tok_traverse(PyObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    return 0;
}

/* ---- constructors ---- */

/* Call cls() and install t in it (t is freed on failure). */
static PyObject *wrap_new(PyTypeObject *cls, sl_tokenizer *t)
{
    PyObject *obj = PyObject_CallNoArgs((PyObject *)cls);
    if (!obj) { sl_tokenizer_free(t); return NULL; }
    if (!PyObject_TypeCheck(obj, cls)) { Py_DECREF(obj); sl_tokenizer_free(t); return PyErr_Format(PyExc_TypeError, "bad class"); }
    sl_tokenizer_free(((PyTok *)obj)->tok);
    ((PyTok *)obj)->tok = t;
    return obj;
}

static PyObject *tok_load(PyTypeObject *cls, PyObject *arg, int dir)
{
    PyObject *bytes = NULL;
    if (!PyUnicode_FSConverter(arg, &bytes)) return NULL;
    const char *path = PyBytes_AS_STRING(bytes);
    sl_tokenizer *t = NULL;
    sl_status st;
    Py_BEGIN_ALLOW_THREADS
    st = dir ? sl_tokenizer_load_dir(path, &t) : sl_tokenizer_load_file(path, &t);
    Py_END_ALLOW_THREADS
    Py_DECREF(bytes);
    if (st != SL_OK) return sl_py_raise(sl_py_state_of_type(cls), st);
    return wrap_new(cls, t);
}

static PyObject *tok_from_file(PyObject *cls, PyObject *arg) { return tok_load((PyTypeObject *)cls, arg, 0); }
static PyObject *tok_from_dir(PyObject *cls, PyObject *arg) { return tok_load((PyTypeObject *)cls, arg, 1); }

/* A list of str/bytes -> arrays of pointers and lengths borrowed from the tuple `keep`. */
static int text_list(PyObject *seq, const char *what, PyObject **keep, const char ***ptrs, size_t **lens, Py_ssize_t *n)
{
    *keep = PySequence_Tuple(seq);
    if (!*keep) return -1;
    *n = PyTuple_GET_SIZE(*keep);
    *ptrs = PyMem_Calloc((size_t)*n + 1, sizeof **ptrs);
    *lens = PyMem_Calloc((size_t)*n + 1, sizeof **lens);
    if (!*ptrs || !*lens) { PyErr_NoMemory(); return -1; }
    for (Py_ssize_t i = 0; i < *n; i++) {
        PyObject *x = PyTuple_GET_ITEM(*keep, i);
        Py_ssize_t len;
        if (PyUnicode_Check(x)) {
            (*ptrs)[i] = PyUnicode_AsUTF8AndSize(x, &len);
            if (!(*ptrs)[i]) return -1;
        } else if (PyBytes_Check(x)) {
            (*ptrs)[i] = PyBytes_AS_STRING(x);
            len = PyBytes_GET_SIZE(x);
        } else {
            PyErr_Format(PyExc_TypeError, "%s[%zd] must be str or bytes, not %.80s", what, i, Py_TYPE(x)->tp_name);
            return -1;
        }
        (*lens)[i] = (size_t)len;
    }
    return 0;
}

static int opt_int(PyObject *o, int dflt)
{
    if (!o || o == Py_None) return dflt;
    return PyObject_IsTrue(o);
}

static PyObject *tok_from_arrays(PyObject *cls, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"model", "pieces", "scores", "types", "merges", "bos_id", "eos_id", "unk_id",
                             "add_bos", "add_eos", "pre", "add_space_prefix", "remove_extra_ws", "prepend_scheme",
                             "metaspace_split", "ignore_merges", "bpe_add_prefix_space", "decode_strip", NULL};
    sl_tokenizer_arrays a = {.bos_id = -1, .eos_id = -1, .unk_id = -1};
    PyObject *pieces, *scores = Py_None, *types = Py_None, *merges = Py_None, *abos = NULL, *aeos = NULL, *asp = NULL;
    PyObject *rws = NULL, *msplit = NULL, *ign = NULL, *bps = NULL, *dstrip = NULL;
    PyObject *pkeep = NULL, *mkeep = NULL, *sarr = NULL, *tarr = NULL, *result = NULL;
    const char **pp = NULL, **mp = NULL;
    size_t *pl = NULL, *ml = NULL;
    Py_ssize_t np = 0, nm = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "sO|OOOiiiOOzOOzOOOO:_from_arrays", kwlist, &a.model, &pieces, &scores,
                                     &types, &merges, &a.bos_id, &a.eos_id, &a.unk_id, &abos, &aeos, &a.pre, &asp, &rws,
                                     &a.prepend_scheme, &msplit, &ign, &bps, &dstrip))
        return NULL;
    if (text_list(pieces, "pieces", &pkeep, &pp, &pl, &np) < 0) goto fail;
    if (merges != Py_None && text_list(merges, "merges", &mkeep, &mp, &ml, &nm) < 0) goto fail;
    if (scores != Py_None) {
        sarr = PyArray_FROMANY(scores, NPY_FLOAT32, 1, 1, NPY_ARRAY_CARRAY | NPY_ARRAY_FORCECAST);
        if (!sarr) goto fail;
        if (PyArray_SIZE((PyArrayObject *)sarr) != np) { PyErr_SetString(PyExc_ValueError, "len(scores) != len(pieces)"); goto fail; }
    }
    if (types != Py_None) {
        tarr = PyArray_FROMANY(types, NPY_INT32, 1, 1, NPY_ARRAY_CARRAY | NPY_ARRAY_FORCECAST);
        if (!tarr) goto fail;
        if (PyArray_SIZE((PyArrayObject *)tarr) != np) { PyErr_SetString(PyExc_ValueError, "len(types) != len(pieces)"); goto fail; }
    }
    a.n_vocab = np;
    a.pieces = pp;
    a.piece_lens = pl;
    a.scores = sarr ? PyArray_DATA((PyArrayObject *)sarr) : NULL;
    a.types = tarr ? PyArray_DATA((PyArrayObject *)tarr) : NULL;
    a.n_merges = nm;
    a.merges = mp;
    a.merge_lens = ml;
    if ((a.add_bos = opt_int(abos, -1)) < -1 || (a.add_eos = opt_int(aeos, -1)) < -1 ||
        (a.add_space_prefix = opt_int(asp, -1)) < -1 || (a.remove_extra_ws = opt_int(rws, -1)) < -1 ||
        (a.metaspace_split = opt_int(msplit, -1)) < -1 || (a.ignore_merges = opt_int(ign, -1)) < -1 ||
        (a.bpe_add_prefix_space = opt_int(bps, -1)) < -1 || (a.decode_strip = opt_int(dstrip, -1)) < -1)
        goto fail;
    sl_tokenizer *t = NULL;
    sl_status st;
    Py_BEGIN_ALLOW_THREADS
    st = sl_tokenizer_init_arrays(&a, &t);
    Py_END_ALLOW_THREADS
    if (st != SL_OK) { sl_py_raise(sl_py_state_of_type((PyTypeObject *)cls), st); goto fail; }
    result = wrap_new((PyTypeObject *)cls, t);
fail:
    PyMem_Free(pp);
    PyMem_Free(pl);
    PyMem_Free(mp);
    PyMem_Free(ml);
    Py_XDECREF(pkeep);
    Py_XDECREF(mkeep);
    Py_XDECREF(sarr);
    Py_XDECREF(tarr);
    return result;
}

/* ---- encode ---- */

static void free_capsule(PyObject *cap) { free(PyCapsule_GetPointer(cap, "solar.ids")); }

/* Hand ids->data to a new int32 array (ids is emptied). */
static PyObject *ids_to_array(sl_tok_ids *ids)
{
    if (!ids->data && !(ids->data = malloc(sizeof(int32_t)))) return PyErr_NoMemory();
    npy_intp dim = (npy_intp)ids->n;
    PyObject *arr = PyArray_SimpleNewFromData(1, &dim, NPY_INT32, ids->data);
    if (!arr) { free(ids->data); ids->data = NULL; return NULL; }
    PyObject *cap = PyCapsule_New(ids->data, "solar.ids", free_capsule);
    if (!cap) { Py_DECREF(arr); free(ids->data); ids->data = NULL; return NULL; }
    ids->data = NULL;
    if (PyArray_SetBaseObject((PyArrayObject *)arr, cap) < 0) { Py_DECREF(arr); return NULL; }   /* steals cap */
    return arr;
}

static int encode_flags(const sl_tokenizer *t, int add_special, PyObject *parse_special, unsigned *flags)
{
    int ps = parse_special == Py_None ? 1 : PyObject_IsTrue(parse_special);
    if (ps < 0) return -1;
    *flags = (add_special ? SL_TOK_ADD_SPECIAL : 0u) | (ps ? SL_TOK_PARSE_SPECIAL : 0u);
    return 0;
}

static PyObject *tok_encode(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"text", "add_special", "parse_special", NULL};
    PyObject *text, *parse_special = Py_None;
    int add_special = 1;
    sl_tokenizer *t = tok_of(self);
    if (!t || !PyArg_ParseTupleAndKeywords(args, kw, "O|$pO:encode", kwlist, &text, &add_special, &parse_special))
        return NULL;
    unsigned flags;
    if (encode_flags(t, add_special, parse_special, &flags) < 0) return NULL;
    Py_buffer buf = {0};
    const char *s;
    Py_ssize_t len;
    if (PyUnicode_Check(text)) {
        if (!(s = PyUnicode_AsUTF8AndSize(text, &len))) return NULL;
    } else {
        if (PyObject_GetBuffer(text, &buf, PyBUF_SIMPLE) < 0) return NULL;   /* locks a bytearray's size */
        s = buf.buf;
        len = buf.len;
    }
    sl_tok_ids ids = {0};
    sl_status st;
    Py_BEGIN_ALLOW_THREADS
    st = sl_tokenizer_encode(t, s, (size_t)len, flags, &ids);
    Py_END_ALLOW_THREADS
    if (buf.obj) PyBuffer_Release(&buf);
    if (st != SL_OK) { free(ids.data); return sl_py_raise_for(self, st); }
    return ids_to_array(&ids);
}

static PyObject *tok_encode_batch(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"texts", "add_special", "parse_special", "n_threads", NULL};
    PyObject *texts, *parse_special = Py_None, *keep = NULL, *list = NULL;
    int add_special = 1, n_threads = 0;
    const char **ptrs = NULL;
    size_t *lens = NULL;
    sl_tok_ids *outs = NULL;
    Py_ssize_t n = 0;
    unsigned flags;
    sl_tokenizer *t = tok_of(self);
    if (!t || !PyArg_ParseTupleAndKeywords(args, kw, "O|$pOi:encode_batch", kwlist, &texts, &add_special,
                                           &parse_special, &n_threads))
        return NULL;
    if (encode_flags(t, add_special, parse_special, &flags) < 0) return NULL;
    if (PyUnicode_Check(texts) || PyBytes_Check(texts)) return PyErr_Format(PyExc_TypeError, "encode_batch takes a list of texts");
    if (text_list(texts, "texts", &keep, &ptrs, &lens, &n) < 0) goto fail;
    outs = PyMem_Calloc((size_t)n + 1, sizeof *outs);
    if (!outs) { PyErr_NoMemory(); goto fail; }
    sl_status st;
    Py_BEGIN_ALLOW_THREADS
    st = sl_tokenizer_encode_batch(t, (size_t)n, ptrs, lens, flags, n_threads, outs);
    Py_END_ALLOW_THREADS
    if (st != SL_OK) { sl_py_raise_for(self, st); goto fail; }
    if (!(list = PyList_New(n))) goto fail;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *arr = ids_to_array(&outs[i]);
        if (!arr) { Py_CLEAR(list); goto fail; }
        PyList_SET_ITEM(list, i, arr);
    }
fail:
    for (Py_ssize_t i = 0; outs && i < n; i++) free(outs[i].data);
    PyMem_Free(outs);
    PyMem_Free(ptrs);
    PyMem_Free(lens);
    Py_XDECREF(keep);
    return list;
}

/* ---- decode ---- */

static int bad_id(long long id, size_t i, int64_t V)
{
    PyErr_Format(PyExc_ValueError, "token id %lld at position %zu out of range [0, %lld)", id, i, (long long)V);
    return -1;
}

/* A list / tuple of ints, read without building an array (the usual form of generated ids). */
static int ids_from_sequence(int64_t V, PyObject *seq, int32_t *out, size_t n)
{
    PyObject **items = PySequence_Fast_ITEMS(seq);
    for (size_t i = 0; i < n; i++) {
        PyObject *x = PyLong_Check(items[i]) ? Py_NewRef(items[i]) : PyNumber_Index(items[i]);   /* numpy ints */
        if (!x) {
            PyErr_Format(PyExc_TypeError, "token ids must be integers, not %.80s", Py_TYPE(items[i])->tp_name);
            return -1;
        }
        int overflow = 0;
        long long v = PyLong_AsLongLongAndOverflow(x, &overflow);
        Py_DECREF(x);
        if (v == -1 && PyErr_Occurred()) return -1;
        if (overflow) {
            PyErr_Format(PyExc_ValueError, "token id %R at position %zu out of range [0, %lld)", items[i], i, (long long)V);
            return -1;
        }
        if (v < 0 || v >= V) return bad_id(v, i, V);
        out[i] = (int32_t)v;
    }
    return 0;
}

/* Any integer sequence / array / scalar -> int32 ids checked against [0, V). */
static int ids_arg(sl_tokenizer *t, PyObject *ids, int32_t **out, size_t *n)
{
    int64_t V = sl_tokenizer_vocab_size(t);
    if (PyList_CheckExact(ids) || PyTuple_CheckExact(ids)) {
        *n = (size_t)PySequence_Fast_GET_SIZE(ids);
        *out = PyMem_Malloc((*n ? *n : 1) * sizeof **out);
        if (!*out) { PyErr_NoMemory(); return -1; }
        if (ids_from_sequence(V, ids, *out, *n) == 0) return 0;
        PyMem_Free(*out);
        return -1;
    }
    PyArrayObject *arr = (PyArrayObject *)PyArray_FROMANY(ids, NPY_INT64, 0, 1, NPY_ARRAY_CARRAY);
    if (!arr) return -1;
    *n = (size_t)PyArray_SIZE(arr);
    const int64_t *v = PyArray_DATA(arr);
    *out = PyMem_Malloc((*n ? *n : 1) * sizeof **out);
    if (!*out) { Py_DECREF(arr); PyErr_NoMemory(); return -1; }
    for (size_t i = 0; i < *n; i++) {
        if (v[i] < 0 || v[i] >= V) {
            bad_id(v[i], i, V);
            PyMem_Free(*out);
            Py_DECREF(arr);
            return -1;
        }
        (*out)[i] = (int32_t)v[i];
    }
    Py_DECREF(arr);
    return 0;
}

static PyObject *tok_decode(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"ids", "skip_special", NULL};
    PyObject *ids_obj;
    int skip = 0;
    sl_tokenizer *t = tok_of(self);
    if (!t || !PyArg_ParseTupleAndKeywords(args, kw, "O|$p:decode", kwlist, &ids_obj, &skip)) return NULL;
    int32_t *ids;
    size_t n;
    if (ids_arg(t, ids_obj, &ids, &n) < 0) return NULL;
    sl_tok_text out = {0};
    sl_status st;
    Py_BEGIN_ALLOW_THREADS
    st = sl_tokenizer_decode(t, ids, n, skip ? SL_TOK_SKIP_SPECIAL : 0, &out);
    Py_END_ALLOW_THREADS
    PyMem_Free(ids);
    PyObject *r = st == SL_OK ? PyUnicode_DecodeUTF8(out.data ? out.data : "", (Py_ssize_t)out.n, "replace")
                              : sl_py_raise_for(self, st);
    free(out.data);
    return r;
}

/* ---- vocabulary queries ---- */

static PyObject *tok_id_to_piece(PyObject *self, PyObject *arg)
{
    sl_tokenizer *t = tok_of(self);
    if (!t) return NULL;
    long long id = PyLong_AsLongLong(arg);
    if (id == -1 && PyErr_Occurred()) return NULL;
    size_t len;
    const char *p = id >= 0 && id <= INT32_MAX ? sl_tokenizer_piece(t, (int32_t)id, &len) : NULL;
    if (!p)
        return PyErr_Format(PyExc_ValueError, "token id %lld out of range [0, %lld)", id,
                            (long long)sl_tokenizer_vocab_size(t));
    return PyUnicode_DecodeUTF8(p, (Py_ssize_t)len, "replace");
}

static PyObject *tok_piece_to_id(PyObject *self, PyObject *arg)
{
    sl_tokenizer *t = tok_of(self);
    if (!t) return NULL;
    Py_ssize_t len;
    const char *s;
    if (PyUnicode_Check(arg)) s = PyUnicode_AsUTF8AndSize(arg, &len);
    else if (PyBytes_Check(arg)) { s = PyBytes_AS_STRING(arg); len = PyBytes_GET_SIZE(arg); }
    else return PyErr_Format(PyExc_TypeError, "piece must be str or bytes");
    if (!s) return NULL;
    int32_t id = sl_tokenizer_find_piece(t, s, (size_t)len);
    if (id < 0) Py_RETURN_NONE;
    return PyLong_FromLong(id);
}

static PyObject *tok_is_special(PyObject *self, PyObject *arg)
{
    sl_tokenizer *t = tok_of(self);
    if (!t) return NULL;
    long long id = PyLong_AsLongLong(arg);
    if (id == -1 && PyErr_Occurred()) return NULL;
    return PyBool_FromLong(id >= 0 && id <= INT32_MAX && sl_tokenizer_is_special(t, (int32_t)id));
}

static PyObject *id_or_none(int32_t id)
{
    if (id < 0) Py_RETURN_NONE;
    return PyLong_FromLong(id);
}

static PyObject *get_bos(PyObject *self, void *c) { sl_tokenizer *t = tok_of(self); return t ? id_or_none(sl_tokenizer_bos_id(t)) : NULL; }
static PyObject *get_eos(PyObject *self, void *c) { sl_tokenizer *t = tok_of(self); return t ? id_or_none(sl_tokenizer_eos_id(t)) : NULL; }
static PyObject *get_vocab(PyObject *self, void *c) { sl_tokenizer *t = tok_of(self); return t ? PyLong_FromLongLong(sl_tokenizer_vocab_size(t)) : NULL; }
static PyObject *get_add_bos(PyObject *self, void *c) { sl_tokenizer *t = tok_of(self); return t ? PyBool_FromLong(sl_tokenizer_adds_bos(t)) : NULL; }
static PyObject *get_add_eos(PyObject *self, void *c) { sl_tokenizer *t = tok_of(self); return t ? PyBool_FromLong(sl_tokenizer_adds_eos(t)) : NULL; }

static PyObject *get_algo(PyObject *self, void *c)
{
    sl_tokenizer *t = tok_of(self);
    if (!t) return NULL;
    return PyUnicode_FromString(sl_tokenizer_algo(t) == SL_TOK_ALGO_SPM ? "spm" : "byte_bpe");
}

/* ---- export: what a GGUF writer needs (solar/tokenizer_gguf.py) ---- */

static PyObject *id_list(const int32_t *ids, int n)
{
    PyObject *l = PyList_New(n);
    for (int i = 0; l && i < n; i++) PyList_SET_ITEM(l, i, PyLong_FromLong(ids[i]));   /* small ints: cannot fail */
    return l;
}

static PyObject *piece_list(const sl_tokenizer *t, int64_t v)
{
    PyObject *l = PyList_New((Py_ssize_t)v);
    for (int64_t i = 0; l && i < v; i++) {
        size_t len;
        const char *p = sl_tokenizer_piece(t, (int32_t)i, &len);
        PyObject *b = PyBytes_FromStringAndSize(p, (Py_ssize_t)len);
        if (!b) Py_CLEAR(l);
        else PyList_SET_ITEM(l, (Py_ssize_t)i, b);
    }
    return l;
}

/* {"pieces": [bytes] (V), "types": int32 (V), "scores": float32 (V), "merges": int32 (n, 4) rank, left,
 * right, merged; and the options of sl_tokenizer_desc}. */
static PyObject *tok_export(PyObject *self, PyObject *noargs)
{
    sl_tokenizer *t = tok_of(self);
    if (!t) return NULL;
    sl_tokenizer_desc d;
    sl_tokenizer_describe(t, &d);
    npy_intp v = (npy_intp)d.n_vocab, mdims[2] = {(npy_intp)sl_tokenizer_merge_count(t), 4};
    PyObject *types = PyArray_SimpleNew(1, &v, NPY_INT32), *scores = PyArray_SimpleNew(1, &v, NPY_FLOAT32);
    PyObject *merges = PyArray_SimpleNew(2, mdims, NPY_INT32);
    sl_status st = SL_OK;
    if (types && scores && merges) {
        sl_tokenizer_token_table(t, PyArray_DATA((PyArrayObject *)types), PyArray_DATA((PyArrayObject *)scores));
        st = sl_tokenizer_merge_table(t, PyArray_DATA((PyArrayObject *)merges), (int64_t)mdims[0]);
    }
    if (!types || !scores || !merges || st != SL_OK) {
        Py_XDECREF(types);
        Py_XDECREF(scores);
        Py_XDECREF(merges);
        return st != SL_OK ? sl_py_raise_for(self, st) : NULL;
    }
    /* "N" hands over the new references (released by Py_BuildValue on failure too) */
    return Py_BuildValue("{sNsNsNsNsLsssssNsNsNsNsNsNsNsisNsNsN}", "pieces", piece_list(t, d.n_vocab),
                         "types", types, "scores", scores, "merges", merges, "n_merges", (long long)d.n_merges,
                         "pretok", d.pretok, "prepend_scheme", d.prepend_scheme,
                         "escape_ws", PyBool_FromLong(d.escape_ws), "remove_extra_ws", PyBool_FromLong(d.remove_extra_ws),
                         "metaspace_split", PyBool_FromLong(d.metaspace_split),
                         "byte_fallback", PyBool_FromLong(d.byte_fallback), "fuse_unk", PyBool_FromLong(d.fuse_unk),
                         "ignore_merges", PyBool_FromLong(d.ignore_merges),
                         "add_prefix_space", PyBool_FromLong(d.add_prefix_space), "decode_strip", d.decode_strip,
                         "unk_id", id_or_none(d.unk_id), "prefix_ids", id_list(d.prefix_ids, d.n_prefix_ids),
                         "suffix_ids", id_list(d.suffix_ids, d.n_suffix_ids));
}

/* ---- streaming ---- */

static PyObject *tok_stream(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"skip_special", NULL};
    int skip = 0;
    sl_tokenizer *t = tok_of(self);
    if (!t || !PyArg_ParseTupleAndKeywords(args, kw, "|$p:stream", kwlist, &skip)) return NULL;
    return sl_py_tok_stream_new(self, t, skip);
}

/* ---- type specs ---- */

static PyMethodDef tok_methods[] = {
    {"_from_file", tok_from_file, METH_O | METH_CLASS, "Load tokenizer.model, tokenizer.json or vocab.json."},
    {"_from_dir", tok_from_dir, METH_O | METH_CLASS, "Load a model folder like transformers' AutoTokenizer."},
    {"_from_arrays", (PyCFunction)(void (*)(void))tok_from_arrays, METH_VARARGS | METH_KEYWORDS | METH_CLASS,
     "Build from vocabulary arrays (GGUF tokenizer.ggml.* metadata)."},
    {"encode", (PyCFunction)(void (*)(void))tok_encode, METH_VARARGS | METH_KEYWORDS,
     "encode(text, *, add_special=True, parse_special=True) -> int32 array"},
    {"encode_batch", (PyCFunction)(void (*)(void))tok_encode_batch, METH_VARARGS | METH_KEYWORDS,
     "encode_batch(texts, *, add_special=True, parse_special=True, n_threads=0) -> list of int32 arrays"},
    {"decode", (PyCFunction)(void (*)(void))tok_decode, METH_VARARGS | METH_KEYWORDS,
     "decode(ids, *, skip_special=False) -> str"},
    {"id_to_piece", tok_id_to_piece, METH_O, "The text of a token id."},
    {"piece_to_id", tok_piece_to_id, METH_O, "The id of a token text, or None."},
    {"is_special", tok_is_special, METH_O, "Whether an id is a special token."},
    {"_export", tok_export, METH_NOARGS, "Vocabulary tables and options for a GGUF writer."},
    {"stream", (PyCFunction)(void (*)(void))tok_stream, METH_VARARGS | METH_KEYWORDS,
     "stream(*, skip_special=False) -> TokenStream with push(id) -> str and flush() -> str"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef tok_getset[] = {
    {"bos_id", get_bos, NULL, "BOS token id or None", NULL},
    {"eos_id", get_eos, NULL, "EOS token id or None", NULL},
    {"vocab_size", get_vocab, NULL, "number of token ids", NULL},
    {"add_bos", get_add_bos, NULL, "encode(add_special=True) puts BOS first", NULL},
    {"add_eos", get_add_eos, NULL, "encode(add_special=True) puts EOS last", NULL},
    {"algorithm", get_algo, NULL, "'spm' (SentencePiece BPE) or 'byte_bpe' (byte-level BPE)", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot tok_slots[] = {
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_dealloc, tok_dealloc},
    {Py_tp_traverse, tok_traverse},
    {Py_tp_methods, tok_methods},
    {Py_tp_getset, tok_getset},
    {Py_tp_doc, "Tokenizer core (use solar.Tokenizer)."},
    {0, NULL},
};

static PyType_Spec tok_spec = {
    .name = "solar._core.TokenizerBase",
    .basicsize = sizeof(PyTok),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = tok_slots,
};

int sl_py_add_tokenizer(PyObject *module, sl_py_state *st)
{
    if (!sl_py_add_type(module, st, &tok_spec, SL_PY_TOKENIZER)) return -1;
    return 0;
}
