/* BN254 optimal ate pairing (the pairing of prover.verify, natively).
 *
 * Miller loop over the NAF of 6x + 2 (x = 4965661367192848881, the BN parameter), shared by all pairs
 * (one F_q12 squaring per step for the whole product), then the two Frobenius lines with pi(Q) and
 * -pi^2(Q). G2 runs in homogeneous projective coordinates on the D-type twist y^2 = x^3 + 3/xi; the
 * doubling / mixed-addition steps return the line through T (and Q) evaluated at P, up to an F_q2 factor
 * that the final exponentiation removes (formulas of Costello-Lange-Naehrig, as arkworks' ark-ec "bn"
 * model). The untwisting is psi(x, y) = (x w^2, y w^3), py_ecc's, so the values equal py_ecc's pairing.
 *
 * Final exponentiation by (q^12 - 1) / r, exactly py_ecc's exponent:
 *   easy part  f^((q^6 - 1)(q^2 + 1)) = conj(f) / f, then g^(q^2) * g (q^2-Frobenius: one F_q factor per slot);
 *   hard part  ^((q^4 - q^2 + 1) / r), a 761-bit exponent, with a fixed 4-bit window (760 squarings, 190
 *              products): simpler than an addition chain in x and plainly the right exponent (timings:
 *              scripts/bench_verify.py).
 */
#include <stdlib.h>
#include <string.h>

#include "pairing.h"
#include "tower.h"

/* ------------------------------------------------------------------ constants (canonical, little-endian limbs) */
/* b' = 3 / xi, the twist coefficient (as prover.curve.B2). */
static const u64 TWIST_B[2][4] = {
    {0x3267e6dc24a138e5ULL, 0xb5b4c5e559dbefa3ULL, 0x81be18991be06ac3ULL, 0x2b149d40ceb8aaaeULL},
    {0xe4a2bd0685c315d2ULL, 0xa74fa084e52d1852ULL, 0xcd2cafadeed8fdf4ULL, 0x009713b03af0fed4ULL}};
/* 1/2 mod q */
static const u64 TWO_INV[4] = {0x9e10460b6c3e7ea4ULL, 0xcbc0b548b438e546ULL, 0xdc2822db40c0ac2eULL,
                               0x183227397098d014ULL};
/* pi(x, y) = (conj(x) xi^((q-1)/3), conj(y) xi^((q-1)/2)) on the twist */
static const u64 FROB_X[2][4] = {
    {0x99e39557176f553dULL, 0xb78cc310c2c3330cULL, 0x4c0bec3cf559b143ULL, 0x2fb347984f7911f7ULL},
    {0x1665d51c640fcba2ULL, 0x32ae2a1d0b7c9dceULL, 0x4ba4cc8bd75a0794ULL, 0x16c9e55061ebae20ULL}};
static const u64 FROB_Y[2][4] = {
    {0xdc54014671a0135aULL, 0xdbaae0eda9c95998ULL, 0xdc5ec698b6e2f9b9ULL, 0x063cf305489af5dcULL},
    {0x82d37f632623b0e3ULL, 0x21807dc98fa25bd2ULL, 0x0704b5a7ec796f2bULL, 0x07c03cbcac41049aULL}};
/* (w^k)^(q^2) = w^k * gamma^k with gamma = xi^((q^2-1)/6), which lies in F_q; k = 0..5 */
static const u64 FROB2_W[6][4] = {
    {0x0000000000000001ULL, 0x0000000000000000ULL, 0x0000000000000000ULL, 0x0000000000000000ULL},
    {0xe4bd44e5607cfd49ULL, 0xc28f069fbb966e3dULL, 0x5e6dd9e7e0acccb0ULL, 0x30644e72e131a029ULL},
    {0xe4bd44e5607cfd48ULL, 0xc28f069fbb966e3dULL, 0x5e6dd9e7e0acccb0ULL, 0x30644e72e131a029ULL},
    {0x3c208c16d87cfd46ULL, 0x97816a916871ca8dULL, 0xb85045b68181585dULL, 0x30644e72e131a029ULL},
    {0x5763473177fffffeULL, 0xd4f263f1acdb5c4fULL, 0x59e26bcea0d48bacULL, 0x0000000000000000ULL},
    {0x5763473177ffffffULL, 0xd4f263f1acdb5c4fULL, 0x59e26bcea0d48bacULL, 0x0000000000000000ULL}};
/* (q^4 - q^2 + 1) / r, 761 bits */
#define HARD_LIMBS 12
static const u64 HARD_EXP[HARD_LIMBS] = {
    0xe81bb482ccdf42b1ULL, 0x5abf5cc4f49c36d4ULL, 0xf1154e7e1da014fdULL, 0xdcc7b44c87cdbacfULL,
    0xaaa441e3954bcf8aULL, 0x6b887d56d5095f23ULL, 0x79581e16f3fd90c6ULL, 0x3b1b1355d189227dULL,
    0x4e529a5861876f6bULL, 0x6c0eb522d5b12278ULL, 0x331ec15183177fafULL, 0x01baaa710b0759adULL};
