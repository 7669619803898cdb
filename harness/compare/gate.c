/* specbias compare BASE NEW: the statistical regression gate, one row per experiment (or
 * benchmark) and metric, each with its verdict. */
#define _POSIX_C_SOURCE 200809L
#include "harness/compare/compare.h"
#include "harness/compare/stats.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A frequency counts as learned when the residual at it is at most 10 % of the target's. */
#define LEARNED_MAX_ERROR 0.1
/* Below 3 repetitions a side the one-sided test cannot reach 0.05 (1 vs 1 gives at best 0.5,
 * 2 vs 2 gives 1/6, 3 vs 3 gives 1/20), so the verdict falls back to the threshold. */
#define MIN_REPS_FOR_TEST 3
/* Significant means p <= alpha: rejecting then keeps the false-alarm rate at most alpha, and
 * 3 vs 3 completely separated repetitions give exactly p = 1/20 = 0.05 (with p < alpha the
 * default gate could never flag 3 repetitions). The slack absorbs the few ulps by which the
 * exact distribution's sums can miss 1/20. */
#define P_SLACK (1.0 + 1e-9)

const char *const sb_verdict_names[] = {
    "ok",       "regression",      "improvement", "numerics_changed",
    "accepted", "not_significant", "warning"};

static struct row *add_row(struct gate *g, const char *kind, const char *name, const char *metric)
{
    if (g->n == g->cap) {
        const size_t cap = g->cap ? 2 * g->cap : 32;
        struct row *r = realloc(g->rows, cap * sizeof *r);
        if (!r) return NULL;
        g->rows = r;
        g->cap = cap;
    }
    struct row *r = &g->rows[g->n++];
    memset(r, 0, sizeof *r);
    r->kind = kind;
    r->name = name;
    r->metric = metric;
    r->base = r->new_ = r->ratio = r->change_pct = r->p = NAN;
    return r;
}

/* Append to a row's note; text that does not fit is cut, never overflows. */
__attribute__((format(printf, 2, 3))) static void note_addf(struct row *r, const char *fmt, ...)
{
    const size_t len = strlen(r->note);
    if (len + 1 >= sizeof r->note) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->note + len, sizeof r->note - len, fmt, ap);
    va_end(ap);
}

/* A lower-is-better timing: median ratio, and the one-sided test in the direction of the
 * change when both sides have enough repetitions. */
static int timing_row(struct gate *g, const char *kind, const char *name, const char *metric,
                      const struct vec *b, const struct vec *n)
{
    struct row *r = add_row(g, kind, name, metric);
    if (!r) return NO_MEMORY;
    r->numeric = 1;
    r->base = sb_stats_median(b->v, b->n);
    r->new_ = sb_stats_median(n->v, n->n);
    r->base_n = b->n;
    r->new_n = n->n;
    if (b->n == 0 || n->n == 0 || isnan(r->base) || isnan(r->new_)) {
        r->verdict = V_WARNING;
        note_addf(r, "no samples in %s", b->n == 0 ? "BASE" : "NEW");
        sb_strlist_addf(&g->warnings, "%s %s: no samples in %s", name, metric,
                        b->n == 0 ? "BASE" : "NEW");
        return 0;
    }
    if (!(r->base > 0.0)) {
        r->verdict = V_WARNING;
        note_addf(r, "BASE median is 0: no ratio");
        sb_strlist_addf(&g->warnings, "%s %s: BASE median is 0, so no ratio", name, metric);
        return 0;
    }
    r->ratio = r->new_ / r->base;
    r->change_pct = 100.0 * (r->ratio - 1.0);
    const double t = g->o->threshold_pct;
    const int slower = r->change_pct > t, faster = r->change_pct < -t;
    /* Without power the test would veto every slowdown; the threshold decides alone, said
     * loudly. Under 3 repetitions a side that is always so; with more it is so when even
     * complete separation cannot reach alpha (3 vs 3 at --alpha 0.01, say). */
    const double best_p = sb_stats_mwu_min_p(n->n, b->n);
    const int few = b->n < MIN_REPS_FOR_TEST || n->n < MIN_REPS_FOR_TEST;
    if (few || !(best_p <= g->o->alpha * P_SLACK)) {
        if (few)
            sb_strlist_addf(&g->warnings,
                            "%s %s: fewer than %d repetitions (BASE %zu, NEW %zu): verdict by "
                            "threshold alone, no significance test",
                            name, metric, MIN_REPS_FOR_TEST, b->n, n->n);
        else
            sb_strlist_addf(&g->warnings,
                            "%s %s: with %zu (BASE) and %zu (NEW) repetitions no p-value can reach "
                            "alpha %g (the smallest is %.3g): verdict by threshold alone, no "
                            "significance test",
                            name, metric, b->n, n->n, g->o->alpha, best_p);
        r->verdict = slower ? V_REGRESSION : faster ? V_IMPROVEMENT : V_OK;
        if (slower || faster)
            note_addf(r, "%.1f%% %s (threshold %g%%)", fabs(r->change_pct),
                      slower ? "slower" : "faster", t);
        else
            note_addf(r, "within %g%%", t);
        note_addf(r, "; too few repetitions for a significance test");
        return 0;
    }
    struct sb_stats_mwu test;
    /* NEW's samples as x: GREATER asks "is NEW slower?" */
    if (sb_stats_mann_whitney(n->v, n->n, b->v, b->n,
                              r->change_pct >= 0 ? SB_STATS_GREATER : SB_STATS_LESS,
                              SB_STATS_MWU_AUTO, &test))
        return NO_MEMORY; /* inputs are finite and non-empty here: only memory can fail */
    r->p = test.p;
    const int significant = test.p <= g->o->alpha * P_SLACK;
    if (slower || faster) {
        r->verdict = !significant ? V_NOT_SIGNIFICANT : slower ? V_REGRESSION : V_IMPROVEMENT;
        note_addf(r, "%.1f%% %s (threshold %g%%), p = %.3g %s alpha %g", fabs(r->change_pct),
                  slower ? "slower" : "faster", t, test.p, significant ? "<=" : ">", g->o->alpha);
    } else {
        r->verdict = V_OK;
        note_addf(r, "within %g%%", t);
    }
    return 0;
}

