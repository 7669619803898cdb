/* NEON dense-layer kernels. Vectors run across independent output elements only (units j
 * in the forward pass, input features k in the backward passes); each element is still one
 * sequential fused-multiply-add chain over its reduction index in the order of kernels.h,
 * started from the documented value, so the bits equal the scalar reference.
 *
 * Register tiles: up to 4 rows (or units) x 4 q-registers (16 floats) of accumulators; a
 * tile whose last vector is partial (1..3 lanes) is loaded and stored lane by lane. */
#define SB_ISA_SUFFIX neon
#include "kernels/declare.h"
#include "kernels/internal.h"

#include <arm_neon.h>
#include <string.h>

#include "simd.h"
#include "kernels/shared/transcendental.h"

/* Tile loops over r and c must unroll fully so that the accumulators live in registers. */
#define SBN_UNROLL _Pragma("GCC unroll 4")
#define TILE_R 4 /* rows (units for dense_bwd_weights) per tile */
#define TILE_C 4 /* q-registers of outputs per tile */

/* Loads vector c of a tile: full, or `lanes` lanes if it is the tile's partial last one. */
SBN_INLINE float32x4_t tile_load(const float *p, int c, int C, size_t lanes)
{
    return c == C - 1 ? sbn_load_n(p + SBN_W * c, lanes) : vld1q_f32(p + SBN_W * c);
}

/* The last, narrower tile of a row: rem (0 .. 15) outputs as C = ceil(rem / 4) vectors, the
 * last with `lanes` lanes, so that every C is a compile-time constant of the tile code. */
#define SBN_REMAINDER_TILE(rem_expr, TILE)                                                    \
    do {                                                                                    \
        const size_t rem_ = (rem_expr);                                                     \
        if (rem_ == 0) break;                                                               \
        const size_t lanes = rem_ - SBN_W * ((rem_ - 1) / SBN_W);                           \
        switch ((rem_ + SBN_W - 1) / SBN_W) {                                               \
        case 1: TILE(1); break;                                                             \
        case 2: TILE(2); break;                                                             \
        case 3: TILE(3); break;                                                             \
        default: TILE(4); break;                                                            \
        }                                                                                   \
    } while (0)

SBN_INLINE void tile_store(float *p, float32x4_t v, int c, int C, size_t lanes)
{
    if (c == C - 1)
        sbn_store_n(p + SBN_W * c, v, lanes);
    else
        vst1q_f32(p + SBN_W * c, v);
}

/* ---- forward ------------------------------------------------------------------------------ */

enum fwd_kind { FWD_RELU, FWD_LINEAR, FWD_SIGMOID };

/* R rows x C vectors of outputs starting at column j; the last vector has `lanes` lanes.
 * acc = b[j]; for k: acc = fmaf(x[n][k], wt[k][j], acc). */
SBN_INLINE void fwd_tile(const int kind, const int R, const int C, size_t lanes, size_t in,
                         const float *x, size_t ldx, const float *wt, size_t ldwt,
                         const float *b, float *y, size_t ldy, uint64_t *mask, size_t ldm,
                         size_t j)
{
    float32x4_t acc[TILE_R][TILE_C];
    SBN_UNROLL
    for (int c = 0; c < C; c++) {
        const float32x4_t bias = tile_load(b + j, c, C, lanes);
        SBN_UNROLL
        for (int r = 0; r < R; r++) acc[r][c] = bias;
    }
    for (size_t k = 0; k < in; k++) {
        float32x4_t w[TILE_C];
        SBN_UNROLL
        for (int c = 0; c < C; c++) w[c] = tile_load(wt + k * ldwt + j, c, C, lanes);
        SBN_UNROLL
        for (int r = 0; r < R; r++) {
            const float xk = x[(size_t)r * ldx + k];
            SBN_UNROLL
            for (int c = 0; c < C; c++) acc[r][c] = vfmaq_n_f32(acc[r][c], w[c], xk);
        }
    }
    SBN_UNROLL
    for (int r = 0; r < R; r++) {
        float *yr = y + (size_t)r * ldy + j;
        SBN_UNROLL
        for (int c = 0; c < C; c++) {
            float32x4_t v = acc[r][c];
            if (kind == FWD_RELU) {
                /* acc > 0 ? acc : +0 (NaN and -0 give +0); bit = acc > 0 */
                const uint32x4_t on = vcgtq_f32(v, vdupq_n_f32(0.0f));
                v = sbn_and_mask(on, v);
                if (mask) {
                    const size_t jc = j + (size_t)(SBN_W * c); /* a multiple of 4 */
                    uint32_t bits = sbn_movemask(on);
                    if (c == C - 1) bits &= (1u << lanes) - 1u;
                    mask[(size_t)r * ldm + jc / 64] |= (uint64_t)bits << (jc % 64);
                }
            } else if (kind == FWD_SIGMOID) {
                v = sbn_sigmoid(v);
            }
            tile_store(yr, v, c, C, lanes);
        }
    }
}

