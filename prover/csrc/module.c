/* prover._native: the CPython face of the BN254 kernels (msm.c: MSM and fixed-base batch mul; fr_ops.c;
 * pairing.c: the optimal ate pairing).
 *
 * Every argument is a bytes-like buffer of little-endian 32-byte field elements; lengths and
 * coordinates are validated here (ValueError, never an out-of-bounds read), then the work runs
 * without the GIL. Python-side packing, caching and dispatch live in prover/native.py.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "fr_ops.h"
#include "io_ops.h"
#include "msm.h"
#include "pairing.h"

typedef int (*msm_fn)(const unsigned char *, const unsigned char *, size_t, int, int, unsigned char *,
                      size_t *);

static PyObject *run_msm(PyObject *args, PyObject *kwargs, msm_fn fn, Py_ssize_t point_bytes, const char *group) {
    static char *kwlist[] = {"points", "scalars", "threads", "window", NULL};
    Py_buffer pts, scs;
    int threads = 1, window = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "y*y*|ii", kwlist, &pts, &scs, &threads, &window)) return NULL;
    PyObject *result = NULL;
    if (pts.len % point_bytes != 0) {
        PyErr_Format(PyExc_ValueError, "%s points buffer has %zd bytes, not a multiple of %zd", group, pts.len,
                     point_bytes);
        goto out;
    }
    if (scs.len % 32 != 0 || scs.len / 32 != pts.len / point_bytes) {
        PyErr_Format(PyExc_ValueError, "%s MSM needs 32 bytes per scalar and one scalar per point (%zd points, %zd scalar bytes)",
                     group, pts.len / point_bytes, scs.len);
        goto out;
    }
    if (threads < 1 || threads > MSM_MAX_THREADS) {
        PyErr_Format(PyExc_ValueError, "threads must be in [1, %d], got %d", MSM_MAX_THREADS, threads);
        goto out;
    }
    if (window != 0 && (window < MSM_MIN_WINDOW || window > MSM_MAX_WINDOW)) {
        PyErr_Format(PyExc_ValueError, "window must be 0 (automatic) or in [%d, %d], got %d", MSM_MIN_WINDOW,
                     MSM_MAX_WINDOW, window);
        goto out;
    }
    unsigned char outbuf[128];
    size_t bad = 0;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = fn((const unsigned char *)pts.buf, (const unsigned char *)scs.buf, (size_t)(pts.len / point_bytes), threads,
            window, outbuf, &bad);
    Py_END_ALLOW_THREADS
    if (rc == MSM_BAD_POINT) {
        PyErr_Format(PyExc_ValueError, "%s point %zu has a coordinate >= q", group, bad);
    } else if (rc == MSM_NO_MEMORY) {
        PyErr_NoMemory();
    } else {
        result = PyBytes_FromStringAndSize((const char *)outbuf, point_bytes);
    }
out:
    PyBuffer_Release(&pts);
    PyBuffer_Release(&scs);
    return result;
}

static PyObject *py_g1_msm(PyObject *self, PyObject *args, PyObject *kwargs) {
    (void)self;
    return run_msm(args, kwargs, g1_msm, 64, "G1");
}

static PyObject *py_g2_msm(PyObject *self, PyObject *args, PyObject *kwargs) {
    (void)self;
    return run_msm(args, kwargs, g2_msm, 128, "G2");
}

typedef int (*fixed_base_fn)(const unsigned char *, const unsigned char *, size_t, int, unsigned char *);

static PyObject *run_fixed_base(PyObject *args, PyObject *kwargs, fixed_base_fn fn, Py_ssize_t point_bytes,
                                const char *group) {
    static char *kwlist[] = {"base", "scalars", "threads", NULL};
    Py_buffer base, scs;
    int threads = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "y*y*|i", kwlist, &base, &scs, &threads)) return NULL;
    PyObject *result = NULL;
    if (base.len != point_bytes) {
        PyErr_Format(PyExc_ValueError, "%s base must be %zd bytes, got %zd", group, point_bytes, base.len);
        goto out;
    }
    if (scs.len % 32 != 0) {
        PyErr_Format(PyExc_ValueError, "scalars buffer has %zd bytes, not a multiple of 32", scs.len);
        goto out;
    }
    if (threads < 1 || threads > MSM_MAX_THREADS) {
        PyErr_Format(PyExc_ValueError, "threads must be in [1, %d], got %d", MSM_MAX_THREADS, threads);
        goto out;
    }
    size_t n = (size_t)(scs.len / 32);
    if (n > (size_t)(PY_SSIZE_T_MAX / point_bytes)) {
        PyErr_NoMemory();
        goto out;
    }
    result = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)n * point_bytes);
    if (result == NULL) goto out;
    unsigned char *dst = (unsigned char *)PyBytes_AS_STRING(result);
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = fn((const unsigned char *)base.buf, (const unsigned char *)scs.buf, n, threads, dst);
    Py_END_ALLOW_THREADS
    if (rc == MSM_BAD_POINT) {
        Py_CLEAR(result);
        PyErr_Format(PyExc_ValueError, "%s base has a coordinate >= q or is not on the curve", group);
    } else if (rc == MSM_NO_MEMORY) {
        Py_CLEAR(result);
        PyErr_NoMemory();
    }
out:
    PyBuffer_Release(&base);
    PyBuffer_Release(&scs);
    return result;
}

static PyObject *py_g1_fixed_base(PyObject *self, PyObject *args, PyObject *kwargs) {
    (void)self;
    return run_fixed_base(args, kwargs, g1_fixed_base, 64, "G1");
}

static PyObject *py_g2_fixed_base(PyObject *self, PyObject *args, PyObject *kwargs) {
    (void)self;
    return run_fixed_base(args, kwargs, g2_fixed_base, 128, "G2");
}

static PyObject *py_window_bits(PyObject *self, PyObject *args) {
    (void)self;
    Py_ssize_t m;
    int threads;
    if (!PyArg_ParseTuple(args, "ni", &m, &threads)) return NULL;
    if (m < 0) {
        PyErr_SetString(PyExc_ValueError, "term count must be >= 0");
        return NULL;
    }
    return PyLong_FromLong(msm_window_bits((size_t)m, threads));
}

/* A 32-byte element argument (or None -> NULL); sets ValueError on a wrong length. */
static int element_arg(PyObject *obj, Py_buffer *view, const unsigned char **ptr, const char *name) {
    *ptr = NULL;
    view->obj = NULL;
    if (obj == NULL || obj == Py_None) return 1;
    if (PyObject_GetBuffer(obj, view, PyBUF_SIMPLE) < 0) return 0;
    if (view->len != 32) {
        PyErr_Format(PyExc_ValueError, "%s must be 32 bytes, got %zd", name, view->len);
        PyBuffer_Release(view);
        view->obj = NULL;
        return 0;
    }
    *ptr = (const unsigned char *)view->buf;
    return 1;
}

