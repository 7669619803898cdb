/* Scalar truth of the sinusoidal encodings and of sincospi_u15 itself. */
#define SB_ISA_SUFFIX scalar
#include "kernels/declare.h"
#include "transcendental.h"

#include <math.h>

void sincospi_u15__scalar(size_t n, const float *restrict y, float *restrict s,
                          float *restrict c)
{
    for (size_t i = 0; i < n; i++) {
        float sv, cv;
        sincospi_u15_ref(y[i], &sv, &cv);
        if (s) s[i] = sv;
        if (c) c[i] = cv;
    }
}

void posenc_fwd__scalar(size_t rows, size_t d, int l0, int l1, const float *restrict x,
                        size_t ldx, float *restrict out, size_t ldo)
{
    const size_t octaves = (size_t)(l1 - l0 + 1);
    const size_t F = octaves * d;
    for (size_t n = 0; n < rows; n++) {
        for (size_t c = 0; c < d; c++) {
            for (size_t o = 0; o < octaves; o++) {
                /* ldexpf by a power of two is exact (no overflow for |l| <= 127 on [-1,1)). */
                const float arg = x[n * ldx + c] * ldexpf(1.0f, l0 + (int)o);
                const size_t f = c * octaves + o;
                sincospi_u15_ref(arg, &out[n * ldo + f], &out[n * ldo + F + f]);
            }
        }
    }
}

void fourier_fwd__scalar(size_t rows, size_t d, size_t m, const float *restrict x, size_t ldx,
                         const float *restrict B, float *restrict out, size_t ldo)
{
    for (size_t n = 0; n < rows; n++) {
        for (size_t j = 0; j < m; j++) {
            float z = 0.0f;
            for (size_t c = 0; c < d; c++) z = fmaf(B[j * d + c], x[n * ldx + c], z);
            sincospi_u15_ref(z + z, &out[n * ldo + j], &out[n * ldo + m + j]);
        }
    }
}
