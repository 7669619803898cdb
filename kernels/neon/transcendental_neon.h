/* NEON forms of sincospi_u15 and exp_u15 / sigmoid: operation for operation the sequences of
 * kernels/scalar/transcendental.h (constants included from there), so every lane returns the
 * bits of the scalar reference.
 *
 *   fmaf(a, b, c)       -> vfmaq_f32(c, a, b)      (fused, one rounding)
 *   rintf               -> vrndnq_f32              (FRINTN: nearest, ties to even, the
 *                                                   default mode rintf runs in)
 *   c ? a : b           -> vbslq_f32 on a compare  (never vminq/vmaxq: their NaN rules differ)
 *   (int32_t)(k == k ? k : 0) -> vcvtq_s32_f32(k)  (FCVTZS: k is an integer, so the
 *                                                   conversion is exact; NaN converts to 0)
 *   / and sqrt          -> vdivq_f32 / vsqrtq_f32  (correctly rounded)
 */
#ifndef SPECBIAS_NEON_TRANSCENDENTAL_H
#define SPECBIAS_NEON_TRANSCENDENTAL_H

#include "kernels/scalar/transcendental.h"
#include "simd_neon.h"

/* sin(pi y) and cos(pi y), as sb_sincospi_u15_ref(). */
SBN_INLINE void sbn_sincospi_u15(float32x4_t y, float32x4_t *s, float32x4_t *c)
{
    const uint32x4_t small = vcltq_f32(vabsq_f32(y), vdupq_n_f32(SB_SINCOSPI_BIG));
    const float32x4_t yr = vbslq_f32(small, y, vmulq_f32(y, vdupq_n_f32(0.0f)));
    const float32x4_t k = vrndnq_f32(vaddq_f32(yr, yr));
    const float32x4_t r = vfmaq_f32(yr, k, vdupq_n_f32(-0.5f)); /* exact */
    const uint32x4_t q = vreinterpretq_u32_s32(vcvtq_s32_f32(k));
    const float32x4_t r2 = vmulq_f32(r, r);

    float32x4_t ps = vfmaq_f32(vdupq_n_f32(SB_SINPI_S3), r2, vdupq_n_f32(SB_SINPI_S4));
    ps = vfmaq_f32(vdupq_n_f32(SB_SINPI_S2), r2, ps);
    ps = vfmaq_f32(vdupq_n_f32(SB_SINPI_S1), r2, ps);
    ps = vfmaq_f32(vdupq_n_f32(SB_PI_LO), r2, ps);
    const float32x4_t sr = vfmaq_f32(vmulq_f32(r, ps), r, vdupq_n_f32(SB_PI_HI));

    float32x4_t pc = vfmaq_f32(vdupq_n_f32(SB_COSPI_C4), r2, vdupq_n_f32(SB_COSPI_C5));
    pc = vfmaq_f32(vdupq_n_f32(SB_COSPI_C3), r2, pc);
    pc = vfmaq_f32(vdupq_n_f32(SB_COSPI_C2), r2, pc);
    pc = vfmaq_f32(vdupq_n_f32(SB_COSPI_C1), r2, pc);
    const float32x4_t cr = vfmaq_f32(vdupq_n_f32(1.0f), r2, pc);

    /* quadrant: bit 0 swaps, bit 1 of q (resp. q + 1) negates the sine (resp. cosine) */
    const uint32x4_t swap = vtstq_u32(q, vdupq_n_u32(1));
    const float32x4_t s0 = vbslq_f32(swap, cr, sr);
    const float32x4_t c0 = vbslq_f32(swap, sr, cr);
    const uint32x4_t two = vdupq_n_u32(2);
    const uint32x4_t sin_neg = vshlq_n_u32(vandq_u32(q, two), 30);
    const uint32x4_t cos_neg = vshlq_n_u32(vandq_u32(vaddq_u32(q, vdupq_n_u32(1)), two), 30);
    *s = vreinterpretq_f32_u32(veorq_u32(vreinterpretq_u32_f32(s0), sin_neg));
    *c = vreinterpretq_f32_u32(veorq_u32(vreinterpretq_u32_f32(c0), cos_neg));
}

/* exp(x), as sb_exp_u15_ref(). */
SBN_INLINE float32x4_t sbn_exp_u15(float32x4_t x)
{
    const float32x4_t hi = vdupq_n_f32(SB_EXP_HI), lo = vdupq_n_f32(SB_EXP_LO);
    x = vbslq_f32(vcgtq_f32(x, hi), hi, x); /* x > HI ? HI : x  (NaN stays) */
    x = vbslq_f32(vcltq_f32(x, lo), lo, x); /* x < LO ? LO : x */
    const float32x4_t n = vrndnq_f32(vmulq_f32(x, vdupq_n_f32(SB_LOG2E)));
    float32x4_t r = vfmaq_f32(x, n, vdupq_n_f32(-SB_LN2_HI));
    r = vfmaq_f32(r, n, vdupq_n_f32(-SB_LN2_LO));
    float32x4_t p = vfmaq_f32(vdupq_n_f32(SB_EXP_E6), vdupq_n_f32(SB_EXP_E7), r);
    p = vfmaq_f32(vdupq_n_f32(SB_EXP_E5), p, r);
    p = vfmaq_f32(vdupq_n_f32(SB_EXP_E4), p, r);
    p = vfmaq_f32(vdupq_n_f32(SB_EXP_E3), p, r);
    p = vfmaq_f32(vdupq_n_f32(SB_EXP_E2), p, r);
    const float32x4_t t = vfmaq_f32(r, p, vmulq_f32(r, r));
    const float32x4_t e = vaddq_f32(t, vdupq_n_f32(1.0f));
    /* 2^n from its exponent field; n in [-126, 127] after the clamp (NaN converts to 0) */
    const int32x4_t ni = vcvtq_s32_f32(n);
    const int32x4_t bits = vshlq_n_s32(vaddq_s32(ni, vdupq_n_s32(127)), 23);
    return vmulq_f32(e, vreinterpretq_f32_s32(bits));
}

/* 1 / (1 + exp(-z)), as sb_sigmoid_ref(). */
SBN_INLINE float32x4_t sbn_sigmoid(float32x4_t z)
{
    const float32x4_t one = vdupq_n_f32(1.0f);
    return vdivq_f32(one, vaddq_f32(one, sbn_exp_u15(vnegq_f32(z))));
}

#endif
