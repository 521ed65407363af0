/* BN254 extension tower above field.h's F_q2:
 *
 *   F_q6  = F_q2[v] / (v^3 - xi),  xi = 9 + u
 *   F_q12 = F_q6[w] / (w^2 - v)
 *
 * (the tower of ffjavascript / arkworks / gnark). An F_q12 element is a0 + a1 w with a0, a1 in F_q6, and
 * an F_q6 element is c0 + c1 v + c2 v^2; the coefficient of v^j w^i therefore sits at w^(2j + i).
 * All values are in Montgomery form, as in field.h; everything is static inline.
 */
#ifndef ZKXAI_TOWER_H
#define ZKXAI_TOWER_H

#include "field.h"

typedef struct { fe2 c0, c1, c2; } fe6;   /* c0 + c1 v + c2 v^2 */
typedef struct { fe6 c0, c1; } fe12;      /* c0 + c1 w */

/* ------------------------------------------------------------------ F_q2 helpers */
/* a * xi = a * (9 + u) = (9 a0 - a1) + (9 a1 + a0) u */
static inline void fq2_mul_xi(fe2 *r, const fe2 *a) {
    fe2 t;
    fe2 a8;
    fq2_dbl(&a8, a);
    fq2_dbl(&a8, &a8);
    fq2_dbl(&a8, &a8);          /* 8a */
    fq2_add(&t, &a8, a);        /* 9a */
    fe c0, c1;
    fq_sub(&c0, &t.c0, &a->c1);
    fq_add(&c1, &t.c1, &a->c0);
    r->c0 = c0;
    r->c1 = c1;
}

static inline void fq2_mul_fq(fe2 *r, const fe2 *a, const fe *b) {
    fq_mul(&r->c0, &a->c0, b);
    fq_mul(&r->c1, &a->c1, b);
}

/* a^q = conjugate (u^q = -u) */
static inline void fq2_conj(fe2 *r, const fe2 *a) {
    r->c0 = a->c0;
    fq_neg(&r->c1, &a->c1);
}

static inline void fq2_set_one(fe2 *r) {
    mp_one(&r->c0, &FQ);
    memset(&r->c1, 0, sizeof r->c1);
}

/* ------------------------------------------------------------------ F_q6 */
static inline void fq6_add(fe6 *r, const fe6 *a, const fe6 *b) {
    fq2_add(&r->c0, &a->c0, &b->c0);
    fq2_add(&r->c1, &a->c1, &b->c1);
    fq2_add(&r->c2, &a->c2, &b->c2);
}

static inline void fq6_sub(fe6 *r, const fe6 *a, const fe6 *b) {
    fq2_sub(&r->c0, &a->c0, &b->c0);
    fq2_sub(&r->c1, &a->c1, &b->c1);
    fq2_sub(&r->c2, &a->c2, &b->c2);
}

static inline void fq6_neg(fe6 *r, const fe6 *a) {
    fq2_neg(&r->c0, &a->c0);
    fq2_neg(&r->c1, &a->c1);
    fq2_neg(&r->c2, &a->c2);
}

/* a * v = xi a2 + a0 v + a1 v^2 */
static inline void fq6_mul_v(fe6 *r, const fe6 *a) {
    fe2 t;
    fq2_mul_xi(&t, &a->c2);
    r->c2 = a->c1;
    r->c1 = a->c0;
    r->c0 = t;
}

