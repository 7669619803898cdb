/* Scalar truth of the activation-pattern kernels. */
#define SB_ISA_SUFFIX scalar
#include "kernels/declare.h"
#include "kernels/internal.h"

uint64_t pattern_hamming__scalar(size_t words, const uint64_t *a, const uint64_t *b)
{
    uint64_t d = 0;
    for (size_t i = 0; i < words; i++) {
        uint64_t x = a[i] ^ b[i];
        /* Portable popcount (SWAR); the baseline x86-64 target has no POPCNT instruction. */
        x = x - ((x >> 1) & UINT64_C(0x5555555555555555));
        x = (x & UINT64_C(0x3333333333333333)) + ((x >> 2) & UINT64_C(0x3333333333333333));
        x = (x + (x >> 4)) & UINT64_C(0x0F0F0F0F0F0F0F0F);
        d += (x * UINT64_C(0x0101010101010101)) >> 56;
    }
    return d;
}

uint64_t pattern_hash__scalar(size_t words, const uint64_t *p)
{
    uint32_t s[HASH_LANES];
    for (int l = 0; l < HASH_LANES; l++) s[l] = HASH_SEED32 * (uint32_t)(l + 1);
    const size_t n32 = 2 * words;
    for (size_t g = 0; g < n32; g += HASH_LANES) {
        for (int l = 0; l < HASH_LANES; l++) {
            const size_t i = g + (size_t)l;
            const uint32_t w = i < n32 ? (uint32_t)(p[i / 2] >> (32 * (i % 2))) : 0u;
            s[l] = (s[l] ^ w) * HASH_MUL32;
            s[l] ^= s[l] >> HASH_SHIFT;
        }
    }
    return hash_fold(s);
}
