/* Pippenger bucket MSM and fixed-base batch multiplication, written once for G1 and G2
 * (included by msm.c with a field binding).
 *
 * The includer defines:
 *   F                    coordinate type (fe for G1, fe2 for G2)
 *   PFX(name)            name prefix (g1_name / g2_name)
 *   F_MUL F_SQR F_ADD F_SUB F_DBL F_NEG F_INV   field ops, F_IS_ZERO F_EQ predicates
 *   F_ONE(x)             set x to 1 (Montgomery form)
 *   F_LOAD(x, bytes)     parse F_BYTES little-endian bytes to Montgomery form; 0 if a
 *                        coordinate is >= q (nothing else is checked)
 *   F_STORE(bytes, x)    Montgomery form -> canonical little-endian bytes
 *   PFX(on_curve)(x, y)  1 if the affine (x, y) is on the curve / twist (fixed base only)
 *
 * Points: affine {x, y} in, the identity written (0, 0); buckets and sums in XYZZ coordinates
 * (x = X/ZZ, y = Y/ZZZ, ZZ^3 = ZZZ^2, identity ZZ = 0), formulas madd-2008-s, add-2008-s,
 * dbl-2008-s-1 and mdbl-2008-s-1 from the EFD (a = 0), with the equal / opposite cases handled.
 * Scalars are cut into signed c-bit digits in (-2^(c-1), 2^(c-1)], so each window has 2^(c-1)
 * buckets and a negative digit adds (x, -y). Windows are independent and split across threads.
 */

typedef struct { F x, y; } PFX(aff);
typedef struct { F x, y, zz, zzz; } PFX(xyzz);

static inline void PFX(set_inf)(PFX(xyzz) *p) {
    memset(p, 0, sizeof *p);
}

static inline int PFX(is_inf)(const PFX(xyzz) *p) { return F_IS_ZERO(&p->zz); }

/* p = 2 * (x, y) for an affine (x, y) (mdbl-2008-s-1). */
static void PFX(mdbl)(PFX(xyzz) *p, const F *x1, const F *y1) {
    F u, v, w, s, m, t;
    F_DBL(&u, y1);
    F_SQR(&v, &u);
    F_MUL(&w, &u, &v);
    F_MUL(&s, x1, &v);
    F_SQR(&m, x1);
    F_DBL(&t, &m);
    F_ADD(&m, &t, &m); /* 3 x^2 */
    F_SQR(&p->x, &m);
    F_DBL(&t, &s);
    F_SUB(&p->x, &p->x, &t);
    F_SUB(&t, &s, &p->x);
    F_MUL(&t, &m, &t);
    F_MUL(&s, &w, y1);
    F_SUB(&p->y, &t, &s);
    p->zz = v;
    p->zzz = w;
}

/* p = 2p (dbl-2008-s-1). */
static void PFX(dbl)(PFX(xyzz) *p) {
    if (PFX(is_inf)(p)) return;
    F u, v, w, s, m, t, x3;
    F_DBL(&u, &p->y);
    F_SQR(&v, &u);
    F_MUL(&w, &u, &v);
    F_MUL(&s, &p->x, &v);
    F_SQR(&m, &p->x);
    F_DBL(&t, &m);
    F_ADD(&m, &t, &m);
    F_SQR(&x3, &m);
    F_DBL(&t, &s);
    F_SUB(&x3, &x3, &t);
    F_SUB(&t, &s, &x3);
    F_MUL(&t, &m, &t);
    F_MUL(&s, &w, &p->y);
    F_SUB(&p->y, &t, &s);
    p->x = x3;
    F_MUL(&p->zz, &p->zz, &v);
    F_MUL(&p->zzz, &p->zzz, &w);
}