/* All column tiles of R rows. */
SBN_INLINE void fwd_rows(const int kind, const int R, size_t in, size_t out, const float *x,
                         size_t ldx, const float *wt, size_t ldwt, const float *b, float *y,
                         size_t ldy, uint64_t *mask, size_t ldm)
{
    if (mask) {
        const size_t words = sb_mask_words(out);
        SBN_UNROLL
        for (int r = 0; r < R; r++) memset(mask + (size_t)r * ldm, 0, words * sizeof *mask);
    }
    size_t j = 0;
    for (; j + SBN_W * TILE_C <= out; j += SBN_W * TILE_C)
        fwd_tile(kind, R, TILE_C, SBN_W, in, x, ldx, wt, ldwt, b, y, ldy, mask, ldm, j);
#define FWD_TILE(C) fwd_tile(kind, R, C, lanes, in, x, ldx, wt, ldwt, b, y, ldy, mask, ldm, j)
    SBN_REMAINDER_TILE(out - j, FWD_TILE);
#undef FWD_TILE
}

SBN_INLINE void fwd(const int kind, size_t rows, size_t in, size_t out, const float *x,
                    size_t ldx, const float *wt, size_t ldwt, const float *b, float *y,
                    size_t ldy, uint64_t *mask, size_t ldm)
{
    size_t n = 0;
    for (; n + TILE_R <= rows; n += TILE_R)
        fwd_rows(kind, TILE_R, in, out, x + n * ldx, ldx, wt, ldwt, b, y + n * ldy, ldy,
                 mask ? mask + n * ldm : NULL, ldm);
    for (; n < rows; n++)
        fwd_rows(kind, 1, in, out, x + n * ldx, ldx, wt, ldwt, b, y + n * ldy, ldy,
                 mask ? mask + n * ldm : NULL, ldm);
}

void dense_relu_fwd__neon(size_t rows, size_t in, size_t out, const float *restrict x,
                          size_t ldx, const float *restrict wt, size_t ldwt,
                          const float *restrict b, float *restrict y, size_t ldy,
                          uint64_t *restrict mask, size_t ldm)
{
    fwd(FWD_RELU, rows, in, out, x, ldx, wt, ldwt, b, y, ldy, mask, ldm);
}

void dense_linear_fwd__neon(size_t rows, size_t in, size_t out, const float *restrict x,
                            size_t ldx, const float *restrict wt, size_t ldwt,
                            const float *restrict b, float *restrict y, size_t ldy)
{
    fwd(FWD_LINEAR, rows, in, out, x, ldx, wt, ldwt, b, y, ldy, NULL, 0);
}

void dense_sigmoid_fwd__neon(size_t rows, size_t in, size_t out, const float *restrict x,
                             size_t ldx, const float *restrict wt, size_t ldwt,
                             const float *restrict b, float *restrict y, size_t ldy)
{
    fwd(FWD_SIGMOID, rows, in, out, x, ldx, wt, ldwt, b, y, ldy, NULL, 0);
}

/* ---- backward, data ------------------------------------------------------------------------ */

/* R rows x C vectors of dx starting at feature k:
 * acc = 0; for j: acc = fmaf(g(n, j), w[j][k], acc). */
