/* Loading kernels for the iden3 files (.r1cs, .zkey) and the R1CS fingerprint; Python paths for
 * each are in prover/circom_files.py, prover/zkey.py and prover/r1cs_digest.py, and tests check
 * that both give the same results and the same rejections.
 *
 * Every function here either returns exactly what the Python path computes, or says "not handled"
 * (None / False / a bad index) so the caller runs the Python path on that input, which then
 * raises its usual error. None of them raises for malformed file contents; only argument misuse
 * (wrong buffer sizes) gives ValueError.
 *
 *   zkey_points(data, g2)            Montgomery LE points -> (canonical packed bytes, first bad index
 *                                    or -1); bad = a coordinate >= q or off the curve / twist
 *   unpack_points(data, g2)          canonical packed points -> tuple of (x, y) / ((x0, x1), (y0, y1))
 *   zkey_coefs_match(sec4, A, B, m)  True when the zkey coefficient section equals the R1CS CSR
 *                                    matrices (row by row; terms of a row may be permuted)
 *   parse_r1cs(sec2, m, n_wires, n_public, Constraint)
 *                                    -> None or (constraints tuple, (A, B, C) CSR as native.py packs it)
 *   r1cs_digest_update(hasher, constraints)
 *                                    feeds the constraint text of prover.r1cs_digest to hasher.update;
 *                                    False (nothing fed) when a value is not a plain int in range
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdlib.h>
#include <string.h>

#include "field.h"
#include "io_ops.h"

/* ------------------------------------------------------------------ int <-> 32 LE bytes */
static PyObject *long_from_le32(const unsigned char *b) {
    u64 v[4];
    mp_load_le(v, b);
    if ((v[1] | v[2] | v[3]) == 0) return PyLong_FromUnsignedLongLong(v[0]);
#if PY_VERSION_HEX >= 0x030D0000
    return PyLong_FromUnsignedNativeBytes(b, 32, Py_ASNATIVEBYTES_LITTLE_ENDIAN);
#else
    return _PyLong_FromByteArray(b, 32, 1, 0);
#endif
}

/* 1 and the 4 limbs of v when v is an exact int in [0, 2^256); 0 otherwise (no exception left). */
static int long_to_limbs(PyObject *v, u64 out[4]) {
    if (!PyLong_CheckExact(v)) return 0;
    int overflow = 0;
    long long small = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (overflow == 0) {
        if (small == -1 && PyErr_Occurred()) {
            PyErr_Clear();
            return 0;
        }
        if (small < 0) return 0;
        out[0] = (u64)small;
        out[1] = out[2] = out[3] = 0;
        return 1;
    }
    if (overflow < 0) return 0;
    unsigned char b[32];
#if PY_VERSION_HEX >= 0x030D0000
    Py_ssize_t need = PyLong_AsNativeBytes(v, b, 32,
                                           Py_ASNATIVEBYTES_LITTLE_ENDIAN | Py_ASNATIVEBYTES_UNSIGNED_BUFFER |
                                               Py_ASNATIVEBYTES_REJECT_NEGATIVE);
    if (need < 0) {
        PyErr_Clear();
        return 0;
    }
    if (need > 32) return 0;
#else
    if (_PyLong_NumBits(v) > 256) {
        PyErr_Clear();
        return 0;
    }
    if (_PyLong_AsByteArray((PyLongObject *)v, b, 32, 1, 0) < 0) {
        PyErr_Clear();
        return 0;
    }
#endif
    mp_load_le(out, b);
    return 1;
}

/* ------------------------------------------------------------------ zkey points */
/* The twist's b = 3 / (9 + u) (prover.curve.B2), canonical limbs. */
static const u64 B2_C0[4] = {0x3267e6dc24a138e5ULL, 0xb5b4c5e559dbefa3ULL, 0x81be18991be06ac3ULL,
                             0x2b149d40ceb8aaaeULL};
static const u64 B2_C1[4] = {0xe4a2bd0685c315d2ULL, 0xa74fa084e52d1852ULL, 0xcd2cafadeed8fdf4ULL,
                             0x009713b03af0fed4ULL};

/* Convert n points (coords = 2 for G1, 4 for G2) from Montgomery LE to canonical LE, checking
 * coordinates < q and the curve equation (y^2 = x^3 + 3, or y^2 = x^3 + 3/(9+u) on the twist);
 * the all-zero identity passes. Returns the first bad index, or -1. */
