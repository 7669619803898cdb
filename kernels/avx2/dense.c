/* AVX2+FMA dense-layer kernels. Vectorised only across independent output elements: each
 * lane runs the documented sequential fmaf chain of one output (kernels.h), so the bits
 * match kernels/scalar/dense.c for any vector width. Tiles are small register blocks
 * (rows x vectors); tails use masked loads and stores, never a scalar loop. */
#define SB_ISA_SUFFIX avx2
#include "kernels/declare.h"
#include "kernels/internal.h"
#include "simd_avx2.h"
#include "transcendental_avx2.h"

/* ---- forward: y[n][j] = epilogue(b[j] + sum_k x[n][k] wt[k][j]) --------------------------- */

enum fwd_epi { EPI_RELU, EPI_LINEAR, EPI_SIGMOID };

#define FWD_R 4 /* rows per tile */
#define FWD_V 2 /* vectors of outputs per tile: 16 columns, so 4 tiles fill a mask word */

/* One tile: rows x[0 .. R-1] (stride ldx), columns j0 .. j0 + 15 of which the first `jrem`
 * exist (full: all 16). wt, b, y point at column j0; mask at the row's first word. */
SBV_INLINE void fwd_tile(const int R, const int full, const enum fwd_epi epi, size_t in,
                         size_t jrem, const float *x, size_t ldx, const float *wt, size_t ldwt,
                         const float *b, float *y, size_t ldy, uint64_t *mask, size_t ldm,
                         size_t j0)
{
    sbv_m jm[FWD_V];
    for (int v = 0; v < FWD_V; v++)
        jm[v] = sbv_mask_n(full ? SBV_W : (jrem > (size_t)v * SBV_W ? jrem - (size_t)v * SBV_W : 0));

    sbv_f acc[FWD_R][FWD_V];
    for (int v = 0; v < FWD_V; v++) {
        const sbv_f bv = full ? sbv_loadu(b + v * SBV_W) : sbv_loadu_m(b + v * SBV_W, jm[v]);
        for (int r = 0; r < R; r++) acc[r][v] = bv;
    }
    for (size_t k = 0; k < in; k++) {
        const float *w = wt + k * ldwt;
        sbv_f wv[FWD_V];
        for (int v = 0; v < FWD_V; v++)
            wv[v] = full ? sbv_loadu(w + v * SBV_W) : sbv_loadu_m(w + v * SBV_W, jm[v]);
        for (int r = 0; r < R; r++) {
            const sbv_f xr = sbv_bcast(x + (size_t)r * ldx + k);
            for (int v = 0; v < FWD_V; v++) acc[r][v] = sbv_fma(xr, wv[v], acc[r][v]);
        }
    }
    for (int r = 0; r < R; r++) {
        uint32_t bits = 0;
        for (int v = 0; v < FWD_V; v++) {
            sbv_f o = acc[r][v];
            if (epi == EPI_RELU) {
                /* acc > 0 ? acc : +0 (NaN and -0 give +0) */
                const __m256 on = _mm256_cmp_ps(o, _mm256_setzero_ps(), _CMP_GT_OQ);
                o = _mm256_and_ps(o, on);
                bits |= (uint32_t)_mm256_movemask_ps(on) << (v * SBV_W);
            } else if (epi == EPI_SIGMOID) {
                o = sbv_sigmoid(o);
            }
            float *dst = y + (size_t)r * ldy + v * SBV_W;
            if (full) sbv_storeu(dst, o);
            else sbv_storeu_m(dst, jm[v], o);
        }
        if (epi == EPI_RELU && mask) {
            if (!full) bits &= (UINT32_C(1) << jrem) - 1; /* jrem < 16 */
            /* j0 is a multiple of 16, so a word's first tile starts at j0 % 64 == 0 and
             * assigns it; later tiles of the word OR their bits in. */
            uint64_t *word = mask + (size_t)r * ldm + j0 / 64;
            const unsigned shift = (unsigned)(j0 % 64);
            if (shift == 0) *word = bits;
            else *word |= (uint64_t)bits << shift;
        }
    }
}

SBV_INLINE void fwd_rows(const int R, const enum fwd_epi epi, size_t in, size_t out,
                         const float *x, size_t ldx, const float *wt, size_t ldwt,
                         const float *b, float *y, size_t ldy, uint64_t *mask, size_t ldm)
{
    const size_t cols = FWD_V * SBV_W;
    size_t j0 = 0;
    for (; j0 + cols <= out; j0 += cols)
        fwd_tile(R, 1, epi, in, cols, x, ldx, wt + j0, ldwt, b + j0, y + j0, ldy, mask, ldm, j0);
    if (j0 < out)
        fwd_tile(R, 0, epi, in, out - j0, x, ldx, wt + j0, ldwt, b + j0, y + j0, ldy, mask, ldm,
                 j0);
}

