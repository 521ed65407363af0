/* BN254 field arithmetic: F_q (base field), F_r (scalar field), F_q2 = F_q[u]/(u^2 + 1).
 *
 * Elements are 4 little-endian 64-bit limbs in Montgomery form (x * 2^256 mod p). The product is
 * CIOS Montgomery multiplication with unsigned __int128 partial products; both moduli are below
 * 2^254, so every intermediate fits in 4 limbs and one conditional subtraction finishes each
 * operation.
 * Everything is static inline so the modulus constants fold into the callers.
 */
#ifndef ZKXAI_FIELD_H
#define ZKXAI_FIELD_H

#include <stdint.h>
#include <string.h>

#if !defined(__SIZEOF_INT128__)
#error "the zkxai native extension needs a compiler with unsigned __int128"
#endif

typedef unsigned __int128 u128;
typedef uint64_t u64;

typedef struct { u64 v[4]; } fe;          /* one F_q or F_r element */
typedef struct { fe c0, c1; } fe2;        /* c0 + c1 * u in F_q2 */

typedef struct {
    u64 p[4];     /* modulus */
    u64 inv;      /* -p^-1 mod 2^64 */
    u64 r2[4];    /* 2^512 mod p: to_mont(x) = mont_mul(x, r2) */
    u64 one[4];   /* 2^256 mod p: Montgomery form of 1 */
} modulus;

static const modulus FQ = {
    {0x3c208c16d87cfd47ULL, 0x97816a916871ca8dULL, 0xb85045b68181585dULL, 0x30644e72e131a029ULL},
    0x87d20782e4866389ULL,
    {0xf32cfc5b538afa89ULL, 0xb5e71911d44501fbULL, 0x47ab1eff0a417ff6ULL, 0x06d89f71cab8351fULL},
    {0xd35d438dc58f0d9dULL, 0x0a78eb28f5c70b3dULL, 0x666ea36f7879462cULL, 0x0e0a77c19a07df2fULL},
};

static const modulus FR = {
    {0x43e1f593f0000001ULL, 0x2833e84879b97091ULL, 0xb85045b68181585dULL, 0x30644e72e131a029ULL},
    0xc2e1f593efffffffULL,
    {0x1bb8e645ae216da7ULL, 0x53fe3ab1e35c59e3ULL, 0x8c49833d53bb8085ULL, 0x0216d0b17f4e44a5ULL},
    {0xac96341c4ffffffbULL, 0x36fc76959f60cd29ULL, 0x666ea36f7879462eULL, 0x0e0a77c19a07df2fULL},
};

/* ------------------------------------------------------------------ generic modular ops */

/* r = a - p if a >= p (a given as 4 limbs plus a carry limb), else a. Branch-free. */
static inline void mp_reduce_once(u64 r[4], const u64 a[4], u64 carry, const u64 p[4]) {
    u64 s[4];
    u64 borrow = 0;
    for (int i = 0; i < 4; i++) {
        u128 t = (u128)a[i] - p[i] - borrow;
        s[i] = (u64)t;
        borrow = (u64)(t >> 64) & 1;
    }
    /* keep a when the subtraction borrowed and there was no carry out */
    u64 keep = (u64)0 - (borrow & (carry ^ 1));
    for (int i = 0; i < 4; i++) r[i] = (a[i] & keep) | (s[i] & ~keep);
}

/* Montgomery product a * b / 2^256 mod p, inputs and output < p. CIOS with the "no carry"
 * shortcut, valid because the top limb of p is below 2^63 - 1 (true for both BN254 moduli): the
 * running value never needs a fifth limb. */