static long long convert_points(const unsigned char *in, unsigned char *out, size_t n, int g2) {
    fe b1, b2c0, b2c1, raw;
    memset(&raw, 0, sizeof raw);
    raw.v[0] = 3;
    mp_to_mont(&b1, &raw, &FQ);
    memcpy(raw.v, B2_C0, sizeof raw.v);
    mp_to_mont(&b2c0, &raw, &FQ);
    memcpy(raw.v, B2_C1, sizeof raw.v);
    mp_to_mont(&b2c1, &raw, &FQ);
    const size_t coords = g2 ? 4 : 2;
    for (size_t i = 0; i < n; i++) {
        fe c[4];
        u64 any = 0;
        for (size_t k = 0; k < coords; k++) {
            mp_load_le(c[k].v, in + 32 * (coords * i + k));
            if (!mp_less(c[k].v, FQ.p)) return (long long)i;
            any |= c[k].v[0] | c[k].v[1] | c[k].v[2] | c[k].v[3];
        }
        if (any) {
            if (!g2) {
                fe l, r;
                fq_sqr(&l, &c[1]);
                fq_sqr(&r, &c[0]);
                fq_mul(&r, &r, &c[0]);
                fq_add(&r, &r, &b1);
                if (!fe_eq(&l, &r)) return (long long)i;
            } else {
                fe2 x = {c[0], c[1]}, y = {c[2], c[3]}, l, r, b = {b2c0, b2c1};
                fq2_sqr(&l, &y);
                fq2_sqr(&r, &x);
                fq2_mul(&r, &r, &x);
                fq2_add(&r, &r, &b);
                if (!fq2_eq(&l, &r)) return (long long)i;
            }
        }
        for (size_t k = 0; k < coords; k++) {
            fe plain;
            mp_from_mont(&plain, &c[k], &FQ);
            mp_store_le(out + 32 * (coords * i + k), plain.v);
        }
    }
    return -1;
}

PyObject *io_zkey_points(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer data;
    int g2;
    if (!PyArg_ParseTuple(args, "y*p", &data, &g2)) return NULL;
    PyObject *out = NULL, *result = NULL;
    Py_ssize_t size = g2 ? 128 : 64;
    if (data.len % size != 0) {
        PyErr_Format(PyExc_ValueError, "points buffer has %zd bytes, not a multiple of %zd", data.len, size);
        goto done;
    }
    out = PyBytes_FromStringAndSize(NULL, data.len);
    if (out == NULL) goto done;
    long long bad;
    unsigned char *dst = (unsigned char *)PyBytes_AS_STRING(out);
    Py_BEGIN_ALLOW_THREADS
    bad = convert_points((const unsigned char *)data.buf, dst, (size_t)(data.len / size), g2);
    Py_END_ALLOW_THREADS
    result = Py_BuildValue("(OL)", out, bad);
done:
    Py_XDECREF(out);
    PyBuffer_Release(&data);
    return result;
}

static PyObject *pair_from(const unsigned char *b) {
    PyObject *x = long_from_le32(b);
    if (x == NULL) return NULL;
    PyObject *y = long_from_le32(b + 32);
    if (y == NULL) {
        Py_DECREF(x);
        return NULL;
    }
    PyObject *t = PyTuple_New(2);
    if (t == NULL) {
        Py_DECREF(x);
        Py_DECREF(y);
        return NULL;
    }
    PyTuple_SET_ITEM(t, 0, x);
    PyTuple_SET_ITEM(t, 1, y);
    return t;
}

PyObject *io_unpack_points(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer data;
    int g2;
    if (!PyArg_ParseTuple(args, "y*p", &data, &g2)) return NULL;
    PyObject *result = NULL;
    Py_ssize_t size = g2 ? 128 : 64;
    if (data.len % size != 0) {
        PyErr_Format(PyExc_ValueError, "points buffer has %zd bytes, not a multiple of %zd", data.len, size);
        goto done;
    }
    Py_ssize_t n = data.len / size;
    result = PyTuple_New(n);
    if (result == NULL) goto done;
    const unsigned char *b = (const unsigned char *)data.buf;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *p;
        if (!g2) {
            p = pair_from(b + size * i);
        } else {
            PyObject *x = pair_from(b + size * i), *y = x ? pair_from(b + size * i + 64) : NULL;
            p = (x && y) ? PyTuple_Pack(2, x, y) : NULL;
            Py_XDECREF(x);
            Py_XDECREF(y);
        }
        if (p == NULL) {
            Py_CLEAR(result);
            goto done;
        }
        PyTuple_SET_ITEM(result, i, p);
    }
