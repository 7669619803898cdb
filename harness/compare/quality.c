/* specbias compare: the gate's quality rows (final loss, final PSNR, learned frequencies) and
 * the trajectory_hash row, for two experiments of the same configuration (gate.c checks).
 * Training is deterministic: the same configuration and seed give the same trajectory on
 * every ISA and thread count, so identical trajectory hashes make every quality figure the
 * same ("same"). Otherwise (numerics changed, or files without hashes) each figure is judged
 * by its own tolerance in its own unit: the loss in percent, PSNR in dB, and a frequency or
 * band by the one definition of learned (harness/util/learned.h). */
#define _POSIX_C_SOURCE 200809L
#include "harness/compare/compare.h"
#include "harness/compare/stats.h"
#include "harness/util/learned.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static struct row *median_row(struct gate *g, const char *name, const char *metric,
                              const char *unit, const struct vec *b, const struct vec *n)
{
    struct row *r = sb_gate_add_row(g, "experiment", name, metric);
    if (!r) return NULL;
    r->numeric = 1;
    r->unit = unit;
    r->base = sb_stats_median(b->v, b->n);
    r->new_ = sb_stats_median(n->v, n->n);
    r->base_n = b->n;
    r->new_n = n->n;
    r->diff = r->new_ - r->base;
    return r;
}

static void same_row(struct row *r)
{
    r->verdict = V_SAME;
    sb_row_notef(r, "same: identical trajectories");
}

/* The final training loss: a rise beyond --loss-tolerance percent is a regression. */
static int gate_loss(struct gate *g, const struct experiment *b, const struct experiment *n,
                     int same)
{
    if (b->loss.n == 0 || n->loss.n == 0) return 0;
    struct row *r = median_row(g, b->name, "final_loss", NULL, &b->loss, &n->loss);
    if (!r) return NO_MEMORY;
    if (isnan(r->base) || isnan(r->new_)) return NO_MEMORY;
    if (same) {
        same_row(r);
        return 0;
    }
    const double tol = g->o->loss_tolerance_pct;
    if (r->base > 0.0) {
        r->ratio = r->new_ / r->base;
        r->change_pct = 100.0 * (r->ratio - 1.0);
    }
    const double pct = r->base > 0.0 ? r->change_pct : r->new_ > 0.0 ? INFINITY : 0.0;
    r->verdict = pct > tol ? V_REGRESSION : pct < -tol ? V_IMPROVEMENT : V_OK;
    if (r->verdict == V_OK)
        sb_row_notef(r, "within %g%%", tol);
    else
        sb_row_notef(r, "final loss %s by %.1f%% (tolerance %g%%)", pct > 0 ? "rose" : "fell",
                     fabs(pct), tol);
    return 0;
}

/* Final PSNR, in dB: a fall beyond --psnr-tolerance is a regression. A percentage of a
 * logarithmic unit means nothing, so the change is the difference in dB alone. */
static int gate_psnr(struct gate *g, const struct experiment *b, const struct experiment *n,
                     int same)
{
    if (b->psnr.n == 0 || n->psnr.n == 0) return 0;
    struct row *r = median_row(g, b->name, "final_psnr_db", "dB", &b->psnr, &n->psnr);
    if (!r) return NO_MEMORY;
    if (isnan(r->base) || isnan(r->new_)) return NO_MEMORY;
    if (same) {
        same_row(r);
        return 0;
    }
    const double drop = r->base - r->new_, tol = g->o->psnr_tolerance_db;
    r->verdict = drop > tol ? V_REGRESSION : -drop > tol ? V_IMPROVEMENT : V_OK;
    if (r->verdict == V_OK)
        sb_row_notef(r, "within %g dB", tol);
    else
        sb_row_notef(r, "test PSNR %s by %.2f dB (tolerance %g dB)", drop > 0 ? "fell" : "rose",
                     fabs(drop), tol);
    return 0;
}

struct learned {
    size_t compared, base, new_, lost, gained;
    char lost_text[320], gained_text[320];
    size_t lost_len, gained_len;
};

/* Records one frequency learned on one side only, in the note's list while it fits (the count
 * still says how many). */
static void learned_change(struct learned *l, int lost, double freq, double eb, double en)
{
    char *text = lost ? l->lost_text : l->gained_text;
    size_t *len = lost ? &l->lost_len : &l->gained_len;
    *(lost ? &l->lost : &l->gained) += 1;
    if (*len + 1 >= sizeof l->lost_text) return;
    const int w = snprintf(text + *len, sizeof l->lost_text - *len, "%s%g (error %.3g -> %.3g)",
                           *len ? ", " : "", freq, eb, en);
    if (w > 0) *len += (size_t)w;
    if (*len >= sizeof l->lost_text) *len = sizeof l->lost_text - 1;
}

/* Per frequency (1D) or band (2D) in both: learned or not, by the median over repetitions of
 * the final spectral error. Returns NO_MEMORY or 0. */
