/* The activation-pattern kernels for every vector ISA: integer arithmetic, so exactness is a
 * matter of reading the same words into the same lanes as kernels/scalar/pattern.c. Include
 * after the ISA's simd.h; kernels/<isa>/pattern.c defines pattern_hamming__<isa> and
 * pattern_hash__<isa> over these. */
#ifndef SPECBIAS_KERNELS_SHARED_PATTERN_H
#define SPECBIAS_KERNELS_SHARED_PATTERN_H

#include "kernels/internal.h"

/* popcount(a XOR b), SBV_W64 words at a time; the tail loads zeros, which count nothing. */
SBV_INLINE sbv_u64 hamming_add(sbv_u64 acc, const uint64_t *a, const uint64_t *b, size_t rem)
{
    return sbv_u64_add(
        acc, sbv_u64_popcnt(sbv_u64_xor(sbv_u64_loadu_n(a, rem), sbv_u64_loadu_n(b, rem))));
}

SBV_INLINE uint64_t pattern_hamming_simd(size_t words, const uint64_t *a, const uint64_t *b)
{
    sbv_u64 acc = sbv_u64_zero();
    size_t i = 0;
    for (; i + SBV_W64 <= words; i += SBV_W64) acc = hamming_add(acc, a + i, b + i, SBV_W64);
    if (i < words) acc = hamming_add(acc, a + i, b + i, words - i);
    return sbv_u64_sum(acc);
}

/* The 8 lanes of the hash as HASH_VECS vectors of SBV_W32 uint32. A group of 8 uint32
 * w[8g .. 8g + 7] is the 4 words p[4g .. 4g + 3] (little-endian), HASH_WORDS per vector; a
 * short last group loads as zeros, the padding kernels.h states. */
#define HASH_VECS  (HASH_LANES / SBV_W32)
#define HASH_WORDS (SBV_W32 / 2)
_Static_assert(HASH_LANES % SBV_W32 == 0, "the hash lanes are whole vectors");

SBV_INLINE uint64_t pattern_hash_simd(size_t words, const uint64_t *p)
{
    uint32_t s[HASH_LANES];
    for (int l = 0; l < HASH_LANES; l++) s[l] = HASH_SEED32 * (uint32_t)(l + 1);
    sbv_u32 st[HASH_VECS];
    for (int v = 0; v < HASH_VECS; v++) st[v] = sbv_u32_loadu(s + v * SBV_W32);
    const sbv_u32 mul = sbv_u32_set1(HASH_MUL32);
    for (size_t i = 0; i < words; i += HASH_LANES / 2)
        for (int v = 0; v < HASH_VECS; v++) {
            const size_t at = i + (size_t)v * HASH_WORDS;
            const sbv_u32 w = at < words ? sbv_u32_words_n(p + at, words - at) : sbv_u32_set1(0);
            const sbv_u32 t = sbv_u32_mul(sbv_u32_xor(st[v], w), mul);
            st[v] = sbv_u32_xor(t, sbv_u32_shr(t, HASH_SHIFT));
        }
    for (int v = 0; v < HASH_VECS; v++) sbv_u32_storeu(s + v * SBV_W32, st[v]);
    return hash_fold(s);
}

#endif