done:
    PyBuffer_Release(&data);
    return result;
}

/* ------------------------------------------------------------------ zkey coefficients */
static inline uint32_t rd32(const unsigned char *b) {
    return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
}

static inline void wr32(unsigned char *b, uint32_t v) {
    b[0] = (unsigned char)v;
    b[1] = (unsigned char)(v >> 8);
    b[2] = (unsigned char)(v >> 16);
    b[3] = (unsigned char)(v >> 24);
}

typedef struct {
    const unsigned char *rowptr, *cols, *coeffs;
    size_t rows, nnz;
} csr_view;

typedef struct {
    uint32_t wire;
    const unsigned char *value; /* 32 bytes LE */
} term;

static int term_cmp(const void *a, const void *b) {
    uint32_t x = ((const term *)a)->wire, y = ((const term *)b)->wire;
    return (x > y) - (x < y);
}

/* Segment of a zkey section 4 (entries of 44 bytes) against CSR row `row` of matrix `mat`.
 * expected values are plain; zkey values are c * 2^512 mod r. 1 if equal as sets of terms. */
static int match_row(const unsigned char *entries, const csr_view *m, uint32_t mat, size_t row, term *scratch_a,
                     term *scratch_b) {
    size_t lo = rd32(m->rowptr + 4 * row), hi = rd32(m->rowptr + 4 * row + 4);
    size_t len = hi - lo;
    int in_order = 1;
    for (size_t k = 0; k < len; k++) {
        const unsigned char *e = entries + 44 * k;
        if (rd32(e) != mat || rd32(e + 4) != (uint32_t)row) return 0;
        u64 v[4];
        mp_load_le(v, e + 12);
        if (!mp_less(v, FR.p)) return 0;
        /* expected c * 2^512 mod r = to_mont(to_mont(c)) */
        fe c, t;
        mp_load_le(c.v, m->coeffs + 32 * (lo + k));
        mp_reduce_full(c.v, FR.p);
        mp_to_mont(&t, &c, &FR);
        mp_to_mont(&c, &t, &FR);
        mp_store_le((unsigned char *)scratch_a[k].value, c.v);
        scratch_a[k].wire = rd32(m->cols + 4 * (lo + k));
        scratch_b[k].wire = rd32(e + 8);
        scratch_b[k].value = e + 12;
        if (scratch_a[k].wire != scratch_b[k].wire || memcmp(scratch_a[k].value, e + 12, 32) != 0) in_order = 0;
    }
    if (in_order) return 1;
    qsort(scratch_a, len, sizeof(term), term_cmp);
    qsort(scratch_b, len, sizeof(term), term_cmp);
    for (size_t k = 0; k < len; k++) {
        if (k > 0 && (scratch_a[k].wire == scratch_a[k - 1].wire || scratch_b[k].wire == scratch_b[k - 1].wire))
            return 0;
        if (scratch_a[k].wire != scratch_b[k].wire || memcmp(scratch_a[k].value, scratch_b[k].value, 32) != 0) return 0;
    }
    return 1;
}

