/* F_r kernels: NTT with optional geometric pre/post scaling, A*B - C, R1CS row evaluation. */
#include "fr_ops.h"

#include <stdlib.h>
#include <string.h>

#include "field.h"

static inline void fr_load(fe *x, const unsigned char *b) {
    fe raw;
    mp_load_le(raw.v, b);
    mp_reduce_full(raw.v, FR.p);
    mp_to_mont(x, &raw, &FR);
}

static inline void fr_store(unsigned char *b, const fe *x) {
    fe raw;
    mp_from_mont(&raw, x, &FR);
    mp_store_le(b, raw.v);
}

static inline void fr_mul(fe *r, const fe *a, const fe *b) { mp_mul(r, a, b, &FR); }

/* a[i] *= c * g^i (Montgomery in/out); NULL c or g means 1. */
static void scale_geometric(fe *a, size_t n, const unsigned char *cb, const unsigned char *gb) {
    if (cb == NULL && gb == NULL) return;
    fe f, g;
    if (cb != NULL) fr_load(&f, cb);
    else mp_one(&f, &FR);
    if (gb != NULL) fr_load(&g, gb);
    else mp_one(&g, &FR);
    for (size_t i = 0; i < n; i++) {
        fr_mul(&a[i], &a[i], &f);
        if (gb != NULL) fr_mul(&f, &f, &g);
    }
}

/* In-place iterative Cooley-Tukey: bit reversal, then butterflies with a twiddle table. */
static int ntt_inplace(fe *a, size_t n, const fe *omega) {
    if (n <= 1) return FR_OK;
    size_t half_n = n >> 1;
    fe *tw = (fe *)malloc(half_n * sizeof(fe));
    if (tw == NULL) return FR_NO_MEMORY;
    mp_one(&tw[0], &FR);
    for (size_t k = 1; k < half_n; k++) fr_mul(&tw[k], &tw[k - 1], omega);
    for (size_t i = 1, j = 0; i < n; i++) {
        size_t bit = n >> 1;
        while (j & bit) {
            j ^= bit;
            bit >>= 1;
        }
        j |= bit;
        if (i < j) {
            fe t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }
    for (size_t len = 2; len <= n; len <<= 1) {
        size_t half = len >> 1, step = n / len;
        for (size_t start = 0; start < n; start += len) {
            for (size_t k = 0; k < half; k++) {
                fe v, u = a[start + k];
                fr_mul(&v, &a[start + k + half], &tw[k * step]);
                mp_add(&a[start + k], &u, &v, &FR);
                mp_sub(&a[start + k + half], &u, &v, &FR);
            }
        }
    }
    free(tw);
    return FR_OK;
}

int fr_ntt(const unsigned char *in, unsigned char *out, size_t n, const unsigned char *omega,
           const unsigned char *pre_c, const unsigned char *pre_g, const unsigned char *post_c,
           const unsigned char *post_g) {
    fe *a = (fe *)malloc((n ? n : 1) * sizeof(fe));
    if (a == NULL) return FR_NO_MEMORY;
    for (size_t i = 0; i < n; i++) fr_load(&a[i], in + 32 * i);
    fe w;
    fr_load(&w, omega);
    scale_geometric(a, n, pre_c, pre_g);
    int rc = ntt_inplace(a, n, &w);
    if (rc == FR_OK) {
        scale_geometric(a, n, post_c, post_g);
        for (size_t i = 0; i < n; i++) fr_store(out + 32 * i, &a[i]);
    }
    free(a);
    return rc;
}

int fr_abc(const unsigned char *a, const unsigned char *b, const unsigned char *c,
           const unsigned char *factor, unsigned char *out, size_t n) {
    fe f;
    fr_load(&f, factor);
    for (size_t i = 0; i < n; i++) {
        fe x, y, z;
        fr_load(&x, a + 32 * i);
        fr_load(&y, b + 32 * i);
        fr_load(&z, c + 32 * i);
        fr_mul(&x, &x, &y);
        mp_sub(&x, &x, &z, &FR);
        fr_mul(&x, &x, &f);
        fr_store(out + 32 * i, &x);
    }
    return FR_OK;
}

static inline uint32_t load_u32(const unsigned char *b) {
    return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
}

/* Checks one CSR matrix against the witness size before anything is read through it. */
static int check_csr(const fr_csr *m, size_t n_wires) {
    if (load_u32(m->rowptr) != 0) return FR_BAD_ROWS;
    uint32_t prev = 0;
    for (size_t i = 1; i <= m->rows; i++) {
        uint32_t p = load_u32(m->rowptr + 4 * i);
        if (p < prev) return FR_BAD_ROWS;
        prev = p;
    }
    if (prev != m->nnz) return FR_BAD_ROWS;
    for (size_t j = 0; j < m->nnz; j++) {
        if (load_u32(m->cols + 4 * j) >= n_wires) return FR_BAD_WIRE;
    }
    return FR_OK;
}

int fr_r1cs_rows(const fr_csr mats[3], const unsigned char *witness, size_t n_wires, size_t n_out,
                 unsigned char *outs[3], long long *bad_row) {
    for (int k = 0; k < 3; k++) {
        int rc = check_csr(&mats[k], n_wires);
        if (rc != FR_OK) return rc;
    }
    fe *w = (fe *)malloc((n_wires ? n_wires : 1) * sizeof(fe));
    fe *vals = (fe *)malloc(3 * (n_out ? n_out : 1) * sizeof(fe));
    if (w == NULL || vals == NULL) {
        free(w);
        free(vals);
        return FR_NO_MEMORY;
    }
    for (size_t i = 0; i < n_wires; i++) fr_load(&w[i], witness + 32 * i);
    memset(vals, 0, 3 * n_out * sizeof(fe));
    for (int k = 0; k < 3; k++) {
        const fr_csr *m = &mats[k];
        fe *out = vals + (size_t)k * n_out;
        /* coefficient (plain) * wire (Montgomery) / 2^256 = the plain product: sum plain values
         * and convert each row sum once instead of every coefficient */
        for (size_t i = 0; i < m->rows; i++) {
            uint32_t lo = load_u32(m->rowptr + 4 * i), hi = load_u32(m->rowptr + 4 * (i + 1));
            fe acc = {{0, 0, 0, 0}};
            for (uint32_t j = lo; j < hi; j++) {
                fe coeff, t;
                mp_load_le(coeff.v, m->coeffs + 32 * (size_t)j);
                mp_reduce_full(coeff.v, FR.p);
                fr_mul(&t, &coeff, &w[load_u32(m->cols + 4 * (size_t)j)]);
                mp_add(&acc, &acc, &t, &FR);
            }
            mp_to_mont(&out[i], &acc, &FR);
        }
    }
    *bad_row = -1;
    for (size_t i = 0; i < n_out; i++) {
        fe ab;
        fr_mul(&ab, &vals[i], &vals[n_out + i]);
        if (!fe_eq(&ab, &vals[2 * n_out + i])) {
            *bad_row = (long long)i;
            break;
        }
    }
    for (int k = 0; k < 3; k++) {
        for (size_t i = 0; i < n_out; i++) fr_store(outs[k] + 32 * i, &vals[(size_t)k * n_out + i]);
    }
    free(w);
    free(vals);
    return FR_OK;
}