static inline void mp_mul(fe *r, const fe *a, const fe *b, const modulus *m) {
    const u64 a0 = a->v[0], a1 = a->v[1], a2 = a->v[2], a3 = a->v[3];
    const u64 p0 = m->p[0], p1 = m->p[1], p2 = m->p[2], p3 = m->p[3];
    u64 t0 = 0, t1 = 0, t2 = 0, t3 = 0;
    for (int i = 0; i < 4; i++) {
        const u64 bi = b->v[i];
        u128 x;
        u64 A, C, k;
        x = (u128)a0 * bi + t0;
        t0 = (u64)x;
        A = (u64)(x >> 64);
        k = t0 * m->inv;
        x = (u128)k * p0 + t0;
        C = (u64)(x >> 64);
        x = (u128)a1 * bi + t1 + A;
        t1 = (u64)x;
        A = (u64)(x >> 64);
        x = (u128)k * p1 + t1 + C;
        t0 = (u64)x;
        C = (u64)(x >> 64);
        x = (u128)a2 * bi + t2 + A;
        t2 = (u64)x;
        A = (u64)(x >> 64);
        x = (u128)k * p2 + t2 + C;
        t1 = (u64)x;
        C = (u64)(x >> 64);
        x = (u128)a3 * bi + t3 + A;
        t3 = (u64)x;
        A = (u64)(x >> 64);
        x = (u128)k * p3 + t3 + C;
        t2 = (u64)x;
        C = (u64)(x >> 64);
        t3 = A + C;
    }
    u64 t[4] = {t0, t1, t2, t3};
    mp_reduce_once(r->v, t, 0, m->p);
}

static inline void mp_add(fe *r, const fe *a, const fe *b, const modulus *m) {
    u64 s[4];
    u128 c = 0;
    for (int i = 0; i < 4; i++) {
        c += (u128)a->v[i] + b->v[i];
        s[i] = (u64)c;
        c >>= 64;
    }
    mp_reduce_once(r->v, s, (u64)c, m->p);
}

static inline void mp_sub(fe *r, const fe *a, const fe *b, const modulus *m) {
    u64 s[4];
    u64 borrow = 0;
    for (int i = 0; i < 4; i++) {
        u128 t = (u128)a->v[i] - b->v[i] - borrow;
        s[i] = (u64)t;
        borrow = (u64)(t >> 64) & 1;
    }
    u64 mask = (u64)0 - borrow; /* add p back when it borrowed */
    u128 c = 0;
    for (int i = 0; i < 4; i++) {
        c += (u128)s[i] + (m->p[i] & mask);
        r->v[i] = (u64)c;
        c >>= 64;
    }
}

static inline int fe_is_zero(const fe *a) {
    return (a->v[0] | a->v[1] | a->v[2] | a->v[3]) == 0;
}

static inline int fe_eq(const fe *a, const fe *b) {
    return ((a->v[0] ^ b->v[0]) | (a->v[1] ^ b->v[1]) | (a->v[2] ^ b->v[2]) | (a->v[3] ^ b->v[3])) == 0;
}

/* 1 if the plain 4-limb integer a is below p. */
static inline int mp_less(const u64 a[4], const u64 p[4]) {
    for (int i = 3; i >= 0; i--) {
        if (a[i] != p[i]) return a[i] < p[i];
    }
    return 0;
}

static inline void mp_load_le(u64 out[4], const unsigned char *b) {
    for (int i = 0; i < 4; i++) {
        u64 x = 0;
        for (int j = 7; j >= 0; j--) x = (x << 8) | b[8 * i + j];
        out[i] = x;
    }
}

static inline void mp_store_le(unsigned char *b, const u64 a[4]) {
    for (int i = 0; i < 4; i++) {
        for (int j = 0; j < 8; j++) b[8 * i + j] = (unsigned char)(a[i] >> (8 * j));
    }
}

/* Reduce any 256-bit integer below p (p > 2^253, so at most 7 subtractions). */
static inline void mp_reduce_full(u64 a[4], const u64 p[4]) {
    while (!mp_less(a, p)) mp_reduce_once(a, a, 0, p);
}

static inline void mp_to_mont(fe *r, const fe *a, const modulus *m) {
    fe r2;
    memcpy(r2.v, m->r2, sizeof r2.v);
    mp_mul(r, a, &r2, m);
}

static inline void mp_from_mont(fe *r, const fe *a, const modulus *m) {
    fe one = {{1, 0, 0, 0}};
    mp_mul(r, a, &one, m);
}

static inline void mp_one(fe *r, const modulus *m) { memcpy(r->v, m->one, sizeof r->v); }