static int coefs_match(const unsigned char *sec, size_t len, const csr_view *a, const csr_view *b, size_t m) {
    if (len < 4) return 0;
    size_t count = rd32(sec);
    if (len != 4 + 44 * count) return 0;
    if (b->rows != m || a->rows < m) return 0;
    size_t maxrow = 0;
    for (int k = 0; k < 2; k++) {
        const csr_view *x = k ? b : a;
        if (rd32(x->rowptr) != 0 || rd32(x->rowptr + 4 * x->rows) != x->nnz) return 0;
        for (size_t i = 0; i < x->rows; i++) {
            size_t lo = rd32(x->rowptr + 4 * i), hi = rd32(x->rowptr + 4 * i + 4);
            if (hi < lo || hi > x->nnz) return 0;
            if (hi - lo > maxrow) maxrow = hi - lo;
        }
    }
    if (a->nnz + b->nnz != count) return 0;
    term *sa = malloc((maxrow + 1) * sizeof(term)), *sb = malloc((maxrow + 1) * sizeof(term));
    unsigned char *vals = malloc((maxrow + 1) * 32);
    int ok = sa && sb && vals;
    for (size_t k = 0; ok && k < maxrow; k++) sa[k].value = vals + 32 * k;
    const unsigned char *e = sec + 4;
    for (size_t i = 0; ok && i < a->rows; i++) {
        for (int k = 0; ok && k < 2; k++) {
            if (k == 1 && i >= m) break;
            const csr_view *x = k ? b : a;
            size_t n = rd32(x->rowptr + 4 * i + 4) - rd32(x->rowptr + 4 * i);
            /* restore the value pointers (qsort permuted them) */
            for (size_t j = 0; j < n; j++) sa[j].value = vals + 32 * j;
            ok = match_row(e, x, (uint32_t)k, i, sa, sb);
            e += 44 * n;
        }
    }
    free(sa);
    free(sb);
    free(vals);
    return ok;
}

static int csr_arg(PyObject *obj, Py_buffer views[3], csr_view *out) {
    views[0].obj = views[1].obj = views[2].obj = NULL;
    if (!PyArg_ParseTuple(obj, "y*y*y*", &views[0], &views[1], &views[2])) return 0;
    if (views[0].len < 4 || views[0].len % 4 || views[1].len % 4 || views[2].len != 8 * views[1].len) {
        PyErr_SetString(PyExc_ValueError, "malformed CSR buffers");
        return 0;
    }
    *out = (csr_view){views[0].buf, views[1].buf, views[2].buf, (size_t)(views[0].len / 4) - 1,
                      (size_t)(views[1].len / 4)};
    return 1;
}

PyObject *io_zkey_coefs_match(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer sec, va[3], vb[3];
    PyObject *ao, *bo;
    Py_ssize_t m;
    if (!PyArg_ParseTuple(args, "y*OOn", &sec, &ao, &bo, &m)) return NULL;
    va[0].obj = va[1].obj = va[2].obj = vb[0].obj = vb[1].obj = vb[2].obj = NULL;
    PyObject *result = NULL;
    csr_view a, b;
    if (m < 0) {
        PyErr_SetString(PyExc_ValueError, "negative constraint count");
        goto done;
    }
    if (!csr_arg(ao, va, &a) || !csr_arg(bo, vb, &b)) goto done;
    int ok;
    Py_BEGIN_ALLOW_THREADS
    ok = coefs_match((const unsigned char *)sec.buf, (size_t)sec.len, &a, &b, (size_t)m);
    Py_END_ALLOW_THREADS
    result = PyBool_FromLong(ok);
done:
    for (int k = 0; k < 3; k++) {
        if (va[k].obj) PyBuffer_Release(&va[k]);
        if (vb[k].obj) PyBuffer_Release(&vb[k]);
    }
    PyBuffer_Release(&sec);
    return result;
}

/* ------------------------------------------------------------------ .r1cs constraints */
/* Walk section 2: every count / term present, wires < n_wires, coefficients < r, no trailing
 * bytes; nnz[k] = non-zero terms of matrix k. 0 if any of that fails. */
static int r1cs_scan(const unsigned char *d, size_t len, size_t m, size_t n_wires, size_t nnz[3]) {
    size_t pos = 0;
    nnz[0] = nnz[1] = nnz[2] = 0;
    for (size_t i = 0; i < m; i++) {
        for (int k = 0; k < 3; k++) {
            if (len - pos < 4) return 0;
            size_t count = rd32(d + pos);
            pos += 4;
            if ((len - pos) / 36 < count) return 0;
            for (size_t t = 0; t < count; t++, pos += 36) {
                u64 v[4];
                if (rd32(d + pos) >= n_wires) return 0;
                mp_load_le(v, d + pos + 4);
                if (!mp_less(v, FR.p)) return 0;
                if (v[0] | v[1] | v[2] | v[3]) nnz[k]++;
            }
        }
    }
    return pos == len;
}

