/* The SIMD vocabulary on AVX-512 (F, BW, DQ, VL): 16 float lanes per zmm, __mmask16 lane
 * masks. The names and their contracts are those of kernels/avx2/simd.h (the reference).
 *
 * The same sources build twice: natively (-mavx512f -mavx512bw -mavx512dq -mavx512vl) and,
 * with SB_AVX512_EMULATE, against SIMDe so that machines without AVX-512 can run the
 * bit-exact tests (CMakeLists.txt, "AVX-512 under emulation"). This header uses only the
 * standard Intel intrinsic names; where the SIMDe in use lacks one (Debian's 0.7.4 has no
 * masked loads/stores and no float->int conversions at 512 bits), the emulated build gets a
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

#define SBV_W 16 /* float (and int32) lanes per sbv_f, sbv_i */
/* Every helper that takes or returns a vector is forced inline. Besides speed, this keeps the
 * emulated build quiet: there __m512 is a type the target (AVX2) passes in memory, and GCC
 * notes the ABI change (-Wpsabi) for any such function left out of line. */
#define SBV_INLINE static inline __attribute__((always_inline))

/* ---- stand-ins for intrinsics this SIMDe lacks (emulated build only) ------------------- */
#ifdef SB_AVX512_EMULATE

/* The 8-lane vmaskmov mask of bits `k` (bit l set -> lane l all ones). */
SBV_INLINE __m256i emu_lanes_of_bits8(unsigned k)
{
    const __m256i bit = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    const __m256i sel = _mm256_and_si256(_mm256_set1_epi32((int)k), bit);
    return _mm256_cmpeq_epi32(sel, bit);
}

/* The 4-lane (64-bit) vmaskmov mask of bits `k`. */
SBV_INLINE __m256i emu_lanes_of_bits4(unsigned k)
{
    const __m256i bit = _mm256_setr_epi64x(1, 2, 4, 8);
    const __m256i sel = _mm256_and_si256(_mm256_set1_epi64x((long long)k), bit);
    return _mm256_cmpeq_epi64(sel, bit);
}

#ifndef _mm512_maskz_loadu_ps
SBV_INLINE __m512 emu_mm512_maskz_loadu_ps(__mmask16 k, const void *p)
{
    const float *f = (const float *)p;
    const unsigned u = (unsigned)k;
    const __m256 lo = _mm256_maskload_ps(f, emu_lanes_of_bits8(u & 0xFFu));
    const __m256 hi = _mm256_maskload_ps(f + 8, emu_lanes_of_bits8(u >> 8));
    return _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1);
}
#define _mm512_maskz_loadu_ps(k, p) emu_mm512_maskz_loadu_ps((k), (p))
#endif

#ifndef _mm512_mask_storeu_ps
SBV_INLINE void emu_mm512_mask_storeu_ps(void *p, __mmask16 k, __m512 v)
{
    float *f = (float *)p;
    const unsigned u = (unsigned)k;
    const __m256 lo = _mm512_castps512_ps256(v);
    const __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    _mm256_maskstore_ps(f, emu_lanes_of_bits8(u & 0xFFu), lo);
    _mm256_maskstore_ps(f + 8, emu_lanes_of_bits8(u >> 8), hi);
}
#define _mm512_mask_storeu_ps(p, k, v) emu_mm512_mask_storeu_ps((p), (k), (v))
#endif

#ifndef _mm512_maskz_loadu_epi64
SBV_INLINE __m512i emu_mm512_maskz_loadu_epi64(__mmask8 k, const void *p)
{
    const long long *q = (const long long *)p;
    const unsigned u = (unsigned)k;
    const __m256i lo = _mm256_maskload_epi64(q, emu_lanes_of_bits4(u & 0xFu));
    const __m256i hi = _mm256_maskload_epi64(q + 4, emu_lanes_of_bits4(u >> 4));
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}
#define _mm512_maskz_loadu_epi64(k, p) emu_mm512_maskz_loadu_epi64((k), (p))
#endif

#ifndef _mm512_cvttps_epi32
SBV_INLINE __m512i emu_mm512_cvttps_epi32(__m512 v)
{
    const __m256 lo = _mm512_castps512_ps256(v);
    const __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_cvttps_epi32(lo)),
                              _mm256_cvttps_epi32(hi), 1);
}
#define _mm512_cvttps_epi32(v) emu_mm512_cvttps_epi32(v)
#endif

