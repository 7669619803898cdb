/* sincospi_u15 and the sinusoidal encodings for every vector ISA: SBV_W independent
 * arguments per vector, each formed by the reference's exact operations (x * 2^l, or the
 * fmaf chain over c then z + z; kernels/scalar/encode.c) and passed through
 * sbv_sincospi_u15, which is sincospi_u15_ref lane for lane. Include after the ISA's simd.h;
 * kernels/<isa>/encode.c defines sincospi_u15__<isa>, posenc_fwd__<isa> and
 * fourier_fwd__<isa> over these. */
#ifndef SPECBIAS_KERNELS_SHARED_ENCODE_H
#define SPECBIAS_KERNELS_SHARED_ENCODE_H

#include <string.h>

#include "kernels/shared/transcendental.h"

SBV_INLINE void sincospi_u15_simd(size_t n, const float *restrict y, float *restrict s,
                                  float *restrict c)
{
    size_t i = 0;
    sbv_f sv, cv;
    for (; i + SBV_W <= n; i += SBV_W) {
        sbv_sincospi_u15(sbv_loadu(y + i), &sv, &cv);
        if (s) sbv_storeu(s + i, sv);
        if (c) sbv_storeu(c + i, cv);
    }
    if (i < n) {
        const size_t rem = n - i;
        sbv_sincospi_u15(sbv_loadu_n(y + i, rem), &sv, &cv);
        if (s) sbv_storeu_n(s + i, rem, sv);
        if (c) sbv_storeu_n(c + i, rem, cv);
    }
}

/* Features are vectorised SBV_W at a time along f = c * octaves + o, so every vector is full
 * whatever d and the octave count. The coordinates c of a block f0 .. f0 + SBV_W - 1 span at
 * most SBV_W consecutive values from c0 = f0 / octaves, so one load of x[n][c0 ..] and a lane
 * permutation give every lane its coordinate; the scale 2^(l0 + o) is built from its exponent
 * bits (the value ldexpf gives), and x * 2^l is one exact multiply, as in the reference. */
SBV_INLINE void posenc_fwd_simd(size_t rows, size_t d, int l0, int l1, const float *restrict x,
                                size_t ldx, float *restrict out, size_t ldo)
{
    const size_t octaves = (size_t)(l1 - l0 + 1);
    const size_t F = octaves * d;
    for (size_t f0 = 0; f0 < F; f0 += SBV_W) {
        const size_t frem = F - f0;
        const size_t c0 = f0 / octaves;
        int32_t idx[SBV_W];
        float scale[SBV_W];
        for (int l = 0; l < SBV_W; l++) {
            const size_t f = f0 + (size_t)l;
            /* past F: any coordinate and 1.0f; the lane is never stored */
            const uint32_t bits =
                f < F ? (uint32_t)(l0 + (int)(f % octaves) + 127) << 23 : UINT32_C(127) << 23;
            idx[l] = f < F ? (int32_t)(f / octaves - c0) : 0;
            memcpy(&scale[l], &bits, sizeof bits);
        }
        const sbv_i perm = sbv_i_loadu(idx);
        const sbv_f sc = sbv_loadu(scale);
        const size_t xrem = d - c0; /* coordinates c0 .. d-1 exist */
        for (size_t n = 0; n < rows; n++) {
            const sbv_f xc = sbv_loadu_n(x + n * ldx + c0, xrem);
            sbv_f sv, cv;
            sbv_sincospi_u15(sbv_mul(sbv_permute(xc, perm), sc), &sv, &cv);
            sbv_storeu_n(out + n * ldo + f0, frem, sv);
            sbv_storeu_n(out + n * ldo + F + f0, frem, cv);
        }
    }
}

/* Fourier features: outputs j vectorised SBV_W at a time. B[j0 .. j0 + SBV_W - 1][c] is read
 * transposed into bt (zero past m), FOURIER_DMAX coordinates at a time, so each step of a chain
 * is one vector load; each z(n, j) is one fmaf chain over c from +0 in order. With d <=
 * FOURIER_DMAX (the encodings of 1-3 coordinates that specbias trains) bt is made once per
 * block of j and each row's chain runs in a register; wider inputs go through bt in chunks,
 * the chains of FOURIER_ROWS rows waiting in z[] between chunks. */
#define FOURIER_DMAX 64
#define FOURIER_ROWS 32

/* bt[c][l] = B[j0 + l][c0 + c] for c < nc, l < jrem; +0 for l >= jrem */
static inline void fourier_transpose(size_t nc, size_t jrem, const float *B, size_t d, size_t j0,
                                     size_t c0, float *bt)
{
    for (size_t c = 0; c < nc; c++)
        for (size_t l = 0; l < SBV_W; l++)
            bt[c * SBV_W + l] = l < jrem ? B[(j0 + l) * d + c0 + c] : 0.0f;
}

/* z = fmaf(B[j][c], x[c], z) for c = 0 .. nc - 1 of a transposed chunk */
SBV_INLINE sbv_f fourier_chain(sbv_f z, const float *bt, const float *x, size_t nc)
{
    for (size_t c = 0; c < nc; c++) z = sbv_fma(sbv_loadu(bt + c * SBV_W), sbv_bcast(x + c), z);
    return z;
}

/* out[j] = sin(pi * 2z), out[m + j] = cos(pi * 2z) for the block's jrem outputs */
SBV_INLINE void fourier_store(sbv_f z, float *o, size_t m, size_t jrem)
{
    sbv_f sv, cv;
    sbv_sincospi_u15(sbv_add(z, z), &sv, &cv);
    sbv_storeu_n(o, jrem, sv);
    sbv_storeu_n(o + m, jrem, cv);
}

SBV_INLINE void fourier_fwd_simd(size_t rows, size_t d, size_t m, const float *restrict x,
                                 size_t ldx, const float *restrict B, float *restrict out,
                                 size_t ldo)
{
    _Alignas(64) float bt[FOURIER_DMAX * SBV_W];
    for (size_t j0 = 0; j0 < m; j0 += SBV_W) {
        const size_t jrem = m - j0;
        if (d <= FOURIER_DMAX) {
            fourier_transpose(d, jrem, B, d, j0, 0, bt);
            for (size_t n = 0; n < rows; n++)
                fourier_store(fourier_chain(sbv_zero(), bt, x + n * ldx, d), out + n * ldo + j0, m,
                              jrem);
            continue;
        }
        sbv_f z[FOURIER_ROWS];
        for (size_t n0 = 0; n0 < rows; n0 += FOURIER_ROWS) {
            const size_t nr = rows - n0 < FOURIER_ROWS ? rows - n0 : FOURIER_ROWS;
            for (size_t r = 0; r < nr; r++) z[r] = sbv_zero();
            for (size_t c0 = 0; c0 < d; c0 += FOURIER_DMAX) {
                const size_t nc = d - c0 < FOURIER_DMAX ? d - c0 : FOURIER_DMAX;
                fourier_transpose(nc, jrem, B, d, j0, c0, bt);
                for (size_t r = 0; r < nr; r++)
                    z[r] = fourier_chain(z[r], bt, x + (n0 + r) * ldx + c0, nc);
            }
            for (size_t r = 0; r < nr; r++) fourier_store(z[r], out + (n0 + r) * ldo + j0, m, jrem);
        }
    }
}

#endif
