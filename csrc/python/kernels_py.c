/* kernels_py.c — test and benchmark hooks for the kernel table, as private functions of
 * solar._core: each takes an explicit ISA level and calls that level's table directly
 * (sl_kernels_for), never changing the installed one.
 *
 *   _gemm(dtype, w, N, K, x, isa, layout="rows") -> y (T, N)      one thread, the raw table entry
 *   _matmul(dtype, w, N, K, x, n_threads=0, isa=None, layout="rows") -> y (T, N)      sl_matmul
 *   _bench_matmul(dtype, w, N, K, x, n_threads, repeats, isa=None, layout="rows") -> [seconds per call]
 *   _pack_x8(dtype, w, N, K) -> bytes in the X8 layout;  _unpack_x8(dtype, w, N, K) -> the file's layout
 *   _op(name, isa, *args)   dot(a, b) -> float; axpy(a, x, y), scale(a, y), rmsnorm(x, w, eps),
 *                           softmax(x), silu_mul(g, u) -> new float32 array
 *   _rope(isa, x, cos, sin) -> rotated copy;  _attn_row(isa, q, k, v, scale) -> (out, p)
 *   _to_float(dtype, isa, data, n) -> float32 (n,);  _from_float(dtype, isa, x) -> bytes
 *   _bench_bandwidth(mbytes, n_threads=0, repeats=5) -> GB/s
 * w / data: any C-contiguous buffer (bytes, NumPy array); x: float32 (T, K). */
#include "python/py_common.h"

#include <omp.h>

#include "kernels/bandwidth.h"
#include "kernels/kernels.h"
#include "kernels/matmul.h"
#include "quant/pack_x8.h"
#include "runtime/dtype.h"
#include "runtime/runtime.h"

static int parse_isa(const char *name, const sl_kernel_table **out)
{
    if (!name) { *out = sl_k; return 0; }
    for (int i = 0; i <= SL_ISA_AVX512; i++) {
        if (strcmp(name, sl_isa_name((sl_isa)i)) != 0) continue;
        if (i > (int)sl_runtime_cpu_isa()) {
            PyErr_Format(PyExc_ValueError, "this CPU does not support ISA level '%s'", name);
            return -1;
        }
        *out = sl_kernels_for((sl_isa)i);
        return 0;
    }
    PyErr_Format(PyExc_ValueError, "unknown ISA level '%s' (expected generic, avx2 or avx512)", name);
    return -1;
}

static int parse_dtype(const char *name)
{
    int d = sl_dtype_from_name(name);
    if (d < 0) PyErr_Format(PyExc_ValueError, "unknown dtype '%s'", name);
    return d;
}

static int parse_layout(const char *name)
{
    if (!name || strcmp(name, "rows") == 0) return SL_LAYOUT_ROWS;
    if (strcmp(name, "x8") == 0) return SL_LAYOUT_X8;
    PyErr_Format(PyExc_ValueError, "unknown layout '%s' (expected rows or x8)", name);
    return -1;
}

/* Shared argument handling of the gemm / matmul hooks: weight buffer, x (T, K), fresh y (T, N). */
typedef struct gemm_args {
    int dtype;
    int layout;
    Py_buffer wbuf;            /* owned view of the weight buffer (wbuf.obj NULL if unset) */
    PyArrayObject *x;          /* owned, float32 (T, K) C-contiguous */
    PyArrayObject *y;          /* owned, float32 (T, N) */
    int64_t N, K, T;
    size_t row_bytes;
} gemm_args;

static void gemm_args_free(gemm_args *a)
{
    if (a->wbuf.obj) PyBuffer_Release(&a->wbuf);
    Py_XDECREF(a->x);
    Py_XDECREF(a->y);
}