/* Karatsuba over the cubic extension: 6 F_q2 products. */
static inline void fq6_mul(fe6 *r, const fe6 *a, const fe6 *b) {
    fe2 t0, t1, t2, s, u, x0, x1, x2;
    fq2_mul(&t0, &a->c0, &b->c0);
    fq2_mul(&t1, &a->c1, &b->c1);
    fq2_mul(&t2, &a->c2, &b->c2);
    /* x0 = t0 + xi ((a1 + a2)(b1 + b2) - t1 - t2) */
    fq2_add(&s, &a->c1, &a->c2);
    fq2_add(&u, &b->c1, &b->c2);
    fq2_mul(&x0, &s, &u);
    fq2_sub(&x0, &x0, &t1);
    fq2_sub(&x0, &x0, &t2);
    fq2_mul_xi(&x0, &x0);
    fq2_add(&x0, &x0, &t0);
    /* x1 = (a0 + a1)(b0 + b1) - t0 - t1 + xi t2 */
    fq2_add(&s, &a->c0, &a->c1);
    fq2_add(&u, &b->c0, &b->c1);
    fq2_mul(&x1, &s, &u);
    fq2_sub(&x1, &x1, &t0);
    fq2_sub(&x1, &x1, &t1);
    fq2_mul_xi(&u, &t2);
    fq2_add(&x1, &x1, &u);
    /* x2 = (a0 + a2)(b0 + b2) - t0 - t2 + t1 */
    fq2_add(&s, &a->c0, &a->c2);
    fq2_add(&u, &b->c0, &b->c2);
    fq2_mul(&x2, &s, &u);
    fq2_sub(&x2, &x2, &t0);
    fq2_sub(&x2, &x2, &t2);
    fq2_add(&x2, &x2, &t1);
    r->c0 = x0;
    r->c1 = x1;
    r->c2 = x2;
}

/* a * (b0 + b1 v): 5 F_q2 products (the sparse factor of a line function). */
static inline void fq6_mul_01(fe6 *r, const fe6 *a, const fe2 *b0, const fe2 *b1) {
    fe2 t0, t1, s, u, x0, x1, x2;
    fq2_mul(&t0, &a->c0, b0);
    fq2_mul(&t1, &a->c1, b1);
    /* x0 = t0 + xi ((a1 + a2) b1 - t1) */
    fq2_add(&s, &a->c1, &a->c2);
    fq2_mul(&x0, &s, b1);
    fq2_sub(&x0, &x0, &t1);
    fq2_mul_xi(&x0, &x0);
    fq2_add(&x0, &x0, &t0);
    /* x1 = (a0 + a1)(b0 + b1) - t0 - t1 */
    fq2_add(&s, &a->c0, &a->c1);
    fq2_add(&u, b0, b1);
    fq2_mul(&x1, &s, &u);
    fq2_sub(&x1, &x1, &t0);
    fq2_sub(&x1, &x1, &t1);
    /* x2 = (a0 + a2) b0 - t0 + t1 */
    fq2_add(&s, &a->c0, &a->c2);
    fq2_mul(&x2, &s, b0);
    fq2_sub(&x2, &x2, &t0);
    fq2_add(&x2, &x2, &t1);
    r->c0 = x0;
    r->c1 = x1;
    r->c2 = x2;
}

static inline void fq6_mul_fq2(fe6 *r, const fe6 *a, const fe2 *b) {
    fq2_mul(&r->c0, &a->c0, b);
    fq2_mul(&r->c1, &a->c1, b);
    fq2_mul(&r->c2, &a->c2, b);
}

/* 1 / a via the adjugate: one F_q inversion. 0 maps to 0. */
static inline void fq6_inv(fe6 *r, const fe6 *a) {
    fe2 c0, c1, c2, t, s;
    fq2_sqr(&c0, &a->c0);            /* c0 = a0^2 - xi a1 a2 */
    fq2_mul(&t, &a->c1, &a->c2);
    fq2_mul_xi(&t, &t);
    fq2_sub(&c0, &c0, &t);
    fq2_sqr(&c1, &a->c2);            /* c1 = xi a2^2 - a0 a1 */
    fq2_mul_xi(&c1, &c1);
    fq2_mul(&t, &a->c0, &a->c1);
    fq2_sub(&c1, &c1, &t);
    fq2_sqr(&c2, &a->c1);            /* c2 = a1^2 - a0 a2 */
    fq2_mul(&t, &a->c0, &a->c2);
    fq2_sub(&c2, &c2, &t);
    fq2_mul(&t, &a->c2, &c1);        /* norm = a0 c0 + xi (a2 c1 + a1 c2) */
    fq2_mul(&s, &a->c1, &c2);
    fq2_add(&t, &t, &s);
    fq2_mul_xi(&t, &t);
    fq2_mul(&s, &a->c0, &c0);
    fq2_add(&t, &t, &s);
    fq2_inv(&t, &t);
    fq2_mul(&r->c0, &c0, &t);
    fq2_mul(&r->c1, &c1, &t);
    fq2_mul(&r->c2, &c2, &t);
}