/* NAF of 6x + 2 = 29793968203157093288, least significant digit first (66 digits, top digit 1). */
#define ATE_NAF_LEN 66
static const signed char ATE_NAF[ATE_NAF_LEN] = {
    0, 0, 0, 1, 0, 1, 0, -1, 0, 0, -1, 0, 0, 0, 1, 0, 0, -1, 0, -1, 0, 0, 0, 1, 0, -1, 0, 0, 0, 0, -1, 0, 0,
    1, 0, -1, 0, 0, 1, 0, 0, 0, 0, 0, -1, 0, 0, -1, 0, 1, 0, -1, 0, 0, 0, -1, 0, -1, 0, 0, 0, 1, 0, -1, 0, 1};

typedef struct {
    fe2 twist_b, frob_x, frob_y;
    fe two_inv, three;
    fe frob2_w[6];
} pairing_consts;

static void mont(fe *r, const u64 v[4]) {
    fe raw;
    memcpy(raw.v, v, sizeof raw.v);
    mp_to_mont(r, &raw, &FQ);
}

static void mont2(fe2 *r, const u64 v[2][4]) {
    mont(&r->c0, v[0]);
    mont(&r->c1, v[1]);
}

static void load_consts(pairing_consts *c) {
    static const u64 THREE[4] = {3, 0, 0, 0};
    mont2(&c->twist_b, TWIST_B);
    mont2(&c->frob_x, FROB_X);
    mont2(&c->frob_y, FROB_Y);
    mont(&c->two_inv, TWO_INV);
    mont(&c->three, THREE);
    for (int k = 0; k < 6; k++) mont(&c->frob2_w[k], FROB2_W[k]);
}

/* ------------------------------------------------------------------ points */
typedef struct { fe x, y; int inf; } g1a;
typedef struct { fe2 x, y; int inf; } g2a;
typedef struct { fe2 x, y, z; } g2p;   /* homogeneous projective: (X/Z, Y/Z) */

static int load_fq(fe *r, const unsigned char *b) {
    fe raw;
    mp_load_le(raw.v, b);
    if (!mp_less(raw.v, FQ.p)) return 0;
    mp_to_mont(r, &raw, &FQ);
    return 1;
}

static int all_zero(const unsigned char *b, size_t n) {
    unsigned char acc = 0;
    for (size_t i = 0; i < n; i++) acc |= b[i];
    return acc == 0;
}

static int load_g1(g1a *p, const unsigned char *b, const pairing_consts *c) {
    if (!load_fq(&p->x, b) || !load_fq(&p->y, b + 32)) return PAIRING_BAD_COORD;
    p->inf = all_zero(b, 64);
    if (p->inf) return PAIRING_OK;
    fe l, r, three = c->three;
    fq_sqr(&l, &p->y);
    fq_sqr(&r, &p->x);
    fq_mul(&r, &r, &p->x);
    fq_add(&r, &r, &three);
    return fe_eq(&l, &r) ? PAIRING_OK : PAIRING_OFF_CURVE;
}

static int load_g2(g2a *p, const unsigned char *b, const pairing_consts *c) {
    if (!load_fq(&p->x.c0, b) || !load_fq(&p->x.c1, b + 32) || !load_fq(&p->y.c0, b + 64) ||
        !load_fq(&p->y.c1, b + 96))
        return PAIRING_BAD_COORD;
    p->inf = all_zero(b, 128);
    if (p->inf) return PAIRING_OK;
    fe2 l, r;
    fq2_sqr(&l, &p->y);
    fq2_sqr(&r, &p->x);
    fq2_mul(&r, &r, &p->x);
    fq2_add(&r, &r, &c->twist_b);
    return fq2_eq(&l, &r) ? PAIRING_OK : PAIRING_OFF_CURVE;
}

/* The q-power Frobenius of E'(F_q2) (untwist, Frobenius, twist). */
static void g2_frobenius(g2a *r, const g2a *p, const pairing_consts *c) {
    fe2 t;
    fq2_conj(&t, &p->x);
    fq2_mul(&r->x, &t, &c->frob_x);
    fq2_conj(&t, &p->y);
    fq2_mul(&r->y, &t, &c->frob_y);
    r->inf = p->inf;
}

/* One line value l0 + (l1 + l2 v) w, where l0 and l1 still need the factors y_P and x_P. */
typedef struct { fe2 l0, l1, l2; } line;