SBN_INLINE void bwd_data_tile(const int R, const int C, size_t lanes, size_t out,
                              const float *dy, size_t lddy, const uint64_t *mask, size_t ldm,
                              const float *w, size_t ldw, float *dx, size_t lddx, size_t k)
{
    float32x4_t acc[TILE_R][TILE_C];
    SBN_UNROLL
    for (int r = 0; r < R; r++)
        SBN_UNROLL
        for (int c = 0; c < C; c++) acc[r][c] = vdupq_n_f32(0.0f);
    for (size_t j = 0; j < out; j++) {
        float32x4_t wv[TILE_C];
        SBN_UNROLL
        for (int c = 0; c < C; c++) wv[c] = tile_load(w + j * ldw + k, c, C, lanes);
        SBN_UNROLL
        for (int r = 0; r < R; r++) {
            const float g = sb_masked_grad(dy, lddy, mask, ldm, (size_t)r, j);
            SBN_UNROLL
            for (int c = 0; c < C; c++) acc[r][c] = vfmaq_n_f32(acc[r][c], wv[c], g);
        }
    }
    SBN_UNROLL
    for (int r = 0; r < R; r++)
        SBN_UNROLL
        for (int c = 0; c < C; c++) tile_store(dx + (size_t)r * lddx + k, acc[r][c], c, C, lanes);
}

SBN_INLINE void bwd_data_rows(const int R, size_t in, size_t out, const float *dy,
                              size_t lddy, const uint64_t *mask, size_t ldm, const float *w,
                              size_t ldw, float *dx, size_t lddx)
{
    size_t k = 0;
    for (; k + SBN_W * TILE_C <= in; k += SBN_W * TILE_C)
        bwd_data_tile(R, TILE_C, SBN_W, out, dy, lddy, mask, ldm, w, ldw, dx, lddx, k);
#define BWD_DATA_TILE(C) bwd_data_tile(R, C, lanes, out, dy, lddy, mask, ldm, w, ldw, dx, lddx, k)
    SBN_REMAINDER_TILE(in - k, BWD_DATA_TILE);
#undef BWD_DATA_TILE
}

static void bwd_data_product(size_t rows, size_t in, size_t out, const float *restrict dy,
                             size_t lddy, const uint64_t *restrict mask, size_t ldm,
                             const float *restrict w, size_t ldw, float *restrict dx,
                             size_t lddx)
{
    size_t n = 0;
    for (; n + TILE_R <= rows; n += TILE_R)
        bwd_data_rows(TILE_R, in, out, dy + n * lddy, lddy, mask ? mask + n * ldm : NULL, ldm,
                      w, ldw, dx + n * lddx, lddx);
    for (; n < rows; n++)
        bwd_data_rows(1, in, out, dy + n * lddy, lddy, mask ? mask + n * ldm : NULL, ldm, w,
                      ldw, dx + n * lddx, lddx);
}

/* The product, then the input mask as a separate pass (kernels/internal.h). */
void dense_bwd_data__neon(size_t rows, size_t in, size_t out, const float *restrict dy,
                          size_t lddy, const uint64_t *restrict mask, size_t ldm,
                          const float *restrict w, size_t ldw, const uint64_t *restrict xmask,
                          size_t ldxm, float *restrict dx, size_t lddx)
{
    bwd_data_product(rows, in, out, dy, lddy, mask, ldm, w, ldw, dx, lddx);
    sb_apply_xmask(rows, in, xmask, ldxm, dx, lddx);
}

/* ---- backward, weights --------------------------------------------------------------------- */

/* R units j x C vectors of features starting at k:
 * acc = 0; for n: acc = fmaf(g(n, j), x[n][k], acc); dw[j][k] = dw[j][k] + acc.
 * Every row enters every chain (g = +0 where masked off), as in the reference. */
SBN_INLINE void bwd_weights_tile(const int R, const int C, size_t lanes, size_t rows,
                                 const float *dy, size_t lddy, const uint64_t *mask,
                                 size_t ldm, const float *x, size_t ldx, float *dw,
                                 size_t lddw, size_t j, size_t k)
{
    float32x4_t acc[TILE_R][TILE_C];
    SBN_UNROLL
    for (int r = 0; r < R; r++)
        SBN_UNROLL
        for (int c = 0; c < C; c++) acc[r][c] = vdupq_n_f32(0.0f);
    for (size_t n = 0; n < rows; n++) {
        float32x4_t xv[TILE_C];
        SBN_UNROLL
        for (int c = 0; c < C; c++) xv[c] = tile_load(x + n * ldx + k, c, C, lanes);
        SBN_UNROLL
        for (int r = 0; r < R; r++) {
            const float g = sb_masked_grad(dy, lddy, mask, ldm, n, j + (size_t)r);
            SBN_UNROLL
            for (int c = 0; c < C; c++) acc[r][c] = vfmaq_n_f32(acc[r][c], xv[c], g);
        }
    }
    SBN_UNROLL
    for (int r = 0; r < R; r++) {
        float *d = dw + (j + (size_t)r) * lddw + k;
        SBN_UNROLL
        for (int c = 0; c < C; c++)
            tile_store(d, vaddq_f32(tile_load(d, c, C, lanes), acc[r][c]), c, C, lanes);
    }
}