static void release(Py_buffer *v) {
    if (v->obj != NULL) PyBuffer_Release(v);
}

static PyObject *py_fr_ntt(PyObject *self, PyObject *args, PyObject *kwargs) {
    (void)self;
    static char *kwlist[] = {"data", "omega", "pre_c", "pre_g", "post_c", "post_g", NULL};
    Py_buffer data;
    PyObject *objs[5] = {NULL, NULL, NULL, NULL, NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "y*O|OOOO", kwlist, &data, &objs[0], &objs[1], &objs[2], &objs[3],
                                     &objs[4]))
        return NULL;
    static const char *names[5] = {"omega", "pre_c", "pre_g", "post_c", "post_g"};
    Py_buffer views[5];
    const unsigned char *ptrs[5];
    PyObject *result = NULL;
    int got = 0;
    for (; got < 5; got++) {
        if (!element_arg(objs[got], &views[got], &ptrs[got], names[got])) goto out;
    }
    if (ptrs[0] == NULL) {
        PyErr_SetString(PyExc_ValueError, "omega is required");
        goto out;
    }
    size_t n = (size_t)(data.len / 32);
    if (data.len % 32 != 0 || n == 0 || (n & (n - 1)) != 0) {
        PyErr_Format(PyExc_ValueError, "NTT input must be a power-of-two count of 32-byte elements, got %zd bytes",
                     data.len);
        goto out;
    }
    result = PyBytes_FromStringAndSize(NULL, data.len);
    if (result == NULL) goto out;
    int rc;
    unsigned char *dst = (unsigned char *)PyBytes_AS_STRING(result);
    Py_BEGIN_ALLOW_THREADS
    rc = fr_ntt((const unsigned char *)data.buf, dst, n, ptrs[0], ptrs[1], ptrs[2], ptrs[3], ptrs[4]);
    Py_END_ALLOW_THREADS
    if (rc != FR_OK) {
        Py_CLEAR(result);
        PyErr_NoMemory();
    }