static int gemm_args_init(gemm_args *a, const char *dtype, PyObject *w, long long N, long long K, PyObject *x)
{
    memset(a, 0, sizeof *a);
    if ((a->dtype = parse_dtype(dtype)) < 0) return -1;
    if (N < 0 || K < 0) { PyErr_SetString(PyExc_ValueError, "N and K must be >= 0"); return -1; }
    a->N = N; a->K = K;
    a->row_bytes = sl_dtype_row_bytes(a->dtype, K);
    if (a->row_bytes == 0 && K > 0) { PyErr_SetString(PyExc_ValueError, "K does not fit the dtype's blocks"); return -1; }
    if (PyObject_GetBuffer(w, &a->wbuf, PyBUF_C_CONTIGUOUS) < 0) return -1;
    if ((size_t)a->wbuf.len / (a->row_bytes ? a->row_bytes : 1) < (size_t)N) {
        PyErr_Format(PyExc_ValueError, "weight buffer of %zd bytes is smaller than %lld rows of %zu bytes",
                     a->wbuf.len, N, a->row_bytes);
        return -1;
    }
    a->x = (PyArrayObject *)PyArray_FROM_OTF(x, NPY_FLOAT32, NPY_ARRAY_IN_ARRAY);
    if (!a->x) return -1;
    if (PyArray_NDIM(a->x) != 2 || PyArray_DIM(a->x, 1) != K) {
        PyErr_Format(PyExc_ValueError, "x must have shape (T, %lld)", K);
        return -1;
    }
    a->T = PyArray_DIM(a->x, 0);
    npy_intp dims[2] = {(npy_intp)a->T, (npy_intp)N};
    a->y = (PyArrayObject *)PyArray_ZEROS(2, dims, NPY_FLOAT32, 0);
    return a->y ? 0 : -1;
}

static PyObject *py_gemm(PyObject *m, PyObject *args)
{
    const char *dtype, *isa, *layout = NULL;
    PyObject *w, *x;
    long long N, K;
    if (!PyArg_ParseTuple(args, "sOLLOs|s", &dtype, &w, &N, &K, &x, &isa, &layout)) return NULL;
    const sl_kernel_table *tab;
    int lay = parse_layout(layout);
    if (lay < 0 || parse_isa(isa, &tab) < 0) return NULL;
    gemm_args a;
    PyObject *res = NULL;
    if (gemm_args_init(&a, dtype, w, N, K, x) < 0) goto fail;
    sl_gemm_fn fn = lay == SL_LAYOUT_X8 ? tab->gemm_x8[a.dtype] : tab->gemm[a.dtype];
    if (!fn) { PyErr_Format(PyExc_ValueError, "no %s gemm for %s", isa, dtype); goto fail; }
    Py_BEGIN_ALLOW_THREADS
    fn(a.K, a.wbuf.buf, a.row_bytes, PyArray_DATA(a.x), (size_t)a.K * 4, a.T, PyArray_DATA(a.y), a.N, 0, a.N);
    Py_END_ALLOW_THREADS
    res = (PyObject *)a.y;
    a.y = NULL;
fail:
    gemm_args_free(&a);
    return res;
}

/* Runs sl_matmul_with `repeats` times; times[i] = seconds of call i (times may be NULL). */
static sl_status run_matmul(const sl_kernel_table *tab, gemm_args *a, int n_threads, int repeats, double *times)
{
    size_t sb = sl_matmul_scratch_bytes(a->dtype, a->K, a->T);
    void *scratch = sb ? sl_alloc(sb) : NULL;
    if (sb && !scratch) return SL_ERR_NOMEM;
    sl_status s = SL_OK;
    for (int i = 0; i < repeats && s == SL_OK; i++) {
        double t0 = omp_get_wtime();
        s = sl_matmul_with(tab, a->dtype, a->layout, a->wbuf.buf, a->row_bytes, a->N, a->K, PyArray_DATA(a->x), a->T,
                           PyArray_DATA(a->y), n_threads, scratch);
        if (times) times[i] = omp_get_wtime() - t0;
    }
    sl_free(scratch);
    return s;
}

static PyObject *matmul_common(PyObject *m, PyObject *args, PyObject *kw, int bench)
{
    static char *kwlist[] = {"dtype", "w", "N", "K", "x", "n_threads", "repeats", "isa", "layout", NULL};
    const char *dtype, *isa = NULL, *layout = NULL;
    PyObject *w, *x, *res = NULL;
    long long N, K;
    int n_threads = 0, repeats = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "sOLLO|iizz", kwlist, &dtype, &w, &N, &K, &x, &n_threads,
                                     &repeats, &isa, &layout))
        return NULL;
    const sl_kernel_table *tab;
    int lay = parse_layout(layout);
    if (lay < 0 || parse_isa(isa, &tab) < 0) return NULL;
    if (repeats < 1 || repeats > 100000) return PyErr_Format(PyExc_ValueError, "bad repeats %d", repeats);
    double *times = PyMem_Calloc((size_t)repeats, sizeof(double));
    if (!times) return PyErr_NoMemory();
    gemm_args a;
    sl_status s;
    if (gemm_args_init(&a, dtype, w, N, K, x) < 0) goto fail;
    a.layout = lay;
    Py_BEGIN_ALLOW_THREADS
    s = run_matmul(tab, &a, n_threads, repeats, times);
    Py_END_ALLOW_THREADS
    if (s != SL_OK) { sl_py_raise(sl_py_state_of_module(m), s); goto fail; }
    if (!bench) { res = (PyObject *)a.y; a.y = NULL; goto fail; }
    res = PyList_New(repeats);
    for (int i = 0; res && i < repeats; i++) {
        PyObject *f = PyFloat_FromDouble(times[i]);
        if (!f) { Py_CLEAR(res); break; }
        PyList_SET_ITEM(res, i, f);
    }
