/* Native BN254 optimal ate pairing: multi-Miller loop and one final exponentiation (pairing.c). */
#ifndef ZKXAI_PAIRING_H
#define ZKXAI_PAIRING_H

#include <stddef.h>

#define PAIRING_OK 0
#define PAIRING_BAD_COORD 1   /* a coordinate >= q */
#define PAIRING_OFF_CURVE 2   /* a G1 point off y^2 = x^3 + 3, or a G2 point off the twist */
#define PAIRING_NO_MEMORY 3

/* Bytes of one F_q12 value written by bn254_pairing_product: the twelve F_q coefficients, 32-byte
 * little-endian canonical each, in tower order c_ij = a + b u for w^i v^j, i in {0, 1}, j in {0, 1, 2}:
 * c00.a c00.b c01.a c01.b c02.a c02.b c10.a ... c12.b. */
#define PAIRING_GT_BYTES 384

/* prod_k e(P_k, Q_k) for n pairs: g1 holds n * 64 bytes (x || y), g2 n * 128 bytes (x0 x1 y0 y1), all
 * little-endian canonical, all-zero = the identity (its pair contributes 1). Every point is checked
 * (coordinates < q, on the curve / twist) before any pairing work; on failure *bad is the pair index and
 * *bad_g2 says which side. G2 subgroup membership is the caller's business (prover.validate).
 * out (may be NULL): PAIRING_GT_BYTES; *is_one: 1 iff the product is the identity of G_T. */
int bn254_pairing_product(const unsigned char *g1, const unsigned char *g2, size_t n, unsigned char *out,
                          int *is_one, size_t *bad, int *bad_g2);

#endif
