/* The SIMD vocabulary on AVX2+FMA: 8 float lanes per ymm.
 *
 * Every ISA's simd.h (kernels/avx2, kernels/avx512, kernels/neon) gives these same names and
 * meanings, so the kernels in kernels/shared/ are written once and compiled per ISA; this
 * header is the reference, and each name's contract is stated here. Everything is
 * `static inline`, forced inline, so a helper costs nothing over the intrinsic it wraps.
 *
 * Tails: the _m and _n loads and stores move the first lanes only. Lanes outside read as +0
 * and are never touched in memory (vmaskmovps neither faults nor writes there), so one vector
 * code path covers any length without reading or writing past the documented elements.
 * Every pointer may be unaligned.
 */
#ifndef SPECBIAS_KERNELS_AVX2_SIMD_H
#define SPECBIAS_KERNELS_AVX2_SIMD_H

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

#define SBV_W 8 /* float (and int32) lanes per sbv_f, sbv_i */
#define SBV_INLINE static inline __attribute__((always_inline))

typedef __m256 sbv_f;  /* SBV_W floats */
typedef __m256i sbv_m; /* lane mask: all ones in the lanes to use */
typedef __m256i sbv_i; /* SBV_W int32, for the bit work of the transcendentals */

/* ---- masks -------------------------------------------------------------------------------- */

/* The first min(rem, SBV_W) lanes. */
SBV_INLINE sbv_m sbv_mask_n(size_t rem)
{
    const int r = rem < SBV_W ? (int)rem : SBV_W;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(r), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* Lane l where bit l of `bits` is one (bits past SBV_W are ignored). */
SBV_INLINE sbv_m sbv_mask_bits(uint32_t bits)
{
    const __m256i sel = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    return _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32((int)bits), sel), sel);
}

/* ---- memory ------------------------------------------------------------------------------- */

SBV_INLINE sbv_f sbv_zero(void) { return _mm256_setzero_ps(); }
SBV_INLINE sbv_f sbv_set1(float v) { return _mm256_set1_ps(v); }
/* *p in every lane */
SBV_INLINE sbv_f sbv_bcast(const float *p) { return _mm256_broadcast_ss(p); }
SBV_INLINE sbv_f sbv_loadu(const float *p) { return _mm256_loadu_ps(p); }
SBV_INLINE void sbv_storeu(float *p, sbv_f v) { _mm256_storeu_ps(p, v); }
/* m made by sbv_mask_n: the lanes outside it read as +0 and are left alone in memory */
SBV_INLINE sbv_f sbv_loadu_m(const float *p, sbv_m m) { return _mm256_maskload_ps(p, m); }
SBV_INLINE void sbv_storeu_m(float *p, sbv_m m, sbv_f v) { _mm256_maskstore_ps(p, m, v); }

/* The first min(rem, SBV_W) floats at p, the rest +0 (rem may be 0); or store them. */
SBV_INLINE sbv_f sbv_loadu_n(const float *p, size_t rem)
{
    return rem >= SBV_W ? sbv_loadu(p) : sbv_loadu_m(p, sbv_mask_n(rem));
}
SBV_INLINE void sbv_storeu_n(float *p, size_t rem, sbv_f v)
{
    if (rem >= SBV_W)
        sbv_storeu(p, v);
    else
        sbv_storeu_m(p, sbv_mask_n(rem), v);
}

/* ---- arithmetic: each one IEEE operation per lane, correctly rounded ---------------------- */