PyObject *io_parse_r1cs(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer sec;
    Py_ssize_t m_, n_wires_, n_public_;
    PyObject *cls;
    if (!PyArg_ParseTuple(args, "y*nnnO", &sec, &m_, &n_wires_, &n_public_, &cls)) return NULL;
    PyObject *cons = NULL, *bufs[9] = {NULL}, *result = NULL, *lcs[3] = {NULL, NULL, NULL};
    const unsigned char *d = (const unsigned char *)sec.buf;
    size_t nnz[3];
    if (m_ < 0 || n_wires_ < 0 || n_public_ < 0 || n_public_ >= n_wires_) goto none;
    size_t m = (size_t)m_, n_wires = (size_t)n_wires_, n_inst = (size_t)n_public_ + 1;
    if (m > 0xfffffff0u - n_inst) goto none;
    int scanned;
    Py_BEGIN_ALLOW_THREADS
    scanned = r1cs_scan(d, (size_t)sec.len, m, n_wires, nnz);
    Py_END_ALLOW_THREADS
    if (!scanned || nnz[0] + n_inst > 0xffffffffu || nnz[1] > 0xffffffffu || nnz[2] > 0xffffffffu) goto none;
    size_t rows[3] = {m + n_inst, m, m}, tot[3] = {nnz[0] + n_inst, nnz[1], nnz[2]};
    unsigned char *rp[3], *cl[3], *co[3];
    for (int k = 0; k < 3; k++) {
        bufs[3 * k] = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(4 * (rows[k] + 1)));
        bufs[3 * k + 1] = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(4 * tot[k]));
        bufs[3 * k + 2] = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(32 * tot[k]));
        if (!bufs[3 * k] || !bufs[3 * k + 1] || !bufs[3 * k + 2]) goto fail;
        rp[k] = (unsigned char *)PyBytes_AS_STRING(bufs[3 * k]);
        cl[k] = (unsigned char *)PyBytes_AS_STRING(bufs[3 * k + 1]);
        co[k] = (unsigned char *)PyBytes_AS_STRING(bufs[3 * k + 2]);
        wr32(rp[k], 0);
    }
    cons = PyTuple_New((Py_ssize_t)m);
    if (cons == NULL) goto fail;
    size_t fill[3] = {0, 0, 0}, pos = 0;
    for (size_t i = 0; i < m; i++) {
        for (int k = 0; k < 3; k++) {
            size_t count = rd32(d + pos);
            pos += 4;
            lcs[k] = PyDict_New();
            if (lcs[k] == NULL) goto fail;
            for (size_t t = 0; t < count; t++, pos += 36) {
                const unsigned char *c = d + pos + 4;
                u64 v[4];
                mp_load_le(v, c);
                if ((v[0] | v[1] | v[2] | v[3]) == 0) continue;
                uint32_t w = rd32(d + pos);
                PyObject *key = PyLong_FromUnsignedLong(w), *val = key ? long_from_le32(c) : NULL;
                int rc = (key && val) ? PyDict_SetItem(lcs[k], key, val) : -1;
                Py_XDECREF(key);
                Py_XDECREF(val);
                if (rc < 0) goto fail;
                if ((size_t)PyDict_GET_SIZE(lcs[k]) != fill[k] - (size_t)rd32(rp[k] + 4 * i) + 1) goto dup;
                wr32(cl[k] + 4 * fill[k], w);
                memcpy(co[k] + 32 * fill[k], c, 32);
                fill[k]++;
            }
            wr32(rp[k] + 4 * (i + 1), (uint32_t)fill[k]);
        }
        PyObject *con = PyObject_CallFunctionObjArgs(cls, lcs[0], lcs[1], lcs[2], NULL);
        for (int k = 0; k < 3; k++) Py_CLEAR(lcs[k]);
        if (con == NULL) goto fail;
        PyTuple_SET_ITEM(cons, (Py_ssize_t)i, con);
    }
    for (size_t s = 0; s < n_inst; s++) { /* A's input-consistency rows: wire s with coefficient 1 */
        unsigned char one[32] = {1};
        wr32(cl[0] + 4 * fill[0], (uint32_t)s);
        memcpy(co[0] + 32 * fill[0], one, 32);
        fill[0]++;
        wr32(rp[0] + 4 * (m + s + 1), (uint32_t)fill[0]);
    }
    result = Py_BuildValue("(O((OOO)(OOO)(OOO)))", cons, bufs[0], bufs[1], bufs[2], bufs[3], bufs[4], bufs[5],
                           bufs[6], bufs[7], bufs[8]);
    goto fail; /* release the local references */
dup:
none:
    result = Py_None;
    Py_INCREF(result);