SBV_INLINE void dense_fwd(const enum fwd_epi epi, size_t rows, size_t in, size_t out,
                          const float *x, size_t ldx, const float *wt, size_t ldwt,
                          const float *b, float *y, size_t ldy, uint64_t *mask, size_t ldm)
{
    size_t n = 0;
    for (; n + FWD_R <= rows; n += FWD_R)
        fwd_rows(FWD_R, epi, in, out, x + n * ldx, ldx, wt, ldwt, b, y + n * ldy, ldy,
                 mask ? mask + n * ldm : NULL, ldm);
    uint64_t *m = mask ? mask + n * ldm : NULL;
    switch (rows - n) {
    case 3: fwd_rows(3, epi, in, out, x + n * ldx, ldx, wt, ldwt, b, y + n * ldy, ldy, m, ldm); break;
    case 2: fwd_rows(2, epi, in, out, x + n * ldx, ldx, wt, ldwt, b, y + n * ldy, ldy, m, ldm); break;
    case 1: fwd_rows(1, epi, in, out, x + n * ldx, ldx, wt, ldwt, b, y + n * ldy, ldy, m, ldm); break;
    default: break;
    }
}

void dense_relu_fwd__avx2(size_t rows, size_t in, size_t out, const float *restrict x,
                          size_t ldx, const float *restrict wt, size_t ldwt,
                          const float *restrict b, float *restrict y, size_t ldy,
                          uint64_t *restrict mask, size_t ldm)
{
    dense_fwd(EPI_RELU, rows, in, out, x, ldx, wt, ldwt, b, y, ldy, mask, ldm);
}

void dense_linear_fwd__avx2(size_t rows, size_t in, size_t out, const float *restrict x,
                            size_t ldx, const float *restrict wt, size_t ldwt,
                            const float *restrict b, float *restrict y, size_t ldy)
{
    dense_fwd(EPI_LINEAR, rows, in, out, x, ldx, wt, ldwt, b, y, ldy, NULL, 0);
}

void dense_sigmoid_fwd__avx2(size_t rows, size_t in, size_t out, const float *restrict x,
                             size_t ldx, const float *restrict wt, size_t ldwt,
                             const float *restrict b, float *restrict y, size_t ldy)
{
    dense_fwd(EPI_SIGMOID, rows, in, out, x, ldx, wt, ldwt, b, y, ldy, NULL, 0);
}

/* ---- masked gradients --------------------------------------------------------------------- */

/* g(n, j0 .. j0 + 7) of one row: dy where the mask bit is set, +0 elsewhere (as
 * sb_masked_grad), the first min(jrem, 8) lanes; the rest +0. dy and mask point at row n,
 * j0 is a multiple of 8 so the 8 bits lie in one mask word. */
SBV_INLINE sbv_f grad_vec(const float *dy, const uint64_t *mask, size_t j0, size_t jrem)
{
    sbv_f g = sbv_loadu_n(dy + j0, jrem);
    if (mask) {
        const uint32_t bits = (uint32_t)(mask[j0 / 64] >> (j0 % 64)) & 0xFFu;
        g = sbv_keep(g, sbv_mask_bits(bits));
    }
    return g;
}

/* ---- dx[n][k] = sum_j g(n, j) w[j][k], vectorised over k --------------------------------- */

#define BWD_R 4 /* rows per tile */
#define BWD_V 2 /* vectors of k per tile */