/* p += (x2, y2), the affine point negated when neg (madd-2008-s). (x2, y2) is not the identity. */
static void PFX(madd)(PFX(xyzz) *p, const F *x2, const F *y2_in, int neg) {
    F y2;
    if (neg) F_NEG(&y2, y2_in);
    else y2 = *y2_in;
    if (PFX(is_inf)(p)) {
        p->x = *x2;
        p->y = y2;
        F_ONE(&p->zz);
        F_ONE(&p->zzz);
        return;
    }
    F u2, s2, pp, ppp, r, q, t;
    F_MUL(&u2, x2, &p->zz);
    F_MUL(&s2, &y2, &p->zzz);
    F_SUB(&u2, &u2, &p->x); /* P */
    F_SUB(&r, &s2, &p->y);  /* R */
    if (F_IS_ZERO(&u2)) {
        if (F_IS_ZERO(&r)) PFX(mdbl)(p, x2, &y2);
        else PFX(set_inf)(p);
        return;
    }
    F_SQR(&pp, &u2);
    F_MUL(&ppp, &u2, &pp);
    F_MUL(&q, &p->x, &pp);
    F_SQR(&p->x, &r);
    F_SUB(&p->x, &p->x, &ppp);
    F_DBL(&t, &q);
    F_SUB(&p->x, &p->x, &t);
    F_SUB(&t, &q, &p->x);
    F_MUL(&t, &r, &t);
    F_MUL(&s2, &p->y, &ppp);
    F_SUB(&p->y, &t, &s2);
    F_MUL(&p->zz, &p->zz, &pp);
    F_MUL(&p->zzz, &p->zzz, &ppp);
}

/* p += q (add-2008-s). */
static void PFX(add)(PFX(xyzz) *p, const PFX(xyzz) *q) {
    if (PFX(is_inf)(q)) return;
    if (PFX(is_inf)(p)) {
        *p = *q;
        return;
    }
    F u1, u2, s1, s2, pp, ppp, r, qq, t;
    F_MUL(&u1, &p->x, &q->zz);
    F_MUL(&u2, &q->x, &p->zz);
    F_MUL(&s1, &p->y, &q->zzz);
    F_MUL(&s2, &q->y, &p->zzz);
    F_SUB(&u2, &u2, &u1); /* P */
    F_SUB(&r, &s2, &s1);  /* R */
    if (F_IS_ZERO(&u2)) {
        if (F_IS_ZERO(&r)) PFX(dbl)(p);
        else PFX(set_inf)(p);
        return;
    }
    F_SQR(&pp, &u2);
    F_MUL(&ppp, &u2, &pp);
    F_MUL(&qq, &u1, &pp);
    F_SQR(&p->x, &r);
    F_SUB(&p->x, &p->x, &ppp);
    F_DBL(&t, &qq);
    F_SUB(&p->x, &p->x, &t);
    F_SUB(&t, &qq, &p->x);
    F_MUL(&t, &r, &t);
    F_MUL(&s1, &s1, &ppp);
    F_SUB(&p->y, &t, &s1);
    F_MUL(&p->zz, &p->zz, &q->zz);
    F_MUL(&p->zz, &p->zz, &pp);
    F_MUL(&p->zzz, &p->zzz, &q->zzz);
    F_MUL(&p->zzz, &p->zzz, &ppp);
}

/* Canonical affine bytes of p; the identity is written as all zeros. */
static void PFX(store_affine)(unsigned char *out, const PFX(xyzz) *p) {
    if (PFX(is_inf)(p)) {
        memset(out, 0, 2 * F_BYTES);
        return;
    }
    F izz, izzz, x, y;
    F_INV(&izz, &p->zz);
    F_INV(&izzz, &p->zzz);
    F_MUL(&x, &p->x, &izz);
    F_MUL(&y, &p->y, &izzz);
    F_STORE(out, &x);
    F_STORE(out + F_BYTES, &y);
}

typedef struct {
    const PFX(aff) *pts;
    const int32_t *digits; /* digits[w * m + i] */
    size_t m;
    int c;
    int w_begin, w_end;
    PFX(xyzz) *wres; /* one sum per window */
    int failed;      /* set on allocation failure */
} PFX(job);

/* Bucket-accumulate windows [w_begin, w_end): wres[w] = sum_i digit_w(k_i) * P_i. */
static void *PFX(run_windows)(void *arg) {
    PFX(job) *job = (PFX(job) *)arg;
    size_t half = (size_t)1 << (job->c - 1);
    PFX(xyzz) *buckets = (PFX(xyzz) *)malloc(half * sizeof(PFX(xyzz)));
    if (buckets == NULL) {
        job->failed = 1;
        return NULL;
    }
    for (int w = job->w_begin; w < job->w_end; w++) {
        const int32_t *dig = job->digits + (size_t)w * job->m;
        for (size_t b = 0; b < half; b++) PFX(set_inf)(&buckets[b]);
        for (size_t i = 0; i < job->m; i++) {
            int32_t d = dig[i];
            if (d > 0) PFX(madd)(&buckets[d - 1], &job->pts[i].x, &job->pts[i].y, 0);
            else if (d < 0) PFX(madd)(&buckets[-d - 1], &job->pts[i].x, &job->pts[i].y, 1);
        }
        PFX(xyzz) running, sum;
        PFX(set_inf)(&running);
        PFX(set_inf)(&sum);
        for (size_t b = half; b-- > 0;) {
            PFX(add)(&running, &buckets[b]);
            PFX(add)(&sum, &running);
        }
        job->wres[w] = sum;
    }
    free(buckets);
    return NULL;
}

