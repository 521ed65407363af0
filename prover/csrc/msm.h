/* Native multi-scalar multiplication on BN254 G1 and G2 (see msm_impl.h for the algorithm). */
#ifndef ZKXAI_MSM_H
#define ZKXAI_MSM_H

#include <stddef.h>

#define MSM_OK 0
#define MSM_BAD_POINT 1
#define MSM_NO_MEMORY 2

#define MSM_MAX_THREADS 64
#define MSM_MIN_WINDOW 2
#define MSM_MAX_WINDOW 16

/* Window size the MSM picks for m terms (non-zero scalar, non-identity point) and `threads`. */
int msm_window_bits(size_t m, int threads);

/* out: 64 bytes (G1) / 128 bytes (G2) of affine x || y (G2: x0 x1 y0 y1), identity = zeros.
 * pts: n * 64 (G1) / n * 128 (G2) bytes; scs: n * 32 bytes; all little-endian. */
int g1_msm(const unsigned char *pts, const unsigned char *scs, size_t n, int threads, int window,
           unsigned char *out, size_t *bad);
int g2_msm(const unsigned char *pts, const unsigned char *scs, size_t n, int threads, int window,
           unsigned char *out, size_t *bad);

/* Fixed-base batch multiplication: out[i] = k_i * base for n scalars (32 bytes LE each, reduced
 * mod r); base and each output are affine (identity = zeros), out holds n * 64 (G1) / n * 128 (G2)
 * bytes. MSM_BAD_POINT when a base coordinate is >= q or the base is off the curve / twist. */
int g1_fixed_base(const unsigned char *base, const unsigned char *scs, size_t n, int threads, unsigned char *out);
int g2_fixed_base(const unsigned char *base, const unsigned char *scs, size_t n, int threads, unsigned char *out);

#endif