#endif /* SB_AVX512_EMULATE */

/* ---- the vocabulary ---------------------------------------------------------------------- */

typedef __m512 sbv_f;
typedef __mmask16 sbv_m;
typedef __m512i sbv_i;

SBV_INLINE sbv_m sbv_mask_n(size_t rem)
{
    return rem >= SBV_W ? (sbv_m)0xFFFFu : (sbv_m)((1u << rem) - 1u);
}
SBV_INLINE sbv_m sbv_mask_bits(uint32_t bits) { return (sbv_m)(bits & 0xFFFFu); }

SBV_INLINE sbv_f sbv_zero(void) { return _mm512_setzero_ps(); }
SBV_INLINE sbv_f sbv_set1(float v) { return _mm512_set1_ps(v); }
SBV_INLINE sbv_f sbv_bcast(const float *p) { return _mm512_set1_ps(*p); }
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
    if (rem >= SBV_W)
        sbv_storeu(p, v);
    else
        sbv_storeu_m(p, sbv_mask_n(rem), v);
}

SBV_INLINE sbv_f sbv_add(sbv_f a, sbv_f b) { return _mm512_add_ps(a, b); }
SBV_INLINE sbv_f sbv_sub(sbv_f a, sbv_f b) { return _mm512_sub_ps(a, b); }
SBV_INLINE sbv_f sbv_mul(sbv_f a, sbv_f b) { return _mm512_mul_ps(a, b); }
SBV_INLINE sbv_f sbv_div(sbv_f a, sbv_f b) { return _mm512_div_ps(a, b); }
SBV_INLINE sbv_f sbv_sqrt(sbv_f a) { return _mm512_sqrt_ps(a); }
SBV_INLINE sbv_f sbv_fma(sbv_f a, sbv_f b, sbv_f c) { return _mm512_fmadd_ps(a, b, c); }
SBV_INLINE sbv_f sbv_rint(sbv_f a)
{
    return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
SBV_INLINE sbv_f sbv_neg(sbv_f a)
{
    return _mm512_castsi512_ps(
        _mm512_xor_si512(_mm512_castps_si512(a), _mm512_set1_epi32((int)0x80000000u)));
}
SBV_INLINE sbv_f sbv_abs(sbv_f a)
{
    return _mm512_castsi512_ps(
        _mm512_and_si512(_mm512_castps_si512(a), _mm512_set1_epi32(0x7FFFFFFF)));
}
/* vminps/vmaxps are a < b ? a : b and a > b ? a : b, NaN included, on AVX-512 as on AVX */
SBV_INLINE sbv_f sbv_min(sbv_f a, sbv_f b) { return _mm512_min_ps(a, b); }
SBV_INLINE sbv_f sbv_max(sbv_f a, sbv_f b) { return _mm512_max_ps(a, b); }

SBV_INLINE sbv_m sbv_lt(sbv_f a, sbv_f b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
SBV_INLINE sbv_f sbv_select(sbv_m m, sbv_f a, sbv_f b) { return _mm512_mask_blend_ps(m, b, a); }
SBV_INLINE sbv_f sbv_keep(sbv_f a, sbv_m m) { return _mm512_maskz_mov_ps(m, a); }
SBV_INLINE uint32_t sbv_relu_bits(sbv_f *v)
{
    const __mmask16 on = _mm512_cmp_ps_mask(*v, _mm512_setzero_ps(), _CMP_GT_OQ);
    *v = _mm512_maskz_mov_ps(on, *v);
    return (uint32_t)on;
}
SBV_INLINE sbv_f sbv_permute(sbv_f v, sbv_i idx) { return _mm512_permutexvar_ps(idx, v); }

SBV_INLINE sbv_i sbv_i_set1(int32_t v) { return _mm512_set1_epi32(v); }
SBV_INLINE sbv_i sbv_i_loadu(const int32_t *p) { return _mm512_loadu_si512(p); }
SBV_INLINE sbv_i sbv_i_add(sbv_i a, sbv_i b) { return _mm512_add_epi32(a, b); }
/* a NaN lane gives INT32_MIN, as on AVX2 */
SBV_INLINE sbv_i sbv_cvt_i32(sbv_f a) { return _mm512_cvttps_epi32(a); }
SBV_INLINE sbv_m sbv_odd(sbv_i q) { return _mm512_test_epi32_mask(q, _mm512_set1_epi32(1)); }
SBV_INLINE sbv_f sbv_flip_sign_if_bit1(sbv_f v, sbv_i q)
{
    const __m512i sign = _mm512_slli_epi32(_mm512_and_si512(q, _mm512_set1_epi32(2)), 30);
    return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(v), sign));
}
SBV_INLINE sbv_f sbv_pow2i(sbv_i n)
{
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(n, _mm512_set1_epi32(127)), 23));
}

