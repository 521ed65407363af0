/* Scalar-field (F_r) kernels of the QAP witness map: radix-2 NTTs, the pointwise A*B - C and the
 * sparse R1CS row evaluation. Byte buffers hold 32-byte little-endian elements; inputs are
 * reduced mod r (any 256-bit value is accepted), outputs are canonical. */
#ifndef ZKXAI_FR_OPS_H
#define ZKXAI_FR_OPS_H

#include <stddef.h>
#include <stdint.h>

#define FR_OK 0
#define FR_NO_MEMORY 2
#define FR_BAD_ROWS 3   /* row pointers not monotone / not matching the column count */
#define FR_BAD_WIRE 4   /* a column index >= the number of witness values */

/* out[i] = post_c * post_g^i * NTT_omega(a)[i] with a[i] = in[i] * pre_c * pre_g^i; n a power of
 * two (the caller checks). NULL scale factors mean 1. */
int fr_ntt(const unsigned char *in, unsigned char *out, size_t n, const unsigned char *omega,
           const unsigned char *pre_c, const unsigned char *pre_g, const unsigned char *post_c,
           const unsigned char *post_g);

/* out[i] = (a[i] * b[i] - c[i]) * factor. */
int fr_abc(const unsigned char *a, const unsigned char *b, const unsigned char *c,
           const unsigned char *factor, unsigned char *out, size_t n);

/* One sparse matrix in CSR form: row i holds coefficients coeffs[rowptr[i] .. rowptr[i+1]) on
 * wires cols[...]; rowptr and cols are little-endian uint32. */
typedef struct {
    const unsigned char *rowptr;
    const unsigned char *cols;
    const unsigned char *coeffs;
    size_t rows;
    size_t nnz;
} fr_csr;

/* out_m[i] = <M_i, witness> for i < rows (zero up to n_out), for M = A, B, C; *bad_row is the
 * first row with a*b != c, or -1. */
int fr_r1cs_rows(const fr_csr mats[3], const unsigned char *witness, size_t n_wires, size_t n_out,
                 unsigned char *outs[3], long long *bad_row);

#endif
