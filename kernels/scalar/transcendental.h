/* Scalar truth of the hand-written transcendentals: sincospi_u15 and exp_u15.
 *
 * The vector form, written once for every ISA, is kernels/shared/transcendental.h: the same
 * operation sequences lane by lane. Only IEEE operations that are correctly rounded
 * everywhere appear (fmaf, +, -, *, /, rintf, comparisons, sign-bit logic), so each variant
 * returns the same bits. The constants are the Taylor coefficients rounded to float: on the
 * reduced intervals the truncation error is under 0.05 ulp, so minimax would buy little.
 * tests/test_kernel_maths.c measures the resulting error against double-precision libm.
 */
#ifndef SPECBIAS_SCALAR_TRANSCENDENTAL_H
#define SPECBIAS_SCALAR_TRANSCENDENTAL_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* pi = PI_HI + PI_LO to 48 bits: the leading term r*pi is formed with both halves so
 * that the rounding of pi itself (0.3 ulp) does not enter the result. */
#define PI_HI 0x1.921fb6p+1f
#define PI_LO -0x1.777a5cp-24f
/* sin(pi r) = r * (pi + r^2 (S1 + r^2 (S2 + r^2 (S3 + r^2 S4)))), |r| <= 1/4 */
#define SINPI_S1 -0x1.4abbcep+2f
#define SINPI_S2 0x1.466bc6p+1f
#define SINPI_S3 -0x1.32d2ccp-1f
#define SINPI_S4 0x1.507834p-4f
/* cos(pi r) = 1 + r^2 (C1 + r^2 (C2 + r^2 (C3 + r^2 (C4 + r^2 C5)))), |r| <= 1/4 */
#define COSPI_C1 -0x1.3bd3ccp+2f
#define COSPI_C2 0x1.03c1f0p+2f
#define COSPI_C3 -0x1.55d3c8p+0f
#define COSPI_C4 0x1.e1f506p-3f
#define COSPI_C5 -0x1.a6d1f2p-6f
/* Beyond 2^24 every float is an even integer: sin(pi y) = 0 and cos(pi y) = 1. */
#define SINCOSPI_BIG 0x1p24f

static inline float flip_sign_if(float x, uint32_t cond_bit31)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    u ^= cond_bit31;
    memcpy(&x, &u, sizeof u);
    return x;
}

/* sin(pi y) and cos(pi y). Reduction: y = k/2 + r with k = rint(2y), |r| <= 1/4, both exact
 * in float (k/2 and y are multiples of ulp(y) when |y| < 2^24, and |r| < |y|), so no
 * precision is lost however large y is; the quadrant k mod 4 then swaps and negates. */
static inline void sincospi_u15_ref(float y, float *s, float *c)
{
    /* 0 * y keeps the sign of zero and turns +-inf into NaN, as sin(inf) should be. */
    const float yr = fabsf(y) < SINCOSPI_BIG ? y : y * 0.0f;
    const float k = rintf(yr + yr);
    const float r = fmaf(k, -0.5f, yr); /* exact */
    /* A NaN k would make the C conversion undefined; its result is NaN in every branch. */
    const int32_t q = (int32_t)(k == k ? k : 0.0f);
    const float r2 = r * r;

    float ps = fmaf(r2, SINPI_S4, SINPI_S3);
    ps = fmaf(r2, ps, SINPI_S2);
    ps = fmaf(r2, ps, SINPI_S1);
    ps = fmaf(r2, ps, PI_LO);
    const float sr = fmaf(r, PI_HI, r * ps);

    float pc = fmaf(r2, COSPI_C5, COSPI_C4);
    pc = fmaf(r2, pc, COSPI_C3);
    pc = fmaf(r2, pc, COSPI_C2);
    pc = fmaf(r2, pc, COSPI_C1);
    const float cr = fmaf(r2, pc, 1.0f);

    /* pi y = k pi/2 + pi r: quadrant 1 swaps, 2 negates, 3 swaps and negates. */
    const int swap = q & 1;
    const float s0 = swap ? cr : sr;
    const float c0 = swap ? sr : cr;
    const uint32_t sin_neg = ((uint32_t)q & 2u) << 30;
    const uint32_t cos_neg = ((uint32_t)(q + 1) & 2u) << 30;
    if (s) *s = flip_sign_if(s0, sin_neg);
    if (c) *c = flip_sign_if(c0, cos_neg);
}

/* exp(x) for the sigmoid. x is clamped to [EXP_LO, EXP_HI] so that 2^n stays a normal
 * float (exp(-87.3) ~ 1.2e-38, exp(88) ~ 1.7e38); the sigmoid needs no more range. */
#define EXP_LO -87.3f
#define EXP_HI 88.0f
#define LOG2E 0x1.715476p+0f
/* ln 2 = LN2_HI + LN2_LO; HI has 9 significant bits so n * HI is exact for |n| < 2^15 */
#define LN2_HI 0x1.63p-1f
#define LN2_LO -0x1.bd0106p-13f
#define EXP_E2 0x1p-1f
#define EXP_E3 0x1.555556p-3f
#define EXP_E4 0x1.555556p-5f
#define EXP_E5 0x1.111112p-7f
#define EXP_E6 0x1.6c16c2p-10f
#define EXP_E7 0x1.a01a02p-13f

static inline float exp_u15_ref(float x)
{
    /* Written as compare-and-select so a NaN x stays NaN, as in the vector min/max order. */
    x = x > EXP_HI ? EXP_HI : x;
    x = x < EXP_LO ? EXP_LO : x;
    const float n = rintf(x * LOG2E);
    float r = fmaf(n, -LN2_HI, x);
    r = fmaf(n, -LN2_LO, r);
    float p = fmaf(EXP_E7, r, EXP_E6);
    p = fmaf(p, r, EXP_E5);
    p = fmaf(p, r, EXP_E4);
    p = fmaf(p, r, EXP_E3);
    p = fmaf(p, r, EXP_E2);
    const float t = fmaf(p, r * r, r);
    const float e = t + 1.0f;
    /* 2^n by building its exponent field; n is in [-126, 127] after the clamp. */
    const int32_t ni = (int32_t)(n == n ? n : 0.0f);
    const uint32_t bits = (uint32_t)(ni + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return e * scale;
}

/* The sigmoid of the output layer: 1 / (1 + exp(-z)). */
static inline float sigmoid_ref(float z)
{
    return 1.0f / (1.0f + exp_u15_ref(-z));
}

#endif