/* ------------------------------------------------------------------ F_q12 */
static inline void fq12_set_one(fe12 *r) {
    memset(r, 0, sizeof *r);
    fq2_set_one(&r->c0.c0);
}

static inline int fq12_is_one(const fe12 *a) {
    fe12 one;
    fq12_set_one(&one);
    const fe2 *x = &a->c0.c0, *y = &one.c0.c0;
    for (int i = 0; i < 6; i++) {
        if (!fq2_eq(&x[i], &y[i])) return 0;
    }
    return 1;
}

static inline void fq12_mul(fe12 *r, const fe12 *a, const fe12 *b) {
    fe6 t0, t1, s, u, x0, x1;
    fq6_mul(&t0, &a->c0, &b->c0);
    fq6_mul(&t1, &a->c1, &b->c1);
    fq6_add(&s, &a->c0, &a->c1);
    fq6_add(&u, &b->c0, &b->c1);
    fq6_mul(&x1, &s, &u);
    fq6_sub(&x1, &x1, &t0);
    fq6_sub(&x1, &x1, &t1);
    fq6_mul_v(&x0, &t1);
    fq6_add(&x0, &x0, &t0);
    r->c0 = x0;
    r->c1 = x1;
}

/* Complex squaring: (a0 + a1 w)^2 = (a0 + a1)(a0 + v a1) - ab - v ab + 2 ab w, ab = a0 a1. */
static inline void fq12_sqr(fe12 *r, const fe12 *a) {
    fe6 ab, s, t, x0;
    fq6_mul(&ab, &a->c0, &a->c1);
    fq6_add(&s, &a->c0, &a->c1);
    fq6_mul_v(&t, &a->c1);
    fq6_add(&t, &t, &a->c0);
    fq6_mul(&x0, &s, &t);
    fq6_sub(&x0, &x0, &ab);
    fq6_mul_v(&t, &ab);
    fq6_sub(&x0, &x0, &t);
    r->c0 = x0;
    fq6_add(&r->c1, &ab, &ab);
}

/* f * (l0 + (l1 + l2 v) w): the sparse product with a line value (l0 at 1, l1 at w, l2 at v w). */
static inline void fq12_mul_line(fe12 *f, const fe2 *l0, const fe2 *l1, const fe2 *l2) {
    fe6 t0, t1, s, x1;
    fe2 z;
    fq6_mul_fq2(&t0, &f->c0, l0);
    fq6_mul_01(&t1, &f->c1, l1, l2);
    fq6_add(&s, &f->c0, &f->c1);
    fq2_add(&z, l0, l1);
    fq6_mul_01(&x1, &s, &z, l2);
    fq6_sub(&x1, &x1, &t0);
    fq6_sub(&x1, &x1, &t1);
    fq6_mul_v(&s, &t1);
    fq6_add(&f->c0, &s, &t0);
    f->c1 = x1;
}

/* a^(q^6) = a0 - a1 w (w^(q^6) = -w). */
static inline void fq12_conj(fe12 *r, const fe12 *a) {
    r->c0 = a->c0;
    fq6_neg(&r->c1, &a->c1);
}

/* (a0 - a1 w) / (a0^2 - v a1^2); 0 maps to 0. */
static inline void fq12_inv(fe12 *r, const fe12 *a) {
    fe6 t0, t1;
    fq6_mul(&t0, &a->c0, &a->c0);
    fq6_mul(&t1, &a->c1, &a->c1);
    fq6_mul_v(&t1, &t1);
    fq6_sub(&t0, &t0, &t1);
    fq6_inv(&t0, &t0);
    fq6_mul(&r->c0, &a->c0, &t0);
    fq6_mul(&t1, &a->c1, &t0);
    fq6_neg(&r->c1, &t1);
}

/* The six F_q2 coefficients in w-power order: slot k holds the coefficient of w^k (v^j w^i, k = 2j + i). */
static inline fe2 *fq12_slot(fe12 *a, int k) {
    fe6 *half = (k & 1) ? &a->c1 : &a->c0;
    switch (k >> 1) {
        case 0: return &half->c0;
        case 1: return &half->c1;
        default: return &half->c2;
    }
}

#endif