fail:
    gemm_args_free(&a);
    PyMem_Free(times);
    return res;
}

static PyObject *py_matmul(PyObject *m, PyObject *args, PyObject *kw) { return matmul_common(m, args, kw, 0); }
static PyObject *py_bench_matmul(PyObject *m, PyObject *args, PyObject *kw) { return matmul_common(m, args, kw, 1); }

static PyObject *py_bench_bandwidth(PyObject *m, PyObject *args)
{
    long long mbytes;
    int n_threads = 0, repeats = 5;
    if (!PyArg_ParseTuple(args, "L|ii", &mbytes, &n_threads, &repeats)) return NULL;
    if (mbytes <= 0 || mbytes > (1LL << 20)) return PyErr_Format(PyExc_ValueError, "bad size %lld MiB", mbytes);
    double gbps = 0;
    sl_status s;
    Py_BEGIN_ALLOW_THREADS
    s = sl_bench_read_bandwidth((size_t)mbytes, n_threads, repeats, &gbps);
    Py_END_ALLOW_THREADS
    if (s != SL_OK) return sl_py_raise(sl_py_state_of_module(m), s);
    return PyFloat_FromDouble(gbps);
}

/* A float32 1-D C-contiguous array from obj (new reference); copy=1 forces a private copy. */
static PyArrayObject *vec_arg(PyObject *obj, int copy)
{
    int flags = NPY_ARRAY_IN_ARRAY | (copy ? NPY_ARRAY_ENSURECOPY : 0);
    PyArrayObject *a = (PyArrayObject *)PyArray_FROM_OTF(obj, NPY_FLOAT32, flags);
    if (a && PyArray_NDIM(a) != 1) {
        PyErr_SetString(PyExc_ValueError, "expected a 1-D float32 array");
        Py_CLEAR(a);
    }
    return a;
}

static int same_len(PyArrayObject *a, PyArrayObject *b)
{
    if (PyArray_DIM(a, 0) == PyArray_DIM(b, 0)) return 0;
    PyErr_SetString(PyExc_ValueError, "arrays differ in length");
    return -1;
}

/* Run kernel `name` of table k on already converted arrays a (output / in-out), b, c. */
static PyObject *run_op(const char *name, const sl_kernel_table *k, PyArrayObject *a, PyArrayObject *b,
                        PyArrayObject *c, double s)
{
    int64_t n = PyArray_DIM(a, 0);
    float *pa = PyArray_DATA(a), *pb = b ? PyArray_DATA(b) : NULL, *pc = c ? PyArray_DATA(c) : NULL;
    float dot = 0.0f;
    int is_dot = strcmp(name, "dot") == 0;
    Py_BEGIN_ALLOW_THREADS
    if (is_dot) dot = k->dot_f32(n, pa, pb);
    else if (strcmp(name, "axpy") == 0) k->axpy_f32(n, (float)s, pb, pa);
    else if (strcmp(name, "scale") == 0) k->scale_f32(n, (float)s, pa);
    else if (strcmp(name, "rmsnorm") == 0) k->rmsnorm_f32(n, pb, pc, (float)s, pa);
    else if (strcmp(name, "softmax") == 0) k->softmax_f32(n, pa);
    else k->silu_mul_f32(n, pb, pc, pa);
    Py_END_ALLOW_THREADS
    if (is_dot) return PyFloat_FromDouble(dot);
    Py_INCREF(a);
    return (PyObject *)a;
}

