/* The SIMD vocabulary on NEON (aarch64 ASIMD): 4 float lanes per q-register. The names and
 * their contracts are those of kernels/avx2/simd.h (the reference).
 *
 * NEON has no masked loads or stores, so a partial vector (1..3 lanes at the end of a row)
 * is moved with single-lane loads and stores: lanes past the valid ones read as +0 and are
 * never stored, and no element outside the documented range is touched. A lane mask is a
 * vector of all-ones or zero lanes, as the compares make them. */
#ifndef SPECBIAS_KERNELS_NEON_SIMD_H
#define SPECBIAS_KERNELS_NEON_SIMD_H

#include <arm_neon.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the NEON kernels assume little-endian aarch64 (pattern_hash reads 32-bit halves)"
#endif

#define SBV_W 4 /* float (and int32) lanes per sbv_f, sbv_i */
#define SBV_INLINE static inline __attribute__((always_inline))

typedef float32x4_t sbv_f;
typedef uint32x4_t sbv_m;
typedef int32x4_t sbv_i;

/* ---- masks -------------------------------------------------------------------------------- */

SBV_INLINE sbv_m sbv_mask_n(size_t rem)
{
    static const uint32_t idx[SBV_W] = {0, 1, 2, 3};
    return vcltq_u32(vld1q_u32(idx), vdupq_n_u32(rem < SBV_W ? (uint32_t)rem : SBV_W));
}
SBV_INLINE sbv_m sbv_mask_bits(uint32_t bits)
{
    static const uint32_t bit[SBV_W] = {1, 2, 4, 8};
    return vtstq_u32(vdupq_n_u32(bits), vld1q_u32(bit));
}

/* ---- memory ------------------------------------------------------------------------------- */

SBV_INLINE sbv_f sbv_zero(void) { return vdupq_n_f32(0.0f); }
SBV_INLINE sbv_f sbv_set1(float v) { return vdupq_n_f32(v); }
/* ld1r: the load and the broadcast are one instruction */
SBV_INLINE sbv_f sbv_bcast(const float *p) { return vld1q_dup_f32(p); }
SBV_INLINE sbv_f sbv_loadu(const float *p) { return vld1q_f32(p); }
SBV_INLINE void sbv_storeu(float *p, sbv_f v) { vst1q_f32(p, v); }

SBV_INLINE sbv_f sbv_loadu_n(const float *p, size_t rem)
{
    if (rem >= SBV_W) return vld1q_f32(p);
    float32x4_t v = vdupq_n_f32(0.0f);
    if (rem > 0) v = vld1q_lane_f32(p, v, 0);
    if (rem > 1) v = vld1q_lane_f32(p + 1, v, 1);
    if (rem > 2) v = vld1q_lane_f32(p + 2, v, 2);
    return v;
}
SBV_INLINE void sbv_storeu_n(float *p, size_t rem, sbv_f v)
{
    if (rem >= SBV_W) {
        vst1q_f32(p, v);
        return;
    }
    if (rem > 0) vst1q_lane_f32(p, v, 0);
    if (rem > 1) vst1q_lane_f32(p + 1, v, 1);
    if (rem > 2) vst1q_lane_f32(p + 2, v, 2);
}

/* A mask from sbv_mask_n is a prefix of all-ones (-1) lanes: minus their sum is its lane
 * count. Only the tails use these; where the mask is a loop invariant the count is too. */
SBV_INLINE size_t neon_mask_lanes(sbv_m m) { return (size_t)-vaddvq_s32(vreinterpretq_s32_u32(m)); }
SBV_INLINE sbv_f sbv_loadu_m(const float *p, sbv_m m) { return sbv_loadu_n(p, neon_mask_lanes(m)); }
SBV_INLINE void sbv_storeu_m(float *p, sbv_m m, sbv_f v) { sbv_storeu_n(p, neon_mask_lanes(m), v); }

/* ---- arithmetic --------------------------------------------------------------------------- */

SBV_INLINE sbv_f sbv_add(sbv_f a, sbv_f b) { return vaddq_f32(a, b); }
SBV_INLINE sbv_f sbv_sub(sbv_f a, sbv_f b) { return vsubq_f32(a, b); }
SBV_INLINE sbv_f sbv_mul(sbv_f a, sbv_f b) { return vmulq_f32(a, b); }
SBV_INLINE sbv_f sbv_div(sbv_f a, sbv_f b) { return vdivq_f32(a, b); }
SBV_INLINE sbv_f sbv_sqrt(sbv_f a) { return vsqrtq_f32(a); }
/* vfmaq_f32(c, a, b) is FMLA: c + a * b, one rounding */
SBV_INLINE sbv_f sbv_fma(sbv_f a, sbv_f b, sbv_f c) { return vfmaq_f32(c, a, b); }
/* FRINTN: to nearest, ties to even */
SBV_INLINE sbv_f sbv_rint(sbv_f a) { return vrndnq_f32(a); }
SBV_INLINE sbv_f sbv_neg(sbv_f a) { return vnegq_f32(a); }
SBV_INLINE sbv_f sbv_abs(sbv_f a) { return vabsq_f32(a); }
/* A compare and a select, never FMIN/FMAX, whose NaN rules differ from C's a < b ? a : b. */
SBV_INLINE sbv_f sbv_min(sbv_f a, sbv_f b) { return vbslq_f32(vcltq_f32(a, b), a, b); }
SBV_INLINE sbv_f sbv_max(sbv_f a, sbv_f b) { return vbslq_f32(vcgtq_f32(a, b), a, b); }

