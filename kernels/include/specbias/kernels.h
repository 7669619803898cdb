/* specbias kernel library: the public interface.
 *
 * Every kernel exists once per ISA: the scalar reference `op__scalar` in kernels/scalar/ is
 * the truth, and `op__avx2`, `op__avx512`, `op__neon` in kernels/<isa>/ must return the
 * same bits for the same inputs. The harness calls kernels only through a `struct
 * sb_kernels` table chosen by sb_select(), so any run can be repeated under any ISA.
 *
 * Bit-identity across ISAs rests on one rule: every output element is computed by the same
 * sequence of IEEE operations in every variant. Vector code parallelises across independent
 * output elements, never inside one element's reduction, so the order below is independent
 * of the vector width. Where a kernel does reduce across elements (the MSE loss) it uses a
 * fixed 16-lane layout that all ISAs reproduce. The contract of each kernel below states that
 * sequence; the scalar reference is its executable form. Build with -ffp-contract=off.
 *
 * Layouts: matrices are row-major with an explicit leading dimension (in elements), so any
 * pointer may be unaligned and any row may start at any offset. A batch of activations is
 * rows x features. Weights are stored as W[out][in] (PyTorch's nn.Linear layout); the
 * forward kernels read them transposed, Wt[in][out] (k-major), which is what a broadcast
 * GEMM streams; sb_pack_wt() makes that copy. Packing is a copy, so a later packed layout
 * changes no result. Activation bitmasks hold one bit per unit: unit j of row n is bit
 * (j % 64) of mask[n * ldm + j / 64]; bits past the layer width are zero.
 */
#ifndef SPECBIAS_KERNELS_H
#define SPECBIAS_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#define SB_RESTRICT
#else
#define SB_RESTRICT restrict
#endif

/* Number of 64-bit mask words for a layer of `units` hidden units. */
static inline size_t sb_mask_words(size_t units) { return (units + 63) / 64; }

/* ---- dense layers ------------------------------------------------------------------- */

/* Y[n][j] = relu(acc), mask bit (n, j) = (acc > 0), where
 *   acc = b[j]; for k = 0 .. in-1: acc = fmaf(x[n][k], wt[k][j], acc)
 *   relu(acc) = acc > 0 ? acc : +0   (so NaN -> 0 and -0 -> +0, the same on every ISA)
 * `mask` may be NULL (no mask written); otherwise all sb_mask_words(out) words of each row
 * are written. */
typedef void sb_dense_relu_fwd_fn(size_t rows, size_t in, size_t out, const float *SB_RESTRICT x,
                                  size_t ldx, const float *SB_RESTRICT wt, size_t ldwt,
                                  const float *SB_RESTRICT b, float *SB_RESTRICT y, size_t ldy,
                                  uint64_t *SB_RESTRICT mask, size_t ldm);

/* The output layer: the same accumulation as dense_relu_fwd, then
 *   dense_linear_fwd:  Y[n][j] = acc
 *   dense_sigmoid_fwd: Y[n][j] = 1 / (1 + exp_u15(-acc)), exp_u15 as in exp_u15_ref()
 *   in kernels/scalar/transcendental.h. */
typedef void sb_dense_fwd_fn(size_t rows, size_t in, size_t out, const float *SB_RESTRICT x,
                             size_t ldx, const float *SB_RESTRICT wt, size_t ldwt,
                             const float *SB_RESTRICT b, float *SB_RESTRICT y, size_t ldy);

/* dX = (dY masked by the activation bits) W, then masked by the input's activation bits,
 * overwriting dX:
 *   g(n, j) = bit(mask, n, j) ? dy[n][j] : 0       (mask NULL: g = dy)
 *   acc = 0; for j = 0 .. out-1: acc = fmaf(g(n, j), w[j][k], acc)
 *   dx[n][k] = bit(xmask, n, k) ? acc : +0         (xmask NULL: acc)
 * w is W[out][in] with leading dimension ldw; xmask (leading dimension ldxm words) is the
 * ReLU bitmask of the layer that produced this layer's input, so dX comes out as the next
 * layer's masked gradient g (ReLU backward fused into the store) and the kernels of that
 * layer can be called with mask = NULL: the same values, so the same bits. */