/* sum_i k_i P_i over n points (2 * F_BYTES bytes each) and n scalars (32 bytes each, any 256-bit
 * value, reduced mod r). window = 0 picks c automatically. Writes 2 * F_BYTES affine bytes to out.
 * Returns MSM_OK, or MSM_BAD_POINT with *bad set to the index of a point with a coordinate >= q,
 * or MSM_NO_MEMORY. Runs without the GIL. */
int PFX(msm)(const unsigned char *pts, const unsigned char *scs, size_t n, int threads,
             int window, unsigned char *out, size_t *bad) {
    PFX(aff) *aff = (PFX(aff) *)malloc((n ? n : 1) * sizeof(PFX(aff)));
    u64(*ks)[4] = (u64(*)[4])malloc((n ? n : 1) * sizeof(u64[4]));
    int32_t *digits = NULL;
    PFX(xyzz) *wres = NULL;
    int rc = MSM_OK;
    if (aff == NULL || ks == NULL) {
        rc = MSM_NO_MEMORY;
        goto done;
    }
    /* load + validate every point, keep the terms with a non-zero scalar and a non-identity point */
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const unsigned char *pb = pts + i * 2 * F_BYTES;
        PFX(aff) a;
        if (!F_LOAD(&a.x, pb) || !F_LOAD(&a.y, pb + F_BYTES)) {
            *bad = i;
            rc = MSM_BAD_POINT;
            goto done;
        }
        u64 k[4];
        mp_load_le(k, scs + 32 * i);
        mp_reduce_full(k, FR.p);
        if ((k[0] | k[1] | k[2] | k[3]) == 0) continue;
        if (F_IS_ZERO(&a.x) && F_IS_ZERO(&a.y)) continue;
        aff[m] = a;
        memcpy(ks[m], k, sizeof k);
        m++;
    }
    int c = window ? window : msm_window_bits(m, threads);
    int n_windows = (SCALAR_BITS + 1 + c - 1) / c;
    digits = (int32_t *)malloc((size_t)n_windows * (m ? m : 1) * sizeof(int32_t));
    wres = (PFX(xyzz) *)malloc((size_t)n_windows * sizeof(PFX(xyzz)));
    if (digits == NULL || wres == NULL) {
        rc = MSM_NO_MEMORY;
        goto done;
    }
    for (size_t i = 0; i < m; i++) signed_digits(ks[i], c, n_windows, digits + i, m);
    int t = threads < 1 ? 1 : threads;
    if (t > n_windows) t = n_windows;
    if (m < MSM_MIN_PER_THREAD) t = 1;
    PFX(job) jobs[MSM_MAX_THREADS];
    pthread_t tids[MSM_MAX_THREADS];
    int started[MSM_MAX_THREADS];
    if (t > MSM_MAX_THREADS) t = MSM_MAX_THREADS;
    for (int j = 0; j < t; j++) {
        jobs[j] = (PFX(job)){aff, digits, m, c, n_windows * j / t, n_windows * (j + 1) / t, wres, 0};
        started[j] = 0;
    }
    for (int j = 1; j < t; j++) started[j] = pthread_create(&tids[j], NULL, PFX(run_windows), &jobs[j]) == 0;
    for (int j = 1; j < t; j++) {
        if (!started[j]) PFX(run_windows)(&jobs[j]); /* could not start a thread: do it here */
    }
    PFX(run_windows)(&jobs[0]);
    for (int j = 1; j < t; j++) {
        if (started[j]) pthread_join(tids[j], NULL);
    }
    for (int j = 0; j < t; j++) {
        if (jobs[j].failed) rc = MSM_NO_MEMORY;
    }
    if (rc != MSM_OK) goto done;
    PFX(xyzz) acc = wres[n_windows - 1];
    for (int w = n_windows - 2; w >= 0; w--) {
        for (int d = 0; d < c; d++) PFX(dbl)(&acc);
        PFX(add)(&acc, &wres[w]);
    }
    PFX(store_affine)(out, &acc);