fail:
    for (int k = 0; k < 3; k++) Py_XDECREF(lcs[k]);
    for (int k = 0; k < 9; k++) Py_XDECREF(bufs[k]);
    Py_XDECREF(cons);
    PyBuffer_Release(&sec);
    return result;
}

/* ------------------------------------------------------------------ R1CS digest text */
typedef struct {
    char *buf;
    size_t len, cap;
    PyObject *hasher;
} sink;

static int sink_flush(sink *s) {
    if (s->len == 0) return 1;
    PyObject *r = PyObject_CallMethod(s->hasher, "update", "y#", s->buf, (Py_ssize_t)s->len);
    if (r == NULL) return 0;
    Py_DECREF(r);
    s->len = 0;
    return 1;
}

/* Room for `need` more bytes (flushing to the hasher past 1 MiB). */
static int sink_reserve(sink *s, size_t need) {
    if (s->len + need <= s->cap) return 1;
    if (!sink_flush(s)) return 0;
    if (need > s->cap) {
        char *nb = realloc(s->buf, need);
        if (nb == NULL) {
            PyErr_NoMemory();
            return 0;
        }
        s->buf = nb;
        s->cap = need;
    }
    return 1;
}

static size_t u64_dec(char *out, u64 v) {
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
    return n;
}

/* Decimal digits of a 256-bit value (at most 78). */
static size_t u256_dec(char *out, const u64 v[4]) {
    if ((v[1] | v[2] | v[3]) == 0) return u64_dec(out, v[0]);
    uint32_t d[10]; /* base 10^9, least significant first */
    size_t nd = 0;
    for (int i = 7; i >= 0; i--) {
        uint64_t carry = (uint32_t)(v[i >> 1] >> (32 * (i & 1)));
        for (size_t j = 0; j < nd; j++) {
            uint64_t t = ((uint64_t)d[j] << 32) | carry;
            d[j] = (uint32_t)(t % 1000000000u);
            carry = t / 1000000000u;
        }
        while (carry) {
            d[nd++] = (uint32_t)(carry % 1000000000u);
            carry /= 1000000000u;
        }
    }
    size_t n = u64_dec(out, d[nd - 1]);
    for (size_t j = nd - 1; j-- > 0;) {
        uint32_t x = d[j];
        for (int k = 8; k >= 0; k--) {
            out[n + (size_t)k] = (char)('0' + x % 10);
            x /= 10;
        }
        n += 9;
    }
    return n;
}

typedef struct {
    long long wire;
    u64 value[4];
} dterm;

/* Sort by wire (insertion sort: rows are short and usually sorted already). */
static void dterm_sort(dterm *t, size_t n) {
    for (size_t i = 1; i < n; i++) {
        if (t[i].wire >= t[i - 1].wire) continue;
        dterm x = t[i];
        size_t j = i;
        while (j > 0 && t[j - 1].wire > x.wire) {
            t[j] = t[j - 1];
            j--;
        }
        t[j] = x;
    }
}

/* Append the terms of one linear combination (an exact dict of int -> int in range) to *all,
 * sorted by wire; 0 if it is not such a dict (no exception left) or on allocation failure. */
static int lc_terms(PyObject *lc, dterm **all, size_t *cap, size_t *len) {
    if (!PyDict_CheckExact(lc)) return 0;
    size_t size = (size_t)PyDict_GET_SIZE(lc);
    if (*len + size > *cap) {
        size_t ncap = 2 * (*cap) + size + 1024;
        dterm *nb = realloc(*all, ncap * sizeof(dterm));
        if (nb == NULL) return 0;
        *all = nb;
        *cap = ncap;
    }
    dterm *base = *all + *len;
    Py_ssize_t it = 0;
    PyObject *k, *v;
    size_t cnt = 0;
    while (PyDict_Next(lc, &it, &k, &v)) {
        dterm *t = &base[cnt];
        if (!PyLong_CheckExact(k)) return 0;
        int overflow = 0;
        t->wire = PyLong_AsLongLongAndOverflow(k, &overflow);
        if (overflow || t->wire < 0) {
            PyErr_Clear();
            return 0;
        }
        if (!long_to_limbs(v, t->value)) return 0;
        cnt++;
    }
    dterm_sort(base, cnt);
    *len += cnt;
    return 1;
}

