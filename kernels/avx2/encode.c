/* AVX2+FMA sincospi_u15 and sinusoidal encodings; the code, the same for every vector ISA, is
 * kernels/shared/encode.h. */
#define SB_ISA_SUFFIX avx2
#include "kernels/declare.h"
#include "simd.h"
#include "kernels/shared/encode.h"

void sincospi_u15__avx2(size_t n, const float *restrict y, float *restrict s, float *restrict c)
{
    sincospi_u15_simd(n, y, s, c);
}

void posenc_fwd__avx2(size_t rows, size_t d, int l0, int l1, const float *restrict x, size_t ldx,
                      float *restrict out, size_t ldo)
{
    posenc_fwd_simd(rows, d, l0, l1, x, ldx, out, ldo);
}

void fourier_fwd__avx2(size_t rows, size_t d, size_t m, const float *restrict x, size_t ldx,
                       const float *restrict B, float *restrict out, size_t ldo)
{
    fourier_fwd_simd(rows, d, m, x, ldx, B, out, ldo);
}