static int count_learned(const struct experiment *b, const struct experiment *n,
                         struct learned *l)
{
    for (size_t k = 0; k < b->nfreq; k++) {
        size_t m = 0;
        while (m < n->nfreq && n->freq[m] != b->freq[k]) m++;
        if (m == n->nfreq || b->freq_err[k].n == 0 || n->freq_err[m].n == 0) continue;
        const double eb = sb_stats_median(b->freq_err[k].v, b->freq_err[k].n);
        const double en = sb_stats_median(n->freq_err[m].v, n->freq_err[m].n);
        if (isnan(eb) || isnan(en)) return NO_MEMORY;
        const int lb = sb_is_learned(eb), ln = sb_is_learned(en);
        l->compared++;
        l->base += (size_t)lb;
        l->new_ += (size_t)ln;
        if (lb != ln) learned_change(l, lb, b->freq[k], eb, en);
    }
    return 0;
}

static int gate_frequencies(struct gate *g, const struct experiment *b, const struct experiment *n,
                            int same)
{
    if (b->nfreq == 0 || n->nfreq == 0) return 0;
    struct learned l = {0};
    if (count_learned(b, n, &l)) return NO_MEMORY;
    if (l.compared == 0) return 0; /* nothing in common to say */
    struct row *r = sb_gate_add_row(g, "experiment", b->name, "frequencies_learned");
    if (!r) return NO_MEMORY;
    const char *what = b->bands ? "band" : "frequency";
    r->numeric = 1;
    r->unit = b->bands ? "bands" : "frequencies";
    r->base = (double)l.base;
    r->new_ = (double)l.new_;
    r->diff = r->new_ - r->base;
    r->base_n = b->spectra;
    r->new_n = n->spectra;
    snprintf(r->base_buf, sizeof r->base_buf, "%zu of %zu%s", l.base, l.compared,
             b->bands ? " bands" : "");
    snprintf(r->new_buf, sizeof r->new_buf, "%zu of %zu%s", l.new_, l.compared,
             b->bands ? " bands" : "");
    r->base_text = r->base_buf;
    r->new_text = r->new_buf;
    if (same) {
        same_row(r);
    } else if (l.lost) {
        r->verdict = V_REGRESSION;
        sb_row_notef(r, "learned in BASE, not in NEW: %s %s", what, l.lost_text);
    } else if (l.gained) {
        r->verdict = V_IMPROVEMENT;
        sb_row_notef(r, "learned in NEW, not in BASE: %s %s", what, l.gained_text);
    } else {
        r->verdict = V_OK;
        sb_row_notef(r, "same %ss learned (%s)", what, SB_LEARNED_DEFINITION);
    }
    return 0;
}

int sb_gate_quality(struct gate *g, const struct experiment *b, const struct experiment *n,
                    int same)
{
    int rc = gate_loss(g, b, n, same);
    if (!rc) rc = gate_psnr(g, b, n, same);
    if (!rc) rc = gate_frequencies(g, b, n, same);
    return rc;
}

int sb_gate_hash(struct gate *g, const struct experiment *b, const struct experiment *n)
{
    if (b->hash_varies)
        sb_strlist_addf(&g->warnings,
                        "%s: the repetitions in %s (BASE) disagree on trajectory_hash", b->name,
                        g->base->path);
    if (n->hash_varies)
        sb_strlist_addf(&g->warnings, "%s: the repetitions in %s (NEW) disagree on trajectory_hash",
                        n->name, g->new_->path);
    if (!b->hash || !n->hash) return 0;
    struct row *r = sb_gate_add_row(g, "experiment", b->name, "trajectory_hash");
    if (!r) return NO_MEMORY;
    r->base_text = b->hash;
    r->new_text = n->hash;
    if (!strcmp(b->hash, n->hash)) {
        r->verdict = V_OK;
        sb_row_notef(r, "identical");
    } else if (!b->config || !n->config) {
        r->verdict = V_OK;
        sb_row_notef(r, "no configuration to compare: hashes not compared");
    } else {
        /* The configurations match (gate.c), seed included. The ISA is deliberately not
         * required to match: the determinism promise is one trajectory on every ISA and
         * thread count, so a hash that moves with the ISA is itself the bug this gate is for. */
        r->verdict = g->o->accept_numerics ? V_ACCEPTED : V_NUMERICS_CHANGED;
        sb_row_notef(r, "numerics changed: same configuration and seed, different trajectory");
        const char *ib = g->base->isa_used, *in = g->new_->isa_used;
        if (ib && in && strcmp(ib, in) != 0)
            sb_row_notef(r, "; ISA %s in BASE, %s in NEW (the hash must not depend on the ISA)",
                         ib, in);
        sb_row_notef(r, g->o->accept_numerics ? "; accepted (--accept-numerics)"
                                              : "; accept with --accept-numerics");
    }
    return 0;
}