out:
    for (int i = 0; i < got; i++) release(&views[i]);
    PyBuffer_Release(&data);
    return result;
}

static PyObject *py_fr_abc(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer a, b, c, f;
    if (!PyArg_ParseTuple(args, "y*y*y*y*", &a, &b, &c, &f)) return NULL;
    PyObject *result = NULL;
    if (a.len % 32 != 0 || b.len != a.len || c.len != a.len || f.len != 32) {
        PyErr_SetString(PyExc_ValueError, "fr_abc needs three equal-length element buffers and a 32-byte factor");
        goto out;
    }
    result = PyBytes_FromStringAndSize(NULL, a.len);
    if (result == NULL) goto out;
    unsigned char *dst = (unsigned char *)PyBytes_AS_STRING(result);
    Py_BEGIN_ALLOW_THREADS
    fr_abc((const unsigned char *)a.buf, (const unsigned char *)b.buf, (const unsigned char *)c.buf,
           (const unsigned char *)f.buf, dst, (size_t)(a.len / 32));
    Py_END_ALLOW_THREADS
out:
    PyBuffer_Release(&a);
    PyBuffer_Release(&b);
    PyBuffer_Release(&c);
    PyBuffer_Release(&f);
    return result;
}

static PyObject *py_fr_r1cs_rows(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer w, bufs[9];
    Py_ssize_t n_out;
    if (!PyArg_ParseTuple(args, "y*n(y*y*y*)(y*y*y*)(y*y*y*)", &w, &n_out, &bufs[0], &bufs[1], &bufs[2], &bufs[3],
                          &bufs[4], &bufs[5], &bufs[6], &bufs[7], &bufs[8]))
        return NULL;
    PyObject *result = NULL, *outs[3] = {NULL, NULL, NULL};
    fr_csr mats[3];
    const char *which = "ABC";
    if (w.len % 32 != 0) {
        PyErr_SetString(PyExc_ValueError, "witness buffer must hold 32-byte elements");
        goto out;
    }
    if (n_out < 0 || n_out > (Py_ssize_t)(PY_SSIZE_T_MAX / 96)) {
        PyErr_SetString(PyExc_ValueError, "bad output length");
        goto out;
    }
    for (int k = 0; k < 3; k++) {
        Py_buffer *rp = &bufs[3 * k], *cols = &bufs[3 * k + 1], *co = &bufs[3 * k + 2];
        if (rp->len % 4 != 0 || rp->len < 4 || cols->len % 4 != 0 || co->len != 8 * cols->len ||
            cols->len / 4 > 0xffffffffLL) {
            PyErr_Format(PyExc_ValueError, "matrix %c: malformed CSR buffers", which[k]);
            goto out;
        }
        size_t rows = (size_t)(rp->len / 4) - 1;
        if (rows > (size_t)n_out) {
            PyErr_Format(PyExc_ValueError, "matrix %c has %zu rows, more than the %zd outputs", which[k], rows, n_out);
            goto out;
        }
        mats[k] = (fr_csr){(const unsigned char *)rp->buf, (const unsigned char *)cols->buf,
                           (const unsigned char *)co->buf, rows, (size_t)(cols->len / 4)};
    }
    unsigned char *dst[3];
    for (int k = 0; k < 3; k++) {
        outs[k] = PyBytes_FromStringAndSize(NULL, n_out * 32);
        if (outs[k] == NULL) goto out;
        dst[k] = (unsigned char *)PyBytes_AS_STRING(outs[k]);
    }
    long long bad = -1;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = fr_r1cs_rows(mats, (const unsigned char *)w.buf, (size_t)(w.len / 32), (size_t)n_out, dst, &bad);
    Py_END_ALLOW_THREADS
    if (rc == FR_BAD_ROWS) {
        PyErr_SetString(PyExc_ValueError, "CSR row pointers are not monotone from 0 to the column count");
    } else if (rc == FR_BAD_WIRE) {
        PyErr_SetString(PyExc_ValueError, "a constraint refers to a wire outside the witness");
    } else if (rc == FR_NO_MEMORY) {
        PyErr_NoMemory();
    } else {
        result = Py_BuildValue("(OOOL)", outs[0], outs[1], outs[2], bad);
    }
out:
    for (int k = 0; k < 3; k++) Py_XDECREF(outs[k]);
    for (int k = 0; k < 9; k++) PyBuffer_Release(&bufs[k]);
    PyBuffer_Release(&w);
    return result;
}

