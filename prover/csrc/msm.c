/* G1 and G2 instances of the Pippenger MSM template (msm_impl.h) plus the shared scalar code:
 * window choice and signed-digit recoding. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "field.h"
#include "msm.h"

#define SCALAR_BITS 254
/* Below this many terms the MSM stays on one thread (thread start-up would dominate). */
#define MSM_MIN_PER_THREAD 256

/* Estimated cost per thread: each window costs one mixed addition per term plus two full
 * additions per bucket (a full addition ~ 1.5 mixed ones); windows are shared out evenly. */
int msm_window_bits(size_t m, int threads) {
    int best_c = MSM_MIN_WINDOW;
    double best = -1;
    for (int c = MSM_MIN_WINDOW; c <= MSM_MAX_WINDOW; c++) {
        int windows = (SCALAR_BITS + 1 + c - 1) / c;
        int t = threads < 1 ? 1 : threads;
        if (m < MSM_MIN_PER_THREAD) t = 1;
        if (t > windows) t = windows;
        int per_thread = (windows + t - 1) / t;
        double cost = per_thread * ((double)m + 3.0 * (double)((size_t)1 << (c - 1)));
        if (best < 0 || cost < best) {
            best = cost;
            best_c = c;
        }
    }
    return best_c;
}

/* Digits d_w in (-2^(c-1), 2^(c-1)] with k = sum_w d_w 2^(c w), written to out[w * stride].
 * k < r < 2^254 and c * n_windows >= 255, so the last carry is always absorbed. */
static void signed_digits(const u64 k[4], int c, int n_windows, int32_t *out, size_t stride) {
    int32_t half = (int32_t)1 << (c - 1);
    int32_t full = (int32_t)1 << c;
    int32_t carry = 0;
    for (int w = 0; w < n_windows; w++) {
        int pos = w * c;
        int limb = pos >> 6, off = pos & 63;
        u64 bits = 0;
        if (limb < 4) {
            bits = k[limb] >> off;
            if (off + c > 64 && limb + 1 < 4) bits |= k[limb + 1] << (64 - off);
        }
        int32_t d = (int32_t)(bits & (u64)(full - 1)) + carry;
        carry = 0;
        if (d > half) {
            d -= full;
            carry = 1;
        }
        out[(size_t)w * stride] = d;
    }
}

/* ------------------------------------------------------------------ G1 over F_q */
static inline int g1_load_fe(fe *x, const unsigned char *b) {
    fe raw;
    mp_load_le(raw.v, b);
    if (!mp_less(raw.v, FQ.p)) return 0;
    mp_to_mont(x, &raw, &FQ);
    return 1;
}

static inline void g1_store_fe(unsigned char *b, const fe *x) {
    fe raw;
    mp_from_mont(&raw, x, &FQ);
    mp_store_le(b, raw.v);
}

static inline void g1_one(fe *x) { mp_one(x, &FQ); }

/* y^2 == x^3 + 3 (Montgomery inputs). */
static int g1_on_curve(const fe *x, const fe *y) {
    fe l, r, b, raw = {{3, 0, 0, 0}};
    mp_to_mont(&b, &raw, &FQ);
    fq_sqr(&l, y);
    fq_sqr(&r, x);
    fq_mul(&r, &r, x);
    fq_add(&r, &r, &b);
    return fe_eq(&l, &r);
}

#define F fe
#define PFX(name) g1_##name
#define F_BYTES 32
#define F_MUL fq_mul
#define F_SQR fq_sqr
#define F_ADD fq_add
#define F_SUB fq_sub
#define F_DBL fq_dbl
#define F_NEG fq_neg
#define F_INV fq_inv
#define F_IS_ZERO fe_is_zero
#define F_EQ fe_eq
#define F_ONE g1_one
#define F_LOAD g1_load_fe
#define F_STORE g1_store_fe
#include "msm_impl.h"
#undef F
#undef PFX
#undef F_BYTES
#undef F_MUL
#undef F_SQR
#undef F_ADD
#undef F_SUB
#undef F_DBL
#undef F_NEG
#undef F_INV
#undef F_IS_ZERO
#undef F_EQ
#undef F_ONE
#undef F_LOAD
#undef F_STORE

/* ------------------------------------------------------------------ G2 over F_q2 */
static inline int g2_load_fe(fe2 *x, const unsigned char *b) {
    return g1_load_fe(&x->c0, b) && g1_load_fe(&x->c1, b + 32);
}

static inline void g2_store_fe(unsigned char *b, const fe2 *x) {
    g1_store_fe(b, &x->c0);
    g1_store_fe(b + 32, &x->c1);
}

static inline void g2_one(fe2 *x) {
    mp_one(&x->c0, &FQ);
    memset(&x->c1, 0, sizeof x->c1);
}

/* y^2 == x^3 + 3 / (9 + u) on the twist (Montgomery inputs; b' as prover.curve.B2). */
static int g2_on_curve(const fe2 *x, const fe2 *y) {
    static const u64 B2_C0[4] = {0x3267e6dc24a138e5ULL, 0xb5b4c5e559dbefa3ULL, 0x81be18991be06ac3ULL,
                                 0x2b149d40ceb8aaaeULL};
    static const u64 B2_C1[4] = {0xe4a2bd0685c315d2ULL, 0xa74fa084e52d1852ULL, 0xcd2cafadeed8fdf4ULL,
                                 0x009713b03af0fed4ULL};
    fe raw;
    fe2 b, l, r;
    memcpy(raw.v, B2_C0, sizeof raw.v);
    mp_to_mont(&b.c0, &raw, &FQ);
    memcpy(raw.v, B2_C1, sizeof raw.v);
    mp_to_mont(&b.c1, &raw, &FQ);
    fq2_sqr(&l, y);
    fq2_sqr(&r, x);
    fq2_mul(&r, &r, x);
    fq2_add(&r, &r, &b);
    return fq2_eq(&l, &r);
}

#define F fe2
#define PFX(name) g2_##name
#define F_BYTES 64
#define F_MUL fq2_mul
#define F_SQR fq2_sqr
#define F_ADD fq2_add
#define F_SUB fq2_sub
#define F_DBL fq2_dbl
#define F_NEG fq2_neg
#define F_INV fq2_inv
#define F_IS_ZERO fq2_is_zero
#define F_EQ fq2_eq
#define F_ONE g2_one
#define F_LOAD g2_load_fe
#define F_STORE g2_store_fe
#include "msm_impl.h"
