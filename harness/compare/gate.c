/* specbias compare BASE NEW: the regression gate. Per experiment of BASE, in order: missing or
 * failed in NEW (a failure of the gate unless --allow-missing), a configuration that differs
 * (not comparable: no verdict on it at all), then its timing rows (speed.c) and its quality and
 * hash rows (quality.c). The overall verdict is regression when a row regressed, else
 * inconclusive when a row could not be judged, else pass (sb_gate_counts). */
#define _POSIX_C_SOURCE 200809L
#include "harness/compare/compare.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const sb_verdict_names[] = {
    "ok",      "regression",   "improvement",    "numerics_changed", "accepted",
    "not_significant", "warning", "inconclusive", "not_comparable", "same"};
const char *const sb_overall_names[] = {"pass", "regression", "inconclusive"};

struct row *sb_gate_add_row(struct gate *g, const char *kind, const char *name, const char *metric)
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
    r->base = r->new_ = r->diff = r->ratio = r->change_pct = r->p = NAN;
    return r;
}

__attribute__((format(printf, 2, 3))) void sb_row_notef(struct row *r, const char *fmt, ...)
{
    const size_t len = strlen(r->note);
    if (len + 1 >= sizeof r->note) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->note + len, sizeof r->note - len, fmt, ap);
    va_end(ap);
}

/* Missing in NEW, or not ok there: the gate fails, or with --allow-missing warns. Not ok in
 * BASE: nothing to compare against. Returns 1 when a row was added (the experiment is done),
 * 0 when both are ok, NO_MEMORY. */
static int gate_status(struct gate *g, const struct experiment *b, const struct experiment *n)
{
    const int bok = !strcmp(b->status, "ok"), nok = n && !strcmp(n->status, "ok");
    if (bok && nok) return 0;
    struct row *r = sb_gate_add_row(g, "experiment", b->name, "status");
    if (!r) return NO_MEMORY;
    r->base_text = b->status;
    r->new_text = n ? n->status : "missing";
    if (bok) {
        r->missing = 1;
        r->verdict = g->o->allow_missing ? V_WARNING : V_REGRESSION;
        sb_row_notef(r, "%s in NEW", n ? n->status : "missing");
        sb_row_notef(r, g->o->allow_missing ? ": allowed (--allow-missing)"
                                            : ": the gate fails (--allow-missing allows it)");
        if (g->o->allow_missing)
            sb_strlist_addf(&g->warnings, "%s: %s in NEW (%s), allowed by --allow-missing",
                            b->name, n ? n->status : "missing", g->new_->path);
    } else if (nok) {
        r->verdict = V_IMPROVEMENT;
        sb_row_notef(r, "%s in BASE, ok in NEW", b->status);
    } else {
        r->verdict = V_WARNING;
        sb_row_notef(r, "%s in BASE, %s in NEW", b->status, n ? n->status : "missing");
        sb_strlist_addf(&g->warnings, "%s: not ok on either side (BASE %s, NEW %s)", b->name,
                        b->status, n ? n->status : "missing");
    }
    return 1;
}

static struct row *not_comparable_row(struct gate *g, const struct experiment *b)
{
    struct row *r = sb_gate_add_row(g, "experiment", b->name, "config");
    if (!r) return NULL;
    r->verdict = V_NOT_COMPARABLE;
    r->base_text = r->base_buf;
    r->new_text = r->new_buf;
    return r;
}

/* The same experiment on both sides? Its config, walked field by field; where a side has
 * none (its data could not be built), the suites' content hashes. Returns 1 comparable, 0
 * not (a row says why), NO_MEMORY. */