static int gate_status(struct gate *g, const struct experiment *b, const struct experiment *n)
{
    const int bok = !strcmp(b->status, "ok"), nok = !strcmp(n->status, "ok");
    if (bok && nok) return 0;
    struct row *r = add_row(g, "experiment", b->name, "status");
    if (!r) return NO_MEMORY;
    r->base_text = b->status;
    r->new_text = n->status;
    if (bok) {
        r->verdict = V_REGRESSION;
        note_addf(r, "ok in BASE, %s in NEW", n->status);
    } else if (nok) {
        r->verdict = V_IMPROVEMENT;
        note_addf(r, "%s in BASE, ok in NEW", b->status);
    } else {
        r->verdict = V_WARNING;
        note_addf(r, "%s in BASE, %s in NEW", b->status, n->status);
        sb_strlist_addf(&g->warnings, "%s: not ok on either side (BASE %s, NEW %s)", b->name,
                        b->status, n->status);
    }
    return 0;
}

static int gate_time_to_target(struct gate *g, const struct experiment *b,
                               const struct experiment *n)
{
    const size_t bt = b->time_to_target.n, nt = n->time_to_target.n;
    if (b->ok_reps == 0 || n->ok_reps == 0 || (bt == 0 && nt == 0)) return 0;
    if (bt > 0 && nt > 0) {
        const int rc = timing_row(g, "experiment", b->name, "time_to_target_s", &b->time_to_target,
                                  &n->time_to_target);
        if (rc) return rc;
        if (bt < b->ok_reps || nt < n->ok_reps)
            note_addf(&g->rows[g->n - 1], "; reached in %zu of %zu (BASE), %zu of %zu (NEW)", bt,
                      b->ok_reps, nt, n->ok_reps);
        return 0;
    }
    struct row *r = add_row(g, "experiment", b->name, "time_to_target_s");
    if (!r) return NO_MEMORY;
    r->numeric = 1;
    r->base = sb_stats_median(b->time_to_target.v, bt);
    r->new_ = sb_stats_median(n->time_to_target.v, nt);
    r->base_n = bt;
    r->new_n = nt;
    if (bt > 0) {
        r->verdict = V_REGRESSION;
        note_addf(r, "target reached in BASE (%zu of %zu repetitions), never in NEW (%zu)", bt,
                  b->ok_reps, n->ok_reps);
    } else {
        r->verdict = V_IMPROVEMENT;
        note_addf(r, "target reached in NEW (%zu of %zu repetitions), never in BASE (%zu)", nt,
                  n->ok_reps, b->ok_reps);
    }
    return 0;
}

