/* quant_py.c — module functions for the GGUF block codecs and the quantized gemm test hook:
 *   _core._quantize(a: float32 (rows, cols), type, isa=None, n_threads=0) -> uint8 (rows, row_bytes)
 *   _core._dequantize(blocks: uint8, type, shape, isa=None, n_threads=0) -> float32 array of `shape`
 *   _core._qgemm(type, w_blocks, N, K, x: float32 (T, K), isa, n_threads=1, repeat=1) -> (T, N)
 * Validation happens here with the GIL held; the C work runs without it. */
#include <ctype.h>

#include "python/py_common.h"

#include "kernels/kernels.h"
#include "quant/quant.h"
#include "runtime/dtype.h"
#include "runtime/runtime.h"

/* Type name ("q4_K", "Q8_0", ...) -> dtype id of a supported quantized type, or -1 with ValueError. */
static int parse_qtype(PyObject *name)
{
    const char *s = PyUnicode_Check(name) ? PyUnicode_AsUTF8(name) : NULL;
    if (!s) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "quantization type must be a str");
        return -1;
    }
    char low[16];
    size_t n = strlen(s);
    if (n < sizeof low) {
        for (size_t i = 0; i <= n; i++) low[i] = (char)tolower((unsigned char)s[i]);
        int dt = sl_dtype_from_name(low);
        if (dt >= 0 && sl_quant_is_supported(dt)) return dt;
    }
    PyErr_Format(PyExc_ValueError, "unsupported quantization type '%s' (expected q8_0, q4_0, q4_k, q5_k, q6_k or q8_k)", s);
    return -1;
}

/* Kernel table for an ISA name (None: the installed one); NULL with an exception on error. */
static const sl_kernel_table *parse_isa(PyObject *m, PyObject *isa)
{
    if (!isa || isa == Py_None) return sl_k;
    const char *s = PyUnicode_Check(isa) ? PyUnicode_AsUTF8(isa) : NULL;
    if (!s) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "isa must be a str or None");
        return NULL;
    }
    for (int i = 0; i <= SL_ISA_AVX512; i++) {
        if (strcmp(s, sl_isa_name((sl_isa)i)) != 0) continue;
        if ((sl_isa)i > sl_runtime_cpu_isa()) {
            PyErr_Format(sl_py_state_of_module(m)->UnsupportedError, "this CPU does not support ISA level '%s'", s);
            return NULL;
        }
        return sl_kernels_for((sl_isa)i);
    }
    PyErr_Format(PyExc_ValueError, "unknown ISA level '%s' (expected generic, avx2 or avx512)", s);
    return NULL;
}

static PyObject *py_quantize(PyObject *m, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"a", "type", "isa", "n_threads", NULL};
    PyObject *obj, *tname, *isa = Py_None, *out = NULL;
    PyArrayObject *a = NULL;
    int n_threads = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|Oi:_quantize", kwlist, &obj, &tname, &isa, &n_threads)) return NULL;
    int dt = parse_qtype(tname);
    const sl_kernel_table *kt = dt < 0 ? NULL : parse_isa(m, isa);
    if (!kt) return NULL;
    a = (PyArrayObject *)PyArray_FROMANY(obj, NPY_FLOAT32, 2, 2, NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED);
    if (!a) goto fail;
    npy_intp rows = PyArray_DIM(a, 0), cols = PyArray_DIM(a, 1);
    int64_t bs = sl_dtype_block_size(dt);
    if (cols % bs != 0) {
        PyErr_Format(PyExc_ValueError, "%s needs rows of a multiple of %lld elements, got %lld", sl_dtype_name(dt),
                     (long long)bs, (long long)cols);
        goto fail;
    }
    npy_intp dims[2] = {rows, (npy_intp)sl_dtype_row_bytes(dt, cols)};
    out = PyArray_SimpleNew(2, dims, NPY_UINT8);
    if (!out) goto fail;
    sl_status st;
    Py_BEGIN_ALLOW_THREADS
    st = sl_quant_quantize_rows(kt, dt, rows, cols, PyArray_DATA(a), (size_t)cols * sizeof(float),
                                PyArray_DATA((PyArrayObject *)out), (size_t)dims[1], n_threads);
    Py_END_ALLOW_THREADS
    if (st != SL_OK) { sl_py_raise(sl_py_state_of_module(m), st); goto fail; }
    Py_DECREF(a);
    return out;
fail:
    Py_XDECREF(a);
    Py_XDECREF(out);
    return NULL;
}

