/* Thin AVX2+FMA vector helpers, so the kernels of every ISA read alike.
 *
 * SBV_W floats per vector. Tails are handled by masked loads and stores (vmaskmovps):
 * masked-out lanes read as +0 and are never touched in memory (no fault, no write), so one
 * vector code path covers any length without reading or writing past the documented
 * elements. Every pointer may be unaligned.
 */
#ifndef SPECBIAS_SIMD_AVX2_H
#define SPECBIAS_SIMD_AVX2_H

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

#define SBV_W 8 /* floats (or uint32) per vector */
#define SBV_W64 4 /* uint64 per vector */
#define SBV_INLINE static inline __attribute__((always_inline))

typedef __m256 sbv_f;  /* 8 floats */
typedef __m256i sbv_m; /* lane mask: all ones in the lanes to use */

/* The mask of the first min(rem, 8) lanes. */
SBV_INLINE sbv_m sbv_mask_n(size_t rem)
{
    const int r = rem < SBV_W ? (int)rem : SBV_W;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(r), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* The mask of the first min(rem, 4) 64-bit lanes. */
SBV_INLINE sbv_m sbv_mask64_n(size_t rem)
{
    const long long r = rem < SBV_W64 ? (long long)rem : SBV_W64;
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(r), _mm256_setr_epi64x(0, 1, 2, 3));
}

/* Lane l set where bit l of `bits` (the low 8 bits) is one. */
SBV_INLINE sbv_m sbv_mask_bits(uint32_t bits)
{
    const __m256i sel = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    return _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32((int)bits), sel), sel);
}

SBV_INLINE sbv_f sbv_zero(void) { return _mm256_setzero_ps(); }
SBV_INLINE sbv_f sbv_set1(float v) { return _mm256_set1_ps(v); }
SBV_INLINE sbv_f sbv_bcast(const float *p) { return _mm256_broadcast_ss(p); }
SBV_INLINE sbv_f sbv_fma(sbv_f a, sbv_f b, sbv_f c) { return _mm256_fmadd_ps(a, b, c); }
SBV_INLINE sbv_f sbv_add(sbv_f a, sbv_f b) { return _mm256_add_ps(a, b); }
SBV_INLINE sbv_f sbv_sub(sbv_f a, sbv_f b) { return _mm256_sub_ps(a, b); }
SBV_INLINE sbv_f sbv_mul(sbv_f a, sbv_f b) { return _mm256_mul_ps(a, b); }
SBV_INLINE sbv_f sbv_div(sbv_f a, sbv_f b) { return _mm256_div_ps(a, b); }
/* a where the mask is set, +0 elsewhere */
SBV_INLINE sbv_f sbv_keep(sbv_f a, sbv_m m) { return _mm256_and_ps(a, _mm256_castsi256_ps(m)); }

SBV_INLINE sbv_f sbv_loadu(const float *p) { return _mm256_loadu_ps(p); }
SBV_INLINE void sbv_storeu(float *p, sbv_f v) { _mm256_storeu_ps(p, v); }
SBV_INLINE sbv_f sbv_loadu_m(const float *p, sbv_m m) { return _mm256_maskload_ps(p, m); }
SBV_INLINE void sbv_storeu_m(float *p, sbv_m m, sbv_f v) { _mm256_maskstore_ps(p, m, v); }

/* v = v > 0 ? v : +0 (NaN and -0 give +0); returns bit l set where lane l was > 0. */
SBV_INLINE uint32_t sbv_relu_bits(sbv_f *v)
{
    const __m256 on = _mm256_cmp_ps(*v, _mm256_setzero_ps(), _CMP_GT_OQ);
    *v = _mm256_and_ps(*v, on);
    return (uint32_t)_mm256_movemask_ps(on);
}

/* The first min(rem, 8) floats at p (the rest +0), or store them. */
SBV_INLINE sbv_f sbv_loadu_n(const float *p, size_t rem)
{
    return rem >= SBV_W ? sbv_loadu(p) : sbv_loadu_m(p, sbv_mask_n(rem));
}
SBV_INLINE void sbv_storeu_n(float *p, size_t rem, sbv_f v)
{
    if (rem >= SBV_W) sbv_storeu(p, v);
    else sbv_storeu_m(p, sbv_mask_n(rem), v);
}

/* The first min(rem, 4) uint64 at p (the rest 0). */
SBV_INLINE __m256i sbv_loadu64_n(const uint64_t *p, size_t rem)
{
    return rem >= SBV_W64 ? _mm256_loadu_si256((const __m256i *)(const void *)p)
                          : _mm256_maskload_epi64((const long long *)(const void *)p,
                                                  sbv_mask64_n(rem));
}

#endif
