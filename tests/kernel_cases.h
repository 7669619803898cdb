/* Deterministic inputs and buffer helpers shared by the kernel tests.
 *
 * Inputs come from an integer generator and exact integer-to-float conversions, never from
 * libm, so the same cases are produced bit-for-bit on x86-64 and aarch64 (the golden hashes
 * in tests/golden/ depend on that). */
#ifndef SPECBIAS_TESTS_KERNEL_CASES_H
#define SPECBIAS_TESTS_KERNEL_CASES_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct sb_rng {
    uint64_t s;
};

static inline uint64_t sb_rng_next(struct sb_rng *r)
{
    /* xorshift64*: small, fast, and the same on every platform. */
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * UINT64_C(2685821657736338717);
}

/* Uniform in [-1, 1) with 24 random bits: exact in float. */
static inline float sb_rng_sym(struct sb_rng *r)
{
    const int32_t v = (int32_t)(sb_rng_next(r) >> 40) - (1 << 23);
    return (float)v * 0x1p-23f;
}

/* Sizes the issue asks every kernel to cover. */
static const size_t SB_TEST_WIDTHS[] = {1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 64, 127, 128, 256};
static const size_t SB_TEST_BATCHES[] = {1, 5, 64, 2049};
#define SB_NWIDTHS (sizeof SB_TEST_WIDTHS / sizeof SB_TEST_WIDTHS[0])
#define SB_NBATCHES (sizeof SB_TEST_BATCHES / sizeof SB_TEST_BATCHES[0])

/* A buffer deliberately misaligned by `skew` floats from a 64-byte boundary, with a guard
 * zone after it; both are filled with a sentinel so that stray writes change the bytes that
 * the tests compare. */
struct sb_buf {
    void *base;
    float *f;
    size_t n;     /* usable floats */
    size_t total; /* allocated floats: skew + n + guard */
};

#define SB_GUARD 32
#define SB_SENTINEL_BITS 0x7FA5A5A5u /* a signalling-NaN pattern no kernel produces */

static inline struct sb_buf sb_buf_make(size_t n, size_t skew)
{
    struct sb_buf b;
    const size_t total = n + skew + SB_GUARD;
    b.base = aligned_alloc(64, ((total * sizeof(float)) + 63) / 64 * 64);
    b.f = (float *)b.base + skew;
    b.n = n;
    b.total = total;
    const uint32_t s = SB_SENTINEL_BITS;
    for (size_t i = 0; i < total; i++) memcpy((float *)b.base + i, &s, sizeof s);
    return b;
}

/* Copies the whole allocation (skew, data and guard) of an identically made buffer. */
static inline void sb_buf_copy(struct sb_buf *dst, const struct sb_buf *src)
{
    memcpy(dst->base, src->base, src->total * sizeof(float));
}

static inline void sb_buf_free(struct sb_buf *b)
{
    free(b->base);
    b->base = NULL;
}

static inline void sb_fill_sym(struct sb_rng *r, float *p, size_t n, float scale)
{
    for (size_t i = 0; i < n; i++) p[i] = sb_rng_sym(r) * scale;
}

#endif