SBV_INLINE sbv_f sbv_add(sbv_f a, sbv_f b) { return _mm256_add_ps(a, b); }
SBV_INLINE sbv_f sbv_sub(sbv_f a, sbv_f b) { return _mm256_sub_ps(a, b); }
SBV_INLINE sbv_f sbv_mul(sbv_f a, sbv_f b) { return _mm256_mul_ps(a, b); }
SBV_INLINE sbv_f sbv_div(sbv_f a, sbv_f b) { return _mm256_div_ps(a, b); }
SBV_INLINE sbv_f sbv_sqrt(sbv_f a) { return _mm256_sqrt_ps(a); }
/* fmaf(a, b, c): a * b + c with one rounding */
SBV_INLINE sbv_f sbv_fma(sbv_f a, sbv_f b, sbv_f c) { return _mm256_fmadd_ps(a, b, c); }
/* rintf: to nearest, ties to even (the default rounding mode) */
SBV_INLINE sbv_f sbv_rint(sbv_f a)
{
    return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
/* -a and fabsf(a): the sign bit flipped or cleared (NaN included) */
SBV_INLINE sbv_f sbv_neg(sbv_f a) { return _mm256_xor_ps(a, _mm256_set1_ps(-0.0f)); }
SBV_INLINE sbv_f sbv_abs(sbv_f a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
/* a < b ? a : b and a > b ? a : b exactly as C writes them: b when either is NaN (minps and
 * maxps are defined that way) */
SBV_INLINE sbv_f sbv_min(sbv_f a, sbv_f b) { return _mm256_min_ps(a, b); }
SBV_INLINE sbv_f sbv_max(sbv_f a, sbv_f b) { return _mm256_max_ps(a, b); }

/* ---- comparisons and selection ------------------------------------------------------------ */

/* a < b (ordered: a NaN lane is false, as in C) */
SBV_INLINE sbv_m sbv_lt(sbv_f a, sbv_f b)
{
    return _mm256_castps_si256(_mm256_cmp_ps(a, b, _CMP_LT_OQ));
}
/* m ? a : b */
SBV_INLINE sbv_f sbv_select(sbv_m m, sbv_f a, sbv_f b)
{
    return _mm256_blendv_ps(b, a, _mm256_castsi256_ps(m));
}
/* m ? a : +0 */
SBV_INLINE sbv_f sbv_keep(sbv_f a, sbv_m m) { return _mm256_and_ps(a, _mm256_castsi256_ps(m)); }

/* v = v > 0 ? v : +0 (NaN and -0 give +0); returns bit l set where lane l was > 0. */
SBV_INLINE uint32_t sbv_relu_bits(sbv_f *v)
{
    const __m256 on = _mm256_cmp_ps(*v, _mm256_setzero_ps(), _CMP_GT_OQ);
    *v = _mm256_and_ps(*v, on);
    return (uint32_t)_mm256_movemask_ps(on);
}

/* Lane l of the result is lane idx[l] of v (0 <= idx[l] < SBV_W). */
SBV_INLINE sbv_f sbv_permute(sbv_f v, sbv_i idx) { return _mm256_permutevar8x32_ps(v, idx); }

/* ---- int32 lanes ---------------------------------------------------------------------------- */

SBV_INLINE sbv_i sbv_i_set1(int32_t v) { return _mm256_set1_epi32(v); }
SBV_INLINE sbv_i sbv_i_loadu(const int32_t *p)
{
    return _mm256_loadu_si256((const __m256i *)(const void *)p);
}
SBV_INLINE sbv_i sbv_i_add(sbv_i a, sbv_i b) { return _mm256_add_epi32(a, b); }
/* (int32_t)a of an integral a, |a| < 2^31. A NaN lane gives INT32_MIN here and 0 on NEON;
 * sbv_odd, sbv_flip_sign_if_bit1 and sbv_pow2i treat the two alike (both have bits 0-8
 * clear), so the results agree. */
SBV_INLINE sbv_i sbv_cvt_i32(sbv_f a) { return _mm256_cvttps_epi32(a); }
/* the lanes where q is odd */
SBV_INLINE sbv_m sbv_odd(sbv_i q)
{
    const __m256i one = _mm256_set1_epi32(1);
    return _mm256_cmpeq_epi32(_mm256_and_si256(q, one), one);
}
/* v with its sign flipped in the lanes where bit 1 of q is set */
SBV_INLINE sbv_f sbv_flip_sign_if_bit1(sbv_f v, sbv_i q)
{
    const __m256i sign = _mm256_slli_epi32(_mm256_and_si256(q, _mm256_set1_epi32(2)), 30);
    return _mm256_xor_ps(v, _mm256_castsi256_ps(sign));
}
/* 2^n, n in [-126, 127], built in the exponent field (exact) */
SBV_INLINE sbv_f sbv_pow2i(sbv_i n)
{
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n, _mm256_set1_epi32(127)), 23));
}

