/* specbias compare: the gate's timing rows (seconds per step, time to target, a kernel's real
 * time). A regression needs both an effect beyond --threshold and significance in a one-sided
 * Mann-Whitney U test at --alpha. Where the repetitions are too few for the exact test to
 * reach alpha at all, no answer is possible either way: the row is inconclusive, never a pass
 * or a failure by the threshold alone (one noisy sample against another is no evidence). */
#define _POSIX_C_SOURCE 200809L
#include "harness/compare/compare.h"
#include "harness/compare/stats.h"

#include <math.h>
#include <string.h>
#include <stdio.h>

/* Significant means p <= alpha: rejecting then keeps the false-alarm rate at most alpha, and
 * complete separation of 3 against 3 gives exactly p = 1/20 = 0.05. The slack absorbs the few
 * ulps by which the exact distribution's sums can miss such a value. */
#define P_SLACK (1.0 + 1e-9)
#define MAX_REPS_NEEDED 1000

size_t sb_gate_reps_needed(double alpha)
{
    for (size_t k = 1; k <= MAX_REPS_NEEDED; k++)
        if (sb_stats_mwu_min_p(k, k) <= alpha * P_SLACK) return k;
    return 0;
}

/* Too few repetitions: the smallest p the exact test can give (complete separation) is above
 * alpha, so no difference could be significant. */
static void too_few(struct gate *g, struct row *r, double best_p)
{
    r->verdict = V_INCONCLUSIVE;
    const size_t need = sb_gate_reps_needed(g->o->alpha);
    sb_row_notef(r, "too few %s to test (BASE %zu, NEW %zu: the smallest possible p is "
                    "%.3g, above alpha %g)",
                 sb_gate_sample_unit(g), r->base_n, r->new_n, best_p, g->o->alpha);
    if (need) sb_row_notef(r, "; %zu or more a side needed", need);
    g->too_few++;
    g->too_few_base = r->base_n;
    g->too_few_new = r->new_n;
}

/* The verdict of a row with enough repetitions: the one-sided test in the direction of the
 * change. Returns NO_MEMORY or 0. */
static int tested(struct gate *g, struct row *r, const struct vec *b, const struct vec *n)
{
    const double t = g->o->threshold_pct, alpha = g->o->alpha;
    const int slower = r->change_pct > t, faster = r->change_pct < -t;
    struct sb_stats_mwu test;
    /* NEW's samples as x: GREATER asks "is NEW slower?" */
    if (sb_stats_mann_whitney(n->v, n->n, b->v, b->n,
                              r->change_pct >= 0 ? SB_STATS_GREATER : SB_STATS_LESS,
                              SB_STATS_MWU_AUTO, &test))
        return NO_MEMORY; /* inputs are finite and non-empty here: only memory can fail */
    r->p = test.p;
    const int significant = test.p <= alpha * P_SLACK;
    if (!slower && !faster) {
        r->verdict = V_OK;
        sb_row_notef(r, "within %g%%", t);
        return 0;
    }
    r->verdict = !significant ? V_NOT_SIGNIFICANT : slower ? V_REGRESSION : V_IMPROVEMENT;
    sb_row_notef(r, "%.1f%% %s (threshold %g%%), p = %.3g %s alpha %g%s", fabs(r->change_pct),
                 slower ? "slower" : "faster", t, test.p, significant ? "<=" : ">", alpha,
                 significant ? "" : ": not significant");
    return 0;
}

int sb_gate_timing(struct gate *g, const char *kind, const char *name, const char *metric,
                   const char *unit, const struct vec *b, const struct vec *n)
{
    struct row *r = sb_gate_add_row(g, kind, name, metric);
    if (!r) return NO_MEMORY;
    r->numeric = 1;
    r->unit = unit;
    r->base = sb_stats_median(b->v, b->n);
    r->new_ = sb_stats_median(n->v, n->n);
    r->base_n = b->n;
    r->new_n = n->n;
    if (b->n == 0 || n->n == 0 || isnan(r->base) || isnan(r->new_)) {
        r->verdict = V_INCONCLUSIVE;
        sb_row_notef(r, "no samples in %s", b->n == 0 ? "BASE" : "NEW");
        return 0;
    }
    r->diff = r->new_ - r->base;
    if (!(r->base > 0.0)) {
        r->verdict = V_INCONCLUSIVE;
        sb_row_notef(r, "BASE median is 0: no ratio");
        return 0;
    }
    r->ratio = r->new_ / r->base;
    r->change_pct = 100.0 * (r->ratio - 1.0);
    const double best_p = sb_stats_mwu_min_p(n->n, b->n);
    if (!(best_p <= g->o->alpha * P_SLACK)) {
        too_few(g, r, best_p);
        return 0;
    }
    return tested(g, r, b, n);
}

/* Time to target from one sample per repetition, or per seed when both sides ran `--seeds K`
 * (K >= 2: the gate then judges the time to reach the target over trajectories, as MLPerf
 * does). `of` is how many repetitions or seeds finished on each side; `unit` names them. */
static int ttt_rows(struct gate *g, const char *name, const struct vec *bv, const struct vec *nv,
                    size_t b_of, size_t n_of, const char *unit)
{
    const size_t bt = bv->n, nt = nv->n;
    if (b_of == 0 || n_of == 0 || (bt == 0 && nt == 0)) return 0;
    if (bt > 0 && nt > 0) {
        const int rc = sb_gate_timing(g, "experiment", name, "time_to_target_s", "s", bv, nv);
        if (rc) return rc;
        if (bt < b_of || nt < n_of || strcmp(unit, "seeds") == 0)
            sb_row_notef(&g->rows[g->n - 1], "; reached in %zu of %zu %s(BASE), %zu of %zu (NEW)",
                         bt, b_of, strcmp(unit, "seeds") == 0 ? "seeds " : "", nt, n_of);
        return 0;
    }
    /* Reached on one side only: whether the target is met is quality, not speed. */
    struct row *r = sb_gate_add_row(g, "experiment", name, "time_to_target_s");
    if (!r) return NO_MEMORY;
    r->numeric = 1;
    r->unit = "s";
    r->base = sb_stats_median(bv->v, bt);
    r->new_ = sb_stats_median(nv->v, nt);
    r->base_n = bt;
    r->new_n = nt;
    r->verdict = bt > 0 ? V_REGRESSION : V_IMPROVEMENT;
    if (bt > 0)
        sb_row_notef(r, "target reached in BASE (%zu of %zu %s), never in NEW (%zu)", bt, b_of,
                     unit, n_of);
    else
        sb_row_notef(r, "target reached in NEW (%zu of %zu %s), never in BASE (%zu)", nt, n_of,
                     unit, b_of);
    return 0;
}

int sb_gate_time_to_target(struct gate *g, const struct experiment *b, const struct experiment *n)
{
    if (b->seeds >= 2 && n->seeds >= 2)
        return ttt_rows(g, b->name, &b->seed_ttt, &n->seed_ttt, b->seeds_finished,
                        n->seeds_finished, "seeds");
    if (b->seeds >= 2 || n->seeds >= 2)
        sb_strlist_addf(&g->warnings,
                        "%s time_to_target_s: BASE has %zu seeds, NEW %zu: compared on the first "
                        "seed's repetitions only (run both with the same --seeds)",
                        b->name, b->seeds ? b->seeds : 1, n->seeds ? n->seeds : 1);
    return ttt_rows(g, b->name, &b->time_to_target, &n->time_to_target, b->ok_reps, n->ok_reps,
                    sb_gate_sample_unit(g));
}
