/* AVX2 activation-pattern kernels; the code, the same for every vector ISA, is
 * kernels/shared/pattern.h (the popcount of a word is simd.h's sbv_u64_popcnt). */
#define SB_ISA_SUFFIX avx2
#include "kernels/declare.h"
#include "simd.h"
#include "kernels/shared/pattern.h"

uint64_t pattern_hamming__avx2(size_t words, const uint64_t *a, const uint64_t *b)
{
    return pattern_hamming_simd(words, a, b);
}

uint64_t pattern_hash__avx2(size_t words, const uint64_t *p) { return pattern_hash_simd(words, p); }
