/* Medians and the Mann-Whitney U test (see stats.h). The formulas follow scipy 1.10's
 * mannwhitneyu so that its answers can serve as the test oracle (tests/test_stats.c). */
#include "harness/compare/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double sb_stats_median(const double *x, size_t n)
{
    if (!x || n == 0) return NAN;
    double *v = malloc(n * sizeof *v);
    if (!v) return NAN;
    memcpy(v, x, n * sizeof *v);
    qsort(v, n, sizeof *v, cmp_double);
    const double m = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    free(v);
    return m;
}

struct ranked {
    double value;
    size_t index; /* < nx: from x; else from y */
};

static int cmp_ranked(const void *a, const void *b)
{
    const struct ranked *p = a, *q = b;
    if (p->value != q->value) return p->value < q->value ? -1 : 1;
    /* equal values share a rank, so their order does not matter; the index keeps qsort's
     * result the same on every libc */
    return p->index < q->index ? -1 : p->index > q->index;
}

/* P(U >= k) under the null hypothesis, for U of a sample of nx against one of ny, no ties.
 * p(i, j, u) = probability that i x-values and j y-values give U = u. The largest of the i + j
 * values is an x-value with probability i / (i + j), and then it beats all j y-values:
 *   p(i, j, u) = i/(i+j) p(i-1, j, u-j) + j/(i+j) p(i, j-1, u).
 * Probabilities rather than counts keep every term in [0, 1] (C(100, 50) ~ 1e29 counts would
 * still fit a double, but sums of probabilities need no final division). Only additions of
 * non-negative terms: no cancellation. Returns NAN when memory runs out. */
static double exact_sf(size_t nx, size_t ny, long k)
{
    const size_t stride = nx * ny + 1;
    double *prev = calloc((ny + 1) * stride, sizeof *prev);
    double *cur = calloc((ny + 1) * stride, sizeof *cur);
    if (!prev || !cur) {
        free(prev);
        free(cur);
        return NAN;
    }
    /* row i = 0: no x-values, U = 0 for every j */
    for (size_t j = 0; j <= ny; j++) prev[j * stride] = 1.0;
    for (size_t i = 1; i <= nx; i++) {
        memset(cur, 0, (ny + 1) * stride * sizeof *cur);
        cur[0] = 1.0; /* no y-values: U = 0 */
        for (size_t j = 1; j <= ny; j++) {
            const double wx = (double)i / (double)(i + j), wy = (double)j / (double)(i + j);
            double *c = cur + j * stride;
            const double *from_x = prev + j * stride;      /* (i-1, j), U up to (i-1) j */
            const double *from_y = cur + (j - 1) * stride; /* (i, j-1), U up to i (j-1) */
            for (size_t u = 0; u <= i * j; u++) {
                double v = 0.0;
                if (u >= j && u - j <= (i - 1) * j) v += wx * from_x[u - j];
                if (u <= i * (j - 1)) v += wy * from_y[u];
                c[u] = v;
            }
        }
        double *t = prev;
        prev = cur;
        cur = t;
    }
    const double *dist = prev + ny * stride;
    double sf = 0.0;
    /* sum the small tail first: fewer rounding errors than 1 - cdf */
    for (long u = (long)(nx * ny); u >= (k < 0 ? 0 : k); u--) sf += dist[u];
    free(prev);
    free(cur);
    return sf;
}

int sb_stats_mann_whitney(const double *x, size_t nx, const double *y, size_t ny,
                          enum sb_stats_alternative alternative, enum sb_stats_mwu_method method,
                          struct sb_stats_mwu *out)
{
    if (!x || !y || !out || nx == 0 || ny == 0) return -1;
    /* n (n - 1) and the exact table's size must not overflow; no benchmark has 2^28 runs */
    if (nx > ((size_t)1 << 28) || ny > ((size_t)1 << 28)) return -1;
    const size_t n = nx + ny;
    struct ranked *r = malloc(n * sizeof *r);
    if (!r) return -1;
    for (size_t i = 0; i < nx; i++) r[i] = (struct ranked){x[i], i};
    for (size_t i = 0; i < ny; i++) r[nx + i] = (struct ranked){y[i], nx + i};
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(r[i].value)) {
            free(r);
            return -1;
        }
    }
    qsort(r, n, sizeof *r, cmp_ranked);

    /* Average ranks (1-based) over runs of equal values; the sum of t^3 - t over those runs is
     * the tie correction of the variance. */
    double rank_sum_x = 0.0, tie_term = 0.0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && r[j].value == r[i].value) j++;
        const double t = (double)(j - i), avg_rank = 0.5 * (double)(i + 1 + j);
        for (size_t q = i; q < j; q++)
            if (r[q].index < nx) rank_sum_x += avg_rank;
        tie_term += t * t * t - t;
        i = j;
    }
    free(r);

    const double n1 = (double)nx, n2 = (double)ny;
    const double u1 = rank_sum_x - n1 * (n1 + 1.0) / 2.0, u2 = n1 * n2 - u1;
    const int ties = tie_term > 0.0;
    /* As scipy: every alternative becomes an upper tail, by symmetry of U's distribution. */
    const double u = alternative == SB_STATS_GREATER ? u1
                     : alternative == SB_STATS_LESS  ? u2
                                                     : (u1 > u2 ? u1 : u2);
    const double factor = alternative == SB_STATS_TWO_SIDED ? 2.0 : 1.0;

    int exact;
    if (method == SB_STATS_MWU_EXACT) {
        if (ties || nx > SB_STATS_MWU_EXACT_MAX || ny > SB_STATS_MWU_EXACT_MAX) return -1;
        exact = 1;
    } else if (method == SB_STATS_MWU_ASYMPTOTIC) {
        exact = 0;
    } else {
        exact = !ties && nx <= SB_STATS_MWU_EXACT_MAX && ny <= SB_STATS_MWU_EXACT_MAX;
    }

    double p;
    if (exact) {
        /* without ties U is a whole number; lround guards against 2.9999... from the sums */
        p = exact_sf(nx, ny, lround(u));
        if (isnan(p)) return -1;
    } else {
        const double nn = (double)n;
        const double var = n1 * n2 / 12.0 * ((nn + 1.0) - tie_term / (nn * (nn - 1.0)));
        if (!(var > 0.0)) {
            /* every value equal: no evidence either way */
            p = 1.0;
        } else {
            /* continuity correction: the normal tail from U - 1/2 covers the mass at U */
            const double z = (u - n1 * n2 / 2.0 - 0.5) / sqrt(var);
            p = 0.5 * erfc(z / sqrt(2.0));
        }
    }
    p *= factor;
    if (p > 1.0) p = 1.0;
    if (p < 0.0) p = 0.0;
    *out = (struct sb_stats_mwu){u1, p, exact, ties};
    return 0;
}

double sb_stats_mwu_min_p(size_t nx, size_t ny)
{
    if (nx == 0 || ny == 0) return NAN;
    /* C(nx + ny, nx) built up as a product; past 1e300 (p below 1e-300) it can stop */
    double c = 1.0;
    for (size_t i = 1; i <= nx && c < 1e300; i++) c = c * (double)(ny + i) / (double)i;
    return 1.0 / c;
}
