/* AVX-512 dense-layer kernels. Each output element is one sequential FMA chain in the order
 * kernels.h documents; the vector code only runs 16 (or 32) such chains side by side, across
 * output units j (forward), input features k (bwd_data) or k again (bwd_weights), so every
 * element gets exactly the scalar reference's bits. Register blocks are SB_MR rows (SB_NR
 * units in bwd_weights) by two zmm of outputs, held for the whole reduction; column tails use
 * masked loads and stores, so nothing outside the documented elements is read or written.
 * Masked gradients are selected 16 at a time by zero-masking loads, never per element. */
#define SB_ISA_SUFFIX avx512
#include "kernels/declare.h"
#include "kernels/internal.h"
#include "simd_avx512.h"
#include "transcendental_avx512.h"

#define SB_MR 6 /* rows of a register block */

/* ---- forward: Y = epilogue(b + X Wt), vectorised over output units j ---------------------- */

enum fwd_epi { EPI_LINEAR, EPI_RELU, EPI_SIGMOID };

/* One block: rows n0 .. n0+R-1 (x, y, mask already point at row n0), units j0 .. j0+16*NC-1
 * under the masks m0, m1 (full: both all ones, plain loads and stores). */
SB_INLINE void fwd_block(const int R, const int NC, const int full, const enum fwd_epi epi,
                         size_t in, const float *x, size_t ldx, const float *wt, size_t ldwt,
                         const float *b, float *y, size_t ldy, uint64_t *mask, size_t ldm,
                         size_t j0, __mmask16 m0, __mmask16 m1)
{
    __m512 acc[SB_MR][2];
    const __m512 b0 = full ? sb_load(b + j0) : sb_load_m(m0, b + j0);
    const __m512 b1 = NC < 2 ? b0 : full ? sb_load(b + j0 + SB_W) : sb_load_m(m1, b + j0 + SB_W);
    for (int r = 0; r < R; r++) {
        acc[r][0] = b0;
        acc[r][1] = b1;
    }
    const float *w = wt + j0;
    for (size_t k = 0; k < in; k++, w += ldwt) {
        const __m512 w0 = full ? sb_load(w) : sb_load_m(m0, w);
        const __m512 w1 = NC < 2 ? w0 : full ? sb_load(w + SB_W) : sb_load_m(m1, w + SB_W);
        for (int r = 0; r < R; r++) {
            const __m512 xb = sb_set1(x[(size_t)r * ldx + k]);
            acc[r][0] = sb_fma(xb, w0, acc[r][0]);
            if (NC > 1) acc[r][1] = sb_fma(xb, w1, acc[r][1]);
        }
    }
    const __m512 zero = _mm512_setzero_ps();
    for (int r = 0; r < R; r++) {
        float *yr = y + (size_t)r * ldy + j0;
        uint64_t bits = 0;
        for (int c = 0; c < NC; c++) {
            const __mmask16 mc = c == 0 ? m0 : m1;
            __m512 v = acc[r][c];
            if (epi == EPI_RELU) {
                /* acc > 0 ? acc : +0  (NaN and -0 give +0) */
                const __mmask16 on = _mm512_cmp_ps_mask(v, zero, _CMP_GT_OQ);
                v = _mm512_maskz_mov_ps(on, v);
                bits |= (uint64_t)(uint16_t)(on & mc) << (16 * c);
            } else if (epi == EPI_SIGMOID) {
                v = sb512_sigmoid(v);
            }
            if (full)
                sb_store(yr + c * SB_W, v);
            else
                sb_store_m(yr + c * SB_W, mc, v);
        }
        if (epi == EPI_RELU && mask) {
            /* j0 is a multiple of 32: the block fills the low or the high half of a word,
             * and every word has a block at its low half, which assigns it. */
            uint64_t *word = mask + (size_t)r * ldm + j0 / 64;
            if (j0 % 64 == 0)
                *word = bits;
            else
                *word |= bits << 32;
        }
    }
}