done:
    free(aff);
    free(ks);
    free(digits);
    free(wres);
    return rc;
}

/* ------------------------------------------------------------------ fixed-base batch mul
 * out[i] = k_i * B for one base B and n scalars (32 bytes each, reduced mod r). Signed c-bit
 * digits over n_windows windows; the table T[w][j] = (j + 1) * 2^(c w) * B (j < 2^(c-1)) is built
 * in XYZZ and converted to affine with one inversion; each product is then <= n_windows mixed
 * additions, and each thread's outputs are converted to affine with one inversion (Montgomery's
 * trick on ZZZ: 1/Z = ZZ / ZZZ, x = X / Z^2, y = Y / ZZZ). Identity entries (possible only for a
 * G2 base outside the r-torsion) are kept as (0, 0) and skipped. */

/* XYZZ -> affine for n points with one inversion; identities become (0, 0). scratch: n Fs. */
static int PFX(batch_affine)(const PFX(xyzz) *in, PFX(aff) *out, size_t n, F *scratch) {
    F acc, inv, t, iz;
    F_ONE(&acc);
    for (size_t i = 0; i < n; i++) {
        scratch[i] = acc;
        if (!PFX(is_inf)(&in[i])) F_MUL(&acc, &acc, &in[i].zzz);
    }
    F_INV(&inv, &acc);
    for (size_t i = n; i-- > 0;) {
        if (PFX(is_inf)(&in[i])) {
            memset(&out[i], 0, sizeof out[i]);
            continue;
        }
        F_MUL(&t, &inv, &scratch[i]);       /* 1 / ZZZ_i */
        F_MUL(&inv, &inv, &in[i].zzz);
        F_MUL(&iz, &t, &in[i].zz);          /* 1 / Z_i */
        F_SQR(&iz, &iz);                    /* 1 / ZZ_i */
        F_MUL(&out[i].x, &in[i].x, &iz);
        F_MUL(&out[i].y, &in[i].y, &t);
    }
    return 0;
}

typedef struct {
    const PFX(aff) *table; /* n_windows * half entries */
    const unsigned char *scs;
    unsigned char *out;
    size_t begin, end;
    int c, n_windows;
    int failed;
} PFX(fb_job);

#ifndef FB_CHUNK
#define FB_CHUNK 1024
#endif

static void *PFX(fb_run)(void *arg) {
    PFX(fb_job) *job = (PFX(fb_job) *)arg;
    size_t half = (size_t)1 << (job->c - 1);
    PFX(xyzz) *acc = (PFX(xyzz) *)malloc(FB_CHUNK * sizeof(PFX(xyzz)));
    PFX(aff) *aff = (PFX(aff) *)malloc(FB_CHUNK * sizeof(PFX(aff)));
    F *scratch = (F *)malloc(FB_CHUNK * sizeof(F));
    int32_t digits[(SCALAR_BITS + 1 + 1) / 2 + 1]; /* n_windows <= 128 (c >= 2) */
    if (acc == NULL || aff == NULL || scratch == NULL) {
        job->failed = 1;
        goto done;
    }
    for (size_t start = job->begin; start < job->end; start += FB_CHUNK) {
        size_t cnt = job->end - start < FB_CHUNK ? job->end - start : FB_CHUNK;
        for (size_t i = 0; i < cnt; i++) {
            u64 k[4];
            mp_load_le(k, job->scs + 32 * (start + i));
            mp_reduce_full(k, FR.p);
            signed_digits(k, job->c, job->n_windows, digits, 1);
            PFX(set_inf)(&acc[i]);
            for (int w = 0; w < job->n_windows; w++) {
                int32_t d = digits[w];
                if (d == 0) continue;
                const PFX(aff) *e = &job->table[(size_t)w * half + (size_t)(d > 0 ? d : -d) - 1];
                if (F_IS_ZERO(&e->x) && F_IS_ZERO(&e->y)) continue;
                PFX(madd)(&acc[i], &e->x, &e->y, d < 0);
            }
        }
        PFX(batch_affine)(acc, aff, cnt, scratch);
        for (size_t i = 0; i < cnt; i++) {
            unsigned char *o = job->out + (start + i) * 2 * F_BYTES;
            F_STORE(o, &aff[i].x);
            F_STORE(o + F_BYTES, &aff[i].y);
        }
    }
done:
    free(acc);
    free(aff);
    free(scratch);
    return NULL;
}

