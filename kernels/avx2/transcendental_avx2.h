/* AVX2+FMA forms of sb_sincospi_u15_ref, sb_exp_u15_ref and sb_sigmoid_ref
 * (kernels/scalar/transcendental.h), operation for operation, 8 lanes at a time:
 *   rintf            -> _mm256_round_ps(nearest even; the default rounding mode)
 *   fmaf(a, b, c)    -> _mm256_fmadd_ps(a, b, c), same operand roles
 *   c ? a : b        -> compare (ordered, quiet, so NaN is false as in C) and blendv
 *   (int32_t)k       -> cvttps_epi32 of k with NaN lanes zeroed first (k is integral)
 *   sign-bit logic and 2^n -> the same integer operations on the lanes
 */
#ifndef SPECBIAS_TRANSCENDENTAL_AVX2_H
#define SPECBIAS_TRANSCENDENTAL_AVX2_H

#include "simd_avx2.h"
#include "transcendental.h" /* the constants */

/* sin(pi y) and cos(pi y) of 8 lanes; see sb_sincospi_u15_ref(). */
SBV_INLINE void sbv_sincospi_u15(sbv_f y, sbv_f *s, sbv_f *c)
{
    const __m256 sign = _mm256_set1_ps(-0.0f);
    /* yr = fabsf(y) < BIG ? y : y * 0 */
    const __m256 small = _mm256_cmp_ps(_mm256_andnot_ps(sign, y),
                                       _mm256_set1_ps(SB_SINCOSPI_BIG), _CMP_LT_OQ);
    const __m256 yr = _mm256_blendv_ps(_mm256_mul_ps(y, _mm256_setzero_ps()), y, small);
    const __m256 k = _mm256_round_ps(_mm256_add_ps(yr, yr),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m256 r = _mm256_fmadd_ps(k, _mm256_set1_ps(-0.5f), yr);
    /* q = (int32_t)(k == k ? k : 0) */
    const __m256i q = _mm256_cvttps_epi32(_mm256_and_ps(k, _mm256_cmp_ps(k, k, _CMP_ORD_Q)));
    const __m256 r2 = _mm256_mul_ps(r, r);

    __m256 ps = _mm256_fmadd_ps(r2, _mm256_set1_ps(SB_SINPI_S4), _mm256_set1_ps(SB_SINPI_S3));
    ps = _mm256_fmadd_ps(r2, ps, _mm256_set1_ps(SB_SINPI_S2));
    ps = _mm256_fmadd_ps(r2, ps, _mm256_set1_ps(SB_SINPI_S1));
    ps = _mm256_fmadd_ps(r2, ps, _mm256_set1_ps(SB_PI_LO));
    const __m256 sr = _mm256_fmadd_ps(r, _mm256_set1_ps(SB_PI_HI), _mm256_mul_ps(r, ps));

    __m256 pc = _mm256_fmadd_ps(r2, _mm256_set1_ps(SB_COSPI_C5), _mm256_set1_ps(SB_COSPI_C4));
    pc = _mm256_fmadd_ps(r2, pc, _mm256_set1_ps(SB_COSPI_C3));
    pc = _mm256_fmadd_ps(r2, pc, _mm256_set1_ps(SB_COSPI_C2));
    pc = _mm256_fmadd_ps(r2, pc, _mm256_set1_ps(SB_COSPI_C1));
    const __m256 cr = _mm256_fmadd_ps(r2, pc, _mm256_set1_ps(1.0f));

    /* quadrant: q & 1 swaps; sin negated by bit 1 of q, cos by bit 1 of q + 1 */
    const __m256i one = _mm256_set1_epi32(1), two = _mm256_set1_epi32(2);
    const __m256 swap =
        _mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_and_si256(q, one), one));
    const __m256 s0 = _mm256_blendv_ps(sr, cr, swap);
    const __m256 c0 = _mm256_blendv_ps(cr, sr, swap);
    const __m256i sin_neg = _mm256_slli_epi32(_mm256_and_si256(q, two), 30);
    const __m256i cos_neg = _mm256_slli_epi32(_mm256_and_si256(_mm256_add_epi32(q, one), two), 30);
    *s = _mm256_xor_ps(s0, _mm256_castsi256_ps(sin_neg));
    *c = _mm256_xor_ps(c0, _mm256_castsi256_ps(cos_neg));
}

/* exp(x) of 8 lanes; see sb_exp_u15_ref(). */
SBV_INLINE sbv_f sbv_exp_u15(sbv_f x)
{
    /* x = x > HI ? HI : x; x = x < LO ? LO : x.  minps(a, b) is exactly a < b ? a : b and
     * maxps(a, b) is a > b ? a : b, so a NaN x passes through both, as in the scalar. */
    x = _mm256_min_ps(_mm256_set1_ps(SB_EXP_HI), x);
    x = _mm256_max_ps(_mm256_set1_ps(SB_EXP_LO), x);
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(SB_LOG2E)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fmadd_ps(n, _mm256_set1_ps(-SB_LN2_HI), x);
    r = _mm256_fmadd_ps(n, _mm256_set1_ps(-SB_LN2_LO), r);
    __m256 p = _mm256_fmadd_ps(_mm256_set1_ps(SB_EXP_E7), r, _mm256_set1_ps(SB_EXP_E6));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(SB_EXP_E5));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(SB_EXP_E4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(SB_EXP_E3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(SB_EXP_E2));
    const __m256 t = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r);
    const __m256 e = _mm256_add_ps(t, _mm256_set1_ps(1.0f));
    /* 2^n from its exponent field; n in [-126, 127], NaN lanes as 0 */
    const __m256i ni = _mm256_cvttps_epi32(_mm256_and_ps(n, _mm256_cmp_ps(n, n, _CMP_ORD_Q)));
    const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(ni, _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(e, _mm256_castsi256_ps(bits));
}

/* 1 / (1 + exp(-z)); -z is a sign flip as in C. */
SBV_INLINE sbv_f sbv_sigmoid(sbv_f z)
{
    const __m256 e = sbv_exp_u15(_mm256_xor_ps(z, _mm256_set1_ps(-0.0f)));
    return _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

#endif
