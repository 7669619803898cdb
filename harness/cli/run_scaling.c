/* specbias run --threads LIST: strong scaling. Each thread count is trained in child runs of
 * this executable (run_child.h), one per count and round, the rounds interleaved; then
 * DIR/scaling.json (docs/results.md) and a table of ms/step, speedup and efficiency, with the
 * threads that had work and the share of their time spent working (why efficiency drops). Why
 * child processes and interleaved rounds: docs/design.md, Strong scaling. */
#define _POSIX_C_SOURCE 200809L
#include "harness/cli/cli.h"
#include "harness/cli/run.h"
#include "harness/cli/run_child.h"
#include "harness/results/results.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What one child run left: its exit code and its results.json (NULL when it wrote none). */
struct child_result {
    int ran, rc;
    json_t *results;
};

struct scaling {
    struct run *r;
    int nc, rounds; /* thread counts (r->a.thread_counts) and rounds */
    struct child_result *child; /* [round * nc + count index] */
    int cores;
};

static struct child_result *child_at(struct scaling *s, int round, int c)
{
    return &s->child[(size_t)round * (size_t)s->nc + (size_t)c];
}

/* Every repetition's trajectory_hash, comma-separated (a child with --seeds K has one per
 * seed, and all of them must agree across thread counts). */
static void trajectory_of(json_t *e, char *out, size_t len)
{
    size_t i, used = 0;
    json_t *rep;
    out[0] = 0;
    json_array_foreach(json_object_get(e, "repetitions"), i, rep) {
        const char *h = json_string_value(json_object_get(rep, "trajectory_hash"));
        if (used + 20 >= len) break;
        used += (size_t)snprintf(out + used, len - used, "%s%s", i ? "," : "", h ? h : "null");
    }
}

/* One experiment's entry of scaling.json: its points (one per thread count) and whether the
 * trajectories agree. */
static json_t *experiment_entry(struct scaling *s, const char *name)
{
    json_t *points = json_array();
    double base_ms = NAN;
    char first[512] = "";
    int compared = 0, equal = 1;
    const int *counts = s->r->a.thread_counts;
    for (int c = 0; c < s->nc; c++) {
        double ms[1000], wf[1000];
        size_t n = 0, nwf = 0;
        json_int_t busy = -1; /* parallel_split.threads_with_work, the same in every round */
        int failed = 0, planned = 0;
        char hash[512] = "";
        json_t *rounds = json_array();
        for (int round = 0; round < s->rounds; round++) {
            struct child_result *ch = child_at(s, round, c);
            planned++;
            json_t *e = ch->results ? sb_run_find_experiment(ch->results, name) : NULL;
            const char *st = json_string_value(json_object_get(e, "status"));
            json_t *tw = json_object_get(json_object_get(e, "parallel_split"), "threads_with_work");
            if (busy < 0 && json_is_integer(tw)) busy = json_integer_value(tw);
            if (!st || strcmp(st, "ok")) {
                /* never ran (interrupted or stopped) is incomplete; ran and did not end ok, or
                 * a child that failed without recording it, is failed */
                failed |= (st && strcmp(st, "interrupted")) || (ch->ran && !e && ch->rc == 3);
                continue;
            }
            const double v = sb_run_ms_per_step(json_object_get(e, "repetitions"));
            if (!isfinite(v)) continue;
            ms[n++] = v;
            json_array_append_new(rounds, json_real(v));
            /* why the efficiency is what it is: the share of the threads' time spent working */
            json_t *w = json_object_get(
                json_object_get(json_object_get(e, "summary"), "work_fraction"), "median");
            if (json_is_number(w)) wf[nwf++] = json_number_value(w);
            char t[512];
            trajectory_of(e, t, sizeof t);
            if (!hash[0]) snprintf(hash, sizeof hash, "%s", t);
            if (!compared++) snprintf(first, sizeof first, "%s", t);
            else if (strcmp(first, t)) equal = 0;
        }
        const double m = sb_run_median(ms, n), work = sb_run_median(wf, nwf);
        if (c == 0) base_ms = m;
        const double speedup = base_ms / m, ideal = (double)counts[c] / counts[0];
        json_t *p = json_pack("{s:i, s:o, s:o, s:o, s:o, s:o, s:s, s:i}", "threads", counts[c],
                              "ms_per_step", isfinite(m) ? json_real(m) : json_null(),
                              "ms_per_step_rounds", rounds, "speedup",
                              isfinite(speedup) ? json_real(speedup) : json_null(),
                              "efficiency",
                              isfinite(speedup) ? json_real(speedup / ideal) : json_null(),
                              "trajectory_hash",
                              hash[0] ? json_string(hash) : json_null(), "status",
                              failed ? "failed" : (int)n < planned ? "incomplete" : "ok",
                              "rounds_ok", (int)n);
        json_object_set_new(p, "threads_with_work", busy >= 0 ? json_integer(busy) : json_null());
        json_object_set_new(p, "work_fraction", isfinite(work) ? json_real(work) : json_null());
        json_array_append_new(points, p);
    }
    return json_pack("{s:s, s:o, s:o}", "name", name, "points", points, "hashes_equal",
                     compared ? json_boolean(equal) : json_null());
}

