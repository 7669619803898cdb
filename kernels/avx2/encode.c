/* AVX2+FMA sinusoidal encodings: sincospi_u15 as in sb_sincospi_u15_ref(), lane for lane
 * (kernels/shared/transcendental.h), and the two encodings built on it. */
#define SB_ISA_SUFFIX avx2
#include "kernels/declare.h"
#include "simd.h"
#include "kernels/shared/transcendental.h"

void sincospi_u15__avx2(size_t n, const float *restrict y, float *restrict s,
                        float *restrict c)
{
    for (size_t i = 0; i < n; i += SBV_W) {
        const size_t rem = n - i;
        sbv_f sv, cv;
        sbv_sincospi_u15(sbv_loadu_n(y + i, rem), &sv, &cv);
        if (s) sbv_storeu_n(s + i, rem, sv);
        if (c) sbv_storeu_n(c + i, rem, cv);
    }
}

/* Features are vectorised 8 at a time along f = c * octaves + o. For a block f0 .. f0 + 7 the
 * coordinates c span at most 8 consecutive values from c0 = f0 / octaves, so one load of
 * x[n][c0 ..] and a lane permutation give every lane its coordinate; the scale 2^(l0 + o) is
 * built from its exponent bits (the value ldexpf gives), and x * 2^l is one exact multiply. */
void posenc_fwd__avx2(size_t rows, size_t d, int l0, int l1, const float *restrict x,
                      size_t ldx, float *restrict out, size_t ldo)
{
    const size_t octaves = (size_t)(l1 - l0 + 1);
    const size_t F = octaves * d;
    for (size_t f0 = 0; f0 < F; f0 += SBV_W) {
        const size_t frem = F - f0;
        const size_t c0 = f0 / octaves;
        _Alignas(32) int32_t idx[SBV_W];
        _Alignas(32) int32_t sbits[SBV_W];
        for (int l = 0; l < SBV_W; l++) {
            const size_t f = f0 + (size_t)l;
            if (f < F) {
                idx[l] = (int32_t)(f / octaves - c0);
                sbits[l] = (l0 + (int32_t)(f % octaves) + 127) << 23;
            } else {
                idx[l] = 0;
                sbits[l] = 127 << 23; /* 1.0f; the lane is never stored */
            }
        }
        const __m256i perm = _mm256_load_si256((const __m256i *)(const void *)idx);
        const sbv_f scale = _mm256_castsi256_ps(_mm256_load_si256((const __m256i *)(const void *)sbits));
        const size_t xrem = d - c0; /* coordinates c0 .. d-1 exist */
        for (size_t n = 0; n < rows; n++) {
            const sbv_f xc = sbv_loadu_n(x + n * ldx + c0, xrem);
            const sbv_f arg = sbv_mul(_mm256_permutevar8x32_ps(xc, perm), scale);
            sbv_f sv, cv;
            sbv_sincospi_u15(arg, &sv, &cv);
            sbv_storeu_n(out + n * ldo + f0, frem, sv);
            sbv_storeu_n(out + n * ldo + F + f0, frem, cv);
        }
    }
}

/* Outputs j are vectorised 8 at a time; B[j0 .. j0 + 7][c] is gathered once per block into
 * bt[c] (for d <= FOURIER_DMAX; wider inputs gather in the inner loop). */
#define FOURIER_DMAX 64

void fourier_fwd__avx2(size_t rows, size_t d, size_t m, const float *restrict x, size_t ldx,
                       const float *restrict B, float *restrict out, size_t ldo)
{
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (size_t j0 = 0; j0 < m; j0 += SBV_W) {
        const size_t jrem = m - j0;
        const sbv_m jm = sbv_mask_n(jrem);
        /* element offsets of B[j0 + l][0] from B[j0][0] */
        const __m256i boff = _mm256_mullo_epi32(lane, _mm256_set1_epi32((int)d));
        const float *bj = B + j0 * d;
        sbv_f bt[FOURIER_DMAX];
        const int cached = d <= FOURIER_DMAX;
        if (cached)
            for (size_t c = 0; c < d; c++)
                bt[c] = _mm256_mask_i32gather_ps(_mm256_setzero_ps(), bj + c, boff,
                                                 _mm256_castsi256_ps(jm), 4);
        for (size_t n = 0; n < rows; n++) {
            const float *xn = x + n * ldx;
            sbv_f z = sbv_zero();
            for (size_t c = 0; c < d; c++) {
                const sbv_f b = cached ? bt[c]
                                       : _mm256_mask_i32gather_ps(_mm256_setzero_ps(), bj + c, boff,
                                                                  _mm256_castsi256_ps(jm), 4);
                z = sbv_fma(b, sbv_bcast(xn + c), z);
            }
            sbv_f sv, cv;
            sbv_sincospi_u15(sbv_add(z, z), &sv, &cv);
            sbv_storeu_n(out + n * ldo + j0, jrem, sv);
            sbv_storeu_n(out + n * ldo + m + j0, jrem, cv);
        }
    }
}