/* Shared by pairing() and pairing_check(): parse, validate lengths, run without the GIL. */
static int run_pairing(PyObject *args, unsigned char *out, int *is_one) {
    Py_buffer g1, g2;
    if (!PyArg_ParseTuple(args, "y*y*", &g1, &g2)) return 0;
    int ok = 0;
    if (g1.len % 64 != 0 || g2.len % 128 != 0 || g1.len / 64 != g2.len / 128) {
        PyErr_Format(PyExc_ValueError,
                     "pairing needs 64 bytes per G1 point and 128 per G2 point, as many of each (%zd, %zd bytes)",
                     g1.len, g2.len);
        goto out;
    }
    size_t bad = 0;
    int bad_g2 = 0, rc;
    Py_BEGIN_ALLOW_THREADS
    rc = bn254_pairing_product((const unsigned char *)g1.buf, (const unsigned char *)g2.buf, (size_t)(g1.len / 64),
                               out, is_one, &bad, &bad_g2);
    Py_END_ALLOW_THREADS
    if (rc == PAIRING_BAD_COORD) {
        PyErr_Format(PyExc_ValueError, "pair %zu: %s point has a coordinate >= q", bad, bad_g2 ? "G2" : "G1");
    } else if (rc == PAIRING_OFF_CURVE) {
        PyErr_Format(PyExc_ValueError, "pair %zu: %s point is not on the %s", bad, bad_g2 ? "G2" : "G1",
                     bad_g2 ? "twist" : "curve");
    } else if (rc == PAIRING_NO_MEMORY) {
        PyErr_NoMemory();
    } else {
        ok = 1;
    }
out:
    PyBuffer_Release(&g1);
    PyBuffer_Release(&g2);
    return ok;
}

static PyObject *py_pairing(PyObject *self, PyObject *args) {
    (void)self;
    unsigned char out[PAIRING_GT_BYTES];
    int is_one = 0;
    if (!run_pairing(args, out, &is_one)) return NULL;
    return PyBytes_FromStringAndSize((const char *)out, PAIRING_GT_BYTES);
}

static PyObject *py_pairing_check(PyObject *self, PyObject *args) {
    (void)self;
    int is_one = 0;
    if (!run_pairing(args, NULL, &is_one)) return NULL;
    return PyBool_FromLong(is_one);
}