static PyObject *py_op(PyObject *m, PyObject *args)
{
    Py_ssize_t na = PyTuple_GET_SIZE(args);
    const char *name, *isa;
    const sl_kernel_table *k;
    if (na < 3) return PyErr_Format(PyExc_TypeError, "_op(name, isa, *args)");
    if (!(name = PyUnicode_AsUTF8(PyTuple_GET_ITEM(args, 0))) || !(isa = PyUnicode_AsUTF8(PyTuple_GET_ITEM(args, 1))))
        return NULL;
    if (parse_isa(isa, &k) < 0) return NULL;
    static const struct { const char *name; int nargs; } OPS[] = {
        {"dot", 2}, {"axpy", 3}, {"scale", 2}, {"rmsnorm", 3}, {"softmax", 1}, {"silu_mul", 2}};
    int op = -1;
    for (int i = 0; i < 6; i++)
        if (strcmp(name, OPS[i].name) == 0) op = i;
    if (op < 0) return PyErr_Format(PyExc_ValueError, "unknown op '%s'", name);
    if (na - 2 != OPS[op].nargs) return PyErr_Format(PyExc_TypeError, "%s takes %d arguments", name, OPS[op].nargs);
    PyObject *const *v = &PyTuple_GET_ITEM(args, 2);
    PyArrayObject *a = NULL, *b = NULL, *c = NULL;
    PyObject *res = NULL;
    double s = 0.0;
    switch (op) {
    case 0: a = vec_arg(v[0], 0); b = a ? vec_arg(v[1], 0) : NULL; break;              /* dot(a, b) */
    case 1: s = PyFloat_AsDouble(v[0]); b = vec_arg(v[1], 0); a = b ? vec_arg(v[2], 1) : NULL; break;
    case 2: s = PyFloat_AsDouble(v[0]); a = vec_arg(v[1], 1); break;                   /* scale(a, y) */
    case 3: b = vec_arg(v[0], 0); c = b ? vec_arg(v[1], 0) : NULL; s = PyFloat_AsDouble(v[2]);
            a = c ? vec_arg(v[0], 1) : NULL; break;                                  /* rmsnorm(x, w, eps) */
    case 4: a = vec_arg(v[0], 1); break;                                               /* softmax(x) */
    case 5: b = vec_arg(v[0], 0); c = b ? vec_arg(v[1], 0) : NULL; a = c ? vec_arg(v[0], 1) : NULL; break;
    }
    if (!a || PyErr_Occurred()) goto fail;
    if ((b && same_len(a, b) < 0) || (c && same_len(a, c) < 0)) goto fail;
    res = run_op(name, k, a, b, c, s);
fail:
    Py_XDECREF(a);
    Py_XDECREF(b);
    Py_XDECREF(c);
    return res;
}

static PyObject *py_rope(PyObject *m, PyObject *args)
{
    const char *isa;
    PyObject *xo, *co, *so, *res = NULL;
    const sl_kernel_table *k;
    if (!PyArg_ParseTuple(args, "sOOO", &isa, &xo, &co, &so) || parse_isa(isa, &k) < 0) return NULL;
    PyArrayObject *x = vec_arg(xo, 1), *c = x ? vec_arg(co, 0) : NULL, *s = c ? vec_arg(so, 0) : NULL;
    if (!s) goto fail;
    int64_t half = PyArray_DIM(c, 0);
    if (same_len(c, s) < 0) goto fail;
    if (PyArray_DIM(x, 0) != 2 * half) { PyErr_SetString(PyExc_ValueError, "x must have 2 * len(cos) elements"); goto fail; }
    Py_BEGIN_ALLOW_THREADS
    k->rope_f32(half, PyArray_DATA(x), PyArray_DATA(c), PyArray_DATA(s));
    Py_END_ALLOW_THREADS
    res = (PyObject *)x;
    Py_INCREF(res);
fail:
    Py_XDECREF(x);
    Py_XDECREF(c);
    Py_XDECREF(s);
    return res;
}

/* _attn_row(isa, q (Dh,), k (L, Dh), v (L, Dh), scale) -> (out (Dh,), p (L,)); k and v both
 * float16 run the f16-cache kernel, anything else is taken as float32. */