SBN_INLINE void bwd_weights_cols(const int C, size_t lanes, size_t rows, size_t out,
                                 const float *dy, size_t lddy, const uint64_t *mask,
                                 size_t ldm, const float *x, size_t ldx, float *dw,
                                 size_t lddw, size_t k)
{
    size_t j = 0;
    for (; j + TILE_R <= out; j += TILE_R)
        bwd_weights_tile(TILE_R, C, lanes, rows, dy, lddy, mask, ldm, x, ldx, dw, lddw, j, k);
    for (; j < out; j++)
        bwd_weights_tile(1, C, lanes, rows, dy, lddy, mask, ldm, x, ldx, dw, lddw, j, k);
}

/* One chunk of at most SB_WGRAD_ROWS rows (kernels.h). */
static void bwd_weights_chunk(size_t rows, size_t in, size_t out, const float *restrict dy,
                              size_t lddy, const uint64_t *restrict mask, size_t ldm,
                              const float *restrict x, size_t ldx, float *restrict dw,
                              size_t lddw, float *restrict db)
{
    /* k tiles outside, units inside: one tile of x (rows x 16 floats) is reused by every
     * unit while it is in cache. */
    size_t k = 0;
    for (; k + SBN_W * TILE_C <= in; k += SBN_W * TILE_C)
        bwd_weights_cols(TILE_C, SBN_W, rows, out, dy, lddy, mask, ldm, x, ldx, dw, lddw, k);
#define BWD_WEIGHTS_COLS(C) \
    bwd_weights_cols(C, lanes, rows, out, dy, lddy, mask, ldm, x, ldx, dw, lddw, k)
    SBN_REMAINDER_TILE(in - k, BWD_WEIGHTS_COLS);
#undef BWD_WEIGHTS_COLS
    if (!db) return;
    /* db[j] = db[j] + (((0 + g(0, j)) + g(1, j)) + ...), vectorised across units j. */
    for (size_t j = 0; j < out; j += SBN_W) {
        const size_t lanes = sbn_min(out - j, SBN_W);
        float32x4_t acc = vdupq_n_f32(0.0f);
        for (size_t n = 0; n < rows; n++) {
            float32x4_t g = sbn_load_n(dy + n * lddy + j, lanes);
            if (mask) {
                const uint32_t bits = (uint32_t)(mask[n * ldm + j / 64] >> (j % 64)) & 0xFu;
                g = sbn_and_mask(sbn_bits_to_mask(bits), g);
            }
            acc = vaddq_f32(acc, g);
        }
        sbn_store_n(db + j, vaddq_f32(sbn_load_n(db + j, lanes), acc), lanes);
    }
}

void dense_bwd_weights__neon(size_t rows, size_t in, size_t out, const float *restrict dy,
                             size_t lddy, const uint64_t *restrict mask, size_t ldm,
                             const float *restrict x, size_t ldx, float *restrict dw,
                             size_t lddw, float *restrict db)
{
    sb_wgrad_by_chunks(bwd_weights_chunk, rows, in, out, dy, lddy, mask, ldm, x, ldx, dw, lddw, db);
}

/* ---- sigmoid backward ---------------------------------------------------------------------- */

void sigmoid_bwd__neon(size_t n, const float *restrict y, const float *restrict dy,
                       float *restrict dz)
{
    const float32x4_t one = vdupq_n_f32(1.0f);
    size_t i = 0;
    for (; i + SBN_W <= n; i += SBN_W) {
        const float32x4_t yv = vld1q_f32(y + i);
        vst1q_f32(dz + i, vmulq_f32(vld1q_f32(dy + i), vmulq_f32(yv, vsubq_f32(one, yv))));
    }
    if (i < n) {
        const size_t lanes = n - i;
        const float32x4_t yv = sbn_load_n(y + i, lanes);
        const float32x4_t v = vmulq_f32(sbn_load_n(dy + i, lanes), vmulq_f32(yv, vsubq_f32(one, yv)));
        sbn_store_n(dz + i, v, lanes);
    }
}
