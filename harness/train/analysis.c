#include "harness/train/analysis.h"

#include "harness/data/detmath.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define WINDOWS 25
#define WINDOW_1D 50
#define PATCH_2D 7

static int pairs_alloc(struct sb_pairs *p, size_t n)
{
    p->n = n;
    p->i = malloc((n ? n : 1) * sizeof *p->i);
    p->j = malloc((n ? n : 1) * sizeof *p->j);
    return p->i && p->j ? 0 : -1;
}

int sb_pairs_local(size_t h, size_t w, size_t per_window, uint64_t seed, struct sb_pairs *p)
{
    memset(p, 0, sizeof *p);
    struct sb_rng rng;
    sb_rng_seed(&rng, seed, SB_STREAM_PAIRS);
    if (pairs_alloc(p, WINDOWS * per_window)) return -1;
    size_t n = 0;
    for (size_t win = 0; win < WINDOWS; win++) {
        /* The window's members as (row, column) ranges of the evaluation grid. */
        size_t r0, rn, c0, cn;
        if (h == 1) {
            cn = w < WINDOW_1D ? w : WINDOW_1D;
            c0 = (w - cn) * win / (WINDOWS - 1);
            r0 = 0;
            rn = 1;
        } else {
            rn = h < PATCH_2D ? h : PATCH_2D;
            cn = w < PATCH_2D ? w : PATCH_2D;
            r0 = (h - rn) * (win / 5) / 4;
            c0 = (w - cn) * (win % 5) / 4;
        }
        const size_t size = rn * cn;
        if (size < 2) continue;
        for (size_t q = 0; q < per_window; q++) {
            size_t a = sb_rng_below(&rng, size), b = sb_rng_below(&rng, size - 1);
            if (b >= a) b++;
            p->i[n] = (uint32_t)((r0 + a / cn) * w + c0 + a % cn);
            p->j[n] = (uint32_t)((r0 + b / cn) * w + c0 + b % cn);
            n++;
        }
    }
    p->n = n;
    return 0;
}

int sb_pairs_global(size_t h, size_t w, size_t count, uint64_t seed, struct sb_pairs *p)
{
    memset(p, 0, sizeof *p);
    const size_t n = h * w;
    /* Lazzari's [0, 800) and [1200, 2048) of 2048, as fractions of any n. */
    const size_t lo_end = n * 800 / 2048, hi_start = (n * 1200 + 2047) / 2048;
    if (lo_end == 0 || hi_start >= n) return pairs_alloc(p, 0);
    struct sb_rng rng;
    sb_rng_seed(&rng, seed ^ 0x676C6F62616Cull, SB_STREAM_PAIRS);
    if (pairs_alloc(p, count)) return -1;
    for (size_t q = 0; q < count; q++) {
        p->i[q] = (uint32_t)sb_rng_below(&rng, lo_end);
        p->j[q] = (uint32_t)(hi_start + sb_rng_below(&rng, n - hi_start));
    }
    return 0;
}

void sb_pairs_free(struct sb_pairs *p)
{
    free(p->i);
    free(p->j);
    memset(p, 0, sizeof *p);
}

struct hashed {
    uint64_t hash;
    uint32_t row;
};

static int cmp_hashed(const void *a, const void *b)
{
    const struct hashed *x = a, *y = b;
    if (x->hash != y->hash) return x->hash < y->hash ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}

int sb_pattern_stats(const struct sb_kernels *k, const struct sb_model *m,
                     const struct sb_activations *a, size_t rows, const struct sb_pairs *local,
                     const struct sb_pairs *global, struct sb_pattern_stats *out)
{
    memset(out, 0, sizeof *out);
    const size_t depth = m->spec.depth, mw = a->mask_words, P = depth * mw;
    if (P == 0 || rows == 0) return 0;
    /* A pattern is every hidden layer's mask words, concatenated (bits past the width are 0). */
    uint64_t *pat = malloc(rows * P * sizeof *pat);
    struct hashed *h = malloc(rows * sizeof *h);
    uint64_t *any = calloc(P, sizeof *any);
    if (!pat || !h || !any) {
        free(pat);
        free(h);
        free(any);
        return -1;
    }
    for (size_t r = 0; r < rows; r++)
        for (size_t l = 0; l < depth; l++)
            memcpy(pat + r * P + l * mw, a->mask[l] + r * mw, mw * sizeof *pat);

    for (size_t r = 0; r < rows; r++) {
        h[r].hash = k->pattern_hash(P, pat + r * P);
        h[r].row = (uint32_t)r;
        for (size_t q = 0; q < P; q++) any[q] |= pat[r * P + q];
    }
    qsort(h, rows, sizeof *h, cmp_hashed);
    size_t regions = 0;
    for (size_t s = 0; s < rows;) {
        size_t e = s + 1;
        while (e < rows && h[e].hash == h[s].hash) e++;
        /* Equal hashes: count the distinct patterns among them (almost always one). */
        for (size_t x = s; x < e; x++) {
            int seen = 0;
            for (size_t y = s; y < x && !seen; y++)
                seen = memcmp(pat + (size_t)h[x].row * P, pat + (size_t)h[y].row * P,
                              P * sizeof *pat) == 0;
            regions += !seen;
        }
        s = e;
    }
    out->regions = regions;
    for (size_t l = 0; l < depth; l++)
        for (size_t u = 0; u < m->spec.width; u++)
            out->dead_units += !((any[l * mw + u / 64] >> (u % 64)) & 1);

    const struct sb_pairs *sets[2] = {local, global};
    double *means[2] = {&out->hamming_local_mean, &out->hamming_global_mean};
    for (int s = 0; s < 2; s++) {
        const struct sb_pairs *p = sets[s];
        if (!p || p->n == 0) {
            *means[s] = NAN;
            continue;
        }
        uint64_t sum = 0;
        for (size_t q = 0; q < p->n; q++)
            sum += k->pattern_hamming(P, pat + (size_t)p->i[q] * P, pat + (size_t)p->j[q] * P);
        *means[s] = (double)sum / (double)p->n;
    }
    free(pat);
    free(h);
    free(any);
    return 0;
}