typedef void sb_dense_bwd_data_fn(size_t rows, size_t in, size_t out, const float *SB_RESTRICT dy,
                                  size_t lddy, const uint64_t *SB_RESTRICT mask, size_t ldm,
                                  const float *SB_RESTRICT w, size_t ldw,
                                  const uint64_t *SB_RESTRICT xmask, size_t ldxm,
                                  float *SB_RESTRICT dx, size_t lddx);

/* Adds the weight and bias gradients of `rows` rows, taken in chunks of SB_WGRAD_ROWS rows
 * (the last chunk may be shorter; rows = 0 writes nothing). For each chunk c, in order:
 *   acc = 0; for n in c: acc = fmaf(g(n, j), x[n][k], acc);   dw[j][k] = dw[j][k] + acc
 *   acc = 0; for n in c: acc = acc + g(n, j);                  db[j]    = db[j] + acc
 * The chunk bounds the packed gradient panel of the vector kernels (BLIS's KC) and is the
 * trainer's batch tile, so a trainer call is one chunk. The partial sum of a chunk depends
 * only on its rows, so a caller that splits a batch into fixed tiles and adds the tiles'
 * partials in a fixed order gets the same bits for any number of threads (the determinism
 * contract, docs/design.md). `db` may be NULL. */
#define SB_WGRAD_ROWS 256
typedef void sb_dense_bwd_weights_fn(size_t rows, size_t in, size_t out,
                                     const float *SB_RESTRICT dy, size_t lddy,
                                     const uint64_t *SB_RESTRICT mask, size_t ldm,
                                     const float *SB_RESTRICT x, size_t ldx, float *SB_RESTRICT dw,
                                     size_t lddw, float *SB_RESTRICT db);

/* Through the sigmoid: dz[i] = dy[i] * (y[i] * (1 - y[i])), y the sigmoid's output. */
typedef void sb_sigmoid_bwd_fn(size_t n, const float *SB_RESTRICT y, const float *SB_RESTRICT dy,
                               float *SB_RESTRICT dz);

/* ---- sinusoidal encodings ----------------------------------------------------------- */

/* s[i] = sin(pi * y[i]), c[i] = cos(pi * y[i]), each within 1.5 ulp of the exact value (measured
 * max 1.03) (tests/test_kernel_maths.c measures it). The algorithm, which every ISA reproduces,
 * is sincospi_u15_ref() in kernels/scalar/transcendental.h. s or c may be NULL. */
typedef void sb_sincospi_fn(size_t n, const float *SB_RESTRICT y, float *SB_RESTRICT s,
                            float *SB_RESTRICT c);

/* NeRF positional encoding over octaves l = l0 .. l1 of each of d input coordinates:
 *   F = (l1 - l0 + 1) * d features; feature f = c * (l1 - l0 + 1) + (l - l0)
 *   out[n][f] = sin(pi * 2^l * x[n][c]),  out[n][F + f] = cos(pi * 2^l * x[n][c])
 * 2^l * x is exact (a power-of-two scale), so the only rounding is in sincospi_u15.
 * Requires -126 <= l0 <= l1 <= 127. */
typedef void sb_posenc_fwd_fn(size_t rows, size_t d, int l0, int l1, const float *SB_RESTRICT x,
                              size_t ldx, float *SB_RESTRICT out, size_t ldo);

/* Fourier features sin/cos(2 pi B x) for B[m][d] (Tancik's Gaussian and positional
 * encodings are both this with different B):
 *   z = 0; for c = 0 .. d-1: z = fmaf(B[j][c], x[n][c], z)
 *   out[n][j] = sin(pi * 2z),  out[n][m + j] = cos(pi * 2z)     (2z is exact) */