static int gate_comparable(struct gate *g, const struct experiment *b, const struct experiment *n)
{
    const char *sb = g->base->suite_hash, *sn = g->new_->suite_hash;
    struct row *r;
    if (!b->config || !n->config) {
        if (sb && sn && !strcmp(sb, sn)) return 1;
        if (!(r = not_comparable_row(g, b))) return NO_MEMORY;
        snprintf(r->field, sizeof r->field, "config");
        snprintf(r->base_buf, sizeof r->base_buf, "%s", b->config ? "present" : "absent");
        snprintf(r->new_buf, sizeof r->new_buf, "%s", n->config ? "present" : "absent");
        sb_row_notef(r, "no config in %s, and the suites' content hashes %s",
                     b->config ? "NEW" : "BASE", sb && sn ? "differ" : "are unknown");
        return 0;
    }
    struct config_diff d;
    if (sb_config_compare(b->config, n->config, &d)) {
        if (d.one_sided[0])
            sb_strlist_addf(&g->warnings,
                            "%s: config fields on one side only (another version of specbias?), "
                            "not compared: %s",
                            b->name, d.one_sided);
        return 1;
    }
    if (!(r = not_comparable_row(g, b))) return NO_MEMORY;
    snprintf(r->field, sizeof r->field, "%s", d.field);
    snprintf(r->base_buf, sizeof r->base_buf, "%s", d.base_text);
    snprintf(r->new_buf, sizeof r->new_buf, "%s", d.new_text);
    sb_row_notef(r, "not comparable: %s", d.note);
    return 0;
}

/* Identical trajectories: every quality figure is the same by construction. */
static int same_trajectory(const struct experiment *b, const struct experiment *n)
{
    return b->hash && n->hash && !b->hash_varies && !n->hash_varies && !strcmp(b->hash, n->hash);
}

static int gate_experiment(struct gate *g, const struct experiment *b, const struct experiment *n)
{
    int rc = gate_status(g, b, n);
    if (rc) return rc < 0 ? rc : 0;
    rc = gate_comparable(g, b, n);
    if (rc <= 0) return rc;
    rc = 0;
    if (b->sec_per_step.n || n->sec_per_step.n)
        rc = sb_gate_timing(g, "experiment", b->name, "seconds_per_step", "s", &b->sec_per_step,
                            &n->sec_per_step);
    if (!rc) rc = sb_gate_time_to_target(g, b, n);
    if (!rc) rc = sb_gate_quality(g, b, n, same_trajectory(b, n));
    if (!rc) rc = sb_gate_hash(g, b, n);
    return rc;
}

static void run_text(char *buf, size_t len, const struct input *in)
{
    if (in->has_threads)
        snprintf(buf, len, "%s on %lld thread%s", in->isa_used ? in->isa_used : "ISA ?",
                 (long long)in->threads, in->threads == 1 ? "" : "s");
    else
        snprintf(buf, len, "%s", in->isa_used ? in->isa_used : "ISA ?");
}

/* A gate compares code: runs on another ISA or thread count compare that as well. Allowed
 * (it is what a machine comparison is for) and shown in the header, but said. */
static void gate_machine_warnings(struct gate *g)
{
    const struct input *B = g->base, *N = g->new_;
    const int isa = B->isa_used && N->isa_used && strcmp(B->isa_used, N->isa_used) != 0;
    const int threads = B->has_threads && N->has_threads && B->threads != N->threads;
    char tb[200], tn[200];
    run_text(tb, sizeof tb, B);
    run_text(tn, sizeof tn, N);
    if (isa || threads)
        sb_strlist_addf(&g->warnings,
                        "BASE ran %s, NEW %s: the timings compare the %s as well as the code (a "
                        "regression gate wants one ISA and one thread count)",
                        tb, tn,
                        isa && threads ? "ISAs and thread counts" : isa ? "ISAs" : "thread counts");
    if (B->suite_hash && N->suite_hash && strcmp(B->suite_hash, N->suite_hash) != 0)
        sb_strlist_addf(&g->warnings,
                        "the suites differ (content_hash %s in BASE, %s in NEW): each experiment "
                        "is compared only where its own configuration is the same",
                        B->suite_hash, N->suite_hash);
}

/* One warning for every timing row with too few repetitions, with the count to run. */
static void gate_too_few_warning(struct gate *g)
{
    if (g->too_few == 0) return;
    const size_t need = sb_gate_reps_needed(g->o->alpha);
    const int kernels = g->base->kind == KIND_GBENCH;
    const int runs = g->base->merged || g->new_->merged;
    sb_strlist_addf(&g->warnings,
                    "%zu timing row%s inconclusive: with %zu (BASE) and %zu (NEW) %s no "
                    "p-value can reach alpha %g; run %zu or more a side (%s %zu)",
                    g->too_few, g->too_few == 1 ? " is" : "s are", g->too_few_base,
                    g->too_few_new, sb_gate_sample_unit(g), g->o->alpha, need,
                    runs      ? "scripts/gate --runs"
                    : kernels ? "specbias kernels --benchmark_repetitions"
                              : "specbias run --repetitions",
                    need);
}

