#include "harness/data/detmath.h"

#include <math.h>

/* Taylor polynomials of sin(pi r) and cos(pi r) for |r| <= 1/4 (|pi r| <= 0.79): the first
 * omitted terms are below 1e-19, under half an ulp of the results. Horner in plain double. */
static double sinpi_core(double r)
{
    const double a = 3.14159265358979323846 * r, a2 = a * a;
    double p = 1.0 / 6402373705728000.0; /* 1/18! ... built up from the top */
    p = 1.0 / 355687428096000.0 - a2 * p; /* 1/17! */
    p = 1.0 / 1307674368000.0 - a2 * p;   /* 1/15! */
    p = 1.0 / 6227020800.0 - a2 * p;      /* 1/13! */
    p = 1.0 / 39916800.0 - a2 * p;        /* 1/11! */
    p = 1.0 / 362880.0 - a2 * p;          /* 1/9!  */
    p = 1.0 / 5040.0 - a2 * p;            /* 1/7!  */
    p = 1.0 / 120.0 - a2 * p;             /* 1/5!  */
    p = 1.0 / 6.0 - a2 * p;               /* 1/3!  */
    return a - a * a2 * p;
}

static double cospi_core(double r)
{
    const double a = 3.14159265358979323846 * r, a2 = a * a;
    double p = 1.0 / 6402373705728000.0; /* 1/18! */
    p = 1.0 / 20922789888000.0 - a2 * p; /* 1/16! */
    p = 1.0 / 87178291200.0 - a2 * p;    /* 1/14! */
    p = 1.0 / 479001600.0 - a2 * p;      /* 1/12! */
    p = 1.0 / 3628800.0 - a2 * p;        /* 1/10! */
    p = 1.0 / 40320.0 - a2 * p;          /* 1/8!  */
    p = 1.0 / 720.0 - a2 * p;            /* 1/6!  */
    p = 1.0 / 24.0 - a2 * p;             /* 1/4!  */
    p = 0.5 - a2 * p;                    /* 1/2!  */
    return 1.0 - a2 * p;
}

/* x = q/2 + r with q an integer and |r| <= 1/4; both steps are exact in double. */
static double reduce_half(double x, long long *q)
{
    const double h = nearbyint(2.0 * x);
    *q = (long long)fmod(h, 4.0);
    if (*q < 0) *q += 4;
    return x - 0.5 * h;
}

double sb_det_sinpi(double x)
{
    if (!isfinite(x)) return NAN;
    long long q;
    const double r = reduce_half(x, &q);
    switch (q) {
    case 0: return sinpi_core(r);
    case 1: return cospi_core(r);
    case 2: return -sinpi_core(r);
    default: return -cospi_core(r);
    }
}

double sb_det_cospi(double x)
{
    if (!isfinite(x)) return NAN;
    long long q;
    const double r = reduce_half(x, &q);
    switch (q) {
    case 0: return cospi_core(r);
    case 1: return -sinpi_core(r);
    case 2: return -cospi_core(r);
    default: return sinpi_core(r);
    }
}

double sb_det_exp2(double x)
{
    const double n = nearbyint(x), f = x - n; /* |f| <= 1/2, exact */
    const double a = f * 0.69314718055994530942; /* |a| <= 0.35: 18 terms reach 1e-19 */
    double p = 1.0, term = 1.0;
    for (int i = 1; i <= 18; i++) {
        term = term * a / i;
        p = p + term;
    }
    return ldexp(p, (int)n);
}

double sb_det_log(double x)
{
    int e;
    double m = frexp(x, &e); /* x = m 2^e, m in [0.5, 1) */
    if (m < 0.70710678118654752440) {
        m = 2.0 * m;
        e -= 1;
    }
    /* log m = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.172: 14 odd terms reach 1e-19 */
    const double s = (m - 1.0) / (m + 1.0), s2 = s * s;
    double p = 0.0;
    for (int k = 27; k >= 1; k -= 2) p = 1.0 / k + s2 * p;
    return 2.0 * s * p + e * 0.69314718055994530942;
}

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void sb_rng_seed(struct sb_rng *rng, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xD1B54A32D192ED03ull);
    for (int i = 0; i < 4; i++) rng->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t sb_rng_u64(struct sb_rng *rng)
{
    uint64_t *s = rng->s;
    const uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double sb_rng_uniform(struct sb_rng *rng) { return (double)(sb_rng_u64(rng) >> 11) * 0x1.0p-53; }

uint64_t sb_rng_below(struct sb_rng *rng, uint64_t n)
{
    /* Rejection keeps it exactly uniform. */
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = sb_rng_u64(rng);
    while (x >= limit);
    return x % n;
}

double sb_rng_normal(struct sb_rng *rng)
{
    const double u1 = 1.0 - sb_rng_uniform(rng); /* (0, 1]: log stays finite */
    const double u2 = sb_rng_uniform(rng);
    return sqrt(-2.0 * sb_det_log(u1)) * sb_det_cospi(2.0 * u2);
}