SBV_INLINE void bwd_data_tile(const int R, const int full, size_t krem, size_t out,
                              const float *dy, size_t lddy, const uint64_t *mask, size_t ldm,
                              const float *w, size_t ldw, float *dx, size_t lddx)
{
    sbv_m km[BWD_V];
    for (int v = 0; v < BWD_V; v++)
        km[v] = sbv_mask_n(full ? SBV_W : (krem > (size_t)v * SBV_W ? krem - (size_t)v * SBV_W : 0));
    sbv_f acc[BWD_R][BWD_V];
    for (int r = 0; r < R; r++)
        for (int v = 0; v < BWD_V; v++) acc[r][v] = sbv_zero();
    _Alignas(32) float gbuf[BWD_R][SBV_W];
    for (size_t j0 = 0; j0 < out; j0 += SBV_W) {
        const size_t jrem = out - j0, cnt = jrem < SBV_W ? jrem : SBV_W;
        for (int r = 0; r < R; r++)
            _mm256_store_ps(gbuf[r], grad_vec(dy + (size_t)r * lddy, mask ? mask + (size_t)r * ldm : NULL,
                                              j0, jrem));
        for (size_t jj = 0; jj < cnt; jj++) {
            const float *wr = w + (j0 + jj) * ldw;
            sbv_f wv[BWD_V];
            for (int v = 0; v < BWD_V; v++)
                wv[v] = full ? sbv_loadu(wr + v * SBV_W) : sbv_loadu_m(wr + v * SBV_W, km[v]);
            for (int r = 0; r < R; r++) {
                const sbv_f g = sbv_bcast(&gbuf[r][jj]);
                for (int v = 0; v < BWD_V; v++) acc[r][v] = sbv_fma(g, wv[v], acc[r][v]);
            }
        }
    }
    for (int r = 0; r < R; r++)
        for (int v = 0; v < BWD_V; v++) {
            float *dst = dx + (size_t)r * lddx + v * SBV_W;
            if (full) sbv_storeu(dst, acc[r][v]);
            else sbv_storeu_m(dst, km[v], acc[r][v]);
        }
}

SBV_INLINE void bwd_data_rows(const int R, size_t in, size_t out, const float *dy, size_t lddy,
                              const uint64_t *mask, size_t ldm, const float *w, size_t ldw,
                              float *dx, size_t lddx)
{
    const size_t cols = BWD_V * SBV_W;
    size_t k0 = 0;
    for (; k0 + cols <= in; k0 += cols)
        bwd_data_tile(R, 1, cols, out, dy, lddy, mask, ldm, w + k0, ldw, dx + k0, lddx);
    if (k0 < in)
        bwd_data_tile(R, 0, in - k0, out, dy, lddy, mask, ldm, w + k0, ldw, dx + k0, lddx);
}

void dense_bwd_data__avx2(size_t rows, size_t in, size_t out, const float *restrict dy,
                          size_t lddy, const uint64_t *restrict mask, size_t ldm,
                          const float *restrict w, size_t ldw, float *restrict dx, size_t lddx)
{
    size_t n = 0;
    for (; n + BWD_R <= rows; n += BWD_R)
        bwd_data_rows(BWD_R, in, out, dy + n * lddy, lddy, mask ? mask + n * ldm : NULL, ldm, w,
                      ldw, dx + n * lddx, lddx);
    const float *d = dy + n * lddy;
    const uint64_t *m = mask ? mask + n * ldm : NULL;
    float *o = dx + n * lddx;
    switch (rows - n) {
    case 3: bwd_data_rows(3, in, out, d, lddy, m, ldm, w, ldw, o, lddx); break;
    case 2: bwd_data_rows(2, in, out, d, lddy, m, ldm, w, ldw, o, lddx); break;
    case 1: bwd_data_rows(1, in, out, d, lddy, m, ldm, w, ldw, o, lddx); break;
    default: break;
    }
}

/* ---- dw[j][k] += sum_n g(n, j) x[n][k], vectorised over k --------------------------------- */

/* One tile: R units j0 .. j0 + R - 1 (R in 8, 4, 2, 1, with j0 a multiple of R, so their
 * mask bits lie in one word) times V vectors of k (R * V = 8 accumulators), each a chain
 * over all rows; then one add into dw. */
