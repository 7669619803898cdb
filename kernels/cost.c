/* Declared cost of each kernel: FLOPs counted from the operation sequence in kernels.h (an
 * FMA is 2; sqrt and division count 1; rounding and sign logic count 0) and the compulsory
 * bytes (every operand read or written once). Rates and arithmetic intensity are derived from
 * these, never typed at a call site. */
#include "specbias/kernels.h"

/* Per-element FLOPs of the transcendentals, counted in kernels/scalar/transcendental.h:
 * sincospi: 2y, r, r^2, sin (4 fma, r*ps, fma), cos (5 fma)                  = 25
 * sigmoid:  x*log2e, 2 fma, 5 fma, r*r, fma, +1, *2^n, 1+e, 1/(.)            = 22 */
#define SINCOSPI_FLOPS 25.0
#define SIGMOID_FLOPS 22.0

struct sb_cost sb_kernel_cost(enum sb_kernel_id id, struct sb_shape sh)
{
    const double r = (double)sh.rows, i = (double)sh.in, o = (double)sh.out;
    const double mask_bytes = 8.0 * r * (double)sb_mask_words(sh.out);
    const double dense = 2.0 * r * i * o;
    struct sb_cost c = {0.0, 0.0};
    switch (id) { /* no default: -Wswitch flags a listed kernel without a cost */
    case SB_K_dense_relu_fwd:
        c.flops = dense;
        c.bytes = 4.0 * (r * i + i * o + o + r * o) + mask_bytes;
        break;
    case SB_K_dense_linear_fwd:
        c.flops = dense;
        c.bytes = 4.0 * (r * i + i * o + o + r * o);
        break;
    case SB_K_dense_sigmoid_fwd:
        c.flops = dense + SIGMOID_FLOPS * r * o;
        c.bytes = 4.0 * (r * i + i * o + o + r * o);
        break;
    /* The backward kernels as the trainer calls them: the gradient arrives masked (mask =
     * NULL) and dense_bwd_data reads the input's mask to mask its output. */
    case SB_K_dense_bwd_data:
        c.flops = dense;
        c.bytes = 4.0 * (r * o + i * o + r * i) + 8.0 * r * (double)sb_mask_words(sh.in);
        break;
    case SB_K_dense_bwd_weights: /* + the bias sums and the final dw, db additions */
        c.flops = dense + r * o + i * o + o;
        c.bytes = 4.0 * (r * o + r * i + 2.0 * i * o + 2.0 * o);
        break;
    case SB_K_sigmoid_bwd:
        c.flops = 3.0 * r;
        c.bytes = 12.0 * r;
        break;
    case SB_K_sincospi_u15:
        c.flops = SINCOSPI_FLOPS * r;
        c.bytes = 12.0 * r;
        break;
    case SB_K_posenc_fwd: /* out = F = octaves * d; one scaling multiply per feature */
        c.flops = (1.0 + SINCOSPI_FLOPS) * r * o;
        c.bytes = 4.0 * (r * i + 2.0 * r * o);
        break;
    case SB_K_fourier_fwd: /* in = d, out = m: d fma + the doubling per feature */
        c.flops = (2.0 * i + 1.0 + SINCOSPI_FLOPS) * r * o;
        c.bytes = 4.0 * (r * i + o * i + 2.0 * r * o);
        break;
    case SB_K_mse_loss_grad: /* e, e*scale, fma */
        c.flops = 4.0 * r;
        c.bytes = 12.0 * r;
        break;
    case SB_K_adam_update: /* 3 fma + 7 other operations per parameter; p, g, m, v in, p, m, v out */
        c.flops = 13.0 * r;
        c.bytes = 28.0 * r;
        break;
    case SB_K_pattern_hamming:
        c.flops = 0.0;
        c.bytes = 16.0 * r;
        break;
    case SB_K_pattern_hash:
        c.flops = 0.0;
        c.bytes = 8.0 * r;
        break;
    case SB_KERNEL_COUNT: break;
    }
    return c;
}