struct confusion_ctx {
    const struct sb_model *m;
    size_t rows;
    const struct sb_pairs *sets[2];
    double *dot[2];  /* per pair */
    double *norm2;   /* per row: |gradient|^2 */
};

/* g arrives through the layer's ReLU already (sb_model_backprop). */
static void visit_confusion(void *vctx, size_t l, const float *g, size_t ldg, const float *x,
                            size_t ldx)
{
    struct confusion_ctx *c = vctx;
    const struct sb_layer *L = &c->m->layers[l];
    /* Per-row norms: |dW_r|^2 + |db_r|^2 = |g_r|^2 (|x_r|^2 + 1). */
#pragma omp parallel for schedule(static)
    for (size_t r = 0; r < c->rows; r++) {
        double gg = 0.0, xx = 0.0;
        for (size_t j = 0; j < L->out; j++) {
            const double v = g[r * ldg + j];
            gg += v * v;
        }
        for (size_t q = 0; q < L->in; q++) xx += (double)x[r * ldx + q] * x[r * ldx + q];
        c->norm2[r] += gg * (xx + 1.0);
    }
    for (int s = 0; s < 2; s++) {
        const struct sb_pairs *p = c->sets[s];
        if (!p) continue;
        double *dot = c->dot[s];
#pragma omp parallel for schedule(static)
        for (size_t q = 0; q < p->n; q++) {
            const size_t i = p->i[q], j = p->j[q];
            double gg = 0.0, xx = 0.0;
            for (size_t u = 0; u < L->out; u++)
                gg += (double)g[i * ldg + u] * g[j * ldg + u];
            for (size_t v = 0; v < L->in; v++) xx += (double)x[i * ldx + v] * x[j * ldx + v];
            dot[q] += gg * (xx + 1.0);
        }
    }
}

static int summarise(const struct sb_pairs *p, const double *dot, const double *norm2,
                     size_t bins, struct sb_confusion *out)
{
    memset(out, 0, sizeof *out);
    out->bins = bins;
    out->histogram = calloc(bins, sizeof *out->histogram);
    if (!out->histogram) return -1;
    double sum = 0.0, sum_abs = 0.0;
    size_t neg = 0, used = 0;
    for (size_t q = 0; p && q < p->n; q++) {
        const double den = norm2[p->i[q]] * norm2[p->j[q]];
        if (!(den > 0.0)) continue;
        double cosv = dot[q] / sqrt(den);
        if (cosv > 1.0) cosv = 1.0;
        if (cosv < -1.0) cosv = -1.0;
        size_t b = (size_t)((cosv + 1.0) / 2.0 * (double)bins);
        out->histogram[b < bins ? b : bins - 1]++;
        sum += cosv;
        sum_abs += fabs(cosv);
        neg += cosv < 0.0;
        used++;
    }
    out->pairs = used;
    out->mean = used ? sum / (double)used : NAN;
    out->mean_abs = used ? sum_abs / (double)used : NAN;
    out->negative_fraction = used ? (double)neg / (double)used : NAN;
    return 0;
}

int sb_confusion(const struct sb_kernels *k, const struct sb_model *m, struct sb_activations *a,
                 size_t rows, const float *t, const struct sb_pairs *local,
                 const struct sb_pairs *global, size_t bins, struct sb_confusion *out_local,
                 struct sb_confusion *out_global)
{
    const size_t out = m->spec.out;
    struct confusion_ctx c = {m, rows, {local, global}, {NULL, NULL}, NULL};
    c.dot[0] = calloc(local && local->n ? local->n : 1, sizeof(double));
    c.dot[1] = calloc(global && global->n ? global->n : 1, sizeof(double));
    c.norm2 = calloc(rows ? rows : 1, sizeof(double));
    int rc = -1;
    if (!c.dot[0] || !c.dot[1] || !c.norm2) goto out;
    /* Per-example loss: the mean over the output channels, so dL_r/dy = 2 (y - t) / out. The
     * kernel's returned sum is not needed. */
    for (size_t r0 = 0; r0 < rows; r0 += SB_TILE_ROWS) {
        const size_t T = rows - r0 < SB_TILE_ROWS ? rows - r0 : SB_TILE_ROWS;
        (void)k->mse_loss_grad(T * out, a->y + r0 * out, t + r0 * out, (float)(2.0 / (double)out),
                               a->dy + r0 * out);
    }
    sb_model_backprop(k, m, rows, a, visit_confusion, &c);
    if (summarise(local, c.dot[0], c.norm2, bins, out_local) ||
        summarise(global, c.dot[1], c.norm2, bins, out_global))
        goto out;
    rc = 0;
out:
    free(c.dot[0]);
    free(c.dot[1]);
    free(c.norm2);
    return rc;
}

void sb_confusion_free(struct sb_confusion *c)
{
    free(c->histogram);
    memset(c, 0, sizeof *c);
}
