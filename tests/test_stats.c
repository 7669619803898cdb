/* The statistics of `specbias compare` (harness/compare/stats.c): medians of odd, even and single
 * samples; the Mann-Whitney U test against scipy's answers, exact and asymptotic, each
 * alternative; ties; n = 1; every value equal; refusals (empty, non-finite, EXACT with ties). */
#include "harness/compare/stats.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#define N(a) (sizeof(a) / sizeof *(a))

#define assert_near(a, b, tol) assert_near_at((a), (b), (tol), #a, __LINE__)
static void assert_near_at(double a, double b, double tol, const char *what, int line)
{
    if (!(fabs(a - b) <= tol))
        fail_msg("line %d: %s = %.17g, want %.17g within %g", line, what, a, b, tol);
}

static void test_median(void **state)
{
    (void)state;
    const double odd[] = {5.0, 1.0, 3.0}, even[] = {4.0, 1.0, 3.0, 2.0}, one[] = {7.5};
    const double dup[] = {2.0, 2.0, 9.0, 2.0, -1.0};
    assert_true(sb_stats_median(odd, N(odd)) == 3.0);
    assert_true(sb_stats_median(even, N(even)) == 2.5);
    assert_true(sb_stats_median(one, 1) == 7.5);
    assert_true(sb_stats_median(dup, N(dup)) == 2.0);
    assert_true(isnan(sb_stats_median(odd, 0)));
    assert_true(isnan(sb_stats_median(NULL, 3)));
    /* the input is left as it was */
    assert_true(odd[0] == 5.0 && odd[1] == 1.0 && odd[2] == 3.0);
}

/* One oracle row: scipy.stats.mannwhitneyu(x, y, alternative=..., method=...,
 * use_continuity=True) from python3-scipy 1.10.1 (Debian bookworm), computed once with
 *   /usr/bin/python3 -c 'from scipy.stats import mannwhitneyu as m; print(m(x, y, ...))'
 * for the samples below. */
struct oracle {
    enum sb_stats_alternative alt;
    enum sb_stats_mwu_method method;
    double u, p;
};

static void check(const double *x, size_t nx, const double *y, size_t ny, const struct oracle *o,
                  size_t no, int want_ties)
{
    for (size_t i = 0; i < no; i++) {
        struct sb_stats_mwu r;
        assert_int_equal(sb_stats_mann_whitney(x, nx, y, ny, o[i].alt, o[i].method, &r), 0);
        assert_near(r.u, o[i].u, 1e-9);
        assert_near(r.p, o[i].p, 1e-12 + 1e-9 * o[i].p);
        assert_int_equal(r.exact, o[i].method == SB_STATS_MWU_EXACT);
        assert_int_equal(r.ties, want_ties);
    }
}

#define G  SB_STATS_GREATER
#define L  SB_STATS_LESS
#define T  SB_STATS_TWO_SIDED
#define EX SB_STATS_MWU_EXACT
#define AS SB_STATS_MWU_ASYMPTOTIC

static void test_mwu_small(void **state)
{
    (void)state;
    const double x[] = {1.1, 2.3, 3.5, 4.2, 5.0}, y[] = {0.5, 0.7, 1.9, 2.1};
    const struct oracle o[] = {
        {G, EX, 18, 0.031746031746031744}, {L, EX, 18, 0.9841269841269842},
        {T, EX, 18, 0.06349206349206349},  {G, AS, 18, 0.03309628986109672},
        {L, AS, 18, 0.9813317920396686},   {T, AS, 18, 0.06619257972219345},
    };
    check(x, N(x), y, N(y), o, N(o), 0);
}

/* completely separated: the smallest possible exact p, 1 / C(10, 5) = 1/252 */
static void test_mwu_separated(void **state)
{
    (void)state;
    const double x[] = {10.2, 10.5, 10.9, 11.3, 11.8}, y[] = {9.1, 9.3, 9.6, 9.8, 9.9};
    const struct oracle o[] = {
        {G, EX, 25, 0.003968253968253968}, {L, EX, 25, 0.9999999999999998},
        {T, EX, 25, 0.007936507936507936}, {G, AS, 25, 0.006092890177672406},
        {L, AS, 25, 0.9966923245172357},   {T, AS, 25, 0.012185780355344813},
    };
    check(x, N(x), y, N(y), o, N(o), 0);
}