SBV_INLINE void bwd_weights_tile(const int R, const int V, const int full, size_t rows,
                                 size_t krem, const float *dy, size_t lddy,
                                 const uint64_t *mask, size_t ldm, const float *x, size_t ldx,
                                 float *dw, size_t lddw, size_t j0)
{
    sbv_m km[8];
    for (int v = 0; v < V; v++)
        km[v] = sbv_mask_n(full ? SBV_W : (krem > (size_t)v * SBV_W ? krem - (size_t)v * SBV_W : 0));
    const sbv_m jm = sbv_mask_n((size_t)R);
    const uint32_t jbits = (UINT32_C(1) << R) - 1;
    sbv_f acc[8][8];
    for (int r = 0; r < R; r++)
        for (int v = 0; v < V; v++) acc[r][v] = sbv_zero();
    for (size_t n = 0; n < rows; n++) {
        const float *dyn = dy + n * lddy + j0;
        sbv_f g = R == SBV_W ? sbv_loadu(dyn) : sbv_loadu_m(dyn, jm);
        if (mask) {
            const uint32_t bits = (uint32_t)(mask[n * ldm + j0 / 64] >> (j0 % 64)) & jbits;
            g = sbv_keep(g, sbv_mask_bits(bits));
        }
        /* g(n, j0 + r) in every lane, by in-lane shuffles of the duplicated halves */
        const sbv_f lo = _mm256_permute2f128_ps(g, g, 0x00), hi = _mm256_permute2f128_ps(g, g, 0x11);
        const sbv_f gl[8] = {_mm256_permute_ps(lo, 0x00), _mm256_permute_ps(lo, 0x55),
                             _mm256_permute_ps(lo, 0xAA), _mm256_permute_ps(lo, 0xFF),
                             _mm256_permute_ps(hi, 0x00), _mm256_permute_ps(hi, 0x55),
                             _mm256_permute_ps(hi, 0xAA), _mm256_permute_ps(hi, 0xFF)};
        const float *xn = x + n * ldx;
        sbv_f xv[8];
        for (int v = 0; v < V; v++)
            xv[v] = full ? sbv_loadu(xn + v * SBV_W) : sbv_loadu_m(xn + v * SBV_W, km[v]);
        for (int r = 0; r < R; r++) {
            const sbv_f gr = gl[r];
            for (int v = 0; v < V; v++) acc[r][v] = sbv_fma(gr, xv[v], acc[r][v]);
        }
    }
    for (int r = 0; r < R; r++)
        for (int v = 0; v < V; v++) {
            float *d = dw + (size_t)r * lddw + v * SBV_W;
            if (full) sbv_storeu(d, sbv_add(sbv_loadu(d), acc[r][v]));
            else sbv_storeu_m(d, km[v], sbv_add(sbv_loadu_m(d, km[v]), acc[r][v]));
        }
}

SBV_INLINE void bwd_weights_units(const int R, size_t rows, size_t in, const float *dy,
                                  size_t lddy, const uint64_t *mask, size_t ldm, const float *x,
                                  size_t ldx, float *dw, size_t lddw, size_t j0)
{
    const int V = SBV_W / R;
    const size_t cols = (size_t)V * SBV_W;
    size_t k0 = 0;
    for (; k0 + cols <= in; k0 += cols)
        bwd_weights_tile(R, V, 1, rows, cols, dy, lddy, mask, ldm, x + k0, ldx,
                         dw + j0 * lddw + k0, lddw, j0);
    if (k0 < in)
        bwd_weights_tile(R, V, 0, rows, in - k0, dy, lddy, mask, ldm, x + k0, ldx,
                         dw + j0 * lddw + k0, lddw, j0);
}

void dense_bwd_weights__avx2(size_t rows, size_t in, size_t out, const float *restrict dy,
                             size_t lddy, const uint64_t *restrict mask, size_t ldm,
                             const float *restrict x, size_t ldx, float *restrict dw,
                             size_t lddw, float *restrict db)
{
    size_t j0 = 0;
    for (; j0 + 8 <= out; j0 += 8)
        bwd_weights_units(8, rows, in, dy, lddy, mask, ldm, x, ldx, dw, lddw, j0);
    if (out - j0 >= 4) { bwd_weights_units(4, rows, in, dy, lddy, mask, ldm, x, ldx, dw, lddw, j0); j0 += 4; }
    if (out - j0 >= 2) { bwd_weights_units(2, rows, in, dy, lddy, mask, ldm, x, ldx, dw, lddw, j0); j0 += 2; }
    if (out - j0 >= 1) bwd_weights_units(1, rows, in, dy, lddy, mask, ldm, x, ldx, dw, lddw, j0);

    if (!db) return;
    /* db[j] += (((0 + g(0, j)) + g(1, j)) + ...), 8 units per vector */
    for (size_t jb = 0; jb < out; jb += SBV_W) {
        const size_t jrem = out - jb;
        sbv_f acc = sbv_zero();
        for (size_t n = 0; n < rows; n++)
            acc = sbv_add(acc, grad_vec(dy + n * lddy, mask ? mask + n * ldm : NULL, jb, jrem));
        sbv_storeu_n(db + jb, jrem, sbv_add(sbv_loadu_n(db + jb, jrem), acc));
    }
}

/* ---- dz = dy * (y * (1 - y)) ------------------------------------------------------------- */

void sigmoid_bwd__avx2(size_t n, const float *restrict y, const float *restrict dy,
                       float *restrict dz)
{
    const sbv_f one = sbv_set1(1.0f);
    for (size_t i = 0; i < n; i += SBV_W) {
        const size_t rem = n - i;
        const sbv_f yv = sbv_loadu_n(y + i, rem);
        const sbv_f d = sbv_loadu_n(dy + i, rem);
        sbv_storeu_n(dz + i, rem, sbv_mul(d, sbv_mul(yv, sbv_sub(one, yv))));
    }
}
