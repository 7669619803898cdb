/* The dense-layer kernels of every vector ISA as BLIS-style register tiles, over the
 * vocabulary of kernels/<isa>/simd.h. kernels/<isa>/dense.c includes this after its simd.h and
 * after defining TILE_MR and TILE_NV, the tile shape of that ISA, and defines each
 * dense_*__<isa> as a call of the dense_*_simd body here.
 *
 * All three kernels are C (+)= A B over micro-tiles of MR x NR outputs held in MR x NV vector
 * accumulators: per step of the reduction, NV vectors of B are loaded, MR values of A are
 * broadcast from memory and MR x NV FMAs issue. Each lane runs the documented sequential fmaf
 * chain of one output (kernels.h), so the bits match kernels/scalar/dense.c for any vector
 * width, tile shape and blocking. The kernels differ in what A and B are and in the tile's
 * prologue and epilogue:
 *   forward          A = x rows (broadcast in place), B = Wt panels, acc = b;
 *                    ReLU + mask bits, identity or sigmoid fused into the store
 *   data gradient    A = the gradient rows (in place when pre-masked, else packed with the
 *                    mask applied), B = W panels, acc = 0; the input's ReLU mask on the store
 *   weight gradient  A = the gradient of MR units, packed unit-interleaved per row (the bias
 *                    gradient is summed while packing), B = x panels, dw += acc
 * Tails use the vocabulary's masked loads and stores (lane by lane on NEON), never a scalar
 * loop. */
#ifndef SPECBIAS_KERNELS_SHARED_DENSE_H
#define SPECBIAS_KERNELS_SHARED_DENSE_H

#include "kernels/internal.h"
#include "kernels/shared/transcendental.h"

#ifndef TILE_MR
#error "define TILE_MR and TILE_NV before including kernels/shared/dense.h"
#endif

#define MR TILE_MR      /* rows of A per micro-tile */
#define NV TILE_NV      /* vectors of B per micro-tile */
#define NR (NV * SBV_W) /* columns per micro-tile; divides 64 (mask words) */
_Static_assert(64 % NR == 0 && NR <= 32,
               "a forward tile's mask bits must fit one word and 32 bits");
_Static_assert(MR <= 12, "TAIL_ROWS covers partial tiles of up to 11 rows");

/* Every loop over a tile's rows r < R or vectors v < NV unrolls completely, so that each
 * accumulator acc[r][v] is a variable of its own and lives in a register. GCC scalarises the
 * array only when every index is a constant, and without the pragma its size limits stopped
 * short in NEON's tiles, AVX2's sigmoid tiles and one AVX-512 forward tile: the array stayed
 * in memory, every accumulator stored on each step of the reduction. */
#define TILE_UNROLL _Pragma("GCC unroll 16")

/* Masks of the first `rem` of the tile's NR columns (all of them when full). */
SBV_INLINE void col_masks(const int full, size_t rem, sbv_m cm[NV])
{
    TILE_UNROLL
    for (int v = 0; v < NV; v++) {
        const size_t off = (size_t)v * SBV_W;
        cm[v] = sbv_mask_n(full ? SBV_W : (rem > off ? rem - off : 0));
    }
}

SBV_INLINE sbv_f load_cols(const int full, const float *p, int v, const sbv_m cm[NV])
{
    return full ? sbv_loadu(p + v * SBV_W) : sbv_loadu_m(p + v * SBV_W, cm[v]);
}

SBV_INLINE void store_cols(const int full, float *p, int v, const sbv_m cm[NV], sbv_f x)
{
    if (full)
        sbv_storeu(p + v * SBV_W, x);
    else
        sbv_storeu_m(p + v * SBV_W, cm[v], x);
}

/* Where the tile leaves few registers to spare (NEON: 29 of 32 taken), GCC's scheduling of the 16
 * unrolled steps below hoists later steps' loads above earlier steps' FMAs, and the values
 * it holds early push accumulators to the stack. TILE_STEP_FENCE_ON 1 puts a compiler barrier
 * between steps: it orders no instruction in the CPU and changes no arithmetic, it only stops
 * the compiler moving loads across it. */
#if defined(TILE_STEP_FENCE_ON) && TILE_STEP_FENCE_ON
#define TILE_STEP_FENCE() __asm__ volatile("" ::: "memory")
#else
#define TILE_STEP_FENCE() ((void)0)
#endif

/* The register tile's inner loop: for k = 0 .. K-1, for each r < R and vector v < nv,
 *   acc[r][v] = fma(a(r, k), b[k][v], acc[r][v]),   a(r, k) = a[r * ars + k * aks].
 * bfull: all NR columns of B may be loaded (a full tile, or a zero-padded packed panel).
 * nv (<= NV, a constant at each call): the vectors that hold columns; a tile of a few columns
 * (an output layer of 1 or 3 units) skips the FMAs of vectors that would hold none.
 * pf (or NULL): the next micro-tile's A, MR rows of K floats ldpf apart (aks = 1), brought
 * into L2 a line per row every 16 steps, spread through the loop. On a batch larger than L2
 * those rows come from L3, and a tile's rows, a line or more apart, are no stream the hardware
 * prefetchers follow: with this and prefetch_tile_out, 3 interleaved runs of 21 calls gave
 * dense_relu_fwd 4096x256x256 +10 to +25 % and dense_bwd_data +13 % (AVX-512) and +27 %
 * (AVX2) on a Xeon; shapes that fit L2 did not change there, and on a Zen 5 they ran faster
 * without it, so the tiles now prefetch only rows larger than L2 (prefetch_rows). Into L1
 * instead was no better. */
SBV_INLINE void micro_step(const int R, const int nv, const int bfull, const sbv_m cm[NV],
                           size_t k, const float *a, size_t ars, size_t aks, const float *b,
                           size_t ldb, sbv_f acc[MR][NV])
{
    const float *bk = b + k * ldb;
    sbv_f bv[NV];
    TILE_UNROLL
    for (int v = 0; v < nv; v++) bv[v] = load_cols(bfull, bk, v, cm);
    const float *ak = a + k * aks;
    TILE_UNROLL
    for (int r = 0; r < R; r++) {
        const sbv_f ar = sbv_bcast(ak + (size_t)r * ars);
        TILE_UNROLL
        for (int v = 0; v < nv; v++) acc[r][v] = sbv_fma(ar, bv[v], acc[r][v]);
    }
}