/* (rows, cols) of a shape tuple whose last entry is the row length; -1 with an exception. */
static int parse_shape(PyObject *shape, int *ndim, npy_intp dims[NPY_MAXDIMS], npy_intp *rows, npy_intp *cols)
{
    PyArray_Dims d = {NULL, 0};
    if (!PyArray_IntpConverter(shape, &d)) return -1;
    int ok = d.len >= 1 && d.len <= NPY_MAXDIMS;
    npy_intp r = 1;
    for (int i = 0; ok && i < d.len; i++) {
        dims[i] = d.ptr[i];
        if (d.ptr[i] < 0) ok = 0;
        if (i < d.len - 1 && ok && d.ptr[i] > 0 && r > NPY_MAX_INTP / d.ptr[i]) ok = 0;
        if (i < d.len - 1 && ok) r *= d.ptr[i];
    }
    *ndim = d.len;
    if (ok) *cols = d.ptr[d.len - 1];
    PyDimMem_FREE(d.ptr);
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "shape must be a tuple of 1 to 32 non-negative ints");
        return -1;
    }
    *rows = r;
    return 0;
}

static PyObject *py_dequantize(PyObject *m, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"blocks", "type", "shape", "isa", "n_threads", NULL};
    PyObject *obj, *tname, *shape, *isa = Py_None, *out = NULL;
    PyArrayObject *b = NULL;
    int n_threads = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOO|Oi:_dequantize", kwlist, &obj, &tname, &shape, &isa, &n_threads))
        return NULL;
    int dt = parse_qtype(tname);
    const sl_kernel_table *kt = dt < 0 ? NULL : parse_isa(m, isa);
    if (!kt) return NULL;
    int ndim;
    npy_intp dims[NPY_MAXDIMS], rows, cols;
    if (parse_shape(shape, &ndim, dims, &rows, &cols) < 0) return NULL;
    int64_t bs = sl_dtype_block_size(dt);
    if (cols % bs != 0) {
        PyErr_Format(PyExc_ValueError, "%s needs rows of a multiple of %lld elements, got %lld", sl_dtype_name(dt),
                     (long long)bs, (long long)cols);
        return NULL;
    }
    b = (PyArrayObject *)PyArray_FROMANY(obj, NPY_UINT8, 0, 0, NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED);
    if (!b) goto fail;
    size_t row_bytes = sl_dtype_row_bytes(dt, cols), total;
    if (!sl_mul_ok(row_bytes, (size_t)rows, &total) || total != (size_t)PyArray_NBYTES(b)) {
        PyErr_Format(PyExc_ValueError, "%zd bytes of %s blocks do not hold shape with %zd rows of %zd elements "
                     "(%zu bytes each)", (Py_ssize_t)PyArray_NBYTES(b), sl_dtype_name(dt), (Py_ssize_t)rows,
                     (Py_ssize_t)cols, row_bytes);
        goto fail;
    }
    out = PyArray_SimpleNew(ndim, dims, NPY_FLOAT32);
    if (!out) goto fail;
    sl_status st;
    Py_BEGIN_ALLOW_THREADS
    st = sl_quant_dequantize_rows(kt, dt, rows, cols, PyArray_DATA(b), row_bytes,
                                  PyArray_DATA((PyArrayObject *)out), (size_t)cols * sizeof(float), n_threads);
    Py_END_ALLOW_THREADS
    if (st != SL_OK) { sl_py_raise(sl_py_state_of_module(m), st); goto fail; }
    Py_DECREF(b);
    return out;
fail:
    Py_XDECREF(b);
    Py_XDECREF(out);
    return NULL;
}

typedef struct qgemm_job {
    const sl_kernel_table *kt;
    int wtype, atype, n_threads, repeat;
    int64_t N, K, T;
    const void *w;          /* (N, K) blocks, borrowed from the caller's array */
    size_t w_stride;
    const float *x;         /* (T, K) f32, borrowed */
    void *xq;               /* (T, K) in the activation type, owned by run_qgemm */
    size_t xq_stride;
    float *y;               /* (T, N), borrowed from the result array */
} qgemm_job;

static sl_status run_qgemm(qgemm_job *j)
{
    sl_from_float_fn conv = j->kt->from_float[j->atype];
    sl_gemm_fn gemm = j->kt->gemm[j->wtype];
    if (!conv || !gemm) return SL_FAIL(SL_ERR_UNSUPPORTED, "no gemm for %s", sl_dtype_name(j->wtype));
    for (int64_t t = 0; t < j->T; t++) conv(j->K, j->x + t * j->K, (char *)j->xq + (size_t)t * j->xq_stride);
    const int64_t chunk = ((j->N + j->n_threads - 1) / j->n_threads + 7) / 8 * 8;
    for (int rep = 0; rep < j->repeat; rep++) {
        #pragma omp parallel for num_threads(j->n_threads) schedule(static, 1)
        for (int i = 0; i < j->n_threads; i++) {
            int64_t r0 = i * chunk, r1 = r0 + chunk < j->N ? r0 + chunk : j->N;
            if (r0 < r1) gemm(j->K, j->w, j->w_stride, j->xq, j->xq_stride, j->T, j->y, j->N, r0, r1);
        }
    }
    return SL_OK;
}