/* n = 1 against 1: the exact test can never go below 0.5 one-sided */
static void test_mwu_one_each(void **state)
{
    (void)state;
    const double x[] = {2.0}, y[] = {1.0};
    const struct oracle o[] = {
        {G, EX, 1, 0.5},
        {L, EX, 1, 1.0},
        {T, EX, 1, 1.0},
        {G, AS, 1, 0.5},
        {L, AS, 1, 0.9772498680518208},
        {T, AS, 1, 1.0},
    };
    check(x, N(x), y, N(y), o, N(o), 0);
}

/* 20 against 25 without ties: the exact distribution well past scipy's own exact limit (8),
 * and the normal approximation beside it. x_i = (37 i mod 101) + 0.5, y_j = 53 j mod 103. */
static void test_mwu_mid(void **state)
{
    (void)state;
    double x[20], y[25];
    for (int i = 0; i < 20; i++) x[i] = (double)((i * 37) % 101) + 0.5;
    for (int j = 0; j < 25; j++) y[j] = (double)((j * 53) % 103);
    const struct oracle o[] = {
        {G, EX, 281, 0.2448973532890432}, {L, EX, 281, 0.7621875087231752},
        {T, EX, 281, 0.4897947065780864}, {G, AS, 281, 0.24300495239311098},
        {L, AS, 281, 0.7640868450869847}, {T, AS, 281, 0.48600990478622197},
    };
    check(x, N(x), y, N(y), o, N(o), 0);
    /* AUTO picks the exact distribution here */
    struct sb_stats_mwu r;
    assert_int_equal(sb_stats_mann_whitney(x, 20, y, 25, G, SB_STATS_MWU_AUTO, &r), 0);
    assert_int_equal(r.exact, 1);
    assert_near(r.p, 0.2448973532890432, 1e-12);
}

/* 60 against 55: past SB_STATS_MWU_EXACT_MAX, AUTO falls back to the normal approximation */
static void test_mwu_large(void **state)
{
    (void)state;
    double x[60], y[55];
    for (int i = 0; i < 60; i++) x[i] = (double)((i * 37) % 101) + 0.5;
    for (int j = 0; j < 55; j++) y[j] = (double)((j * 53) % 103) + 0.25;
    const struct oracle o[] = {
        {G, AS, 1747, 0.29449636410023405},
        {L, AS, 1747, 0.7074310103561419},
        {T, AS, 1747, 0.5889927282004681},
    };
    check(x, N(x), y, N(y), o, N(o), 0);
    struct sb_stats_mwu r;
    assert_int_equal(sb_stats_mann_whitney(x, 60, y, 55, G, SB_STATS_MWU_AUTO, &r), 0);
    assert_int_equal(r.exact, 0);
    assert_near(r.p, 0.29449636410023405, 1e-12);
    assert_int_equal(sb_stats_mann_whitney(x, 60, y, 55, G, EX, &r), -1);
}

/* ties: average ranks and the tie-corrected variance; AUTO must not use the exact table */
static void test_mwu_ties(void **state)
{
    (void)state;
    const double x[] = {1, 2, 2, 3, 4}, y[] = {2, 3, 3, 5, 6, 7};
    const struct oracle o[] = {
        {G, AS, 6, 0.9613756091726351},
        {L, AS, 6, 0.05695157229426534},
        {T, AS, 6, 0.11390314458853068},
    };
    check(x, N(x), y, N(y), o, N(o), 1);
    struct sb_stats_mwu r;
    assert_int_equal(sb_stats_mann_whitney(x, N(x), y, N(y), L, SB_STATS_MWU_AUTO, &r), 0);
    assert_int_equal(r.exact, 0);
    assert_near(r.p, 0.05695157229426534, 1e-12);
    assert_int_equal(sb_stats_mann_whitney(x, N(x), y, N(y), L, EX, &r), -1);
}

/* every value equal (a file compared with itself, one repetition of a deterministic metric):
 * no evidence either way, p = 1 on every alternative */
static void test_mwu_all_equal(void **state)
{
    (void)state;
    const double x[] = {3, 3, 3}, y[] = {3, 3};
    const struct oracle o[] = {{G, AS, 3, 1.0}, {L, AS, 3, 1.0}, {T, AS, 3, 1.0}};
    check(x, N(x), y, N(y), o, N(o), 1);
    const double a[] = {0.25}, b[] = {0.25};
    struct sb_stats_mwu r;
    assert_int_equal(sb_stats_mann_whitney(a, 1, b, 1, G, SB_STATS_MWU_AUTO, &r), 0);
    assert_near(r.p, 1.0, 0);
    assert_near(r.u, 0.5, 0);
}