static int gate_psnr(struct gate *g, const struct experiment *b, const struct experiment *n)
{
    if (b->psnr.n == 0 || n->psnr.n == 0) return 0;
    struct row *r = add_row(g, "experiment", b->name, "final_psnr_db");
    if (!r) return NO_MEMORY;
    r->numeric = 1;
    r->base = sb_stats_median(b->psnr.v, b->psnr.n);
    r->new_ = sb_stats_median(n->psnr.v, n->psnr.n);
    r->base_n = b->psnr.n;
    r->new_n = n->psnr.n;
    if (isnan(r->base) || isnan(r->new_)) return NO_MEMORY;
    if (r->base != 0.0) {
        r->ratio = r->new_ / r->base;
        r->change_pct = 100.0 * (r->ratio - 1.0);
    }
    const double drop = r->base - r->new_, tol = g->o->psnr_tolerance_db;
    r->verdict = drop > tol ? V_REGRESSION : -drop > tol ? V_IMPROVEMENT : V_OK;
    if (r->verdict == V_OK)
        note_addf(r, "within %g dB", tol);
    else
        note_addf(r, "test PSNR %s by %.2f dB (tolerance %g dB)", drop > 0 ? "fell" : "rose",
                  fabs(drop), tol);
    return 0;
}

static int gate_frequencies(struct gate *g, const struct experiment *b, const struct experiment *n)
{
    if (b->nfreq == 0 || n->nfreq == 0) return 0;
    struct row *r = add_row(g, "experiment", b->name, "frequencies_learned");
    if (!r) return NO_MEMORY;
    size_t compared = 0, learned_b = 0, learned_n = 0, lost = 0, gained = 0;
    char lost_text[320] = "", gained_text[320] = "";
    size_t lost_len = 0, gained_len = 0;
    for (size_t k = 0; k < b->nfreq; k++) {
        size_t m = 0;
        while (m < n->nfreq && n->freq[m] != b->freq[k]) m++;
        if (m == n->nfreq || b->freq_err[k].n == 0 || n->freq_err[m].n == 0) continue;
        const double eb = sb_stats_median(b->freq_err[k].v, b->freq_err[k].n);
        const double en = sb_stats_median(n->freq_err[m].v, n->freq_err[m].n);
        if (isnan(eb) || isnan(en)) return NO_MEMORY;
        const int lb = eb <= LEARNED_MAX_ERROR, ln = en <= LEARNED_MAX_ERROR;
        compared++;
        learned_b += (size_t)lb;
        learned_n += (size_t)ln;
        if (lb == ln) continue;
        lost += (size_t)lb;
        gained += (size_t)ln;
        char *text = lb ? lost_text : gained_text;
        size_t *len = lb ? &lost_len : &gained_len;
        if (*len + 1 >= sizeof lost_text) continue; /* the count still says how many */
        const int w = snprintf(text + *len, sizeof lost_text - *len, "%s%g (error %.3g -> %.3g)",
                               *len ? ", " : "", b->freq[k], eb, en);
        if (w > 0) *len += (size_t)w;
        if (*len >= sizeof lost_text) *len = sizeof lost_text - 1;
    }
    if (compared == 0) {
        g->n--; /* nothing in common to say */
        return 0;
    }
    r->numeric = 1;
    r->base = (double)learned_b;
    r->new_ = (double)learned_n;
    r->base_n = b->spectra;
    r->new_n = n->spectra;
    snprintf(r->base_buf, sizeof r->base_buf, "%zu of %zu", learned_b, compared);
    snprintf(r->new_buf, sizeof r->new_buf, "%zu of %zu", learned_n, compared);
    r->base_text = r->base_buf;
    r->new_text = r->new_buf;
    if (lost) {
        r->verdict = V_REGRESSION;
        note_addf(r, "learned in BASE, not in NEW: frequency %s", lost_text);
    } else if (gained) {
        r->verdict = V_IMPROVEMENT;
        note_addf(r, "learned in NEW, not in BASE: frequency %s", gained_text);
    } else {
        r->verdict = V_OK;
        note_addf(r, "same frequencies learned (final spectral error <= %g)", LEARNED_MAX_ERROR);
    }
    return 0;
}

/* Equal experiment configurations. An image target's path differs between checkouts, so when
 * both sides carry the hash of the pixels they trained on (target.data_hash), the path is
 * left out of the comparison. */
static int configs_equal(const json_t *a, const json_t *b)
{
    if (!a || !b) return 0;
    const json_t *ta = json_object_get(a, "target"), *tb = json_object_get(b, "target");
    if (!json_is_string(json_object_get(ta, "data_hash")) ||
        !json_is_string(json_object_get(tb, "data_hash")))
        return json_equal(a, b);
    json_t *ca = json_deep_copy(a), *cb = json_deep_copy(b);
    int eq = 0;
    if (ca && cb) {
        json_object_del(json_object_get(ca, "target"), "path");
        json_object_del(json_object_get(cb, "target"), "path");
        eq = json_equal(ca, cb);
    }
    json_decref(ca);
    json_decref(cb);
    return eq;
}