static PyObject *py_attn_row(PyObject *m, PyObject *args)
{
    const char *isa;
    PyObject *qo, *ko, *vo, *res = NULL;
    double scale;
    const sl_kernel_table *tab;
    if (!PyArg_ParseTuple(args, "sOOOd", &isa, &qo, &ko, &vo, &scale) || parse_isa(isa, &tab) < 0) return NULL;
    int half = PyArray_Check(ko) && PyArray_Check(vo) && PyArray_TYPE((PyArrayObject *)ko) == NPY_FLOAT16 &&
               PyArray_TYPE((PyArrayObject *)vo) == NPY_FLOAT16;
    int kv_type = half ? NPY_FLOAT16 : NPY_FLOAT32;
    PyArrayObject *q = vec_arg(qo, 0), *out = NULL, *p = NULL;
    PyArrayObject *k = q ? (PyArrayObject *)PyArray_FROM_OTF(ko, kv_type, NPY_ARRAY_IN_ARRAY) : NULL;
    PyArrayObject *v = k ? (PyArrayObject *)PyArray_FROM_OTF(vo, kv_type, NPY_ARRAY_IN_ARRAY) : NULL;
    if (!v) goto fail;
    int64_t Dh = PyArray_DIM(q, 0);
    if (PyArray_NDIM(k) != 2 || PyArray_NDIM(v) != 2 || PyArray_DIM(k, 1) != Dh || PyArray_DIM(v, 1) != Dh ||
        PyArray_DIM(k, 0) != PyArray_DIM(v, 0)) {
        PyErr_SetString(PyExc_ValueError, "k and v must have shape (L, len(q))");
        goto fail;
    }
    npy_intp L = PyArray_DIM(k, 0), dq = (npy_intp)Dh;
    if (!(out = (PyArrayObject *)PyArray_ZEROS(1, &dq, NPY_FLOAT32, 0))) goto fail;
    if (!(p = (PyArrayObject *)PyArray_ZEROS(1, &L, NPY_FLOAT32, 0))) goto fail;
    Py_BEGIN_ALLOW_THREADS
    if (half)
        tab->attn_row_f16(Dh, L, PyArray_DATA(q), PyArray_DATA(k), Dh, PyArray_DATA(v), Dh, (float)scale,
                          PyArray_DATA(p), PyArray_DATA(out));
    else
        tab->attn_row_f32(Dh, L, PyArray_DATA(q), PyArray_DATA(k), Dh, PyArray_DATA(v), Dh, (float)scale,
                          PyArray_DATA(p), PyArray_DATA(out));
    Py_END_ALLOW_THREADS
    res = Py_BuildValue("OO", out, p);
fail:
    Py_XDECREF(q);
    Py_XDECREF(k);
    Py_XDECREF(v);
    Py_XDECREF(out);
    Py_XDECREF(p);
    return res;
}

static PyObject *py_to_float(PyObject *m, PyObject *args)
{
    const char *dtype, *isa;
    PyObject *data, *res = NULL;
    long long n;
    const sl_kernel_table *k;
    if (!PyArg_ParseTuple(args, "ssOL", &dtype, &isa, &data, &n) || parse_isa(isa, &k) < 0) return NULL;
    int d = parse_dtype(dtype);
    if (d < 0) return NULL;
    size_t bytes = sl_dtype_row_bytes(d, n);
    if (!k->to_float[d] || n < 0 || (bytes == 0 && n > 0))
        return PyErr_Format(PyExc_ValueError, "cannot convert %lld %s elements", n, dtype);
    Py_buffer buf;
    if (PyObject_GetBuffer(data, &buf, PyBUF_C_CONTIGUOUS) < 0) return NULL;
    npy_intp dims[1] = {(npy_intp)n};
    if ((size_t)buf.len < bytes) { PyErr_SetString(PyExc_ValueError, "buffer too short"); goto fail; }
    if (!(res = PyArray_ZEROS(1, dims, NPY_FLOAT32, 0))) goto fail;
    Py_BEGIN_ALLOW_THREADS
    k->to_float[d](n, buf.buf, PyArray_DATA((PyArrayObject *)res));
    Py_END_ALLOW_THREADS
fail:
    PyBuffer_Release(&buf);
    return res;
}

static PyObject *py_from_float(PyObject *m, PyObject *args)
{
    const char *dtype, *isa;
    PyObject *obj;
    const sl_kernel_table *k;
    if (!PyArg_ParseTuple(args, "ssO", &dtype, &isa, &obj) || parse_isa(isa, &k) < 0) return NULL;
    int d = parse_dtype(dtype);
    if (d < 0) return NULL;
    PyArrayObject *x = vec_arg(obj, 0);
    if (!x) return NULL;
    int64_t n = PyArray_DIM(x, 0);
    size_t bytes = sl_dtype_row_bytes(d, n);
    PyObject *res = NULL;
    if (!k->from_float[d] || (bytes == 0 && n > 0)) {
        PyErr_Format(PyExc_ValueError, "cannot convert %lld elements to %s", (long long)n, dtype);
        goto fail;
    }
    if (!(res = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)bytes))) goto fail;
    Py_BEGIN_ALLOW_THREADS
    k->from_float[d](n, PyArray_DATA(x), PyBytes_AS_STRING(res));
    Py_END_ALLOW_THREADS
