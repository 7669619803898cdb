/* AVX-512 sinusoidal encodings and sincospi_u15: 16 independent arguments per zmm, each
 * through kernels/shared/transcendental.h, which mirrors the scalar truth op for op. */
#define SB_ISA_SUFFIX avx512
#include "kernels/declare.h"
#include "simd.h"
#include "kernels/shared/transcendental.h"

void sincospi_u15__avx512(size_t n, const float *restrict y, float *restrict s,
                          float *restrict c)
{
    __m512 sv, cv;
    size_t i = 0;
    for (; i + SB_W <= n; i += SB_W) {
        sb512_sincospi_u15(sb_load(y + i), &sv, &cv);
        if (s) sb_store(s + i, sv);
        if (c) sb_store(c + i, cv);
    }
    if (i < n) {
        const __mmask16 m = sb_tail16(n - i);
        sb512_sincospi_u15(sb_load_m(m, y + i), &sv, &cv);
        if (s) sb_store_m(s + i, m, sv);
        if (c) sb_store_m(c + i, m, cv);
    }
}

/* Octaves l0 .. l1 span at most 254 values (kernels.h: -126 <= l0 <= l1 <= 127): at most
 * 16 zmm of scales 2^l. */
#define SB_POSENC_MAX_CHUNKS 16

void posenc_fwd__avx512(size_t rows, size_t d, int l0, int l1, const float *restrict x,
                        size_t ldx, float *restrict out, size_t ldo)
{
    const size_t octaves = (size_t)(l1 - l0 + 1);
    const size_t F = octaves * d;
    const size_t chunks = (octaves + SB_W - 1) / SB_W;
    /* scale[ch] lane i = 2^(l0 + 16 ch + i), built in the exponent field: exact, and for the
     * octaves in range a normal float (-126 <= l <= 127); lanes past l1 are never stored. */
    __m512 scale[SB_POSENC_MAX_CHUNKS];
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (size_t ch = 0; ch < chunks; ch++) {
        const __m512i e = _mm512_add_epi32(iota, _mm512_set1_epi32(l0 + 127 + (int)(ch * SB_W)));
        scale[ch] = _mm512_castsi512_ps(_mm512_slli_epi32(e, 23));
    }
    for (size_t n = 0; n < rows; n++) {
        float *o = out + n * ldo;
        for (size_t c = 0; c < d; c++) {
            const __m512 xb = sb_set1(x[n * ldx + c]);
            for (size_t ch = 0; ch < chunks; ch++) {
                const size_t f = c * octaves + ch * SB_W;
                const __mmask16 m = sb_tail16(octaves - ch * SB_W);
                __m512 sv, cv;
                sb512_sincospi_u15(_mm512_mul_ps(xb, scale[ch]), &sv, &cv);
                sb_store_m(o + f, m, sv);
                sb_store_m(o + F + f, m, cv);
            }
        }
    }
}

/* Fourier features: 16 frequencies j per zmm. B is read transposed, SB_W inputs c at a
 * time, into a small stack tile; each z(n, j) is one fma chain over c from +0 in order, kept
 * in a per-row-block array while the c tiles go by. */
#define SB_FOURIER_ROWS 32

void fourier_fwd__avx512(size_t rows, size_t d, size_t m, const float *restrict x, size_t ldx,
                         const float *restrict B, float *restrict out, size_t ldo)
{
    float bt[SB_W][SB_W] __attribute__((aligned(64)));
    __m512 z[SB_FOURIER_ROWS];
    for (size_t j0 = 0; j0 < m; j0 += SB_W) {
        const size_t nj = m - j0 < SB_W ? m - j0 : SB_W;
        const __mmask16 mj = sb_tail16(nj);
        for (size_t n0 = 0; n0 < rows; n0 += SB_FOURIER_ROWS) {
            const size_t nr = rows - n0 < SB_FOURIER_ROWS ? rows - n0 : SB_FOURIER_ROWS;
            for (size_t r = 0; r < nr; r++) z[r] = _mm512_setzero_ps();
            for (size_t c0 = 0; c0 < d; c0 += SB_W) {
                const size_t nc = d - c0 < SB_W ? d - c0 : SB_W;
                for (size_t c = 0; c < nc; c++)
                    for (size_t l = 0; l < SB_W; l++)
                        bt[c][l] = l < nj ? B[(j0 + l) * d + c0 + c] : 0.0f;
                for (size_t r = 0; r < nr; r++) {
                    const float *xr = x + (n0 + r) * ldx + c0;
                    __m512 zr = z[r];
                    for (size_t c = 0; c < nc; c++)
                        zr = sb_fma(_mm512_load_ps(bt[c]), sb_set1(xr[c]), zr);
                    z[r] = zr;
                }
            }
            for (size_t r = 0; r < nr; r++) {
                float *o = out + (n0 + r) * ldo + j0;
                __m512 sv, cv;
                sb512_sincospi_u15(_mm512_add_ps(z[r], z[r]), &sv, &cv);
                sb_store_m(o, mj, sv);
                sb_store_m(o + m, mj, cv);
            }
        }
    }
}