/* ---- 64-bit words (activation patterns) ----------------------------------------------------- */

#define SBV_W64 4 /* uint64 lanes per sbv_u64 */
typedef __m256i sbv_u64;

SBV_INLINE sbv_u64 sbv_u64_zero(void) { return _mm256_setzero_si256(); }
/* the first min(rem, SBV_W64) words at p, the rest 0 (rem may be 0) */
SBV_INLINE sbv_u64 sbv_u64_loadu_n(const uint64_t *p, size_t rem)
{
    if (rem >= SBV_W64) return _mm256_loadu_si256((const __m256i *)(const void *)p);
    const long long r = (long long)rem;
    const __m256i m = _mm256_cmpgt_epi64(_mm256_set1_epi64x(r), _mm256_setr_epi64x(0, 1, 2, 3));
    return _mm256_maskload_epi64((const long long *)(const void *)p, m);
}
SBV_INLINE sbv_u64 sbv_u64_xor(sbv_u64 a, sbv_u64 b) { return _mm256_xor_si256(a, b); }
SBV_INLINE sbv_u64 sbv_u64_add(sbv_u64 a, sbv_u64 b) { return _mm256_add_epi64(a, b); }
/* popcount of each word: nibble lookups per byte (Mula), summed per word by psadbw */
SBV_INLINE sbv_u64 sbv_u64_popcnt(sbv_u64 v)
{
    const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
                                         0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
    const __m256i low = _mm256_set1_epi8(0x0F);
    const __m256i lo = _mm256_and_si256(v, low);
    const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low);
    const __m256i cnt = _mm256_add_epi8(_mm256_shuffle_epi8(lut, lo), _mm256_shuffle_epi8(lut, hi));
    return _mm256_sad_epu8(cnt, _mm256_setzero_si256());
}
/* the sum of the lanes */
SBV_INLINE uint64_t sbv_u64_sum(sbv_u64 v)
{
    _Alignas(32) uint64_t lane[SBV_W64];
    _mm256_store_si256((__m256i *)(void *)lane, v);
    return lane[0] + lane[1] + lane[2] + lane[3];
}

/* ---- uint32 lanes for the pattern hash ------------------------------------------------------ */

/* The hash runs 8 independent 32-bit lanes (kernels.h); SBV_W32 divides 8. */
#define SBV_W32 8
typedef __m256i sbv_u32;

SBV_INLINE sbv_u32 sbv_u32_loadu(const uint32_t *p)
{
    return _mm256_loadu_si256((const __m256i *)(const void *)p);
}
SBV_INLINE void sbv_u32_storeu(uint32_t *p, sbv_u32 v)
{
    _mm256_storeu_si256((__m256i *)(void *)p, v);
}
SBV_INLINE sbv_u32 sbv_u32_set1(uint32_t v) { return _mm256_set1_epi32((int)v); }
/* The SBV_W32 / 2 words at p, min(rem, SBV_W32 / 2) of them (the rest 0), as SBV_W32 uint32:
 * on little-endian x86 word i is lanes 2i (low half) and 2i + 1 (high half). */
SBV_INLINE sbv_u32 sbv_u32_words_n(const uint64_t *p, size_t rem)
{
    return sbv_u64_loadu_n(p, rem);
}
SBV_INLINE sbv_u32 sbv_u32_xor(sbv_u32 a, sbv_u32 b) { return _mm256_xor_si256(a, b); }
/* the low 32 bits of a * b */
SBV_INLINE sbv_u32 sbv_u32_mul(sbv_u32 a, sbv_u32 b) { return _mm256_mullo_epi32(a, b); }
SBV_INLINE sbv_u32 sbv_u32_shr(sbv_u32 a, int n) { return _mm256_srli_epi32(a, n); }

#endif