fail:
    Py_DECREF(x);
    return res;
}

/* _pack_x8 / _unpack_x8: a whole (N, K) matrix between the file's layout and X8. */
static PyObject *pack_common(PyObject *args, int pack)
{
    const char *dtype;
    PyObject *w, *res = NULL;
    long long N, K;
    if (!PyArg_ParseTuple(args, "sOLL", &dtype, &w, &N, &K)) return NULL;
    int d = parse_dtype(dtype);
    if (d < 0) return NULL;
    if (!sl_pack_x8_supported(d)) return PyErr_Format(PyExc_ValueError, "no X8 layout for %s", dtype);
    if (K > 0 && K % sl_pack_x8_block_elems(d) != 0)
        return PyErr_Format(PyExc_ValueError, "K=%lld is not a multiple of the %s X8 block (%lld values)", K, dtype,
                            (long long)sl_pack_x8_block_elems(d));
    size_t row = sl_dtype_row_bytes(d, K), total;
    if (N < 0 || K <= 0 || row == 0 || !sl_mul_ok(row, (size_t)N, &total))
        return PyErr_Format(PyExc_ValueError, "bad shape (%lld, %lld) for %s", N, K, dtype);
    Py_buffer b;
    if (PyObject_GetBuffer(w, &b, PyBUF_C_CONTIGUOUS) < 0) return NULL;
    if ((size_t)b.len != total) {
        PyErr_Format(PyExc_ValueError, "buffer of %zd bytes is not %lld rows of %zu bytes", b.len, N, row);
        goto fail;
    }
    if (!(res = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)total))) goto fail;
    Py_BEGIN_ALLOW_THREADS
    if (pack) sl_pack_x8(d, b.buf, row, N, K, PyBytes_AS_STRING(res));
    else sl_unpack_x8(d, b.buf, N, K, PyBytes_AS_STRING(res), row);
    Py_END_ALLOW_THREADS
fail:
    PyBuffer_Release(&b);
    return res;
}

static PyObject *py_pack_x8(PyObject *m, PyObject *args) { (void)m; return pack_common(args, 1); }
static PyObject *py_unpack_x8(PyObject *m, PyObject *args) { (void)m; return pack_common(args, 0); }

static PyMethodDef kernel_methods[] = {
    {"_pack_x8", py_pack_x8, METH_VARARGS, "_pack_x8(dtype, w, N, K) -> bytes: the matrix in the X8 layout."},
    {"_unpack_x8", py_unpack_x8, METH_VARARGS, "_unpack_x8(dtype, w, N, K) -> bytes: back to the file's layout."},
    {"_gemm", py_gemm, METH_VARARGS, "_gemm(dtype, w, N, K, x, isa, layout='rows') -> y: one ISA level's raw gemm (tests)."},
    {"_matmul", (PyCFunction)(void (*)(void))py_matmul, METH_VARARGS | METH_KEYWORDS,
     "_matmul(dtype, w, N, K, x, n_threads=0, repeats=1, isa=None) -> y (T, N) = x @ w.T"},
    {"_bench_matmul", (PyCFunction)(void (*)(void))py_bench_matmul, METH_VARARGS | METH_KEYWORDS,
     "_bench_matmul(dtype, w, N, K, x, n_threads=0, repeats=1, isa=None) -> list of seconds per call"},
    {"_bench_bandwidth", py_bench_bandwidth, METH_VARARGS,
     "_bench_bandwidth(mbytes, n_threads=0, repeats=5) -> best read bandwidth in GB/s"},
    {"_op", py_op, METH_VARARGS, "_op(name, isa, *args): one ISA level's element-wise kernel (tests)."},
    {"_rope", py_rope, METH_VARARGS, "_rope(isa, x (2*half,), cos (half,), sin (half,)) -> rotated copy of x"},
    {"_attn_row", py_attn_row, METH_VARARGS, "_attn_row(isa, q (Dh,), k (L, Dh), v (L, Dh), scale) -> (out, p)"},
    {"_to_float", py_to_float, METH_VARARGS, "_to_float(dtype, isa, data, n) -> float32 (n,)"},
    {"_from_float", py_from_float, METH_VARARGS, "_from_float(dtype, isa, x) -> bytes"},
    {NULL, NULL, 0, NULL},
};

int sl_py_add_kernels(PyObject *module, sl_py_state *st)
{
    (void)st;
    return PyModule_AddFunctions(module, kernel_methods);
}