typedef void sb_fourier_fwd_fn(size_t rows, size_t d, size_t m, const float *SB_RESTRICT x,
                               size_t ldx, const float *SB_RESTRICT B, float *SB_RESTRICT out,
                               size_t ldo);

/* ---- loss and optimiser ------------------------------------------------------------- */

/* Mean squared error over n outputs, with its gradient.
 *   e_i = y[i] - t[i];   dy[i] = e_i * scale   (dy may be NULL; scale is 2/n for the mean)
 *   lane[i % 16] = fmaf(e_i, e_i, lane[i % 16])   (16 lanes, each starting at +0)
 *   returns ((lane[0] + lane[1]) + lane[2]) + ... + lane[15]   (the sum, not the mean)
 * The 16-lane layout is fixed so every ISA sums in the same order. */
typedef float sb_mse_loss_grad_fn(size_t n, const float *SB_RESTRICT y, const float *SB_RESTRICT t,
                                  float scale, float *SB_RESTRICT dy);

/* Per-step Adam constants; see sb_adam_step_make(). */
struct sb_adam_step {
    float beta1, one_minus_beta1;
    float beta2, one_minus_beta2;
    float neg_step_size; /* -lr / (1 - beta1^t)      */
    float bc2_sqrt;      /* sqrt(1 - beta2^t)        */
    float eps;
};

/* Adam as PyTorch writes it (torch.optim.Adam, foreach=False), in float:
 *   m = fmaf(1-beta1, g - m, m)                       (exp_avg.lerp_(grad, 1-beta1))
 *   v = fmaf((1-beta2) * g, g, v * beta2)             (exp_avg_sq.mul_(b2).addcmul_(g, g, 1-b2))
 *   p = fmaf(neg_step_size, m / (sqrtf(v) / bc2_sqrt + eps), p)
 * sqrt and division are correctly rounded on every ISA, so this is bit-identical too. */
typedef void sb_adam_update_fn(size_t n, float *SB_RESTRICT p, const float *SB_RESTRICT g,
                               float *SB_RESTRICT m, float *SB_RESTRICT v,
                               const struct sb_adam_step *step);

/* ---- activation patterns ------------------------------------------------------------ */

/* popcount(a XOR b) over `words` 64-bit words: the Hamming distance of two patterns. */
typedef uint64_t sb_pattern_hamming_fn(size_t words, const uint64_t *a, const uint64_t *b);

/* A 64-bit hash of a pattern, for counting distinct patterns (equal hashes must still be
 * confirmed by comparing the words). The pattern is read as 2 * words little-endian 32-bit
 * values w[i], padded with zeros to a multiple of 8, and mixed in 8 lanes:
 *   s[l] = 0x9E3779B9u * (l + 1)
 *   for each group g, lane l: s[l] = (s[l] ^ w[8g + l]) * 0x01000193u; s[l] ^= s[l] >> 15
 *   h = 0xCBF29CE484222325; for l = 0 .. 7: h = (h ^ s[l]) * 0x100000001B3   (64-bit)
 */
typedef uint64_t sb_pattern_hash_fn(size_t words, const uint64_t *p);

/* ---- the kernel table ---------------------------------------------------------------- */

enum sb_isa { SB_ISA_SCALAR, SB_ISA_AVX2, SB_ISA_AVX512, SB_ISA_NEON, SB_ISA_COUNT };

struct sb_kernels {
    enum sb_isa isa;
    const char *isa_name; /* "scalar", "avx2", ... ; kernel k is named "<k>__<isa_name>" */
#define SB_KERNEL(name, type) type *name;
#include "specbias/kernel_list.inc"
#undef SB_KERNEL
};

/* Kernel identifiers in list order, for tests, cost tables and reports. */
enum sb_kernel_id {
#define SB_KERNEL(name, type) SB_K_##name,
#include "specbias/kernel_list.inc"
#undef SB_KERNEL
    SB_KERNEL_COUNT
};