SBV_INLINE void micro_loop_nv(const int R, const int nv, const int bfull, const sbv_m cm[NV],
                              size_t K, const float *a, size_t ars, size_t aks, const float *b,
                              size_t ldb, sbv_f acc[MR][NV], const float *pf, size_t ldpf)
{
    size_t k = 0;
    if (pf)
        for (; k + 16 <= K; k += 16) {
            TILE_UNROLL
            for (int s = 0; s < 16; s++) {
                micro_step(R, nv, bfull, cm, k + (size_t)s, a, ars, aks, b, ldb, acc);
                if (s < MR) __builtin_prefetch(pf + (size_t)s * ldpf + k, 0, 2);
                TILE_STEP_FENCE();
            }
        }
    /* unrolled: 3 interleaved rounds of the dense benchmarks, 1 thread, gave +3 to +35 %
     * (4096x256x256 bwd_weights 47 -> 63 GFLOP/s); 8 was no better than 4 */
#pragma GCC unroll 4
    for (; k < K; k++) micro_step(R, nv, bfull, cm, k, a, ars, aks, b, ldb, acc);
}

/* The next micro-tile's MR x NR outputs, fetched for writing while this tile runs (see pf in
 * micro_loop_nv). */
SBV_INLINE void prefetch_tile_out(const float *p, size_t ld)
{
    TILE_UNROLL
    for (int r = 0; r < MR; r++) TILE_UNROLL
    for (int c = 0; c < NR; c += 64 / (int)sizeof(float))
        __builtin_prefetch(p + (size_t)r * ld + c, 1, 2);
}

/* Packs a B panel: dst[k][c] = src[k * lds + c] for c < cols (<= NR), +0 for c >= cols, so
 * the micro-tile loads whole vectors from one contiguous stream. Done where a panel read in
 * place would thrash L1 (panel_thrashes) or is a column tail (no masked loads in the loop);
 * a packed panel is read from L2 once per call, so where the caller's layout is already good
 * (the trainer pads its weight copies) the panel is read in place. */
#define KC_MAX (16384 / NR) /* the longest packed panel: KC_MAX x NR floats = 64 KiB */

/* The per-core cache sizes the blocking below is sized for (sb_set_cache_sizes). */
static size_t l1d_bytes(void)
{
    size_t l1d;
    sb_get_cache_sizes(&l1d, NULL);
    return l1d;
}

static size_t l2_bytes(void)
{
    size_t l2;
    sb_get_cache_sizes(NULL, &l2);
    return l2;
}

/* Whether a column panel of K rows, ld floats apart, would keep missing L1: rows a multiple of
 * 64 bytes apart visit only sets / gcd(lines apart, sets) of the L1 sets (a 128-float row is
 * 8 lines: 8 of 64 sets, 64 lines at 8 ways); allow the panel half of what it can reach. The
 * sets are the size over the ways hwloc reports (sb_set_l1d_ways): 64 on the 32 KiB 8-way and
 * 48 KiB 12-way L1s of x86. Taking 8 ways for a 48 KiB L1 made it 96 sets, so a 144-float row
 * (9 lines; the trainer's 128-unit activations) reached a third of them and lazzari1d's weight
 * gradient packed panels it could read in place: `scripts/kernel-ab --isa avx512` on the Zen 5
 * VM, 15 repetitions, dense_bwd_weights/256x128x128-ld144 83.2 -> 87.0 % of the peak (the
 * other 14 benchmarks of the three dense kernels at the bar and trainer shapes, whose decision
 * did not change, within 2 %). */
static int panel_thrashes(size_t ld, size_t K)
{
    const size_t bytes = ld * sizeof(float), ways = sb_get_l1d_ways();
    if (bytes % 64) return 0; /* rows drift across lines and sets */
    const size_t sets = l1d_bytes() / 64 / ways; /* >= 1: L1d >= 4 KiB, ways <= 64 */
    size_t a = bytes / 64, b = sets;
    while (b) {
        const size_t t = a % b;
        a = b;
        b = t;
    }
    return K > sets / a * ways / 2;
}

static void pack_b_panel(size_t K, size_t cols, const float *src, size_t lds, float *dst)
{
    if (cols >= NR) {
        for (size_t k = 0; k < K; k++)
            for (int v = 0; v < NV; v++)
                sbv_storeu(dst + k * NR + v * SBV_W, sbv_loadu(src + k * lds + v * SBV_W));
        return;
    }
    for (size_t k = 0; k < K; k++)
        for (int v = 0; v < NV; v++) {
            const size_t off = (size_t)v * SBV_W;
            sbv_storeu(dst + k * NR + off,
                       cols > off ? sbv_loadu_n(src + k * lds + off, cols - off) : sbv_zero());
        }
}

/* Calls TILE(R) for the R = rem rows of a last, partial micro-tile (1 <= rem < MR <= 12);
 * R is a constant in each call, so every tile height is its own unrolled code. */
#define TAIL_ROWS(rem, TILE)                                                                       \
    switch (rem) {                                                                                 \
    case 11: TAIL_IF(11, TILE); break;                                                             \
    case 10: TAIL_IF(10, TILE); break;                                                             \
    case 9: TAIL_IF(9, TILE); break;                                                               \
    case 8: TAIL_IF(8, TILE); break;                                                               \
    case 7: TAIL_IF(7, TILE); break;                                                               \
    case 6: TAIL_IF(6, TILE); break;                                                               \
    case 5: TAIL_IF(5, TILE); break;                                                               \
    case 4: TAIL_IF(4, TILE); break;                                                               \
    case 3: TAIL_IF(3, TILE); break;                                                               \
    case 2: TAIL_IF(2, TILE); break;                                                               \
    case 1: TILE(1); break;                                                                        \
    default: break;                                                                                \
    }