static int gate_hash(struct gate *g, const struct experiment *b, const struct experiment *n)
{
    if (b->hash_varies)
        sb_strlist_addf(&g->warnings,
                        "%s: the repetitions in %s (BASE) disagree on trajectory_hash", b->name,
                        g->base->path);
    if (n->hash_varies)
        sb_strlist_addf(&g->warnings, "%s: the repetitions in %s (NEW) disagree on trajectory_hash",
                        n->name, g->new_->path);
    if (!b->hash || !n->hash) return 0;
    struct row *r = add_row(g, "experiment", b->name, "trajectory_hash");
    if (!r) return NO_MEMORY;
    r->base_text = b->hash;
    r->new_text = n->hash;
    /* The seed is part of config, so equal configs mean equal seeds. The ISA is deliberately
     * not required to match (the issue says "same ISA"): the determinism promise is one
     * trajectory on every ISA and thread count, so a hash that moves with the ISA is itself
     * the bug this gate is for. */
    const int same_config = configs_equal(b->config, n->config);
    if (!strcmp(b->hash, n->hash)) {
        r->verdict = V_OK;
        note_addf(r, "identical");
    } else if (!same_config) {
        r->verdict = V_OK;
        note_addf(r, b->config && n->config ? "configurations differ: hashes not comparable"
                                            : "no configuration to compare: hashes not compared");
    } else {
        r->verdict = g->o->accept_numerics ? V_ACCEPTED : V_NUMERICS_CHANGED;
        note_addf(r, "numerics changed: same configuration and seed, different trajectory");
        const char *ib = g->base->isa_used, *in = g->new_->isa_used;
        if (ib && in && strcmp(ib, in) != 0)
            note_addf(r, "; ISA %s in BASE, %s in NEW (the hash must not depend on the ISA)", ib,
                      in);
        note_addf(r, g->o->accept_numerics ? "; accepted (--accept-numerics)"
                                           : "; accept with --accept-numerics");
    }
    return 0;
}

/* Returns the number of names in common, or NO_MEMORY. */
long sb_gate_run(struct gate *g)
{
    const struct input *B = g->base, *N = g->new_;
    long common = 0;
    int rc = 0;
    if (B->kind == KIND_RESULTS) {
        for (size_t i = 0; i < B->nexp && !rc; i++) {
            const struct experiment *b = &B->exps[i];
            const long j = sb_input_find(N, b->name);
            if (j < 0) {
                sb_strlist_addf(&g->warnings, "experiment %s is only in BASE (%s)", b->name,
                                B->path);
                continue;
            }
            const struct experiment *n = &N->exps[j];
            common++;
            rc = gate_status(g, b, n);
            if (!rc && b->sec_per_step.n && n->sec_per_step.n)
                rc = timing_row(g, "experiment", b->name, "seconds_per_step", &b->sec_per_step,
                                &n->sec_per_step);
            if (!rc) rc = gate_time_to_target(g, b, n);
            if (!rc) rc = gate_psnr(g, b, n);
            if (!rc) rc = gate_frequencies(g, b, n);
            if (!rc) rc = gate_hash(g, b, n);
        }
        for (size_t j = 0; j < N->nexp; j++)
            if (sb_input_find(B, N->exps[j].name) < 0)
                sb_strlist_addf(&g->warnings, "experiment %s is only in NEW (%s)", N->exps[j].name,
                                N->path);
    } else {
        for (size_t i = 0; i < B->nkern && !rc; i++) {
            const struct kernel *b = &B->kerns[i];
            const long j = sb_input_find(N, b->name);
            if (j < 0) {
                sb_strlist_addf(&g->warnings, "benchmark %s is only in BASE (%s)", b->name,
                                B->path);
                continue;
            }
            common++;
            rc =
                timing_row(g, "kernel", b->name, "real_time_ns", &b->real_ns, &N->kerns[j].real_ns);
        }
        for (size_t j = 0; j < N->nkern; j++)
            if (sb_input_find(B, N->kerns[j].name) < 0)
                sb_strlist_addf(&g->warnings, "benchmark %s is only in NEW (%s)", N->kerns[j].name,
                                N->path);
    }
    return rc ? rc : common;
}

struct counts sb_gate_counts(const struct gate *g)
{
    struct counts c = {0, 0, 0, g->warnings.n, 0};
    for (size_t i = 0; i < g->n; i++) {
        const enum verdict v = g->rows[i].verdict;
        c.regressions += v == V_REGRESSION;
        c.improvements += v == V_IMPROVEMENT;
        c.numerics += v == V_NUMERICS_CHANGED || v == V_ACCEPTED;
        c.failed |= v == V_REGRESSION || v == V_NUMERICS_CHANGED;
    }
    return c;
}
