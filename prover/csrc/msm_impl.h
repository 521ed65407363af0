/* Pippenger bucket MSM, written once for G1 and G2 (included by msm.c with a field binding).
 *
 * The includer defines:
 *   F                    coordinate type (fe for G1, fe2 for G2)
 *   PFX(name)            name prefix (g1_name / g2_name)
 *   F_MUL F_SQR F_ADD F_SUB F_DBL F_NEG F_INV   field ops, F_IS_ZERO F_EQ predicates
 *   F_ONE(x)             set x to 1 (Montgomery form)
 *   F_LOAD(x, bytes)     parse F_BYTES little-endian bytes to Montgomery form; 0 if a
 *                        coordinate is >= q (nothing else is checked)
 *   F_STORE(bytes, x)    Montgomery form -> canonical little-endian bytes
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