static long gate_results(struct gate *g)
{
    const struct input *B = g->base, *N = g->new_;
    long common = 0;
    int rc = 0;
    for (size_t i = 0; i < B->nexp && !rc; i++) {
        const long j = sb_input_find(N, B->exps[i].name);
        common += j >= 0;
        rc = gate_experiment(g, &B->exps[i], j >= 0 ? &N->exps[j] : NULL);
    }
    for (size_t j = 0; j < N->nexp; j++)
        if (sb_input_find(B, N->exps[j].name) < 0)
            sb_strlist_addf(&g->warnings, "experiment %s is only in NEW (%s)", N->exps[j].name,
                            N->path);
    return rc ? rc : common;
}

static long gate_kernels(struct gate *g)
{
    const struct input *B = g->base, *N = g->new_;
    long common = 0;
    int rc = 0;
    for (size_t i = 0; i < B->nkern && !rc; i++) {
        const struct kernel *b = &B->kerns[i];
        const long j = sb_input_find(N, b->name);
        if (j < 0) {
            sb_strlist_addf(&g->warnings, "benchmark %s is only in BASE (%s)", b->name, B->path);
            continue;
        }
        common++;
        rc = sb_gate_timing(g, "kernel", b->name, "real_time_ns", "ns", &b->real_ns,
                            &N->kerns[j].real_ns);
    }
    for (size_t j = 0; j < N->nkern; j++)
        if (sb_input_find(B, N->kerns[j].name) < 0)
            sb_strlist_addf(&g->warnings, "benchmark %s is only in NEW (%s)", N->kerns[j].name,
                            N->path);
    return rc ? rc : common;
}

const char *sb_gate_sample_unit(const struct gate *g)
{
    const int b = g->base->merged, n = g->new_->merged;
    return b && n ? "runs" : b || n ? "samples" : "repetitions";
}

/* Samples of different kinds on the two sides: a merged side's are run medians, a single
 * run's are its repetitions, which agree more closely than runs do. */
static void gate_sample_warning(struct gate *g)
{
    const struct input *B = g->base, *N = g->new_;
    if (B->merged == N->merged) return;
    sb_strlist_addf(&g->warnings,
                    "%s has %zu runs (one sample per run) and %s is one run (one sample per "
                    "repetition): repetitions of one run miss the run-to-run variation, so "
                    "give both sides as folders of runs (scripts/gate)",
                    B->merged ? "BASE" : "NEW", B->merged ? B->runs : N->runs,
                    B->merged ? "NEW" : "BASE");
}

/* Returns the number of names in common, or NO_MEMORY. */
long sb_gate_run(struct gate *g)
{
    gate_sample_warning(g);
    if (g->base->kind == KIND_RESULTS) gate_machine_warnings(g);
    const long rc = g->base->kind == KIND_RESULTS ? gate_results(g) : gate_kernels(g);
    gate_too_few_warning(g);
    return rc;
}

struct counts sb_gate_counts(const struct gate *g)
{
    struct counts c = {0};
    c.warnings = g->warnings.n;
    int failed = 0;
    for (size_t i = 0; i < g->n; i++) {
        const struct row *r = &g->rows[i];
        c.regressions += r->verdict == V_REGRESSION;
        c.improvements += r->verdict == V_IMPROVEMENT;
        c.numerics += r->verdict == V_NUMERICS_CHANGED || r->verdict == V_ACCEPTED;
        c.inconclusive += r->verdict == V_INCONCLUSIVE;
        c.not_comparable += r->verdict == V_NOT_COMPARABLE;
        c.missing += (size_t)r->missing;
        failed |= r->verdict == V_REGRESSION || r->verdict == V_NUMERICS_CHANGED;
    }
    /* An experiment the gate could not judge is no evidence of a pass. */
    c.verdict = failed                                 ? O_REGRESSION
                : c.inconclusive || c.not_comparable ? O_INCONCLUSIVE
                                                     : O_PASS;
    return c;
}
