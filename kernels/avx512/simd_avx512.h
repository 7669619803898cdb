/* Thin AVX-512 helpers shared by the kernels in kernels/avx512/: 16 float lanes, __mmask16
 * tail masks, masked loads and stores.
 *
 * The same sources build twice: natively (-mavx512f -mavx512bw -mavx512dq -mavx512vl) and,
 * with SB_AVX512_EMULATE, against SIMDe so that machines without AVX-512 can run the
 * bit-exact tests (CMakeLists.txt, "AVX-512 under emulation"). Kernels use only the standard
 * Intel intrinsic names; where the SIMDe in use lacks one (Debian's 0.7.4 has no masked
 * loads/stores and no float->int conversions at 512 bits), the emulated build gets a
 * stand-in below built from AVX2 intrinsics that SIMDe maps to real instructions. The
 * stand-ins are defined only when SIMDe has no alias of that name, so a newer SIMDe's own
 * implementation wins. Masked stand-ins use vmaskmov, which never touches masked-off
 * memory, so the guard-zone tests mean the same in both builds. */
#ifndef SPECBIAS_KERNELS_AVX512_SIMD_H
#define SPECBIAS_KERNELS_AVX512_SIMD_H

#include <stddef.h>
#include <stdint.h>

#ifdef SB_AVX512_EMULATE
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>
#else
#include <immintrin.h>
#endif

#define SB_W 16 /* float lanes per zmm */

/* Every helper that takes or returns a vector is forced inline. Besides speed, this keeps the
 * emulated build quiet: there __m512 is a type the target (AVX2) passes in memory, and GCC
 * notes the ABI change (-Wpsabi) for any such function left out of line. */
#define SB_INLINE static inline __attribute__((always_inline))

/* ---- stand-ins for intrinsics this SIMDe lacks (emulated build only) ------------------- */
#ifdef SB_AVX512_EMULATE

/* The 8-lane vmaskmov mask of bits `k` (bit l set -> lane l all ones). */
SB_INLINE __m256i sb_emu_lanes_of_bits8(unsigned k)
{
    const __m256i bit = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    const __m256i sel = _mm256_and_si256(_mm256_set1_epi32((int)k), bit);
    return _mm256_cmpeq_epi32(sel, bit);
}

/* The 4-lane (64-bit) vmaskmov mask of bits `k`. */
SB_INLINE __m256i sb_emu_lanes_of_bits4(unsigned k)
{
    const __m256i bit = _mm256_setr_epi64x(1, 2, 4, 8);
    const __m256i sel = _mm256_and_si256(_mm256_set1_epi64x((long long)k), bit);
    return _mm256_cmpeq_epi64(sel, bit);
}

#ifndef _mm512_maskz_loadu_ps
SB_INLINE __m512 sb_emu_mm512_maskz_loadu_ps(__mmask16 k, const void *p)
{
    const float *f = (const float *)p;
    const unsigned u = (unsigned)k;
    const __m256 lo = _mm256_maskload_ps(f, sb_emu_lanes_of_bits8(u & 0xFFu));
    const __m256 hi = _mm256_maskload_ps(f + 8, sb_emu_lanes_of_bits8(u >> 8));
    return _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1);
}
#define _mm512_maskz_loadu_ps(k, p) sb_emu_mm512_maskz_loadu_ps((k), (p))
#endif

#ifndef _mm512_mask_storeu_ps
SB_INLINE void sb_emu_mm512_mask_storeu_ps(void *p, __mmask16 k, __m512 v)
{
    float *f = (float *)p;
    const unsigned u = (unsigned)k;
    const __m256 lo = _mm512_castps512_ps256(v);
    const __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    _mm256_maskstore_ps(f, sb_emu_lanes_of_bits8(u & 0xFFu), lo);
    _mm256_maskstore_ps(f + 8, sb_emu_lanes_of_bits8(u >> 8), hi);
}
#define _mm512_mask_storeu_ps(p, k, v) sb_emu_mm512_mask_storeu_ps((p), (k), (v))
#endif

#ifndef _mm512_maskz_loadu_epi64
SB_INLINE __m512i sb_emu_mm512_maskz_loadu_epi64(__mmask8 k, const void *p)
{
    const long long *q = (const long long *)p;
    const unsigned u = (unsigned)k;
    const __m256i lo = _mm256_maskload_epi64(q, sb_emu_lanes_of_bits4(u & 0xFu));
    const __m256i hi = _mm256_maskload_epi64(q + 4, sb_emu_lanes_of_bits4(u >> 4));
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}
#define _mm512_maskz_loadu_epi64(k, p) sb_emu_mm512_maskz_loadu_epi64((k), (p))
#endif