/* TILE(R) only where R < MR: the others cannot occur, and must not be instantiated. */
#define TAIL_IF(R, TILE)                                                                           \
    do {                                                                                           \
        if ((R) < MR) TILE((R) < MR ? (R) : 1);                                                    \
    } while (0)

/* The micro-tiles of rows n .. nb - 1 of a panel: TILE(MR, PF) for each full one, PF = 1 where
 * `pf` and the next tile is full too (the tile prefetches its rows and outputs: micro_loop_nv's
 * pf), then TAIL(R) for the last R < MR rows. */
#define ROW_TILES(n, nb, pf, TILE, TAIL)                                                           \
    do {                                                                                           \
        if (pf)                                                                                    \
            for (; (n) + 2 * MR <= (nb); (n) += MR) TILE(MR, 1);                                   \
        for (; (n) + MR <= (nb); (n) += MR) TILE(MR, 0);                                           \
        TAIL_ROWS((nb) - (n), TAIL)                                                                \
    } while (0)

/* Whether the tiles prefetch the next tile's rows of A (rows of ld floats): only where A is
 * larger than L2, so cannot already be there. The prefetching loop (16 steps unrolled, with a
 * row address per prefetch) costs registers that the 4-step loop does not, GP ones reloaded
 * from the stack and a few accumulators spilled. On the Zen 5 VM (1 MiB L2), `scripts/kernel-ab`
 * with 15 interleaved repetitions a side, against prefetching wherever a next full tile
 * follows: the forward pass and the data gradient at 2048x128x128 and at the trainer's 256- and
 * 104-row calls 3-8 % faster on AVX-512 and 1-3 % on AVX2; 4096x256x256, which still
 * prefetches, within 1.5 %. There the prefetch is what made a Xeon's 4096x256x256 10-25 %
 * faster. */
static int prefetch_rows(size_t rows, size_t ld)
{
    return rows * ld * sizeof(float) > l2_bytes();
}

/* Rows of the forward pass's A block kept in L2: their inputs take half of it. */
static size_t fwd_rows_per_block(size_t in)
{
    size_t mc = in ? l2_bytes() / 2 / (in * sizeof(float)) : 1024;
    mc = mc / MR * MR;
    return mc < MR ? MR : mc;
}

/* ---- forward: y[n][j] = epilogue(b[j] + sum_k x[n][k] wt[k][j]) --------------------------- */

enum fwd_epi { EPI_RELU, EPI_LINEAR, EPI_SIGMOID };

/* Where the sigmoid of the output layer runs: on the accumulators, in the tile's registers
 * (the default), or, with TILE_SIGMOID_IN_MEMORY 1, on the tile just stored, by sigmoid_tile
 * below. Both give the same bits (a float store and load are exact). In registers is faster
 * where it fits (x86: 4096x256x256 5-7 % faster than through memory); but GCC hoists the exp's
 * constants out of the loop over tiles, where they hold registers through the reduction loop,
 * and on NEON that pushed 10 of the 20 accumulators to the stack on every step. */
#ifndef TILE_SIGMOID_IN_MEMORY
#define TILE_SIGMOID_IN_MEMORY 0
#endif

#if TILE_SIGMOID_IN_MEMORY
/* y = sigmoid(y) over R rows of `cols` (<= NR) outputs. Not inlined, so that its constants
 * live here only. */
__attribute__((noinline)) static void sigmoid_tile(size_t R, size_t cols, float *y, size_t ldy)
{
    for (size_t r = 0; r < R; r++)
        for (size_t c = 0; c < cols; c += SBV_W) {
            float *p = y + r * ldy + c;
            sbv_storeu_n(p, cols - c, sbv_sigmoid(sbv_loadu_n(p, cols - c)));
        }
}
#endif

/* One micro-tile: rows x[0 .. R-1], columns j0 .. j0 + NR - 1 of which the first `jrem`
 * exist (all when full). wt, b and y point at column j0; mask at the first row's words.
 * pfx, pfy (or NULL): the next tile's x rows and outputs, to prefetch. */
SBV_INLINE void fwd_tile(const int R, const int nv, const int full, const int packed,
                         const enum fwd_epi epi, size_t in, size_t jrem, const float *x, size_t ldx, const float *wt,
                         size_t ldwt, const float *b, float *y, size_t ldy, uint64_t *mask,
                         size_t ldm, size_t j0, const float *pfx, float *pfy)
{
    sbv_m cm[NV];
    col_masks(full, jrem, cm);
    if (pfy) prefetch_tile_out(pfy, ldy);
    sbv_f acc[MR][NV];
    TILE_UNROLL
    for (int v = 0; v < nv; v++) {
        const sbv_f bv = load_cols(full, b, v, cm);
        TILE_UNROLL
        for (int r = 0; r < R; r++) acc[r][v] = bv;
    }
    micro_loop_nv(R, nv, full || packed, cm, in, x, ldx, 1, wt, ldwt, acc, pfx, ldx);
    TILE_UNROLL
    for (int r = 0; r < R; r++) {
        uint32_t bits = 0;
        TILE_UNROLL
        for (int v = 0; v < nv; v++) {
            sbv_f o = acc[r][v];
            if (epi == EPI_RELU) {
                /* acc > 0 ? acc : +0 (NaN and -0 give +0) */
                bits |= sbv_relu_bits(&o) << (v * SBV_W);
            } else if (epi == EPI_SIGMOID && !TILE_SIGMOID_IN_MEMORY) {
                o = sbv_sigmoid(o);
            }
            store_cols(full, y + (size_t)r * ldy, v, cm, o);
        }
        if (epi == EPI_RELU && mask) {
            if (!full) bits &= (UINT32_C(1) << jrem) - 1; /* jrem < NR */
            /* j0 is a multiple of NR and columns go up within a row, so a word's first
             * tile (j0 % 64 == 0) assigns it and later tiles OR their bits in. */
            uint64_t *word = mask + (size_t)r * ldm + j0 / 64;
            const unsigned shift = (unsigned)(j0 % 64);
            if (shift == 0)
                *word = bits;
            else
                *word |= (uint64_t)bits << shift;
        }
    }
#if TILE_SIGMOID_IN_MEMORY
    if (epi == EPI_SIGMOID) sigmoid_tile((size_t)R, full ? NR : jrem, y, ldy);
#endif
}