/* T <- 2T; the tangent at T. */
static void g2_double_step(g2p *t, line *ln, const pairing_consts *c) {
    fe2 a, b, cc, e, f, g, h, i, j, e2, s;
    fq2_mul(&a, &t->x, &t->y);
    fq2_mul_fq(&a, &a, &c->two_inv);           /* A = XY/2 */
    fq2_sqr(&b, &t->y);                        /* B = Y^2 */
    fq2_sqr(&cc, &t->z);                       /* C = Z^2 */
    fq2_dbl(&e, &cc);
    fq2_add(&e, &e, &cc);
    fq2_mul(&e, &e, &c->twist_b);              /* E = 3 b' C */
    fq2_dbl(&f, &e);
    fq2_add(&f, &f, &e);                       /* F = 3E */
    fq2_add(&g, &b, &f);
    fq2_mul_fq(&g, &g, &c->two_inv);           /* G = (B + F)/2 */
    fq2_add(&h, &t->y, &t->z);
    fq2_sqr(&h, &h);
    fq2_add(&s, &b, &cc);
    fq2_sub(&h, &h, &s);                       /* H = (Y + Z)^2 - B - C = 2YZ */
    fq2_sub(&i, &e, &b);                       /* I = E - B */
    fq2_sqr(&j, &t->x);                        /* J = X^2 */
    fq2_sqr(&e2, &e);
    fq2_sub(&s, &b, &f);
    fq2_mul(&t->x, &a, &s);                    /* X3 = A (B - F) */
    fq2_sqr(&t->y, &g);
    fq2_dbl(&s, &e2);
    fq2_add(&s, &s, &e2);
    fq2_sub(&t->y, &t->y, &s);                 /* Y3 = G^2 - 3 E^2 */
    fq2_mul(&t->z, &b, &h);                    /* Z3 = B H */
    fq2_neg(&ln->l0, &h);                      /* -H y_P */
    fq2_dbl(&ln->l1, &j);
    fq2_add(&ln->l1, &ln->l1, &j);             /* 3J x_P */
    ln->l2 = i;                                /* I */
}

/* T <- T + Q (Q affine); the chord through T and Q. */
static void g2_add_step(g2p *t, line *ln, const fe2 *qx, const fe2 *qy) {
    fe2 theta, lambda, cc, d, e, f, g, h, s;
    fq2_mul(&s, qy, &t->z);
    fq2_sub(&theta, &t->y, &s);                /* theta = Y - y_Q Z */
    fq2_mul(&s, qx, &t->z);
    fq2_sub(&lambda, &t->x, &s);               /* lambda = X - x_Q Z */
    fq2_sqr(&cc, &theta);
    fq2_sqr(&d, &lambda);
    fq2_mul(&e, &lambda, &d);                  /* E = lambda^3 */
    fq2_mul(&f, &t->z, &cc);                   /* F = Z theta^2 */
    fq2_mul(&g, &t->x, &d);                    /* G = X lambda^2 */
    fq2_add(&h, &e, &f);
    fq2_dbl(&s, &g);
    fq2_sub(&h, &h, &s);                       /* H = E + F - 2G */
    fq2_mul(&t->x, &lambda, &h);               /* X3 = lambda H */
    fq2_sub(&s, &g, &h);
    fq2_mul(&s, &theta, &s);
    fq2_mul(&g, &e, &t->y);
    fq2_sub(&t->y, &s, &g);                    /* Y3 = theta (G - H) - E Y */
    fq2_mul(&t->z, &t->z, &e);                 /* Z3 = Z E */
    ln->l0 = lambda;                           /* lambda y_P */
    fq2_neg(&ln->l1, &theta);                  /* -theta x_P */
    fq2_mul(&s, &theta, qx);
    fq2_mul(&d, &lambda, qy);
    fq2_sub(&ln->l2, &s, &d);                  /* theta x_Q - lambda y_Q */
}

static void apply_line(fe12 *f, const line *ln, const g1a *p) {
    fe2 l0, l1;
    fq2_mul_fq(&l0, &ln->l0, &p->y);
    fq2_mul_fq(&l1, &ln->l1, &p->x);
    fq12_mul_line(f, &l0, &l1, &ln->l2);
}

/* f = prod_k f_{6x+2, Q_k}(P_k) * l_{T_k, pi(Q_k)}(P_k) * l_{T_k', -pi^2(Q_k)}(P_k), over the m pairs
 * (no identity among them). */