#ifndef _mm512_cvttps_epi32
SB_INLINE __m512i sb_emu_mm512_cvttps_epi32(__m512 v)
{
    const __m256 lo = _mm512_castps512_ps256(v);
    const __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_cvttps_epi32(lo)),
                              _mm256_cvttps_epi32(hi), 1);
}
#define _mm512_cvttps_epi32(v) sb_emu_mm512_cvttps_epi32(v)
#endif

#endif /* SB_AVX512_EMULATE */

/* ---- helpers ----------------------------------------------------------------------------- */

/* Lanes 0 .. min(rem, 16) - 1. */
SB_INLINE __mmask16 sb_tail16(size_t rem)
{
    return rem >= SB_W ? (__mmask16)0xFFFFu : (__mmask16)((1u << rem) - 1u);
}

/* Lanes 0 .. min(rem, 8) - 1 (64-bit lanes). */
SB_INLINE __mmask8 sb_tail8(size_t rem)
{
    return rem >= 8 ? (__mmask8)0xFFu : (__mmask8)((1u << rem) - 1u);
}

SB_INLINE __m512 sb_load(const float *p) { return _mm512_loadu_ps(p); }
SB_INLINE __m512 sb_load_m(__mmask16 m, const float *p) { return _mm512_maskz_loadu_ps(m, p); }
SB_INLINE void sb_store(float *p, __m512 v) { _mm512_storeu_ps(p, v); }
SB_INLINE void sb_store_m(float *p, __mmask16 m, __m512 v) { _mm512_mask_storeu_ps(p, m, v); }
SB_INLINE __m512 sb_set1(float x) { return _mm512_set1_ps(x); }
/* fmaf(a, b, c), one rounding */
SB_INLINE __m512 sb_fma(__m512 a, __m512 b, __m512 c) { return _mm512_fmadd_ps(a, b, c); }

/* Flips the sign bit of each lane whose `bits` lane has bit 31 set. */
SB_INLINE __m512 sb_xor_sign(__m512 x, __m512i bits)
{
    return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(x), bits));
}

/* ---- the vocabulary of kernels/dense_tiles.h (reference: kernels/avx2/simd_avx2.h) ---- */

typedef __m512 sbv_f;
typedef __mmask16 sbv_m;
#define SBV_W 16
#define SBV_INLINE SB_INLINE

SBV_INLINE sbv_m sbv_mask_n(size_t rem) { return sb_tail16(rem); }
SBV_INLINE sbv_m sbv_mask_bits(uint32_t bits) { return (sbv_m)(bits & 0xFFFFu); }
SBV_INLINE sbv_f sbv_zero(void) { return _mm512_setzero_ps(); }
SBV_INLINE sbv_f sbv_bcast(const float *p) { return _mm512_set1_ps(*p); }
SBV_INLINE sbv_f sbv_fma(sbv_f a, sbv_f b, sbv_f c) { return _mm512_fmadd_ps(a, b, c); }
SBV_INLINE sbv_f sbv_add(sbv_f a, sbv_f b) { return _mm512_add_ps(a, b); }
/* a where m is set, +0 elsewhere */
SBV_INLINE sbv_f sbv_keep(sbv_f a, sbv_m m) { return _mm512_maskz_mov_ps(m, a); }
SBV_INLINE sbv_f sbv_loadu(const float *p) { return _mm512_loadu_ps(p); }
SBV_INLINE void sbv_storeu(float *p, sbv_f v) { _mm512_storeu_ps(p, v); }
SBV_INLINE sbv_f sbv_loadu_m(const float *p, sbv_m m) { return _mm512_maskz_loadu_ps(m, p); }
SBV_INLINE void sbv_storeu_m(float *p, sbv_m m, sbv_f v) { _mm512_mask_storeu_ps(p, m, v); }
SBV_INLINE sbv_f sbv_loadu_n(const float *p, size_t rem)
{
    return rem >= SBV_W ? sbv_loadu(p) : sbv_loadu_m(p, sbv_mask_n(rem));
}
SBV_INLINE void sbv_storeu_n(float *p, size_t rem, sbv_f v)
{
    if (rem >= SBV_W) sbv_storeu(p, v);
    else sbv_storeu_m(p, sbv_mask_n(rem), v);
}
/* v = v > 0 ? v : +0 (NaN and -0 give +0); returns bit l set where lane l was > 0. */
SBV_INLINE uint32_t sbv_relu_bits(sbv_f *v)
{
    const __mmask16 on = _mm512_cmp_ps_mask(*v, _mm512_setzero_ps(), _CMP_GT_OQ);
    *v = _mm512_maskz_mov_ps(on, *v);
    return (uint32_t)on;
}

#endif
