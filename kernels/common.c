/* ISA-independent parts of the kernel library: names, weight packing, Adam's constants. */
#include "specbias/kernels.h"

#include <math.h>

static size_t cache_l1d = 32 * 1024, cache_l2 = 512 * 1024;

static size_t clamp_cache(size_t v, size_t cur)
{
    if (v == 0) return cur;
    if (v < 4096) return 4096;
    return v > ((size_t)1 << 30) ? (size_t)1 << 30 : v;
}

void sb_set_cache_sizes(size_t l1d_bytes, size_t l2_bytes)
{
    cache_l1d = clamp_cache(l1d_bytes, cache_l1d);
    cache_l2 = clamp_cache(l2_bytes, cache_l2);
}

void sb_get_cache_sizes(size_t *l1d_bytes, size_t *l2_bytes)
{
    if (l1d_bytes) *l1d_bytes = cache_l1d;
    if (l2_bytes) *l2_bytes = cache_l2;
}

static size_t cache_l1d_ways = 8;

void sb_set_l1d_ways(size_t ways)
{
    if (ways) cache_l1d_ways = ways > 64 ? 64 : ways;
}

size_t sb_get_l1d_ways(void) { return cache_l1d_ways; }

const char *sb_kernel_name(enum sb_kernel_id id)
{
    static const char *const names[] = {
#define SB_KERNEL(name, type) #name,
#include "specbias/kernel_list.inc"
#undef SB_KERNEL
    };
    return (unsigned)id < SB_KERNEL_COUNT ? names[id] : "?";
}

void sb_pack_wt(size_t in, size_t out, const float *restrict w, size_t ldw,
                float *restrict wt, size_t ldwt)
{
    for (size_t j = 0; j < out; j++)
        for (size_t k = 0; k < in; k++) wt[k * ldwt + j] = w[j * ldw + k];
}

struct sb_adam_step sb_adam_step_make(double lr, double beta1, double beta2, double eps,
                                      uint64_t t)
{
    /* beta^t by binary exponentiation: a fixed sequence of correctly rounded products. */
    double p1 = 1.0, p2 = 1.0, b1 = beta1, b2 = beta2;
    for (uint64_t e = t; e; e >>= 1) {
        if (e & 1) {
            p1 *= b1;
            p2 *= b2;
        }
        b1 *= b1;
        b2 *= b2;
    }
    struct sb_adam_step s;
    s.beta1 = (float)beta1;
    s.one_minus_beta1 = (float)(1.0 - beta1);
    s.beta2 = (float)beta2;
    s.one_minus_beta2 = (float)(1.0 - beta2);
    s.neg_step_size = (float)(-lr / (1.0 - p1));
    s.bc2_sqrt = (float)sqrt(1.0 - p2);
    s.eps = (float)eps;
    return s;
}