/* Rows n0 .. n0 + nb - 1 against one column panel. */
SBV_INLINE void fwd_panel(const int nv, const int full, const int packed, const enum fwd_epi epi,
                          size_t nb,
                          size_t in, size_t jrem, const float *x, size_t ldx, const float *wt,
                          size_t ldwt, const float *b, float *y, size_t ldy, uint64_t *mask,
                          size_t ldm, size_t j0, int pf)
{
    size_t n = 0;
#define FWD_TILE(R, PF)                                                                            \
    fwd_tile(R, nv, full, packed, epi, in, jrem, x + n * ldx, ldx, wt, ldwt, b, y + n * ldy,     \
             ldy, mask ? mask + n * ldm : NULL, ldm, j0, (PF) ? x + (n + MR) * ldx : NULL,      \
             (PF) ? y + (n + MR) * ldy : NULL)
#define FWD_TAIL(R) FWD_TILE(R, 0)
    ROW_TILES(n, nb, pf, FWD_TILE, FWD_TAIL);
#undef FWD_TAIL
#undef FWD_TILE
}

/* Blocks of rows whose inputs stay in L2; in each, column panels of Wt (in x NR, packed, in
 * L1) outside and micro-tiles of rows inside, as BLIS orders its loops. */
SBV_INLINE void dense_fwd(const enum fwd_epi epi, size_t rows, size_t in, size_t out,
                          const float *x, size_t ldx, const float *wt, size_t ldwt, const float *b,
                          float *y, size_t ldy, uint64_t *mask, size_t ldm)
{
    const size_t mc = fwd_rows_per_block(in);
    const int thrash = panel_thrashes(ldwt, in); /* the same for every panel */
    const int pf = prefetch_rows(rows, ldx);
    _Alignas(64) float bp[KC_MAX * NR];
    for (size_t n0 = 0; n0 < rows; n0 += mc) {
        const size_t nb = rows - n0 < mc ? rows - n0 : mc;
        const float *xb = x + n0 * ldx;
        float *yb = y + n0 * ldy;
        uint64_t *mb = mask ? mask + n0 * ldm : NULL;
        for (size_t j0 = 0; j0 < out; j0 += NR) {
            const size_t jrem = out - j0;
            const int full = jrem >= NR;
            if (in <= KC_MAX && (!full || thrash)) {
                pack_b_panel(in, jrem, wt + j0, ldwt, bp);
                if (full)
                    fwd_panel(NV, 1, 1, epi, nb, in, NR, xb, ldx, bp, NR, b + j0, yb + j0, ldy, mb,
                              ldm, j0, pf);
                else if (NV > 1 && jrem <= SBV_W) /* an output layer of a few units */
                    fwd_panel(1, 0, 1, epi, nb, in, jrem, xb, ldx, bp, NR, b + j0, yb + j0, ldy, mb,
                              ldm, j0, pf);
                else
                    fwd_panel(NV, 0, 1, epi, nb, in, jrem, xb, ldx, bp, NR, b + j0, yb + j0, ldy,
                              mb, ldm, j0, pf);
            } else if (full) {
                fwd_panel(NV, 1, 0, epi, nb, in, NR, xb, ldx, wt + j0, ldwt, b + j0, yb + j0, ldy,
                          mb, ldm, j0, pf);
            } else if (NV > 1 && jrem <= SBV_W) {
                fwd_panel(1, 0, 0, epi, nb, in, jrem, xb, ldx, wt + j0, ldwt, b + j0, yb + j0, ldy,
                          mb, ldm, j0, pf);
            } else {
                fwd_panel(NV, 0, 0, epi, nb, in, jrem, xb, ldx, wt + j0, ldwt, b + j0, yb + j0, ldy,
                          mb, ldm, j0, pf);
            }
        }
    }
}

SBV_INLINE void dense_relu_fwd_simd(size_t rows, size_t in, size_t out, const float *restrict x,
                                    size_t ldx, const float *restrict wt, size_t ldwt,
                                    const float *restrict b, float *restrict y, size_t ldy,
                                    uint64_t *restrict mask, size_t ldm)
{
    dense_fwd(EPI_RELU, rows, in, out, x, ldx, wt, ldwt, b, y, ldy, mask, ldm);
}

SBV_INLINE void dense_linear_fwd_simd(size_t rows, size_t in, size_t out, const float *restrict x,
                                      size_t ldx, const float *restrict wt, size_t ldwt,
                                      const float *restrict b, float *restrict y, size_t ldy)
{
    dense_fwd(EPI_LINEAR, rows, in, out, x, ldx, wt, ldwt, b, y, ldy, NULL, 0);
}

SBV_INLINE void dense_sigmoid_fwd_simd(size_t rows, size_t in, size_t out, const float *restrict x,
                                       size_t ldx, const float *restrict wt, size_t ldwt,
                                       const float *restrict b, float *restrict y, size_t ldy)
{
    dense_fwd(EPI_SIGMOID, rows, in, out, x, ldx, wt, ldwt, b, y, ldy, NULL, 0);
}

/* ---- masked gradients --------------------------------------------------------------------- */

/* g(n, j0 .. j0 + SBV_W - 1) of one row: dy where the mask bit is set, +0 elsewhere (as
 * masked_grad), the first min(jrem, SBV_W) lanes; the rest +0. dy and mask point at row n;
 * the bits may straddle two mask words (read only when a unit below j0 + jrem needs it). */
