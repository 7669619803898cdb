/* AVX-512 activation-pattern kernels. */
#define SB_ISA_SUFFIX avx512
#include "kernels/declare.h"
#include "kernels/internal.h"
#include "simd.h"

/* Per-64-bit-lane popcount of v without VPOPCNTDQ: a nibble table through vpshufb (BW),
 * then vpsadbw sums each lane's 8 byte counts. */
SB_INLINE __m512i popcnt_epi64(__m512i v)
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

uint64_t pattern_hamming__avx512(size_t words, const uint64_t *a, const uint64_t *b)
{
    __m512i acc = _mm512_setzero_si512();
    size_t i = 0;
    for (; i + 8 <= words; i += 8) {
        const __m512i x = _mm512_xor_si512(_mm512_loadu_si512(a + i), _mm512_loadu_si512(b + i));
        acc = _mm512_add_epi64(acc, popcnt_epi64(x));
    }
    if (i < words) {
        const __mmask8 m = sb_tail8(words - i);
        const __m512i x = _mm512_xor_si512(_mm512_maskz_loadu_epi64(m, a + i),
                                           _mm512_maskz_loadu_epi64(m, b + i));
        acc = _mm512_add_epi64(acc, popcnt_epi64(x));
    }
    uint64_t lane[8] __attribute__((aligned(64)));
    _mm512_store_si512(lane, acc);
    uint64_t d = 0;
    for (int l = 0; l < 8; l++) d += lane[l];
    return d;
}

/* 8 uint32 lanes = one ymm; each group of 8 little-endian uint32 words is 4 uint64 words.
 * The last group is zero-padded by a masked load (vpmaskmovq never reads masked lanes). */
uint64_t pattern_hash__avx512(size_t words, const uint64_t *p)
{
    __m256i s = _mm256_mullo_epi32(_mm256_set1_epi32((int)SB_HASH_SEED32),
                                   _mm256_setr_epi32(1, 2, 3, 4, 5, 6, 7, 8));
    const __m256i mul = _mm256_set1_epi32((int)SB_HASH_MUL32);
    size_t i = 0;
    for (;; i += 4) {
        __m256i w;
        if (i + 4 <= words) {
            w = _mm256_loadu_si256((const __m256i *)(const void *)(p + i));
        } else if (i < words) {
            const long long r = (long long)(words - i); /* 1 .. 3 */
            const __m256i lanes = _mm256_cmpgt_epi64(_mm256_set1_epi64x(r),
                                                     _mm256_setr_epi64x(0, 1, 2, 3));
            w = _mm256_maskload_epi64((const long long *)(const void *)(p + i), lanes);
        } else {
            break;
        }
        s = _mm256_mullo_epi32(_mm256_xor_si256(s, w), mul);
        s = _mm256_xor_si256(s, _mm256_srli_epi32(s, SB_HASH_SHIFT));
    }
    uint32_t lane[SB_HASH_LANES] __attribute__((aligned(32)));
    _mm256_store_si256((__m256i *)(void *)lane, s);
    return sb_hash_fold(lane);
}
