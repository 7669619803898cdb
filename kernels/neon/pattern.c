/* NEON activation-pattern kernels: integer arithmetic, so exactness is a matter of reading
 * the same words in the same lanes. */
#define SB_ISA_SUFFIX neon
#include "kernels/declare.h"
#include "kernels/internal.h"

#include <arm_neon.h>
#include <string.h>

#include "simd.h"

/* Per-byte popcounts (vcntq_u8), summed pairwise into 64-bit lanes (cannot overflow). */
uint64_t pattern_hamming__neon(size_t words, const uint64_t *a, const uint64_t *b)
{
    uint64x2_t acc = vdupq_n_u64(0);
    size_t i = 0;
    for (; i + 8 <= words; i += 8) {
        /* 4 vectors: each byte count is <= 8, their sum <= 32 fits a byte */
        uint8x16_t cnt = vcntq_u8(vreinterpretq_u8_u64(veorq_u64(vld1q_u64(a + i), vld1q_u64(b + i))));
        for (size_t v = 2; v < 8; v += 2)
            cnt = vaddq_u8(cnt, vcntq_u8(vreinterpretq_u8_u64(
                                    veorq_u64(vld1q_u64(a + i + v), vld1q_u64(b + i + v)))));
        acc = vpadalq_u32(acc, vpaddlq_u16(vpaddlq_u8(cnt)));
    }
    for (; i + 2 <= words; i += 2) {
        const uint8x16_t cnt = vcntq_u8(vreinterpretq_u8_u64(veorq_u64(vld1q_u64(a + i), vld1q_u64(b + i))));
        acc = vpadalq_u32(acc, vpaddlq_u16(vpaddlq_u8(cnt)));
    }
    uint64_t d = vaddvq_u64(acc);
    if (i < words) d += vaddlv_u8(vcnt_u8(vreinterpret_u8_u64(veor_u64(vld1_u64(a + i), vld1_u64(b + i)))));
    return d;
}

/* 8 uint32 lanes in two q-registers; group g is the 32-bit words 8g .. 8g+7, i.e. the 64-bit
 * words 4g .. 4g+3, each as (low half, high half) on little-endian aarch64. */
SBN_INLINE void hash_group(uint32x4_t *s0, uint32x4_t *s1, uint64x2_t w0, uint64x2_t w1)
{
    const uint32x4_t mul = vdupq_n_u32(SB_HASH_MUL32);
    uint32x4_t t0 = vmulq_u32(veorq_u32(*s0, vreinterpretq_u32_u64(w0)), mul);
    uint32x4_t t1 = vmulq_u32(veorq_u32(*s1, vreinterpretq_u32_u64(w1)), mul);
    *s0 = veorq_u32(t0, vshrq_n_u32(t0, SB_HASH_SHIFT));
    *s1 = veorq_u32(t1, vshrq_n_u32(t1, SB_HASH_SHIFT));
}

uint64_t pattern_hash__neon(size_t words, const uint64_t *p)
{
    uint32_t s[SB_HASH_LANES];
    for (int l = 0; l < SB_HASH_LANES; l++) s[l] = SB_HASH_SEED32 * (uint32_t)(l + 1);
    uint32x4_t s0 = vld1q_u32(s), s1 = vld1q_u32(s + 4);
    size_t i = 0;
    for (; i + 4 <= words; i += 4) hash_group(&s0, &s1, vld1q_u64(p + i), vld1q_u64(p + i + 2));
    if (i < words) {
        /* the last group, zero-padded to 8 uint32 values */
        uint64_t tail[4] = {0, 0, 0, 0};
        memcpy(tail, p + i, (words - i) * sizeof *p);
        hash_group(&s0, &s1, vld1q_u64(tail), vld1q_u64(tail + 2));
    }
    vst1q_u32(s, s0);
    vst1q_u32(s + 4, s1);
    return sb_hash_fold(s);
}