SBV_INLINE sbv_f grad_vec(const float *dy, const uint64_t *mask, size_t j0, size_t jrem)
{
    sbv_f g = sbv_loadu_n(dy + j0, jrem);
    if (mask) {
        const size_t w = j0 / 64, s = j0 % 64, cnt = jrem < SBV_W ? jrem : SBV_W;
        uint64_t bits = mask[w] >> s;
        if (s + cnt > 64) bits |= mask[w + 1] << (64 - s);
        g = sbv_keep(g, sbv_mask_bits((uint32_t)bits & ((UINT32_C(1) << cnt) - 1)));
    }
    return g;
}

/* ---- dx[n][k] = sum_j g(n, j) w[j][k] ------------------------------------------------------ */

/* Reduction chunk of the data gradient: the B panel of one micro-tile (JC rows of W x NR
 * floats) takes half of L1. Between chunks the accumulators go through dx (a float store and
 * load are exact), so the chunk changes no bit. */
#define BWD_JC_MAX 1024
static size_t bwd_data_chunk(void)
{
    size_t jc = l1d_bytes() / 2 / (NR * sizeof(float)) / SBV_W * SBV_W;
    return jc < 64 ? 64 : jc > BWD_JC_MAX ? BWD_JC_MAX : jc;
}

/* gp[r][j] = g(r, jc + j) for j < J: R gradient rows, masked, into a panel of row stride ld. */
SBV_INLINE void pack_grad_rows(size_t R, size_t J, const float *dy, size_t lddy,
                               const uint64_t *mask, size_t ldm, size_t jc, float *gp, size_t ld)
{
    for (size_t r = 0; r < R; r++)
        for (size_t j = 0; j < J; j += SBV_W)
            sbv_storeu(gp + r * ld + j,
                       grad_vec(dy + r * lddy, mask ? mask + r * ldm : NULL, jc + j, J - j));
}

/* With TILE_XMASK_IN_REGISTERS 1 (AVX-512 and AVX2) the tile zeroes the masked lanes of its
 * accumulators before the store, the same select on the same values, so the same bits; else
 * (NEON) apply_xmask does it after: dx[r][k0 + c] = +0 where the input mask bit is clear, for
 * the tile's R rows and NR columns (krem of them exist; k0 is a multiple of NR, so a row's
 * bits lie in one word). Done in memory after the tile's store and not inlined, so that its
 * mask constants cannot stay live across the reduction loop beside the accumulators (on AVX2
 * that once made the trainer's data gradient 60 % slower; kernels/avx2/dense.c). */
#ifndef TILE_XMASK_IN_REGISTERS
#define TILE_XMASK_IN_REGISTERS 0
#endif
#if !TILE_XMASK_IN_REGISTERS
__attribute__((noinline)) static void apply_xmask(size_t R, size_t krem, const uint64_t *xmask,
                                                  size_t ldxm, size_t k0, float *dx, size_t lddx)
{
    for (size_t r = 0; r < R; r++) {
        const uint64_t bits = xmask[r * ldxm + k0 / 64] >> (k0 % 64);
        float *d = dx + r * lddx;
        for (size_t c = 0; c < krem && c < NR; c += SBV_W) {
            const sbv_m keep = sbv_mask_bits((uint32_t)(bits >> c) & ((UINT32_C(1) << SBV_W) - 1));
            sbv_storeu_n(d + c, krem - c, sbv_keep(sbv_loadu_n(d + c, krem - c), keep));
        }
    }
}
#endif

/* One micro-tile of dx: R rows, columns k0 .. (krem of NR). A is the gradient, a(r, j) =
 * a[r * ars + j], either packed (masked) or dy itself (no mask). With `first` the chain starts
 * at +0, else from dx (an earlier chunk's partial); `last` applies xmask and stores the
 * result. */
SBV_INLINE void bwd_data_tile(const int R, const int full, const int bfull, int first, int last,
                              size_t J, size_t krem, const float *a, size_t ars, const float *w,
                              size_t ldw, const uint64_t *xmask, size_t ldxm, size_t k0, float *dx,
                              size_t lddx, const float *pfa, float *pfdx)
{
    sbv_m cm[NV];
    col_masks(full, krem, cm);
    if (pfdx) prefetch_tile_out(pfdx, lddx);
    sbv_f acc[MR][NV];
    TILE_UNROLL
    for (int r = 0; r < R; r++) TILE_UNROLL
    for (int v = 0; v < NV; v++)
        acc[r][v] = first ? sbv_zero() : load_cols(full, dx + (size_t)r * lddx, v, cm);
    micro_loop_nv(R, NV, bfull, cm, J, a, ars, 1, w, ldw, acc, pfa, ars);
#if TILE_XMASK_IN_REGISTERS
    if (last && xmask) {
        TILE_UNROLL
        for (int r = 0; r < R; r++) {
            const uint64_t bits = xmask[(size_t)r * ldxm + k0 / 64] >> (k0 % 64);
            TILE_UNROLL
            for (int v = 0; v < NV; v++)
                acc[r][v] = sbv_keep(acc[r][v], sbv_mask_bits((uint32_t)(bits >> (v * SBV_W)) &
                                                              ((UINT32_C(1) << SBV_W) - 1)));
        }
    }
#endif
    TILE_UNROLL
    for (int r = 0; r < R; r++) TILE_UNROLL
    for (int v = 0; v < NV; v++) store_cols(full, dx + (size_t)r * lddx, v, cm, acc[r][v]);
#if !TILE_XMASK_IN_REGISTERS
    if (last && xmask) apply_xmask((size_t)R, krem, xmask, ldxm, k0, dx, lddx);
#endif
}

SBV_INLINE void bwd_data_rows(const int R, size_t in, int first, int last, size_t J, const float *a,
                              size_t ars, const float *w, size_t ldw, const uint64_t *xmask,
                              size_t ldxm, float *dx, size_t lddx)
{
    size_t k0 = 0;
    for (; k0 + NR <= in; k0 += NR)
        bwd_data_tile(R, 1, 1, first, last, J, NR, a, ars, w + k0, ldw, xmask, ldxm, k0, dx + k0,
                      lddx, NULL, NULL);
    if (k0 < in)
        bwd_data_tile(R, 0, 0, first, last, J, in - k0, a, ars, w + k0, ldw, xmask, ldxm, k0,
                      dx + k0, lddx, NULL, NULL);
}