/* The table on stdout, and a loud message for every experiment whose trajectory differs
 * across thread counts. Returns 1 when one does. */
static int print_table(struct scaling *s, json_t *exps, FILE *f)
{
    const int *counts = s->r->a.thread_counts;
    fprintf(f, "\nstrong scaling: median ms/step over %d round%s; speedup and efficiency against "
               "%d thread%s%s\n",
            s->rounds, s->rounds == 1 ? "" : "s", counts[0], counts[0] == 1 ? "" : "s",
            counts[0] == 1 ? "" : " (the smallest count: 1 is not in the list)");
    fprintf(f, "%-24s %7s %10s %8s %10s %9s %8s %6s  %s\n", "experiment", "threads", "ms/step",
            "speedup", "efficiency", "with work", "working", "rounds", "trajectory");
    size_t i;
    json_t *e;
    int differs = 0;
    json_array_foreach(exps, i, e) {
        const char *name = json_string_value(json_object_get(e, "name"));
        const int equal = json_is_true(json_object_get(e, "hashes_equal"));
        differs |= json_is_false(json_object_get(e, "hashes_equal"));
        size_t k;
        json_t *p;
        json_array_foreach(json_object_get(e, "points"), k, p) {
            char ms[32] = "-", sp[32] = "-", ef[32] = "-", busy[32] = "-", wf[32] = "-";
            json_t *v;
            if (json_is_number(v = json_object_get(p, "ms_per_step")))
                snprintf(ms, sizeof ms, "%.3f", json_number_value(v));
            if (json_is_number(v = json_object_get(p, "speedup")))
                snprintf(sp, sizeof sp, "%.2f", json_number_value(v));
            if (json_is_number(v = json_object_get(p, "efficiency")))
                snprintf(ef, sizeof ef, "%.0f %%", 100.0 * json_number_value(v));
            if (json_is_integer(v = json_object_get(p, "threads_with_work")))
                snprintf(busy, sizeof busy, "%lld", (long long)json_integer_value(v));
            if (json_is_number(v = json_object_get(p, "work_fraction")))
                snprintf(wf, sizeof wf, "%.0f %%", 100.0 * json_number_value(v));
            const char *st = json_string_value(json_object_get(p, "status"));
            const char *traj = strcmp(st, "ok") ? st
                               : json_is_null(json_object_get(e, "hashes_equal")) ? "-"
                               : equal ? "identical"
                                       : "DIFFERS";
            fprintf(f, "%-24s %7d %10s %8s %10s %9s %8s %3d/%-2d  %s\n", k ? "" : name,
                    (int)json_integer_value(json_object_get(p, "threads")), ms, sp, ef, busy, wf,
                    (int)json_integer_value(json_object_get(p, "rounds_ok")), s->rounds, traj);
        }
        if (json_is_false(json_object_get(e, "hashes_equal"))) {
            fprintf(stderr, "\nspecbias run: ERROR: %s: the trajectory differs across thread "
                            "counts or rounds (",
                    name);
            json_array_foreach(json_object_get(e, "points"), k, p)
                {
                const char *h = json_string_value(json_object_get(p, "trajectory_hash"));
                fprintf(stderr, "%s%d: %s", k ? "; " : "",
                        (int)json_integer_value(json_object_get(p, "threads")), h ? h : "none");
            }
            fprintf(stderr, "). Training is bit-identical at every thread count by design "
                            "(docs/design.md); this is a bug: please report it with "
                            "%s/scaling.json\n\n",
                    s->r->a.out);
        }
    }
    /* why efficiency drops: threads without a work item, or working threads waiting */
    fprintf(f, "with work: threads with a work item; working: median share of the threads' time "
               "spent working\n");
    for (int c = 0; c < s->nc; c++)
        if (counts[c] > s->cores)
            fprintf(f, "note: %d threads on %d core%s: threads share cores, so no speedup is "
                       "expected beyond %d\n",
                    counts[c], s->cores, s->cores == 1 ? "" : "s", s->cores);
    return differs;
}