SB_INLINE void fwd_rows(const int R, const enum fwd_epi epi, size_t in, size_t out,
                        const float *x, size_t ldx, const float *wt, size_t ldwt, const float *b,
                        float *y, size_t ldy, uint64_t *mask, size_t ldm)
{
    size_t j0 = 0;
    for (; j0 + 2 * SB_W <= out; j0 += 2 * SB_W)
        fwd_block(R, 2, 1, epi, in, x, ldx, wt, ldwt, b, y, ldy, mask, ldm, j0, 0xFFFF, 0xFFFF);
    const size_t rem = out - j0;
    if (rem > SB_W)
        fwd_block(R, 2, 0, epi, in, x, ldx, wt, ldwt, b, y, ldy, mask, ldm, j0, 0xFFFF,
                  sb_tail16(rem - SB_W));
    else if (rem > 0)
        fwd_block(R, 1, 0, epi, in, x, ldx, wt, ldwt, b, y, ldy, mask, ldm, j0, sb_tail16(rem),
                  0);
}

SB_INLINE void fwd(const enum fwd_epi epi, size_t rows, size_t in, size_t out, const float *x,
                   size_t ldx, const float *wt, size_t ldwt, const float *b, float *y,
                   size_t ldy, uint64_t *mask, size_t ldm)
{
    size_t n = 0;
#define SB_FWD_ROWS(R)                                                                      \
    fwd_rows(R, epi, in, out, x + n * ldx, ldx, wt, ldwt, b, y + n * ldy, ldy,             \
             mask ? mask + n * ldm : NULL, ldm)
    for (; n + SB_MR <= rows; n += SB_MR) SB_FWD_ROWS(SB_MR);
    switch (rows - n) {
    case 5: SB_FWD_ROWS(5); break;
    case 4: SB_FWD_ROWS(4); break;
    case 3: SB_FWD_ROWS(3); break;
    case 2: SB_FWD_ROWS(2); break;
    case 1: SB_FWD_ROWS(1); break;
    default: break;
    }
#undef SB_FWD_ROWS
}

void dense_relu_fwd__avx512(size_t rows, size_t in, size_t out, const float *restrict x,
                            size_t ldx, const float *restrict wt, size_t ldwt,
                            const float *restrict b, float *restrict y, size_t ldy,
                            uint64_t *restrict mask, size_t ldm)
{
    fwd(EPI_RELU, rows, in, out, x, ldx, wt, ldwt, b, y, ldy, mask, ldm);
}

void dense_linear_fwd__avx512(size_t rows, size_t in, size_t out, const float *restrict x,
                              size_t ldx, const float *restrict wt, size_t ldwt,
                              const float *restrict b, float *restrict y, size_t ldy)
{
    fwd(EPI_LINEAR, rows, in, out, x, ldx, wt, ldwt, b, y, ldy, NULL, 0);
}

void dense_sigmoid_fwd__avx512(size_t rows, size_t in, size_t out, const float *restrict x,
                               size_t ldx, const float *restrict wt, size_t ldwt,
                               const float *restrict b, float *restrict y, size_t ldy)
{
    fwd(EPI_SIGMOID, rows, in, out, x, ldx, wt, ldwt, b, y, ldy, NULL, 0);
}

/* ---- masked gradients --------------------------------------------------------------------- */

/* The 16 mask bits of units j .. j+15 of one row (j a multiple of 16, so they lie in one
 * word), or all ones without a mask. */
SB_INLINE __mmask16 mask_bits16(const uint64_t *mrow, size_t j)
{
    return mrow ? (__mmask16)(mrow[j / 64] >> (j % 64)) : (__mmask16)0xFFFFu;
}

/* g(n, j .. j+15) under `lanes`: bit ? dy : +0, the value sb_masked_grad() gives (a
 * zero-masking load selects +0, as C's `bit ? g : 0.0f` does). */