/* Every row micro-tile against one W panel (bp[j][c] at stride ldb: packed and zero-padded, or
 * W in place when full; krem of NR columns at k0); A is the gradient in place, rows of stride
 * lddy. */
SBV_INLINE void bwd_data_panel(const int full, size_t rows, int first, int last, size_t J,
                               size_t krem, const float *dy, size_t lddy, const float *bp,
                               size_t ldb, const uint64_t *xmask, size_t ldxm, size_t k0, float *dx,
                               size_t lddx, int pf)
{
    size_t n0 = 0;
#define BWD_DATA_TILE(R, PF)                                                                       \
    bwd_data_tile(R, full, 1, first, last, J, krem, dy + n0 * lddy, lddy, bp, ldb,                 \
                  xmask ? xmask + n0 * ldxm : NULL, ldxm, k0, dx + n0 * lddx, lddx,                \
                  (PF) ? dy + (n0 + MR) * lddy : NULL, (PF) ? dx + (n0 + MR) * lddx : NULL)
#define BWD_DATA_TAIL(R) BWD_DATA_TILE(R, 0)
    ROW_TILES(n0, rows, pf, BWD_DATA_TILE, BWD_DATA_TAIL);
#undef BWD_DATA_TAIL
#undef BWD_DATA_TILE
}

SBV_INLINE void dense_bwd_data_simd(size_t rows, size_t in, size_t out, const float *restrict dy,
                                    size_t lddy, const uint64_t *restrict mask, size_t ldm,
                                    const float *restrict w, size_t ldw,
                                    const uint64_t *restrict xmask, size_t ldxm, float *restrict dx,
                                    size_t lddx)
{
    if (out == 0) { /* the empty sum: +0 */
        for (size_t n = 0; n < rows; n++)
            for (size_t k = 0; k < in; k += SBV_W)
                sbv_storeu_n(dx + n * lddx + k, in - k, sbv_zero());
        return;
    }
    if (!mask) {
        /* The gradient is already masked (the trainer's case: the layer above fused this
         * layer's ReLU mask into its store), so it is broadcast in place, as the forward pass
         * broadcasts x. Blocks of rows whose gradient stays in L2; in each, one column panel
         * of W at a time (out x NR floats, in chunks of KC_MAX rows; packed where needed)
         * against every row micro-tile. */
        _Alignas(64) float bp[KC_MAX * NR];
        const size_t mc = fwd_rows_per_block(out); /* rows of dy kept in L2 */
        const int pf = prefetch_rows(rows, lddy);
        for (size_t n0 = 0; n0 < rows; n0 += mc) {
            const size_t nb = rows - n0 < mc ? rows - n0 : mc;
            const float *dyb = dy + n0 * lddy;
            const uint64_t *xmb = xmask ? xmask + n0 * ldxm : NULL;
            float *dxb = dx + n0 * lddx;
            for (size_t jc = 0; jc < out; jc += KC_MAX) {
                const size_t J = out - jc < KC_MAX ? out - jc : KC_MAX;
                const int first = jc == 0, last = jc + J == out;
                const int thrash = panel_thrashes(ldw, J);
                for (size_t k0 = 0; k0 < in; k0 += NR) {
                    const size_t krem = in - k0;
                    const float *wp = w + jc * ldw + k0;
                    if (krem < NR) {
                        pack_b_panel(J, krem, wp, ldw, bp);
                        bwd_data_panel(0, nb, first, last, J, krem, dyb + jc, lddy, bp, NR, xmb,
                                       ldxm, k0, dxb + k0, lddx, pf);
                    } else if (thrash) {
                        pack_b_panel(J, NR, wp, ldw, bp);
                        bwd_data_panel(1, nb, first, last, J, NR, dyb + jc, lddy, bp, NR, xmb, ldxm,
                                       k0, dxb + k0, lddx, pf);
                    } else {
                        bwd_data_panel(1, nb, first, last, J, NR, dyb + jc, lddy, wp, ldw, xmb,
                                       ldxm, k0, dxb + k0, lddx, pf);
                    }
                }
            }
        }
        return;
    }
    const size_t jc_max = bwd_data_chunk();
    _Alignas(64) float gp[MR * BWD_JC_MAX];
    for (size_t n0 = 0; n0 < rows; n0 += MR) {
        const size_t R = rows - n0 < MR ? rows - n0 : MR;
        const uint64_t *xm = xmask ? xmask + n0 * ldxm : NULL;
        for (size_t jc = 0; jc < out; jc += jc_max) {
            const size_t J = out - jc < jc_max ? out - jc : jc_max;
            pack_grad_rows(R, J, dy + n0 * lddy, lddy, mask + n0 * ldm, ldm, jc, gp, BWD_JC_MAX);
            const float *wc = w + jc * ldw;
            float *dxn = dx + n0 * lddx;
            const int first = jc == 0, last = jc + J == out;
#define BWD_DATA_ROWS(R_)                                                                          \
    bwd_data_rows(R_, in, first, last, J, gp, BWD_JC_MAX, wc, ldw, xm, ldxm, dxn, lddx)
            if (R == MR)
                BWD_DATA_ROWS(MR);
            else
                TAIL_ROWS(R, BWD_DATA_ROWS)
#undef BWD_DATA_ROWS
        }
    }
}

/* ---- dw[j][k] += sum_n g(n, j) x[n][k], in chunks of SB_WGRAD_ROWS rows -------------------- */

