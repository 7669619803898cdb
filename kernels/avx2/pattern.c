/* AVX2 activation-pattern kernels: Hamming distance by a nibble-table popcount (Mula), and
 * the 8-lane pattern hash of kernels.h, one group of 8 uint32 (4 uint64 words) per vector. */
#define SB_ISA_SUFFIX avx2
#include "kernels/declare.h"
#include "kernels/internal.h"
#include "simd.h"

/* Per-64-bit-lane popcount: nibble lookups per byte, summed by psadbw. */
static inline __m256i popcnt64(__m256i v)
{
    const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
                                         0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
    const __m256i low = _mm256_set1_epi8(0x0F);
    const __m256i lo = _mm256_and_si256(v, low);
    const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low);
    const __m256i cnt = _mm256_add_epi8(_mm256_shuffle_epi8(lut, lo), _mm256_shuffle_epi8(lut, hi));
    return _mm256_sad_epu8(cnt, _mm256_setzero_si256());
}

uint64_t pattern_hamming__avx2(size_t words, const uint64_t *a, const uint64_t *b)
{
    __m256i acc = _mm256_setzero_si256();
    for (size_t i = 0; i < words; i += SBV_W64) {
        const size_t rem = words - i;
        const __m256i x = _mm256_xor_si256(sbv_u64_loadu_n(a + i, rem), sbv_u64_loadu_n(b + i, rem));
        acc = _mm256_add_epi64(acc, popcnt64(x));
    }
    _Alignas(32) uint64_t lane[SBV_W64];
    _mm256_store_si256((__m256i *)(void *)lane, acc);
    return lane[0] + lane[1] + lane[2] + lane[3];
}

uint64_t pattern_hash__avx2(size_t words, const uint64_t *p)
{
    /* Little-endian: the 4 uint64 words of a group are the 8 uint32 w[8g .. 8g + 7] in
     * lane order; a short last group loads as zeros. */
    const __m256i mul = _mm256_set1_epi32((int)SB_HASH_MUL32);
    __m256i s = _mm256_mullo_epi32(_mm256_set1_epi32((int)SB_HASH_SEED32),
                                   _mm256_setr_epi32(1, 2, 3, 4, 5, 6, 7, 8));
    for (size_t i = 0; i < words; i += SBV_W64) {
        const __m256i w = sbv_u64_loadu_n(p + i, words - i);
        s = _mm256_mullo_epi32(_mm256_xor_si256(s, w), mul);
        s = _mm256_xor_si256(s, _mm256_srli_epi32(s, SB_HASH_SHIFT));
    }
    _Alignas(32) uint32_t lane[SB_HASH_LANES];
    _mm256_store_si256((__m256i *)(void *)lane, s);
    return sb_hash_fold(lane);
}