SB_INLINE __m512 masked_grad16(const float *dyrow, const uint64_t *mrow, size_t j,
                               __mmask16 lanes)
{
    return sb_load_m(lanes & mask_bits16(mrow, j), dyrow + j);
}

/* ---- backward through the data: dX = G W, vectorised over input features k ---------------- */

/* g(n, j) of a row block is staged SB_BWD_JC units at a time, selected 16 at a time by the
 * mask, so the FMA loop broadcasts it from memory with no per-element branch. */
#define SB_BWD_JC 128

/* Rows n0 .. n0+R-1 (dy, mask, dx point at row n0), features k0 .. k0+16*NC-1. */
SB_INLINE void bwd_data_block(const int R, const int NC, const int full, size_t out,
                              const float *dy, size_t lddy, const uint64_t *mask, size_t ldm,
                              const float *w, size_t ldw, float *dx, size_t lddx, size_t k0,
                              __mmask16 m0, __mmask16 m1)
{
    float g[SB_MR][SB_BWD_JC] __attribute__((aligned(64)));
    __m512 acc[SB_MR][2];
    for (int r = 0; r < R; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    for (size_t j0 = 0; j0 < out; j0 += SB_BWD_JC) {
        const size_t nj = out - j0 < SB_BWD_JC ? out - j0 : SB_BWD_JC;
        for (int r = 0; r < R; r++)
            for (size_t jj = 0; jj < nj; jj += SB_W)
                _mm512_store_ps(&g[r][jj],
                                masked_grad16(dy + (size_t)r * lddy,
                                              mask ? mask + (size_t)r * ldm : NULL, j0 + jj,
                                              sb_tail16(nj - jj)));
        const float *wj = w + j0 * ldw + k0;
        for (size_t jj = 0; jj < nj; jj++, wj += ldw) {
            const __m512 w0 = full ? sb_load(wj) : sb_load_m(m0, wj);
            const __m512 w1 = NC < 2 ? w0 : full ? sb_load(wj + SB_W) : sb_load_m(m1, wj + SB_W);
            for (int r = 0; r < R; r++) {
                const __m512 gb = sb_set1(g[r][jj]);
                acc[r][0] = sb_fma(gb, w0, acc[r][0]);
                if (NC > 1) acc[r][1] = sb_fma(gb, w1, acc[r][1]);
            }
        }
    }
    for (int r = 0; r < R; r++) {
        float *d = dx + (size_t)r * lddx + k0;
        for (int c = 0; c < NC; c++) {
            if (full)
                sb_store(d + c * SB_W, acc[r][c]);
            else
                sb_store_m(d + c * SB_W, c == 0 ? m0 : m1, acc[r][c]);
        }
    }
}

SB_INLINE void bwd_data_rows(const int R, size_t in, size_t out, const float *dy, size_t lddy,
                             const uint64_t *mask, size_t ldm, const float *w, size_t ldw,
                             float *dx, size_t lddx)
{
    size_t k0 = 0;
    for (; k0 + 2 * SB_W <= in; k0 += 2 * SB_W)
        bwd_data_block(R, 2, 1, out, dy, lddy, mask, ldm, w, ldw, dx, lddx, k0, 0xFFFF, 0xFFFF);
    const size_t rem = in - k0;
    if (rem > SB_W)
        bwd_data_block(R, 2, 0, out, dy, lddy, mask, ldm, w, ldw, dx, lddx, k0, 0xFFFF,
                       sb_tail16(rem - SB_W));
    else if (rem > 0)
        bwd_data_block(R, 1, 0, out, dy, lddy, mask, ldm, w, ldw, dx, lddx, k0, sb_tail16(rem),
                       0);
}

static void bwd_data_product(size_t rows, size_t in, size_t out, const float *restrict dy,
                             size_t lddy, const uint64_t *restrict mask, size_t ldm,
                             const float *restrict w, size_t ldw, float *restrict dx,
                             size_t lddx)
{
    size_t n = 0;
#define SB_BWD_ROWS(R)                                                                      \
    bwd_data_rows(R, in, out, dy + n * lddy, lddy, mask ? mask + n * ldm : NULL, ldm, w, ldw, \
                  dx + n * lddx, lddx)
    for (; n + SB_MR <= rows; n += SB_MR) SB_BWD_ROWS(SB_MR);
    switch (rows - n) {
    case 5: SB_BWD_ROWS(5); break;
    case 4: SB_BWD_ROWS(4); break;
    case 3: SB_BWD_ROWS(3); break;
    case 2: SB_BWD_ROWS(2); break;
    case 1: SB_BWD_ROWS(1); break;
    default: break;
    }
#undef SB_BWD_ROWS
}

/* The product, then the input mask as a separate pass (kernels/internal.h). */
void dense_bwd_data__avx512(size_t rows, size_t in, size_t out, const float *restrict dy,
                            size_t lddy, const uint64_t *restrict mask, size_t ldm,
                            const float *restrict w, size_t ldw, const uint64_t *restrict xmask,
                            size_t ldxm, float *restrict dx, size_t lddx)
{
    bwd_data_product(rows, in, out, dy, lddy, mask, ldm, w, ldw, dx, lddx);
    sb_apply_xmask(rows, in, xmask, ldxm, dx, lddx);
}

/* ---- backward to the weights: dW += G^T X, vectorised over input features k --------------- */

/* Units per block. A multiple of it never straddles a 64-bit mask word (64 % SB_NR == 0), so
 * the block's mask bits of a row are one shift of one word. */
#define SB_NR 8

/* Units j0 .. j0+R-1, features k0 .. k0+16*NC-1; the sum runs over all rows n in order. */
SB_INLINE void bwd_weights_block(const int R, const int NC, const int full, size_t rows,
                                 const float *dy, size_t lddy, const uint64_t *mask, size_t ldm,
                                 const float *x, size_t ldx, float *dw, size_t lddw, size_t j0,
                                 size_t k0, __mmask16 m0, __mmask16 m1)
{
    float g[SB_W] __attribute__((aligned(64)));
    __m512 acc[SB_NR][2];
    for (int r = 0; r < R; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    const __mmask16 units = sb_tail16((size_t)R);
    const size_t jw = j0 / 64, js = j0 % 64;
    const float *xn = x + k0;
    for (size_t n = 0; n < rows; n++, xn += ldx) {
        /* g(n, j0 .. j0+R-1), selected by the mask in one zero-masking load */
        __mmask16 on = units;
        if (mask) on &= (__mmask16)(mask[n * ldm + jw] >> js);
        _mm512_store_ps(g, sb_load_m(on, dy + n * lddy + j0));
        const __m512 x0 = full ? sb_load(xn) : sb_load_m(m0, xn);
        const __m512 x1 = NC < 2 ? x0 : full ? sb_load(xn + SB_W) : sb_load_m(m1, xn + SB_W);
        for (int r = 0; r < R; r++) {
            const __m512 gb = sb_set1(g[r]);
            acc[r][0] = sb_fma(gb, x0, acc[r][0]);
            if (NC > 1) acc[r][1] = sb_fma(gb, x1, acc[r][1]);
        }
    }
    for (int r = 0; r < R; r++) {
        float *d = dw + (j0 + (size_t)r) * lddw + k0;
        for (int c = 0; c < NC; c++) {
            if (full) {
                sb_store(d + c * SB_W, _mm512_add_ps(sb_load(d + c * SB_W), acc[r][c]));
            } else {
                const __mmask16 mc = c == 0 ? m0 : m1;
                sb_store_m(d + c * SB_W, mc, _mm512_add_ps(sb_load_m(mc, d + c * SB_W), acc[r][c]));
            }
        }
    }
}

SB_INLINE void bwd_weights_units(const int R, size_t rows, size_t in, const float *dy,
                                 size_t lddy, const uint64_t *mask, size_t ldm, const float *x,
                                 size_t ldx, float *dw, size_t lddw, size_t j0)
{
    size_t k0 = 0;
    for (; k0 + 2 * SB_W <= in; k0 += 2 * SB_W)
        bwd_weights_block(R, 2, 1, rows, dy, lddy, mask, ldm, x, ldx, dw, lddw, j0, k0, 0xFFFF,
                          0xFFFF);
    const size_t rem = in - k0;
    if (rem > SB_W)
        bwd_weights_block(R, 2, 0, rows, dy, lddy, mask, ldm, x, ldx, dw, lddw, j0, k0, 0xFFFF,
                          sb_tail16(rem - SB_W));
    else if (rem > 0)
        bwd_weights_block(R, 1, 0, rows, dy, lddy, mask, ldm, x, ldx, dw, lddw, j0, k0,
                          sb_tail16(rem), 0);
}

/* One chunk of at most SB_WGRAD_ROWS rows (kernels.h). */
static void bwd_weights_chunk(size_t rows, size_t in, size_t out, const float *restrict dy,
                              size_t lddy, const uint64_t *restrict mask, size_t ldm,
                              const float *restrict x, size_t ldx, float *restrict dw,
                              size_t lddw, float *restrict db)
{
    size_t j = 0;
#define SB_BWW_UNITS(R) bwd_weights_units(R, rows, in, dy, lddy, mask, ldm, x, ldx, dw, lddw, j)
    for (; j + SB_NR <= out; j += SB_NR) SB_BWW_UNITS(SB_NR);
    switch (out - j) {
    case 7: SB_BWW_UNITS(7); break;
    case 6: SB_BWW_UNITS(6); break;
    case 5: SB_BWW_UNITS(5); break;
    case 4: SB_BWW_UNITS(4); break;
    case 3: SB_BWW_UNITS(3); break;
    case 2: SB_BWW_UNITS(2); break;
    case 1: SB_BWW_UNITS(1); break;
    default: break;
    }
#undef SB_BWW_UNITS
    if (!db) return;
    /* db[j] += sum over n of g(n, j), 16 units j per zmm, added in row order */
    for (size_t j0 = 0; j0 < out; j0 += SB_W) {
        const __mmask16 mt = sb_tail16(out - j0);
        __m512 acc = _mm512_setzero_ps();
        for (size_t n = 0; n < rows; n++)
            acc = _mm512_add_ps(acc, masked_grad16(dy + n * lddy, mask ? mask + n * ldm : NULL,
                                                   j0, mt));
        sb_store_m(db + j0, mt, _mm512_add_ps(sb_load_m(mt, db + j0), acc));
    }
}

void dense_bwd_weights__avx512(size_t rows, size_t in, size_t out, const float *restrict dy,
                               size_t lddy, const uint64_t *restrict mask, size_t ldm,
                               const float *restrict x, size_t ldx, float *restrict dw,
                               size_t lddw, float *restrict db)
{
    sb_wgrad_by_chunks(bwd_weights_chunk, rows, in, out, dy, lddy, mask, ldm, x, ldx, dw, lddw, db);
}

/* ---- through the sigmoid ------------------------------------------------------------------ */

void sigmoid_bwd__avx512(size_t n, const float *restrict y, const float *restrict dy,
                         float *restrict dz)
{
    const __m512 one = sb_set1(1.0f);
    size_t i = 0;
    for (; i + SB_W <= n; i += SB_W) {
        const __m512 yv = sb_load(y + i);
        sb_store(dz + i, _mm512_mul_ps(sb_load(dy + i), _mm512_mul_ps(yv, _mm512_sub_ps(one, yv))));
    }
    if (i < n) {
        const __mmask16 m = sb_tail16(n - i);
        const __m512 yv = sb_load_m(m, y + i);
        sb_store_m(dz + i, m,
                   _mm512_mul_ps(sb_load_m(m, dy + i), _mm512_mul_ps(yv, _mm512_sub_ps(one, yv))));
    }
}
