/* NEON sinusoidal encodings and sincospi_u15: the vector sincospi of kernels/shared/transcendental.h
 * on 4 independent arguments at a time; each argument is formed by the reference's exact
 * operations (2^l * x, or the fmaf chain over c then z + z). */
#define SB_ISA_SUFFIX neon
#include "kernels/declare.h"

#include <arm_neon.h>
#include <string.h>

#include "simd.h"
#include "kernels/shared/transcendental.h"

void sincospi_u15__neon(size_t n, const float *restrict y, float *restrict s,
                        float *restrict c)
{
    size_t i = 0;
    for (; i + SBN_W <= n; i += SBN_W) {
        float32x4_t sv, cv;
        sbn_sincospi_u15(vld1q_f32(y + i), &sv, &cv);
        if (s) vst1q_f32(s + i, sv);
        if (c) vst1q_f32(c + i, cv);
    }
    if (i < n) {
        const size_t lanes = n - i;
        float32x4_t sv, cv;
        sbn_sincospi_u15(sbn_load_n(y + i, lanes), &sv, &cv);
        if (s) sbn_store_n(s + i, sv, lanes);
        if (c) sbn_store_n(c + i, cv, lanes);
    }
}

void posenc_fwd__neon(size_t rows, size_t d, int l0, int l1, const float *restrict x,
                      size_t ldx, float *restrict out, size_t ldo)
{
    const size_t octaves = (size_t)(l1 - l0 + 1);
    const size_t F = octaves * d;
    /* 2^l for l = l0 .. l1 (all normal floats, -126 <= l <= 127), from the exponent field:
     * the same value as the reference's ldexpf(1.0f, l). */
    float scale[256];
    for (size_t o = 0; o < octaves; o++) {
        const uint32_t bits = (uint32_t)(l0 + (int)o + 127) << 23;
        memcpy(&scale[o], &bits, sizeof bits);
    }
    for (size_t n = 0; n < rows; n++) {
        const float *xr = x + n * ldx;
        float *orow = out + n * ldo;
        /* Features f .. f+3 of the row: f = c * octaves + o. Their coordinates and scales are
         * gathered into 4 lanes, so every vector is full whatever d and the octave count. */
        size_t c = 0, o = 0;
        for (size_t f = 0; f < F; f += SBN_W) {
            const size_t lanes = sbn_min(F - f, SBN_W);
            float xa[SBN_W] = {0.0f, 0.0f, 0.0f, 0.0f}, sa[SBN_W] = {0.0f, 0.0f, 0.0f, 0.0f};
            for (size_t l = 0; l < lanes; l++) {
                xa[l] = xr[c];
                sa[l] = scale[o];
                if (++o == octaves) {
                    o = 0;
                    c++;
                }
            }
            /* x * 2^l, exact as in the reference (the same IEEE multiply) */
            const float32x4_t arg = vmulq_f32(vld1q_f32(xa), vld1q_f32(sa));
            float32x4_t sv, cv;
            sbn_sincospi_u15(arg, &sv, &cv);
            sbn_store_n(orow + f, sv, lanes);
            sbn_store_n(orow + F + f, cv, lanes);
        }
    }
}

/* B transposed into a stack buffer, a chunk of units at a time, so that the 4 units of a
 * vector read B[j .. j+3][c] with one load. Wider d (more than FOURIER_BT / 4 coordinates)
 * gathers the 4 values lane by lane instead. */
#define FOURIER_BT 4096

void fourier_fwd__neon(size_t rows, size_t d, size_t m, const float *restrict x, size_t ldx,
                       const float *restrict B, float *restrict out, size_t ldo)
{
    float bt[FOURIER_BT];
    const int transpose = d <= FOURIER_BT / SBN_W;
    /* units per chunk: a multiple of 4 with d * chunk <= FOURIER_BT */
    const size_t chunk = transpose && d > 0 ? (FOURIER_BT / d) / SBN_W * SBN_W : m + SBN_W;
    for (size_t j0 = 0; j0 < m; j0 += chunk) {
        const size_t jn = sbn_min(chunk, m - j0);
        const size_t jn4 = (jn + SBN_W - 1) / SBN_W * SBN_W; /* row length of bt */
        if (transpose)
            for (size_t c = 0; c < d; c++)
                for (size_t jj = 0; jj < jn4; jj++)
                    bt[c * jn4 + jj] = jj < jn ? B[(j0 + jj) * d + c] : 0.0f;
        for (size_t n = 0; n < rows; n++) {
            const float *xr = x + n * ldx;
            float *orow = out + n * ldo;
            for (size_t jb = 0; jb < jn; jb += SBN_W) {
                const size_t lanes = sbn_min(jn - jb, SBN_W);
                const size_t j = j0 + jb;
                /* z = 0; for c: z = fmaf(B[j][c], x[n][c], z) */
                float32x4_t z = vdupq_n_f32(0.0f);
                for (size_t c = 0; c < d; c++) {
                    float32x4_t bv;
                    if (transpose) {
                        bv = vld1q_f32(bt + c * jn4 + jb);
                    } else {
                        bv = vdupq_n_f32(0.0f);
                        bv = vld1q_lane_f32(B + j * d + c, bv, 0);
                        if (lanes > 1) bv = vld1q_lane_f32(B + (j + 1) * d + c, bv, 1);
                        if (lanes > 2) bv = vld1q_lane_f32(B + (j + 2) * d + c, bv, 2);
                        if (lanes > 3) bv = vld1q_lane_f32(B + (j + 3) * d + c, bv, 3);
                    }
                    z = vfmaq_n_f32(z, bv, xr[c]);
                }
                float32x4_t sv, cv;
                sbn_sincospi_u15(vaddq_f32(z, z), &sv, &cv);
                sbn_store_n(orow + j, sv, lanes);
                sbn_store_n(orow + m + j, cv, lanes);
            }
        }
    }
}
