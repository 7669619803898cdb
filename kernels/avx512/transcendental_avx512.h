/* sincospi_u15 and exp_u15 on 16 lanes: op for op the sequences of the scalar truth in
 * kernels/scalar/transcendental.h (same constants, same fmaf operand roles, rintf ->
 * roundscale to nearest even, compare-and-select clamps, sign flips and 2^n built with
 * integer ops), so every lane returns the bits sb_sincospi_u15_ref / sb_exp_u15_ref would. */
#ifndef SPECBIAS_KERNELS_AVX512_TRANSCENDENTAL_H
#define SPECBIAS_KERNELS_AVX512_TRANSCENDENTAL_H

#include "simd_avx512.h"
#include "kernels/scalar/transcendental.h" /* the scalar truth: its constants */

#define SB_RINT(x) _mm512_roundscale_ps((x), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)

/* *s = sin(pi y), *c = cos(pi y), lane by lane as sb_sincospi_u15_ref(). */
SB_INLINE void sb512_sincospi_u15(__m512 y, __m512 *s, __m512 *c)
{
    /* yr = fabsf(y) < 2^24 ? y : y * 0  (NaN compares false, so NaN * 0 = NaN as in C) */
    const __m512 absy = _mm512_castsi512_ps(
        _mm512_and_si512(_mm512_castps_si512(y), _mm512_set1_epi32(0x7FFFFFFF)));
    const __mmask16 small = _mm512_cmp_ps_mask(absy, sb_set1(SB_SINCOSPI_BIG), _CMP_LT_OQ);
    const __m512 yr = _mm512_mask_mov_ps(_mm512_mul_ps(y, _mm512_setzero_ps()), small, y);

    const __m512 k = SB_RINT(_mm512_add_ps(yr, yr));
    const __m512 r = sb_fma(k, sb_set1(-0.5f), yr); /* exact */
    /* k is an integer below 2^25 in magnitude, so truncation converts it exactly; a NaN k
     * converts to 0x80000000, whose quadrant bits only flip signs of a NaN result. */
    const __m512i q = _mm512_cvttps_epi32(k);
    const __m512 r2 = _mm512_mul_ps(r, r);

    __m512 ps = sb_fma(r2, sb_set1(SB_SINPI_S4), sb_set1(SB_SINPI_S3));
    ps = sb_fma(r2, ps, sb_set1(SB_SINPI_S2));
    ps = sb_fma(r2, ps, sb_set1(SB_SINPI_S1));
    ps = sb_fma(r2, ps, sb_set1(SB_PI_LO));
    const __m512 sr = sb_fma(r, sb_set1(SB_PI_HI), _mm512_mul_ps(r, ps));

    __m512 pc = sb_fma(r2, sb_set1(SB_COSPI_C5), sb_set1(SB_COSPI_C4));
    pc = sb_fma(r2, pc, sb_set1(SB_COSPI_C3));
    pc = sb_fma(r2, pc, sb_set1(SB_COSPI_C2));
    pc = sb_fma(r2, pc, sb_set1(SB_COSPI_C1));
    const __m512 cr = sb_fma(r2, pc, sb_set1(1.0f));

    /* quadrant 1 swaps, 2 negates, 3 swaps and negates */
    const __m512i one = _mm512_set1_epi32(1), two = _mm512_set1_epi32(2);
    const __mmask16 swap = _mm512_test_epi32_mask(q, one);
    const __m512 s0 = _mm512_mask_blend_ps(swap, sr, cr); /* swap ? cr : sr */
    const __m512 c0 = _mm512_mask_blend_ps(swap, cr, sr); /* swap ? sr : cr */
    const __m512i sin_neg = _mm512_slli_epi32(_mm512_and_si512(q, two), 30);
    const __m512i cos_neg = _mm512_slli_epi32(_mm512_and_si512(_mm512_add_epi32(q, one), two), 30);
    *s = sb_xor_sign(s0, sin_neg);
    *c = sb_xor_sign(c0, cos_neg);
}

/* exp(x) lane by lane as sb_exp_u15_ref(). */
SB_INLINE __m512 sb512_exp_u15(__m512 x)
{
    /* x = x > HI ? HI : x;  x = x < LO ? LO : x   (a NaN x compares false and stays NaN) */
    const __m512 hi = sb_set1(SB_EXP_HI), lo = sb_set1(SB_EXP_LO);
    x = _mm512_mask_mov_ps(x, _mm512_cmp_ps_mask(x, hi, _CMP_GT_OQ), hi);
    x = _mm512_mask_mov_ps(x, _mm512_cmp_ps_mask(x, lo, _CMP_LT_OQ), lo);
    const __m512 n = SB_RINT(_mm512_mul_ps(x, sb_set1(SB_LOG2E)));
    __m512 r = sb_fma(n, sb_set1(-SB_LN2_HI), x);
    r = sb_fma(n, sb_set1(-SB_LN2_LO), r);
    __m512 p = sb_fma(sb_set1(SB_EXP_E7), r, sb_set1(SB_EXP_E6));
    p = sb_fma(p, r, sb_set1(SB_EXP_E5));
    p = sb_fma(p, r, sb_set1(SB_EXP_E4));
    p = sb_fma(p, r, sb_set1(SB_EXP_E3));
    p = sb_fma(p, r, sb_set1(SB_EXP_E2));
    const __m512 t = sb_fma(p, _mm512_mul_ps(r, r), r);
    const __m512 e = _mm512_add_ps(t, sb_set1(1.0f));
    /* 2^n from its exponent field; n in [-126, 127] after the clamp (NaN: e is NaN anyway) */
    const __m512i ni = _mm512_cvttps_epi32(n);
    const __m512i bits = _mm512_slli_epi32(_mm512_add_epi32(ni, _mm512_set1_epi32(127)), 23);
    return _mm512_mul_ps(e, _mm512_castsi512_ps(bits));
}

/* 1 / (1 + exp(-z)); -z is a sign flip, as in C. */
SB_INLINE __m512 sb512_sigmoid(__m512 z)
{
    const __m512 neg = sb_xor_sign(z, _mm512_set1_epi32((int)0x80000000u));
    const __m512 one = sb_set1(1.0f);
    return _mm512_div_ps(one, _mm512_add_ps(one, sb512_exp_u15(neg)));
}

#endif