/* scaling.json from what the children left. Returns 0, or -1 with the message printed. */
static int write_scaling(struct scaling *s, const char *status, int *differs)
{
    struct run *r = s->r;
    json_t *threads = json_array(), *runs = json_array(), *exps = json_array();
    for (int c = 0; c < s->nc; c++) json_array_append_new(threads, json_integer(r->a.thread_counts[c]));
    for (int round = 0; round < s->rounds; round++)
        for (int c = 0; c < s->nc; c++)
            if (child_at(s, round, c)->results)
                json_array_append_new(runs, json_sprintf("threads-%d/round-%d",
                                                         r->a.thread_counts[c], round + 1));
    for (size_t i = 0; i < r->nsel; i++)
        json_array_append_new(exps, experiment_entry(s, r->suite.exp[r->sel[i]].name));
    json_t *root = json_pack("{s:s, s:o, s:i, s:s, s:o, s:o, s:i, s:i}", "schema",
                             "specbias-scaling/1", "threads", threads, "rounds", s->rounds,
                             "status", status, "runs", runs, "experiments", exps,
                             "baseline_threads", r->a.thread_counts[0], "cores", s->cores);
    *differs = print_table(s, exps, stdout);
    const int rc = sb_run_children_write(r, root, "scaling", "scaling");
    json_decref(root);
    return rc;
}

