/* Thin helpers for the NEON (aarch64 ASIMD) kernels: 4 float lanes per q-register.
 *
 * NEON has no masked loads or stores, so a partial vector (1..3 lanes at the end of a row)
 * is moved with single-lane loads and stores: lanes past the valid ones read as +0 and are
 * never stored, and no element outside the documented range is touched. The arithmetic on
 * a partial vector is the same vector code as on a full one, so tails need no scalar path. */
#ifndef SPECBIAS_NEON_SIMD_H
#define SPECBIAS_NEON_SIMD_H

#include <arm_neon.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the NEON kernels assume little-endian aarch64 (pattern_hash reads 32-bit halves)"
#endif

#define SBN_W 4 /* float lanes per vector */
#define SBN_INLINE static inline __attribute__((always_inline))

SBN_INLINE size_t sbn_min(size_t a, size_t b) { return a < b ? a : b; }

/* Lanes 0 .. lanes-1 from p (1 <= lanes <= 4), the others +0. Reads nothing past
 * p[lanes - 1]. */
SBN_INLINE float32x4_t sbn_load_n(const float *p, size_t lanes)
{
    if (lanes >= SBN_W) return vld1q_f32(p);
    float32x4_t v = vdupq_n_f32(0.0f);
    v = vld1q_lane_f32(p, v, 0);
    if (lanes > 1) v = vld1q_lane_f32(p + 1, v, 1);
    if (lanes > 2) v = vld1q_lane_f32(p + 2, v, 2);
    return v;
}

/* Stores lanes 0 .. lanes-1 of v to p (1 <= lanes <= 4); writes nothing past p[lanes - 1]. */
SBN_INLINE void sbn_store_n(float *p, float32x4_t v, size_t lanes)
{
    if (lanes >= SBN_W) {
        vst1q_f32(p, v);
        return;
    }
    vst1q_lane_f32(p, v, 0);
    if (lanes > 1) vst1q_lane_f32(p + 1, v, 1);
    if (lanes > 2) vst1q_lane_f32(p + 2, v, 2);
}

/* All-ones in lanes 0 .. lanes-1, zero in the others. */
SBN_INLINE uint32x4_t sbn_lane_mask(size_t lanes)
{
    static const uint32_t idx[SBN_W] = {0, 1, 2, 3};
    return vcltq_u32(vld1q_u32(idx), vdupq_n_u32((uint32_t)sbn_min(lanes, SBN_W)));
}

/* Bit l of the result is lane l of a compare mask (all-ones or zero per lane). */
SBN_INLINE uint32_t sbn_movemask(uint32x4_t m)
{
    static const uint32_t bit[SBN_W] = {1, 2, 4, 8};
    return vaddvq_u32(vandq_u32(m, vld1q_u32(bit)));
}

/* The inverse: lane l all-ones where bit l of `bits` is set. */
SBN_INLINE uint32x4_t sbn_bits_to_mask(uint32_t bits)
{
    static const uint32_t bit[SBN_W] = {1, 2, 4, 8};
    return vtstq_u32(vdupq_n_u32(bits), vld1q_u32(bit));
}

/* cond ? v : +0, lane by lane (bitwise AND with the all-ones/zero mask). */
SBN_INLINE float32x4_t sbn_and_mask(uint32x4_t cond, float32x4_t v)
{
    return vreinterpretq_f32_u32(vandq_u32(cond, vreinterpretq_u32_f32(v)));
}

#endif