/* ---- comparisons and selection ------------------------------------------------------------ */

SBV_INLINE sbv_m sbv_lt(sbv_f a, sbv_f b) { return vcltq_f32(a, b); }
SBV_INLINE sbv_f sbv_select(sbv_m m, sbv_f a, sbv_f b) { return vbslq_f32(m, a, b); }
SBV_INLINE sbv_f sbv_keep(sbv_f a, sbv_m m)
{
    return vreinterpretq_f32_u32(vandq_u32(m, vreinterpretq_u32_f32(a)));
}
SBV_INLINE uint32_t sbv_relu_bits(sbv_f *v)
{
    static const uint32_t bit[SBV_W] = {1, 2, 4, 8};
    const uint32x4_t on = vcgtq_f32(*v, vdupq_n_f32(0.0f));
    *v = sbv_keep(*v, on);
    return vaddvq_u32(vandq_u32(on, vld1q_u32(bit)));
}
/* TBL on bytes: lane l takes bytes 4 idx[l] .. 4 idx[l] + 3 (idx[l] <= 3, so idx * 0x04040404
 * carries nothing between bytes) */
SBV_INLINE sbv_f sbv_permute(sbv_f v, sbv_i idx)
{
    const uint32x4_t bytes =
        vmlaq_n_u32(vdupq_n_u32(0x03020100u), vreinterpretq_u32_s32(idx), 0x04040404u);
    return vreinterpretq_f32_u8(vqtbl1q_u8(vreinterpretq_u8_f32(v), vreinterpretq_u8_u32(bytes)));
}

/* ---- int32 lanes ---------------------------------------------------------------------------- */

SBV_INLINE sbv_i sbv_i_set1(int32_t v) { return vdupq_n_s32(v); }
SBV_INLINE sbv_i sbv_i_loadu(const int32_t *p) { return vld1q_s32(p); }
SBV_INLINE sbv_i sbv_i_add(sbv_i a, sbv_i b) { return vaddq_s32(a, b); }
/* FCVTZS: exact for an integral a; a NaN lane gives 0 */
SBV_INLINE sbv_i sbv_cvt_i32(sbv_f a) { return vcvtq_s32_f32(a); }
SBV_INLINE sbv_m sbv_odd(sbv_i q) { return vtstq_s32(q, vdupq_n_s32(1)); }
SBV_INLINE sbv_f sbv_flip_sign_if_bit1(sbv_f v, sbv_i q)
{
    const int32x4_t sign = vshlq_n_s32(vandq_s32(q, vdupq_n_s32(2)), 30);
    return vreinterpretq_f32_s32(veorq_s32(vreinterpretq_s32_f32(v), sign));
}
SBV_INLINE sbv_f sbv_pow2i(sbv_i n)
{
    return vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n, vdupq_n_s32(127)), 23));
}

/* ---- 64-bit words ------------------------------------------------------------------------ */

#define SBV_W64 2
typedef uint64x2_t sbv_u64;

SBV_INLINE sbv_u64 sbv_u64_zero(void) { return vdupq_n_u64(0); }
SBV_INLINE sbv_u64 sbv_u64_loadu_n(const uint64_t *p, size_t rem)
{
    if (rem >= SBV_W64) return vld1q_u64(p);
    return rem ? vcombine_u64(vld1_u64(p), vdup_n_u64(0)) : vdupq_n_u64(0);
}
SBV_INLINE sbv_u64 sbv_u64_xor(sbv_u64 a, sbv_u64 b) { return veorq_u64(a, b); }
SBV_INLINE sbv_u64 sbv_u64_add(sbv_u64 a, sbv_u64 b) { return vaddq_u64(a, b); }
/* CNT per byte, then pairwise widening adds up to each word */
SBV_INLINE sbv_u64 sbv_u64_popcnt(sbv_u64 v)
{
    return vpaddlq_u32(vpaddlq_u16(vpaddlq_u8(vcntq_u8(vreinterpretq_u8_u64(v)))));
}
SBV_INLINE uint64_t sbv_u64_sum(sbv_u64 v) { return vaddvq_u64(v); }

/* ---- uint32 lanes for the pattern hash ------------------------------------------------------ */

#define SBV_W32 4
typedef uint32x4_t sbv_u32;

SBV_INLINE sbv_u32 sbv_u32_loadu(const uint32_t *p) { return vld1q_u32(p); }
SBV_INLINE void sbv_u32_storeu(uint32_t *p, sbv_u32 v) { vst1q_u32(p, v); }
SBV_INLINE sbv_u32 sbv_u32_set1(uint32_t v) { return vdupq_n_u32(v); }
/* little-endian: word i is lanes 2i (low half) and 2i + 1 (high half) */
SBV_INLINE sbv_u32 sbv_u32_words_n(const uint64_t *p, size_t rem)
{
    return vreinterpretq_u32_u64(sbv_u64_loadu_n(p, rem));
}
SBV_INLINE sbv_u32 sbv_u32_xor(sbv_u32 a, sbv_u32 b) { return veorq_u32(a, b); }
SBV_INLINE sbv_u32 sbv_u32_mul(sbv_u32 a, sbv_u32 b) { return vmulq_u32(a, b); }
/* USHL by a negative count is a right shift; unlike vshrq_n it takes a count that is a
 * constant only after inlining */
SBV_INLINE sbv_u32 sbv_u32_shr(sbv_u32 a, int n) { return vshlq_u32(a, vdupq_n_s32(-n)); }

#endif