/* Units per packing pass: the masked gradient of a chunk for this many units is packed once
 * (SB_WGRAD_ROWS x about 260 floats, 259-265 KiB on the stack), then each x panel, packed
 * where needed (rows x NR floats, 16-32 KiB), stays in L1 while every unit block of the pass
 * streams its gradient panel past it from L2. A pass covers every layer of the suites (up to
 * 256 units), so each x panel is packed, and each gradient row read, once per chunk: 64 units
 * a pass packed a 256-unit layer's x panels 4 times and read its gradient rows in 4 strided
 * passes. 3 interleaved runs of 41 calls, 256 against 64: dense_bwd_weights +9 to +15 % at
 * 4096x256x256, +2 to +4 % at 2048x128x128, +6 to +12 % at 2048x14x128, AVX-512 and AVX2. The
 * stack this takes is far below a thread's (8 MiB, or OMP_STACKSIZE). */
#define WG_UNITS  256
#define WG_BLOCKS ((WG_UNITS + MR - 1) / MR)

/* Vectors per packed gradient row of a unit block: one where MR <= SBV_W (AVX2, AVX-512). */
#define WG_VECS ((MR + SBV_W - 1) / SBV_W)

static inline size_t wg_stride(size_t T) { return T * MR + SBV_W; }

/* For unit blocks j0 = 0, MR, 2 MR, ... below `units`: gp[b][n * MR + r] = g(n, j0 + r)
 * (panel b starts at b * wg_stride(T): T * MR floats and SBV_W of slack, because each row's
 * last SBV_W-lane store spills past the block's MR lanes, to be overwritten by the next row),
 * and db[j] += the column sums, added in row order from +0 as kernels.h states. */
static void pack_grad_units(size_t units, size_t T, size_t out, const float *dy, size_t lddy,
                            const uint64_t *mask, size_t ldm, float *gp, float *db)
{
    const size_t blocks = (units + MR - 1) / MR;
    sbv_f sum[WG_BLOCKS][WG_VECS];
    for (size_t b = 0; b < blocks; b++)
        for (int v = 0; v < WG_VECS; v++) sum[b][v] = sbv_zero();
    for (size_t n = 0; n < T; n++) {
        const float *dyn = dy + n * lddy;
        const uint64_t *mn = mask ? mask + n * ldm : NULL;
        for (size_t b = 0; b < blocks; b++)
            for (int v = 0; v < WG_VECS; v++) {
                /* all SBV_W lanes that exist, not just the block's MR: a full load is much
                 * cheaper than a masked one (vector 0 always has a unit: b * MR < units) */
                const size_t j = b * MR + (size_t)v * SBV_W;
                const sbv_f g = v == 0 || j < out ? grad_vec(dyn, mn, j, out - j) : sbv_zero();
                sum[b][v] = sbv_add(sum[b][v], g);
                sbv_storeu(gp + b * wg_stride(T) + n * MR + (size_t)v * SBV_W, g);
            }
    }
    if (db)
        for (size_t b = 0; b < blocks; b++) {
            const size_t r = units - b * MR < MR ? units - b * MR : MR;
            for (int v = 0; v < WG_VECS; v++) {
                const size_t off = (size_t)v * SBV_W;
                if (r <= off) break;
                float *d = db + b * MR + off;
                sbv_storeu_n(d, r - off, sbv_add(sbv_loadu_n(d, r - off), sum[b][v]));
            }
        }
}

/* One micro-tile of dw: R units, columns (krem of NR) of x; a(r, n) = a[r + n * aks], the
 * packed panel (aks = MR) or the pre-masked gradient itself (aks = lddy). */
SBV_INLINE void bwd_weights_tile(const int R, const int nv, const int full, size_t T, size_t krem,
                                 const float *a, size_t aks, const float *xp, size_t ldxp,
                                 float *dw, size_t lddw)
{
    sbv_m cm[NV];
    col_masks(full, krem, cm);
    sbv_f acc[MR][NV];
    TILE_UNROLL
    for (int r = 0; r < R; r++) TILE_UNROLL
    for (int v = 0; v < nv; v++) acc[r][v] = sbv_zero();
    micro_loop_nv(R, nv, 1, cm, T, a, 1, aks, xp, ldxp, acc, NULL, 0);
    TILE_UNROLL
    for (int r = 0; r < R; r++) TILE_UNROLL
    for (int v = 0; v < nv; v++) {
        float *d = dw + (size_t)r * lddw;
        store_cols(full, d, v, cm, sbv_add(load_cols(full, d, v, cm), acc[r][v]));
    }
}

/* The x panel that follows the one being computed: rows of `cols` floats ldx apart, brought
 * into L2 a slice per unit block while the blocks run, so that it is packed (or read in place)
 * from L2 rather than L3 on a batch larger than L2. `scripts/kernel-ab`, 31 interleaved
 * repetitions a side on a Xeon with AVX-512 (2 MiB L2), against the build without it:
 * 4096x256x256 +1.7 % (AVX-512) and +6.0 % (AVX2), 2048x128x128 +0.7 % and +2.0 %. */
struct wg_next {
    const float *x; /* NULL: none (the last panel of the last chunk) */
    size_t rows, cols, ldx;
};

/* Block b of `blocks`' slice of the next panel's rows. */
static inline void prefetch_panel_slice(const struct wg_next *nx, size_t b, size_t blocks)
{
    const size_t per = (nx->rows + blocks - 1) / blocks, r0 = b * per;
    const size_t r1 = r0 + per < nx->rows ? r0 + per : nx->rows;
    for (size_t r = r0; r < r1; r++)
        for (size_t c = 0; c < nx->cols; c += 64 / sizeof(float))
            __builtin_prefetch(nx->x + r * nx->ldx + c, 0, 2);
}

/* One x panel (krem of NR columns: xp[n][c] at stride ldxp, full or zero-padded) against
 * every unit block; block b's A starts at a + b * a_block and steps aks floats per row. */