/* base: 2 * F_BYTES affine bytes (identity = zeros); scs: n * 32 bytes; out: n * 2 * F_BYTES.
 * Returns MSM_OK, MSM_BAD_POINT (a coordinate >= q or the base off the curve) or MSM_NO_MEMORY. */
int PFX(fixed_base)(const unsigned char *base, const unsigned char *scs, size_t n, int threads,
                    unsigned char *out) {
    PFX(aff) b;
    if (!F_LOAD(&b.x, base) || !F_LOAD(&b.y, base + F_BYTES)) return MSM_BAD_POINT;
    int is_id = F_IS_ZERO(&b.x) && F_IS_ZERO(&b.y);
    if (!is_id && !PFX(on_curve)(&b.x, &b.y)) return MSM_BAD_POINT;
    if (n == 0) return MSM_OK;
    if (is_id) {
        memset(out, 0, n * 2 * F_BYTES);
        return MSM_OK;
    }
    int t = threads < 1 ? 1 : threads;
    if (t > MSM_MAX_THREADS) t = MSM_MAX_THREADS;
    if (n < (size_t)t * 64) t = (int)(n / 64) > 0 ? (int)(n / 64) : 1;
    /* window: table (~2.5 mixed-add equivalents per entry) vs n_windows mixed adds per scalar */
    int c = 2;
    double best = -1;
    for (int cc = 2; cc <= 14; cc++) {
        int nw = (SCALAR_BITS + 1 + cc - 1) / cc;
        double cost = nw * (2.5 * (double)((size_t)1 << (cc - 1)) + (double)n / t);
        if (best < 0 || cost < best) {
            best = cost;
            c = cc;
        }
    }
    int n_windows = (SCALAR_BITS + 1 + c - 1) / c;
    size_t half = (size_t)1 << (c - 1);
    size_t tsize = (size_t)n_windows * half;
    PFX(xyzz) *tj = (PFX(xyzz) *)malloc(tsize * sizeof(PFX(xyzz)));
    PFX(aff) *table = (PFX(aff) *)malloc(tsize * sizeof(PFX(aff)));
    F *scratch = (F *)malloc(tsize * sizeof(F));
    int rc = MSM_OK;
    if (tj == NULL || table == NULL || scratch == NULL) {
        rc = MSM_NO_MEMORY;
        goto done;
    }
    PFX(xyzz) row_base;
    PFX(set_inf)(&row_base);
    PFX(madd)(&row_base, &b.x, &b.y, 0);
    for (int w = 0; w < n_windows; w++) {
        PFX(xyzz) *row = tj + (size_t)w * half;
        row[0] = row_base;
        for (size_t j = 1; j < half; j++) {
            row[j] = row[j - 1];
            PFX(add)(&row[j], &row_base);
        }
        for (int d = 0; d < c; d++) PFX(dbl)(&row_base);
    }
    PFX(batch_affine)(tj, table, tsize, scratch);
    free(tj);
    tj = NULL;
    PFX(fb_job) jobs[MSM_MAX_THREADS];
    pthread_t tids[MSM_MAX_THREADS];
    int started[MSM_MAX_THREADS];
    for (int j = 0; j < t; j++) {
        jobs[j] = (PFX(fb_job)){table, scs, out, n * j / t, n * (j + 1) / t, c, n_windows, 0};
        started[j] = 0;
    }
    for (int j = 1; j < t; j++) started[j] = pthread_create(&tids[j], NULL, PFX(fb_run), &jobs[j]) == 0;
    for (int j = 1; j < t; j++) {
        if (!started[j]) PFX(fb_run)(&jobs[j]);
    }
    PFX(fb_run)(&jobs[0]);
    for (int j = 1; j < t; j++) {
        if (started[j]) pthread_join(tids[j], NULL);
    }
    for (int j = 0; j < t; j++) {
        if (jobs[j].failed) rc = MSM_NO_MEMORY;
    }
done:
    free(tj);
    free(table);
    free(scratch);
    return rc;
}