/* Decimal strings of recent values (circuits repeat a few hundred constants many times):
 * open addressing on the value, never evicted, full = no more inserts. */
#define DEC_SLOTS 4096
typedef struct {
    u64 key[4];
    unsigned char len; /* 0 = empty */
    char text[79];
} dec_slot;

static size_t dec_cached(dec_slot *tab, size_t *used, char *out, const u64 v[4]) {
    if ((v[1] | v[2] | v[3]) == 0) return u64_dec(out, v[0]);
    u64 h = (v[0] ^ (v[1] * 0x9e3779b97f4a7c15ULL) ^ (v[2] >> 7) ^ v[3]) * 0xff51afd7ed558ccdULL;
    size_t i = (size_t)(h >> 52) & (DEC_SLOTS - 1);
    for (size_t probe = 0; probe < 16; probe++, i = (i + 1) & (DEC_SLOTS - 1)) {
        dec_slot *sl = &tab[i];
        if (sl->len == 0) {
            size_t n = u256_dec(out, v);
            if (*used < DEC_SLOTS / 2) {
                memcpy(sl->key, v, sizeof sl->key);
                memcpy(sl->text, out, n);
                sl->len = (unsigned char)n;
                (*used)++;
            }
            return n;
        }
        if (sl->key[0] == v[0] && sl->key[1] == v[1] && sl->key[2] == v[2] && sl->key[3] == v[3]) {
            memcpy(out, sl->text, sl->len);
            return sl->len;
        }
    }
    return u256_dec(out, v);
}

/* 1 = fed everything; 0 = some value is not representable (nothing was fed); -1 = Python error. */
static int digest_feed(PyObject *hasher, PyObject *seq) {
    Py_ssize_t m = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    static const char *names[3] = {"a", "b", "c"};
    size_t n_lc = 3 * (size_t)m;
    size_t *ends = malloc(sizeof(size_t) * (n_lc + 1));
    dec_slot *tab = calloc(DEC_SLOTS, sizeof(dec_slot));
    dterm *all = NULL;
    size_t cap = 0, len = 0, used = 0;
    sink s = {malloc(1 << 20), 0, 1 << 20, hasher};
    int rc = 1;
    if (ends == NULL || tab == NULL || s.buf == NULL) {
        PyErr_NoMemory();
        rc = -1;
        goto out;
    }
    for (Py_ssize_t i = 0; i < m; i++) {
        for (int k = 0; k < 3; k++) {
            PyObject *lc = PyObject_GetAttrString(items[i], names[k]);
            if (lc == NULL) {
                rc = -1;
                goto out;
            }
            int ok = lc_terms(lc, &all, &cap, &len);
            Py_DECREF(lc);
            if (!ok) {
                if (PyErr_Occurred()) PyErr_Clear();
                rc = 0;
                goto out;
            }
            ends[3 * i + k] = len;
        }
    }
    size_t lo = 0;
    for (size_t i = 0; i < n_lc; i++) {
        int first = 1;
        for (size_t t = lo; t < ends[i]; t++) {
            const u64 *v = all[t].value;
            if ((v[0] | v[1] | v[2] | v[3]) == 0) continue;
            if (!sink_reserve(&s, 120)) {
                rc = -1;
                goto out;
            }
            if (!first) s.buf[s.len++] = ';';
            first = 0;
            s.len += u64_dec(s.buf + s.len, (u64)all[t].wire);
            s.buf[s.len++] = ':';
            s.len += dec_cached(tab, &used, s.buf + s.len, v);
        }
        lo = ends[i];
        if (!sink_reserve(&s, 1)) {
            rc = -1;
            goto out;
        }
        s.buf[s.len++] = (i % 3 == 2) ? '\n' : '|';
    }
    if (!sink_flush(&s)) rc = -1;
out:
    free(ends);
    free(tab);
    free(all);
    free(s.buf);
    return rc;
}

PyObject *io_r1cs_digest_update(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *hasher, *constraints;
    if (!PyArg_ParseTuple(args, "OO", &hasher, &constraints)) return NULL;
    PyObject *seq = PySequence_Tuple(constraints); /* a tuple stays as it is; anything else is copied */
    if (seq == NULL) return NULL;
    int rc = digest_feed(hasher, seq);
    Py_DECREF(seq);
    if (rc < 0) return NULL;
    return PyBool_FromLong(rc);
}