const char *sb_kernel_name(enum sb_kernel_id id); /* "dense_relu_fwd", ... */

/* ---- declared cost -------------------------------------------------------------------- */

/* The shape of one call. Dense kernels: rows, in, out. Element-wise kernels (sigmoid_bwd,
 * sincospi, mse, adam): rows = n. Encodings: rows, in = d, out = number of sin features F
 * (so 2F outputs). Pattern kernels: rows = number of 64-bit words. */
struct sb_shape {
    size_t rows, in, out;
};

/* FLOPs (an FMA counts 2) and the bytes a call must move at least (each operand read or
 * written once), derived from the shape. */
struct sb_cost {
    double flops;
    double bytes;
};

struct sb_cost sb_kernel_cost(enum sb_kernel_id id, struct sb_shape shape);

/* ---- dispatch ------------------------------------------------------------------------- */

const char *sb_isa_name(enum sb_isa isa);
/* Parses "scalar", "avx2", "avx512", "neon". Returns 0, or -1 for an unknown name. */
int sb_isa_parse(const char *name, enum sb_isa *isa);

/* The table of an ISA if this build contains it, else NULL (whether or not the CPU runs it). */
const struct sb_kernels *sb_kernels_for(enum sb_isa isa);

/* Whether the CPU and OS can run `isa` and this build contains it. On no, *why (if given)
 * points to a static sentence saying why, e.g. "the CPU lacks AVX512BW". */
int sb_isa_supported(enum sb_isa isa, const char **why);

/* The ISA `auto` picks: the widest supported one. */
enum sb_isa sb_isa_auto(void);

/* Selects the table: `request` ("auto", an ISA name, or NULL to read $SPECBIAS_ISA, where
 * unset or empty means auto). Returns NULL with a message in err when the name is unknown or
 * the CPU cannot run it; it never hands out a table the CPU cannot execute. */
const struct sb_kernels *sb_select(const char *request, char *err, size_t errlen);

/* CPU model string (CPUID brand string on x86, /proc/cpuinfo on aarch64). */
const char *sb_cpu_model(void);

/* ---- cache blocking ------------------------------------------------------------------- */

/* The dense kernels size their loop blocks (rows kept in L2, reduction panels kept in L1)
 * from these per-core cache sizes in bytes. Blocking changes the order in which output
 * elements are computed, never the operations of one element, so it changes no result, only
 * speed. Defaults: 32 KiB and 512 KiB. The harness sets what hwloc reports, once, before any
 * kernel runs (not thread-safe against running kernels). Zero keeps the current value; others
 * are clamped to [4 KiB, 1 GiB]. */
void sb_set_cache_sizes(size_t l1d_bytes, size_t l2_bytes);
void sb_get_cache_sizes(size_t *l1d_bytes, size_t *l2_bytes);

/* The L1d's associativity, which with its size gives its sets: the kernels read a B panel in
 * place unless its rows, ld floats apart, would land in too few sets (a panel is then packed).
 * Default 8 (with the default 32 KiB, 64 sets); the harness sets what hwloc reports, else the
 * size over 4 KiB (64 sets). Zero keeps the current value; others are clamped to [1, 64] (64
 * stands for fully associative). Changes no result, only speed. */
void sb_set_l1d_ways(size_t ways);
size_t sb_get_l1d_ways(void);

/* ---- helpers shared by callers -------------------------------------------------------- */

/* Wt[k][j] = W[j][k]: the copy the forward kernels read. */
void sb_pack_wt(size_t in, size_t out, const float *SB_RESTRICT w, size_t ldw,
                float *SB_RESTRICT wt, size_t ldwt);

/* Adam's per-step constants for step t >= 1, in double then rounded once, with beta^t by
 * binary exponentiation in double (not pow(), whose last bit may differ between C libraries), so
 * every machine gets the same floats. */
struct sb_adam_step sb_adam_step_make(double lr, double beta1, double beta2, double eps,
                                      uint64_t t);

#ifdef __cplusplus
}
#endif
#endif