int sb_run_scaling(struct run *r, int argc, char **argv)
{
    struct scaling s = {.r = r, .nc = r->a.nthread_counts, .rounds = r->a.repetitions,
                        .cores = sb_cores_allowed()};
    int rc = sb_run_children_check(r, r->a.thread_counts[s.nc - 1], "scaling");
    if (rc != RUN_CONTINUE) return rc;
    struct sb_argv base = {0};
    /* what each child gets its own value of, or only the first round has */
    static const char *const own[] = {"--threads", "--repetitions", "--out", "--remeasure-peak",
                                      NULL};
    s.child = calloc((size_t)s.nc * (size_t)s.rounds, sizeof *s.child);
    if (!s.child || sb_run_child_options(argc, argv, own, &base)) {
        fprintf(stderr, "specbias run: out of memory\n");
        free(s.child);
        sb_argv_free(&base);
        return SB_EXIT_FAILED;
    }
    for (int c = 0; c < s.nc; c++)
        if (r->a.thread_counts[c] > s.cores)
            fprintf(stderr, "specbias run: warning: %d threads on %d core%s: threads will share "
                            "cores\n",
                    r->a.thread_counts[c], s.cores, s.cores == 1 ? "" : "s");
    if (!r->a.quiet)
        fprintf(stderr, "specbias run: scaling run of suite %s, %zu experiment%s, threads",
                r->suite.name, r->nsel, r->nsel == 1 ? "" : "s");
    for (int c = 0; c < s.nc && !r->a.quiet; c++)
        fprintf(stderr, "%s%d", c ? "," : " ", r->a.thread_counts[c]);
    if (!r->a.quiet)
        fprintf(stderr, ", %d round%s -> %s/scaling.json\n", s.rounds, s.rounds == 1 ? "" : "s",
                r->a.out);
    sb_child_signals_install();
    struct sb_children policy = {0};
    int stop = 0;
    /* Rounds outside, counts inside: a drift of the machine (heat, a neighbour's load) then
     * falls on every count alike instead of on the last ones. */
    for (int round = 0; round < s.rounds && !stop; round++)
        for (int c = 0; c < s.nc && !stop && !sb_child_signal; c++) {
            const int n = r->a.thread_counts[c];
            char dir[4300];
            snprintf(dir, sizeof dir, "%s/threads-%d/round-%d", r->a.out, n, round + 1);
            struct sb_argv args = {0};
            int bad = 0;
            for (size_t i = 0; i < base.n; i++) bad |= sb_argv_addf(&args, "%s", base.v[i]);
            bad |= sb_argv_addf(&args, "--threads") || sb_argv_addf(&args, "%d", n) ||
                   sb_argv_addf(&args, "--repetitions") || sb_argv_addf(&args, "1") ||
                   sb_argv_addf(&args, "--out") || sb_argv_addf(&args, "%s", dir);
            /* the peak, once per count, is enough */
            if (r->a.remeasure_peak && round == 0) bad |= sb_argv_addf(&args, "--remeasure-peak");
            if (!r->a.quiet)
                fprintf(stderr, "specbias run: round %d/%d, %d thread%s -> %s\n", round + 1,
                        s.rounds, n, n == 1 ? "" : "s", dir);
            struct child_result *ch = child_at(&s, round, c);
            struct sb_child_results mark;
            sb_child_results_mark(&mark, dir);
            ch->rc = bad ? -1 : sb_child_run(&args,
                                          r->a.quiet ? SB_CHILD_STDOUT_DISCARD
                                                     : SB_CHILD_STDOUT_TO_STDERR,
                                          r->err, sizeof r->err);
            sb_argv_free(&args);
            ch->ran = ch->rc >= 0;
            if (ch->ran) ch->results = sb_child_results_load(&mark);
            switch (sb_children_note(&policy, ch->rc)) {
            case SB_CHILD_OK: break;
            case SB_CHILD_NOT_STARTED:
                fprintf(stderr, "specbias run: %s\n", bad ? "out of memory" : r->err);
                stop = 1;
                break;
            case SB_CHILD_REFUSED:
                fprintf(stderr, "specbias run: the run with %d thread%s refused its input "
                                "(exit 2): the scaling run stops\n",
                        n, n == 1 ? "" : "s");
                stop = 1;
                break;
            case SB_CHILD_SIGNALLED:
                /* a signal sent to the child alone stops the scaling run too */
                stop = policy.child_signal != 0;
                break;
            case SB_CHILD_FAILED:
                fprintf(stderr, "specbias run: the run with %d thread%s, round %d, failed (exit "
                                "%d); the other runs go on\n",
                        n, n == 1 ? "" : "s", round + 1, ch->rc);
                break;
            }
        }
    const int interrupted = sb_children_interrupted(&policy);
    int differs = 0;
    const int wrc = write_scaling(&s, sb_children_status(&policy), &differs);
    if (interrupted)
        fprintf(stderr, "specbias run: scaling run interrupted; the runs that finished are in "
                        "%s/threads-N/round-R\n",
                r->a.out);
    for (int i = 0; i < s.nc * s.rounds; i++) json_decref(s.child[i].results);
    free(s.child);
    sb_argv_free(&base);
    return sb_children_exit(&policy, differs || wrc);
}