static PyObject *py_qgemm(PyObject *m, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"type", "w", "N", "K", "x", "isa", "n_threads", "repeat", NULL};
    PyObject *tname, *wobj, *xobj, *isa = Py_None, *out = NULL;
    PyArrayObject *w = NULL, *x = NULL;
    long long N, K;
    int n_threads = 1, repeat = 1;
    qgemm_job job = {0};
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOLLO|Oii:_qgemm", kwlist, &tname, &wobj, &N, &K, &xobj, &isa,
                                     &n_threads, &repeat)) return NULL;
    int dt = parse_qtype(tname);
    const sl_kernel_table *kt = dt < 0 ? NULL : parse_isa(m, isa);
    if (!kt) return NULL;
    const sl_dtype_traits *tr = sl_dtype_traits_of(dt);
    if (dt == SL_DTYPE_Q8_K || N < 0 || K <= 0 || K % tr->block_size || n_threads < 1 || n_threads > 512 || repeat < 1) {
        PyErr_Format(PyExc_ValueError, "bad _qgemm arguments: type %s, N %lld, K %lld, n_threads %d, repeat %d",
                     tr->name, N, K, n_threads, repeat);
        return NULL;
    }
    w = (PyArrayObject *)PyArray_FROMANY(wobj, NPY_UINT8, 0, 0, NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED);
    x = w ? (PyArrayObject *)PyArray_FROMANY(xobj, NPY_FLOAT32, 2, 2, NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED) : NULL;
    if (!x) goto fail;
    size_t row_bytes = sl_dtype_row_bytes(dt, K), total;
    if (!sl_mul_ok(row_bytes, (size_t)N, &total) || total != (size_t)PyArray_NBYTES(w) || PyArray_DIM(x, 1) != K) {
        PyErr_SetString(PyExc_ValueError, "_qgemm: w must hold N rows of K elements and x must be (T, K)");
        goto fail;
    }
    job = (qgemm_job){.kt = kt, .wtype = dt, .atype = tr->act_type, .n_threads = n_threads, .repeat = repeat,
                      .N = N, .K = K, .T = PyArray_DIM(x, 0), .w = PyArray_DATA(w), .w_stride = row_bytes,
                      .x = PyArray_DATA(x), .xq_stride = sl_dtype_row_bytes(tr->act_type, K)};
    npy_intp dims[2] = {(npy_intp)job.T, (npy_intp)N};
    out = PyArray_ZEROS(2, dims, NPY_FLOAT32, 0);
    job.xq = out ? sl_alloc(job.xq_stride * (size_t)(job.T > 0 ? job.T : 1)) : NULL;
    if (!job.xq) { if (out) PyErr_NoMemory(); goto fail; }
    job.y = PyArray_DATA((PyArrayObject *)out);
    sl_status st;
    Py_BEGIN_ALLOW_THREADS
    st = run_qgemm(&job);
    Py_END_ALLOW_THREADS
    sl_free(job.xq);
    if (st != SL_OK) { sl_py_raise(sl_py_state_of_module(m), st); goto fail; }
    Py_DECREF(w);
    Py_DECREF(x);
    return out;
fail:
    Py_XDECREF(w);
    Py_XDECREF(x);
    Py_XDECREF(out);
    return NULL;
}

static PyMethodDef quant_methods[] = {
    {"_quantize", (PyCFunction)(void (*)(void))py_quantize, METH_VARARGS | METH_KEYWORDS,
     "_quantize(a, type, isa=None, n_threads=0): float32 (rows, cols) -> uint8 GGUF blocks (rows, row_bytes)."},
    {"_dequantize", (PyCFunction)(void (*)(void))py_dequantize, METH_VARARGS | METH_KEYWORDS,
     "_dequantize(blocks, type, shape, isa=None, n_threads=0): GGUF block bytes -> float32 array of shape."},
    {"_qgemm", (PyCFunction)(void (*)(void))py_qgemm, METH_VARARGS | METH_KEYWORDS,
     "_qgemm(type, w, N, K, x, isa=None, n_threads=1, repeat=1): y (T, N) = W x^T via the kernel table "
     "of `isa`, x quantized to the type's activation type first (test / benchmark hook)."},
    {NULL, NULL, 0, NULL},
};

int sl_py_add_quant(PyObject *module, sl_py_state *st)
{
    (void)st;
    return PyModule_AddFunctions(module, quant_methods);
}