static PyMethodDef methods[] = {
    {"g1_msm", (PyCFunction)(void (*)(void))py_g1_msm, METH_VARARGS | METH_KEYWORDS,
     "g1_msm(points, scalars, threads=1, window=0) -> 64 bytes: sum k_i P_i, affine x||y (identity = zeros)."},
    {"g2_msm", (PyCFunction)(void (*)(void))py_g2_msm, METH_VARARGS | METH_KEYWORDS,
     "g2_msm(points, scalars, threads=1, window=0) -> 128 bytes: sum k_i P_i, affine x0 x1 y0 y1."},
    {"g1_fixed_base", (PyCFunction)(void (*)(void))py_g1_fixed_base, METH_VARARGS | METH_KEYWORDS,
     "g1_fixed_base(base, scalars, threads=1) -> bytes: k_i * base for each 32-byte scalar, affine x||y each "
     "(identity = zeros); ValueError if the base is off the curve."},
    {"g2_fixed_base", (PyCFunction)(void (*)(void))py_g2_fixed_base, METH_VARARGS | METH_KEYWORDS,
     "g2_fixed_base(base, scalars, threads=1) -> bytes: k_i * base on G2, affine x0 x1 y0 y1 each."},
    {"window_bits", py_window_bits, METH_VARARGS, "window_bits(terms, threads) -> the MSM's automatic window size."},
    {"fr_ntt", (PyCFunction)(void (*)(void))py_fr_ntt, METH_VARARGS | METH_KEYWORDS,
     "fr_ntt(data, omega, pre_c=None, pre_g=None, post_c=None, post_g=None) -> bytes: scaled radix-2 NTT over F_r."},
    {"fr_abc", py_fr_abc, METH_VARARGS, "fr_abc(a, b, c, factor) -> bytes: (a_i * b_i - c_i) * factor over F_r."},
    {"fr_r1cs_rows", py_fr_r1cs_rows, METH_VARARGS,
     "fr_r1cs_rows(witness, n_out, A, B, C) -> (a, b, c, first_bad_row): CSR matrices (rowptr, cols, coeffs)."},
    {"zkey_points", io_zkey_points, METH_VARARGS,
     "zkey_points(data, g2) -> (canonical bytes, first bad index or -1): Montgomery LE points to canonical LE, "
     "each checked (coordinates < q, on the curve / twist; the all-zero identity passes)."},
    {"unpack_points", io_unpack_points, METH_VARARGS,
     "unpack_points(data, g2) -> tuple of (x, y) / ((x0, x1), (y0, y1)) ints from canonical packed points."},
    {"zkey_coefs_match", io_zkey_coefs_match, METH_VARARGS,
     "zkey_coefs_match(section4, A, B, n_constraints) -> bool: the zkey A/B coefficients equal the CSR rows "
     "(False: not shown equal, decide another way)."},
    {"parse_r1cs", io_parse_r1cs, METH_VARARGS,
     "parse_r1cs(section2, n_constraints, n_wires, n_public, Constraint) -> None or (constraints, (A, B, C) CSR)."},
    {"r1cs_digest_update", io_r1cs_digest_update, METH_VARARGS,
     "r1cs_digest_update(hasher, constraints) -> bool: feed the digest text of the constraints (False: nothing fed)."},
    {"pairing", py_pairing, METH_VARARGS,
     "pairing(g1, g2) -> 384 bytes: prod e(P_k, Q_k) (optimal ate, final exponentiation (q^12-1)/r) as twelve "
     "32-byte LE F_q coefficients in tower order c00.a c00.b c01.a ... c12.b (c_ij on w^i v^j); ValueError for a "
     "coordinate >= q or a point off its curve; identity pairs (all zeros) contribute 1."},
    {"pairing_check", py_pairing_check, METH_VARARGS,
     "pairing_check(g1, g2) -> bool: prod e(P_k, Q_k) == 1 with one multi-Miller loop and one final "
     "exponentiation; same inputs and errors as pairing()."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT,
                                    "prover._native",
                                    "Native BN254 kernels for the zkxai prover (MSM, NTT, R1CS rows, file loading, pairing).",
                                    -1,
                                    methods,
                                    NULL,
                                    NULL,
                                    NULL,
                                    NULL};

PyMODINIT_FUNC PyInit__native(void) { return PyModule_Create(&module); }