/* a^e for a plain 4-limb exponent e (left to right square and multiply), Montgomery in/out. */
static inline void mp_pow(fe *r, const fe *a, const u64 e[4], const modulus *m) {
    fe acc;
    mp_one(&acc, m);
    for (int i = 255; i >= 0; i--) {
        mp_mul(&acc, &acc, &acc, m);
        if ((e[i >> 6] >> (i & 63)) & 1) mp_mul(&acc, &acc, a, m);
    }
    *r = acc;
}

/* Inverse by Fermat (a^(p-2)); 0 maps to 0. */
static inline void mp_inv(fe *r, const fe *a, const modulus *m) {
    u64 e[4];
    memcpy(e, m->p, sizeof e);
    e[0] -= 2; /* p is odd and > 2: no borrow */
    mp_pow(r, a, e, m);
}

/* ------------------------------------------------------------------ F_q shorthands */
static inline void fq_mul(fe *r, const fe *a, const fe *b) { mp_mul(r, a, b, &FQ); }
static inline void fq_sqr(fe *r, const fe *a) { mp_mul(r, a, a, &FQ); }
static inline void fq_add(fe *r, const fe *a, const fe *b) { mp_add(r, a, b, &FQ); }
static inline void fq_sub(fe *r, const fe *a, const fe *b) { mp_sub(r, a, b, &FQ); }
static inline void fq_dbl(fe *r, const fe *a) { mp_add(r, a, a, &FQ); }
static inline void fq_neg(fe *r, const fe *a) {
    fe z = {{0, 0, 0, 0}};
    mp_sub(r, &z, a, &FQ);
}
static inline void fq_inv(fe *r, const fe *a) { mp_inv(r, a, &FQ); }

/* ------------------------------------------------------------------ F_q2 (u^2 = -1) */
static inline void fq2_add(fe2 *r, const fe2 *a, const fe2 *b) {
    fq_add(&r->c0, &a->c0, &b->c0);
    fq_add(&r->c1, &a->c1, &b->c1);
}

static inline void fq2_sub(fe2 *r, const fe2 *a, const fe2 *b) {
    fq_sub(&r->c0, &a->c0, &b->c0);
    fq_sub(&r->c1, &a->c1, &b->c1);
}

static inline void fq2_dbl(fe2 *r, const fe2 *a) { fq2_add(r, a, a); }

static inline void fq2_neg(fe2 *r, const fe2 *a) {
    fq_neg(&r->c0, &a->c0);
    fq_neg(&r->c1, &a->c1);
}

/* Karatsuba: 3 base-field products. */
static inline void fq2_mul(fe2 *r, const fe2 *a, const fe2 *b) {
    fe t0, t1, s0, s1, m;
    fq_mul(&t0, &a->c0, &b->c0);
    fq_mul(&t1, &a->c1, &b->c1);
    fq_add(&s0, &a->c0, &a->c1);
    fq_add(&s1, &b->c0, &b->c1);
    fq_mul(&m, &s0, &s1);
    fq_sub(&r->c0, &t0, &t1);
    fq_sub(&m, &m, &t0);
    fq_sub(&r->c1, &m, &t1);
}

/* (a0 + a1)(a0 - a1) + 2 a0 a1 u: 2 base-field products. */
static inline void fq2_sqr(fe2 *r, const fe2 *a) {
    fe s, d, p;
    fq_add(&s, &a->c0, &a->c1);
    fq_sub(&d, &a->c0, &a->c1);
    fq_mul(&p, &a->c0, &a->c1);
    fq_mul(&r->c0, &s, &d);
    fq_dbl(&r->c1, &p);
}

static inline int fq2_is_zero(const fe2 *a) { return fe_is_zero(&a->c0) && fe_is_zero(&a->c1); }

static inline int fq2_eq(const fe2 *a, const fe2 *b) { return fe_eq(&a->c0, &b->c0) && fe_eq(&a->c1, &b->c1); }

/* (a0 - a1 u) / (a0^2 + a1^2); 0 maps to 0. */
static inline void fq2_inv(fe2 *r, const fe2 *a) {
    fe n0, n1, t;
    fq_sqr(&n0, &a->c0);
    fq_sqr(&n1, &a->c1);
    fq_add(&n0, &n0, &n1);
    fq_inv(&t, &n0);
    fq_mul(&r->c0, &a->c0, &t);
    fq_mul(&t, &a->c1, &t);
    fq_neg(&r->c1, &t);
}

#endif
