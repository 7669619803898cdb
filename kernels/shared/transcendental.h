/* sincospi_u15, exp_u15 and the sigmoid on SBV_W lanes: operation for operation the scalar
 * truth in kernels/scalar/transcendental.h (its constants, the same fmaf operand roles), over
 * the vocabulary of kernels/<isa>/simd.h, so every lane returns the bits of
 * sincospi_u15_ref(), exp_u15_ref() and sigmoid_ref():
 *   rintf            -> sbv_rint (to nearest even, the default mode rintf runs in)
 *   fmaf(a, b, c)    -> sbv_fma(a, b, c)
 *   c ? a : b        -> sbv_select on an ordered compare (NaN is false, as in C), or sbv_min /
 *                       sbv_max, which are the same selects
 *   (int32_t)k       -> sbv_cvt_i32 (k is integral; NaN lanes are covered there)
 *   sign-bit logic and 2^n -> the same integer operations on the lanes
 * Include after the ISA's simd.h. */
#ifndef SPECBIAS_KERNELS_SHARED_TRANSCENDENTAL_H
#define SPECBIAS_KERNELS_SHARED_TRANSCENDENTAL_H

#include "kernels/scalar/transcendental.h" /* the constants */

/* sin(pi y) and cos(pi y); see sincospi_u15_ref(). */
SBV_INLINE void sbv_sincospi_u15(sbv_f y, sbv_f *s, sbv_f *c)
{
    /* yr = fabsf(y) < BIG ? y : y * 0 */
    const sbv_m small = sbv_lt(sbv_abs(y), sbv_set1(SINCOSPI_BIG));
    const sbv_f yr = sbv_select(small, y, sbv_mul(y, sbv_zero()));
    const sbv_f k = sbv_rint(sbv_add(yr, yr));
    const sbv_f r = sbv_fma(k, sbv_set1(-0.5f), yr); /* exact */
    const sbv_i q = sbv_cvt_i32(k);
    const sbv_f r2 = sbv_mul(r, r);

    sbv_f ps = sbv_fma(r2, sbv_set1(SINPI_S4), sbv_set1(SINPI_S3));
    ps = sbv_fma(r2, ps, sbv_set1(SINPI_S2));
    ps = sbv_fma(r2, ps, sbv_set1(SINPI_S1));
    ps = sbv_fma(r2, ps, sbv_set1(PI_LO));
    const sbv_f sr = sbv_fma(r, sbv_set1(PI_HI), sbv_mul(r, ps));

    sbv_f pc = sbv_fma(r2, sbv_set1(COSPI_C5), sbv_set1(COSPI_C4));
    pc = sbv_fma(r2, pc, sbv_set1(COSPI_C3));
    pc = sbv_fma(r2, pc, sbv_set1(COSPI_C2));
    pc = sbv_fma(r2, pc, sbv_set1(COSPI_C1));
    const sbv_f cr = sbv_fma(r2, pc, sbv_set1(1.0f));

    /* quadrant: q odd swaps; sin negated by bit 1 of q, cos by bit 1 of q + 1 */
    const sbv_m swap = sbv_odd(q);
    *s = sbv_flip_sign_if_bit1(sbv_select(swap, cr, sr), q);
    *c = sbv_flip_sign_if_bit1(sbv_select(swap, sr, cr), sbv_i_add(q, sbv_i_set1(1)));
}

/* exp(x); see exp_u15_ref(). */
SBV_INLINE sbv_f sbv_exp_u15(sbv_f x)
{
    /* x = x > HI ? HI : x;  x = x < LO ? LO : x   (a NaN x stays NaN) */
    x = sbv_min(sbv_set1(EXP_HI), x);
    x = sbv_max(sbv_set1(EXP_LO), x);
    const sbv_f n = sbv_rint(sbv_mul(x, sbv_set1(LOG2E)));
    sbv_f r = sbv_fma(n, sbv_set1(-LN2_HI), x);
    r = sbv_fma(n, sbv_set1(-LN2_LO), r);
    sbv_f p = sbv_fma(sbv_set1(EXP_E7), r, sbv_set1(EXP_E6));
    p = sbv_fma(p, r, sbv_set1(EXP_E5));
    p = sbv_fma(p, r, sbv_set1(EXP_E4));
    p = sbv_fma(p, r, sbv_set1(EXP_E3));
    p = sbv_fma(p, r, sbv_set1(EXP_E2));
    const sbv_f t = sbv_fma(p, sbv_mul(r, r), r);
    const sbv_f e = sbv_add(t, sbv_set1(1.0f));
    /* n is in [-126, 127] after the clamp (a NaN n: e is NaN and 2^n is 1, see sbv_cvt_i32) */
    return sbv_mul(e, sbv_pow2i(sbv_cvt_i32(n)));
}

/* 1 / (1 + exp(-z)); see sigmoid_ref(). */
SBV_INLINE sbv_f sbv_sigmoid(sbv_f z)
{
    const sbv_f one = sbv_set1(1.0f);
    return sbv_div(one, sbv_add(one, sbv_exp_u15(sbv_neg(z))));
}

#endif
