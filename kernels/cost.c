/* Declared cost of each kernel (STYLE.md 4): FLOPs counted from the operation sequence in
 * kernels.h (an FMA is 2; sqrt and division count 1; rounding and sign logic count 0) and the
 * compulsory bytes (every operand read or written once). Rates and arithmetic intensity are
 * derived from these, never typed at a call site. */
#include "specbias/kernels.h"

/* Per-element FLOPs of the transcendentals, counted in kernels/scalar/transcendental.h:
 * sincospi: 2y, r, r^2, sin (4 fma, r*ps, fma), cos (5 fma)                  = 25
 * sigmoid:  x*log2e, 2 fma, 5 fma, r*r, fma, +1, *2^n, 1+e, 1/(.)            = 22 */
#define SINCOSPI_FLOPS 25.0
#define SIGMOID_FLOPS 22.0

struct sb_cost sb_kernel_cost(enum sb_kernel_id id, struct sb_shape sh)
{
    static const enum sb_cost_class cls[] = {
#define SB_KERNEL(name, type, cost) cost,
#include "specbias/kernel_list.inc"
#undef SB_KERNEL
    };
    const double r = (double)sh.rows, i = (double)sh.in, o = (double)sh.out;
    const double mask_bytes = 8.0 * r * (double)sb_mask_words(sh.out);
    const double dense = 2.0 * r * i * o;
    struct sb_cost c = {0.0, 0.0};
    if ((unsigned)id >= SB_KERNEL_COUNT) return c;
    switch (cls[id]) {
    case SB_COST_DENSE_RELU_FWD:
        c.flops = dense;
        c.bytes = 4.0 * (r * i + i * o + o + r * o) + mask_bytes;
        break;
    case SB_COST_DENSE_FWD:
        c.flops = dense;
        c.bytes = 4.0 * (r * i + i * o + o + r * o);
        break;
    case SB_COST_DENSE_SIGMOID_FWD:
        c.flops = dense + SIGMOID_FLOPS * r * o;
        c.bytes = 4.0 * (r * i + i * o + o + r * o);
        break;
    case SB_COST_DENSE_BWD_DATA:
        c.flops = dense;
        c.bytes = 4.0 * (r * o + i * o + r * i) + mask_bytes;
        break;
    case SB_COST_DENSE_BWD_WEIGHTS: /* + the bias sums and the final dw, db additions */
        c.flops = dense + r * o + i * o + o;
        c.bytes = 4.0 * (r * o + r * i + 2.0 * i * o + 2.0 * o) + mask_bytes;
        break;
    case SB_COST_SIGMOID_BWD:
        c.flops = 3.0 * r;
        c.bytes = 12.0 * r;
        break;
    case SB_COST_SINCOSPI:
        c.flops = SINCOSPI_FLOPS * r;
        c.bytes = 12.0 * r;
        break;
    case SB_COST_POSENC: /* out = F = octaves * d; one scaling multiply per feature */
        c.flops = (1.0 + SINCOSPI_FLOPS) * r * o;
        c.bytes = 4.0 * (r * i + 2.0 * r * o);
        break;
    case SB_COST_FOURIER: /* in = d, out = m: d fma + the doubling per feature */
        c.flops = (2.0 * i + 1.0 + SINCOSPI_FLOPS) * r * o;
        c.bytes = 4.0 * (r * i + o * i + 2.0 * r * o);
        break;
    case SB_COST_MSE: /* e, e*scale, fma */
        c.flops = 4.0 * r;
        c.bytes = 12.0 * r;
        break;
    case SB_COST_ADAM: /* 3 fma + 7 other operations per parameter; p, g, m, v in, p, m, v out */
        c.flops = 13.0 * r;
        c.bytes = 28.0 * r;
        break;
    case SB_COST_HAMMING:
        c.flops = 0.0;
        c.bytes = 16.0 * r;
        break;
    case SB_COST_HASH:
        c.flops = 0.0;
        c.bytes = 8.0 * r;
        break;
    }
    return c;
}