static void multi_miller_loop(fe12 *f, const g1a *ps, const g2a *qs, g2p *ts, size_t m, const pairing_consts *c) {
    line ln;
    fq12_set_one(f);
    for (size_t k = 0; k < m; k++) {
        ts[k].x = qs[k].x;
        ts[k].y = qs[k].y;
        fq2_set_one(&ts[k].z);
    }
    for (int i = ATE_NAF_LEN - 2; i >= 0; i--) {
        fq12_sqr(f, f);
        for (size_t k = 0; k < m; k++) {
            g2_double_step(&ts[k], &ln, c);
            apply_line(f, &ln, &ps[k]);
        }
        if (ATE_NAF[i] != 0) {
            for (size_t k = 0; k < m; k++) {
                fe2 qy = qs[k].y;
                if (ATE_NAF[i] < 0) fq2_neg(&qy, &qy);
                g2_add_step(&ts[k], &ln, &qs[k].x, &qy);
                apply_line(f, &ln, &ps[k]);
            }
        }
    }
    for (size_t k = 0; k < m; k++) {
        g2a q1, q2;
        g2_frobenius(&q1, &qs[k], c);
        g2_frobenius(&q2, &q1, c);
        fq2_neg(&q2.y, &q2.y);
        g2_add_step(&ts[k], &ln, &q1.x, &q1.y);
        apply_line(f, &ln, &ps[k]);
        g2_add_step(&ts[k], &ln, &q2.x, &q2.y);
        apply_line(f, &ln, &ps[k]);
    }
}

static void fq12_frobenius2(fe12 *r, const fe12 *a, const pairing_consts *c) {
    *r = *a;
    for (int k = 1; k < 6; k++) {
        fe2 *s = fq12_slot(r, k);
        fq2_mul_fq(s, s, &c->frob2_w[k]);
    }
}

/* f^((q^12 - 1) / r). A zero f (only from degenerate input) stays zero, never 1. */
static void final_exponentiation(fe12 *r, const fe12 *f, const pairing_consts *c) {
    fe12 g, t;
    fq12_inv(&t, f);
    fq12_conj(&g, f);
    fq12_mul(&g, &g, &t);                      /* f^(q^6 - 1) */
    fq12_frobenius2(&t, &g, c);
    fq12_mul(&g, &t, &g);                      /* ^(q^2 + 1) */
    fe12 table[16];                            /* g^0 .. g^15 */
    fq12_set_one(&table[0]);
    table[1] = g;
    for (int k = 2; k < 16; k++) fq12_mul(&table[k], &table[k - 1], &g);
    fe12 acc;
    fq12_set_one(&acc);
    for (int w = HARD_LIMBS * 16 - 1; w >= 0; w--) {
        int digit = (int)((HARD_EXP[w >> 4] >> (4 * (w & 15))) & 15);
        for (int s = 0; s < 4; s++) fq12_sqr(&acc, &acc);
        if (digit) fq12_mul(&acc, &acc, &table[digit]);
    }
    *r = acc;
}

static void store_gt(unsigned char *out, const fe12 *a) {
    const fe6 *halves[2] = {&a->c0, &a->c1};
    for (int i = 0; i < 2; i++) {
        const fe2 *cs[3] = {&halves[i]->c0, &halves[i]->c1, &halves[i]->c2};
        for (int j = 0; j < 3; j++) {
            fe raw;
            mp_from_mont(&raw, &cs[j]->c0, &FQ);
            mp_store_le(out + 64 * (3 * i + j), raw.v);
            mp_from_mont(&raw, &cs[j]->c1, &FQ);
            mp_store_le(out + 64 * (3 * i + j) + 32, raw.v);
        }
    }
}

int bn254_pairing_product(const unsigned char *g1, const unsigned char *g2, size_t n, unsigned char *out,
                          int *is_one, size_t *bad, int *bad_g2) {
    pairing_consts c;
    load_consts(&c);
    size_t cap = n ? n : 1;
    g1a *ps = malloc(cap * sizeof *ps);
    g2a *qs = malloc(cap * sizeof *qs);
    g2p *ts = malloc(cap * sizeof *ts);
    int rc = PAIRING_OK;
    if (ps == NULL || qs == NULL || ts == NULL) {
        rc = PAIRING_NO_MEMORY;
        goto out;
    }
    size_t m = 0; /* pairs with no identity */
    for (size_t k = 0; k < n; k++) {
        int r1 = load_g1(&ps[m], g1 + 64 * k, &c);
        if (r1 != PAIRING_OK) {
            rc = r1;
            *bad = k;
            *bad_g2 = 0;
            goto out;
        }
        int r2 = load_g2(&qs[m], g2 + 128 * k, &c);
        if (r2 != PAIRING_OK) {
            rc = r2;
            *bad = k;
            *bad_g2 = 1;
            goto out;
        }
        if (!ps[m].inf && !qs[m].inf) m++;
    }
    fe12 f, e;
    multi_miller_loop(&f, ps, qs, ts, m, &c);
    final_exponentiation(&e, &f, &c);
    *is_one = fq12_is_one(&e);
    if (out != NULL) store_gt(out, &e);
out:
    free(ps);
    free(qs);
    free(ts);
    return rc;
}