SBV_INLINE void bwd_weights_panel(const int nv, const int full, size_t units, size_t T,
                                  size_t krem, const float *a, size_t a_block, size_t aks,
                                  const float *xp, size_t ldxp, float *dw, size_t lddw,
                                  const struct wg_next *nx)
{
    const size_t blocks = (units + MR - 1) / MR;
    size_t j0 = 0;
    /* Two loops rather than a test inside one: with the test inside, AVX2 2048x14x128, which
     * prefetches nothing, measured 1.6 % slower than without the prefetch (kernel-ab, 31
     * repetitions); apart, 1.6-2.6 % faster (code layout, most likely). */
    if (nx->x)
        for (; j0 + MR <= units; j0 += MR) {
            prefetch_panel_slice(nx, j0 / MR, blocks);
            bwd_weights_tile(MR, nv, full, T, krem, a + j0 / MR * a_block, aks, xp, ldxp,
                             dw + j0 * lddw, lddw);
        }
    else
        for (; j0 + MR <= units; j0 += MR)
            bwd_weights_tile(MR, nv, full, T, krem, a + j0 / MR * a_block, aks, xp, ldxp,
                             dw + j0 * lddw, lddw);
    if (nx->x && j0 < units) prefetch_panel_slice(nx, j0 / MR, blocks);
#define BWD_WEIGHTS_TILE(R)                                                                        \
    bwd_weights_tile(R, nv, full, T, krem, a + j0 / MR * a_block, aks, xp, ldxp, dw + j0 * lddw,  \
                     lddw)
    TAIL_ROWS(units - j0, BWD_WEIGHTS_TILE)
#undef BWD_WEIGHTS_TILE
}

/* Every x panel of a chunk against the unit blocks: in place, or packed into xp (T x NR
 * floats) where it would thrash L1 or is a column tail. next_rows: the rows of the chunk
 * after this one (0: none), whose first panel the last panel here prefetches. */
static void bwd_weights_panels(size_t units, size_t T, size_t in, const float *a, size_t a_block,
                               size_t aks, const float *x, size_t ldx, float *xp, float *dw,
                               size_t lddw, size_t next_rows)
{
    const int thrash = panel_thrashes(ldx, T);
    for (size_t k0 = 0; k0 < in; k0 += NR) {
        const size_t krem = in - k0;
        struct wg_next nx = {NULL, 0, 0, ldx};
        if (ldx * sizeof(float) <= 64)
            ; /* rows a line or less apart: one stream the hardware prefetchers follow */
        else if (k0 + NR < in)
            nx = (struct wg_next){x + k0 + NR, T, in - k0 - NR < NR ? in - k0 - NR : NR, ldx};
        else if (next_rows)
            nx = (struct wg_next){x + T * ldx, next_rows, in < NR ? in : NR, ldx};
        if (krem < NR) {
            pack_b_panel(T, krem, x + k0, ldx, xp);
            /* a few columns (a first layer of 14 encoded inputs): one vector's FMAs */
            if (NV > 1 && krem <= SBV_W)
                bwd_weights_panel(1, 0, units, T, krem, a, a_block, aks, xp, NR, dw + k0, lddw,
                                  &nx);
            else
                bwd_weights_panel(NV, 0, units, T, krem, a, a_block, aks, xp, NR, dw + k0, lddw,
                                  &nx);
        } else if (thrash) {
            pack_b_panel(T, NR, x + k0, ldx, xp);
            bwd_weights_panel(NV, 1, units, T, NR, a, a_block, aks, xp, NR, dw + k0, lddw, &nx);
        } else {
            bwd_weights_panel(NV, 1, units, T, NR, a, a_block, aks, x + k0, ldx, dw + k0, lddw,
                              &nx);
        }
    }
}

SBV_INLINE void dense_bwd_weights_simd(size_t rows, size_t in, size_t out, const float *restrict dy,
                                       size_t lddy, const uint64_t *restrict mask, size_t ldm,
                                       const float *restrict x, size_t ldx, float *restrict dw,
                                       size_t lddw, float *restrict db)
{
    /* Packed even without a mask: broadcasting a pre-masked gradient in place reads one cache
     * line per row for every unit block, which evicts the x panel from L1 (measured: the
     * trainer's step 30 % slower than with the packed panel). */
    _Alignas(64) float gp[WG_BLOCKS * (MR * SB_WGRAD_ROWS + SBV_W)];
    _Alignas(64) float xp[SB_WGRAD_ROWS * NR];
    for (size_t n0 = 0; n0 < rows; n0 += SB_WGRAD_ROWS) {
        const size_t T = rows - n0 < SB_WGRAD_ROWS ? rows - n0 : SB_WGRAD_ROWS;
        for (size_t u0 = 0; u0 < out; u0 += WG_UNITS) {
            const size_t units = out - u0 < WG_UNITS ? out - u0 : WG_UNITS;
            pack_grad_units(units, T, out - u0, dy + n0 * lddy + u0, lddy,
                            mask ? mask + n0 * ldm + u0 / 64 : NULL, ldm, gp, db ? db + u0 : NULL);
            const size_t after = rows - n0 - T; /* rows of the chunks after this one */
            bwd_weights_panels(units, T, in, gp, wg_stride(T), MR, x + n0 * ldx, ldx, xp,
                               dw + u0 * lddw, lddw,
                               u0 + units < out ? 0 : (after < SB_WGRAD_ROWS ? after : SB_WGRAD_ROWS));
        }
    }
}

/* ---- dz = dy * (y * (1 - y)) ------------------------------------------------------------- */

SBV_INLINE void sigmoid_bwd_simd(size_t n, const float *restrict y, const float *restrict dy,
                                 float *restrict dz)
{
    const sbv_f one = sbv_set1(1.0f);
    size_t i = 0;
    for (; i + SBV_W <= n; i += SBV_W) {
        const sbv_f yv = sbv_loadu(y + i);
        sbv_storeu(dz + i, sbv_mul(sbv_loadu(dy + i), sbv_mul(yv, sbv_sub(one, yv))));
    }
    if (i < n) {
        const size_t rem = n - i;
        const sbv_f yv = sbv_loadu_n(y + i, rem);
        sbv_storeu_n(dz + i, rem, sbv_mul(sbv_loadu_n(dy + i, rem), sbv_mul(yv, sbv_sub(one, yv))));
    }
}

#endif