/* ---- 64-bit words ----------------------------------------------------------------------- */

#define SBV_W64 8
typedef __m512i sbv_u64;

SBV_INLINE sbv_u64 sbv_u64_zero(void) { return _mm512_setzero_si512(); }
SBV_INLINE sbv_u64 sbv_u64_loadu_n(const uint64_t *p, size_t rem)
{
    if (rem >= SBV_W64) return _mm512_loadu_si512(p);
    return _mm512_maskz_loadu_epi64((__mmask8)((1u << rem) - 1u), p);
}
SBV_INLINE sbv_u64 sbv_u64_xor(sbv_u64 a, sbv_u64 b) { return _mm512_xor_si512(a, b); }
SBV_INLINE sbv_u64 sbv_u64_add(sbv_u64 a, sbv_u64 b) { return _mm512_add_epi64(a, b); }
/* Without VPOPCNTDQ (not in the F/BW/DQ/VL set this build assumes): a nibble table through
 * vpshufb (BW), then vpsadbw sums each word's 8 byte counts. */
SBV_INLINE sbv_u64 sbv_u64_popcnt(sbv_u64 v)
{
    const __m512i lut = _mm512_set_epi8(4, 3, 3, 2, 3, 2, 2, 1, 3, 2, 2, 1, 2, 1, 1, 0,
                                        4, 3, 3, 2, 3, 2, 2, 1, 3, 2, 2, 1, 2, 1, 1, 0,
                                        4, 3, 3, 2, 3, 2, 2, 1, 3, 2, 2, 1, 2, 1, 1, 0,
                                        4, 3, 3, 2, 3, 2, 2, 1, 3, 2, 2, 1, 2, 1, 1, 0);
    const __m512i low4 = _mm512_set1_epi8(0x0F);
    const __m512i lo = _mm512_and_si512(v, low4);
    const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), low4);
    const __m512i bytes =
        _mm512_add_epi8(_mm512_shuffle_epi8(lut, lo), _mm512_shuffle_epi8(lut, hi));
    return _mm512_sad_epu8(bytes, _mm512_setzero_si512());
}
SBV_INLINE uint64_t sbv_u64_sum(sbv_u64 v)
{
    _Alignas(64) uint64_t lane[SBV_W64];
    _mm512_store_si512(lane, v);
    uint64_t s = 0;
    for (int l = 0; l < SBV_W64; l++) s += lane[l];
    return s;
}

/* ---- uint32 lanes for the pattern hash --------------------------------------------------- */

/* The hash has 8 sequential lanes, so a zmm's 16 would idle half: it runs on a ymm, with the
 * AVX2 instructions (every AVX-512 CPU has them; SIMDe maps them to themselves). */
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
SBV_INLINE sbv_u32 sbv_u32_words_n(const uint64_t *p, size_t rem)
{
    if (rem >= 4) return _mm256_loadu_si256((const __m256i *)(const void *)p);
    const __m256i m = _mm256_cmpgt_epi64(_mm256_set1_epi64x((long long)rem),
                                         _mm256_setr_epi64x(0, 1, 2, 3));
    return _mm256_maskload_epi64((const long long *)(const void *)p, m);
}
SBV_INLINE sbv_u32 sbv_u32_xor(sbv_u32 a, sbv_u32 b) { return _mm256_xor_si256(a, b); }
SBV_INLINE sbv_u32 sbv_u32_mul(sbv_u32 a, sbv_u32 b) { return _mm256_mullo_epi32(a, b); }
SBV_INLINE sbv_u32 sbv_u32_shr(sbv_u32 a, int n) { return _mm256_srli_epi32(a, n); }

#endif