static void test_mwu_refusals(void **state)
{
    (void)state;
    const double x[] = {1, 2}, bad[] = {1, NAN};
    struct sb_stats_mwu r;
    assert_int_equal(sb_stats_mann_whitney(x, 0, x, 2, G, SB_STATS_MWU_AUTO, &r), -1);
    assert_int_equal(sb_stats_mann_whitney(x, 2, x, 0, G, SB_STATS_MWU_AUTO, &r), -1);
    assert_int_equal(sb_stats_mann_whitney(NULL, 2, x, 2, G, SB_STATS_MWU_AUTO, &r), -1);
    assert_int_equal(sb_stats_mann_whitney(x, 2, x, 2, G, SB_STATS_MWU_AUTO, NULL), -1);
    assert_int_equal(sb_stats_mann_whitney(bad, 2, x, 2, G, SB_STATS_MWU_AUTO, &r), -1);
    const double inf[] = {INFINITY};
    assert_int_equal(sb_stats_mann_whitney(x, 2, inf, 1, G, SB_STATS_MWU_AUTO, &r), -1);
}

/* the exact p-values of one sample size form a distribution: P(U >= 0) = 1, and one-sided
 * p-values of U and of n1 n2 - U overlap in exactly the mass at U */
static void test_mwu_exact_consistency(void **state)
{
    (void)state;
    const double x[] = {0.5, 1.5, 2.5}, y[] = {0.0, 1.0, 2.0, 3.0};
    struct sb_stats_mwu g, l;
    assert_int_equal(sb_stats_mann_whitney(x, 3, y, 4, G, EX, &g), 0);
    assert_int_equal(sb_stats_mann_whitney(x, 3, y, 4, L, EX, &l), 0);
    /* U = 6 of 12 for x: P(U >= 6) + P(U <= 6) = 1 + P(U = 6); C(7,3) = 35 arrangements,
     * 5 of them with U = 6 */
    assert_near(g.u, 6.0, 0);
    assert_near(g.p + l.p, 1.0 + 5.0 / 35.0, 1e-14);
    const double lo[] = {-3.0, -2.0, -1.0};
    assert_int_equal(sb_stats_mann_whitney(lo, 3, y, 4, L, EX, &l), 0);
    assert_near(l.p, 1.0 / 35.0, 1e-15);
    assert_int_equal(sb_stats_mann_whitney(lo, 3, y, 4, G, EX, &g), 0);
    assert_near(g.p, 1.0, 1e-15);
}

/* 1 / C(nx + ny, nx): the floor under every exact one-sided p-value of that size */
static void test_mwu_min_p(void **state)
{
    (void)state;
    assert_near(sb_stats_mwu_min_p(1, 1), 0.5, 1e-15);
    assert_near(sb_stats_mwu_min_p(2, 2), 1.0 / 6.0, 1e-15);
    assert_near(sb_stats_mwu_min_p(3, 3), 0.05, 1e-15);
    assert_near(sb_stats_mwu_min_p(2, 5), 1.0 / 21.0, 1e-15);
    assert_near(sb_stats_mwu_min_p(5, 5), 1.0 / 252.0, 1e-15);
    assert_true(isnan(sb_stats_mwu_min_p(0, 3)));
    assert_true(sb_stats_mwu_min_p(1000, 1000) < 1e-290);
    /* it is what the exact test gives at complete separation */
    const double x[] = {4, 5, 6}, y[] = {1, 2, 3};
    struct sb_stats_mwu r;
    assert_int_equal(sb_stats_mann_whitney(x, 3, y, 3, G, EX, &r), 0);
    assert_near(r.p, sb_stats_mwu_min_p(3, 3), 1e-15);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_median),        cmocka_unit_test(test_mwu_small),
        cmocka_unit_test(test_mwu_separated), cmocka_unit_test(test_mwu_one_each),
        cmocka_unit_test(test_mwu_mid),       cmocka_unit_test(test_mwu_large),
        cmocka_unit_test(test_mwu_ties),      cmocka_unit_test(test_mwu_all_equal),
        cmocka_unit_test(test_mwu_refusals),  cmocka_unit_test(test_mwu_exact_consistency),
        cmocka_unit_test(test_mwu_min_p),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
